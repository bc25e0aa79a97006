"""PyTorch reference for `npm run bench:native`: one training step (forward, cross-entropy,
backward, SGD with momentum 0.9) of the same LeNet-5 (batch 64, 28x28x1, tanh, average pooling,
C1 padded by 2) and CIFAR ResNet-20 (batch 32, 32x32x3, option-A zero-padded shortcuts, batch
norm in training mode) that einnet's models build, on CPU with a given thread count.

    python3 bench/torch_step.py THREADS STEPS
prints one JSON line: {"torch": version, "threads": n, "lenet5_ms": median, "resnet20_ms": median}.

    python3 bench/torch_step.py THREADS --serve
prints {"torch": version} and then answers each line `lenet5 N` / `resnet20 N` on stdin with
{"times": [N step times in ms]} (the model and optimizer persist; the first request of a network
runs 3 warm-up steps first), until `quit` or end of input. The benchmark alternates short runs of
einnet and PyTorch this way, so that both see the same machine (load on shared machines drifts).

Exits 3 with a message when torch is not installed (Debian: apt-get install python3-torch).
"""
import json
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("torch is not installed (Debian/Ubuntu: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(3)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        x = F.avg_pool2d(torch.tanh(self.c1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.c3(x)), 2)
        x = torch.tanh(self.c5(x)).flatten(1)
        return self.out(torch.tanh(self.f6(x)))


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        s = x
        if self.stride != 1 or self.pad:
            s = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, 0, self.pad))
        return F.relu(h + s)


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for s, w in enumerate([16, 32, 64]):
            for k in range(3):
                blocks.append(Basic(cin, w, 2 if s > 0 and k == 0 else 1))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn(self.stem(x))))
        return self.fc(h.mean((2, 3)))


class Stepper:
    """A network, its data and its optimizer; `run(n)` times n training steps."""

    def __init__(self, model, x, y):
        self.model, self.x, self.y = model, x, y
        self.opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        self.run(3)  # warm-up

    def run(self, steps):
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(self.x), self.y)
            loss.backward()
            self.opt.step()
            loss.item()
            times.append((time.perf_counter() - t0) * 1000)
        return times


NETWORKS = {
    "lenet5": lambda: Stepper(LeNet5(), torch.randn(64, 1, 28, 28), torch.arange(64) % 10),
    "resnet20": lambda: Stepper(ResNet20(), torch.randn(32, 3, 32, 32), torch.arange(32) % 10),
}


def serve():
    print(json.dumps({"torch": torch.__version__}), flush=True)
    steppers = {}
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        name, steps = words[0], int(words[1])
        if name not in steppers:
            steppers[name] = NETWORKS[name]()
        print(json.dumps({"times": steppers[name].run(steps)}), flush=True)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    if len(sys.argv) > 2 and sys.argv[2] == "--serve":
        serve()
        return
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    lenet = statistics.median(NETWORKS["lenet5"]().run(steps))
    resnet = statistics.median(NETWORKS["resnet20"]().run(max(3, steps // 2)))
    print(json.dumps({"torch": torch.__version__, "threads": threads, "lenet5_ms": lenet, "resnet20_ms": resnet}))


if __name__ == "__main__":
    main()
