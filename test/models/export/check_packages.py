"""Loads exported einnet packages with torch alone and runs them, for pytorch-export.test.ts.

Usage: check_packages.py JOBS.json. Each job names a package folder and raw little-endian float32
files: the input (and dropout masks) to feed. For each package this writes into the job's folder:
  result.json           parameter count, state_dict keys, output shapes
  eval.bin              the output in evaluation mode
  train.bin             the output in training mode with the given masks
  stats.bin             the running statistics after that training-mode call (einnet order)
"""
import importlib.util
import json
import os
import sys

import numpy
import torch


def load_module(folder, name):
    sys.path.insert(0, folder)
    try:
        for cached in ("model", "einnet_checkpoint"):
            sys.modules.pop(cached, None)
        spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "model.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(folder)


def tensor(path, shape):
    return torch.from_numpy(numpy.fromfile(path, dtype="<f4").reshape(shape))


def save(path, t):
    t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tofile(path)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    torch.set_num_threads(1)
    for k, job in enumerate(jobs):
        mod = load_module(job["package"], "exported_%d" % k)
        model = mod.build()
        x = tensor(job["input"], job["inputShape"])
        masks = {name: tensor(m["file"], m["shape"]) for name, m in job["masks"].items()}
        model.eval()
        with torch.no_grad():
            evaluated = model(x)
        model.train()
        with torch.no_grad():
            trained = model.forward_all(x, dropout_masks=masks)[mod.OUTPUT]
        out = job["out"]
        save(os.path.join(out, "eval.bin"), evaluated)
        save(os.path.join(out, "train.bin"), trained)
        stats = [model.einnet_tensor(n).flatten() for n in mod.RUNNING_STATS]
        save(os.path.join(out, "stats.bin"), torch.cat(stats) if stats else torch.zeros(0))
        result = {
            "parameterCount": sum(p.numel() for p in model.parameters()),
            "stateDictKeys": list(model.state_dict().keys()),
            "evalShape": list(evaluated.shape),
        }
        with open(os.path.join(out, "result.json"), "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
