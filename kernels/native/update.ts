/**
 * One SGD step of a parameter, and a running statistic's moving average, as one native kernel
 * each (src/update.cc), registered for the native
 * backend only; kernels/update.ts calls it there and composes tfjs ops elsewhere.
 */
import type * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon } from './addon';
import { NATIVE_BACKEND_NAME, f32, output, sizeOf } from './kernel';
import { noteNative } from './stats';

/** Kernel names (tfjs has none for these). */
export const SGD_UPDATE = 'EinnetSgdUpdate';
export const MOVING_AVERAGE = 'EinnetMovingAverage';

interface Args {
  readonly inputs: Record<string, tf.TensorInfo | undefined>;
  readonly backend: MathBackendCPU;
  readonly attrs: { learningRate: number; momentum: number; weightDecay: number; nesterov: boolean };
}

function sgdUpdate({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const { w, g, v } = inputs;
  const shape = [...w!.shape];
  const momentum = v !== undefined;
  const params = Int32Array.of(sizeOf(shape), momentum ? 1 : 0, attrs.nesterov ? 1 : 0);
  const hyper = Float64Array.of(attrs.learningRate, attrs.momentum, attrs.weightDecay);
  const run = (wOut: Float32Array, vOut: Float32Array | null) => loadAddon().sgdUpdate(params, hyper, f32(backend, w!), f32(backend, g!), momentum ? f32(backend, v!) : null, wOut, vOut);
  let vInfo: tf.TensorInfo | undefined;
  // With momentum both outputs are written by the one call, made inside the first's fill.
  const wInfo = output(backend, shape, (wOut) => {
    if (momentum) vInfo = output(backend, shape, (vOut) => run(wOut, vOut));
    else run(wOut, null);
  });
  noteNative(SGD_UPDATE);
  return vInfo === undefined ? [wInfo] : [wInfo, vInfo];
}

function movingAverage({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo>; backend: MathBackendCPU; attrs: { momentum: number } }): tf.TensorInfo {
  const { v, batch } = inputs;
  const out = output(backend, [...v.shape], (o) => loadAddon().movingAverage(sizeOf(v.shape), attrs.momentum, f32(backend, v), f32(backend, batch), o));
  noteNative(MOVING_AVERAGE);
  return out;
}

export const UPDATE_KERNELS: tf.KernelConfig[] = [
  { kernelName: SGD_UPDATE, backendName: NATIVE_BACKEND_NAME, kernelFunc: sgdUpdate as unknown as tf.KernelFunc },
  { kernelName: MOVING_AVERAGE, backendName: NATIVE_BACKEND_NAME, kernelFunc: movingAverage as unknown as tf.KernelFunc },
];
