/**
 * Where a training step spends its time, per tfjs kernel, on one backend.
 *
 * Default: LeNet-5 (batch 64), ResNet-20 (batch 32) and DenseNet-BC-40 (k = 12, batch 16) through einnet's models (`ein(...).run` +
 * `tf.variableGrads`), profiled with `tf.profile`. Prints the kernels by total time, with call
 * counts, so the next kernel worth a native implementation is the one at the top.
 *
 * `--fit`: the step `npm run bench:fit` times for LeNet-5 (relu, max pooling, Adam 2e-3, batch 64
 * of MNIST; `--net=resnet20`: ResNet-20, SGD 0.05 with momentum 0.9 and weight decay 5e-4, batch
 * 32 of the Fashion-MNIST stand-in for CIFAR-10), through the functions `fit` calls (models/training/step.ts), split into its phases —
 * the batch, forward, loss, backward (tfjs' tape), the optimizer update, disposal — with every
 * kernel registered for the backend timed by a wrapper (its own time: kernels call each other's
 * implementations directly, not through the registry). Times are the process's CPU time
 * (`process.cpuUsage`, all threads), which a loaded machine disturbs less than wall time; the
 * wall time per step is printed beside. A phase's time outside kernels is tfjs' bookkeeping
 * (scopes, the tape, tensor tracking) and einnet's JavaScript around the kernels.
 *
 *   npx tsx bench/profile-kernels.ts [native|wasm|cpu] [--steps=3]
 *   npx tsx bench/profile-kernels.ts wasm --fit [--steps=100] [--net=resnet20]
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../index';
import { densenetBC, lenet5, resnetCifar } from '../models/architectures';
import { adam, sgd } from '../models/optimizers';
import { trainStep } from '../models/train';
import type { Model } from '../models/model';
import { openMnist } from '../datasets/mnist';
import { openFashionMnistAsCifar } from '../datasets/cifar-fallback';
import { batchesOf } from '../models/training/batches';
import { applyGradients, computeGradients, disposeComputed } from '../models/training/step';
import { softmaxCrossEntropy } from '../models/losses';

const args = process.argv.slice(2);
const backend = (args.find((a) => !a.startsWith('--')) ?? 'native') as BackendName;
const fitMode = args.includes('--fit');
const steps = Number(args.find((a) => a.startsWith('--steps='))?.slice(8) ?? (fitMode ? 100 : 3));
const fitNet = args.find((a) => a.startsWith('--net='))?.slice(6) ?? 'lenet5';
if (fitNet !== 'lenet5' && fitNet !== 'resnet20') throw new Error(`--net=${fitNet}: lenet5 or resnet20`);

interface Row {
  ms: number;
  calls: number;
  shapes: Map<string, number>;
}

async function profile(name: string, model: Model, x: tf.Tensor, labels: tf.Tensor): Promise<void> {
  const opt = sgd({ learningRate: 0.01, momentum: 0.9 });
  trainStep(model, opt, x, labels); // warm-up: primitive caches, buffer pool
  const rows = new Map<string, Row>();
  let wall = 0;
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const info = await tf.profile(() => void trainStep(model, opt, x, labels));
    wall += performance.now() - t0;
    for (const k of info.kernels) {
      const r = rows.get(k.name) ?? { ms: 0, calls: 0, shapes: new Map() };
      r.ms += k.kernelTimeMs as number;
      r.calls++;
      const key = `${JSON.stringify(k.inputShapes)}→${JSON.stringify(k.outputShapes)}`;
      r.shapes.set(key, (r.shapes.get(key) ?? 0) + (k.kernelTimeMs as number));
      rows.set(k.name, r);
    }
  }
  const sorted = [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = sorted.reduce((s, [, r]) => s + r.ms, 0);
  console.log(`\n## ${name} on ${tf.getBackend()}: ${(wall / steps).toFixed(1)} ms/step under the profiler, kernels ${(total / steps).toFixed(1)} ms/step`);
  for (const [kernel, r] of sorted.slice(0, 25)) {
    const worst = [...r.shapes.entries()].sort((a, b) => b[1] - a[1])[0];
    console.log(
      `${kernel.padEnd(28)} ${(r.ms / steps).toFixed(2).padStart(9)} ms  ${String(r.calls / steps).padStart(5)} calls   ` +
        `worst ${worst[0].slice(0, 90)} ${(worst[1] / steps).toFixed(2)} ms`,
    );
  }
  opt.dispose();
}

/** The process's CPU time so far (user + system, every thread), in milliseconds. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const PHASES = ['batch', 'forward', 'loss', 'backward', 'update', 'dispose'] as const;
type Phase = (typeof PHASES)[number];

/** Per-kernel time and calls by phase and by kernel (with its input shapes). */
class KernelTimes {
  phase: Phase = 'batch';
  readonly byPhase = new Map<Phase, { ms: number; calls: number }>(PHASES.map((p) => [p, { ms: 0, calls: 0 }]));
  readonly byKernel = new Map<string, { ms: number; calls: number }>();
  recording = false;

  /** Re-registers every kernel of the active backend with a timer around it. */
  install(): void {
    const name = tf.getBackend();
    for (const k of tf.getKernelsForBackend(name)) {
      const inner = k.kernelFunc;
      tf.unregisterKernel(k.kernelName, name);
      tf.registerKernel({
        ...k,
        kernelFunc: (a) => {
          if (!this.recording) return inner(a);
          const t0 = cpuMs();
          const out = inner(a);
          this.add(k.kernelName, a.inputs, cpuMs() - t0);
          return out;
        },
      });
    }
  }

  private add(kernel: string, inputs: tf.NamedTensorInfoMap, ms: number): void {
    const p = this.byPhase.get(this.phase)!;
    p.ms += ms;
    p.calls++;
    const shapes = Object.values(inputs)
      .filter((t): t is tf.TensorInfo => t !== undefined)
      .map((t) => `[${t.shape.join(',')}]`)
      .join(' ');
    const key = `${this.phase}\t${kernel}\t${shapes}`;
    const r = this.byKernel.get(key) ?? { ms: 0, calls: 0 };
    r.ms += ms;
    r.calls++;
    this.byKernel.set(key, r);
  }
}

/** A bench:fit step (`--net`) by phase and kernel. */
async function profileFitStep(): Promise<void> {
  const times = new KernelTimes();
  times.install();
  const warmup = 20;
  const lenet = fitNet === 'lenet5';
  const batch = lenet ? 64 : 32;
  const train = (lenet ? openMnist({ split: 'train' }) : openFashionMnistAsCifar({ split: 'train' })).slice(0, (steps + warmup) * batch);
  const model = lenet ? lenet5({ seed: 1, activation: 'relu', pooling: 'max' }) : resnetCifar({ depth: 20, seed: 1 });
  const optimizer = lenet ? adam({ learningRate: 2e-3 }) : sgd({ learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const title = lenet
    ? 'LeNet-5 (relu, max pooling), Adam, batch 64 of MNIST'
    : 'ResNet-20, SGD with momentum and weight decay, batch 32 of Fashion-MNIST padded to 32x32x3';
  const input = model.inputNames[0];
  const spent = new Map<Phase, number>(PHASES.map((p) => [p, 0]));
  let t = cpuMs();
  const enter = (next: Phase) => {
    const now = cpuMs();
    spent.set(times.phase, spent.get(times.phase)! + now - t);
    times.phase = next;
    t = now;
  };
  const lossFn = (out: tf.Tensor, y: tf.Tensor): tf.Scalar => {
    enter('loss');
    const loss = softmaxCrossEntropy(out, y);
    enter('backward');
    return loss;
  };
  const batches = batchesOf(train, batch, false);
  let k = 0;
  let t0 = 0;
  let w0 = 0;
  for (;;) {
    if (k === warmup) {
      times.recording = true;
      for (const p of PHASES) spent.set(p, 0);
      t0 = cpuMs();
      w0 = performance.now();
    }
    enter('batch');
    const next = batches.next();
    if (next.done === true) break;
    const b = next.value;
    enter('forward');
    const c = computeGradients(model, b.x, b.y, { input, lossFn, keepOutputs: false, countCorrect: false });
    enter('update');
    applyGradients(model, optimizer, c);
    enter('dispose');
    disposeComputed(c);
    b.dispose();
    k++;
  }
  enter('batch');
  const total = (cpuMs() - t0) / steps;
  const wallPerStep = (performance.now() - w0) / steps;
  times.recording = false;
  console.log(
    `## ${title} on ${tf.getBackend()}: ${total.toFixed(2)} ms of CPU time per step ` +
      `(${wallPerStep.toFixed(2)} ms wall) over ${steps} steps; load ${os.loadavg()[0].toFixed(1)}`,
  );
  console.log('\n| phase | CPU ms/step | in kernels | kernel calls/step |\n|---|---|---|---|');
  for (const p of PHASES) {
    const r = times.byPhase.get(p)!;
    console.log(`| ${p} | ${(spent.get(p)! / steps).toFixed(2)} | ${(r.ms / steps).toFixed(2)} | ${(r.calls / steps).toFixed(0)} |`);
  }
  const inKernels = [...times.byPhase.values()].reduce((s, r) => s + r.ms, 0) / steps;
  console.log(`| all | ${total.toFixed(2)} | ${inKernels.toFixed(2)} | ${([...times.byPhase.values()].reduce((s, r) => s + r.calls, 0) / steps).toFixed(0)} |`);
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const [key, r] of times.byKernel) {
    const [phase, kernel] = key.split('\t');
    const name = `${phase}\t${kernel}`;
    const s = byName.get(name) ?? { ms: 0, calls: 0 };
    s.ms += r.ms;
    s.calls += r.calls;
    byName.set(name, s);
  }
  console.log('\nKernels by own CPU time (phase, kernel, ms/step, calls/step):');
  for (const [name, r] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    const [phase, kernel] = name.split('\t');
    console.log(`  ${phase.padEnd(9)} ${kernel.padEnd(28)} ${(r.ms / steps).toFixed(3).padStart(8)} ms ${(r.calls / steps).toFixed(0).padStart(4)} calls`);
  }
  console.log('\nCalls by own CPU time (phase, kernel, input shapes):');
  for (const [key, r] of [...times.byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
    const [phase, kernel, shapes] = key.split('\t');
    console.log(
      `  ${phase.padEnd(9)} ${kernel.padEnd(28)} ${(r.ms / steps).toFixed(3).padStart(8)} ms ${(r.calls / steps).toFixed(0).padStart(3)}x  ${shapes}`,
    );
  }
  optimizer.dispose();
  model.dispose();
}

async function main(): Promise<void> {
  await useBackend(backend);
  if (fitMode) {
    await profileFitStep();
    return;
  }
  {
    const x = tf.randomNormal([64, 28, 28, 1], 0, 1, 'float32', 1);
    const labels = tf.tensor1d(
      Array.from({ length: 64 }, (_, k) => k % 10),
      'int32',
    );
    const m = lenet5({ seed: 1 });
    await profile('LeNet-5 batch 64', m, x, labels);
    m.dispose();
    tf.dispose([x, labels]);
  }
  {
    const x = tf.randomNormal([32, 32, 32, 3], 0, 1, 'float32', 2);
    const labels = tf.tensor1d(
      Array.from({ length: 32 }, (_, k) => k % 10),
      'int32',
    );
    const m = resnetCifar({ depth: 20, seed: 1 });
    await profile('ResNet-20 batch 32', m, x, labels);
    m.dispose();
    tf.dispose([x, labels]);
  }
  {
    const x = tf.randomNormal([16, 32, 32, 3], 0, 1, 'float32', 3);
    const labels = tf.tensor1d(
      Array.from({ length: 16 }, (_, k) => k % 10),
      'int32',
    );
    const m = densenetBC({ depth: 40, growth: 12, seed: 1 });
    await profile('DenseNet-BC-40 (k = 12) batch 16', m, x, labels);
    m.dispose();
    tf.dispose([x, labels]);
  }
}

void main();
