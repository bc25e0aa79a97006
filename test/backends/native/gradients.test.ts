/**
 * Registering the native backend leaves tfjs' own backends their own gradients: the gradients it
 * installs for Tanh, Sigmoid, Relu, Sum and Mean (backends/native/gradients.ts) hand every call on
 * another backend to tfjs' config, captured before registration, which then gives bit-identical
 * values; on the native backend they run its own kernels instead.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ADDON_BUILT, NATIVE, SKIP_REASON } from './compare';

const KERNELS = [tf.Tanh, tf.Sigmoid, tf.Relu, tf.Sum, tf.Mean] as const;

/** Each gradient by the name of the kernel it goes through, as plain arrays. */
function gradients(): Record<string, number[]> {
  const x = tf.tensor2d([-2.5, -0.75, 0, 0.3, 1.25, 4, -1e-3, 7.5], [2, 4]);
  const weight = tf.tensor2d([0.5, -1, 2, 3], [1, 4]);
  const fs: Record<string, (t: tf.Tensor) => tf.Tensor> = {
    [tf.Tanh]: (t) => tf.sum(tf.mul(tf.tanh(t), weight)),
    [tf.Sigmoid]: (t) => tf.sum(tf.mul(tf.sigmoid(t), weight)),
    [tf.Relu]: (t) => tf.sum(tf.mul(tf.relu(t), weight)),
    [tf.Sum]: (t) => tf.sum(tf.mul(tf.sum(t, 0), tf.reshape(weight, [4]))),
    [tf.Mean]: (t) => tf.sum(tf.mul(tf.mean(t, 1), tf.tensor1d([3, -2]))),
  };
  const out: Record<string, number[]> = {};
  for (const [name, f] of Object.entries(fs)) {
    const g = tf.grad(f)(x);
    out[name] = Array.from(g.dataSync());
    g.dispose();
  }
  tf.dispose([x, weight]);
  return out;
}

describe('native gradients leave tfjs backends their own', () => {
  afterAll(async () => {
    vi.restoreAllMocks();
    await tf.setBackend('cpu');
  });

  it.skipIf(!ADDON_BUILT)(`on cpu, after registering native, Tanh/Sigmoid/Relu/Sum/Mean use tfjs' gradient configs${SKIP_REASON}`, async () => {
    await tf.setBackend('cpu');
    const tfjsConfigs = KERNELS.map((name) => tf.getGradient(name)!);
    const before = gradients();
    const { registerNativeBackend, setNativeThreads } = await import('../../../backends/native');
    registerNativeBackend();
    setNativeThreads(1);

    const spies = tfjsConfigs.map((config) => vi.spyOn(config, 'gradFunc'));
    const after = gradients();
    expect(after).toEqual(before);
    spies.forEach((spy, k) => expect(spy, KERNELS[k]).toHaveBeenCalled());
    KERNELS.forEach((name, k) => {
      const registered = tf.getGradient(name)!;
      expect(registered.inputsToSave).toEqual(tfjsConfigs[k].inputsToSave);
      expect(registered.outputsToSave).toEqual(tfjsConfigs[k].outputsToSave);
    });

    // On the native backend the same gradients come from its own kernels, not tfjs' configs.
    spies.forEach((spy) => spy.mockClear());
    await tf.setBackend(NATIVE);
    const native = gradients();
    for (const name of KERNELS) native[name].forEach((v, i) => expect(v).toBeCloseTo(before[name][i], 6));
    spies.forEach((spy, k) => expect(spy, KERNELS[k]).not.toHaveBeenCalled());

    await tf.setBackend('cpu');
    spies.forEach((spy) => spy.mockClear());
    expect(gradients()).toEqual(before);
    spies.forEach((spy, k) => expect(spy, KERNELS[k]).toHaveBeenCalled());
  });
});
