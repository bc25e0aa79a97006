/**
 * relu(a + b) and the relu gradient as one native pass each (src/fused.cc), registered for the
 * native backend only; kernels/residual.ts calls them there and composes tfjs ops elsewhere.
 */
import type * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon } from './addon';
import { NATIVE_BACKEND_NAME, f32, output, sizeOf } from './kernel';
import { noteNative } from './stats';

/** Kernel names (tfjs has none for these). */
export const ADD_RELU = 'EinnetAddRelu';
export const RELU_GRAD = 'EinnetReluGrad';

type Args = { inputs: Record<string, tf.TensorInfo>; backend: MathBackendCPU };

function kernel(kernelName: string, run: (args: Args) => tf.TensorInfo): tf.KernelConfig {
  const kernelFunc = (args: unknown) => {
    const out = run(args as Args);
    noteNative(kernelName);
    return out;
  };
  return { kernelName, backendName: NATIVE_BACKEND_NAME, kernelFunc: kernelFunc as tf.KernelFunc };
}

export const FUSED_KERNELS: tf.KernelConfig[] = [
  kernel(ADD_RELU, ({ inputs: { a, b }, backend }) => output(backend, [...a.shape], (y) => loadAddon().addRelu(sizeOf(a.shape), f32(backend, a), f32(backend, b), y))),
  kernel(RELU_GRAD, ({ inputs: { dy, y }, backend }) => output(backend, [...y.shape], (dx) => loadAddon().reluGrad(sizeOf(y.shape), f32(backend, dy), f32(backend, y), dx))),
];
