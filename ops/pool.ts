/**
 * 2-D pooling on tfjs. Padding is a tf.pad before the op (-∞ for max, 0 for average), so the op
 * itself is always 'valid'.
 *
 * Max pooling keeps NaN (a window holding one gives NaN, on every backend) and has a gradient of
 * its own where the backend's is wrong: tfjs-wasm's MaxPoolGrad (and MaxPoolWithArgmax) give zero
 * gradient where a window's maximum is negative and send a tie to the last maximum (measured with
 * tfjs 4.22), so `pool` wraps the pooling in tf.customGrad with `maxPoolBackward` where
 * backends/capabilities.ts says the backend's gradient is not exact.
 */
import * as tf from '@tensorflow/tfjs';
import { hasExactMaxPoolGradient, hasVectorStep, ownKernelApplies } from '../backends/capabilities';
import { MAX_POOL_KEEPING_NAN, type MaxPoolKeepingNaNAttrs } from '../backends/kernel-names';

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
  return s.fn === 'max' ? maxPoolKeepingNaN(x as tf.Tensor4D, window, strides) : tf.avgPool(x as tf.Tensor4D, window, strides, 'valid');
}

/**
 * tf.maxPool, except that a window holding a NaN gives NaN, as a max over the same values does
 * (and PyTorch's max pooling). tfjs' pooling kernels skip NaN — the cpu kernel gives the window's
 * largest number, or -∞ when all are NaN; wasm's may give -∞ even beside numbers — so a NaN
 * would vanish in the first pooling layer. Where the backend has einnet's own kernel for it
 * (backends/kernel-names.ts, the native backend) that is one pass; elsewhere tf.maxPool plus a
 * NaN term. The gradient is tf.maxPool's alone (a custom gradient: the NaN term is not
 * differentiated; MaxPoolGrad finds each window's maximum in the input).
 */
function maxPoolKeepingNaN(x: tf.Tensor4D, window: [number, number], strides: [number, number]): tf.Tensor4D {
  const run = tf.customGrad((input, save) => {
    const t = input as tf.Tensor4D;
    const [, h, w] = t.shape;
    if (h >= window[0] && w >= window[1] && ownKernelApplies(MAX_POOL_KEEPING_NAN, [t])) {
      const attrs: MaxPoolKeepingNaNAttrs = { filterSize: window, strides };
      const y = tf.engine().runKernel(MAX_POOL_KEEPING_NAN, { x: t }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
      (save as tf.GradSaveFunc)([t, y]);
      return { value: y, gradFunc: (dy, saved) => maxPoolGrad(dy as tf.Tensor4D, saved as tf.Tensor4D[], window, strides) };
    }
    const y = tf.maxPool(t, window, strides, 'valid');
    (save as tf.GradSaveFunc)([t, y]);
    const value = tf.tidy(() => tf.add(y, nanWindows(t, window, strides))) as tf.Tensor4D;
    return {
      value,
      gradFunc: (dy, saved) => maxPoolGrad(dy as tf.Tensor4D, saved as tf.Tensor4D[], window, strides),
    };
  });
  return run(x) as tf.Tensor4D;
}

/** tfjs' MaxPoolGrad of a 'valid' max pooling, from the saved [input, output]. */
function maxPoolGrad(dy: tf.Tensor4D, [input, output]: tf.Tensor4D[], window: [number, number], strides: [number, number]): tf.Tensor4D {
  return tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, { filterSize: window, strides, pad: 'valid' }) as tf.Tensor4D;
}

/**
 * 0 for each window of x that holds no NaN, NaN for one that does; ±∞ and the -∞ padding must
 * give 0 (so no x·0 or x − x). Where tf.step is a vector kernel (backends/capabilities.ts, wasm):
 * 0·avgPool(step(x)) — step keeps NaN and maps the rest, ±∞ included, to 0 or 1, so the average
 * is a number unless the window holds a NaN. Elsewhere (cpu) a window holds a NaN where the max
 * pool of isNaN(x) is 1, and √(−1) makes the NaN (√(−0) is 0). Measured side by side on a
 * [32,32,32,64] 3x3/2 pool (median of 41): wasm 11.1 ms with step against 13.3 ms (its pool alone
 * 9.7), where isNaN's cast to float32 is a JavaScript copy; cpu 76 ms with isNaN against 88 with
 * step (pool alone 41). 0·avgPool(sign(x)) loses NaN on both, 0·avgPool(clip(x, −1, 1)) on wasm,
 * and tanh is a scalar libm loop on both (70x a max pool on wasm).
 */
function nanWindows(x: tf.Tensor4D, window: [number, number], strides: [number, number]): tf.Tensor4D {
  if (hasVectorStep()) return tf.mul(tf.avgPool(tf.step(x), window, strides, 'valid'), 0);
  return tf.sqrt(tf.neg(tf.maxPool(tf.cast(tf.isNaN(x), 'float32'), window, strides, 'valid')));
}

/**
 * ∂(max pooling)/∂x on wasm, through tfjs' own MaxPoolGrad on a shifted copy of x in which every
 * real value is ≥ 1 and the -∞ padding is 0: max pooling commutes with the shift, so the winners
 * are the same, and the kernel's bug (wrong for negative maxima on wasm) is never met. One winner
 * per window gets the gradient: the first, as in tfjs' cpu kernel and PyTorch. The wasm kernel
 * picks the last of equal maxima (it compares with ≥ as it scans a window row by row), so it runs
 * on the copy turned 180° (both spatial axes reversed), where the first of a window is the last:
 * the rows and columns no window reaches are cut off first so that the windows of the turned copy
 * are the turned windows, and get zero gradient.
 */
export function maxPoolBackward(x: tf.Tensor4D, dy: tf.Tensor4D, window: readonly [number, number], strides: readonly [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [outH, outW] = [dy.shape[1], dy.shape[2]];
    const usedH = (outH - 1) * strides[0] + window[0];
    const usedW = (outW - 1) * strides[1] + window[1];
    const used = usedH === h && usedW === w ? x : tf.slice(x, [0, 0, 0, 0], [n, usedH, usedW, c]);
    const finite = tf.isFinite(used);
    const low = tf.min(tf.where(finite, used, tf.fill(used.shape, Infinity)));
    const shifted = tf.where(finite, tf.add(tf.sub(used, low), 1), tf.zerosLike(used)) as tf.Tensor4D;
    const turned = tf.reverse(shifted, [1, 2]);
    const filterSize = [...window] as [number, number];
    const output = tf.maxPool(turned, filterSize, [...strides] as [number, number], 'valid');
    // The kernel itself: a nested tf.grad is not allowed inside a gradient function.
    const attrs = { filterSize, strides: [...strides], pad: 'valid' };
    const dTurned = tf.engine().runKernel('MaxPoolGrad', { dy: tf.reverse(dy, [1, 2]), input: turned, output }, attrs) as tf.Tensor4D;
    const dx = tf.reverse(dTurned, [1, 2]);
    return (
      usedH === h && usedW === w
        ? dx
        : tf.pad(dx, [
            [0, 0],
            [0, h - usedH],
            [0, w - usedW],
            [0, 0],
          ])
    ) as tf.Tensor4D;
  });
}
