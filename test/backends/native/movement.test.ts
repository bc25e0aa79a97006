/**
 * The native backend's own loops (src/loops.cc) against tfjs' CPU backend, on random shapes of
 * rank 1–6: data movement (Slice, SplitV, PadV2, Transpose, Reverse, Tile/broadcastTo, Concat,
 * Select) must agree bit for bit, in float32, int32 and bool; comparisons, Step, Neg, IsFinite,
 * LogicalNot exactly; reductions (Sum, Mean, Prod, Max, Min, ArgMax, ArgMin) and FusedBatchNorm to
 * float rounding.
 * Edge cases: non-contiguous slices, zero and negative padding, size-1 axes, scalars, NaN, signed
 * zeros; gradients through the movement kernels; and every case checks that the native path ran.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nativeKernelStats, resetNativeKernelStats } from '../../../backends/native/stats';
import { ADDON_BUILT, NATIVE, SKIP_REASON, activateNative, int, rng } from './compare';

type DType = 'float32' | 'int32' | 'bool';

interface Data {
  readonly shape: number[];
  readonly dtype: DType;
  readonly values: number[];
}

function randomShape(r: () => number, rank: number, maxDim = 5): number[] {
  return Array.from({ length: rank }, () => int(r, 1, maxDim));
}

function randomData(r: () => number, shape: number[], dtype: DType = 'float32'): Data {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => (dtype === 'float32' ? Math.fround(r() * 4 - 2) : dtype === 'int32' ? int(r, -1000, 1000) : int(r, 0, 1)));
  return { shape, dtype, values };
}

interface Result {
  readonly shape: number[];
  readonly dtype: string;
  readonly values: number[];
}

/** Runs `f` on `backend` over fresh tensors; returns every output's shape, dtype and values. */
async function run(backend: string, inputs: readonly Data[], f: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = f(inputs.map((d) => tf.tensor(d.values, d.shape, d.dtype)));
    return Array.isArray(r) ? r : [r];
  });
  const result = outs.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync() as ArrayLike<number>) }));
  tf.dispose(outs);
  return result;
}

/** Native and cpu agree exactly (Object.is per element: NaN equals NaN, -0 differs from +0). */
async function expectSame(label: string, inputs: readonly Data[], f: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<void> {
  const native = await run(NATIVE, inputs, f);
  const cpu = await run('cpu', inputs, f);
  expect(native.length, label).toBe(cpu.length);
  native.forEach((n, k) => {
    expect(n.shape, `${label} output ${k} shape`).toEqual(cpu[k].shape);
    expect(n.dtype, `${label} output ${k} dtype`).toBe(cpu[k].dtype);
    const bad = n.values.findIndex((v, i) => !Object.is(v, cpu[k].values[i]));
    expect(bad, `${label} output ${k}: first difference at ${bad} (native ${n.values[bad]}, cpu ${cpu[k].values[bad]})`).toBe(-1);
  });
}

/** Native and cpu agree to `tol` relative to the largest magnitude (float reductions). */
async function expectClose(label: string, inputs: readonly Data[], f: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], tol = 1e-6): Promise<void> {
  const native = await run(NATIVE, inputs, f);
  const cpu = await run('cpu', inputs, f);
  native.forEach((n, k) => {
    expect(n.shape, `${label} output ${k} shape`).toEqual(cpu[k].shape);
    const scale = Math.max(1, ...cpu[k].values.filter((w) => !Number.isNaN(w)).map(Math.abs));
    n.values.forEach((v, i) => {
      const w = cpu[k].values[i];
      if (Number.isNaN(w)) expect(v, `${label}[${i}]`).toBeNaN();
      else expect(Math.abs(v - w), `${label}[${i}]: native ${v}, cpu ${w}`).toBeLessThanOrEqual(tol * scale);
    });
  });
}

function ranNatively(kernel: string, times = 1): void {
  const s = nativeKernelStats();
  expect(s.fallback[kernel], `${kernel} fell back: ${s.reasons.join('; ')}`).toBeUndefined();
  expect(s.native[kernel] ?? 0, `${kernel} ran natively`).toBeGreaterThanOrEqual(times);
}

const DTYPES: DType[] = ['float32', 'int32', 'bool'];

describe.skipIf(!ADDON_BUILT)(`native data-movement and loop kernels vs tfjs cpu${SKIP_REASON}`, () => {
  let tensorsBefore = 0;
  beforeAll(async () => {
    await activateNative();
    tensorsBefore = tf.memory().numTensors;
  });
  afterAll(() => expect(tf.memory().numTensors).toBe(tensorsBefore));
  beforeEach(() => resetNativeKernelStats());

  it('Slice: random begins and sizes (non-contiguous), rank 1–6, every dtype', async () => {
    const r = rng(101);
    for (let k = 0; k < 36; k++) {
      const shape = randomShape(r, 1 + (k % 6));
      const begin = shape.map((d) => int(r, 0, d - 1));
      const size = shape.map((d, i) => (r() < 0.2 ? -1 : int(r, 1, d - begin[i])));
      const x = randomData(r, shape, DTYPES[k % 3]);
      await expectSame(`slice [${shape}] at [${begin}] size [${size}] ${x.dtype}`, [x], ([t]) => tf.slice(t, begin, size));
    }
    ranNatively('Slice', 36);
  });

  it('Slice of the issue (batch 4 for time): [4,32,32,64] → [4,31,31,64]', async () => {
    const x = randomData(rng(5), [4, 32, 32, 64]);
    await expectSame('big slice', [x], ([t]) => tf.slice(t, [0, 1, 0, 0], [4, 31, 31, 64]));
    ranNatively('Slice');
  });

  it('SplitV: sizes and counts along every axis', async () => {
    const r = rng(102);
    for (let k = 0; k < 18; k++) {
      const shape = randomShape(r, 1 + (k % 6));
      const axis = int(r, 0, shape.length - 1);
      const d = shape[axis];
      const first = int(r, 0, d);
      const split = k % 2 === 0 ? [first, d - first] : 1;
      const x = randomData(r, shape, DTYPES[k % 3]);
      await expectSame(`split [${shape}] axis ${axis} by ${JSON.stringify(split)}`, [x], ([t]) => tf.split(t, split, axis));
    }
    ranNatively('SplitV', 18);
  });

  it('PadV2: random non-negative paddings and constants, rank 1–6, every dtype', async () => {
    const r = rng(103);
    for (let k = 0; k < 36; k++) {
      const shape = randomShape(r, 1 + (k % 6), 4);
      const paddings = shape.map(() => [int(r, 0, 2), int(r, 0, 2)] as [number, number]);
      const dtype = DTYPES[k % 3];
      const value = dtype === 'bool' ? 1 : dtype === 'int32' ? -7 : k % 2 ? 0 : 1.5;
      const x = randomData(r, shape, dtype);
      await expectSame(`pad [${shape}] by ${JSON.stringify(paddings)} with ${value} ${dtype}`, [x], ([t]) => tf.pad(t, paddings, value));
    }
    ranNatively('PadV2', 36);
  });

  it('PadV2: all-zero padding is a copy; the pad of the issue', async () => {
    const x = randomData(rng(6), [3, 4, 5]);
    await expectSame('zero pad', [x], ([t]) =>
      tf.pad(
        t,
        [
          [0, 0],
          [0, 0],
          [0, 0],
        ],
        3,
      ),
    );
    const big = randomData(rng(7), [4, 31, 31, 64]);
    await expectSame('big pad', [big], ([t]) =>
      tf.pad(t, [
        [0, 0],
        [1, 0],
        [0, 1],
        [0, 0],
      ]),
    );
    ranNatively('PadV2', 2);
  });

  it('PadV2: negative padding crops (as tfjs cpu does at rank 1), mixed with positive at higher rank', async () => {
    // Rank 1 against tfjs cpu, whose answer there is the crop.
    const v = randomData(rng(8), [6]);
    await expectSame('rank-1 negative pad', [v], ([t]) => tf.pad(t, [[-2, 1]], 9));
    await expectSame('rank-1 crop everything', [v], ([t]) => tf.pad(t, [[-3, -3]], 9));
    // Higher rank against the definition: crop with slice, then pad the rest.
    const x = randomData(rng(9), [3, 5, 4]);
    const [native] = await run(NATIVE, [x], ([t]) =>
      tf.pad(
        t,
        [
          [-1, 2],
          [1, -2],
          [0, 0],
        ],
        7,
      ),
    );
    const [want] = await run('cpu', [x], ([t]) =>
      tf.pad(
        tf.slice(t, [1, 0, 0], [2, 3, 4]),
        [
          [0, 2],
          [1, 0],
          [0, 0],
        ],
        7,
      ),
    );
    expect(native).toEqual(want);
    ranNatively('PadV2', 2); // the crop to nothing is an empty tensor: the CPU kernel makes it
  });

  it('Transpose: random permutations, rank 1–6, every dtype; a large tiled transpose', async () => {
    const r = rng(104);
    for (let k = 0; k < 36; k++) {
      const shape = randomShape(r, 1 + (k % 6), 6);
      const perm = [...shape.keys()].sort(() => r() - 0.5);
      const x = randomData(r, shape, DTYPES[k % 3]);
      await expectSame(`transpose [${shape}] by [${perm}] ${x.dtype}`, [x], ([t]) => tf.transpose(t, perm));
    }
    const big = randomData(rng(10), [37, 300, 45]);
    await expectSame('tiled transpose', [big], ([t]) => tf.transpose(t, [2, 0, 1]));
    ranNatively('Transpose', 31); // tf.transpose clones rank-1 tensors without a kernel
  });

  it('Reverse: random axis sets, rank 1–6, every dtype', async () => {
    const r = rng(105);
    for (let k = 0; k < 30; k++) {
      const shape = randomShape(r, 1 + (k % 6));
      const axes = [...shape.keys()].filter(() => r() < 0.5);
      if (axes.length === 0) axes.push(0);
      const x = randomData(r, shape, DTYPES[k % 3]);
      await expectSame(`reverse [${shape}] on [${axes}] ${x.dtype}`, [x], ([t]) => tf.reverse(t, axes));
    }
    ranNatively('Reverse', 30);
  });

  it('Tile and broadcastTo: random repetitions and broadcasts, rank 1–6, every dtype', async () => {
    const r = rng(106);
    for (let k = 0; k < 30; k++) {
      const shape = randomShape(r, 1 + (k % 6), 3);
      const reps = shape.map(() => int(r, 1, 3));
      const x = randomData(r, shape, DTYPES[k % 3]);
      await expectSame(`tile [${shape}] by [${reps}] ${x.dtype}`, [x], ([t]) => tf.tile(t, reps));
      const target = shape.map((d) => (r() < 0.5 ? d : d));
      const ones = shape.map((d) => (r() < 0.5 ? 1 : d));
      const y = randomData(r, ones, DTYPES[k % 3]);
      await expectSame(`broadcastTo [${ones}] → [${[2, ...target.map((d, i) => (ones[i] === 1 ? d + 1 : d))]}]`, [y], ([t]) =>
        tf.broadcastTo(t, [2, ...target.map((d, i) => (ones[i] === 1 ? d + 1 : d))]),
      );
    }
    ranNatively('Tile', 60);
  });

  it('Concat: 1–4 pieces along every axis (empty pieces included), every dtype', async () => {
    const r = rng(107);
    for (let k = 0; k < 30; k++) {
      const shape = randomShape(r, 1 + (k % 6));
      const axis = int(r, 0, shape.length - 1);
      const dtype = DTYPES[k % 3];
      const pieces = Array.from({ length: int(r, 2, 4) }, (_, p) => {
        const s = [...shape];
        s[axis] = p === 1 && k % 5 === 0 ? 0 : int(r, 1, 4);
        return randomData(r, s, dtype);
      });
      await expectSame(`concat ${pieces.length} of [${shape}] axis ${axis} ${dtype}`, pieces, (ts) => tf.concat(ts, axis));
    }
    ranNatively('Concat', 30);
  });

  it('Select (tf.where): same shapes and broadcast condition, float32/int32/bool branches', async () => {
    const r = rng(108);
    for (let k = 0; k < 24; k++) {
      const shape = randomShape(r, 1 + (k % 6));
      const dtype = DTYPES[k % 3];
      const c = randomData(r, shape, 'bool');
      const a = randomData(r, shape, dtype);
      const b = randomData(r, k % 2 ? shape : shape.map((d, i) => (i === 0 ? d : 1)), dtype);
      await expectSame(`where [${shape}] ${dtype}`, [c, a, b], ([ct, at, bt]) => tf.where(ct, at, bt));
    }
    ranNatively('Select', 24);
  });

  it('comparisons, Maximum/Minimum (NaN, ±0), Pow, Step, Neg, IsFinite, LogicalNot agree exactly', async () => {
    const r = rng(109);
    for (let k = 0; k < 12; k++) {
      const shape = randomShape(r, 1 + (k % 6));
      const bShape = shape.map((d) => (r() < 0.4 ? 1 : d)).slice(int(r, 0, shape.length - 1));
      const a = randomData(r, shape);
      const b = randomData(r, bShape);
      // Special values, and exact ties so equal/lessEqual see both branches.
      const specials = [NaN, 0, -0, Infinity, -Infinity, b.values[0]];
      const av = a.values.map((v, i) => (i % 7 === 0 ? specials[(i / 7) % specials.length] : v));
      const ad = { ...a, values: av };
      await expectSame(`binary [${shape}] vs [${bShape}]`, [ad, b], ([x, y]) => [
        tf.equal(x, y),
        tf.notEqual(x, y),
        tf.less(x, y),
        tf.lessEqual(x, y),
        tf.greater(x, y),
        tf.greaterEqual(x, y),
        tf.maximum(x, y),
        tf.minimum(x, y),
        tf.maximum(x, tf.scalar(-0)),
        tf.minimum(tf.scalar(0), x),
        tf.pow(tf.abs(x), y),
        tf.squaredDifference(x, y),
      ]);
      await expectSame(`unary [${shape}]`, [ad], ([x]) => [tf.step(x), tf.step(x, 0.25), tf.neg(x), tf.isFinite(x), tf.logicalNot(tf.isFinite(x))]);
    }
    for (const k of [
      'Equal',
      'NotEqual',
      'Less',
      'LessEqual',
      'Greater',
      'GreaterEqual',
      'Maximum',
      'Minimum',
      'Pow',
      'SquaredDifference',
      'Step',
      'Neg',
      'IsFinite',
      'LogicalNot',
    ])
      ranNatively(k);
  });

  it('Sum, Mean, Prod, Max, Min over random axis sets (keepDims or not), rank 1–6', async () => {
    const r = rng(110);
    for (let k = 0; k < 30; k++) {
      const shape = randomShape(r, 1 + (k % 6));
      let axes = [...shape.keys()].filter(() => r() < 0.5);
      if (axes.length === 0) axes = [int(r, 0, shape.length - 1)];
      const keep = k % 2 === 0;
      const x = randomData(r, shape);
      if (k % 4 === 1) x.values[int(r, 0, x.values.length - 1)] = NaN;
      // Prod of up to 15k factors in [-2, 2] overflows: use factors near 1.
      const p = { ...x, values: x.values.map((v) => 1 + v / 64) };
      await expectClose(
        `reduce [${shape}] over [${axes}] keep ${keep}`,
        [x, p],
        ([t, q]) => [tf.sum(t, axes, keep), tf.mean(t, axes, keep), tf.max(t, axes, keep), tf.min(t, axes, keep), tf.prod(q, axes, keep)],
        2e-6,
      );
    }
    for (const kname of ['Sum', 'Mean', 'Max', 'Min', 'Prod']) ranNatively(kname, 30);
  });

  it('reductions: hand-computed values, NaN propagation, all-reduce of a large tensor', async () => {
    const x: Data = { shape: [2, 3], dtype: 'float32', values: [1, -5, 2, 4, NaN, -1] };
    const [s, mx, mn] = await run(NATIVE, [x], ([t]) => [tf.sum(t, 1), tf.max(t, 1), tf.min(t, 0)]);
    expect(s.values[0]).toBe(-2);
    expect(s.values[1]).toBeNaN();
    expect(mx.values[0]).toBe(2);
    expect(mx.values[1]).toBeNaN();
    expect(mn.values[0]).toBe(1);
    expect(mn.values[1]).toBeNaN();
    expect(mn.values[2]).toBe(-1);
    const big = randomData(rng(11), [64, 33, 17, 3]);
    await expectClose('all-reduce', [big], ([t]) => [tf.sum(t), tf.max(t), tf.min(t), tf.mean(t)], 1e-6);
  });

  it('ArgMax and ArgMin along every axis, with ties and NaN (first index wins, as on cpu)', async () => {
    const r = rng(111);
    for (let k = 0; k < 24; k++) {
      const shape = randomShape(r, 1 + (k % 6));
      const axis = int(r, 0, shape.length - 1);
      const x = randomData(r, shape);
      const v = x.values.map((e, i) => (i % 5 === 0 ? 1 : i % 11 === 3 ? NaN : Math.round(e * 2) / 2));
      await expectSame(`arg [${shape}] axis ${axis}`, [{ ...x, values: v }], ([t]) => [tf.argMax(t, axis), tf.argMin(t, axis)]);
    }
    ranNatively('ArgMax', 24);
    ranNatively('ArgMin', 24);
  });

  it('FusedBatchNorm (tf.batchNorm): per-channel, broadcast and unequal parameter lengths, with and without offset/scale', async () => {
    const r = rng(113);
    for (let k = 0; k < 12; k++) {
      const shape = randomShape(r, 1 + (k % 4), 6);
      const c = shape[shape.length - 1];
      const len = k % 3 === 0 ? 1 : c;
      const param = (positive: boolean) => {
        const d = randomData(r, [len]);
        return positive ? { ...d, values: d.values.map((v) => Math.abs(v) + 0.1) } : d;
      };
      const inputs = [randomData(r, shape), param(false), param(true), param(false), param(false)];
      await expectClose(
        `batchNorm [${shape}] params [${len}]`,
        inputs,
        ([x, m, v, o, s]) => [tf.batchNorm(x, m, v, o, s, 1e-3), tf.batchNorm(x, m, v, undefined, s), tf.batchNorm(x, m, v, o, undefined, 0.5)],
        1e-6,
      );
    }
    // Lengths that do not divide each other: the flat wrap-around order of tfjs' CPU kernel.
    const x = randomData(rng(12), [4, 6]);
    const odd = [randomData(rng(13), [4]), { ...randomData(rng(14), [3]), values: [0.5, 1, 2] }, randomData(rng(15), [6]), randomData(rng(16), [2])];
    await expectClose('batchNorm wrap-around', [x, ...odd], ([t, m, v, o, s]) => tf.batchNorm(t, m, v, o, s), 1e-6);
    ranNatively('FusedBatchNorm', 37);
  });

  it('gradients through slice, pad, concat, transpose, reverse, tile, where, max match cpu', async () => {
    const r = rng(112);
    const x = randomData(r, [3, 4, 5, 2]);
    const y = randomData(r, [3, 4, 2, 2]);
    const c = randomData(r, [3, 4, 5, 2], 'bool');
    const f = ([a, b, m]: tf.Tensor[]) =>
      tf.grads((u: tf.Tensor, v: tf.Tensor) => {
        const s = tf.slice(u, [1, 0, 1, 0], [2, 4, 3, 2]);
        const p = tf.pad(s, [
          [0, 1],
          [0, 0],
          [1, 1],
          [0, 0],
        ]);
        const cat = tf.concat([p, v], 2);
        const t = tf.transpose(tf.reverse(cat, [1, 3]), [3, 0, 2, 1]);
        const w = tf.where(m as tf.Tensor, u, tf.tile(tf.slice(u, [0, 0, 0, 0], [3, 4, 1, 2]), [1, 1, 5, 1]));
        return tf.add(tf.sum(tf.mul(t, t)), tf.add(tf.sum(tf.max(w, [1, 2])), tf.sum(tf.square(w))));
      })([a, b]);
    await expectClose('composite gradient', [x, y, c], f, 1e-6);
    for (const k of ['Slice', 'PadV2', 'Concat', 'Transpose', 'Reverse', 'Tile', 'Select', 'Max']) ranNatively(k);
  });

  it('gradients of Sum and Mean are bit-identical to cpu and come from a broadcast of dy, not dy · ones', async () => {
    const r = rng(114);
    for (let k = 0; k < 12; k++) {
      const shape = randomShape(r, 1 + (k % 5));
      let axes = [...shape.keys()].filter(() => r() < 0.5);
      if (axes.length === 0) axes = [int(r, 0, shape.length - 1)];
      const keep = k % 2 === 1;
      const x = randomData(r, shape);
      await expectSame(`d sum [${shape}] over [${axes}] keep ${keep}`, [x], ([t]) => tf.grads((u: tf.Tensor) => tf.sum(tf.square(tf.sum(u, axes, keep))))([t]));
      // Mean's forward differs from cpu in the last bit (cpu divides every element by n before
      // summing; we sum, then divide), so its gradient is compared to rounding.
      await expectClose(
        `d mean [${shape}] over [${axes}] keep ${keep}`,
        [x],
        ([t]) => tf.grads((u: tf.Tensor) => tf.sum(tf.sin(tf.mean(u, axes, keep))))([t]),
        1e-6,
      );
    }
    const s = nativeKernelStats();
    expect(s.native.Tile ?? 0).toBeGreaterThanOrEqual(24);
  });

  it('user errors still come from tfjs (the CPU kernel runs and throws its own message)', async () => {
    await tf.setBackend(NATIVE);
    const x = tf.zeros([2, 3]);
    const y = tf.zeros([2, 2]);
    expect(() => tf.slice(x, [1, 0], [2, 3])).toThrow(/slice/i);
    expect(() => tf.concat([x, y], 0)).toThrow();
    tf.dispose([x, y]);
  });
});
