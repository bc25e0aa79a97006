/**
 * Data-movement kernels on the addon's strided copy (src/loops.cc): Slice, SplitV, PadV2,
 * Transpose, Reverse, Tile (which tf.broadcastTo runs), Concat, and Select. tfjs' CPU kernels
 * for these walk every element through TensorBuffer index arithmetic in JS (a slice of a
 * [32,32,32,64] tensor took 2 s); each of them is one strided walk of the source, described by
 * extents and strides:
 *
 *   slice      source strides of x, offset at `begin`
 *   transpose  source strides permuted
 *   reverse    negative source strides on the reversed axes, offset at their far end
 *   tile       index space [r0, d0, r1, d1, …] with source strides [0, s0, 0, s1, …]
 *   pad        the output filled with the constant, then the (cropped) input copied inside
 *   concat     each input copied into its slab of the output
 *
 * Works on float32, int32 and bool tensors (4- and 1-byte elements); anything else, and empty
 * tensors, run on the CPU kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './addon';
import { USE_CPU_KERNEL, elementBytes, nativeKernel, outputOf, rowMajorStrides, sizeOf, valuesOf, type KernelArgs, type Plan } from './kernel';

/** The addon's copy takes int32 offsets and strides; larger tensors stay on the CPU kernels. */
const MAX_ELEMENTS = 2 ** 31 - 1;

type Values = Float32Array | Int32Array | Uint8Array;

/** One strided copy: dst[dstOffset + Σ i·dstStrides] = src[srcOffset + Σ i·srcStrides], i over `extents`. */
export function copyParams(
  elemBytes: number,
  extents: readonly number[],
  srcOffset: number,
  srcStrides: readonly number[],
  dstOffset: number,
  dstStrides: readonly number[],
): Int32Array {
  return Int32Array.from([elemBytes, extents.length, ...extents, srcOffset, ...srcStrides, dstOffset, ...dstStrides]);
}

/** Checks shared by every movement kernel: a dtype the loops move, a non-empty tensor of int32-addressable size. */
function movable(backend: KernelArgs['backend'], ...tensors: tf.TensorInfo[]): { values: Values[]; bytes: number } | string | typeof USE_CPU_KERNEL {
  const values: Values[] = [];
  let bytes = 0;
  for (const t of tensors) {
    const v = valuesOf(backend, t);
    const b = elementBytes(t.dtype);
    if (v === undefined || b === undefined) return `dtype ${t.dtype} (native loops move float32, int32 and bool)`;
    if (bytes !== 0 && b !== bytes) return 'inputs of different dtypes';
    bytes = b;
    if (sizeOf(t.shape) > MAX_ELEMENTS) return 'more than 2^31 elements';
    values.push(v);
  }
  return { values, bytes };
}

function slice({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const m = movable(backend, x);
  if (typeof m !== 'object') return m;
  const a = attrs ?? {};
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, a.begin as number[], a.size as number[]);
  tf.slice_util.assertParamsValid(x as tf.Tensor, begin, size);
  if (sizeOf(size) === 0 || x.shape.length === 0) return USE_CPU_KERNEL;
  const strides = rowMajorStrides(x.shape);
  const offset = begin.reduce((s, b, i) => s + b * strides[i], 0);
  const params = copyParams(m.bytes, size, offset, strides, 0, rowMajorStrides(size));
  return () => outputOf(backend, size, x.dtype, (out) => addon.stridedCopy(params, m.values[0], out));
}

function splitV({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const m = movable(backend, x);
  if (typeof m !== 'object') return m;
  const a = attrs ?? {};
  const axis = tf.util.parseAxisParam(a.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, a.numOrSizeSplits as number[] | number, axis);
  if (sizeOf(x.shape) === 0) return USE_CPU_KERNEL;
  const strides = rowMajorStrides(x.shape);
  return () => {
    // All copies first, tensor infos last: a failure leaves nothing registered with the backend.
    const pieces: { shape: number[]; values: Values }[] = [];
    let begin = 0;
    for (const s of sizes) {
      const shape = [...x.shape];
      shape[axis] = s;
      const n = sizeOf(shape);
      const values: Values = x.dtype === 'float32' ? new Float32Array(n) : x.dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
      if (n > 0) addon.stridedCopy(copyParams(m.bytes, shape, begin * strides[axis], strides, 0, rowMajorStrides(shape)), m.values[0], values);
      pieces.push({ shape, values });
      begin += s;
    }
    return pieces.map((p) => backend.makeTensorInfo(p.shape, x.dtype, p.values));
  };
}

function transpose({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const m = movable(backend, x);
  if (typeof m !== 'object') return m;
  const perm = (attrs?.perm as number[]) ?? [];
  if (perm.length !== x.shape.length) return 'perm does not match the rank';
  if (sizeOf(x.shape) === 0 || x.shape.length === 0) return USE_CPU_KERNEL;
  const strides = rowMajorStrides(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  const params = copyParams(
    m.bytes,
    shape,
    0,
    perm.map((p) => strides[p]),
    0,
    rowMajorStrides(shape),
  );
  return () => outputOf(backend, shape, x.dtype, (out) => addon.stridedCopy(params, m.values[0], out));
}

function reverse({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const m = movable(backend, x);
  if (typeof m !== 'object') return m;
  if (sizeOf(x.shape) === 0 || x.shape.length === 0) return USE_CPU_KERNEL;
  const axes = new Set(tf.util.parseAxisParam(attrs?.dims as number | number[], x.shape));
  const strides = rowMajorStrides(x.shape);
  let offset = 0;
  const src = strides.map((s, i) => {
    if (!axes.has(i)) return s;
    offset += (x.shape[i] - 1) * s;
    return -s;
  });
  const params = copyParams(m.bytes, x.shape, offset, src, 0, strides);
  return () => outputOf(backend, [...x.shape], x.dtype, (out) => addon.stridedCopy(params, m.values[0], out));
}

function tile({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const m = movable(backend, x);
  if (typeof m !== 'object') return m;
  const reps = (attrs?.reps as number[]) ?? [];
  if (reps.length !== x.shape.length) return 'reps do not match the rank';
  const shape = x.shape.map((d, i) => d * reps[i]);
  if (sizeOf(shape) === 0 || x.shape.length === 0) return USE_CPU_KERNEL;
  if (sizeOf(shape) > MAX_ELEMENTS) return 'more than 2^31 elements';
  // Output index (r_i·d_i + j_i) split as [r_i, d_i]: repeats read the source at stride 0.
  const strides = rowMajorStrides(x.shape);
  const extents = x.shape.flatMap((d, i) => [reps[i], d]);
  const src = strides.flatMap((s) => [0, s]);
  const params = copyParams(m.bytes, extents, 0, src, 0, rowMajorStrides(extents));
  return () => outputOf(backend, shape, x.dtype, (out) => addon.stridedCopy(params, m.values[0], out));
}

function padV2({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const m = movable(backend, x);
  if (typeof m !== 'object') return m;
  const paddings = (attrs?.paddings as [number, number][]) ?? [];
  const constant = Number(attrs?.constantValue ?? 0);
  if (paddings.length !== x.shape.length) return 'paddings do not match the rank';
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  if (shape.some((d) => d < 0)) return 'negative output extent';
  if (sizeOf(shape) === 0 || sizeOf(x.shape) === 0 || x.shape.length === 0) return USE_CPU_KERNEL;
  if (sizeOf(shape) > MAX_ELEMENTS) return 'more than 2^31 elements';
  // Negative padding crops: the copied region starts -before into the source and loses
  // -after at its end.
  const xStrides = rowMajorStrides(x.shape);
  const oStrides = rowMajorStrides(shape);
  const extents = x.shape.map((d, i) => d - Math.max(0, -paddings[i][0]) - Math.max(0, -paddings[i][1]));
  const srcOffset = paddings.reduce((s, [before], i) => s + Math.max(0, -before) * xStrides[i], 0);
  const dstOffset = paddings.reduce((s, [before], i) => s + Math.max(0, before) * oStrides[i], 0);
  const interior = extents.every((e) => e > 0) ? copyParams(m.bytes, extents, srcOffset, xStrides, dstOffset, oStrides) : undefined;
  const covers = interior !== undefined && paddings.every(([b, a]) => b <= 0 && a <= 0);
  return () =>
    outputOf(backend, shape, x.dtype, (out) => {
      if (!covers) out.fill(constant);
      if (interior !== undefined) addon.stridedCopy(interior, m.values[0], out);
    });
}

function concat({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan {
  const all = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as tf.TensorInfo[];
  if (all.length === 0) return 'no inputs';
  const axis = tf.util.parseAxisParam(attrs?.axis as number, all[0].shape)[0];
  tf.backend_util.assertParamsConsistent(
    all.map((t) => t.shape),
    axis,
  );
  const shape = tf.backend_util.computeOutShape(
    all.map((t) => t.shape),
    axis,
  );
  const parts = all.filter((t) => sizeOf(t.shape) > 0);
  if (sizeOf(shape) === 0 || parts.length === 0 || shape.length === 0) return USE_CPU_KERNEL;
  if (all.some((t) => t.dtype !== all[0].dtype)) return 'inputs of different dtypes';
  const m = movable(backend, ...parts);
  if (typeof m !== 'object') return m;
  if (sizeOf(shape) > MAX_ELEMENTS) return 'more than 2^31 elements';
  const oStrides = rowMajorStrides(shape);
  let at = 0;
  const copies = parts.map((t) => {
    const params = copyParams(m.bytes, t.shape, 0, rowMajorStrides(t.shape), at * oStrides[axis], oStrides);
    at += t.shape[axis];
    return params;
  });
  return () => outputOf(backend, shape, all[0].dtype, (out) => copies.forEach((params, k) => addon.stridedCopy(params, m.values[k], out)));
}

function select({ inputs, backend }: KernelArgs, addon: NativeAddon): Plan {
  const { condition, t, e } = inputs as Record<string, tf.TensorInfo>;
  const same = (s: readonly number[]) => s.length === t.shape.length && s.every((d, i) => d === t.shape[i]);
  if (!same(condition.shape) || !same(e.shape)) return 'condition and branches of different shapes';
  if (condition.dtype !== 'bool') return `condition of dtype ${condition.dtype}`;
  if (t.dtype !== e.dtype) return 'branches of different dtypes';
  const c = valuesOf(backend, condition);
  const m = movable(backend, t, e);
  if (typeof m !== 'object') return m;
  if (!(c instanceof Uint8Array)) return 'condition storage is not a Uint8Array';
  const n = sizeOf(t.shape);
  if (n === 0) return USE_CPU_KERNEL;
  const params = Int32Array.of(m.bytes, n);
  return () => outputOf(backend, [...t.shape], t.dtype, (out) => addon.select(params, c, m.values[0], m.values[1], out));
}

/** The data-movement kernel configs the native backend overrides. */
export const MOVEMENT_KERNELS: tf.KernelConfig[] = [
  nativeKernel(tf.Slice, slice),
  nativeKernel(tf.SplitV, splitV),
  nativeKernel(tf.Transpose, transpose),
  nativeKernel(tf.Reverse, reverse),
  nativeKernel(tf.Tile, tile),
  nativeKernel(tf.PadV2, padV2),
  nativeKernel(tf.Concat, concat),
  nativeKernel(tf.Select, select),
];
