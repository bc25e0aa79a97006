"""Runs exported einnet modules for the tests: one JSON request per line on stdin, one JSON answer
per line on stdout. A request holds the module source, its class name, the bound tensors
(float32, base64) and the output whose sum of squares is the loss; the answer holds every output
and the gradient of the loss w.r.t. every bound tensor, or the Python error."""
import base64
import json
import struct
import sys
import traceback

import torch

torch.set_num_threads(1)


def decode(t):
    raw = base64.b64decode(t["data"])
    values = struct.unpack("<%df" % (len(raw) // 4), raw)
    return torch.tensor(values, dtype=torch.float32).reshape(t["shape"])


def encode(t):
    flat = t.detach().to(torch.float32).reshape(-1).tolist()
    return {"shape": list(t.shape), "data": base64.b64encode(struct.pack("<%df" % len(flat), *flat)).decode()}


def answer(request):
    scope = {}
    exec(compile(request["source"], "<einnet export>", "exec"), scope)
    module = scope[request["className"]]()
    leaves = {name: decode(t).requires_grad_() for name, t in request["tensors"].items()}
    outputs = module(**leaves)
    # The loss of the differential harness: sum(last²), every other output with weight 0.
    loss = torch.square(outputs[request["output"]]).sum()
    for name, value in outputs.items():
        if name != request["output"]:
            loss = loss + 0 * value.sum()
    names = list(leaves)
    grads = [None] * len(names)
    if loss.requires_grad:
        grads = torch.autograd.grad(loss, [leaves[n] for n in names], allow_unused=True)
    return {
        "outputs": {name: encode(value) for name, value in outputs.items()},
        "gradients": {n: encode(g if g is not None else torch.zeros_like(leaves[n])) for n, g in zip(names, grads)},
    }


for line in sys.stdin:
    try:
        reply = answer(json.loads(line))
    except Exception:
        reply = {"error": traceback.format_exc()}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
