import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ImageSet, forEachBatch } from '../../datasets/image-set';
import { permutation, seededRandom } from '../../core/random';
import { shuffle, trainValidationSplit } from '../../datasets/splits';
import { expectEinError } from './expect-error';

/** 10 images of 2x2x1 whose pixels all equal 10*i, labelled i mod 3. */
function tiny(n = 10): ImageSet {
  const pixels = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) pixels.fill(10 * i, 4 * i, 4 * i + 4);
  return new ImageSet({
    name: 'tiny',
    pixels,
    count: n,
    height: 2,
    width: 2,
    channels: 1,
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    classNames: ['a', 'b', 'c'],
  });
}

describe('seeded randomness', () => {
  it('Mulberry32 gives the reference values (computed independently in Python with 32-bit masks)', () => {
    const r = seededRandom(42);
    expect([r.next(), r.next(), r.next()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
    const z = seededRandom(0);
    expect([z.next(), z.next(), z.next()]).toEqual([0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]);
  });

  it('permutations are valid, deterministic per seed and differ across seeds', () => {
    const p = permutation(1000, 5);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(permutation(1000, 5))).toEqual(Array.from(p));
    expect(Array.from(permutation(1000, 6))).not.toEqual(Array.from(p));
  });

  it('permutations are close to uniform: each element lands in each of 4 positions ~1/4 of the time', () => {
    const counts = Array.from({ length: 4 }, () => new Array(4).fill(0));
    const rng = seededRandom(123);
    const trials = 8000;
    for (let t = 0; t < trials; t++) permutation(4, rng).forEach((v, pos) => counts[v][pos]++);
    // Expected 2000 each; the binomial standard deviation is ~39, so ±200 is over 5 sigma.
    for (const row of counts) for (const c of row) expect(Math.abs(c - trials / 4)).toBeLessThan(200);
  });

  it('non-integer seeds are refused', () => {
    expectEinError(() => seededRandom(1.5), 'EIN5010', 'seed must be an integer');
  });
});

describe('ImageSet', () => {
  it('toTensors scales to [0,1] by default and to [0,255] with scale byte', () => {
    const before = tf.memory().numTensors;
    const set = tiny(3);
    const unit = set.toTensors();
    expect(unit.images.shape).toEqual([3, 2, 2, 1]);
    expect(Array.from(unit.images.dataSync())).toEqual(
      [0, 0, 0, 0, 10 / 255, 10 / 255, 10 / 255, 10 / 255, 20 / 255, 20 / 255, 20 / 255, 20 / 255].map(Math.fround),
    );
    expect(Array.from(unit.labels.dataSync())).toEqual([0, 1, 2]);
    expect(Array.from(unit.labelArray)).toEqual([0, 1, 2]);
    const bytes = set.toTensors({ scale: 'byte' });
    expect(Math.max(...bytes.images.dataSync())).toBe(20);
    unit.dispose();
    bytes.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('batches visit every image exactly once, shuffled deterministically, with the right labels', () => {
    const set = tiny(10);
    const seen: number[][] = [];
    for (const seed of [7, 7]) {
      const order: number[] = [];
      for (const b of set.batches({ batchSize: 4, shuffle: seed })) {
        const firstPixels = b.images.dataSync().filter((_, i) => i % 4 === 0);
        const labels = Array.from(b.labels.dataSync());
        b.indices.forEach((idx, k) => {
          expect(Math.round(firstPixels[k] * 255)).toBe(10 * idx);
          expect(labels[k]).toBe(idx % 3);
        });
        order.push(...b.indices);
        b.dispose();
      }
      seen.push(order);
    }
    expect(seen[0]).toEqual(seen[1]);
    expect([...seen[0]].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen[0]).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen[0]).toEqual(Array.from(permutation(10, 7)));
  });

  it('batch sizes: last batch smaller, or dropped with dropRemainder; one-hot labels', () => {
    const set = tiny(10);
    const sizes = [...set.batches({ batchSize: 4 })].map((b) => (b.dispose(), b.indices.length));
    expect(sizes).toEqual([4, 4, 2]);
    const dropped = [...set.batches({ batchSize: 4, dropRemainder: true })].map((b) => (b.dispose(), b.indices.length));
    expect(dropped).toEqual([4, 4]);
    const [first] = set.batches({ batchSize: 3, oneHot: true });
    expect(first.labels.arraySync()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    first.dispose();
  });

  it('a Random carried across epochs gives a new order each epoch', () => {
    const rng = seededRandom(3);
    const epoch = () => [...tiny(10).batches({ batchSize: 10, shuffle: rng })].map((b) => (b.dispose(), Array.from(b.indices)))[0];
    expect(epoch()).not.toEqual(epoch());
  });

  it('streaming leaves no tensors behind; forEachBatch disposes even when the callback throws', async () => {
    const before = tf.memory().numTensors;
    const set = tiny(10);
    let n = 0;
    await forEachBatch(set, { batchSize: 3 }, () => {
      n++;
    });
    expect(n).toBe(4);
    await expect(
      forEachBatch(set, { batchSize: 3 }, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('slice shares memory, subset copies, and bad arguments are EinErrors', () => {
    const set = tiny(10);
    const s = set.slice(2, 5);
    expect(Array.from(s.labels)).toEqual([2, 0, 1]);
    expect(s.pixels.buffer).toBe(set.pixels.buffer);
    const sub = set.subset([9, 0]);
    expect(Array.from(sub.labels)).toEqual([0, 0]);
    expect(sub.image(0)[0]).toBe(90);
    expect(sub.pixels.buffer).not.toBe(set.pixels.buffer);
    expectEinError(() => set.subset([10]), 'EIN5010', 'index 10');
    expectEinError(() => [...set.batches({ batchSize: 0 })], 'EIN5010', 'batchSize');
    expectEinError(() => set.toTensors({ scale: 'half' as never }), 'EIN5010', 'scale');
    expectEinError(
      () => new ImageSet({ name: 'bad', pixels: new Uint8Array(3), count: 1, height: 2, width: 2, channels: 1, labels: Int32Array.of(0), classNames: ['a'] }),
      'EIN5003',
      'pixels has 3 bytes',
    );
  });
});

describe('shuffle and train/validation split', () => {
  it('ImageSet split: disjoint, covering, sized as asked, deterministic', () => {
    const set = tiny(10);
    const a = trainValidationSplit(set, { validationFraction: 0.3, seed: 11 });
    const b = trainValidationSplit(set, { validationFraction: 0.3, seed: 11 });
    expect([a.train.count, a.validation.count]).toEqual([7, 3]);
    const ids = (s: ImageSet) => Array.from({ length: s.count }, (_, i) => s.image(i)[0] / 10);
    expect(ids(a.train)).toEqual(ids(b.train));
    expect([...ids(a.train), ...ids(a.validation)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Labels travel with their images.
    for (const part of [a.train, a.validation]) for (let i = 0; i < part.count; i++) expect(part.labels[i]).toBe(ids(part)[i] % 3);
    const unshuffled = trainValidationSplit(set, { validationSize: 2, seed: false });
    expect(ids(unshuffled.validation)).toEqual([8, 9]);
  });

  it('TensorDataset shuffle/split gather rows with their labels and leak nothing', () => {
    const before = tf.memory().numTensors;
    const ds = tiny(6).toTensors({ scale: 'byte' });
    const sh = shuffle(ds, 2);
    const order = Array.from(permutation(6, 2));
    expect(Array.from(sh.images.dataSync()).filter((_, i) => i % 4 === 0)).toEqual(order.map((i) => 10 * i));
    expect(Array.from(sh.labels.dataSync())).toEqual(order.map((i) => i % 3));
    expect(Array.from(sh.labelArray)).toEqual(order.map((i) => i % 3));
    const { train, validation } = trainValidationSplit(ds, { validationSize: 2, seed: 2 });
    expect(train.images.shape).toEqual([4, 2, 2, 1]);
    expect(Array.from(validation.labelArray)).toEqual(order.slice(4).map((i) => i % 3));
    for (const d of [sh, train, validation, ds]) d.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('shuffling an ImageSet with the same seed twice gives the same order', () => {
    const set = tiny(10);
    expect(Array.from(shuffle(set, 9).pixels)).toEqual(Array.from(shuffle(set, 9).pixels));
  });

  it('bad split sizes are refused', () => {
    expectEinError(() => trainValidationSplit(tiny(), { validationFraction: 1 }), 'EIN5010', 'validationFraction');
    expectEinError(() => trainValidationSplit(tiny(), { validationSize: 11 }), 'EIN5010', 'validationSize');
  });
});
