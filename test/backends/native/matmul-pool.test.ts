/**
 * Matrix multiplication and pooling kernels of the native backend against tfjs' CPU backend on
 * random shapes, forward and gradient; average-pool gradients also against the adjoint identity.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_POOL_KEEPING_NAN } from '../../../backends/kernel-names';
import { nativeKernelStats, resetNativeKernelStats } from '../../../backends/native/stats';
import { ADDON_BUILT, NATIVE, SKIP_REASON, activateNative, compareWithCpu, dot, gradients, int, pick, randomInput, rng, runOn } from './compare';

function expectRanNatively(kernels: string[], label: string): void {
  const s = nativeKernelStats();
  expect(s.fallback, `${label}: fallbacks ${s.reasons.join('; ')}`).toEqual({});
  for (const k of kernels) expect(s.native[k] ?? 0, `${label}: ${k} ran natively`).toBeGreaterThan(0);
}

/**
 * d/dx Σ maxPool3d(x) ⊙ weightsLike(y), by a direct loop over NDHWC windows: each output sends
 * its weight to the first maximal input of its window (tfjs' and oneDNN's tie rule).
 */
function maxPool3DGradReference(shape: number[], x: Float32Array, window: number[], strides: number[], pad: 'same' | 'valid'): Float64Array {
  const info = tf.backend_util.computePool3DInfo(
    shape as [number, number, number, number, number],
    window as [number, number, number],
    strides as [number, number, number],
    1,
    pad,
  );
  const [n, d, h, w, c] = shape;
  const out = [info.outDepth, info.outHeight, info.outWidth];
  const front = info.padInfo.front;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const grad = new Float64Array(x.length);
  let o = 0;
  for (let b = 0; b < n; b++)
    for (let od = 0; od < out[0]; od++)
      for (let oh = 0; oh < out[1]; oh++)
        for (let ow = 0; ow < out[2]; ow++)
          for (let ch = 0; ch < c; ch++, o++) {
            let best = -Infinity;
            let at = -1;
            for (let kd = 0; kd < window[0]; kd++)
              for (let kh = 0; kh < window[1]; kh++)
                for (let kw = 0; kw < window[2]; kw++) {
                  const id = od * strides[0] - front + kd;
                  const ih = oh * strides[1] - top + kh;
                  const iw = ow * strides[2] - left + kw;
                  if (id < 0 || id >= d || ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                  const i = (((b * d + id) * h + ih) * w + iw) * c + ch;
                  if (x[i] > best) {
                    best = x[i];
                    at = i;
                  }
                }
            grad[at] += Math.sin(o * 0.7); // weightsLike(y) at flat output index o
          }
  return grad;
}

describe.skipIf(!ADDON_BUILT)(`native matmul and pooling vs tfjs cpu${SKIP_REASON}`, () => {
  let tensorsBefore = 0;
  beforeAll(async () => {
    await activateNative();
    tensorsBefore = tf.memory().numTensors;
  });
  afterAll(() => expect(tf.memory().numTensors).toBe(tensorsBefore));

  /** Random operands for a (batched, possibly transposed, possibly one-side-broadcast) matmul. */
  function randomMatmul(seed: number) {
    const r = rng(seed);
    const m = int(r, 1, 17);
    const k = int(r, 1, 17);
    const n = int(r, 1, 17);
    const ta = r() < 0.5;
    const tb = r() < 0.5;
    const batch = pick(r, [[], [3], [2, 2]] as number[][]);
    const broadcast = pick(r, ['none', 'a', 'b'] as const);
    const batchA = broadcast === 'a' ? batch.map(() => 1) : batch;
    const batchB = broadcast === 'b' ? (r() < 0.5 ? [] : batch.map(() => 1)) : batch;
    const a = randomInput(r, [...batchA, ...(ta ? [k, m] : [m, k])]);
    const b = randomInput(r, [...batchB, ...(tb ? [n, k] : [k, n])]);
    return { a, b, ta, tb, n, r, sameBatch: broadcast === 'none', label: `seed ${seed}: a [${a.shape}]${ta ? 'ᵀ' : ''} b [${b.shape}]${tb ? 'ᵀ' : ''}` };
  }

  it('BatchMatMul forward and gradients, 40 random shapes (transposes, batches, broadcast batches)', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const c = randomMatmul(seed);
      const f = ([a, b]: tf.Tensor[]) => tf.matMul(a, b, c.ta, c.tb);
      resetNativeKernelStats();
      await compareWithCpu(c.label, [c.a, c.b], f);
      // tfjs' matMul gradient does not reduce over broadcast batches; only same-batch cases.
      if (c.sameBatch) await compareWithCpu(`${c.label} gradient`, [c.a, c.b], gradients(f));
      expectRanNatively(['BatchMatMul'], c.label);
    }
  });

  it('_FusedMatMul with bias and activations, forward and gradient', async () => {
    const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const;
    for (let seed = 101; seed <= 124; seed++) {
      const c = randomMatmul(seed);
      const activation = activations[seed % activations.length];
      const bias = randomInput(c.r, seed % 2 === 0 ? [c.n] : [1, c.n]);
      const label = `${c.label} bias [${bias.shape}] ${activation}`;
      const f = ([a, b, bb]: tf.Tensor[]) => tf.fused.matMul({ a, b, transposeA: c.ta, transposeB: c.tb, bias: bb, activation, leakyreluAlpha: 0.3 });
      resetNativeKernelStats();
      await compareWithCpu(label, [c.a, c.b, bias], f);
      expectRanNatively(['_FusedMatMul'], label);
      if (c.sameBatch && (activation === 'linear' || activation === 'relu')) await compareWithCpu(`${label} gradient`, [c.a, c.b, bias], gradients(f));
    }
  });

  it('matmul shapes oneDNN does not take (partial batch broadcast, int32) give the CPU answer', async () => {
    const r = rng(5);
    const a = randomInput(r, [2, 1, 3, 4]);
    const b = randomInput(r, [1, 3, 4, 5]); // batches [2,1] x [1,3] -> [2,3]: a partial broadcast
    resetNativeKernelStats();
    await compareWithCpu('partial broadcast', [a, b], ([x, y]) => tf.matMul(x, y));
    await compareWithCpu('int32', [a, b], ([x, y]) => tf.matMul(tf.cast(tf.mul(x, 10), 'int32'), tf.cast(tf.mul(y, 10), 'int32')).toFloat());
    expect(nativeKernelStats().fallback.BatchMatMul).toBe(2);
  });

  /** A random pooling window over an NHWC (or NDHWC) input. */
  function randomPool(seed: number, rank: 4 | 5) {
    const r = rng(seed);
    const nsp = rank - 2;
    const window = Array.from({ length: nsp }, () => int(r, 1, 3));
    const pad = pick(r, ['same', 'valid'] as const);
    // tfjs' 3D 'same' padding goes negative when a stride exceeds the window (it does not clamp
    // at 0 as the 2D code does); those shapes run on the CPU kernel, so keep strides <= window.
    const strides = window.map((w) => int(r, 1, rank === 5 && pad === 'same' ? w : 3));
    const spatial = window.map((w) => w + int(r, 0, nsp === 2 ? 7 : 3));
    const x = randomInput(r, [int(r, 1, 2), ...spatial, int(r, 1, 4)]);
    return { x, window, strides, pad, label: `seed ${seed}: x [${x.shape}] window ${window} strides ${strides} pad ${pad}` };
  }

  it('MaxPool / AvgPool forward and MaxPoolGrad, 30 random shapes', async () => {
    for (let seed = 201; seed <= 230; seed++) {
      const c = randomPool(seed, 4);
      const w = c.window as [number, number];
      const s = c.strides as [number, number];
      const max = ([x]: tf.Tensor[]) => tf.maxPool(x as tf.Tensor4D, w, s, c.pad);
      resetNativeKernelStats();
      await compareWithCpu(`${c.label} max`, [c.x], max);
      await compareWithCpu(`${c.label} avg`, [c.x], ([x]) => tf.avgPool(x as tf.Tensor4D, w, s, c.pad));
      await compareWithCpu(`${c.label} max gradient`, [c.x], gradients(max));
      expectRanNatively(['MaxPool', 'AvgPool', 'MaxPoolGrad'], c.label);
    }
  });

  it('MaxPoolGrad (own 2-D pass) equals tfjs cpu: ties, -∞, NaN, 1 to 17 channels, padding and overlapping windows', async () => {
    // Values from a handful of integers, so most windows hold ties; some -∞ and NaN cells.
    const r = rng(240);
    const cases: [number[], [number, number], [number, number], 'same' | 'valid'][] = [
      [[3, 28, 28, 6], [2, 2], [2, 2], 'valid'],
      [[2, 10, 10, 16], [2, 2], [2, 2], 'valid'],
      [[2, 9, 11, 5], [3, 3], [2, 2], 'same'],
      [[1, 7, 7, 3], [3, 2], [1, 2], 'valid'],
      [[2, 6, 6, 17], [3, 3], [1, 1], 'same'],
      // Every channel count with a pass of its own (1–7), and 8, on the first-max rule.
      [[2, 5, 6, 1], [2, 2], [2, 2], 'valid'],
      [[1, 6, 5, 2], [3, 3], [2, 1], 'same'],
      [[2, 4, 4, 4], [2, 2], [2, 2], 'valid'],
      [[1, 7, 6, 7], [2, 3], [2, 3], 'valid'],
      [[2, 5, 5, 8], [3, 3], [2, 2], 'same'],
    ];
    for (const [shape, window, strides, pad] of cases) {
      const x = randomInput(r, shape);
      for (let i = 0; i < x.data.length; i++) {
        const u = r();
        x.data[i] = u < 0.04 ? NaN : u < 0.08 ? -Infinity : Math.floor(r() * 4);
      }
      const label = `x [${shape}] window ${window} strides ${strides} pad ${pad}`;
      const grad = ([t]: tf.Tensor[]) =>
        tf.tidy(() => {
          const y = tf.maxPool(t as tf.Tensor4D, window, strides, pad);
          const dy = tf.sin(tf.range(0, y.size).reshape(y.shape));
          return tf.engine().runKernel('MaxPoolGrad', { dy, input: t, output: y }, { filterSize: window, strides, pad }) as tf.Tensor;
        });
      resetNativeKernelStats();
      const [native] = await runOn(NATIVE, [x], grad);
      expectRanNatively(['MaxPoolGrad'], label);
      const [cpu] = await runOn('cpu', [x], grad);
      if (window.every((w, i) => w === strides[i])) {
        expect(Array.from(native.data), `${label}: every bit`).toEqual(Array.from(cpu.data));
      } else {
        // Overlapping windows add several dy into one cell: in float32 here, in float64 on cpu.
        expect(
          Array.from(native.data, (v) => v !== 0),
          `${label}: the cells that get a gradient`,
        ).toEqual(Array.from(cpu.data, (v) => v !== 0));
        const worst = Math.max(...Array.from(native.data, (v, i) => Math.abs(v - cpu.data[i]) / (1 + Math.abs(cpu.data[i]))));
        expect(worst, label).toBeLessThan(1e-6);
      }
    }
  });

  it('MaxPoolKeepingNaN: NaN for a window holding one, else its maximum, ±∞ included; 1 to 17 channels', async () => {
    const r = rng(250);
    for (const c of [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17]) {
      const [n, h, w] = [2, 5 + (c % 3), 6 + (c % 2)];
      const [kh, kw] = [2 + (c % 2), 2];
      const [sh, sw] = [2, 1 + (c % 2)];
      const x = randomInput(r, [n, h, w, c]);
      for (let i = 0; i < x.data.length; i++) {
        const u = r();
        x.data[i] = u < 0.03 ? NaN : u < 0.06 ? -Infinity : u < 0.08 ? Infinity : Math.floor(r() * 4) - 2;
      }
      const [oh, ow] = [Math.floor((h - kh) / sh) + 1, Math.floor((w - kw) / sw) + 1];
      const expected: number[] = [];
      for (let b = 0; b < n; b++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++)
            for (let k = 0; k < c; k++) {
              let m = -Infinity;
              for (let di = 0; di < kh; di++)
                for (let dj = 0; dj < kw; dj++) {
                  const v = x.data[((b * h + i * sh + di) * w + j * sw + dj) * c + k];
                  m = Number.isNaN(m) || Number.isNaN(v) ? NaN : Math.max(m, v);
                }
              expected.push(m);
            }
      const attrs = { filterSize: [kh, kw], strides: [sh, sw] };
      const [got] = await runOn(NATIVE, [x], ([t]) => tf.engine().runKernel(MAX_POOL_KEEPING_NAN, { x: t }, attrs) as tf.Tensor);
      expect(got.shape, `${c} channels`).toEqual([n, oh, ow, c]);
      expect(Array.from(got.data), `x [${x.shape}] window ${kh}x${kw} strides ${sh}x${sw}`).toEqual(expected);
    }
  });

  it("AvgPoolGrad: equals tfjs cpu with 'valid' padding, and is the exact adjoint of AvgPool everywhere", async () => {
    for (let seed = 301; seed <= 320; seed++) {
      const c = randomPool(seed, 4);
      const w = c.window as [number, number];
      const s = c.strides as [number, number];
      const avg = ([x]: tf.Tensor[]) => tf.avgPool(x as tf.Tensor4D, w, s, c.pad);
      resetNativeKernelStats();
      if (c.pad === 'valid') await compareWithCpu(`${c.label} avg gradient`, [c.x], gradients(avg));
      // AvgPool is linear, so its gradient G must satisfy <G(r), x> = <r, AvgPool(x)> for any r.
      // (tfjs' CPU AvgPoolGrad fails this at 'same'-padded borders: it divides by the full window.)
      const [y] = await runOn(NATIVE, [c.x], avg);
      const r = randomInput(rng(seed + 1000), y.shape);
      const [g] = await runOn(NATIVE, [c.x, r], ([x, rr]) => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(avg([xx]), rr)))(x));
      const lhs = dot(g.data, c.x.data);
      const rhs = dot(r.data, y.data);
      expect(Math.abs(lhs - rhs), `${c.label}: <G r, x> = ${lhs}, <r, A x> = ${rhs}`).toBeLessThan(1e-4 * (1 + Math.abs(rhs)));
      expectRanNatively(['AvgPool', 'AvgPoolGrad'], c.label);
    }
  });

  it('AvgPoolGrad of windows that tile the input (own loop): LeNet-5 sizes, odd sizes, 3x3 windows', async () => {
    const cases: [number[], [number, number], 'valid' | 'same'][] = [
      [[4, 28, 28, 6], [2, 2], 'valid'],
      [[2, 7, 9, 3], [2, 2], 'valid'], // last row and column in no window
      [[2, 9, 6, 5], [3, 3], 'valid'],
      [[2, 8, 8, 4], [2, 2], 'same'], // even sizes: 'same' needs no padding
    ];
    for (const [shape, w, pad] of cases) {
      const avg = ([x]: tf.Tensor[]) => tf.avgPool(x as tf.Tensor4D, w, w, pad);
      resetNativeKernelStats();
      await compareWithCpu(`[${shape}] ${w} ${pad}`, [randomInput(rng(shape[1] * 7), shape)], gradients(avg));
      expectRanNatively(['AvgPoolGrad'], `[${shape}]`);
    }
  });

  it('MaxPool3D / AvgPool3D forward and gradients, 12 random shapes', async () => {
    for (let seed = 401; seed <= 412; seed++) {
      const c = randomPool(seed, 5);
      const w = c.window as [number, number, number];
      const s = c.strides as [number, number, number];
      const max = ([x]: tf.Tensor[]) => tf.maxPool3d(x as tf.Tensor5D, w, s, c.pad);
      const avg = ([x]: tf.Tensor[]) => tf.avgPool3d(x as tf.Tensor5D, w, s, c.pad);
      resetNativeKernelStats();
      await compareWithCpu(`${c.label} max`, [c.x], max);
      await compareWithCpu(`${c.label} avg`, [c.x], avg);
      // tfjs' CPU MaxPool3DGrad misroutes gradients when windows overlap padding (seed 401 sums
      // to 8 where 12 outputs each pass 1), so the reference here is a direct loop.
      const [g] = await runOn(NATIVE, [c.x], gradients(max));
      const expected = maxPool3DGradReference(c.x.shape, c.x.data, w, s, c.pad);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(g.data[i] - expected[i]));
      expect(worst, `${c.label} max gradient vs direct loop`).toBeLessThan(1e-4);
      // Average pooling is linear: its gradient must be the adjoint (see the 2D test).
      const [y] = await runOn(NATIVE, [c.x], avg);
      const r = randomInput(rng(seed + 1000), y.shape);
      const [ga] = await runOn(NATIVE, [c.x, r], ([x, rr]) => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(avg([xx]), rr)))(x));
      expect(Math.abs(dot(ga.data, c.x.data) - dot(r.data, y.data)), `${c.label} avg adjoint`).toBeLessThan(1e-4 * (1 + Math.abs(dot(r.data, y.data))));
      expectRanNatively(['MaxPool3D', 'AvgPool3D', 'MaxPool3DGrad', 'AvgPool3DGrad'], c.label);
    }
  });

  it('a hand-computed 2x2 max pool and its gradient', async () => {
    // x (1x4x4x1) = 0..15 row-major; 2x2 windows, stride 2: maxima 5, 7, 13, 15 at those cells.
    const x = { shape: [1, 4, 4, 1], data: Float32Array.from({ length: 16 }, (_, i) => i) };
    const [y] = await runOn(NATIVE, [x], ([t]) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'));
    expect(Array.from(y.data)).toEqual([5, 7, 13, 15]);
    const [g] = await runOn(NATIVE, [x], ([t]) => tf.grad((u: tf.Tensor) => tf.sum(tf.maxPool(u as tf.Tensor4D, 2, 2, 'valid')))(t));
    expect(Array.from(g.data)).toEqual([0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1]);
  });
});
