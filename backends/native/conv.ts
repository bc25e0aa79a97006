/**
 * Convolution kernels on oneDNN: Conv2D, FusedConv2D, their two gradients, the depthwise family
 * and Conv3D with its gradients. tfjs' own shape helpers (`computeConv2DInfo`, ...) compute
 * output sizes and padding exactly as the CPU kernels do; we translate the result into oneDNN's
 * terms (src/addon.cc, `ConvGeometry`) and let oneDNN read tfjs' arrays in place (Winograd
 * convolutions, which take blocked activations only, reorder them in the addon).
 */
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_CODES } from './addon';
import { f32, nativeKernel, output, sizeOf, unsupportedInputs, type Plan } from './kernel';

type Conv2DInfo = tf.backend_util.Conv2DInfo;
type Conv3DInfo = tf.backend_util.Conv3DInfo;
type DataFormat = 'NHWC' | 'NCHW';
type Rounding = 'floor' | 'round' | 'ceil' | undefined;
type Pad2D = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Pair = number | [number, number];
type Triple = number | [number, number, number];

/** A convolution in oneDNN's terms, spatial arrays outermost-first (depth, height, width). */
export interface ConvGeometry {
  readonly channelsLast: boolean;
  readonly depthwise: boolean;
  readonly n: number;
  readonly c: number;
  readonly oc: number;
  readonly input: number[];
  readonly output: number[];
  readonly kernel: number[];
  readonly stride: number[];
  /** Dilation rate (1 = dense); oneDNN's form (rate - 1) is made in `convParams`. */
  readonly dilation: number[];
  readonly padL: number[];
  readonly padR: number[];
}

export function geometry2D(info: Conv2DInfo, depthwise: boolean): ConvGeometry {
  const p = info.padInfo;
  return {
    channelsLast: info.dataFormat === 'channelsLast',
    depthwise,
    n: info.batchSize,
    c: info.inChannels,
    oc: info.outChannels,
    input: [info.inHeight, info.inWidth],
    output: [info.outHeight, info.outWidth],
    kernel: [info.filterHeight, info.filterWidth],
    stride: [info.strideHeight, info.strideWidth],
    dilation: [info.dilationHeight, info.dilationWidth],
    padL: [p.top, p.left],
    padR: [p.bottom, p.right],
  };
}

export function geometry3D(info: Conv3DInfo): ConvGeometry {
  const p = info.padInfo;
  return {
    channelsLast: info.dataFormat === 'channelsLast',
    depthwise: false,
    n: info.batchSize,
    c: info.inChannels,
    oc: info.outChannels,
    input: [info.inDepth, info.inHeight, info.inWidth],
    output: [info.outDepth, info.outHeight, info.outWidth],
    kernel: [info.filterDepth, info.filterHeight, info.filterWidth],
    stride: [info.strideDepth, info.strideHeight, info.strideWidth],
    dilation: [info.dilationDepth, info.dilationHeight, info.dilationWidth],
    padL: [p.front, p.top, p.left],
    padR: [p.back, p.bottom, p.right],
  };
}

/**
 * oneDNN requires `out = floor((in - effectiveKernel + padL + padR) / stride) + 1` on every
 * axis. tfjs does not always agree with itself: numeric padding rounds the output extent
 * (truncating by default, or 'round' / 'ceil'), and computes it from the filter's height and
 * the height stride for both axes. tfjs' kernels then simply produce `out` positions, reading
 * zeros outside the input. The same result comes from oneDNN with the end padding `padR` set so
 * the formula yields `out`: wider when tfjs has more outputs, narrower — even negative, cutting
 * off input rows no window reaches — when it has fewer. Returns why not when no such padding
 * exists (oneDNN needs `padR > -stride`).
 */
export function normaliseGeometry(g: ConvGeometry): ConvGeometry | string {
  const padR = [...g.padR];
  for (let i = 0; i < g.input.length; i++) {
    if (g.stride[i] < 1 || g.dilation[i] < 1) return `stride or dilation below 1 on spatial axis ${i}`;
    if (g.padL[i] < 0 || g.padR[i] < 0) return `negative padding on spatial axis ${i}`;
    if (g.output[i] < 1) return `empty output on spatial axis ${i}`;
    const effective = (g.kernel[i] - 1) * g.dilation[i] + 1;
    const formula = (pr: number) => Math.floor((g.input[i] - effective + g.padL[i] + pr) / g.stride[i]) + 1;
    if (formula(padR[i]) !== g.output[i]) {
      // Every padR in [least, least + stride - 1] gives `out`; the largest cuts off the least.
      const least = (g.output[i] - 1) * g.stride[i] + effective - g.input[i] - g.padL[i];
      const chosen = least + g.stride[i] - 1;
      if (chosen + g.stride[i] <= 0 || formula(chosen) !== g.output[i]) {
        return `output extent ${g.output[i]} on spatial axis ${i} is not what oneDNN computes (${formula(padR[i])})`;
      }
      padR[i] = least >= 0 ? least : chosen;
    }
  }
  if (g.depthwise && g.oc % g.c !== 0) return 'depthwise output channels are not a multiple of the input channels';
  return { ...g, padR };
}

/** The Int32Array layout src/addon.cc reads (see `ConvGeometry` there). */
export function convParams(g: ConvGeometry): Int32Array {
  return Int32Array.from([
    g.input.length,
    g.channelsLast ? 1 : 0,
    g.depthwise ? 1 : 0,
    g.n,
    g.c,
    g.oc,
    ...g.input,
    ...g.output,
    ...g.kernel,
    ...g.stride,
    ...g.dilation.map((d) => d - 1),
    ...g.padL,
    ...g.padR,
  ]);
}

/** tfjs fused activations oneDNN applies as a post-op; undefined for the ones it does not (prelu). */
export function activationCode(activation: unknown): number | undefined {
  if (activation === undefined || activation === null || activation === 'linear') return ACTIVATION_CODES.linear;
  if (typeof activation === 'string' && activation in ACTIVATION_CODES) {
    return ACTIVATION_CODES[activation as keyof typeof ACTIVATION_CODES];
  }
  return undefined;
}

/**
 * Whether `bias` adds one value per output channel (the only bias oneDNN's convolution takes):
 * `[C]`, or for channels-last `[1,...,1,C]`, for channels-first `[C,1,1]` / `[1,C,1,1]`.
 */
export function isPerChannelBias(bias: tf.TensorInfo, channels: number, channelsLast: boolean, outRank: number): boolean {
  const s = bias.shape;
  if (sizeOf(s) !== channels) return false;
  if (s.length === 1) return true;
  if (s.length > outRank) return false;
  const channelAxis = channelsLast ? s.length - 1 : s.length - (outRank - 1);
  return channelAxis >= 0 && s[channelAxis] === channels;
}

function dataFormatOf(f: unknown): 'channelsLast' | 'channelsFirst' {
  return tf.backend_util.convertConv2DDataFormat((f ?? 'NHWC') as DataFormat);
}

// ---------------------------------------------------------------------------------------------
// 2D (dense and depthwise)

/** A 2-D conv in both tfjs' terms (for the output shape) and oneDNN's (`params` for the addon). */
interface Planned2D {
  readonly info: tf.backend_util.Conv2DInfo;
  readonly g: ConvGeometry;
  readonly params: Int32Array;
}

/**
 * Planned geometries by shapes and attributes, or why oneDNN cannot take them. Working one out
 * costs some microseconds and ~4 KB of garbage; a training step asks ~60 times for a handful of
 * distinct convolutions. Bounded: emptied when it holds PLAN_CACHE_SIZE entries.
 */
const planned2D = new Map<string, Planned2D | string>();
const PLAN_CACHE_SIZE = 512;

function plan2D(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  a: Record<string, unknown>,
  depthwise: boolean,
  format: 'channelsLast' | 'channelsFirst',
): Planned2D | string {
  const key = `${depthwise ? 'dw' : 'conv'} ${format} ${inputShape} ${filterShape} ${String(a.strides)} ${String(a.dilations ?? 1)} ${String(a.pad)} ${String(a.dimRoundingMode)}`;
  let p = planned2D.get(key);
  if (p === undefined) {
    // tfjs' own geometry from the kernel's attributes, so ours always agrees with it.
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      filterShape,
      a.strides as Pair,
      (a.dilations ?? 1) as Pair,
      a.pad as Pad2D,
      a.dimRoundingMode as Rounding,
      depthwise,
      format,
    );
    const g = normaliseGeometry(geometry2D(info, depthwise));
    p = typeof g === 'string' ? g : { info, g, params: convParams(g) };
    if (planned2D.size >= PLAN_CACHE_SIZE) planned2D.clear();
    planned2D.set(key, p);
  }
  return p;
}

function forward2D(depthwise: boolean, fused: boolean): Parameters<typeof nativeKernel>[1] {
  return ({ inputs, backend, attrs }, addon): Plan => {
    const { x, filter } = inputs as Record<string, tf.TensorInfo>;
    const bias = inputs.bias ?? undefined;
    const preluActivationWeights = inputs.preluActivationWeights ?? undefined;
    const a = attrs ?? {};
    const bad = unsupportedInputs(x, filter, bias);
    if (bad !== undefined) return bad;
    if (preluActivationWeights !== undefined) return 'prelu activation';
    const act = fused ? activationCode(a.activation) : ACTIVATION_CODES.linear;
    if (act === undefined) return `activation '${String(a.activation)}'`;
    const format = depthwise ? 'channelsLast' : dataFormatOf(a.dataFormat);
    if (depthwise && a.dataFormat === 'NCHW') return 'depthwise NCHW';
    const p = plan2D(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], a, depthwise, format);
    if (typeof p === 'string') return p;
    if (bias !== undefined && !isPerChannelBias(bias, p.g.oc, p.g.channelsLast, 4)) return `bias of shape [${bias.shape}]`;
    const alpha = a.activation === 'leakyrelu' ? Number(a.leakyreluAlpha ?? 0.2) : 0;
    return () =>
      output(backend, p.info.outShape, (y) =>
        addon.convForward(p.params, f32(backend, x), f32(backend, filter), bias ? f32(backend, bias) : null, y, act, alpha),
      );
  };
}

function backpropInput2D(depthwise: boolean): Parameters<typeof nativeKernel>[1] {
  return ({ inputs, backend, attrs }, addon): Plan => {
    const { dy, filter } = inputs as Record<string, tf.TensorInfo>;
    const a = attrs ?? {};
    const bad = unsupportedInputs(dy, filter);
    if (bad !== undefined) return bad;
    const inputShape = a.inputShape as [number, number, number, number];
    const format = depthwise ? 'channelsLast' : dataFormatOf(a.dataFormat);
    const p = plan2D(inputShape, filter.shape as [number, number, number, number], a, depthwise, format);
    if (typeof p === 'string') return p;
    if (sizeOf(dy.shape) !== sizeOf(p.info.outShape)) return 'dy does not have the output shape';
    return () => output(backend, [...inputShape], (dx) => addon.convBackwardData(p.params, f32(backend, dy), f32(backend, filter), dx));
  };
}

function backpropFilter2D(depthwise: boolean): Parameters<typeof nativeKernel>[1] {
  return ({ inputs, backend, attrs }, addon): Plan => {
    const { x, dy } = inputs as Record<string, tf.TensorInfo>;
    const a = attrs ?? {};
    const bad = unsupportedInputs(x, dy);
    if (bad !== undefined) return bad;
    const filterShape = a.filterShape as [number, number, number, number];
    const format = depthwise ? 'channelsLast' : dataFormatOf(a.dataFormat);
    const p = plan2D(x.shape as [number, number, number, number], filterShape, a, depthwise, format);
    if (typeof p === 'string') return p;
    if (sizeOf(dy.shape) !== sizeOf(p.info.outShape)) return 'dy does not have the output shape';
    return () => output(backend, [...filterShape], (dw) => addon.convBackwardWeights(p.params, f32(backend, x), f32(backend, dy), dw));
  };
}

// ---------------------------------------------------------------------------------------------
// 3D (NDHWC, as tfjs' conv3d)

type Shape5 = [number, number, number, number, number];

function conv3DInfo(inShape: Shape5, filterShape: Shape5, a: tf.NamedAttrMap): Conv3DInfo {
  return tf.backend_util.computeConv3DInfo(inShape, filterShape, a.strides as Triple, (a.dilations ?? 1) as Triple, a.pad as 'same' | 'valid');
}

const conv3D: Parameters<typeof nativeKernel>[1] = ({ inputs, backend, attrs }, addon) => {
  const { x, filter } = inputs as Record<string, tf.TensorInfo>;
  const bad = unsupportedInputs(x, filter);
  if (bad !== undefined) return bad;
  const info = conv3DInfo(x.shape as Shape5, filter.shape as Shape5, attrs ?? {});
  const g = normaliseGeometry(geometry3D(info));
  if (typeof g === 'string') return g;
  return () => output(backend, info.outShape, (y) => addon.convForward(convParams(g), f32(backend, x), f32(backend, filter), null, y, 0, 0));
};

const conv3DBackpropInput: Parameters<typeof nativeKernel>[1] = ({ inputs, backend, attrs }, addon) => {
  const { dy, filter } = inputs as Record<string, tf.TensorInfo>;
  const bad = unsupportedInputs(dy, filter);
  if (bad !== undefined) return bad;
  const inputShape = (attrs ?? {}).inputShape as Shape5;
  const info = conv3DInfo(inputShape, filter.shape as Shape5, { ...attrs, dilations: 1 });
  const g = normaliseGeometry(geometry3D(info));
  if (typeof g === 'string') return g;
  if (sizeOf(dy.shape) !== sizeOf(info.outShape)) return 'dy does not have the output shape';
  return () => output(backend, [...inputShape], (dx) => addon.convBackwardData(convParams(g), f32(backend, dy), f32(backend, filter), dx));
};

const conv3DBackpropFilter: Parameters<typeof nativeKernel>[1] = ({ inputs, backend, attrs }, addon) => {
  const { x, dy } = inputs as Record<string, tf.TensorInfo>;
  const bad = unsupportedInputs(x, dy);
  if (bad !== undefined) return bad;
  const filterShape = (attrs ?? {}).filterShape as Shape5;
  const info = conv3DInfo(x.shape as Shape5, filterShape, { ...attrs, dilations: 1 });
  const g = normaliseGeometry(geometry3D(info));
  if (typeof g === 'string') return g;
  if (sizeOf(dy.shape) !== sizeOf(info.outShape)) return 'dy does not have the output shape';
  return () => output(backend, [...filterShape], (dw) => addon.convBackwardWeights(convParams(g), f32(backend, x), f32(backend, dy), dw));
};

/** The convolution kernel configs the native backend overrides. */
export const CONV_KERNELS: tf.KernelConfig[] = [
  nativeKernel(tf.Conv2D, forward2D(false, false)),
  nativeKernel(tf.FusedConv2D, forward2D(false, true)),
  nativeKernel(tf.Conv2DBackpropInput, backpropInput2D(false)),
  nativeKernel(tf.Conv2DBackpropFilter, backpropFilter2D(false)),
  nativeKernel(tf.DepthwiseConv2dNative, forward2D(true, false)),
  nativeKernel(tf.FusedDepthwiseConv2D, forward2D(true, true)),
  nativeKernel(tf.DepthwiseConv2dNativeBackpropInput, backpropInput2D(true)),
  nativeKernel(tf.DepthwiseConv2dNativeBackpropFilter, backpropFilter2D(true)),
  nativeKernel(tf.Conv3D, conv3D),
  nativeKernel(tf.Conv3DBackpropInputV2, conv3DBackpropInput),
  nativeKernel(tf.Conv3DBackpropFilterV2, conv3DBackpropFilter),
];
