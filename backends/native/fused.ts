/**
 * relu(a + b), the relu gradient and the tanh/sigmoid gradients as one native pass each
 * (src/fused.cc), and softmax cross-entropy with its gradient (src/loss.cc), registered for the native backend only under einnet's own kernel names
 * (backends/kernel-names.ts); ops/residual.ts, gradients.ts and models/losses.ts call them there, tfjs ops run elsewhere.
 */
import type * as tf from '@tensorflow/tfjs';
import { ACTIVATION_GRAD, ADD_RELU, RELU_GRAD, SOFTMAX_CROSS_ENTROPY, type ActivationGradAttrs } from '../kernel-names';
import { loadAddon } from './addon';
import { adoptOutput, f32, output, outputArray, ownKernel, sizeOf } from './kernel';

export const FUSED_KERNELS: tf.KernelConfig[] = [
  ownKernel(ADD_RELU, ({ inputs: { a, b }, backend }) =>
    output(backend, [...a!.shape], (y) => loadAddon().addRelu(sizeOf(a!.shape), f32(backend, a!), f32(backend, b!), y)),
  ),
  ownKernel(RELU_GRAD, ({ inputs: { dy, y }, backend }) =>
    output(backend, [...y!.shape], (dx) => loadAddon().reluGrad(sizeOf(y!.shape), f32(backend, dy!), f32(backend, y!), dx)),
  ),
  ownKernel<ActivationGradAttrs>(ACTIVATION_GRAD, ({ inputs: { dy, y }, backend, attrs }) =>
    output(backend, [...y!.shape], (dx) => loadAddon().activationGrad(Int32Array.of(attrs.op, sizeOf(y!.shape)), f32(backend, dy!), f32(backend, y!), dx)),
  ),
  ownKernel(SOFTMAX_CROSS_ENTROPY, ({ inputs: { z, y }, backend }) => {
    const [rows, classes] = z!.shape;
    // A fresh one-element array for the loss: pooled blocks are for large outputs.
    const loss = new Float32Array(1);
    const dz = outputArray(rows * classes);
    loadAddon().softmaxCrossEntropy(Int32Array.of(rows, classes), f32(backend, z!), f32(backend, y!), loss, dz);
    return [backend.makeTensorInfo([], 'float32', loss), adoptOutput(backend, [rows, classes], dz)];
  }),
];
