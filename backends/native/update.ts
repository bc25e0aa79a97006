/**
 * The updates between training steps as native kernels (src/update.cc), registered for the native
 * backend only under einnet's own kernel names (backends/kernel-names.ts); ops/update.ts calls them there and composes tfjs ops elsewhere. Each kernel
 * takes every parameter (or running statistic) of a step at once — inputs `w0, g0, v0, w1, …` —
 * so that a ResNet-20 step makes one kernel call for its 59 parameters instead of 59: the loops
 * are microseconds, tfjs' bookkeeping per kernel call is not.
 */
import type * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE, MOVING_AVERAGE, SGD_UPDATE, type AdamUpdateAttrs, type MovingAverageAttrs, type SgdUpdateAttrs } from '../kernel-names';
import { loadAddon } from './addon';
import { adoptOutput, f32, outputArray, ownKernel, sizeOf, type OwnKernelArgs } from './kernel';

/**
 * attrs.count parameters; inputs w{i}, g{i} and, with momentum, v{i}. Outputs: w{i}' (and v{i}'),
 * in that order for each i.
 */
function sgdUpdate({ inputs, backend, attrs }: OwnKernelArgs<SgdUpdateAttrs>): tf.TensorInfo[] {
  const addon = loadAddon();
  const hyper = Float64Array.of(attrs.learningRate, attrs.momentum, attrs.weightDecay);
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < attrs.count; i++) {
    const w = inputs[`w${i}`]!;
    const g = inputs[`g${i}`]!;
    const v = inputs[`v${i}`];
    const n = sizeOf(w.shape);
    const wOut = outputArray(n);
    const vOut = v ? outputArray(n) : null;
    addon.sgdUpdate(Int32Array.of(n, v ? 1 : 0, attrs.nesterov ? 1 : 0), hyper, f32(backend, w), f32(backend, g), v ? f32(backend, v) : null, wOut, vOut);
    outs.push(adoptOutput(backend, [...w.shape], wOut));
    if (vOut !== null) outs.push(adoptOutput(backend, [...w.shape], vOut));
  }
  return outs;
}

/** attrs.count parameters; inputs w{i}, g{i}, m{i}, v{i}. Outputs: w{i}', m{i}', v{i}' for each i. */
function adamUpdate({ inputs, backend, attrs }: OwnKernelArgs<AdamUpdateAttrs>): tf.TensorInfo[] {
  const addon = loadAddon();
  const { learningRate: lr, beta1, beta2, epsilon, weightDecay: wd, c1, c2 } = attrs;
  // The scalars exactly as models/optimizers.ts' tfjs ops compute them in double before rounding.
  const hyper = Float64Array.of(lr, beta1, beta2, epsilon, wd, c1, c2, 1 - beta1, 1 - beta2, lr * wd);
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < attrs.count; i++) {
    const w = inputs[`w${i}`]!;
    const n = sizeOf(w.shape);
    const [wOut, mOut, vOut] = [outputArray(n), outputArray(n), outputArray(n)];
    const params = Int32Array.of(n, attrs.decoupled ? 1 : 0);
    addon.adamUpdate(
      params,
      hyper,
      f32(backend, w),
      f32(backend, inputs[`g${i}`]!),
      f32(backend, inputs[`m${i}`]!),
      f32(backend, inputs[`v${i}`]!),
      wOut,
      mOut,
      vOut,
    );
    for (const out of [wOut, mOut, vOut]) outs.push(adoptOutput(backend, [...w.shape], out));
  }
  return outs;
}

/** attrs.momenta[i] for statistic i; inputs v{i}, b{i} (its batch value); outputs v{i}'. */
function movingAverage({ inputs, backend, attrs }: OwnKernelArgs<MovingAverageAttrs>): tf.TensorInfo[] {
  const addon = loadAddon();
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < attrs.momenta.length; i++) {
    const v = inputs[`v${i}`]!;
    const n = sizeOf(v.shape);
    const out = outputArray(n);
    addon.movingAverage(n, attrs.momenta[i], f32(backend, v), f32(backend, inputs[`b${i}`]!), out);
    outs.push(adoptOutput(backend, [...v.shape], out));
  }
  return outs;
}

export const UPDATE_KERNELS: tf.KernelConfig[] = [
  ownKernel(SGD_UPDATE, sgdUpdate),
  ownKernel(ADAM_UPDATE, adamUpdate),
  ownKernel(MOVING_AVERAGE, movingAverage),
];
