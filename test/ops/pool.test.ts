/**
 * Max pooling's gradient where windows tie: one winner per window, the first maximum in row-major
 * window order (the reference evaluator's `v > acc` scan, tfjs' cpu kernel, PyTorch). Finite
 * differences cannot see ties, so the truth here is that rule written out as loops, on integer
 * data with many ties, negative maxima, -∞ padding and overlapping windows; forward values are
 * checked against the reference evaluator. Every backend, including wasm, whose own MaxPoolGrad
 * sends a tie to the last maximum (ops/pool.ts computes the gradient from masks there).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ein } from '../../dsl/program';
import { BACKENDS, forwardMismatches, seededRandom, sizeOf, useBackend, type Leaves } from '../dsl/lower/harness';

interface PoolCase {
  readonly shape: readonly [number, number, number, number];
  readonly window: readonly [number, number];
  readonly strides: readonly [number, number];
  /** Zero-based padding before each spatial axis (the same after). */
  readonly pad: number;
}

const CASES: readonly PoolCase[] = [
  { shape: [2, 7, 9, 3], window: [3, 3], strides: [2, 2], pad: 0 },
  { shape: [2, 8, 8, 2], window: [2, 2], strides: [2, 2], pad: 0 },
  { shape: [1, 6, 7, 2], window: [3, 2], strides: [1, 3], pad: 0 },
  { shape: [1, 9, 9, 1], window: [2, 3], strides: [3, 2], pad: 0 },
  { shape: [1, 5, 5, 2], window: [5, 5], strides: [1, 1], pad: 0 },
  { shape: [2, 6, 6, 2], window: [3, 3], strides: [2, 2], pad: 1 },
  { shape: [1, 7, 5, 1], window: [3, 3], strides: [1, 1], pad: 1 },
];

function source(c: PoolCase): string {
  const out = (k: number) => Math.floor((c.shape[1 + k] + 2 * c.pad - c.window[k]) / c.strides[k]) + 1;
  const read = (k: number, i: string, d: string) => `${c.strides[k]}*${i}+${d}${c.pad > 0 ? `-${c.pad}` : ''}`;
  return `Y[b,x:${out(0)},y:${out(1)},c] = max[Δx:${c.window[0]},Δy:${c.window[1]}] X[b,${read(0, 'x', 'Δx')},${read(1, 'y', 'Δy')},c]`;
}

/** dX of Σ dY·Y by the first-maximum rule, in float64 loops over the NHWC arrays. */
function firstMaxGradient(c: PoolCase, x: Float64Array, dy: Float64Array, outH: number, outW: number): Float64Array {
  const [n, h, w, ch] = c.shape;
  const dx = new Float64Array(x.length);
  for (let b = 0; b < n; b++)
    for (let u = 0; u < outH; u++)
      for (let v = 0; v < outW; v++)
        for (let k = 0; k < ch; k++) {
          let best = -Infinity;
          let at = -1;
          for (let i = 0; i < c.window[0]; i++)
            for (let j = 0; j < c.window[1]; j++) {
              const r = u * c.strides[0] + i - c.pad;
              const s = v * c.strides[1] + j - c.pad;
              if (r < 0 || r >= h || s < 0 || s >= w) continue;
              const at2 = ((b * h + r) * w + s) * ch + k;
              if (x[at2] > best) [best, at] = [x[at2], at2];
            }
          if (at >= 0) dx[at] += dy[((b * outH + u) * outW + v) * ch + k];
        }
  return dx;
}

for (const backend of BACKENDS) {
  describe(`max pool with tied maxima, on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    for (const c of CASES) {
      it(`${c.shape.join('×')} window ${c.window.join('×')} stride ${c.strides.join('×')} padding ${c.pad}`, () => {
        const p = ein(source(c));
        const rand = seededRandom(sizeOf(c.shape));
        // Integers in −3 … 1: most windows tie, many maxima are negative.
        const x = Float64Array.from({ length: sizeOf(c.shape) }, () => Math.floor(rand() * 5) - 3);
        const leaves: Leaves = { names: ['X'], shapes: { X: c.shape }, values: { X: x }, outputs: ['Y'] };
        expect(forwardMismatches(p, leaves)).toEqual([]);
        const X = tf.tensor(Array.from(x), [...c.shape]);
        const y = p.run({ X }).Y; // the first run also makes the plan's constants, kept with it
        const yShape = y.shape;
        y.dispose();
        const before = tf.memory().numTensors;
        const [outH, outW] = [yShape[1]!, yShape[2]!];
        const dyValues = Float64Array.from({ length: sizeOf(yShape) }, () => Math.floor(rand() * 7) + 1);
        const dY = tf.tensor(Array.from(dyValues), yShape);
        const dX = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(p.run({ X: t }).Y, dY)))(X);
        const got = Array.from(dX.dataSync());
        tf.dispose([dY, dX]);
        expect(tf.memory().numTensors).toBe(before);
        X.dispose();
        expect(got).toEqual(Array.from(firstMaxGradient(c, x, dyValues, outH, outW)));
      });
    }
    it('a window holding NaN gives NaN forward, and the windows without one keep their gradient', () => {
      const p = ein('Y[b,x:2,y:2,c] = max[Δx:2,Δy:2] X[b,2*x+Δx,2*y+Δy,c]');
      const values = [1, 2, 3, 4, NaN, 0, -1, -2, 5, 5, 7, 7, -3, -3, -3, -4];
      const X = tf.tensor(values, [1, 4, 4, 1]);
      const y = p.run({ X }).Y;
      expect(Array.from(y.dataSync())).toEqual([NaN, 4, 5, 7]);
      const dX = tf.grad((t: tf.Tensor) => tf.sum(p.run({ X: t }).Y))(X);
      const g = Array.from(dX.dataSync());
      // Rows 0–1, columns 2–3: max 4 at (0,3); rows 2–3, columns 0–1: tie 5 at (2,0) first;
      // rows 2–3, columns 2–3: tie 7 at (2,2) first.
      expect([g[3], g[8], g[9], g[10], g[11]]).toEqual([1, 1, 0, 1, 0]);
      tf.dispose([X, y, dX]);
    });
  });
}
