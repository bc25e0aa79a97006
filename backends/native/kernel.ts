/**
 * The shape every oneDNN-backed kernel shares: plan from the tfjs inputs and attributes, run on
 * oneDNN when the plan is possible, otherwise (or if oneDNN refuses) run the tfjs CPU kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon, type NativeAddon } from './addon';
import { RECYCLE_ON_DISPOSE, escapeInputs, markRecyclable, takeIdle } from './recycle';
import { noteFallback, noteNative } from './stats';
// Row-major layout helpers are shared with the language (core/layout.ts).
import { sizeOf } from '../../core/layout';
export { sizeOf, stridesOf as rowMajorStrides } from '../../core/layout';

/** The tfjs backend name the native backend registers. */
export const NATIVE_BACKEND_NAME = 'einnet-native';

/** Arguments a tfjs kernel function receives, with our backend's type. */
export interface KernelArgs {
  readonly inputs: tf.NamedTensorInfoMap;
  readonly backend: MathBackendCPU;
  readonly attrs?: tf.NamedAttrMap;
}

/**
 * Answer of a plan meaning "the CPU kernel is the right tool here" (e.g. a tensor too small for
 * a native call to pay) — run it without counting or logging a fallback.
 */
export const USE_CPU_KERNEL: unique symbol = Symbol('use the cpu kernel');

/**
 * A plan: a function that computes the result on oneDNN, a string saying why it cannot (a
 * fallback), or USE_CPU_KERNEL. Planning must not allocate tensors; running allocates only the
 * output it returns.
 */
export type Plan = (() => tf.TensorInfo | tf.TensorInfo[]) | string | typeof USE_CPU_KERNEL;

/** The CPU backend's Float32Array behind a tensor — the very array, not a copy. */
export function f32(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

/** Why `tensors` cannot go to oneDNN (not float32, or empty), or undefined when they can. */
export function unsupportedInputs(...tensors: (tf.TensorInfo | undefined | null)[]): string | undefined {
  for (const t of tensors) {
    if (t === undefined || t === null) continue;
    if (t.dtype !== 'float32') return `dtype ${t.dtype} (oneDNN path takes float32)`;
    if (t.shape.some((d) => d === 0)) return 'empty tensor';
  }
  return undefined;
}

/**
 * Outputs of at least this many elements come from the addon's buffer pool (no page faults, no
 * zeroing); smaller ones are ordinary V8 allocations, which are cheap.
 */
const POOLED_MIN_ELEMENTS = 1 << 16;

/**
 * Allocates the output (an idle array of a disposed output if there is one, recycle.ts), lets
 * `fill` write it in place, and hands it to the backend. `fill` must write every element: reused
 * and pooled arrays are not zeroed.
 */
export function output(backend: MathBackendCPU, shape: number[], fill: (out: Float32Array) => void): tf.TensorInfo {
  const values = outputArray(sizeOf(shape));
  fill(values);
  return adoptOutput(backend, shape, values);
}

/**
 * `output` in two halves, for kernels that write several outputs in one call: an output array
 * of n elements (contents undefined: it must be written whole) ...
 */
export function outputArray(n: number): Float32Array {
  return takeIdle(n) ?? (n >= POOLED_MIN_ELEMENTS ? loadAddon().alloc(n, !RECYCLE_ON_DISPOSE) : new Float32Array(n));
}

/** ... and, once written, the array handed to the backend as a tensor of `shape`. */
export function adoptOutput(backend: MathBackendCPU, shape: number[], values: Float32Array): tf.TensorInfo {
  markRecyclable(values);
  return backend.makeTensorInfo(shape, 'float32', values);
}

/** Bytes per element of the dtypes the native loops move: float32, int32, bool (Uint8Array). */
export function elementBytes(dtype: tf.DataType): number | undefined {
  return dtype === 'float32' || dtype === 'int32' ? 4 : dtype === 'bool' ? 1 : undefined;
}

/**
 * The CPU backend's typed array behind a float32, int32 or bool tensor (the very array), or
 * undefined for other dtypes or storage (strings, complex numbers).
 */
export function valuesOf(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array | undefined {
  const v = backend.data.get(t.dataId)?.values;
  if (t.dtype === 'float32') return v instanceof Float32Array ? v : undefined;
  if (t.dtype === 'int32') return v instanceof Int32Array ? v : undefined;
  if (t.dtype === 'bool') return v instanceof Uint8Array ? v : undefined;
  return undefined;
}

/**
 * Like `output`, for any dtype the native loops write: float32 from the pool when large,
 * int32 and bool as fresh (zeroed) arrays.
 */
export function outputOf(
  backend: MathBackendCPU,
  shape: number[],
  dtype: tf.DataType,
  fill: (out: Float32Array | Int32Array | Uint8Array) => void,
): tf.TensorInfo {
  if (dtype === 'float32') return output(backend, shape, fill);
  const n = sizeOf(shape);
  const values = dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
  fill(values);
  return backend.makeTensorInfo(shape, dtype, values);
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/**
 * A kernel config for the native backend: `plan` decides, the CPU kernel of the same name is
 * the fallback. Errors thrown while planning or by oneDNN become fallbacks (logged with
 * EINNET_DEBUG), so a shape oneDNN rejects still gets the CPU backend's answer — or its error
 * message when the user's shapes are wrong.
 */
export function nativeKernel(kernelName: string, plan: (args: KernelArgs, addon: NativeAddon) => Plan): tf.KernelConfig {
  let cpu: tf.KernelFunc | undefined;
  const runCpu = (args: KernelArgs) => {
    escapeInputs(args.backend, args.inputs);
    cpu ??= tf.getKernel(kernelName, 'cpu')?.kernelFunc;
    if (cpu === undefined) throw new Error(`einnet-native: no cpu kernel '${kernelName}' to fall back to`);
    return cpu(args as unknown as Parameters<tf.KernelFunc>[0]);
  };
  const fallback = (args: KernelArgs, reason: string) => {
    noteFallback(kernelName, reason);
    return runCpu(args);
  };
  const kernelFunc = (raw: Parameters<tf.KernelFunc>[0]) => {
    const args = raw as unknown as KernelArgs;
    let p: Plan;
    try {
      p = plan(args, loadAddon());
    } catch (e) {
      p = `planning failed: ${firstLine(e)}`;
    }
    if (p === USE_CPU_KERNEL) return runCpu(args);
    if (typeof p === 'string') return fallback(args, p);
    let result: tf.TensorInfo | tf.TensorInfo[];
    try {
      result = p();
    } catch (e) {
      return fallback(args, firstLine(e));
    }
    noteNative(kernelName);
    return result;
  };
  return { kernelName, backendName: NATIVE_BACKEND_NAME, kernelFunc: kernelFunc as tf.KernelFunc };
}

/** What einnet's own kernels receive: inputs by name (absent optional ones undefined), attributes as passed. */
export interface OwnKernelArgs<A> {
  readonly inputs: Readonly<Record<string, tf.TensorInfo | undefined>>;
  readonly backend: MathBackendCPU;
  readonly attrs: A;
}

/**
 * A kernel config for one of einnet's own kernels (backends/kernel-names.ts: names tfjs does not
 * have, e.g. the batch-norm route's), on the native backend only. There is no CPU kernel to fall
 * back to: callers check `ownKernelApplies` (backends/capabilities.ts) first and compose tfjs ops
 * otherwise.
 */
export function ownKernel<A>(kernelName: string, run: (args: OwnKernelArgs<A>) => tf.TensorInfo | tf.TensorInfo[]): tf.KernelConfig {
  const kernelFunc = (args: unknown) => {
    const out = run(args as OwnKernelArgs<A>);
    noteNative(kernelName);
    return out;
  };
  return { kernelName, backendName: NATIVE_BACKEND_NAME, kernelFunc: kernelFunc as tf.KernelFunc };
}
