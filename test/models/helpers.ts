/** Shared helpers for the models tests. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { EinError } from '../../core/diagnostics';

/** Runs `f` and returns the EinError it throws; anything else (or nothing) fails the test. */
export function failure(f: () => unknown): EinError {
  try {
    f();
  } catch (e) {
    if (e instanceof EinError) return e;
    throw new Error(`expected an EinError, got ${String(e)}\n${(e as Error).stack}`);
  }
  throw new Error('expected an EinError, but nothing was thrown');
}

/** The same for async functions. */
export async function failureAsync(f: () => Promise<unknown>): Promise<EinError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof EinError) return e;
    throw new Error(`expected an EinError, got ${String(e)}`);
  }
  throw new Error('expected an EinError, but nothing was thrown');
}

export async function useWasm(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
}

export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Largest absolute difference between two tensors or arrays. */
export function maxDiff(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>): number {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}
