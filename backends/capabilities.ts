/**
 * What the active tfjs backend can be trusted with, asked by the ops and the executor so that
 * nothing outside backends/ names a backend. Each answer is about the backend active at the call
 * (tfjs allows one per process), measured with tfjs 4.22.
 */
import * as tf from '@tensorflow/tfjs';

// Bound once (engine-internals.ts says why): ops ask these on every call.
const { getBackend, getKernel } = tf;

/** The tfjs name of tfjs' WebAssembly backend (XNNPACK under it). */
const WASM = 'wasm';

/** The tfjs name of tfjs' pure-JavaScript backend. */
const CPU = 'cpu';

/** tfjs' GPU backends in a page (backends/select-browser.ts). */
const WEBGL = 'webgl';
const GPU_BACKENDS: readonly string[] = [WEBGL, 'webgpu'];

/** The highest rank tfjs' Select kernel (tf.where) takes on the active backend: 4 on webgl and webgpu. */
export function maxSelectRank(): number {
  return GPU_BACKENDS.includes(getBackend()) ? 4 : Infinity;
}

/** The highest rank tfjs' Transpose takes on the active backend: 6 on webgl and webgpu. */
export function maxTransposeRank(): number {
  return GPU_BACKENDS.includes(getBackend()) ? 6 : Infinity;
}

/**
 * What the ops do differently on the active backend for steps of this kind and rank, for
 * explain(); undefined where nothing changes. `conv3d` is a 3-D convolution with padding;
 * `matMul`'s rank is its operands' (ops/matmul.ts reroutes products of matrices).
 */
export function backendWorkaround(kind: 'where' | 'transpose' | 'pad' | 'conv3d' | 'matMul', rank: number): string | undefined {
  const backend = getBackend();
  if (kind === 'matMul' && rank === 2 && !hasFastTransposedMatMul()) {
    return `${backend}: transposed operands are transposed first, here and in the gradient (its transposed matMul is slow)`;
  }
  if (kind === 'where' && rank > maxSelectRank()) return `${backend}: tf.where on the flattened tensors (its Select stops at rank ${maxSelectRank()})`;
  if (kind === 'transpose' && rank > maxTransposeRank()) {
    return `${backend}: axes folded, else a gather by flat position (its Transpose stops at rank ${maxTransposeRank()})`;
  }
  if ((kind === 'pad' || kind === 'conv3d') && rank > maxPadRank())
    return `${backend}: padded one axis at a time (its pad is wrong above rank ${maxPadRank()})`;
  return undefined;
}

/** The highest rank tfjs' PadV2 is right at on the active backend: 4 on webgl (its packed shader fails at 5). */
export function maxPadRank(): number {
  return getBackend() === WEBGL ? 4 : Infinity;
}

/** What decides whether a convolution's gradient kernels serve: its rank, kind and dilations. */
export interface ConvGradientQuery {
  readonly rank: 2 | 3;
  readonly depthwise: boolean;
  readonly dilations: readonly number[];
}

/**
 * Whether tfjs' own conv gradient is right for this convolution on the active backend: its
 * backprop kernels exist and no dilation exceeds 1 (tfjs has no gradient for dilated convs).
 * Never on wasm: it lacks the 2-D filter backprops, and its Conv3DBackpropInputV2 gives wrong
 * values. Where this says no, the caller differentiates the convolution another way.
 */
export function hasConvGradient(q: ConvGradientQuery): boolean {
  const backend = getBackend();
  if (backend === WASM || q.dilations.some((d) => d > 1)) return false;
  const kernels =
    q.rank === 3
      ? ['Conv3DBackpropFilterV2', 'Conv3DBackpropInputV2']
      : q.depthwise
        ? ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']
        : ['Conv2DBackpropFilter', 'Conv2DBackpropInput'];
  return kernels.every((name) => getKernel(name, backend) !== undefined);
}

/**
 * Whether the active backend's MaxPoolGrad is right for any input. wasm's (and its
 * MaxPoolWithArgmax) gives zero gradient where a window's maximum is negative.
 */
export function hasExactMaxPoolGradient(): boolean {
  return getBackend() !== WASM;
}

/**
 * Whether the active backend's matMul with a transposed operand is about as fast as a transpose
 * and a plain matMul. Not on tfjs' wasm: aᵀ·b is a scalar loop there (a dense 1024→1024 layer's
 * weight gradient at batch 64: 400 ms against 30 for a transpose and a·b), and a·bᵀ repacks b.
 */
export function hasFastTransposedMatMul(): boolean {
  return getBackend() !== WASM;
}

/**
 * Whether reading a small tensor back is cheap on the active backend, so that an op may look at
 * a value (a sum, a flag) to choose its route: tfjs' cpu and wasm backends, whose tensors live
 * in this process's memory; not the GPU backends, where a read waits for the device.
 */
export function hasSynchronousReads(): boolean {
  return getBackend() === WASM || getBackend() === CPU;
}

/**
 * Whether the active backend's tf.step is a vector kernel that keeps NaN, cheaper than isNaN and
 * a cast to float32 (tfjs' wasm, where that cast is a JavaScript copy); tfjs' cpu step is a
 * JavaScript loop, slower than the two.
 */
export function hasVectorStep(): boolean {
  return getBackend() === WASM;
}

/**
 * Whether the active backend has einnet's own kernel `kernelName` (backends/kernel-names.ts) and
 * every tensor is non-empty float32, the only tensors those kernels take.
 */
export function ownKernelApplies(kernelName: string, tensors: readonly tf.Tensor[]): boolean {
  return tensors.every((t) => t.dtype === 'float32' && t.size > 0) && getKernel(kernelName, getBackend()) !== undefined;
}
