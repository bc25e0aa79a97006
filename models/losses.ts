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
 *
 * `softmaxCrossEntropy` computes that loss and its gradient d loss/d Z = (softmax(Z) − Y)/b in one
 * forward pass (a tf.customGrad: the backward pass only scales the saved gradient) — one kernel of
 * einnet's own on the native and wasm backends, tfjs ops elsewhere. SOFTMAX_CROSS_ENTROPY_SOURCE is
 * the same loss in the notation, differentiated by einnet (the tests' reference).
 */
import * as tf from '@tensorflow/tfjs';
import { ownKernelApplies } from '../backends/capabilities';
import { SOFTMAX_CROSS_ENTROPY } from '../backends/kernel-names';
import '../backends/wasm-kernels';
import { ein, type Program } from '../dsl';
import { modelError } from './errors';

/** `(model output, target) → scalar loss`, differentiable. */
export type LossFn = (output: tf.Tensor, target: tf.Tensor) => tf.Scalar;

export const SOFTMAX_CROSS_ENTROPY_SOURCE = `m[b] = max[k] Z[b,k]
lse[b] = m[b] + log(sum[k] exp(Z[b,k] - m[b]))
loss = mean[b] (lse[b] - sum[k] Y[b,k] · Z[b,k])`;

export const MSE_SOURCE = `loss = mean[b,k] square(P[b,k] - T[b,k])`;

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
  return tf.tidy(() => {
    const Y = asOneHot(target, scores.shape[1]!, 'softmaxCrossEntropy');
    if (Y.shape[0] !== scores.shape[0]) throw modelError('EIN4010', 'softmaxCrossEntropy', `${Y.shape[0]} targets for ${scores.shape[0]} score rows`);
    return fusedCrossEntropy(scores.dtype === 'float32' ? scores : scores.cast('float32'), Y);
  });
}

/** The loss and d loss/d Z of scores Z against targets Y [b, k]: one kernel of einnet's own, or tfjs ops. */
function lossAndGradient(Z: tf.Tensor, Y: tf.Tensor): [tf.Scalar, tf.Tensor] {
  if (ownKernelApplies(SOFTMAX_CROSS_ENTROPY, [Z, Y])) {
    return tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { z: Z, y: Y }, {}) as unknown as [tf.Scalar, tf.Tensor];
  }
  const b = Z.shape[0]!;
  const m = tf.max(Z, 1, true);
  const e = tf.exp(tf.sub(Z, m));
  const s = tf.sum(e, 1, true);
  const lse = tf.add(m, tf.log(s)).reshape([b]);
  const loss = tf.mean(tf.sub(lse, tf.sum(tf.mul(Y, Z), 1))) as tf.Scalar;
  return [loss, tf.div(tf.sub(tf.div(e, s), Y), b)];
}

/** Softmax cross-entropy whose backward pass scales the gradient saved by the forward pass. */
const fusedCrossEntropy = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [Z, Y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const [loss, dZ] = lossAndGradient(Z, Y);
  save([dZ, Z]);
  return {
    value: loss,
    // d loss/d Y = −Z/b, for targets that are themselves computed.
    gradFunc: (dy: tf.Tensor, [dz, z]: tf.Tensor[]) => [tf.mul(dz, dy), tf.mul(z, tf.div(dy, -z.shape[0]!))],
  };
}) as (Z: tf.Tensor, Y: tf.Tensor) => tf.Scalar;

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
