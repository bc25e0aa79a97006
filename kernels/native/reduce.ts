/**
 * Sum and Mean over any axes on oneDNN's reduction primitive. tfjs' CPU kernels first transpose
 * the reduced axes innermost (a full copy) and then loop in scalar JS; in a training step the
 * bias gradients and batch-norm moments made these the slowest kernels of all. Tensors below
 * `ELEMENTWISE_MIN_SIZE` stay on the CPU kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './addon';
import { ELEMENTWISE_MIN_SIZE } from './elementwise';
import { USE_CPU_KERNEL, f32, nativeKernel, output, sizeOf, unsupportedInputs, type KernelArgs, type Plan } from './kernel';

/** The addon's reduction parameters and tfjs' output shape for reducing `axes` of `shape`. */
export function reductionPlan(op: number, shape: readonly number[], axes: readonly number[], keepDims: boolean): { params: Int32Array; outShape: number[] } {
  const reduced = new Set(axes);
  const dst = shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const outShape = keepDims ? dst : shape.filter((_, i) => !reduced.has(i));
  return { params: Int32Array.from([op, shape.length, ...shape, ...dst]), outShape };
}

function reduction(op: number) {
  return ({ inputs, backend, attrs }: KernelArgs, addon: NativeAddon): Plan => {
    const { x } = inputs as Record<string, tf.TensorInfo>;
    const bad = unsupportedInputs(x);
    if (bad !== undefined) return bad;
    if (sizeOf(x.shape) < ELEMENTWISE_MIN_SIZE) return USE_CPU_KERNEL;
    const a = attrs ?? {};
    const axes = tf.util.parseAxisParam(a.axis as number | number[], x.shape);
    if (axes.length === 0 || x.shape.length === 0) return USE_CPU_KERNEL; // nothing to reduce
    const plan = reductionPlan(op, x.shape, axes, Boolean(a.keepDims));
    return () => output(backend, plan.outShape, (y) => addon.reduce(plan.params, f32(backend, x), y));
  };
}

/** The reduction kernel configs the native backend overrides. */
export const REDUCTION_KERNELS: tf.KernelConfig[] = [nativeKernel(tf.Sum, reduction(0)), nativeKernel(tf.Mean, reduction(1))];
