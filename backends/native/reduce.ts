/**
 * Reductions on the addon's own loop (src/loops.cc): Sum, Mean, Prod, Max, Min over any axes,
 * and ArgMax/ArgMin along one axis. tfjs' CPU kernels first transpose the reduced axes innermost
 * (a full copy through JS index arithmetic) and then loop in scalar JS; oneDNN's reduction
 * primitive (used here first) is fast only when the reduced axes are innermost and took 470 ms
 * to reduce a [32,32,32,16] tensor to its 16 channels, the bias gradient of every conv layer.
 * The loop walks the input once in memory order, accumulating into the output (sums in double,
 * as tfjs' JS loops do). float32 only; int32 and bool reductions stay on the CPU kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './addon';
import { USE_CPU_KERNEL, nativeKernel, outputOf, rowMajorStrides, sizeOf, valuesOf, type KernelArgs, type Plan } from './kernel';

/** Reduction codes of the addon's `reduceAxes`. */
const REDUCE_CODES: Record<string, { code: number; axisAttr: string }> = {
  [tf.Sum]: { code: 0, axisAttr: 'axis' },
  [tf.Mean]: { code: 1, axisAttr: 'axis' },
  [tf.Max]: { code: 2, axisAttr: 'reductionIndices' },
  [tf.Min]: { code: 3, axisAttr: 'axis' }, // sic: tfjs names Max's axes reductionIndices, Min's axis
  [tf.Prod]: { code: 4, axisAttr: 'axis' },
};

/**
 * The addon's parameters for reducing `axes` of `shape`, and tfjs' output shape: the output is
 * addressed with row-major strides over the kept axes and stride 0 along reduced ones.
 *
 * @example reductionPlan(0, [2, 3, 4], [1], false) → params [0, 3, 2, 3, 4, 4, 0, 1], outShape [2, 4]
 */
export function reductionPlan(op: number, shape: readonly number[], axes: readonly number[], keepDims: boolean): { params: Int32Array; outShape: number[] } {
  const reduced = new Set(axes);
  const kept = shape.filter((_, i) => !reduced.has(i));
  const keptStrides = rowMajorStrides(kept);
  let k = 0;
  const outStrides = shape.map((_, i) => (reduced.has(i) ? 0 : keptStrides[k++]));
  const outShape = keepDims ? shape.map((d, i) => (reduced.has(i) ? 1 : d)) : kept;
  return { params: Int32Array.from([op, shape.length, ...shape, ...outStrides]), outShape };
}

function reduction(kernelName: string) {
  const { code, axisAttr } = REDUCE_CODES[kernelName];
  return ({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan => {
    const { x } = inputs as Record<string, tf.TensorInfo>;
    if (x.dtype !== 'float32' || sizeOf(x.shape) === 0 || x.shape.length === 0) return USE_CPU_KERNEL;
    const values = valuesOf(backend, x);
    if (!(values instanceof Float32Array)) return 'float32 storage is not a Float32Array';
    if (sizeOf(x.shape) >= 2 ** 31) return 'more than 2^31 elements';
    const a = attrs ?? {};
    const axes = tf.util.parseAxisParam(a[axisAttr] as number | number[], x.shape);
    if (axes.length === 0) return USE_CPU_KERNEL; // nothing to reduce
    const plan = reductionPlan(code, x.shape, axes, Boolean(a.keepDims));
    return () => outputOf(backend, plan.outShape, 'float32', (y) => addon.reduceAxes(plan.params, values, y as Float32Array));
  };
}

/** ArgMax / ArgMin along one axis: x seen as [outer, n, inner]. */
function argReduction(isMin: boolean) {
  return ({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan => {
    const { x } = inputs as Record<string, tf.TensorInfo>;
    if (x.dtype !== 'float32' || sizeOf(x.shape) === 0 || x.shape.length === 0) return USE_CPU_KERNEL;
    const values = valuesOf(backend, x);
    if (!(values instanceof Float32Array)) return 'float32 storage is not a Float32Array';
    if (sizeOf(x.shape) >= 2 ** 31) return 'more than 2^31 elements';
    const axes = tf.util.parseAxisParam(attrs?.axis as number | number[], x.shape);
    if (axes.length !== 1) return 'more than one axis';
    const axis = axes[0];
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const params = Int32Array.of(isMin ? 1 : 0, outer, x.shape[axis], inner);
    const outShape = x.shape.filter((_, i) => i !== axis);
    return () => outputOf(backend, outShape, 'int32', (y) => addon.argReduce(params, values, y as Int32Array));
  };
}

/** The reduction kernel configs the native backend overrides. */
export const REDUCTION_KERNELS: tf.KernelConfig[] = [
  ...Object.keys(REDUCE_CODES).map((k) => nativeKernel(k, reduction(k))),
  nativeKernel(tf.ArgMax, argReduction(false)),
  nativeKernel(tf.ArgMin, argReduction(true)),
];
