/**
 * Convolution on tfjs, with the backend quirks routed around:
 * - padding is explicit (conv2d, depthwiseConv2d), or a pad before conv3d, which takes only
 *   'same'/'valid';
 * - tfjs conv2d refuses stride > 1 together with dilation > 1: the conv then runs with stride 1
 *   and its output is subsampled (exact; costs s² more arithmetic, said by explain());
 * - the pad before conv3d is one axis at a time where the backend's rank-5 pad is wrong (webgl).
 * Gradients are not decided here: dsl/run wraps the forward in tf.customGrad; `convImageGradient`
 * and `convFilterGradient` are the gradients where the backend has einnet's kernels for them.
 */
import * as tf from '@tensorflow/tfjs';
import { ownKernelApplies } from '../backends/capabilities';
import { COL2IM, CONV2D_FILTER_GRAD, type Col2ImAttrs, type Conv2DFilterGradAttrs } from '../backends/kernel-names';
import { runKernel } from '../backends/engine-internals';
import '../backends/wasm-kernels';
import { padAnyRank } from './rank';
import { reluGrad } from './residual';

// Bound once (backends/engine-internals.ts says why).
const {
  add,
  Conv2D,
  conv2d,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  conv3d,
  depthwiseConv2d,
  fused,
  FusedConv2D,
  matMul,
  pad,
  relu,
  reshape,
  sigmoid,
  slice,
  sum,
  tidy,
  transpose,
} = tf;

/** A convolution: image [N, spatial…, C], filter [k…, C, O] (depthwise: [k…, C, M]). */
export interface ConvParams {
  /** Spatial axes: 2 (1-D runs as 2-D) or 3. */
  readonly rank: 2 | 3;
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Zero padding before and after each spatial axis. */
  readonly padding: readonly (readonly [number, number])[];
  readonly depthwise: boolean;
  /** Applied after the bias, when given. */
  readonly activation?: 'relu' | 'sigmoid';
}

/** Every s-th element along each spatial axis (axes 1 … rank), by slice + reshape (no stridedSlice: it has no gradient). */
export function subsample(x: tf.Tensor, strides: readonly number[]): tf.Tensor {
  let y = x;
  strides.forEach((s, k) => {
    if (s === 1) return;
    const axis = k + 1;
    const shape = y.shape;
    const n = Math.ceil(shape[axis] / s);
    const padded = pad(y, shape.map((_, j) => (j === axis ? [0, n * s - shape[axis]] : [0, 0])) as [number, number][]);
    const split = [...shape.slice(0, axis), n, s, ...shape.slice(axis + 1)];
    const picked = slice(
      reshape(padded, split),
      split.map(() => 0),
      split.map((d, j) => (j === axis + 1 ? 1 : d)),
    );
    y = reshape(
      picked,
      shape.map((d, j) => (j === axis ? n : d)),
    );
  });
  return y;
}

/** Whether any of `values` exceeds 1 (a stride or dilation that is not trivial). */
function anyAbove1(values: readonly number[]): boolean {
  for (const v of values) if (v > 1) return true;
  return false;
}

/** The attributes of tfjs' Conv2D kernel for a 2-D convolution, made once per convolution. */
interface Conv2DAttrs {
  readonly strides: [number, number];
  readonly pad: tf.backend_util.ExplicitPadding;
  readonly dataFormat: 'NHWC';
  readonly dilations: [number, number];
}

const conv2dAttrsOf = new WeakMap<ConvParams, Conv2DAttrs>();

function conv2dAttrs(s: ConvParams): Conv2DAttrs {
  let a = conv2dAttrsOf.get(s);
  if (a === undefined) {
    a = {
      strides: [s.strides[0], s.strides[1]],
      pad: [
        [0, 0],
        [s.padding[0][0], s.padding[0][1]],
        [s.padding[1][0], s.padding[1][1]],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [s.dilations[0], s.dilations[1]],
    };
    conv2dAttrsOf.set(s, a);
  }
  return a;
}

/** The convolution `s` of `image` by `filter`, without its epilogue. */
export function convForward(s: ConvParams, image: tf.Tensor, filter: tf.Tensor): tf.Tensor {
  const both = anyAbove1(s.strides) && anyAbove1(s.dilations);
  const strides = both ? s.strides.map(() => 1) : [...s.strides];
  let y: tf.Tensor;
  if (s.rank === 2) {
    const st = strides as [number, number];
    const { pad, dilations } = conv2dAttrs(s);
    y = s.depthwise
      ? depthwiseConv2d(image as tf.Tensor4D, filter as tf.Tensor4D, st, pad, 'NHWC', dilations)
      : conv2d(image as tf.Tensor4D, filter as tf.Tensor4D, st, pad, 'NHWC', dilations);
  } else {
    // conv3d takes no explicit padding.
    const padded = padAnyRank(image, [[0, 0], ...s.padding.map((p) => [p[0], p[1]] as [number, number]), [0, 0]]);
    y = conv3d(padded as tf.Tensor5D, filter as tf.Tensor5D, strides as [number, number, number], 'valid', 'NDHWC', [...s.dilations] as [
      number,
      number,
      number,
    ]);
  }
  return both ? subsample(y, s.strides) : y;
}

/**
 * The convolution with its fused epilogue (bias over output channels, then the activation). A 2-D
 * convolution runs its kernel directly (Conv2D, or FusedConv2D with the epilogue): the same kernel
 * tf.conv2d runs, without the op's argument checks, which the plan has made already. Others run
 * tf.fused.conv2d / depthwiseConv2d where one op can do it, else the ops in sequence. Leaves no
 * tensor allocated but the result.
 */
export function convForwardFused(s: ConvParams, image: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
  const dilated = anyAbove1(s.dilations);
  const both = dilated && anyAbove1(s.strides);
  if (s.rank === 2 && !s.depthwise && !both) {
    const attrs = conv2dAttrs(s);
    if (bias === undefined && s.activation === undefined) {
      return runKernel(Conv2D, { x: image, filter }, attrs);
    }
    const args = { x: image as tf.Tensor4D, filter: filter as tf.Tensor4D, ...attrs, bias, activation: s.activation ?? ('linear' as const) };
    if (s.activation === 'sigmoid' || dilated) return fused.conv2d(args);
    return fusedConv2dKernel(args);
  }
  // tf.fused.depthwiseConv2d takes no explicit padding.
  if (s.rank === 2 && s.depthwise && !both && (bias !== undefined || s.activation !== undefined) && s.padding.every(([a, b]) => a === 0 && b === 0)) {
    const attrs = conv2dAttrs(s);
    return fused.depthwiseConv2d({
      x: image as tf.Tensor4D,
      filter: filter as tf.Tensor4D,
      strides: attrs.strides,
      pad: 'valid',
      dataFormat: 'NHWC',
      dilations: attrs.dilations,
      bias,
      activation: s.activation ?? ('linear' as const),
    });
  }
  return tidy(() => {
    let y = convForward(s, image, filter);
    if (bias !== undefined) y = add(y, bias);
    if (s.activation === 'relu') y = relu(y);
    if (s.activation === 'sigmoid') y = sigmoid(y);
    return y;
  });
}

let fusedGradientRegistered = false;

/**
 * tf.fused.conv2d differentiates through tf.customGrad, which computes the gradient of every
 * input — the image's too when the image is data (a network's first layer: 1.1 ms of a 7.5 ms
 * LeNet-5 step on the native backend, thrown away). Running the FusedConv2D kernel directly puts
 * it on the tape with the gradient below, whose parts tfjs evaluates only for the inputs that
 * lead to a variable. Linear and relu epilogues, dilation 1 (the caller's conditions).
 */
function fusedConv2dKernel(args: {
  x: tf.Tensor4D;
  filter: tf.Tensor4D;
  bias?: tf.Tensor;
  strides: [number, number];
  pad: tf.backend_util.ExplicitPadding;
  dilations: [number, number];
  activation: 'relu' | 'linear' | 'sigmoid';
}): tf.Tensor {
  if (!fusedGradientRegistered) {
    tf.registerGradient({ kernelName: FusedConv2D, inputsToSave: ['x', 'filter'], outputsToSave: [true], gradFunc: fusedConv2dGradient });
    fusedGradientRegistered = true;
  }
  const inputs: tf.NamedTensorMap = { x: args.x, filter: args.filter };
  if (args.bias !== undefined) inputs.bias = args.bias;
  const attrs = { strides: args.strides, pad: args.pad, dataFormat: 'NHWC', dilations: args.dilations, activation: args.activation, leakyreluAlpha: 0 };
  return runKernel(FusedConv2D, inputs, attrs);
}

const fusedConv2dGradient: tf.GradFunc = (dy, saved, attrs) => {
  const [x, filter, y] = saved;
  const { strides, pad, dataFormat, activation } = attrs;
  // Computed here, not in the parts: tfjs runs each part in a tidy of its own, and the backward
  // pass's tidy releases this once all parts ran.
  // (The relu's gradient is one pass where the backend has einnet's kernel for it, native.)
  const dz = activation === 'relu' ? reluGrad(dy as tf.Tensor, y) : (dy as tf.Tensor);
  const common = { strides, pad, dataFormat, dimRoundingMode: undefined };
  return {
    x: () => runKernel(Conv2DBackpropInput, { dy: dz, filter }, { ...common, inputShape: x.shape }),
    filter: () => runKernel(Conv2DBackpropFilter, { x, dy: dz }, { ...common, filterShape: filter.shape }),
    bias: () => sum(dz, [0, 1, 2]),
  };
};

/**
 * The gradient of the 2-D (not depthwise) convolution `s` with respect to its image, of shape
 * `imageShape`, from the output gradient dz [N, OH, OW, O] and the filter [KH, KW, C, O]: one
 * product, (dz as [N·OH·OW, O]) · (filter as [KH·KW·C, O])ᵀ, gives each output position's share
 * of each window element, and einnet's col2im kernel sums the shares back into the image. Where
 * the backend lacks that kernel (backends/capabilities.ts) or the conv is of another kind,
 * undefined: the caller differentiates it another way. The result has no gradient of its own.
 */
export function convImageGradient(s: ConvParams, dz: tf.Tensor, filter: tf.Tensor, imageShape: readonly number[]): tf.Tensor | undefined {
  if (s.rank !== 2 || s.depthwise || !ownKernelApplies(COL2IM, [dz, filter])) return undefined;
  const [kh, kw, c, o] = filter.shape;
  const [n, oh, ow] = dz.shape;
  const attrs: Col2ImAttrs = {
    imageShape: [...imageShape] as Col2ImAttrs['imageShape'],
    outSize: [oh, ow],
    filterSize: [kh, kw],
    strides: [s.strides[0], s.strides[1]],
    dilations: [s.dilations[0], s.dilations[1]],
    padding: [s.padding[0][0], s.padding[1][0]],
  };
  return tidy(() => {
    const cols = matMul(reshape(dz, [n * oh * ow, o]), transpose(reshape(filter, [kh * kw * c, o])));
    return runKernel<tf.Tensor>(COL2IM, { cols }, attrs);
  });
}

/**
 * The gradient of the 2-D (not depthwise) convolution `s` with respect to its filter, from the
 * image x and the output gradient dz [N, OH, OW, O]: einnet's filter-gradient kernel where the
 * backend has it, else (or for another kind of conv) undefined, and the caller differentiates it
 * another way. The result has no gradient of its own.
 */
export function convFilterGradient(s: ConvParams, x: tf.Tensor, dz: tf.Tensor, filterShape: readonly number[]): tf.Tensor | undefined {
  if (s.rank !== 2 || s.depthwise || !ownKernelApplies(CONV2D_FILTER_GRAD, [x, dz])) return undefined;
  const attrs: Conv2DFilterGradAttrs = {
    filterSize: [filterShape[0], filterShape[1]],
    strides: [s.strides[0], s.strides[1]],
    dilations: [s.dilations[0], s.dilations[1]],
    padding: [s.padding[0][0], s.padding[1][0]],
  };
  return runKernel<tf.Tensor>(CONV2D_FILTER_GRAD, { x, dy: dz }, attrs);
}
