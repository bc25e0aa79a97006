"""PyTorch side of `npm run bench:fit`: the plain training loop a PyTorch user writes, on CPU.

    python3 bench/torch_fit.py THREADS DATA_DIR --serve
prints {"torch": version} and then answers each line `lenet5` / `resnet20` on stdin with one JSON
line {"ms_per_step": …, "accuracy": …, "seconds": …}: a fresh model trained for one epoch over the
training images in DATA_DIR (torch.randperm batches, F.cross_entropy, the optimizer step), then
evaluated under torch.no_grad() on the test images, the whole timed. The images are the very bytes
einnet trains on, written by bench/fit.ts: `<net>-{train,test}-{x.u8,y.i32,shape.json}`.

Exits 3 with a message when torch is not installed (Debian: apt-get install python3-torch).
"""
import json
import os
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("torch is not installed (Debian/Ubuntu: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_step import ResNet20  # noqa: E402  (the same CIFAR ResNet-20 as the step benchmark)


class LeNet5Relu(nn.Module):
    """einnet's lenet5({ activation: 'relu', pooling: 'max' }): C1 padded by 2, max pooling."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c3(x)), 2)
        x = F.relu(self.c5(x)).flatten(1)
        return self.out(F.relu(self.f6(x)))


# network → (model, optimizer, batch size), as bench/fit.ts trains it.
SETUPS = {
    "lenet5": lambda: (LeNet5Relu(), lambda p: torch.optim.Adam(p, lr=2e-3), 64),
    "resnet20": lambda: (ResNet20(), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=5e-4), 32),
}


def load(data_dir, net, split):
    base = os.path.join(data_dir, f"{net}-{split}")
    with open(base + "-shape.json") as f:
        n, h, w, c = json.load(f)
    x = np.fromfile(base + "-x.u8", dtype=np.uint8).reshape(n, h, w, c)
    y = np.fromfile(base + "-y.i32", dtype=np.int32)
    # NCHW float in [0, 1], as a PyTorch user prepares a dataset in memory once.
    images = torch.from_numpy(x).permute(0, 3, 1, 2).float().div(255).contiguous()
    return images, torch.from_numpy(y.astype(np.int64))


def run(net, data):
    model, make_opt, batch = SETUPS[net]()
    opt = make_opt(model.parameters())
    (x, y), (tx, ty) = data
    t0 = time.perf_counter()
    model.train()
    perm = torch.randperm(x.shape[0])
    steps = 0
    for start in range(0, x.shape[0], batch):
        idx = perm[start : start + batch]
        opt.zero_grad()
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        steps += 1
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, tx.shape[0], 256):
            correct += (model(tx[start : start + 256]).argmax(1) == ty[start : start + 256]).sum().item()
    seconds = time.perf_counter() - t0
    return {"ms_per_step": 1000 * seconds / steps, "accuracy": correct / tx.shape[0], "seconds": seconds, "steps": steps}


def main():
    threads = int(sys.argv[1])
    data_dir = sys.argv[2]
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    print(json.dumps({"torch": torch.__version__}), flush=True)
    data = {}
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        net = words[0]
        if net not in data:
            data[net] = (load(data_dir, net, "train"), load(data_dir, net, "test"))
        print(json.dumps(run(net, data[net])), flush=True)


if __name__ == "__main__":
    main()
