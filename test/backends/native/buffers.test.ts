/**
 * Large outputs come from the addon's recycled buffer pool, which is not zeroed: every kernel
 * must write all of its output. Here each large kernel runs after the pool was filled with
 * garbage by earlier outputs (recycled through forced garbage collections), against tfjs cpu.
 */
import * as v8 from 'v8';
import * as vm from 'vm';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeBackendInfo } from '../../../backends/native';
import { ADDON_BUILT, NATIVE, SKIP_REASON, activateNative, compareWithCpu, gradients, randomInput, rng, runOn } from './compare';

/** V8's gc() (made available without --expose-gc), then a turn of the event loop for N-API finalizers. */
function gcFunction(): () => Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  return async () => {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  };
}

describe.skipIf(!ADDON_BUILT)(`pooled output buffers${SKIP_REASON}`, () => {
  let tensorsBefore = 0;
  const gc = gcFunction();
  beforeAll(async () => {
    await activateNative();
    tensorsBefore = tf.memory().numTensors;
  });
  afterAll(() => expect(tf.memory().numTensors).toBe(tensorsBefore));

  it('recycled buffers never leak old values into new outputs', async () => {
    const r = rng(99);
    const x = randomInput(r, [4, 32, 32, 16]); // 65536 elements: pooled
    const w = randomInput(r, [3, 3, 16, 16]);
    // Fill the pool with buffers full of large values of the same sizes the kernels below need.
    for (let i = 0; i < 3; i++) {
      await runOn(NATIVE, [x], ([t]) => [tf.add(tf.mul(t, 1e6), 1e6), tf.relu(tf.add(t, 1e6))]);
      await gc();
    }
    expect(nativeBackendInfo().pooledBytes).toBeGreaterThan(0);
    const label = 'after recycling';
    await compareWithCpu(
      `${label}: conv + gradients`,
      [x, w],
      gradients(([a, b]) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')),
    );
    await compareWithCpu(
      `${label}: max pool gradient`,
      [x],
      gradients(([a]) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'same')),
    );
    await compareWithCpu(
      `${label}: avg pool gradient`,
      [x],
      gradients(([a]) => tf.avgPool(a as tf.Tensor4D, 2, 2, 'valid')),
    );
    await compareWithCpu(`${label}: element-wise`, [x, x], ([a, b]) => [tf.relu(a), tf.sigmoid(a), tf.add(a, b), tf.mul(a, tf.scalar(3))], 1e-5);
    await compareWithCpu(`${label}: matmul`, [randomInput(r, [256, 64]), randomInput(r, [64, 256])], ([a, b]) => tf.matMul(a, b));
  });

  it('a buffer handed out by dataSync is not recycled while the caller holds it', async () => {
    const x = randomInput(rng(100), [4, 32, 32, 16]);
    await tf.setBackend(NATIVE);
    const t = tf.tensor(x.data, x.shape);
    const y = tf.relu(t);
    const held = y.dataSync() as Float32Array;
    const copy = Float32Array.from(held);
    tf.dispose([t, y]);
    await gc();
    // Churn: new outputs of the same size must not land in `held`.
    for (let i = 0; i < 4; i++) {
      const z = tf.tidy(() => tf.relu(tf.fill(x.shape, -5 - i)));
      z.dispose();
      await gc();
    }
    expect(held).toEqual(copy);
  });

  it('a disposed output goes back to the pool at once (no GC) and the next output reuses it correctly', async () => {
    await tf.setBackend(NATIVE);
    const x = randomInput(rng(101), [4, 32, 32, 16]);
    const t = tf.tensor(x.data, x.shape);
    await gc(); // settle earlier tests' blocks
    const y = tf.relu(t); // pooled, never read
    const before = nativeBackendInfo().pooledBytes;
    y.dispose();
    expect(nativeBackendInfo().pooledBytes - before).toBe(x.data.length * 4);
    // The next output of that size takes the block: its values must be its own.
    const z = tf.tidy(() => tf.neg(tf.relu(t)));
    const want = Float32Array.from(x.data, (v) => -Math.max(v, 0));
    expect(Array.from(z.dataSync())).toEqual(Array.from(want));
    tf.dispose([t, z]);
  });

  it('arrays that escaped are not reused early: dataSync results, and inputs of tfjs CPU kernels (views)', async () => {
    await tf.setBackend(NATIVE);
    const x = randomInput(rng(102), [4, 32, 32, 16]);
    const t = tf.tensor(x.data, x.shape);
    // dataSync hands out the very array.
    const y = tf.relu(t);
    const held = y.dataSync() as Float32Array;
    const copy = Float32Array.from(held);
    // tf.unstack runs tfjs' CPU Unpack, whose pieces are subarray views of its input.
    const u = tf.tidy(() => tf.relu(tf.add(t, 1))); // the inner add is released at once, the relu is kept
    const pieces = tf.unstack(u);
    const pieceCopies = pieces.map((p) => Float32Array.from(p.dataSync()));
    const pooledBefore = nativeBackendInfo().pooledBytes;
    tf.dispose([y, u]);
    expect(nativeBackendInfo().pooledBytes).toBe(pooledBefore);
    // Churn without GC: same-size outputs must land elsewhere.
    for (let i = 0; i < 4; i++) tf.tidy(() => void tf.relu(tf.fill(x.shape, -5 - i)));
    expect(held).toEqual(copy);
    pieces.forEach((p, k) => expect(p.dataSync()).toEqual(pieceCopies[k]));
    tf.dispose([t, ...pieces]);
  });
});
