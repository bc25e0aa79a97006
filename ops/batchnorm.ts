/**
 * The batch-normalization route's four computations (dsl/lower/routes/batchnorm.ts): statistics,
 * normalization and the gradient of each. On the native backend, when the averaged axes are the
 * leading ones (x seen as [rows, C], the NHWC case), one kernel each (backends/native/batchnorm.ts);
 * elsewhere a few tfjs ops over keep-dims shapes, which work for any axes on every backend.
 *
 * `stats` is always flat, [2·K] for K kept elements: μ's values, then σ = sqrt(variance + ε).
 */
import * as tf from '@tensorflow/tfjs';
import { ownKernelApplies } from '../backends/capabilities';
import { runKernel } from '../backends/engine-internals';
import {
  BATCH_NORMALIZE,
  BATCH_NORMALIZE_GRAD,
  BATCH_STATS,
  BATCH_STATS_GRAD,
  type BatchNormalizeAttrs,
  type BatchNormalizeGradAttrs,
  type BatchStatsAttrs,
  type BatchStatsGradAttrs,
  type BatchNormView,
} from '../backends/kernel-names';

// Bound once (backends/engine-internals.ts says why).
const { add, concat, div, mean, mul, neg, onesLike, reciprocal, reshape, slice, sqrt, square, step, sub, sum, tidy } = tf;

/** rows × channels when the native kernels can take x (float32, averaged axes leading); else undefined. */
function nativeView(x: tf.Tensor, reduced: readonly number[]): BatchNormView | undefined {
  if (!ownKernelApplies(BATCH_STATS, [x]) || !reduced.every((a, k) => a === k)) return undefined;
  const rows = rowsOf(x, reduced);
  return { rows, channels: x.size / rows };
}

/** x's shape with 1 on the averaged axes: μ, σ, γ, β broadcast from it. */
function keepDims(x: tf.Tensor, reduced: readonly number[]): number[] {
  return x.shape.map((d, a) => (reduced.includes(a) ? 1 : d));
}

function rowsOf(x: tf.Tensor, reduced: readonly number[]): number {
  return reduced.reduce((p, a) => p * x.shape[a], 1);
}

/** μ and σ as keep-dims tensors. */
function meanAndStd(stats: tf.Tensor, x: tf.Tensor, reduced: readonly number[]): [tf.Tensor, tf.Tensor] {
  const shape = keepDims(x, reduced);
  const half = stats.size / 2;
  return [reshape(slice(stats, [0], [half]), shape), reshape(slice(stats, [half], [half]), shape)];
}

/** [2·K]: μ and sqrt(mean of squared deviations + ε) of x over `reduced`, flat. */
export function batchStats(x: tf.Tensor, reduced: readonly number[], epsilon: number): tf.Tensor {
  const view = nativeView(x, reduced);
  if (view !== undefined) return runKernel(BATCH_STATS, { x }, { ...view, epsilon } satisfies BatchStatsAttrs);
  return tidy(() => {
    const mu = mean(x, [...reduced], true);
    const variance = mean(square(sub(x, mu)), [...reduced]);
    return concat([reshape(mu, [-1]), reshape(sqrt(add(variance, epsilon)), [-1])]);
  });
}

/** The gradient of x through μ and σ: (dμ + dσ·(x − μ)/σ) / rows. */
export function batchStatsGrad(dstats: tf.Tensor, x: tf.Tensor, stats: tf.Tensor, reduced: readonly number[]): tf.Tensor {
  const view = nativeView(x, reduced);
  if (view !== undefined) return runKernel(BATCH_STATS_GRAD, { dstats, x, stats }, { ...view } satisfies BatchStatsGradAttrs);
  return tidy(() => {
    const [mu, sigma] = meanAndStd(stats, x, reduced);
    const [dmu, dsigma] = meanAndStd(dstats, x, reduced);
    return div(add(dmu, mul(dsigma, div(sub(x, mu), sigma))), rowsOf(x, reduced));
  });
}

/** (x − μ)/σ · γ + β, then relu when asked; `scale` (γ) and `offset` (β) have μ's shape. */
export function batchNormalize(
  x: tf.Tensor,
  stats: tf.Tensor,
  scale: tf.Tensor | undefined,
  offset: tf.Tensor | undefined,
  reduced: readonly number[],
  relu: boolean,
): tf.Tensor {
  const view = nativeView(x, reduced);
  if (view !== undefined) {
    const inputs: tf.NamedTensorMap = { x, stats };
    if (scale !== undefined) inputs.scale = scale;
    if (offset !== undefined) inputs.offset = offset;
    return runKernel(BATCH_NORMALIZE, inputs, { ...view, relu } satisfies BatchNormalizeAttrs);
  }
  return tidy(() => {
    const shape = keepDims(x, reduced);
    const [mu, sigma] = meanAndStd(stats, x, reduced);
    const a = scale === undefined ? reciprocal(sigma) : div(reshape(scale, shape), sigma);
    let y = mul(sub(x, mu), a);
    if (offset !== undefined) y = add(y, reshape(offset, shape));
    return relu ? tf.relu(y) : y;
  });
}

/**
 * The gradient of the whole normalization y = relu?((x − μ(x))/σ(x)·γ + β): with dz = dy (masked
 * by y > 0 under relu) and x̂ = (x − μ)/σ,
 *   dβ = Σ dz,  dγ = Σ dz·x̂,  dx = γ/σ · (dz − dβ/rows − x̂·dγ/rows).
 * Returns [dx, dγ, dβ] (dγ, dβ with μ's shape).
 */
export function batchNormalizeGrad(
  dy: tf.Tensor,
  x: tf.Tensor,
  y: tf.Tensor,
  stats: tf.Tensor,
  scale: tf.Tensor | undefined,
  reduced: readonly number[],
  relu: boolean,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const kept = x.shape.filter((_, a) => !reduced.includes(a));
  const view = nativeView(x, reduced);
  if (view !== undefined && ownKernelApplies(BATCH_NORMALIZE_GRAD, [dy])) {
    const inputs: tf.NamedTensorMap = { dy, x, stats };
    if (relu) inputs.y = y;
    if (scale !== undefined) inputs.scale = scale;
    const [dx, dscale, doffset] = runKernel<tf.Tensor[]>(BATCH_NORMALIZE_GRAD, inputs, { ...view, relu } satisfies BatchNormalizeGradAttrs);
    return [dx, reshapeOwned(dscale, kept), reshapeOwned(doffset, kept)];
  }
  return tidy(() => {
    const shape = keepDims(x, reduced);
    const rows = rowsOf(x, reduced);
    const [mu, sigma] = meanAndStd(stats, x, reduced);
    const dz = relu ? mul(dy, step(y)) : dy;
    const xhat = div(sub(x, mu), sigma);
    const doffset = sum(dz, [...reduced], true);
    const dscale = sum(mul(dz, xhat), [...reduced], true);
    const gamma = scale === undefined ? onesLike(sigma) : reshape(scale, shape);
    const centred = sub(sub(dz, div(doffset, rows)), mul(xhat, div(dscale, rows)));
    const dx = mul(div(gamma, sigma), centred);
    return [dx, reshape(dscale, kept), reshape(doffset, kept)];
  });
}

/**
 * (x − μ)/σ · γ + β, then relu when asked, with μ and σ given over the kept axes (batch norm in
 * evaluation): the normalization kernel fed μ and σ as its statistics.
 */
export function normalizeGiven(
  x: tf.Tensor,
  mu: tf.Tensor,
  sigma: tf.Tensor,
  scale: tf.Tensor | undefined,
  offset: tf.Tensor | undefined,
  reduced: readonly number[],
  relu: boolean,
): tf.Tensor {
  return tidy(() => batchNormalize(x, concat([reshape(mu, [-1]), reshape(sigma, [-1])]), scale, offset, reduced, relu));
}

/**
 * The gradients of `normalizeGiven`, one function per operand [x, μ, σ, γ?, β?], so that only
 * those asked for are computed. With dz = dy (masked by y > 0 under relu), g = γ/σ and
 * x̂ = (x − μ)/σ: dx = dz·g, dμ = −Σ dz·g, dσ = −Σ dz·x̂·g, dγ = Σ dz·x̂, dβ = Σ dz.
 */
export function normalizeGivenGrads(
  dy: tf.Tensor,
  x: tf.Tensor,
  y: tf.Tensor,
  mu: tf.Tensor,
  sigma: tf.Tensor,
  scale: tf.Tensor | undefined,
  reduced: readonly number[],
  relu: boolean,
  offset: boolean,
): (() => tf.Tensor)[] {
  const shape = keepDims(x, reduced);
  const kept = [...mu.shape];
  const dz = () => (relu ? mul(dy, step(y)) : dy);
  const sigmaView = () => reshape(sigma, shape);
  const g = () => (scale === undefined ? reciprocal(sigmaView()) : div(reshape(scale, shape), sigmaView()));
  const xhat = () => div(sub(x, reshape(mu, shape)), sigmaView());
  const sumReduced = (t: tf.Tensor) => reshape(sum(t, [...reduced]), kept);
  const grads = [() => mul(dz(), g()), () => neg(sumReduced(mul(dz(), g()))), () => neg(sumReduced(mul(mul(dz(), xhat()), g())))];
  if (scale !== undefined) grads.push(() => sumReduced(mul(dz(), xhat())));
  if (offset) grads.push(() => sumReduced(dz()));
  return grads;
}

/** `t` reshaped, disposing `t` when the reshape made a new tensor. */
function reshapeOwned(t: tf.Tensor, shape: number[]): tf.Tensor {
  if (t.shape.length === shape.length && t.shape.every((d, k) => d === shape[k])) return t;
  const r = reshape(t, shape);
  t.dispose();
  return r;
}
