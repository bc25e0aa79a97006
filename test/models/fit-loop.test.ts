/**
 * The fit loop: trainStepAsync against trainStep, losses read back per epoch with a NaN still
 * named by its step, and stopping at a batch boundary (an AbortSignal, `requestStop()` from a
 * timer) with no tensor left behind and the weights of exactly the steps taken (checked against a
 * run that takes that many steps and no more).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../models/model';
import { sgd } from '../../models/optimizers';
import { evaluate, fit, trainStep, trainStepAsync } from '../../models/train';
import { requestStop } from '../../core/interrupt';
import { asRandom } from '../../core/random';
import { ImageSet } from '../../datasets/image-set';
import { batchesOf } from '../../models/training/batches';
import { failureAsync, maxDiff, useWasm } from './helpers';
import { linearModel, toyData } from './toy-problem';

beforeAll(useWasm);

function weights(m: Model): Map<string, Float32Array> {
  return new Map([...m.params].map(([n, v]) => [n, v.dataSync() as Float32Array]));
}

describe('the batches fit assembles', () => {
  it('hold the values and labels ImageSet.batches makes, in the same shuffled order', () => {
    const count = 70;
    const pixels = Uint8Array.from({ length: count * 4 * 3 * 2 }, (_, k) => (k * 37) % 256);
    const labels = Int32Array.from({ length: count }, (_, k) => k % 3);
    const set = new ImageSet({ name: 'bytes', pixels, count, height: 4, width: 3, channels: 2, labels, classNames: ['a', 'b', 'c'] });
    for (const shuffle of [false, 5] as const) {
      const want = [...set.batches({ batchSize: 16, shuffle: shuffle === false ? false : asRandom(shuffle) })];
      const got = [...batchesOf(set, 16, shuffle === false ? false : asRandom(shuffle))];
      expect(got.map((b) => b.x.shape)).toEqual(want.map((b) => b.images.shape));
      got.forEach((b, k) => {
        expect(Array.from(b.x.dataSync())).toEqual(Array.from(want[k].images.dataSync()));
        expect(Array.from(b.y.dataSync())).toEqual(Array.from(want[k].labels.dataSync()));
        expect(b.y.dtype).toBe('int32');
      });
      [...want, ...got].forEach((b) => b.dispose());
    }
  });
});

describe('trainStepAsync', () => {
  it('gives the loss and the update of trainStep', async () => {
    const { images, labels } = toyData(16, 1);
    const a = linearModel();
    const b = linearModel();
    const oa = sgd({ learningRate: 0.5, momentum: 0.9 });
    const ob = sgd({ learningRate: 0.5, momentum: 0.9 });
    try {
      for (let k = 0; k < 3; k++) {
        const la = trainStep(a, oa, images, labels);
        const before = tf.memory().numTensors;
        const lb = await trainStepAsync(b, ob, images, labels);
        // The first step makes the optimizer's two momentum slots.
        expect(tf.memory().numTensors).toBe(before + (k === 0 ? 2 : 0));
        expect(lb).toBe(la);
      }
      for (const [n, w] of weights(a)) expect(maxDiff(w, weights(b).get(n)!)).toBe(0);
    } finally {
      tf.dispose([images, labels]);
      a.dispose();
      b.dispose();
    }
  });
  it('a non-finite loss throws EIN4007 naming the step and applies nothing', async () => {
    const m = new Model({ program: 'H[b,k:2] = W[i,k] · X[b,i]\nY[b,k] = log(H[b,k])', inputs: { X: [1, 2] }, output: 'Y' });
    const x = tf.tensor2d([[1, -1]]);
    const y = tf.tensor1d([0], 'int32');
    try {
      const before = weights(m);
      const e = await failureAsync(() => trainStepAsync(m, sgd({ learningRate: 0.1 }), x, y, { step: 7 }));
      expect(e.code).toBe('EIN4007');
      expect(e.message).toContain('training step 7');
      for (const [n, w] of weights(m)) expect(maxDiff(w, before.get(n)!)).toBe(0);
      const f = await failureAsync(() => trainStepAsync(m, sgd({ learningRate: 0.1 }), x, y, { checkFinite: true }));
      expect(f.message).toMatch(/tensor Y holds NaN/);
    } finally {
      tf.dispose([x, y]);
      m.dispose();
    }
  });
});

describe('fit reads losses back per epoch', () => {
  it('the mean of the per-step losses equals the epoch train loss', async () => {
    const train = toyData(64, 2);
    const m = linearModel();
    const seen: number[] = [];
    try {
      const h = await fit(m, train, {
        epochs: 2,
        batchSize: 16,
        optimizer: sgd({ learningRate: 0.1 }),
        progress: false,
        onBatchEnd: (b) => void seen.push(b.loss),
      });
      const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
      expect(h.epochs[0].trainLoss).toBeCloseTo(mean(seen.slice(0, 4)), 6);
      expect(h.epochs[1].trainLoss).toBeCloseTo(mean(seen.slice(4)), 6);
      expect(h.epochs[0].trainAccuracy).toBeGreaterThanOrEqual(0);
    } finally {
      tf.dispose([train.images, train.labels]);
      m.dispose();
    }
  });
  it('a loss that goes NaN at step 3 is EIN4007 naming step 3, and nothing leaks', async () => {
    // Batches of 2 in order: the NaN row is in the third batch.
    const images = tf.tensor2d([
      [0.1, 0.2],
      [0.3, -0.1],
      [0.5, 0.1],
      [-0.2, 0.4],
      [NaN, 0],
      [0.2, 0.2],
      [0.1, -0.3],
      [0.4, 0.4],
    ]);
    const labels = tf.tensor1d([0, 1, 1, 0, 1, 0, 1, 0], 'int32');
    try {
      const run = async () => {
        const m = linearModel();
        try {
          return await fit(m, { images, labels }, { epochs: 1, batchSize: 2, shuffle: false, optimizer: sgd({ learningRate: 0.1 }), progress: false });
        } finally {
          m.dispose();
        }
      };
      await run().catch(() => undefined);
      const before = tf.memory().numTensors;
      const e = await failureAsync(run);
      expect(e.code).toBe('EIN4007');
      expect(e.message).toContain('training step 3');
      expect(e.message).toContain('the loss is NaN');
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose([images, labels]);
    }
  });
});

describe('stopping fit and evaluate', () => {
  const options = (signal?: AbortSignal, optimizer = sgd({ learningRate: 0.05, momentum: 0.9 })) => ({
    epochs: 1,
    batchSize: 2,
    optimizer,
    shuffle: 3,
    progress: false as const,
    signal,
  });

  /** Stops a long fit by `stopSoon`, then checks the stop point, the tensors and the weights. */
  async function stopsCleanly(stopSoon: (controller: AbortController) => void): Promise<void> {
    const train = toyData(4000, 4);
    const m = linearModel();
    const again = linearModel();
    try {
      // One step first, so that the plans are built and cached before counting; `again` does the same.
      await fit(m, train, { ...options(), maxBatchesPerEpoch: 1 });
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      stopSoon(controller);
      const optimizer = sgd({ learningRate: 0.05, momentum: 0.9 });
      const h = await fit(m, train, options(controller.signal, optimizer));
      optimizer.dispose(); // its momentum slots
      expect(h.stopped).toBeDefined();
      const { epoch, batch, step, phase } = h.stopped!;
      expect([epoch, phase]).toEqual([1, 'train']);
      expect(batch).toBe(step);
      expect(step).toBeGreaterThan(0);
      expect(step).toBeLessThan(2000);
      expect(h.epochs[0].batches).toBe(batch);
      expect(tf.memory().numTensors).toBe(before);
      // The weights are those of exactly `step` steps: a run stopped there by maxBatchesPerEpoch agrees.
      await fit(again, train, { ...options(), maxBatchesPerEpoch: 1 });
      await fit(again, train, { ...options(), maxBatchesPerEpoch: step });
      for (const [n, w] of weights(m)) expect(maxDiff(w, weights(again).get(n)!)).toBe(0);
      expect((await evaluate(m, train)).accuracy).toBeGreaterThan(0.5);
    } finally {
      tf.dispose([train.images, train.labels]);
      m.dispose();
      again.dispose();
    }
  }

  it('an AbortSignal aborted by a timer stops at a batch boundary', async () => {
    await stopsCleanly((c) => setTimeout(() => c.abort(), 30));
  });
  it('requestStop() from a timer (a kernel interrupt) stops at a batch boundary', async () => {
    await stopsCleanly(() => setTimeout(requestStop, 30));
  });
  it('a signal aborted before the start trains nothing; a stale requestStop() is forgotten', async () => {
    const train = toyData(64, 5);
    const m = linearModel();
    const w0 = weights(m);
    try {
      const controller = new AbortController();
      controller.abort();
      const h = await fit(m, train, options(controller.signal));
      expect(h.stopped).toEqual({ epoch: 1, batch: 0, step: 0, phase: 'train' });
      expect(h.epochs).toHaveLength(0);
      for (const [n, w] of weights(m)) expect(maxDiff(w, w0.get(n)!)).toBe(0);
      requestStop();
      const full = await fit(m, train, options());
      expect(full.stopped).toBeUndefined();
      expect(full.epochs[0].batches).toBe(32);
    } finally {
      tf.dispose([train.images, train.labels]);
      m.dispose();
    }
  });
  it('evaluate stops too, leaks nothing, and says how far it got', async () => {
    const data = toyData(3000, 6);
    const m = linearModel();
    try {
      await evaluate(m, data, { batchSize: 1 });
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      const r = await evaluate(m, data, { batchSize: 1, signal: controller.signal });
      expect(r.stopped).toBeDefined();
      expect(r.count).toBe(r.stopped!.batch);
      expect(r.count).toBeLessThan(3000);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose([data.images, data.labels]);
      m.dispose();
    }
  });
});
