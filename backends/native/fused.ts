/**
 * relu(a + b), the relu gradient and the tanh/sigmoid gradients as one native pass each
 * (src/fused.cc), registered for the native backend only; ops/residual.ts and gradients.ts
 * call them there, tfjs ops run elsewhere.
 */
import type * as tf from '@tensorflow/tfjs';
import { loadAddon } from './addon';
import { f32, output, ownKernel, sizeOf } from './kernel';

/** Kernel names (tfjs has none for these). */
export const ADD_RELU = 'EinnetAddRelu';
export const RELU_GRAD = 'EinnetReluGrad';
/** dy·(1 − y²) (op 0, tanh) or dy·y·(1 − y) (op 1, sigmoid); gradients.ts uses it. */
export const ACTIVATION_GRAD = 'EinnetActivationGrad';

export const FUSED_KERNELS: tf.KernelConfig[] = [
  ownKernel(ADD_RELU, ({ inputs: { a, b }, backend }) => output(backend, [...a!.shape], (y) => loadAddon().addRelu(sizeOf(a!.shape), f32(backend, a!), f32(backend, b!), y))),
  ownKernel(RELU_GRAD, ({ inputs: { dy, y }, backend }) => output(backend, [...y!.shape], (dx) => loadAddon().reluGrad(sizeOf(y!.shape), f32(backend, dy!), f32(backend, y!), dx))),
  ownKernel<{ op: number }>(ACTIVATION_GRAD, ({ inputs: { dy, y }, backend, attrs }) =>
    output(backend, [...y!.shape], (dx) => loadAddon().activationGrad(Int32Array.of(attrs.op, sizeOf(y!.shape)), f32(backend, dy!), f32(backend, y!), dx)),
  ),
];
