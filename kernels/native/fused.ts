/**
 * relu(a + b), the relu gradient and the tanh/sigmoid gradients as one native pass each (src/fused.cc), registered for the
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
/** dy·(1 − y²) (op 0, tanh) or dy·y·(1 − y) (op 1, sigmoid); gradients.ts uses it. */
export const ACTIVATION_GRAD = 'EinnetActivationGrad';

type Args = { inputs: Record<string, tf.TensorInfo>; backend: MathBackendCPU; attrs?: { op?: number } };

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
  kernel(ACTIVATION_GRAD, ({ inputs: { dy, y }, backend, attrs }) =>
    output(backend, [...y.shape], (dx) => loadAddon().activationGrad(Int32Array.of(attrs?.op ?? 0, sizeOf(y.shape)), f32(backend, dy), f32(backend, y), dx)),
  ),
];
