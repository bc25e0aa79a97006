/**
 * Training-step section of `npm run bench:native` (issue 7, item 4): one step (forward, backward,
 * SGD with momentum) of LeNet-5 at batch 64 on 28x28x1 and ResNet-20 at batch 32 on 32x32x3,
 * einnet's models on the native backend and on wasm, and the same networks in PyTorch
 * (bench/torch_step.py, same thread count) when `python3 -c 'import torch'` works.
 *
 * einnet-native and PyTorch run in alternating rounds of 10 (ResNet-20) or 30 (LeNet-5) steps,
 * PyTorch as a server process that keeps its models, so that both see the same machine: on a
 * shared 2-core machine the speed of either drifts by ±20 % within a minute. Each side is warmed
 * up first (einnet about a second: V8 compiles the hot paths over the first tens of steps).
 * Prints the median step time of each over all rounds, with the 25th–75th percentile, and the
 * ratio of the medians; target: einnet-native ≤ 1.0x.
 *
 *   EINNET_BENCH_TRAIN=0        skip this section
 *   EINNET_BENCH_ROUNDS=n       rounds per network (default 8)
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../kernels/backend';
import { defaultThreads, setNativeThreads, threadsFromEnvironment } from '../kernels/native';
import { lenet5, resnetCifar } from '../models/architectures';
import type { Model } from '../models/model';
import { sgd, type Optimizer } from '../models/optimizers';
import { trainStep } from '../models/train';

type Net = 'lenet5' | 'resnet20';

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** An einnet network with its data and optimizer; `run(n)` times n training steps. */
class EinnetStepper {
  private readonly opt: Optimizer = sgd({ learningRate: 0.01, momentum: 0.9 });
  private readonly x: tf.Tensor;
  private readonly labels: tf.Tensor;
  private readonly model: Model;

  constructor(net: Net, warmup: number) {
    const [batch, shape] = net === 'lenet5' ? [64, [28, 28, 1]] : [32, [32, 32, 3]];
    this.x = tf.randomNormal([batch, ...shape], 0, 1, 'float32', 1);
    this.labels = tf.tensor1d(Array.from({ length: batch }, (_, k) => k % 10), 'int32');
    this.model = net === 'lenet5' ? lenet5({ seed: 1 }) : resnetCifar({ depth: 20, seed: 1 });
    // Warm-up: plans, optimizer slots, primitive caches, buffer reuse (tensors that stay), and
    // V8's optimizing compiler, which takes some tens of steps to reach the steady state that a
    // training run spends its time in.
    for (let k = 0; k < warmup; k++) trainStep(this.model, this.opt, this.x, this.labels);
  }

  run(steps: number): number[] {
    const before = tf.memory().numTensors;
    const times: number[] = [];
    for (let k = 0; k < steps; k++) {
      const t0 = performance.now();
      trainStep(this.model, this.opt, this.x, this.labels);
      times.push(performance.now() - t0);
    }
    if (tf.memory().numTensors !== before) throw new Error(`training steps leaked ${tf.memory().numTensors - before} tensors`);
    return times;
  }

  dispose(): void {
    this.model.dispose();
    this.opt.dispose();
    tf.dispose([this.x, this.labels]);
  }
}

/** bench/torch_step.py in --serve mode. */
class TorchServer {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    readonly version: string,
  ) {}

  /** A running server, or why there is none. */
  static async start(threads: number): Promise<TorchServer | string> {
    const script = path.join(__dirname, 'torch_step.py');
    // `python3` on PATH may be another interpreter (pyenv, venv) than the one Debian's
    // python3-torch installs into: try it, then the system's.
    const pythons = [process.env.EINNET_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => p !== undefined && p !== '');
    let why = 'no python3';
    for (const python of pythons) {
      const child = spawn(python, [script, String(threads), '--serve']);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const failed = new Promise<string>((resolve) => {
        child.on('error', (e) => resolve(`${python} did not run: ${e.message}`));
        child.on('exit', (code) => resolve(stderr.trim().split('\n').pop() || `${python} exited with ${code}`));
      });
      const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const first = await Promise.race([lines.next().then((r) => (r.done ? undefined : r.value)), failed]);
      if (first !== undefined && first.startsWith('{')) return new TorchServer(child, lines, (JSON.parse(first) as { torch: string }).torch);
      why = first ?? (await failed);
      child.kill();
    }
    return why;
  }

  async run(net: Net, steps: number): Promise<number[]> {
    this.child.stdin.write(`${net} ${steps}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error('the PyTorch process ended');
    return (JSON.parse(r.value) as { times: number[] }).times;
  }

  close(): void {
    this.child.stdin.end('quit\n');
  }
}

/** Median einnet step times on `backend` with `steps` steps (the wasm column). */
async function einnetOnly(backend: BackendName, net: Net, steps: number): Promise<number> {
  await useBackend(backend);
  const s = new EinnetStepper(net, 3);
  const t = quantile(s.run(steps), 0.5);
  s.dispose();
  return t;
}

/** Prints the training-step table. */
export async function trainingSteps(): Promise<void> {
  if (process.env.EINNET_BENCH_TRAIN === '0') return;
  await useBackend('native');
  const threads = setNativeThreads(threadsFromEnvironment() ?? defaultThreads());
  const rounds = Number(process.env.EINNET_BENCH_ROUNDS ?? '') || 8;
  const torch = await TorchServer.start(threads);
  console.log(
    `\nTraining step (forward + backward + SGD momentum), ms; ${threads} thread(s); ${rounds} alternating rounds; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')}`,
  );
  console.log(`  ${'network'.padEnd(28)} ${'einnet-native (p25–p75)'.padStart(24)} ${'PyTorch (p25–p75)'.padStart(22)}   native/PyTorch ${'einnet-wasm'.padStart(12)}`);
  // [label, network, steps per round, warm-up steps (about a second each)]
  const nets: [string, Net, number, number][] = [
    ['LeNet-5   batch 64, 28x28x1', 'lenet5', 30, 200],
    ['ResNet-20 batch 32, 32x32x3', 'resnet20', 10, 25],
  ];
  const cell = (xs: number[]) => `${quantile(xs, 0.5).toFixed(1)} (${quantile(xs, 0.25).toFixed(1)}–${quantile(xs, 0.75).toFixed(1)})`;
  for (const [label, net, perRound, warmup] of nets) {
    await useBackend('native');
    const einnet = new EinnetStepper(net, warmup);
    const mine: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      mine.push(...einnet.run(perRound));
      if (typeof torch !== 'string') theirs.push(...(await torch.run(net, perRound)));
    }
    einnet.dispose();
    const wasm = await einnetOnly('wasm', net, net === 'lenet5' ? 15 : 3);
    const ratio = theirs.length === 0 ? '—' : `${(quantile(mine, 0.5) / quantile(theirs, 0.5)).toFixed(2)}x`;
    console.log(`  ${label.padEnd(28)} ${cell(mine).padStart(24)} ${(theirs.length ? cell(theirs) : '—').padStart(22)}   ${ratio.padStart(14)} ${wasm.toFixed(1).padStart(12)}`);
  }
  if (typeof torch === 'string') console.log(`  PyTorch: ${torch}`);
  else {
    console.log(`  PyTorch ${torch.version} on ${threads} thread(s); target einnet-native ≤ 1.0x PyTorch`);
    torch.close();
  }
}
