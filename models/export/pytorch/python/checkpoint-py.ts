/**
 * einnet_checkpoint.py: reads and writes einnet checkpoints with torch alone (copied into every export).
 * Python source, verbatim (String.raw: no backtick and no dollar-brace may appear in it).
 */
export const EINNET_CHECKPOINT_PY = String.raw`"""Reads and writes einnet checkpoints with torch alone (numpy, when present, makes writing faster).

A checkpoint is a folder that einnet's 'loadCheckpoint'/'importPyTorch' and TensorFlow.js read:

    model.json          a TensorFlow.js weights manifest:
                        {"format": "einnet-checkpoint",
                         "weightsManifest": [{"paths": ["weights-<sha>.bin"],
                                              "weights": [{"name", "shape", "dtype": "float32"}, ...]}],
                         "userDefinedMetadata": {"einnet": {"version": 1, "params", "stats", "optimizer", "metadata"}}}
    weights-<sha>.bin   the tensors' bytes, little-endian float32, in manifest order; <sha> is the
                        first 16 hex digits of the file's SHA-256 (the reader checks it); einnet
                        names them weights-<sha>-<id>.bin, <id> 8 hex digits of the save

Tensor names are einnet's ('stage2.block1.conv1.W', 'stem.bn.μ'); optimizer state is
'optimizer/<parameter>/<slot>'. Files are written to a temporary name, flushed and renamed, the
weights before model.json, so a crash never leaves a half-written checkpoint behind.
"""
import hashlib
import json
import os
import re
import sys
import tempfile

import torch

FORMAT = "einnet-checkpoint"
OPTIMIZER_PREFIX = "optimizer/"
_WEIGHTS_FILE = re.compile(r"^weights-([0-9a-f]{16,64})(?:-[0-9a-f]{8})?\.bin$")


def _little_endian_bytes(t):
    t = t.detach().cpu().to(torch.float32).contiguous()
    try:
        import numpy

        return t.numpy().astype("<f4", copy=False).tobytes()
    except ImportError:
        import array

        a = array.array("f", t.flatten().tolist())
        if sys.byteorder != "little":
            a.byteswap()
        return a.tobytes()


def _write_atomically(path, data):
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=os.path.basename(path) + ".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_checkpoint(folder, tensors, einnet_meta):
    """Writes 'tensors' (einnet name -> tensor) and 'einnet_meta' to 'folder', atomically."""
    os.makedirs(folder, exist_ok=True)
    specs, chunks = [], []
    for name, t in tensors.items():
        specs.append({"name": name, "shape": list(t.shape), "dtype": "float32"})
        chunks.append(_little_endian_bytes(t))
    data = b"".join(chunks)
    weights = "weights-%s.bin" % hashlib.sha256(data).hexdigest()[:16]
    _write_atomically(os.path.join(folder, weights), data)
    manifest = {
        "format": FORMAT,
        "generatedBy": "einnet export (PyTorch %s)" % torch.__version__,
        "convertedBy": None,
        "weightsManifest": [{"paths": [weights], "weights": specs}],
        "userDefinedMetadata": {"einnet": einnet_meta},
    }
    text = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
    _write_atomically(os.path.join(folder, "model.json"), text)
    for f in os.listdir(folder):
        if _WEIGHTS_FILE.match(f) and f != weights:
            os.unlink(os.path.join(folder, f))


def read_checkpoint(folder):
    """(tensors by einnet name, the einnet metadata dict) of the checkpoint in 'folder'."""
    with open(os.path.join(folder, "model.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    tensors = {}
    for group in manifest["weightsManifest"]:
        data = bytearray()
        for p in group["paths"]:
            with open(os.path.join(folder, p), "rb") as f:
                part = f.read()
            named = _WEIGHTS_FILE.match(os.path.basename(p))
            if named and hashlib.sha256(part).hexdigest()[: len(named.group(1))] != named.group(1):
                raise ValueError("%s is damaged: its SHA-256 does not match its name" % os.path.join(folder, p))
            data += part
        need = sum(4 * _count(w["shape"]) for w in group["weights"])
        if len(data) != need:
            raise ValueError("%s: the weights hold %d bytes, the manifest describes %d" % (folder, len(data), need))
        offset = 0
        for w in group["weights"]:
            if w.get("dtype", "float32") != "float32" or "quantization" in w:
                raise ValueError("%s: tensor %s is not plain float32" % (folder, w["name"]))
            n = _count(w["shape"])
            if n == 0:
                t = torch.zeros(w["shape"])
            else:
                t = torch.frombuffer(data, dtype=torch.float32, count=n, offset=offset).clone().reshape(w["shape"])
                if sys.byteorder != "little":
                    t = torch.from_numpy(t.numpy().byteswap())
            tensors[w["name"]] = t
            offset += 4 * n
    meta = manifest.get("userDefinedMetadata", {}).get("einnet", {})
    return tensors, meta


def _count(shape):
    n = 1
    for d in shape:
        n *= d
    return n
`;
