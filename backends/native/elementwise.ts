/**
 * Element-wise kernels.
 *
 * - Unary, on large float32 tensors (≥ `ELEMENTWISE_MIN_SIZE`; Relu and Relu6 from 256 elements, the
 *   transcendental Elu, Sigmoid, Tanh, Log from 1024): Relu and Relu6 on our own NaN-preserving loop; Elu, Sigmoid,
 *   Tanh, Log, Sqrt, Square, Abs on oneDNN eltwise, which is vectorised and threaded and pays
 *   once a tensor amortises the call.
 * - Binary, at every size: Add, Sub, Multiply, RealDiv, Maximum, Minimum, SquaredDifference, Pow
 *   and the comparisons, on the addon's own broadcasting loop (src/loops.cc). oneDNN's binary
 *   primitive is not used: it is fast only for same-shape and per-channel operands and
 *   drops to reference code (slower than tfjs' JS) for patterns such as a per-batch [16,1,1,1]
 *   scale, and it turns NaN into numbers in max/min. tfjs' own broadcasting path computes an
 *   index per element in JS.
 * - Step (the relu gradient's mask), Neg, IsFinite, LogicalNot, FusedBatchNorm on the addon's loops.
 *
 * Exp stays on the CPU kernel (oneDNN would turn NaN into a number; a scalar libm loop would
 * not beat V8's Math.exp).
 */
import * as tf from '@tensorflow/tfjs';
import {
  USE_CPU_KERNEL,
  f32,
  nativeKernel,
  output,
  outputOf,
  rowMajorStrides,
  sizeOf,
  unsupportedInputs,
  valuesOf,
  type KernelArgs,
  type Plan,
} from './kernel';
import type { NativeAddon } from './addon';

/**
 * Below this many elements the JS loop wins (a native call, a oneDNN dispatch and waking the
 * OpenMP threads cost some microseconds). `EINNET_ELEMENTWISE_MIN` overrides it.
 */
export const ELEMENTWISE_MIN_SIZE = Number(process.env.EINNET_ELEMENTWISE_MIN ?? '') || 1 << 14;

/**
 * Relu and Relu6 run on the addon's single-threaded loop, which costs a native call and no thread
 * wake-up, against about 10 ns an element for tfjs' JS loop (a call through the function shared
 * by its unary kernels): 85 µs for a [64,120] dense layer's relu, 14 µs native.
 */
const RELU_MIN_SIZE = 256;

/**
 * Transcendental functions (Elu, Sigmoid, Tanh, Log) take tens of nanoseconds per element in JS
 * (Math.tanh …) against a few microseconds for a oneDNN call, so they go native from this size
 * (a LeNet-5 step's two small tanh layers took 0.3 ms in JS).
 */
const TRANSCENDENTAL_MIN_SIZE = 1024;

/** Unary codes understood by the addon's `eltwise` (src/params.h, `EltwiseOp`), with alpha and beta. */
const UNARY: Record<string, { code: number; alpha: number; beta: number; minSize?: number }> = {
  [tf.Elu]: { code: 2, alpha: 1, beta: 0, minSize: TRANSCENDENTAL_MIN_SIZE },
  [tf.Sigmoid]: { code: 3, alpha: 0, beta: 0, minSize: TRANSCENDENTAL_MIN_SIZE },
  [tf.Tanh]: { code: 4, alpha: 0, beta: 0, minSize: TRANSCENDENTAL_MIN_SIZE },
  [tf.Log]: { code: 6, alpha: 0, beta: 0, minSize: TRANSCENDENTAL_MIN_SIZE },
  [tf.Sqrt]: { code: 7, alpha: 0, beta: 0 },
  [tf.Square]: { code: 8, alpha: 0, beta: 0 },
  [tf.Abs]: { code: 9, alpha: 0, beta: 0 },
};

/**
 * Binary codes of the addon's own broadcasting loop (src/loops.cc, `BroadcastBinary`):
 * arithmetic writes float32, comparisons (≥ 10) write bool.
 */
const BINARY: Record<string, number> = {
  [tf.Add]: 0,
  [tf.Sub]: 1,
  [tf.Multiply]: 2,
  [tf.RealDiv]: 3,
  [tf.Maximum]: 4,
  [tf.Minimum]: 5,
  [tf.SquaredDifference]: 6,
  [tf.Pow]: 7,
  [tf.Equal]: 10,
  [tf.NotEqual]: 11,
  [tf.Less]: 12,
  [tf.LessEqual]: 13,
  [tf.Greater]: 14,
  [tf.GreaterEqual]: 15,
};

function unary(kernelName: string) {
  const op = UNARY[kernelName];
  return ({ inputs, backend }: KernelArgs, addon: NativeAddon): Plan => {
    const { x } = inputs as Record<string, tf.TensorInfo>;
    const bad = unsupportedInputs(x);
    if (bad !== undefined) return bad;
    const n = sizeOf(x.shape);
    if (n < (op.minSize ?? ELEMENTWISE_MIN_SIZE)) return USE_CPU_KERNEL;
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
    if (n < RELU_MIN_SIZE) return USE_CPU_KERNEL;
    return () => output(backend, [...x.shape], (y) => addon.relu(n, cap, f32(backend, x), y));
  };
}

/** `shape` left-padded with 1s to `rank` (tfjs broadcasting aligns trailing axes). */
function padTo(shape: readonly number[], rank: number): number[] {
  return [...Array(rank - shape.length).fill(1), ...shape];
}

/**
 * The addon's broadcastBinary parameters for `code` on operands of these shapes: the output
 * shape, and each operand's strides over it (0 along axes where it broadcasts).
 *
 * @example binaryParams(2, [4, 3], [3]) → params [2, 2, 4, 3, 3, 1, 0, 1], outShape [4, 3]
 * @throws when the shapes do not broadcast (the caller falls back to the CPU kernel's error).
 */
export function binaryParams(code: number, aShape: readonly number[], bShape: readonly number[]): { params: Int32Array; outShape: number[] } {
  const out = tf.backend_util.assertAndGetBroadcastShape([...aShape], [...bShape]);
  const strides = (shape: readonly number[]) => {
    const padded = padTo(shape, out.length);
    const s = rowMajorStrides(padded);
    return padded.map((d, i) => (d === 1 ? 0 : s[i]));
  };
  return { params: Int32Array.from([code, out.length, ...out, ...strides(aShape), ...strides(bShape)]), outShape: out };
}

/** Broadcasting binary operations of two float32 tensors (int32 arithmetic stays on the CPU kernels). */
function binary(kernelName: string) {
  const code = BINARY[kernelName];
  return ({ inputs, backend }: KernelArgs, addon: NativeAddon): Plan => {
    const { a, b } = inputs as Record<string, tf.TensorInfo>;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return USE_CPU_KERNEL;
    const bad = unsupportedInputs(a, b);
    if (bad !== undefined) return USE_CPU_KERNEL; // empty
    const { params, outShape } = binaryParams(code, a.shape, b.shape);
    if (sizeOf(outShape) >= 2 ** 31) return 'more than 2^31 elements';
    const dtype = code >= 10 ? 'bool' : 'float32';
    return () => outputOf(backend, outShape, dtype, (c) => addon.broadcastBinary(params, f32(backend, a), f32(backend, b), c as Float32Array | Uint8Array));
  };
}

/** Step (the relu gradient's mask), Neg, IsFinite and LogicalNot on the addon's loops. */
function loopUnary(code: number, inDtype: tf.DataType, outDtype: tf.DataType) {
  return ({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan => {
    const { x } = inputs as Record<string, tf.TensorInfo>;
    if (x.dtype !== inDtype) return USE_CPU_KERNEL;
    const n = sizeOf(x.shape);
    if (n === 0) return USE_CPU_KERNEL;
    const values = valuesOf(backend, x);
    if (values === undefined) return `storage of a ${x.dtype} tensor is not a typed array`;
    const alpha = Number(attrs?.alpha ?? 0);
    const params = Int32Array.of(code, n);
    return () =>
      outputOf(backend, [...x.shape], outDtype, (y) => addon.unary(params, alpha, values as Float32Array | Uint8Array, y as Float32Array | Uint8Array));
  };
}

/**
 * tfjs' FusedBatchNorm (tf.batchNorm): parameters repeat along x in flat order, as tfjs' CPU
 * kernel reads them. float32 only.
 */
function batchNorm({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan {
  const { x, mean, variance, offset, scale } = inputs as Record<string, tf.TensorInfo | undefined>;
  if (x === undefined || mean === undefined || variance === undefined) return 'missing inputs';
  const ts = [x, mean, variance, offset, scale].filter((t): t is tf.TensorInfo => t !== undefined && t !== null);
  if (ts.some((t) => t.dtype !== 'float32')) return USE_CPU_KERNEL;
  if (ts.some((t) => sizeOf(t.shape) === 0)) return USE_CPU_KERNEL;
  if (
    mean.shape.length !== variance.shape.length ||
    (offset && offset.shape.length !== mean.shape.length) ||
    (scale && scale.shape.length !== mean.shape.length)
  ) {
    return 'parameter ranks differ (the CPU kernel reports it)';
  }
  const eps = attrs?.varianceEpsilon == null ? 0.001 : Number(attrs.varianceEpsilon);
  const n = sizeOf(x.shape);
  const params = Int32Array.of(n, sizeOf(mean.shape), sizeOf(variance.shape), offset ? sizeOf(offset.shape) : 0, scale ? sizeOf(scale.shape) : 0);
  return () =>
    output(backend, [...x.shape], (y) =>
      addon.batchNorm(
        params,
        eps,
        f32(backend, x),
        f32(backend, mean),
        f32(backend, variance),
        offset ? f32(backend, offset) : null,
        scale ? f32(backend, scale) : null,
        y,
      ),
    );
}

/** The element-wise kernel configs the native backend overrides. */
export const ELEMENTWISE_KERNELS: tf.KernelConfig[] = [
  nativeKernel(tf.Relu, relu(0)),
  nativeKernel(tf.Relu6, relu(6)),
  ...Object.keys(UNARY).map((k) => nativeKernel(k, unary(k))),
  ...Object.keys(BINARY).map((k) => nativeKernel(k, binary(k))),
  nativeKernel(tf.Step, loopUnary(0, 'float32', 'float32')),
  nativeKernel(tf.Neg, loopUnary(1, 'float32', 'float32')),
  nativeKernel(tf.IsFinite, loopUnary(2, 'float32', 'bool')),
  nativeKernel(tf.LogicalNot, loopUnary(3, 'bool', 'bool')),
  nativeKernel(tf.FusedBatchNorm, batchNorm),
];
