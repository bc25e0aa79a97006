/**
 * train.py after its CONFIG: data readers, optimizer, checkpoints and the DistributedDataParallel
 * loop. train-source.ts puts the header and CONFIG in front of it.
 * Python source, verbatim (String.raw: no backtick and no dollar-brace may appear in it).
 */
export const TRAIN_PY_BODY = String.raw`import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from einnet_checkpoint import OPTIMIZER_PREFIX, read_checkpoint, write_checkpoint  # noqa: E402
from model import EinnetModel  # noqa: E402

# ---------------------------------------------------------------- data


def _open(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            return gzip.open(p, "rb") if p.endswith(".gz") else open(p, "rb")
    raise FileNotFoundError("%s (or .gz) does not exist" % path)


def read_idx(path):
    """An IDX file (MNIST's format) as a uint8 tensor."""
    with _open(path) as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError("%s is not an unsigned-byte IDX file" % path)
    shape = struct.unpack(">" + "I" * rank, data[4 : 4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank :]), dtype=torch.uint8).reshape(shape)


def load_mnist(folder, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(folder, prefix + "-images-idx3-ubyte"))
    labels = read_idx(os.path.join(folder, prefix + "-labels-idx1-ubyte"))
    return images.unsqueeze(-1), labels.long()


def load_cifar(folder, dataset, split):
    """CIFAR binary files: records of label byte(s) and 3,072 pixel bytes (channel-major)."""
    if dataset == "cifar-10":
        sub, label_bytes, label_at = "cifar-10-batches-bin", 1, 0
        names = ["data_batch_%d.bin" % i for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    else:
        sub, label_bytes, label_at = "cifar-100-binary", 2, 1  # coarse, fine: the fine label
        names = ["%s.bin" % split]
    if not os.path.exists(os.path.join(folder, names[0])) and os.path.exists(os.path.join(folder, sub, names[0])):
        folder = os.path.join(folder, sub)
    records = []
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            records.append(torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).reshape(-1, label_bytes + 3072))
    r = torch.cat(records)
    images = r[:, label_bytes:].reshape(-1, 3, 32, 32).permute(0, 2, 3, 1).contiguous()
    return images, r[:, label_at].long()


def load_dataset(dataset, folder, split, limit):
    """(images uint8 [n, height, width, channels], labels int64 [n]): the first 'limit' examples."""
    if folder is None:
        sys.exit("train.py: no data folder; pass --data DIR (the folder with the %s files)" % dataset)
    images, labels = load_mnist(folder, split) if dataset in ("mnist", "fashion-mnist") else load_cifar(folder, dataset, split)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images, labels


def to_input(images, device):
    """uint8 NHWC pixels to einnet's input: float32 in [0, 1], NHWC."""
    return images.to(device).float() / 255


def augment(x, generator):
    """Random crop of the 4-pixel zero-padded image and random left-right flip (NHWC)."""
    b, h, w, _ = x.shape
    padded = F.pad(x, (0, 0, 4, 4, 4, 4))
    dx = torch.randint(0, 9, (b,), generator=generator)
    dy = torch.randint(0, 9, (b,), generator=generator)
    flip = torch.rand(b, generator=generator) < 0.5
    out = torch.empty_like(x)
    for k in range(b):
        crop = padded[k, dy[k] : dy[k] + h, dx[k] : dx[k] + w]
        out[k] = crop.flip(1) if flip[k] else crop
    return out


# ---------------------------------------------------------------- optimizer and checkpoints

EINNET_SLOTS = {"momentum_buffer": "momentum", "exp_avg": "m", "exp_avg_sq": "v"}


def make_optimizer(params, spec, lr):
    kwargs = dict(spec["kwargs"])
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    if lr is not None:
        kwargs["lr"] = lr
    return getattr(torch.optim, spec["name"])(params, **kwargs)


def set_hyperparameters(optimizer, epoch):
    """The schedules' values for this epoch (0-based); after the last listed epoch, the last value."""
    for name, values in CONFIG["schedules"].items():
        v = values[min(epoch, len(values) - 1)]
        for group in optimizer.param_groups:
            if name in ("beta1", "beta2"):
                b = list(group["betas"])
                b[0 if name == "beta1" else 1] = v
                group["betas"] = tuple(b)
            else:
                group[name] = v


def einnet_optimizer(optimizer, step):
    """The optimizer as einnet records it (name, hyperparameters, step count)."""
    g = optimizer.param_groups[0]
    if isinstance(optimizer, torch.optim.SGD):
        config = {"learningRate": g["lr"], "momentum": g["momentum"], "weightDecay": g["weight_decay"], "nesterov": g["nesterov"]}
        return {"name": "sgd", "config": config, "iterations": step}
    config = {"learningRate": g["lr"], "beta1": g["betas"][0], "beta2": g["betas"][1], "epsilon": g["eps"], "weightDecay": g["weight_decay"]}
    config["decoupled"] = isinstance(optimizer, torch.optim.AdamW)
    return {"name": "adam", "config": config, "iterations": step}


def save(model, optimizer, folder, step, metadata):
    tensors = dict(model.einnet_tensors())
    for name, p in model.einnet_parameters():
        for slot, value in optimizer.state.get(p, {}).items():
            if slot in EINNET_SLOTS:
                tensors[OPTIMIZER_PREFIX + name + "/" + EINNET_SLOTS[slot]] = value
    params = [n for n, _ in model.einnet_parameters()]
    meta = {"version": 1, "params": params, "stats": [n for n in model.einnet_tensors() if n not in params]}
    meta["optimizer"] = einnet_optimizer(optimizer, step)
    meta["metadata"] = metadata
    write_checkpoint(folder, tensors, meta)


@torch.no_grad()
def restore(model, optimizer, folder):
    """Loads a checkpoint written by 'save'; returns its metadata."""
    tensors, meta = read_checkpoint(folder)
    model.load_einnet(folder)
    slots = {v: k for k, v in EINNET_SLOTS.items()}
    step = meta.get("optimizer", {}).get("iterations", 0)
    for name, p in model.einnet_parameters():
        state = {}
        for slot, torch_slot in slots.items():
            t = tensors.get(OPTIMIZER_PREFIX + name + "/" + slot)
            if t is not None:
                state[torch_slot] = t.to(p.device)
        if state:
            if "exp_avg" in state:
                state["step"] = torch.tensor(float(step))
            optimizer.state[p] = state
    return meta.get("metadata", {})


def write_json_atomically(path, value):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---------------------------------------------------------------- training


def parse_args():
    p = argparse.ArgumentParser(description="Train the exported einnet model with DistributedDataParallel (run it with torchrun).")
    p.add_argument("--data", default=CONFIG["data_dir"], help="folder with the dataset's files")
    p.add_argument("--dataset", default=CONFIG["dataset"], choices=["mnist", "fashion-mnist", "cifar-10", "cifar-100"])
    p.add_argument("--epochs", type=int, default=CONFIG["epochs"])
    p.add_argument("--batch-size", type=int, default=CONFIG["batch_size"], help="global batch: examples per step over all processes")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the exported optimizer's and schedule's)")
    p.add_argument("--backend", default="gloo", choices=["gloo", "nccl"], help="nccl: one GPU per process")
    p.add_argument("--out", default=os.path.join(HERE, "checkpoints"), help="checkpoint folder (one sub-folder per epoch)")
    p.add_argument("--weights", default=os.path.join(HERE, "weights"), help="einnet checkpoint to start from")
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    p.add_argument("--limit", type=int, default=None, help="use the first N training examples")
    p.add_argument("--test-limit", type=int, default=None, help="use the first N test examples")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (the last epoch is cut short)")
    p.add_argument("--seed", type=int, default=CONFIG["seed"])
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=CONFIG["augment"], help="random crop and flip")
    p.add_argument("--log-every", type=int, default=0, help="also log every N-th step's loss (0: epochs only)")
    p.add_argument("--verify-replicas", action="store_true", help="after each step check that every process holds the same weights")
    return p.parse_args()


class Log:
    """JSON lines on rank 0: to stdout and to <out>/log.jsonl."""

    def __init__(self, rank, out):
        self.file = None
        if rank == 0:
            os.makedirs(out, exist_ok=True)
            self.file = open(os.path.join(out, "log.jsonl"), "a", encoding="utf-8")

    def __call__(self, **record):
        if self.file is None:
            return
        line = json.dumps(record, ensure_ascii=False)
        print(line, flush=True)
        self.file.write(line + "\n")
        self.file.flush()

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


def all_sum(values, device, distributed):
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if distributed:
        dist.all_reduce(t)
    return t.tolist()


def average_over_processes(stats):
    """Batch statistics averaged over the processes (so every replica keeps the same running averages)."""
    world = dist.get_world_size()
    for t in stats.values():
        dist.all_reduce(t)
        t.div_(world)
    return stats


@torch.no_grad()
def replica_difference(model, device):
    """Largest difference between this process's weights and rank 0's, over all processes."""
    flat = torch.cat([t.detach().flatten() for t in model.einnet_tensors().values()])
    ref = flat.clone()
    dist.broadcast(ref, 0)
    diff = (flat - ref).abs().max().reshape(1).to(device)
    dist.all_reduce(diff, op=dist.ReduceOp.MAX)
    return diff.item()


@torch.no_grad()
def evaluate(model, images, labels, rank, world, device):
    """Mean loss and accuracy in evaluation mode; each process takes every world-th example."""
    model.eval()
    loss = correct = 0.0
    idx = torch.arange(rank, len(labels), world)
    for part in idx.split(256):
        x, y = to_input(images[part], device), labels[part].to(device)
        out = model(x)
        loss += F.cross_entropy(out, y, reduction="sum").item()
        correct += (out.argmax(1) == y).sum().item()
    model.train()
    loss, correct = all_sum([loss, correct], device, world > 1)
    return loss / max(len(labels), 1), correct / max(len(labels), 1)


def main():
    args = parse_args()
    if args.dataset is None:
        sys.exit("train.py: the model's input and output fit none of the datasets train.py reads (MNIST, Fashion-MNIST, CIFAR-10, CIFAR-100)")
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group(args.backend)
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    if args.backend == "nccl":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.zeros(0).device  # the CPU, where tensors are made by default
    if args.batch_size % world != 0:
        sys.exit("train.py: --batch-size %d does not divide among %d processes" % (args.batch_size, world))
    per_process = args.batch_size // world
    torch.manual_seed(args.seed + rank)  # dropout masks differ between processes, as their examples do

    model = EinnetModel(args.weights).to(device)
    if distributed:
        model.stat_reducer = average_over_processes
    net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None, broadcast_buffers=False) if distributed else model
    optimizer = make_optimizer(model.parameters(), CONFIG["optimizer"], args.lr)
    log = Log(rank, args.out)
    latest = os.path.join(args.out, "latest.json")
    start_epoch, step = 0, 0
    if args.resume and os.path.exists(latest):
        with open(latest, encoding="utf-8") as f:
            folder = os.path.join(args.out, json.load(f)["checkpoint"])
        meta = restore(model, optimizer, folder)
        start_epoch, step = meta.get("epoch", 0), meta.get("step", 0)
        log(event="resume", checkpoint=folder, epoch=start_epoch, step=step)

    train_images, train_labels = load_dataset(args.dataset, args.data, "train", args.limit)
    test_images, test_labels = load_dataset(args.dataset, args.data, "test", args.test_limit)
    sampler = DistributedSampler(range(len(train_labels)), num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    generator = torch.Generator().manual_seed(args.seed * 1000 + rank)
    log(event="start", world_size=world, backend=args.backend if distributed else None, dataset=args.dataset, train=len(train_labels),
        test=len(test_labels), batch_size=args.batch_size, epochs=args.epochs, optimizer=CONFIG["optimizer"]["name"], torch=torch.__version__)

    for epoch in range(start_epoch, args.epochs):
        if args.max_steps is not None and step >= args.max_steps:
            break
        if args.lr is None:
            set_hyperparameters(optimizer, epoch)
        sampler.set_epoch(epoch)
        started = time.time()
        loss_sum = correct = seen = 0.0
        for batch in torch.tensor(list(sampler)).split(per_process):
            x = to_input(train_images[batch], device)
            y = train_labels[batch].to(device)
            if args.augment:
                x = augment(x, generator)
            out = net(x)
            loss = F.cross_entropy(out, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            loss_sum += loss.item() * len(batch)
            correct += (out.argmax(1) == y).sum().item()
            seen += len(batch)
            if args.log_every and step % args.log_every == 0:
                record = {"event": "step", "epoch": epoch + 1, "step": step}
                total, count = all_sum([loss.item() * len(batch), len(batch)], device, distributed)
                record["loss"] = total / count
                if args.verify_replicas and distributed:
                    record["replica_max_diff"] = replica_difference(model, device)
                log(**record)
            if args.max_steps is not None and step >= args.max_steps:
                break
        loss_sum, correct, seen = all_sum([loss_sum, correct, seen], device, distributed)
        test_loss, test_accuracy = evaluate(model, test_images, test_labels, rank, world, device)
        name = "epoch-%04d" % (epoch + 1)
        metadata = {
            "epoch": epoch + 1,
            "step": step,
            "train_loss": loss_sum / max(seen, 1),
            "train_accuracy": correct / max(seen, 1),
            "test_loss": test_loss,
            "test_accuracy": test_accuracy,
            "test_examples": len(test_labels),
            "lr": optimizer.param_groups[0]["lr"],
            "world_size": world,
        }
        if rank == 0:
            save(model, optimizer, os.path.join(args.out, name), step, metadata)
            write_json_atomically(latest, {"checkpoint": name, "epoch": epoch + 1, "step": step})
        log(event="epoch", seconds=round(time.time() - started, 3), checkpoint=name, **metadata)
    log.close()
    if distributed:
        # Every checkpoint and log line is written and closed here, so the process leaves without
        # the process group's teardown: with torch 1.13 and gloo, a worker can spin forever in it
        # after its last epoch (about one two-process run in five on a loaded machine).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
`;
