/**
 * 2-D pooling on tfjs. Padding is a tf.pad before the op (-∞ for max, 0 for average), so the op
 * itself is always 'valid'.
 *
 * Max pooling keeps NaN (a window holding one gives NaN, on every backend), and its gradient goes
 * to one winner per window, the first maximum in the window's row-major order (as the reference
 * evaluator, tfjs' cpu kernel and PyTorch do). Where the backend's MaxPoolGrad is not that
 * (backends/capabilities.ts: tfjs-wasm's gives zero gradient where a window's maximum is negative
 * and sends a tie to the last maximum), einnet's own kernel computes it.
 */
import * as tf from '@tensorflow/tfjs';
import { hasExactMaxPoolGradient, hasSynchronousReads, hasVectorStep, ownKernelApplies } from '../backends/capabilities';
import { runKernel } from '../backends/engine-internals';
import { FIRST_MAX_POOL_GRAD, MAX_POOL_KEEPING_NAN, type FirstMaxPoolGradAttrs, type MaxPoolKeepingNaNAttrs } from '../backends/kernel-names';
import '../backends/cpu-kernels';
import '../backends/wasm-kernels';

// Bound once (backends/engine-internals.ts says why).
const { add, avgPool, cast, customGrad, maxPool, mul, neg, sqrt, step, sum, tidy } = tf;

/** A 2-D pooling of an NHWC tensor, 'valid' (padding is applied before). */
export interface PoolParams {
  readonly fn: 'max' | 'avg';
  readonly window: readonly [number, number];
  readonly strides: readonly [number, number];
}

/** The pooling `s` of x, with a gradient that is right on every backend. */
export function pool(s: PoolParams, x: tf.Tensor): tf.Tensor {
  const window = [...s.window] as [number, number];
  const strides = [...s.strides] as [number, number];
  return s.fn === 'max' ? maxPoolKeepingNaN(x as tf.Tensor4D, window, strides) : avgPool(x as tf.Tensor4D, window, strides, 'valid');
}

/**
 * tf.maxPool, except that a window holding a NaN gives NaN, as a max over the same values does
 * (and PyTorch's max pooling). tfjs' pooling kernels skip NaN — the cpu kernel gives the window's
 * largest number, or -∞ when all are NaN; wasm's may give -∞ even beside numbers — so a NaN
 * would vanish in the first pooling layer. Where the backend has einnet's own kernel for it
 * (backends/kernel-names.ts: the native, wasm and cpu backends) that is one pass; elsewhere
 * tf.maxPool plus a NaN term, skipped where a read of x's mean (cheap where tensors live in this
 * process) shows x holds no NaN. The gradient is that of the max pool alone (a custom gradient:
 * the NaN term is not differentiated).
 */
function maxPoolKeepingNaN(x: tf.Tensor4D, window: [number, number], strides: [number, number]): tf.Tensor4D {
  const grad = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => maxPoolGrad(dy as tf.Tensor4D, saved as tf.Tensor4D[], window, strides);
  const run = customGrad((input, save) => {
    const t = input as tf.Tensor4D;
    const [, h, w] = t.shape;
    if (h >= window[0] && w >= window[1] && ownKernelApplies(MAX_POOL_KEEPING_NAN, [t])) {
      const attrs: MaxPoolKeepingNaNAttrs = { filterSize: window, strides };
      const y = runKernel<tf.Tensor4D>(MAX_POOL_KEEPING_NAN, { x: t }, attrs);
      (save as tf.GradSaveFunc)([t, y]);
      return { value: y, gradFunc: grad };
    }
    const y = maxPool(t, window, strides, 'valid');
    (save as tf.GradSaveFunc)([t, y]);
    const value = mayHoldNaN(t) ? (tidy(() => add(y, nanWindows(t, window, strides))) as tf.Tensor4D) : y;
    return { value, gradFunc: grad };
  });
  return run(x) as tf.Tensor4D;
}

/**
 * False where x surely holds no NaN: a read of the sum of its per-image, per-channel means
 * (an average pooling over the whole image, XNNPACK's on wasm: about 5% of the max pool, where
 * tf.sum of x costs half of it), where reads are cheap; else true. The sum is finite only when x
 * holds neither NaN nor ±∞ (XNNPACK's average of a window holding NaN is -∞, cpu's is NaN); x
 * with ±∞, the -∞ padding included, takes the NaN term.
 */
function mayHoldNaN(x: tf.Tensor4D): boolean {
  if (!hasSynchronousReads()) return true;
  const [, h, w] = x.shape;
  const total = tidy(() => sum(avgPool(x, [h, w], [h, w], 'valid')));
  const value = total.dataSync()[0];
  total.dispose();
  return !Number.isFinite(value);
}

/**
 * The gradient of a 'valid' max pooling, from the saved [input, output]: tfjs' MaxPoolGrad where
 * the backend's is right, else einnet's own kernel for the first-maximum rule
 * (backends/wasm-kernels.ts).
 */
function maxPoolGrad(dy: tf.Tensor4D, [input, output]: tf.Tensor4D[], window: [number, number], strides: [number, number]): tf.Tensor4D {
  if (!hasExactMaxPoolGradient() && ownKernelApplies(FIRST_MAX_POOL_GRAD, [input, dy])) {
    const attrs: FirstMaxPoolGradAttrs = { filterSize: window, strides };
    return runKernel<tf.Tensor4D>(FIRST_MAX_POOL_GRAD, { dy, x: input }, attrs);
  }
  return runKernel<tf.Tensor4D>('MaxPoolGrad', { dy, input, output }, { filterSize: window, strides, pad: 'valid' });
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
  if (hasVectorStep()) return mul(avgPool(step(x), window, strides, 'valid'), 0);
  return sqrt(neg(maxPool(cast(tf.isNaN(x), 'float32'), window, strides, 'valid')));
}
