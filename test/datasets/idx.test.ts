import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIdx, readIdx, readIdxImageSet } from '../../datasets/idx';
import { MNIST_CLASSES } from '../../datasets/mnist';
import { expectEinError } from './expect-error';
import { idxBytes, tempDir, writeIdxPair } from './formats';

const tmp = tempDir();
afterAll(tmp.cleanup);

describe('parseIdx', () => {
  it('reads a hand-written uint8 array: dims from the big-endian header, values in order', () => {
    const bytes = Buffer.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 250]);
    const a = parseIdx(bytes, 'x');
    expect(a.dims).toEqual([2, 3]);
    expect(a.type).toBe('uint8');
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 250]);
  });

  it('reads big-endian multi-byte types (int16, int32, float32, float64)', () => {
    expect(Array.from(parseIdx(Buffer.from([0, 0, 0x0b, 1, 0, 0, 0, 2, 0xff, 0xfe, 0x01, 0x00]), 'x').data)).toEqual([-2, 256]);
    expect(Array.from(parseIdx(Buffer.from([0, 0, 0x0c, 1, 0, 0, 0, 1, 0x00, 0x01, 0x00, 0x00]), 'x').data)).toEqual([65536]);
    // 1.5 as float32 is 0x3fc00000; as float64 0x3ff8000000000000.
    expect(Array.from(parseIdx(Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0]), 'x').data)).toEqual([1.5]);
    expect(Array.from(parseIdx(Buffer.from([0, 0, 0x0e, 1, 0, 0, 0, 1, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), 'x').data)).toEqual([1.5]);
  });

  it('bad magic: names the file and what it looks like', () => {
    expectEinError(() => parseIdx(Buffer.from('<html>404</html>'), 'f.idx'), 'EIN5002', 'f.idx', 'not an IDX file', 'HTML');
    expectEinError(() => parseIdx(Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 0]), 'g.idx'), 'EIN5002', 'g.idx');
    expectEinError(() => parseIdx(Buffer.alloc(0), 'empty.idx'), 'EIN5002', 'empty.idx', '(empty)');
  });

  it('truncated body, truncated header and trailing bytes are size errors', () => {
    const good = idxBytes([3, 2, 2], new Uint8Array(12));
    expectEinError(() => parseIdx(good.subarray(0, good.length - 1), 'cut.idx'), 'EIN5003', 'cut.idx', 'truncated', '[3, 2, 2]');
    expectEinError(() => parseIdx(good.subarray(0, 10), 'hdr.idx'), 'EIN5003', 'hdr.idx', 'inside its header');
    expectEinError(() => parseIdx(Buffer.concat([good, Buffer.from([1, 2])]), 'long.idx'), 'EIN5003', 'long.idx', '2 unexpected bytes');
  });
});

describe('readIdx: gzip detection', () => {
  const raw = idxBytes([4], Uint8Array.from([9, 8, 7, 6]));

  it('reads raw and gzip files alike (gzip recognised by content)', () => {
    const a = path.join(tmp.dir, 'a-idx1-ubyte');
    const b = path.join(tmp.dir, 'b-idx1-ubyte.gz');
    const c = path.join(tmp.dir, 'c-idx1-ubyte'); // gzip without the .gz name
    fs.writeFileSync(a, raw);
    fs.writeFileSync(b, zlib.gzipSync(raw));
    fs.writeFileSync(c, zlib.gzipSync(raw));
    for (const f of [a, b, c]) expect(Array.from(readIdx(f).data)).toEqual([9, 8, 7, 6]);
  });

  it('wrong gzip: a .gz file that is not gzip, a corrupt stream, a truncated stream', () => {
    const notGz = path.join(tmp.dir, 'plain.gz');
    fs.writeFileSync(notGz, raw);
    expectEinError(() => readIdx(notGz), 'EIN5004', notGz, 'not gzip data', '00 00 08 01');

    const gz = zlib.gzipSync(
      idxBytes(
        [1000],
        new Uint8Array(1000).map((_, i) => (i * 7919) % 251),
      ),
    );
    const corrupt = Buffer.from(gz);
    for (let i = 12; i < corrupt.length - 8; i++) corrupt[i] ^= 0x5a;
    const corruptFile = path.join(tmp.dir, 'corrupt.gz');
    fs.writeFileSync(corruptFile, corrupt);
    expectEinError(() => readIdx(corruptFile), 'EIN5004', corruptFile, 'corrupt');

    const cutFile = path.join(tmp.dir, 'cut.gz');
    fs.writeFileSync(cutFile, gz.subarray(0, Math.floor(gz.length / 2)));
    expectEinError(() => readIdx(cutFile), 'EIN5004', cutFile, 'ends early');
  });

  it('a missing file is EIN5011 naming it', () => {
    const f = path.join(tmp.dir, 'nope-idx1-ubyte');
    expectEinError(() => readIdx(f), 'EIN5011', f, 'does not exist');
  });
});

describe('readIdxImageSet', () => {
  it('pairs images and labels, NHWC with one channel, pixels as written', () => {
    const d = path.join(tmp.dir, 'pair');
    fs.mkdirSync(d);
    const { pixels, labels } = writeIdxPair(d, 'train', 7, true, 3, 4);
    const set = readIdxImageSet(path.join(d, 'train-images-idx3-ubyte.gz'), path.join(d, 'train-labels-idx1-ubyte.gz'), {
      name: 't',
      classNames: MNIST_CLASSES,
    });
    expect([set.count, set.height, set.width, set.channels]).toEqual([7, 3, 4, 1]);
    expect(Array.from(set.labels)).toEqual(Array.from(labels));
    // pixel (i=5, y=2, x=3) = (5*31 + 2*7 + 3) mod 256 = 172
    expect(set.image(5)[2 * 4 + 3]).toBe(172);
    expect(Array.from(set.pixels)).toEqual(Array.from(pixels));
  });

  it('limit keeps the first images only', () => {
    const d = path.join(tmp.dir, 'limit');
    fs.mkdirSync(d);
    writeIdxPair(d, 't10k', 20, false, 2, 2);
    const set = readIdxImageSet(path.join(d, 't10k-images-idx3-ubyte'), path.join(d, 't10k-labels-idx1-ubyte'), {
      name: 't',
      classNames: MNIST_CLASSES,
      limit: 5,
    });
    expect(set.count).toBe(5);
    expect(Array.from(set.labels)).toEqual([0, 1, 2, 3, 4]);
    expect(set.pixels.length).toBe(20);
  });

  it('label/image count mismatch names both files', () => {
    const d = path.join(tmp.dir, 'mismatch');
    fs.mkdirSync(d);
    const img = path.join(d, 'i');
    const lab = path.join(d, 'l');
    fs.writeFileSync(img, idxBytes([3, 2, 2], new Uint8Array(12)));
    fs.writeFileSync(lab, idxBytes([4], new Uint8Array(4)));
    expectEinError(() => readIdxImageSet(img, lab, { name: 't', classNames: MNIST_CLASSES }), 'EIN5005', lab, img, '4 labels', '3 images');
  });

  it('swapped files and labels outside the classes are refused', () => {
    const d = path.join(tmp.dir, 'swap');
    fs.mkdirSync(d);
    const img = path.join(d, 'i');
    const lab = path.join(d, 'l');
    fs.writeFileSync(img, idxBytes([2, 2, 2], new Uint8Array(8)));
    fs.writeFileSync(lab, idxBytes([2], Uint8Array.from([3, 10])));
    expectEinError(() => readIdxImageSet(lab, img, { name: 't', classNames: MNIST_CLASSES }), 'EIN5002', lab, 'not an image file');
    expectEinError(() => readIdxImageSet(img, lab, { name: 't', classNames: MNIST_CLASSES }), 'EIN5014', lab, 'label 10 at index 1');
  });
});
