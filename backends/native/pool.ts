/**
 * Pooling kernels on oneDNN: MaxPool, AvgPool, their 3D forms and all their gradients.
 *
 * Average pooling divides by the number of input cells inside the window (padding excluded), as
 * tfjs' forward kernel and TensorFlow do. Its gradient here is the exact gradient of that
 * forward pass. Note: tfjs' own CPU `AvgPoolGrad` divides by the full window size even where the
 * window overlaps 'same' padding, so at the borders of a padded average pool this backend's
 * gradient differs from (and is correct where) the CPU backend's is not.
 *
 * Max pooling's gradient routes each output's gradient to the first maximal input of its
 * window, recomputed from the input (tfjs passes it): in 2-D one pass of src/max_pool_grad.cc
 * (oneDNN's kernels are slow when the channels are not a multiple of its vector width), in 3-D
 * oneDNN's forward pass for the argmax and its backward pass.
 *
 * einnet's own max pooling that keeps NaN (backends/kernel-names.ts) is one pass of
 * src/max_pool_nan.cc: oneDNN's max pooling skips NaN.
 */
import * as tf from '@tensorflow/tfjs';
import { MAX_POOL_KEEPING_NAN, type MaxPoolKeepingNaNAttrs } from '../kernel-names';
import type { NativeAddon } from './addon';
import { loadAddon, POOL_AVG, POOL_MAX } from './addon';
import { geometry2D, geometry3D, normaliseGeometry, type ConvGeometry } from './conv';
import { f32, nativeKernel, output, ownKernel, unsupportedInputs, type Plan } from './kernel';

/** The Int32Array layout the addon reads for pooling (src/params.h, `pool_params`). */
export function poolParams(g: ConvGeometry): Int32Array {
  return Int32Array.from([g.input.length, g.n, g.c, ...g.input, ...g.output, ...g.kernel, ...g.stride, ...g.padL, ...g.padR]);
}

function poolGeometry(xShape: readonly number[], attrs: tf.NamedAttrMap): ConvGeometry | string {
  const a = attrs;
  if (xShape.length === 4) {
    const info = tf.backend_util.computePool2DInfo(
      xShape as [number, number, number, number],
      a.filterSize as [number, number],
      a.strides as [number, number],
      1,
      a.pad as 'same' | 'valid' | number,
      a.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    );
    return geometry2D(info, false);
  }
  if (xShape.length === 5) {
    const info = tf.backend_util.computePool3DInfo(
      xShape as [number, number, number, number, number],
      a.filterSize as [number, number, number],
      a.strides as [number, number, number],
      1,
      a.pad as 'same' | 'valid' | number,
      a.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    );
    return geometry3D(info);
  }
  return `input of rank ${xShape.length}`;
}

function checked(xShape: readonly number[], attrs: tf.NamedAttrMap | undefined): ConvGeometry | string {
  const raw = poolGeometry(xShape, attrs ?? {});
  if (typeof raw === 'string') return raw;
  if (!raw.channelsLast) return 'channels-first pooling';
  const g = normaliseGeometry({ ...raw, depthwise: false });
  if (typeof g === 'string') return g;
  // A window lying wholly in the padding has no input to average or maximise; oneDNN rejects it.
  for (let i = 0; i < g.input.length; i++) {
    if (g.padL[i] >= g.kernel[i] || g.padR[i] >= g.kernel[i]) return 'padding as wide as the window';
  }
  return g;
}

function outShapeOf(g: ConvGeometry): number[] {
  return [g.n, ...g.output, g.c];
}

function forward(algorithm: number) {
  return ({ inputs, backend, attrs }: Parameters<Parameters<typeof nativeKernel>[1]>[0], addon: NativeAddon): Plan => {
    const { x } = inputs as Record<string, tf.TensorInfo>;
    const bad = unsupportedInputs(x);
    if (bad !== undefined) return bad;
    const g = checked(x.shape, attrs);
    if (typeof g === 'string') return g;
    return () => output(backend, outShapeOf(g), (y) => addon.poolForward(poolParams(g), f32(backend, x), y, algorithm));
  };
}

function backward(algorithm: number) {
  return ({ inputs, backend, attrs }: Parameters<Parameters<typeof nativeKernel>[1]>[0], addon: NativeAddon): Plan => {
    const { dy, input } = inputs as Record<string, tf.TensorInfo>;
    const bad = unsupportedInputs(dy, input);
    if (bad !== undefined) return bad;
    const g = checked(input.shape, attrs);
    if (typeof g === 'string') return g;
    const out = outShapeOf(g);
    if (dy.shape.length !== out.length || dy.shape.some((d, i) => d !== out[i])) return 'dy does not have the output shape';
    const tiles =
      g.input.length === 2 && g.channelsLast && g.kernel.every((k, i) => k === g.stride[i] && g.dilation[i] === 1 && g.padL[i] === 0 && g.padR[i] <= 0);
    if (algorithm === POOL_AVG && tiles) {
      // Windows that tile the input: each input element gets dy/(kh·kw) of its window (src/fused.cc).
      const params = Int32Array.of(g.n, g.input[0], g.input[1], g.c, g.kernel[0], g.kernel[1], g.output[0], g.output[1]);
      return () => output(backend, [...input.shape], (dx) => addon.avgPoolTileGrad(params, f32(backend, dy), dx));
    }
    if (algorithm === POOL_MAX && g.input.length === 2) {
      const params = Int32Array.of(g.n, ...g.input, g.c, ...g.kernel, ...g.stride, ...g.padL, ...g.output);
      return () => output(backend, [...input.shape], (dx) => addon.maxPoolGrad(params, f32(backend, input), f32(backend, dy), dx));
    }
    return () =>
      output(backend, [...input.shape], (dx) =>
        addon.poolBackward(poolParams(g), f32(backend, dy), algorithm === POOL_MAX ? f32(backend, input) : null, dx, algorithm),
      );
  };
}

/** The pooling kernel configs the native backend overrides. */
export const POOL_KERNELS: tf.KernelConfig[] = [
  nativeKernel(tf.MaxPool, forward(POOL_MAX)),
  nativeKernel(tf.AvgPool, forward(POOL_AVG)),
  nativeKernel(tf.MaxPoolGrad, backward(POOL_MAX)),
  nativeKernel(tf.AvgPoolGrad, backward(POOL_AVG)),
  nativeKernel(tf.MaxPool3D, forward(POOL_MAX)),
  nativeKernel(tf.AvgPool3D, forward(POOL_AVG)),
  nativeKernel(tf.MaxPool3DGrad, backward(POOL_MAX)),
  nativeKernel(tf.AvgPool3DGrad, backward(POOL_AVG)),
  ownKernel<MaxPoolKeepingNaNAttrs>(MAX_POOL_KEEPING_NAN, ({ inputs: { x }, backend, attrs }) => {
    const [n, h, w, c] = x!.shape;
    const [kh, kw] = attrs.filterSize;
    const [sh, sw] = attrs.strides;
    const params = Int32Array.of(n, h, w, c, kh, kw, sh, sw);
    const shape = [n, Math.floor((h - kh) / sh) + 1, Math.floor((w - kw) / sw) + 1, c];
    return output(backend, shape, (y) => loadAddon().maxPoolNaN(params, f32(backend, x!), y));
  }),
];
