/**
 * 2-D pooling on tfjs. Padding is a tf.pad before the op (-∞ for max, 0 for average), so the op
 * itself is always 'valid'.
 *
 * Max pooling has a gradient of its own where the backend's is wrong: tfjs-wasm's MaxPoolGrad
 * (and MaxPoolWithArgmax) give zero gradient where a window's maximum is negative (measured with
 * tfjs 4.22), so `pool` wraps tf.maxPool in tf.customGrad with `maxPoolBackward` where
 * backends/capabilities.ts says the backend's gradient is not exact.
 */
import * as tf from '@tensorflow/tfjs';
import { hasExactMaxPoolGradient } from '../backends/capabilities';

/** A 2-D pooling of an NHWC tensor, 'valid' (padding is applied before). */
export interface PoolParams {
  readonly fn: 'max' | 'avg';
  readonly window: readonly [number, number];
  readonly strides: readonly [number, number];
}

/** The pooling `s` of x, with a gradient that is right on every backend. */
export function pool(s: PoolParams, x: tf.Tensor): tf.Tensor {
  if (s.fn !== 'max' || hasExactMaxPoolGradient()) return poolForward(s, x);
  // tfjs calls f(x, save): the save function comes last.
  const f = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    return {
      value: poolForward(s, input),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], [saved]: tf.Tensor[]) =>
        maxPoolBackward(saved as tf.Tensor4D, (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor4D, s.window, s.strides),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f as (t: tf.Tensor) => tf.Tensor)(x);
}

/** The pooling `s` of x with tfjs' own gradient. */
export function poolForward(s: PoolParams, x: tf.Tensor): tf.Tensor {
  const window = [...s.window] as [number, number];
  const strides = [...s.strides] as [number, number];
  return s.fn === 'max' ? tf.maxPool(x as tf.Tensor4D, window, strides, 'valid') : tf.avgPool(x as tf.Tensor4D, window, strides, 'valid');
}

/**
 * ∂(max pooling)/∂x, through tfjs' own MaxPoolGrad on a shifted copy of x in which every real
 * value is ≥ 1 and the -∞ padding is 0: max pooling commutes with the shift, so the winners are
 * the same, and the kernel's bug (wrong for negative maxima on wasm) is never met. One winner per
 * window gets the gradient (the first, as in tfjs and PyTorch), so ties are not counted twice.
 */
export function maxPoolBackward(x: tf.Tensor4D, dy: tf.Tensor4D, window: readonly [number, number], strides: readonly [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    const finite = tf.isFinite(x);
    const low = tf.min(tf.where(finite, x, tf.fill(x.shape, Infinity)));
    const shifted = tf.where(finite, tf.add(tf.sub(x, low), 1), tf.zerosLike(x)) as tf.Tensor4D;
    const filterSize = [...window] as [number, number];
    const output = tf.maxPool(shifted, filterSize, [...strides] as [number, number], 'valid');
    // The kernel itself: a nested tf.grad is not allowed inside a gradient function.
    return tf.engine().runKernel('MaxPoolGrad', { dy, input: shifted, output }, { filterSize, strides: [...strides], pad: 'valid' }) as tf.Tensor4D;
  });
}
