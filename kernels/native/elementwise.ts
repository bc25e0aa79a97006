/**
 * Element-wise kernels for large float32 tensors: Relu and Relu6 (our own OpenMP loop), Elu,
 * Sigmoid, Tanh, Log, Sqrt, Square, Abs (oneDNN eltwise), and the broadcasting binary operations
 * Add, Sub, Mul, RealDiv (oneDNN binary). tfjs' CPU kernels are scalar single-threaded JS loops;
 * these are vectorised and use every thread, which pays once a tensor is large enough to amortise
 * the call (`ELEMENTWISE_MIN_SIZE`). Smaller tensors stay on the CPU kernels without being counted
 * as fallbacks.
 *
 * Not overridden, because oneDNN turns NaN into a number there and a NaN must stay visible:
 * Exp, Maximum, Minimum (and oneDNN's own relu, hence the loop).
 */
import * as tf from '@tensorflow/tfjs';
import { USE_CPU_KERNEL, f32, nativeKernel, output, sizeOf, unsupportedInputs, type KernelArgs, type Plan } from './kernel';
import type { NativeAddon } from './addon';

/**
 * Below this many elements the JS loop wins (a native call, a oneDNN dispatch and waking the
 * OpenMP threads cost some microseconds). `EINNET_ELEMENTWISE_MIN` overrides it.
 */
export const ELEMENTWISE_MIN_SIZE = Number(process.env.EINNET_ELEMENTWISE_MIN ?? '') || 1 << 14;

/** Unary codes understood by the addon's `eltwise` (src/addon.cc, `EltwiseAlg`), with alpha and beta. */
const UNARY: Record<string, { code: number; alpha: number; beta: number }> = {
  [tf.Elu]: { code: 2, alpha: 1, beta: 0 },
  [tf.Sigmoid]: { code: 3, alpha: 0, beta: 0 },
  [tf.Tanh]: { code: 4, alpha: 0, beta: 0 },
  [tf.Log]: { code: 6, alpha: 0, beta: 0 },
  [tf.Sqrt]: { code: 7, alpha: 0, beta: 0 },
  [tf.Square]: { code: 8, alpha: 0, beta: 0 },
  [tf.Abs]: { code: 9, alpha: 0, beta: 0 },
};

/** Binary codes understood by the addon's `binary` (src/addon.cc, `BinaryAlg`). */
const BINARY: Record<string, { code: number; commutative: boolean }> = {
  [tf.Add]: { code: 0, commutative: true },
  [tf.Sub]: { code: 1, commutative: false },
  [tf.Multiply]: { code: 2, commutative: true },
  [tf.RealDiv]: { code: 3, commutative: false },
};

function unary(kernelName: string) {
  const op = UNARY[kernelName];
  return ({ inputs, backend }: KernelArgs, addon: NativeAddon): Plan => {
    const { x } = inputs as Record<string, tf.TensorInfo>;
    const bad = unsupportedInputs(x);
    if (bad !== undefined) return bad;
    const n = sizeOf(x.shape);
    if (n < ELEMENTWISE_MIN_SIZE) return USE_CPU_KERNEL;
    return () => output(backend, [...x.shape], (y) => addon.eltwise(Int32Array.of(op.code, n), op.alpha, op.beta, f32(backend, x), y));
  };
}

/** Relu (cap 0) and Relu6 (cap 6) on the addon's NaN-preserving loop. */
function relu(cap: number) {
  return ({ inputs, backend }: KernelArgs, addon: NativeAddon): Plan => {
    const { x } = inputs as Record<string, tf.TensorInfo>;
    const bad = unsupportedInputs(x);
    if (bad !== undefined) return bad;
    const n = sizeOf(x.shape);
    if (n < ELEMENTWISE_MIN_SIZE) return USE_CPU_KERNEL;
    return () => output(backend, [...x.shape], (y) => addon.relu(n, cap, f32(backend, x), y));
  };
}

/** `shape` left-padded with 1s to `rank` (tfjs broadcasting aligns trailing axes). */
function padTo(shape: readonly number[], rank: number): number[] {
  return [...Array(rank - shape.length).fill(1), ...shape];
}

/**
 * The addon's binary parameters and which operand goes first, or why not: oneDNN broadcasts its
 * second operand only, so the first must already have the output's shape (for commutative
 * operations either operand may be first).
 */
export function binaryPlan(
  code: number,
  commutative: boolean,
  aShape: readonly number[],
  bShape: readonly number[],
): { params: Int32Array; swap: boolean; outShape: number[] } | string {
  let out: number[];
  try {
    out = tf.backend_util.assertAndGetBroadcastShape([...aShape], [...bShape]);
  } catch {
    return 'shapes do not broadcast';
  }
  const rank = Math.max(out.length, 1);
  if (rank > 6) return `rank ${rank} (oneDNN binary takes up to 6)`;
  const o = padTo(out, rank);
  const a = padTo(aShape, rank);
  const b = padTo(bShape, rank);
  const same = (s: number[]) => s.every((d, i) => d === o[i]);
  let swap: boolean;
  if (same(a)) swap = false;
  else if (commutative && same(b)) swap = true;
  else return 'first operand broadcasts (oneDNN broadcasts the second only)';
  const [first, second] = swap ? [b, a] : [a, b];
  return { params: Int32Array.from([code, rank, ...first, ...second]), swap, outShape: out };
}

function binary(kernelName: string) {
  const op = BINARY[kernelName];
  return ({ inputs, backend }: KernelArgs, addon: NativeAddon): Plan => {
    const { a, b } = inputs as Record<string, tf.TensorInfo>;
    const bad = unsupportedInputs(a, b);
    if (bad !== undefined) return bad;
    if (Math.max(sizeOf(a.shape), sizeOf(b.shape)) < ELEMENTWISE_MIN_SIZE) return USE_CPU_KERNEL;
    const plan = binaryPlan(op.code, op.commutative, a.shape, b.shape);
    if (typeof plan === 'string') return plan;
    const [first, second] = plan.swap ? [b, a] : [a, b];
    return () => output(backend, plan.outShape, (c) => addon.binary(plan.params, f32(backend, first), f32(backend, second), c));
  };
}

/** The element-wise kernel configs the native backend overrides. */
export const ELEMENTWISE_KERNELS: tf.KernelConfig[] = [
  nativeKernel(tf.Relu, relu(0)),
  nativeKernel(tf.Relu6, relu(6)),
  ...Object.keys(UNARY).map((k) => nativeKernel(k, unary(k))),
  ...Object.keys(BINARY).map((k) => nativeKernel(k, binary(k))),
];
