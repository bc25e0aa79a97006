/**
 * Early reuse of pooled output buffers. Kernel outputs of ≥ 64K elements come from the addon's
 * pool (kernel.ts `output`); by default a block returns to the pool only when V8 collects its
 * Float32Array, which in a synchronous training step is never: every large output then lands on
 * fresh pages, and on a VM the page faults cost as much as the kernels (a ResNet-20 step faulted
 * 135,000 pages). Here an output array is kept for the next output of its length as soon as its
 * tensor is disposed (the very Float32Array, see `idle`) — but only while no one else can still
 * be holding it:
 *
 * - `readSync`/`read` (dataSync, data(), print, moving to another backend) hand the very array to
 *   the caller: the array *escapes* and is left to the garbage collector;
 * - a tfjs CPU kernel may keep a view of an input (a contiguous slice is a subarray of it), so
 *   every input of a CPU kernel escapes too — except for Reshape, Identity, ExpandDims, Squeeze
 *   and Cast, which share the input's data id (its reference count protects it) or copy;
 * - the native kernels read inputs only during the call.
 *
 * `EINNET_NATIVE_RECYCLE=0` turns early reuse off (blocks then return through GC only).
 */
import type * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon, type NativeAddon } from './addon';

/** Whether disposal returns blocks early (else they return through GC only, and V8 counts them from the start). */
export const RECYCLE_ON_DISPOSE = process.env.EINNET_NATIVE_RECYCLE !== '0';

/**
 * Pooled arrays that have not escaped: safe to reuse once their tensor is disposed. A plain Set,
 * not a WeakSet: every entry leaves it when its tensor is disposed or its array escapes, and a
 * live tensor keeps its array alive anyway; thousands of WeakSet entries per training step made
 * V8's full collections slower (ephemeron tables).
 */
const recyclable = new Set<object>();

/**
 * Disposed outputs kept for the next output of the same length, by length. Reusing the very
 * Float32Array matters as much as reusing its memory: V8 counts every new ArrayBuffer (external
 * ones included) towards its external-memory limit, and a ResNet-20 step's ~150 fresh output
 * arrays (~200 MB) made it run three or four full collections per step.
 */
const idle = new Map<number, Float32Array[]>();
let idleTotal = 0;
/** At most this many bytes of idle arrays; beyond it, blocks go back to the addon's pool. */
const IDLE_CAPACITY = 1 << 30;

/** Bytes of disposed outputs kept for reuse. */
export function idleBytes(): number {
  return idleTotal;
}

/** An idle output array of exactly n elements (contents undefined), or undefined. @internal */
export function takeIdle(n: number): Float32Array | undefined {
  const v = idle.get(n)?.pop();
  if (v !== undefined) idleTotal -= v.byteLength;
  return v;
}

/** Forgets every entry (the backend is being disposed). @internal */
export function forgetRecyclable(): void {
  recyclable.clear();
  idle.clear();
  idleTotal = 0;
}

/**
 * CPU kernels whose output shares the input's data id (reference-counted) or is a fresh copy,
 * never a view of it. (Cast to a wider dtype is an identity; to a narrower one, a copy.)
 */
export const SHARING_KERNELS: ReadonlySet<string> = new Set(['Reshape', 'Identity', 'ExpandDims', 'Squeeze', 'Cast']);

/** Marks a native kernel's output array as reusable on disposal. @internal */
export function markRecyclable(values: Float32Array): void {
  if (RECYCLE_ON_DISPOSE) recyclable.add(values);
}

/** The array behind `dataId` escapes: it will only ever return to the pool through GC. @internal */
export function escape(backend: MathBackendCPU, dataId: tf.DataId): void {
  const values = backend.data.get(dataId)?.values;
  if (values !== undefined && recyclable.delete(values)) loadAddon().escaped(values as Float32Array);
}

/** Every tensor among a kernel's inputs escapes (they go to a CPU kernel). @internal */
export function escapeInputs(backend: MathBackendCPU, inputs: tf.NamedTensorInfoMap | tf.TensorInfo[]): void {
  for (const t of Object.values(inputs) as (tf.TensorInfo | undefined | null)[]) {
    if (t !== undefined && t !== null && t.dataId !== undefined) escape(backend, t.dataId);
  }
}

/** Keeps `values` for reuse if it is a native output that never escaped. @internal */
export function recycle(addon: NativeAddon, values: unknown): void {
  if (typeof values !== 'object' || values === null || !recyclable.has(values)) return;
  recyclable.delete(values);
  const array = values as Float32Array;
  if (idleTotal + array.byteLength > IDLE_CAPACITY) {
    addon.release(array);
    return;
  }
  let list = idle.get(array.length);
  if (list === undefined) idle.set(array.length, (list = []));
  list.push(array);
  idleTotal += array.byteLength;
}
