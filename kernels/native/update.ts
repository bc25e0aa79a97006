/**
 * The updates between training steps as native kernels (src/update.cc), registered for the native
 * backend only; kernels/update.ts calls them there and composes tfjs ops elsewhere. Each kernel
 * takes every parameter (or running statistic) of a step at once — inputs `w0, g0, v0, w1, …` —
 * so that a ResNet-20 step makes one kernel call for its 59 parameters instead of 59: the loops
 * are microseconds, tfjs' bookkeeping per kernel call is not.
 */
import type * as tf from '@tensorflow/tfjs';
import { loadAddon } from './addon';
import { f32, output, ownKernel, sizeOf, type OwnKernelArgs } from './kernel';

/** Kernel names (tfjs has none for these). */
export const SGD_UPDATE = 'EinnetSgdUpdate';
export const MOVING_AVERAGE = 'EinnetMovingAverage';

/**
 * attrs.count parameters; inputs w{i}, g{i} and, with momentum, v{i}. Outputs: w{i}' (and v{i}'),
 * in that order for each i.
 */
function sgdUpdate({ inputs, backend, attrs }: OwnKernelArgs<{ count: number; learningRate: number; momentum: number; weightDecay: number; nesterov: boolean }>): tf.TensorInfo[] {
  const hyper = Float64Array.of(attrs.learningRate, attrs.momentum, attrs.weightDecay);
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < attrs.count; i++) {
    const w = inputs[`w${i}`]!;
    const g = inputs[`g${i}`]!;
    const v = inputs[`v${i}`];
    const shape = [...w.shape];
    const params = Int32Array.of(sizeOf(shape), v ? 1 : 0, attrs.nesterov ? 1 : 0);
    const run = (wOut: Float32Array, vOut: Float32Array | null) => loadAddon().sgdUpdate(params, hyper, f32(backend, w), f32(backend, g), v ? f32(backend, v) : null, wOut, vOut);
    let vInfo: tf.TensorInfo | undefined;
    // With momentum both outputs are written by the one call, made inside the first's fill.
    outs.push(
      output(backend, shape, (wOut) => {
        if (v) vInfo = output(backend, shape, (vOut) => run(wOut, vOut));
        else run(wOut, null);
      }),
    );
    if (vInfo !== undefined) outs.push(vInfo);
  }
  return outs;
}

/** attrs.momenta[i] for statistic i; inputs v{i}, b{i} (its batch value); outputs v{i}'. */
function movingAverage({ inputs, backend, attrs }: OwnKernelArgs<{ momenta: number[] }>): tf.TensorInfo[] {
  const outs = attrs.momenta.map((m, i) => {
    const v = inputs[`v${i}`]!;
    const b = inputs[`b${i}`]!;
    return output(backend, [...v.shape], (o) => loadAddon().movingAverage(sizeOf(v.shape), m, f32(backend, v), f32(backend, b), o));
  });
  return outs;
}

export const UPDATE_KERNELS: tf.KernelConfig[] = [ownKernel(SGD_UPDATE, sgdUpdate), ownKernel(MOVING_AVERAGE, movingAverage)];
