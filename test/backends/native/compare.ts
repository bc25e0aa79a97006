/**
 * Shared helpers for the native-backend tests: run the same computation on `einnet-native` and
 * on tfjs' own `cpu` backend (the reference) and compare, and a seeded generator of random shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { seededRandom } from '../../../core/random';
import { findAddon } from '../../../backends/native/addon';

/** Whether the addon exists; the native tests skip (with `SKIP_REASON` in their name) otherwise. */
export const ADDON_BUILT = findAddon() !== undefined;
export const SKIP_REASON = ADDON_BUILT ? '' : ' [SKIPPED: oneDNN addon not built — apt-get install libdnnl-dev, then npm run build:native]';

export const NATIVE = 'einnet-native';

/** Registers and activates the native backend (after the addon is known to exist). */
export async function activateNative(): Promise<void> {
  const { registerNativeBackend, setNativeThreads } = await import('../../../backends/native');
  registerNativeBackend();
  // Test shapes are tiny, and vitest runs two files at once on two cores: one OpenMP thread
  // each keeps oneDNN's spinning workers from stealing the other file's core.
  setNativeThreads(1);
  await tf.setBackend(NATIVE);
}

/** A seeded generator (the library's mulberry32), so every random shape is reproducible from the seed. */
export function rng(seed: number): () => number {
  return seededRandom(seed).next;
}

/** An integer in [lo, hi]. */
export function int(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

/** A tensor's worth of data: shape and values in [-1, 1). */
export interface Input {
  readonly shape: number[];
  readonly data: Float32Array;
}

export function randomInput(r: () => number, shape: number[]): Input {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = r() * 2 - 1;
  return { shape, data };
}

export interface Output {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** Runs `f` on `backend` with fresh tensors made from `inputs`; disposes everything it made. */
export async function runOn(backend: string, inputs: readonly Input[], f: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<Output[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
    const r = f(xs);
    return Array.isArray(r) ? r : [r];
  });
  const result = outs.map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync() as Float32Array) }));
  tf.dispose(outs);
  return result;
}

/**
 * Expects `actual` to match `expected` in shape and, element by element, within
 * `tol * max(1, max |expected|)` — float32 sums of a few hundred terms agree to ~1e-6 relative.
 */
export function expectClose(actual: Output[], expected: Output[], label: string, tol = 1e-4): void {
  expect(actual.length, label).toBe(expected.length);
  for (let k = 0; k < actual.length; k++) {
    expect(actual[k].shape, `${label} output ${k} shape`).toEqual(expected[k].shape);
    const e = expected[k].data;
    const a = actual[k].data;
    let scale = 1;
    for (const v of e) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    let at = -1;
    for (let i = 0; i < e.length; i++) {
      const d = Math.abs(a[i] - e[i]);
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    expect(worst, `${label} output ${k}: |native - cpu| = ${worst} at ${at} (native ${a[at]}, cpu ${e[at]})`).toBeLessThanOrEqual(tol * scale);
  }
}

/** Runs `f` on both backends and compares; returns the native outputs. */
export async function compareWithCpu(label: string, inputs: readonly Input[], f: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], tol = 1e-4): Promise<Output[]> {
  const native = await runOn(NATIVE, inputs, f);
  const cpu = await runOn('cpu', inputs, f);
  expectClose(native, cpu, label, tol);
  return native;
}

/** Σ a·b in float64. */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A fixed, varied weighting with `t`'s shape, so that gradients see a non-uniform dy. */
export function weightsLike(t: tf.Tensor): tf.Tensor {
  return tf.sin(tf.mul(tf.range(0, t.size, 1, 'float32'), 0.7)).reshape(t.shape);
}

/** d/d(inputs) of Σ f(inputs) ⊙ weightsLike(f(inputs)): the gradients tfjs' kernels compute. */
export function gradients(f: (xs: tf.Tensor[]) => tf.Tensor): (xs: tf.Tensor[]) => tf.Tensor[] {
  return (xs) =>
    tf.grads((...args: tf.Tensor[]) => {
      const y = f(args);
      return tf.sum(tf.mul(y, weightsLike(y)));
    })(xs);
}
