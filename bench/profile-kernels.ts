/**
 * Where a training step spends its time, per tfjs kernel: LeNet-5 (batch 64) and ResNet-20
 * (batch 32) through einnet's models (`ein(...).run` + `tf.variableGrads`), profiled with
 * `tf.profile` on one backend. Prints the kernels by total time, with call counts, so the next
 * kernel worth a native implementation is the one at the top.
 *
 *   npx tsx bench/profile-kernels.ts [native|wasm|cpu] [--steps=3]
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../index';
import { lenet5, resnetCifar } from '../models/architectures';
import { sgd } from '../models/optimizers';
import { trainStep } from '../models/train';
import type { Model } from '../models/model';

const args = process.argv.slice(2);
const backend = (args.find((a) => !a.startsWith('--')) ?? 'native') as BackendName;
const steps = Number(args.find((a) => a.startsWith('--steps='))?.slice(8) ?? 3);

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
      `${kernel.padEnd(28)} ${(r.ms / steps).toFixed(2).padStart(9)} ms  ${String(r.calls / steps).padStart(5)} calls   worst ${worst[0].slice(0, 90)} ${(worst[1] / steps).toFixed(2)} ms`,
    );
  }
  opt.dispose();
}

async function main(): Promise<void> {
  await useBackend(backend);
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
}

void main();
