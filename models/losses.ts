/**
 * Losses written in the notation, and accuracy.
 *
 * Softmax cross-entropy uses the log-sum-exp with the maximum shifted out, so large scores do not
 * overflow `exp`:
 *
 *   m[b]    = max[k] Z[b,k]
 *   lse[b]  = m[b] + log(sum[k] exp(Z[b,k] - m[b]))
 *   loss    = mean[b] (lse[b] - sum[k] Y[b,k] · Z[b,k])
 *
 * (the gradient through m is zero, as it should be: d lse/d m = 1 − Σ softmax = 0).
 */
import * as tf from '@tensorflow/tfjs';
import { ein, type Program } from '../dsl';
import { modelError } from './errors';

/** `(model output, target) → scalar loss`, differentiable. */
export type LossFn = (output: tf.Tensor, target: tf.Tensor) => tf.Scalar;

export const SOFTMAX_CROSS_ENTROPY_SOURCE = `m[b] = max[k] Z[b,k]
lse[b] = m[b] + log(sum[k] exp(Z[b,k] - m[b]))
loss = mean[b] (lse[b] - sum[k] Y[b,k] · Z[b,k])`;

export const MSE_SOURCE = `loss = mean[b,k] square(P[b,k] - T[b,k])`;

let xent: Program | undefined;
let mseProgram: Program | undefined;

/** One-hot float32 targets from int32 class indices [b] (or float [b, k] passed through). */
export function asOneHot(target: tf.Tensor, classes: number, where: string): tf.Tensor {
  if (target.rank === 2) {
    if (target.shape[1] !== classes) throw modelError('EIN4010', where, `targets have ${target.shape[1]} classes, the output has ${classes}`);
    return target.dtype === 'float32' ? target : target.cast('float32');
  }
  if (target.rank !== 1) throw modelError('EIN4010', where, `targets have rank ${target.rank}`, 'pass class indices [b] (int32) or one-hot [b, k]');
  return tf.oneHot(target.cast('int32'), classes).cast('float32');
}

/**
 * Mean softmax cross-entropy of scores Z [b, k] against class indices [b] or one-hot [b, k].
 *
 * @example
 *   const loss = softmaxCrossEntropy(model.apply({ X }), labels);
 */
export function softmaxCrossEntropy(scores: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (scores.rank !== 2)
    throw modelError('EIN4010', 'softmaxCrossEntropy', `scores have shape [${scores.shape}]`, 'give [batch, classes] scores (logits, before softmax)');
  xent ??= ein(SOFTMAX_CROSS_ENTROPY_SOURCE);
  return tf.tidy(() => {
    const Y = asOneHot(target, scores.shape[1]!, 'softmaxCrossEntropy');
    if (Y.shape[0] !== scores.shape[0]) throw modelError('EIN4010', 'softmaxCrossEntropy', `${Y.shape[0]} targets for ${scores.shape[0]} score rows`);
    const out = xent!.run({ Z: scores, Y });
    return out.loss as tf.Scalar;
  });
}

/** Mean squared error over [b, k] (any rank is flattened to [b, rest]). */
export function meanSquaredError(prediction: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (prediction.size !== target.size)
    throw modelError('EIN4010', 'meanSquaredError', `prediction [${prediction.shape}] and target [${target.shape}] differ in size`);
  mseProgram ??= ein(MSE_SOURCE);
  return tf.tidy(() => {
    const b = prediction.shape[0] ?? 1;
    const P = prediction.reshape([b, -1]);
    const T = target.reshape([b, -1]).cast('float32');
    return mseProgram!.run({ P, T }).loss as tf.Scalar;
  });
}

/** Fraction of rows whose largest score is at the target class (targets: indices or one-hot). */
export function accuracy(scores: tf.Tensor, target: tf.Tensor): number {
  return tf.tidy(() => {
    const want = target.rank === 2 ? target.argMax(1) : target.cast('int32');
    return scores.argMax(1).equal(want).cast('float32').mean().dataSync()[0];
  });
}

/** Number of rows whose largest score is at the target class. */
export function correctCount(scores: tf.Tensor, target: tf.Tensor): number {
  return tf.tidy(() => {
    const want = target.rank === 2 ? target.argMax(1) : target.cast('int32');
    return scores.argMax(1).equal(want).cast('float32').sum().dataSync()[0];
  });
}

/**
 * `accuracy`, read with `await data()`: in a page on webgpu, where a synchronous read blocks on
 * the GPU (and returns zeros on software WebGPU).
 */
export async function accuracyAsync(scores: tf.Tensor, target: tf.Tensor): Promise<number> {
  return readScalar(tf.tidy(() => matches(scores, target).mean()));
}

/** `correctCount`, read with `await data()` (see accuracyAsync). */
export async function correctCountAsync(scores: tf.Tensor, target: tf.Tensor): Promise<number> {
  return readScalar(tf.tidy(() => matches(scores, target).sum()));
}

/** 1 where the largest score is at the target class, else 0 (float32, one per row). */
function matches(scores: tf.Tensor, target: tf.Tensor): tf.Tensor {
  const want = target.rank === 2 ? target.argMax(1) : target.cast('int32');
  return scores.argMax(1).equal(want).cast('float32');
}

async function readScalar(t: tf.Tensor): Promise<number> {
  try {
    return (await t.data())[0];
  } finally {
    t.dispose();
  }
}

/** The loss for a name: 'softmaxCrossEntropy' (alias 'crossEntropy') or 'mse'. */
export function lossByName(name: string | LossFn): LossFn {
  if (typeof name === 'function') return name;
  if (name === 'softmaxCrossEntropy' || name === 'crossEntropy') return softmaxCrossEntropy;
  if (name === 'mse' || name === 'meanSquaredError') return meanSquaredError;
  throw modelError('EIN4010', 'loss', `unknown loss '${name}'`, undefined, "'softmaxCrossEntropy', 'mse' or a function (output, target) => tf.Scalar");
}
