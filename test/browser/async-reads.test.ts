/**
 * The asynchronous reads a page uses (runAsync, accuracyAsync, correctCountAsync,
 * channelMeanStdAsync) and cifarImageSetFromBytes, in Node on the cpu backend: they give what the
 * synchronous forms and the file loader give, and fail the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ein } from '../../dsl/program';
import { accuracy, accuracyAsync, correctCount, correctCountAsync } from '../../models/losses';
import { channelMeanStd, channelMeanStdAsync } from '../../datasets/transforms';
import { CIFAR10_CLASSES, cifarImageSetFromBytes, readCifarBatches } from '../../datasets/cifar';
import { cifarPixel, cifarRecord } from '../datasets/formats';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('async reads on cpu agree with the synchronous forms', () => {
  it('runAsync with validate: the outputs of run, and EIN3008 when the tolerance cannot hold', async () => {
    const p = ein('Y[b,j] = W[I,j] · X[b,I]');
    const X = tf.tensor2d([0.1, 0.2, 0.3, 0.7, 0.11, 0.13], [2, 3]);
    const W = tf.tensor2d([0.3, 0.1, 0.17, 0.19, 0.23, 0.29], [3, 2]);
    const { Y } = await p.runAsync({ X, W }, { validate: true });
    expect(Array.from(await Y.data())).toEqual(Array.from(p.run({ X, W }, { validate: true }).Y.dataSync()));
    Y.dispose();
    // float32 products differ from the float64 reference in the last bits: tolerance 0 fails, and
    // the outputs made for the failed check are released.
    const live = tf.memory().numTensors;
    await expect(p.runAsync({ X, W }, { validate: true, tolerance: 0 })).rejects.toMatchObject({ code: 'EIN3008' });
    expect(tf.memory().numTensors).toBe(live);
    await expect(p.runAsync({ X, W }, { validate: 'yes' } as never)).rejects.toMatchObject({ code: 'EIN3020' });
    tf.dispose([X, W]);
  });

  it('accuracyAsync and correctCountAsync, with index and one-hot targets', async () => {
    const scores = tf.tensor2d([0.1, 0.9, 0.8, 0.2, 0.3, 0.7], [3, 2]);
    for (const target of [tf.tensor1d([1, 0, 0], 'int32'), tf.oneHot(tf.tensor1d([1, 0, 0], 'int32'), 2)]) {
      const live = tf.memory().numTensors;
      expect(await accuracyAsync(scores, target)).toBeCloseTo(accuracy(scores, target), 7);
      expect(await accuracyAsync(scores, target)).toBeCloseTo(2 / 3, 6);
      expect(await correctCountAsync(scores, target)).toBe(correctCount(scores, target));
      expect(tf.memory().numTensors).toBe(live);
      target.dispose();
    }
    scores.dispose();
  });

  it('channelMeanStdAsync on a tensor and an ImageSet', async () => {
    const t = tf.tensor4d([0, 10, 2, 20, 4, 30, 6, 40], [1, 2, 2, 2]);
    const sync = channelMeanStd(t);
    const got = await channelMeanStdAsync(t);
    expect(got.mean).toEqual(sync.mean);
    expect(got.std).toEqual(sync.std);
    t.dispose();
    const set = cifarImageSetFromBytes([cifarRecord([1], cifarPixel(0))]);
    expect(await channelMeanStdAsync(set)).toEqual(channelMeanStd(set));
  });
});

describe('cifarImageSetFromBytes', () => {
  it('reads what readCifarBatches reads from the same bytes in a file', () => {
    const bytes = Buffer.concat([cifarRecord([3], cifarPixel(0)), cifarRecord([9], cifarPixel(1))]);
    const dir = mkdtempSync(join(tmpdir(), 'einnet-cifar-'));
    try {
      const file = join(dir, 'batch.bin');
      writeFileSync(file, bytes);
      const fromFile = readCifarBatches([file], { variant: 'cifar-10' }, CIFAR10_CLASSES, 'x');
      const fromBytes = cifarImageSetFromBytes([new Uint8Array(bytes).buffer], { name: 'x' });
      expect(Array.from(fromBytes.labels)).toEqual([3, 9]);
      expect(Array.from(fromBytes.pixels)).toEqual(Array.from(fromFile.pixels));
      expect(fromBytes.classNames).toEqual(CIFAR10_CLASSES);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CIFAR-100 coarse labels, and EIN5003 / EIN5014 / EIN5010 as the loaders give them', () => {
    const rec = cifarRecord([4, 77], cifarPixel(0));
    expect(Array.from(cifarImageSetFromBytes([rec], { variant: 'cifar-100', labels: 'coarse' }).labels)).toEqual([4]);
    expect(Array.from(cifarImageSetFromBytes([rec], { variant: 'cifar-100' }).labels)).toEqual([77]);
    expect(() => cifarImageSetFromBytes([rec.subarray(0, 3000)])).toThrow(/EIN5003[\s\S]*cifar-10 batch 0: is 3000 bytes/);
    expect(() => cifarImageSetFromBytes([cifarRecord([12], cifarPixel(0))])).toThrow(/EIN5014[\s\S]*record 0 has label 12/);
    expect(() => cifarImageSetFromBytes([rec], { variant: 'cifar-20' as never })).toThrow(/EIN5010/);
  });
});
