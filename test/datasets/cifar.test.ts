import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CIFAR100_COARSE_CLASSES,
  CIFAR100_FINE_CLASSES,
  CIFAR10_CLASSES,
  openCifar10,
  openCifar100,
  loadCifar10,
  readCifarBatches,
} from '../../datasets/cifar';
import { padToCifarShape, openMnistAsCifar } from '../../datasets/cifar-fallback';
import { ImageSet } from '../../datasets/image-set';
import { expectEinError } from './expect-error';
import { cifarPixel, cifarRecord, tempDir } from './formats';

const tmp = tempDir();
afterAll(tmp.cleanup);

/** A cifar-10-batches-bin folder with `perFile` records in each of the 6 batch files. */
function writeCifar10(root: string, perFile: number, withMeta = true): string {
  const dir = path.join(root, 'cifar-10-batches-bin');
  fs.mkdirSync(dir, { recursive: true });
  const files = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat('test_batch.bin');
  files.forEach((f, k) => {
    const recs = Array.from({ length: perFile }, (_, r) => cifarRecord([(k + r) % 10], cifarPixel(k * perFile + r)));
    fs.writeFileSync(path.join(dir, f), Buffer.concat(recs));
  });
  if (withMeta) fs.writeFileSync(path.join(dir, 'batches.meta.txt'), CIFAR10_CLASSES.join('\n') + '\n\n');
  return dir;
}

describe('CIFAR binary records', () => {
  it('reorders the R, G, B planes to NHWC and keeps each record label', () => {
    const f = path.join(tmp.dir, 'two.bin');
    fs.writeFileSync(f, Buffer.concat([cifarRecord([3], cifarPixel(0)), cifarRecord([9], cifarPixel(1))]));
    const set = readCifarBatches([f], { variant: 'cifar-10' }, CIFAR10_CLASSES, 'two');
    expect([set.count, set.height, set.width, set.channels]).toEqual([2, 32, 32, 3]);
    expect(Array.from(set.labels)).toEqual([3, 9]);
    // Record 1, row 5, column 7: R = 13+0+15+7 = 35, G = 35+80 = 115, B = 35+160 = 195.
    const img = set.image(1);
    const at = (5 * 32 + 7) * 3;
    expect([img[at], img[at + 1], img[at + 2]]).toEqual([35, 115, 195]);
    // Record 0 top-left: R 0, G 80, B 160.
    expect(Array.from(set.image(0).subarray(0, 3))).toEqual([0, 80, 160]);
  });

  it('CIFAR-100 records have coarse then fine label bytes; either can be chosen', () => {
    const f = path.join(tmp.dir, 'c100.bin');
    fs.writeFileSync(f, Buffer.concat([cifarRecord([4, 72], cifarPixel(0)), cifarRecord([19, 99], cifarPixel(1))]));
    const fine = readCifarBatches([f], { variant: 'cifar-100' }, CIFAR100_FINE_CLASSES, 'f');
    const coarse = readCifarBatches([f], { variant: 'cifar-100', labels: 'coarse' }, CIFAR100_COARSE_CLASSES, 'c');
    expect(Array.from(fine.labels)).toEqual([72, 99]);
    expect(Array.from(coarse.labels)).toEqual([4, 19]);
    expect(Array.from(fine.image(1).subarray(0, 3))).toEqual([13, 93, 173]);
    expect(CIFAR100_FINE_CLASSES.length).toBe(100);
    expect(CIFAR100_COARSE_CLASSES.length).toBe(20);
  });

  it('a truncated batch file is an error naming the file and the record size', () => {
    const f = path.join(tmp.dir, 'cut.bin');
    fs.writeFileSync(f, Buffer.concat([cifarRecord([1], cifarPixel(0)), cifarRecord([2], cifarPixel(1)).subarray(0, 1000)]));
    expectEinError(() => readCifarBatches([f], { variant: 'cifar-10' }, CIFAR10_CLASSES, 'x'), 'EIN5003', f, '3073-byte', 'cut off after 1000 bytes');
    const empty = path.join(tmp.dir, 'empty.bin');
    fs.writeFileSync(empty, '');
    expectEinError(() => readCifarBatches([empty], { variant: 'cifar-10' }, CIFAR10_CLASSES, 'x'), 'EIN5003', empty, 'empty');
  });

  it('a CIFAR-100 file read as CIFAR-10 is refused (size or label), never misread silently', () => {
    // Two CIFAR-100 records = 6148 bytes = 2 × 3074, not a multiple of 3073.
    const f = path.join(tmp.dir, 'c100b.bin');
    fs.writeFileSync(f, Buffer.concat([cifarRecord([4, 72], cifarPixel(0)), cifarRecord([5, 1], cifarPixel(1))]));
    expectEinError(() => readCifarBatches([f], { variant: 'cifar-10' }, CIFAR10_CLASSES, 'x'), 'EIN5003', f);
    const g = path.join(tmp.dir, 'label.bin');
    fs.writeFileSync(g, cifarRecord([12], cifarPixel(0)));
    expectEinError(() => readCifarBatches([g], { variant: 'cifar-10' }, CIFAR10_CLASSES, 'x'), 'EIN5014', g, 'label 12');
  });
});

describe('openCifar10 / openCifar100', () => {
  const root = path.join(tmp.dir, 'c10');
  const dir = writeCifar10(root, 3);

  it('finds the batches in the given folder or its parent, train = 5 files in order, test = 1', () => {
    for (const p of [root, dir]) {
      const train = openCifar10({ path: p });
      expect(train.count).toBe(15);
      expect(Array.from(train.labels)).toEqual([0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6]);
      // Record 7 of train is the 2nd record of data_batch_3 (global pattern index 7).
      expect(train.image(7)[0]).toBe(cifarPixel(7)(0, 0, 0));
      expect(train.classNames).toEqual(CIFAR10_CLASSES);
    }
    const test = openCifar10({ path: root, split: 'test' });
    expect(Array.from(test.labels)).toEqual([5, 6, 7]);
  });

  it('a missing batch file is a not-found error naming it (never a shorter dataset)', () => {
    const partial = path.join(tmp.dir, 'partial');
    const d = writeCifar10(partial, 1, false);
    fs.rmSync(path.join(d, 'data_batch_4.bin'));
    expectEinError(() => openCifar10({ path: partial }), 'EIN5001', 'data_batch_4.bin');
  });

  it('loadCifar10 gives [N,32,32,3] float32 in [0,1] and int32 labels, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const ds = loadCifar10({ path: root, split: 'test' });
    expect(ds.images.shape).toEqual([3, 32, 32, 3]);
    expect(ds.images.dtype).toBe('float32');
    expect(ds.labels.dtype).toBe('int32');
    // Record 15 (test record 0) pixel (0,0) channel 1: (15*13 + 80) % 256 = 19 → 19/255.
    expect(ds.images.arraySync()[0][0][0][1]).toBeCloseTo(19 / 255, 6);
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('openCifar100 reads train.bin with fine or coarse labels', () => {
    const d = path.join(tmp.dir, 'c100', 'cifar-100-binary');
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'train.bin'), Buffer.concat([cifarRecord([1, 2], cifarPixel(0)), cifarRecord([3, 4], cifarPixel(1))]));
    expect(Array.from(openCifar100({ path: path.join(tmp.dir, 'c100') }).labels)).toEqual([2, 4]);
    expect(Array.from(openCifar100({ path: d, labels: 'coarse' }).labels)).toEqual([1, 3]);
    expectEinError(() => openCifar100({ path: d, split: 'test' }), 'EIN5001', 'test.bin');
  });
});

describe('CIFAR-shaped fallback', () => {
  it('pads a grey image by 2 on each side and repeats it to 3 channels', () => {
    const px = Uint8Array.from({ length: 28 * 28 }, (_, i) => (i % 255) + 1); // never 0 inside
    const set = new ImageSet({
      name: 'g',
      pixels: px,
      count: 1,
      height: 28,
      width: 28,
      channels: 1,
      labels: Int32Array.of(7),
      classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
    });
    const out = padToCifarShape(set);
    expect([out.height, out.width, out.channels]).toEqual([32, 32, 3]);
    const img = out.image(0);
    const at = (y: number, x: number, c: number) => img[(y * 32 + x) * 3 + c];
    // Border is zero; interior (y+2, x+2) equals the source pixel in all 3 channels.
    expect([at(0, 0, 0), at(1, 31, 2), at(31, 5, 1), at(10, 1, 0)]).toEqual([0, 0, 0, 0]);
    for (const [y, x] of [
      [0, 0],
      [13, 20],
      [27, 27],
    ]) {
      for (let c = 0; c < 3; c++) expect(at(y + 2, x + 2, c)).toBe(px[y * 28 + x]);
    }
    expect(Array.from(out.labels)).toEqual([7]);
  });

  it('openMnistAsCifar gives 32x32x3 real digits and says so in its name', () => {
    const s = openMnistAsCifar({ split: 'test', limit: 4 });
    expect([s.count, s.height, s.width, s.channels]).toEqual([4, 32, 32, 3]);
    expect(s.name).toContain('not CIFAR');
    expect(Array.from(s.labels)).toEqual([7, 2, 1, 0]);
  });

  it('refuses images that do not fit', () => {
    const big = new ImageSet({
      name: 'b',
      pixels: new Uint8Array(40 * 40),
      count: 1,
      height: 40,
      width: 40,
      channels: 1,
      labels: Int32Array.of(0),
      classNames: ['x'],
    });
    expectEinError(() => padToCifarShape(big), 'EIN5010', '40x40');
  });
});
