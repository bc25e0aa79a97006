/**
 * Training-step section of `npm run bench:native` (issue 7, item 4): one step (forward, backward,
 * SGD with momentum) of LeNet-5 at batch 64 on 28x28x1 and ResNet-20 at batch 32 on 32x32x3,
 * einnet's models on the native backend and on wasm, and the same networks in PyTorch
 * (bench/torch_step.py, same thread count) when `python3 -c 'import torch'` works. Prints median
 * step times and the ratios; target: einnet-native ≤ 1.0x PyTorch.
 *
 *   EINNET_BENCH_TRAIN=0   skip this section
 */
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../kernels/backend';
import { defaultThreads, setNativeThreads, threadsFromEnvironment } from '../kernels/native';
import { lenet5, resnetCifar } from '../models/architectures';
import type { Model } from '../models/model';
import { sgd } from '../models/optimizers';
import { trainStep } from '../models/train';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface StepTimes {
  readonly lenet5: number;
  readonly resnet20: number;
}

/** Median ms of einnet training steps of `model` on the current backend; checks no tensor leaks. */
function einnetStep(model: Model, x: tf.Tensor, labels: tf.Tensor, warm: number, runs: number): number {
  const opt = sgd({ learningRate: 0.01, momentum: 0.9 });
  for (let k = 0; k < warm; k++) trainStep(model, opt, x, labels);
  const before = tf.memory().numTensors;
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    trainStep(model, opt, x, labels);
    times.push(performance.now() - t0);
  }
  if (tf.memory().numTensors !== before) throw new Error(`training steps leaked ${tf.memory().numTensors - before} tensors`);
  opt.dispose();
  return median(times);
}

async function einnetSteps(backend: BackendName): Promise<StepTimes> {
  await useBackend(backend);
  const x1 = tf.randomNormal([64, 28, 28, 1], 0, 1, 'float32', 1);
  const y1 = tf.tensor1d(Array.from({ length: 64 }, (_, k) => k % 10), 'int32');
  const lenet = lenet5({ seed: 1 });
  const lenetMs = einnetStep(lenet, x1, y1, 3, 15);
  lenet.dispose();
  const x2 = tf.randomNormal([32, 32, 32, 3], 0, 1, 'float32', 2);
  const y2 = tf.tensor1d(Array.from({ length: 32 }, (_, k) => k % 10), 'int32');
  const resnet = resnetCifar({ depth: 20, seed: 1 });
  const resnetMs = einnetStep(resnet, x2, y2, 2, backend === 'native' ? 7 : 3);
  resnet.dispose();
  tf.dispose([x1, y1, x2, y2]);
  return { lenet5: lenetMs, resnet20: resnetMs };
}

/** PyTorch's step times, or why there are none. */
function torchSteps(threads: number): (StepTimes & { version: string }) | string {
  const script = path.join(__dirname, 'torch_step.py');
  // `python3` on PATH may be another interpreter (pyenv, venv) than the one Debian's python3-torch
  // installs into: try it, then the system's.
  const pythons = [process.env.EINNET_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => p !== undefined && p !== '');
  let why = 'no python3';
  for (const python of pythons) {
    const r = spawnSync(python, [script, String(threads), '10'], { encoding: 'utf8', timeout: 600_000 });
    if (r.error !== undefined) {
      why = `${python} did not run: ${r.error.message}`;
      continue;
    }
    if (r.status !== 0) {
      why = (r.stderr || `exit ${r.status}`).trim().split('\n').pop() ?? 'failed';
      continue;
    }
    const j = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { torch: string; lenet5_ms: number; resnet20_ms: number };
    return { version: j.torch, lenet5: j.lenet5_ms, resnet20: j.resnet20_ms };
  }
  return why;
}

/** Prints the training-step table. */
export async function trainingSteps(): Promise<void> {
  if (process.env.EINNET_BENCH_TRAIN === '0') return;
  await useBackend('native');
  const threads = setNativeThreads(threadsFromEnvironment() ?? defaultThreads());
  console.log(`\nTraining step (forward + backward + SGD momentum), median ms; ${threads} thread(s); load average ${os.loadavg().map((l) => l.toFixed(1)).join(', ')}`);
  const native = await einnetSteps('native');
  const wasm = await einnetSteps('wasm');
  const torch = torchSteps(threads);
  const rows: [string, keyof StepTimes][] = [
    ['LeNet-5   batch 64, 28x28x1', 'lenet5'],
    ['ResNet-20 batch 32, 32x32x3', 'resnet20'],
  ];
  console.log(`  ${'network'.padEnd(28)} ${'einnet-native'.padStart(13)} ${'einnet-wasm'.padStart(12)} ${'PyTorch'.padStart(9)}   native/PyTorch   wasm/native`);
  for (const [label, key] of rows) {
    const t = typeof torch === 'string' ? undefined : torch[key];
    const vsTorch = t === undefined ? '—' : `${(native[key] / t).toFixed(2)}x`;
    console.log(
      `  ${label.padEnd(28)} ${native[key].toFixed(1).padStart(13)} ${wasm[key].toFixed(1).padStart(12)} ${(t === undefined ? '—' : t.toFixed(1)).padStart(9)}   ${vsTorch.padStart(14)}   ${(wasm[key] / native[key]).toFixed(1).padStart(10)}x`,
    );
  }
  if (typeof torch === 'string') console.log(`  PyTorch: ${torch}`);
  else console.log(`  PyTorch ${torch.version} on ${threads} thread(s); target einnet-native ≤ 1.0x PyTorch`);
}
