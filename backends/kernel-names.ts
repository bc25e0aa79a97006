/**
 * einnet's own kernel names (tfjs has none for these computations) and the attributes each
 * takes, shared by the ops that call them and the backends that implement them. A backend that
 * registers a kernel under one of these names promises exactly the inputs, attributes and
 * outputs written here; on a backend without it the ops compose tfjs ops instead
 * (`ownKernelApplies`, backends/capabilities.ts).
 */

/** max(a + b, 0) of two same-shape tensors. Inputs `a`, `b`; no attributes. */
export const ADD_RELU = 'EinnetAddRelu';

/** dy where y > 0, else 0. Inputs `dy`, `y` (the relu's output); no attributes. */
export const RELU_GRAD = 'EinnetReluGrad';

/**
 * The gradient through a relu after a bias add, y = relu(z + bias[c]) with c the last axis:
 * dz = dy where y > 0, else 0, and d bias = the sums of dz over every axis but the last. Inputs
 * `dy`, `y`; outputs [dz (shaped like y), d bias ([channels])]; no attributes.
 */
export const RELU_BIAS_GRAD = 'EinnetReluBiasGrad';

/** dy·(1 − y²) (tanh) or dy·y·(1 − y) (sigmoid). Inputs `dy`, `y` (the activation's output). */
export const ACTIVATION_GRAD = 'EinnetActivationGrad';
export interface ActivationGradAttrs {
  /** 0: tanh, 1: sigmoid. */
  op: 0 | 1;
}

/**
 * Mean softmax cross-entropy of scores `z` [rows, classes] against targets `y` (same shape):
 * mean[b] (max Z + log Σ exp(Z − max Z) − Σ Y·Z). Outputs [loss (a scalar), d loss/d z].
 */
export const SOFTMAX_CROSS_ENTROPY = 'EinnetSoftmaxCrossEntropy';

/**
 * 2-D max pooling of an NHWC tensor with 'valid' windows in which a window holding a NaN gives
 * NaN (tfjs' MaxPool skips NaN); otherwise the window's largest value, ±∞ included. Input `x`;
 * output [N, (H − kh)/sh + 1, (W − kw)/sw + 1, C] (floored).
 */
export const MAX_POOL_KEEPING_NAN = 'EinnetMaxPoolKeepingNaN';
export interface MaxPoolKeepingNaNAttrs {
  filterSize: [number, number];
  strides: [number, number];
}

/**
 * ∂(max pooling)/∂x of MAX_POOL_KEEPING_NAN's pooling: each window's dy goes to one element, the
 * first of its largest in row-major window order (NaN skipped; a window of no number gives its
 * first element). Inputs `dy`, `x`; output shaped like x.
 */
export const FIRST_MAX_POOL_GRAD = 'EinnetFirstMaxPoolGrad';
export type FirstMaxPoolGradAttrs = MaxPoolKeepingNaNAttrs;

/**
 * Image patches summed back into the image, the last part of a 2-D convolution's input gradient:
 * input `cols` [N·OH·OW, KH·KW·C], one row per output position (n, u, v) and one column per
 * window element (i, j, c); output [N, H, W, C] (imageShape), whose element
 * [n, sh·u + dh·i − top, sw·v + dw·j − left, c] sums the cols entries of every (u, v, i, j) that
 * lands there (nothing lands in the padding).
 */
export const COL2IM = 'EinnetCol2Im';
export interface Col2ImAttrs {
  imageShape: [number, number, number, number];
  /** OH, OW. */
  outSize: [number, number];
  filterSize: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** Padding before the first row and the first column. */
  padding: [number, number];
}

/**
 * The filter gradient of a 2-D convolution: inputs `x` [N, H, W, C] (the image) and `dy`
 * [N, OH, OW, O] (the output gradient); output [KH, KW, C, O] whose element (i, j, c, o) is the
 * sum over (n, u, v) of x[n, sh·u + dh·i − top, sw·v + dw·j − left, c]·dy[n, u, v, o], the
 * padding counting 0.
 */
export const CONV2D_FILTER_GRAD = 'EinnetConv2DFilterGrad';
export interface Conv2DFilterGradAttrs {
  filterSize: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** Padding before the first row and the first column. */
  padding: [number, number];
}

/** x seen as [rows, channels]: the batch-norm kernels average over the rows. */
export interface BatchNormView {
  rows: number;
  channels: number;
}

/** [2·channels]: μ, then σ = sqrt(variance + ε), of x's columns. Input `x`. */
export const BATCH_STATS = 'EinnetBatchStats';
export interface BatchStatsAttrs extends BatchNormView {
  epsilon: number;
}

/** ∂(μ, σ)/∂x applied to `dstats`. Inputs `dstats`, `x`, `stats`; output shaped like x. */
export const BATCH_STATS_GRAD = 'EinnetBatchStatsGrad';
export type BatchStatsGradAttrs = BatchNormView;

/** (x − μ)/σ · scale + offset, then relu when asked. Inputs `x`, `stats`, optional `scale`, `offset`. */
export const BATCH_NORMALIZE = 'EinnetBatchNormalize';
export interface BatchNormalizeAttrs extends BatchNormView {
  relu: boolean;
}

/**
 * The normalization's gradient. Inputs `dy`, `x`, `stats`, `y` (with relu), optional `scale`;
 * outputs [dx, dscale, doffset] (the last two [channels]).
 */
export const BATCH_NORMALIZE_GRAD = 'EinnetBatchNormalizeGrad';
export type BatchNormalizeGradAttrs = BatchNormalizeAttrs;

/**
 * SGD steps of `count` parameters at once: inputs w{i}, g{i} and, with momentum, v{i}; outputs
 * w{i}' (and v{i}') in that order for each i.
 */
export const SGD_UPDATE = 'EinnetSgdUpdate';
export interface SgdUpdateAttrs {
  count: number;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * Adam steps of `count` parameters at once: inputs w{i}, g{i}, m{i}, v{i}; outputs w{i}', m{i}',
 * v{i}' in that order for each i. c1, c2 are the bias corrections 1 − β1^t, 1 − β2^t.
 */
export const ADAM_UPDATE = 'EinnetAdamUpdate';
export interface AdamUpdateAttrs {
  count: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  decoupled: boolean;
  c1: number;
  c2: number;
}

/** v·m + b·(1 − m) for every statistic i: inputs v{i}, b{i}; outputs v{i}'. */
export const MOVING_AVERAGE = 'EinnetMovingAverage';
export interface MovingAverageAttrs {
  momenta: number[];
}
