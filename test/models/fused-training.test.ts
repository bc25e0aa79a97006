/**
 * The training step's fused paths against their references, on every Node backend (cpu, wasm and,
 * when the addon is built, einnet-native):
 * - sgd and adam: several steps of `optimizer.apply` against the update formulas written out here
 *   in double precision, and (on native and wasm, where one kernel call updates every parameter;
 *   on wasm with its SIMD loops and with its JavaScript loops) against the same steps through
 *   tfjs' ops on the cpu backend, bit for bit;
 * - softmaxCrossEntropy (loss and gradient from one forward pass) against the loss written in the
 *   notation and differentiated by einnet, forward and gradients with respect to scores and targets,
 *   NaN and ±∞ scores included.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { findAddon, nativeKernelStats, registerNativeBackend, resetNativeKernelStats, setNativeThreads } from '../../backends/native';
import { ein } from '../../dsl';
import { SOFTMAX_CROSS_ENTROPY_SOURCE, softmaxCrossEntropy } from '../../models/losses';
import { adam, sgd, type Optimizer } from '../../models/optimizers';
import { seededRandom } from '../../core/random';
import { movingAverages } from '../../ops/update';
import { useSimdLoops } from '../../backends/wasm-kernels';

const NATIVE = 'einnet-native';
const HAS_NATIVE = findAddon() !== undefined;
if (HAS_NATIVE) registerNativeBackend();
// einnet-native only where the addon is built (the reason shows in the skipped test's name).
const BACKENDS = ['cpu', 'wasm', NATIVE] as const;
const skipNative = (b: string) => b === NATIVE && !HAS_NATIVE;
const reason = (b: string) => (skipNative(b) ? ' [SKIPPED: oneDNN addon not built]' : '');

async function use(backend: string): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  if (backend === NATIVE) setNativeThreads(2);
}

/** The names of the kernels `f` runs, in order (tf.profile). */
async function kernelsOf(f: () => unknown): Promise<string[]> {
  return (await tf.profile(() => void f())).kernels.map((k) => k.name);
}

afterAll(async () => {
  useSimdLoops(true);
  if (HAS_NATIVE) setNativeThreads(1);
  await tf.setBackend('cpu');
});

function randoms(seed: number, n: number, scale = 1): Float32Array {
  const r = seededRandom(seed).next;
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** Parameter shapes: one above the 64K elements the native loops split over two threads, one tiny. */
const SHAPES = [
  [256, 300],
  [3, 5],
];
const STEPS = 4;

/** Runs `STEPS` updates of `opt` on fresh parameters with seeded gradients; returns the parameters after each step. */
function runOptimizer(opt: Optimizer): Float32Array[][] {
  const params = new Map(SHAPES.map((s, i) => [`p${i}`, tf.tidy(() => tf.variable(tf.tensor(randoms(10 + i, s[0] * s[1]), s)))]));
  const history: Float32Array[][] = [];
  for (let step = 0; step < STEPS; step++) {
    const grads: Record<string, tf.Tensor> = {};
    SHAPES.forEach((s, i) => (grads[`p${i}`] = tf.tensor(randoms(100 * step + i, s[0] * s[1], 0.5), s)));
    opt.apply(params, grads);
    tf.dispose(Object.values(grads));
    history.push([...params.values()].map((p) => p.dataSync() as Float32Array));
  }
  for (const p of params.values()) p.dispose();
  opt.dispose();
  return history;
}

type Hyper = Record<string, number | boolean>;

/** The same updates in double precision, written out. */
function literal(kind: 'sgd' | 'adam', h: Hyper): number[][][] {
  const lr = h.learningRate as number;
  const wd = (h.weightDecay as number | undefined) ?? 0;
  const w = SHAPES.map((s, i) => Array.from(randoms(10 + i, s[0] * s[1])));
  const slot1 = w.map((x) => x.map(() => 0));
  const slot2 = w.map((x) => x.map(() => 0));
  const history: number[][][] = [];
  for (let step = 0; step < STEPS; step++) {
    SHAPES.forEach((s, i) => {
      const g = randoms(100 * step + i, s[0] * s[1], 0.5);
      for (let j = 0; j < g.length; j++) {
        const w0 = w[i][j];
        if (kind === 'sgd') {
          const mu = (h.momentum as number | undefined) ?? 0;
          const grad = g[j] + wd * w0;
          slot1[i][j] = mu * slot1[i][j] + grad;
          const stepDir = mu === 0 ? grad : h.nesterov ? grad + mu * slot1[i][j] : slot1[i][j];
          w[i][j] = w0 - lr * stepDir;
        } else {
          const [b1, b2, eps] = [0.9, 0.999, 1e-8];
          const grad = h.decoupled ? g[j] : g[j] + wd * w0;
          slot1[i][j] = b1 * slot1[i][j] + (1 - b1) * grad;
          slot2[i][j] = b2 * slot2[i][j] + (1 - b2) * grad * grad;
          const mHat = slot1[i][j] / (1 - b1 ** (step + 1));
          const vHat = slot2[i][j] / (1 - b2 ** (step + 1));
          w[i][j] = w0 - (lr * mHat) / (Math.sqrt(vHat) + eps) - (h.decoupled ? lr * wd * w0 : 0);
        }
      }
    });
    history.push(w.map((x) => [...x]));
  }
  return history;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return a.length === b.length ? m : Infinity;
}

const OPTIMIZERS: [string, 'sgd' | 'adam', Hyper][] = [
  ['sgd', 'sgd', { learningRate: 0.1 }],
  ['sgd momentum + weight decay', 'sgd', { learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4 }],
  ['sgd nesterov', 'sgd', { learningRate: 0.05, momentum: 0.9, nesterov: true }],
  ['adam', 'adam', { learningRate: 0.01 }],
  ['adam L2 weight decay', 'adam', { learningRate: 0.01, weightDecay: 0.1 }],
  ['adamw', 'adam', { learningRate: 0.01, weightDecay: 0.1, decoupled: true }],
];
const make = (kind: 'sgd' | 'adam', h: Hyper) => (kind === 'sgd' ? sgd(h as never) : adam(h as never));

describe('optimizer.apply, every parameter in one update', () => {
  for (const backend of BACKENDS) {
    for (const [label, kind, h] of OPTIMIZERS) {
      it.skipIf(skipNative(backend))(`${label} on ${backend}: ${STEPS} steps follow the formulas${reason(backend)}`, async () => {
        await use(backend);
        const before = tf.memory().numTensors;
        resetNativeKernelStats();
        let got: Float32Array[][] = [];
        const kernels = await kernelsOf(() => (got = runOptimizer(make(kind, h))));
        expect(tf.memory().numTensors).toBe(before);
        const want = literal(kind, h);
        for (let s = 0; s < STEPS; s++) for (let i = 0; i < SHAPES.length; i++) expect(maxRelDiff(got[s][i], want[s][i])).toBeLessThan(2e-6);
        if (backend === NATIVE) {
          // One kernel call per step for both parameters.
          const kernel = kind === 'sgd' ? 'EinnetSgdUpdate' : 'EinnetAdamUpdate';
          expect(nativeKernelStats().native[kernel]).toBe(STEPS);
        }
        // On wasm, one call of einnet's kernel per step, and no tfjs arithmetic kernel (ZerosLike
        // makes the slots on the first step).
        if (backend === 'wasm')
          expect(kernels.filter((k) => k !== 'Identity' && k !== 'ZerosLike')).toEqual(
            Array(STEPS).fill(kind === 'sgd' ? 'EinnetSgdUpdate' : 'EinnetAdamUpdate'),
          );
      });
    }
  }
  for (const [label, kind, h] of OPTIMIZERS) {
    for (const simd of [true, false]) {
      it(`${label}: wasm's kernel with its ${simd ? 'SIMD' : 'JavaScript'} loops gives tfjs' ops on cpu bit for bit`, async () => {
        await use('cpu');
        const ops = runOptimizer(make(kind, h));
        await use('wasm');
        useSimdLoops(simd);
        try {
          const fused = runOptimizer(make(kind, h));
          for (let s = 0; s < STEPS; s++) for (let i = 0; i < SHAPES.length; i++) expect(maxRelDiff(fused[s][i], ops[s][i])).toBe(0);
        } finally {
          useSimdLoops(true);
        }
      });
    }
  }
  for (const [label, kind, h] of OPTIMIZERS) {
    it.skipIf(!HAS_NATIVE)(`${label}: the native kernel gives tfjs' ops on cpu bit for bit${reason(NATIVE)}`, async () => {
      await use('cpu');
      const ops = runOptimizer(make(kind, h));
      await use(NATIVE);
      const fused = runOptimizer(make(kind, h));
      for (let s = 0; s < STEPS; s++) for (let i = 0; i < SHAPES.length; i++) expect(maxRelDiff(fused[s][i], ops[s][i])).toBe(0);
    });
  }
});

describe('running statistics, every moving average in one update', () => {
  for (const simd of [true, false]) {
    it(`wasm's kernel with its ${simd ? 'SIMD' : 'JavaScript'} loops gives tfjs' ops on cpu bit for bit`, async () => {
      const run = () =>
        tf.tidy(() => {
          const items = [0.9, 0.1, 0.99].map((momentum, i) => ({ v: tf.tensor(randoms(40 + i, 1001)), batch: tf.tensor(randoms(50 + i, 1001)), momentum }));
          return movingAverages(items).map((t) => t.dataSync() as Float32Array);
        });
      await use('cpu');
      const ops = run();
      await use('wasm');
      useSimdLoops(simd);
      try {
        let fused: Float32Array[] = [];
        expect(await kernelsOf(() => (fused = run()))).toContain('EinnetMovingAverage');
        fused.forEach((f, i) => expect(maxRelDiff(f, ops[i])).toBe(0));
      } finally {
        useSimdLoops(true);
      }
    });
  }
  it.skipIf(!HAS_NATIVE)(`the native kernel gives tfjs' ops on cpu bit for bit${reason(NATIVE)}`, async () => {
    const run = () =>
      tf.tidy(() => {
        const items = [0.9, 0.1, 0.99].map((momentum, i) => ({
          v: tf.tensor(randoms(40 + i, 70000)),
          batch: tf.tensor(randoms(50 + i, 70000)),
          momentum,
        }));
        return movingAverages(items).map((t) => t.dataSync() as Float32Array);
      });
    await use('cpu');
    const ops = run();
    await use(NATIVE);
    resetNativeKernelStats();
    const fused = run();
    expect(nativeKernelStats().native.EinnetMovingAverage).toBe(1);
    fused.forEach((f, i) => expect(maxRelDiff(f, ops[i])).toBe(0));
  });
});

describe('softmaxCrossEntropy, loss and gradient from one forward pass', () => {
  const reference = ein(SOFTMAX_CROSS_ENTROPY_SOURCE);
  const unfused = (Z: tf.Tensor, Y: tf.Tensor) => tf.tidy(() => reference.run({ Z, Y }).loss as tf.Scalar);

  /** Scores and one-hot (or soft) targets [b, k]; `special` puts NaN, +∞ and −∞ in rows 0–2. */
  function operands(b: number, k: number, seed: number, soft: boolean, special: boolean): [Float32Array, Float32Array] {
    const z = randoms(seed, b * k, 8);
    const r = seededRandom(seed + 1).next;
    const y = new Float32Array(b * k);
    for (let row = 0; row < b; row++) {
      if (soft) for (let c = 0; c < k; c++) y[row * k + c] = r();
      else y[row * k + Math.floor(r() * k)] = 1;
    }
    if (special) [z[1], z[k + 2], z[2 * k]] = [NaN, Infinity, -Infinity];
    return [z, y];
  }

  function compare(a: tf.Tensor, b: tf.Tensor, tol: number): void {
    const [x, y] = [a.dataSync(), b.dataSync()];
    expect(x.length).toBe(y.length);
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(y[i])) expect(x[i], `element ${i}`).toBeNaN();
      else if (!Number.isFinite(y[i])) expect(x[i], `element ${i}`).toBe(y[i]);
      else expect(Math.abs(x[i] - y[i]), `element ${i}: ${x[i]} vs ${y[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(y[i])));
    }
  }

  const cases: [string, number, number, boolean, boolean][] = [
    ['LeNet-sized batch 64 x 10 classes, one-hot', 64, 10, false, false],
    ['batch 5 x 3, soft targets', 5, 3, true, false],
    ['batch 4 x 7 with NaN, +∞ and −∞ scores', 4, 7, false, true],
    ['one row of one class', 1, 1, false, false],
  ];
  for (const backend of BACKENDS) {
    for (const [label, b, k, soft, special] of cases) {
      it.skipIf(skipNative(backend))(`${label} on ${backend}: loss, d/dZ and d/dY as the notation's${reason(backend)}`, async () => {
        await use(backend);
        const [zv, yv] = operands(b, k, b * 13 + k, soft, special);
        const Z = tf.tensor2d(zv, [b, k]);
        const Y = tf.tensor2d(yv, [b, k]);
        // The notation's program keeps a constant per backend from its first run: warm it up.
        tf.dispose(tf.grads(unfused)([Z, Y]));
        const before = tf.memory().numTensors;
        resetNativeKernelStats();
        const dy = tf.scalar(0.75);
        const fused = tf.grads((z: tf.Tensor, y: tf.Tensor) => softmaxCrossEntropy(z, y).mul(dy))([Z, Y]);
        const fusedLoss = softmaxCrossEntropy(Z, Y);
        if (backend === NATIVE) expect(nativeKernelStats().native.EinnetSoftmaxCrossEntropy).toBe(2);
        if (backend === 'wasm')
          expect((await kernelsOf(() => softmaxCrossEntropy(Z, Y).dispose())).filter((k) => k === 'EinnetSoftmaxCrossEntropy')).toHaveLength(1);
        const ref = tf.grads((z: tf.Tensor, y: tf.Tensor) => unfused(z, y).mul(dy))([Z, Y]);
        const refLoss = unfused(Z, Y);
        compare(fusedLoss, refLoss, 1e-5);
        compare(fused[0], ref[0], 1e-5);
        compare(fused[1], ref[1], 1e-5);
        tf.dispose([...fused, ...ref, fusedLoss, refLoss, dy]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([Z, Y]);
      });
    }
  }
});
