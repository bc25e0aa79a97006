/**
 * The fused pieces of a native training step against the tfjs ops they replace, on the native
 * backend, alternating the two in rounds (the machine is shared): an Adam step of ResNet-20's 65
 * parameter tensors (0.27M values) as one EinnetAdamUpdate call against the per-parameter tfjs
 * ops, and softmax cross-entropy forward and backward at batch 64 x 10 classes
 * (EinnetSoftmaxCrossEntropy under tf.customGrad) against the loss in the notation differentiated
 * by einnet. Prints median µs per call of each and their ratio.
 *
 *   npx tsx bench/native-updates.ts [rounds=5]
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backends/select';
import { ein } from '../dsl';
import { resnetCifar } from '../models/architectures';
import { SOFTMAX_CROSS_ENTROPY_SOURCE, softmaxCrossEntropy } from '../models/losses';
import { adam } from '../models/optimizers';

const rounds = Number(process.argv[2] ?? '') || 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Per-call µs of `f`, `n` calls a round, the two contenders alternating. */
function race(label: string, n: number, fused: () => void, composed: () => void): void {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < 20; i++) [fused, composed].forEach((f) => f());
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const f = k === 0 ? fused : composed;
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        f();
        times[k].push((performance.now() - t0) * 1000);
      }
    }
  }
  const [a, b] = times.map(median);
  console.log(`  ${label.padEnd(44)} ${a.toFixed(0).padStart(8)} µs ${b.toFixed(0).padStart(10)} µs ${(a / b).toFixed(2).padStart(8)}x`);
}

/** The Adam step as per-parameter tfjs ops (the path of backends without EinnetAdamUpdate). */
function adamOps(params: tf.Variable[], grads: tf.Tensor[], m: tf.Variable[], v: tf.Variable[], t: number): void {
  const [lr, b1, b2, eps] = [1e-3, 0.9, 0.999, 1e-8];
  const [c1, c2] = [1 - b1 ** t, 1 - b2 ** t];
  tf.tidy(() => {
    params.forEach((w, i) => {
      const mNew = m[i].mul(b1).add(grads[i].mul(1 - b1));
      const vNew = v[i].mul(b2).add(grads[i].square().mul(1 - b2));
      m[i].assign(mNew);
      v[i].assign(vNew);
      w.assign(w.sub(mNew.div(c1).div(vNew.div(c2).sqrt().add(eps)).mul(lr)));
    });
  });
}

async function main(): Promise<void> {
  await useBackend('native');
  console.log(`Fused vs composed on einnet-native, median of ${rounds} alternating rounds; load average ${os.loadavg().map((l) => l.toFixed(1))}`);
  console.log(`  ${''.padEnd(44)} ${'fused'.padStart(11)} ${'tfjs ops'.padStart(13)} ${'ratio'.padStart(9)}`);

  const model = resnetCifar({ depth: 20, seed: 1 });
  const params = model.params;
  const grads = [...params.values()].map((w) => tf.randomNormal(w.shape, 0, 0.01, 'float32', 3));
  const named: Record<string, tf.Tensor> = {};
  [...params.keys()].forEach((k, i) => (named[k] = grads[i]));
  const opt = adam();
  const copies = [...params.values()].map((w) => tf.variable(w.clone()));
  const m = copies.map((w) => tf.variable(tf.zerosLike(w)));
  const v = copies.map((w) => tf.variable(tf.zerosLike(w)));
  let t = 0;
  race(
    `Adam step, ResNet-20's ${params.size} parameter tensors`,
    50,
    () => opt.apply(params, named),
    () => adamOps(copies, grads, m, v, ++t),
  );

  const Z = tf.randomNormal([64, 10], 0, 3, 'float32', 4);
  const Y = tf
    .oneHot(
      tf.tensor1d(
        Array.from({ length: 64 }, (_, k) => k % 10),
        'int32',
      ),
      10,
    )
    .cast('float32');
  const program = ein(SOFTMAX_CROSS_ENTROPY_SOURCE);
  const grad = (loss: (z: tf.Tensor) => tf.Scalar) => () => tf.dispose(tf.grad(loss)(Z));
  race(
    'softmax cross-entropy + d/dZ, batch 64 x 10',
    200,
    grad((z) => softmaxCrossEntropy(z, Y)),
    grad((z) => tf.tidy(() => program.run({ Z: z, Y }).loss as tf.Scalar)),
  );
  tf.dispose([...grads, ...copies, ...m, ...v, Z, Y]);
  opt.dispose();
  model.dispose();
}

void main();
