import * as tf from '@tensorflow/tfjs';
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { ImageSet } from '../../datasets/image-set';
import { fromNdarray, toNdarray } from '../../datasets/ndarray-bridge';
import { seededRandom } from '../../core/random';
import { augmentBatch, channelMeanStd, normalizeChannels, randomCropWithPadding, randomHorizontalFlip } from '../../datasets/transforms';
import { expectEinError } from './expect-error';

describe('per-channel statistics and normalisation', () => {
  // Two 1x2 RGB images. Channel values: R {0, 255, 255, 0}, G {51, 51, 51, 51}, B {0, 0, 0, 255}.
  const pixels = Uint8Array.from([0, 51, 0, 255, 51, 0, /* image 2 */ 255, 51, 0, 0, 51, 255]);
  const set = new ImageSet({ name: 's', pixels, count: 2, height: 1, width: 2, channels: 3, labels: Int32Array.of(0, 0), classNames: ['x'] });

  it('channelMeanStd of an ImageSet: hand-computed mean and population std, in [0,1] units', () => {
    const { mean, std } = channelMeanStd(set);
    // R: mean 0.5, std 0.5. G: mean 0.2, std 0. B: mean 0.25, std sqrt(0.25*0.75) = 0.4330127.
    expect(mean[0]).toBeCloseTo(0.5, 12);
    expect(mean[1]).toBeCloseTo(0.2, 12);
    expect(mean[2]).toBeCloseTo(0.25, 12);
    expect(std[0]).toBeCloseTo(0.5, 12);
    expect(std[1]).toBeCloseTo(0, 6);
    expect(std[2]).toBeCloseTo(Math.sqrt(0.1875), 12);
    expect(channelMeanStd(set, { scale: 'byte' }).mean[0]).toBeCloseTo(127.5, 9);
  });

  it('the tensor version agrees with the host version and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const ds = set.toTensors();
    const t = channelMeanStd(ds.images);
    const h = channelMeanStd(set);
    for (let c = 0; c < 3; c++) {
      expect(t.mean[c]).toBeCloseTo(h.mean[c], 5);
      expect(t.std[c]).toBeCloseTo(h.std[c], 3);
    }
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('normalizeChannels computes (x - mean) / std per channel', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor4d([0, 0.2, 1, 1, 0.4, 0], [1, 1, 2, 3]);
    const y = normalizeChannels(x, { mean: [0.5, 0.2, 0.25], std: [0.5, 0.1, 0.25] });
    const expected = [-1, 0, 3, 1, 2, -1];
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(y.shape).toEqual([1, 1, 2, 3]);
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('wrong channel count or a zero std is refused', () => {
    const x = tf.zeros([1, 2, 2, 3]);
    expectEinError(() => normalizeChannels(x, { mean: [0], std: [1] }), 'EIN5015', '3 channels');
    expectEinError(() => normalizeChannels(x, { mean: [0, 0, 0], std: [1, 0, 1] }), 'EIN5010', 'positive');
    expectEinError(() => channelMeanStd(tf.zeros([2, 2]) as never), 'EIN5015', 'rank 4');
    x.dispose();
  });
});

describe('augmentation (random crop with padding, horizontal flip)', () => {
  // 3 images of 4x5x2 with distinct values everywhere (1..120), so each output pixel reveals its source.
  const n = 3,
    h = 4,
    w = 5,
    c = 2;
  const values = Float32Array.from({ length: n * h * w * c }, (_, i) => i + 1);

  /** Source value of (b, y, x, ch), 0 outside the image (the zero padding). */
  const src = (b: number, y: number, x: number, ch: number) => (y < 0 || y >= h || x < 0 || x >= w ? 0 : values[((b * h + y) * w + x) * c + ch]);

  /** The output equals the padded image cropped at some (dy, dx), maybe mirrored; returns which. */
  function explain(out: Float32Array, b: number, p: number): Array<{ dy: number; dx: number; flip: boolean }> {
    const matches = [];
    for (let dy = 0; dy <= 2 * p; dy++)
      for (let dx = 0; dx <= 2 * p; dx++)
        for (const flip of [false, true]) {
          let ok = true;
          for (let y = 0; y < h && ok; y++)
            for (let x = 0; x < w && ok; x++)
              for (let ch = 0; ch < c && ok; ch++) {
                // Padded image P (width w+2p), or its mirror Pf[y][x] = P[y][w+2p-1-x]; crop at (dy, dx).
                const px = flip ? w + 2 * p - 1 - (x + dx) : x + dx;
                const want = src(b, y + dy - p, px - p, ch);
                ok = out[((b * h + y) * w + x) * c + ch] === want;
              }
          if (ok) matches.push({ dy, dx, flip });
        }
    return matches;
  }

  it('padding 0 without flip is the identity', () => {
    const x = tf.tensor4d(values, [n, h, w, c]);
    const y = augmentBatch(x, { padding: 0, flip: false, random: 1 });
    expect(Array.from(y.dataSync())).toEqual(Array.from(values));
    tf.dispose([x, y]);
  });

  it('every output image is an exact window of its zero-padded (possibly mirrored) source', () => {
    const x = tf.tensor4d(values, [n, h, w, c]);
    const rng = seededRandom(2024);
    const seen = new Set<string>();
    for (let round = 0; round < 20; round++) {
      const y = augmentBatch(x, { padding: 2, random: rng });
      const out = y.dataSync() as Float32Array;
      for (let b = 0; b < n; b++) {
        const m = explain(out, b, 2);
        expect(m.length).toBeGreaterThan(0);
        seen.add(`${m[0].dy},${m[0].dx},${m[0].flip}`);
      }
      y.dispose();
    }
    x.dispose();
    // 60 draws over 5x5x2 = 50 outcomes: a working sampler shows both flips and many offsets.
    expect([...seen].some((s) => s.endsWith('true'))).toBe(true);
    expect([...seen].some((s) => s.endsWith('false'))).toBe(true);
    expect(seen.size).toBeGreaterThan(20);
  });

  it('a flipped image equals tf.image.flipLeftRight of it; about half are flipped', () => {
    const many = tf.randomUniform([200, 3, 4, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const flipped = tf.image.flipLeftRight(many);
    const y = randomHorizontalFlip(many, 5);
    const a = many.arraySync(),
      f = flipped.arraySync(),
      o = y.arraySync();
    let nFlipped = 0;
    for (let b = 0; b < 200; b++) {
      const isSame = JSON.stringify(o[b]) === JSON.stringify(a[b]);
      const isFlip = JSON.stringify(o[b]) === JSON.stringify(f[b]);
      expect(isSame || isFlip).toBe(true);
      if (isFlip) nFlipped++;
    }
    // Binomial(200, 0.5): mean 100, sd ~7; ±35 is 5 sigma.
    expect(Math.abs(nFlipped - 100)).toBeLessThan(35);
    tf.dispose([many, flipped, y]);
  });

  it('is deterministic for a seed, and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(values, [n, h, w, c]);
    const a = randomCropWithPadding(x, 1, 77);
    const b = randomCropWithPadding(x, 1, 77);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(a.shape).toEqual([n, h, w, c]);
    tf.dispose([x, a, b]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects non-batches and bad padding', () => {
    const x = tf.zeros([4, 4, 1]);
    expectEinError(() => augmentBatch(x as never), 'EIN5015', 'rank 4');
    const y = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    expectEinError(() => augmentBatch(y, { padding: -1 }), 'EIN5010', 'padding');
    tf.dispose([x, y]);
  });
});

describe('ndarray bridge', () => {
  it('toNdarray copies values, shape and index order; the tensor stays valid', () => {
    const t = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    const a = toNdarray(t);
    expect(a.shape).toEqual([2, 2, 2]);
    expect(a.get(1, 0, 1)).toBe(6);
    a.set(0, 0, 0, 100);
    expect(t.dataSync()[0]).toBe(1); // no aliasing
    const i = toNdarray(tf.tensor1d([3, -4], 'int32'));
    expect(i.data).toBeInstanceOf(Int32Array);
    t.dispose();
  });

  it('fromNdarray honours strides and offsets of views (transpose, step, lo/hi, pick)', () => {
    const base = ndarray(new Float32Array([0, 1, 2, 3, 4, 5]), [2, 3]);
    const tT = fromNdarray(base.transpose(1, 0));
    expect(tT.shape).toEqual([3, 2]);
    expect(tT.arraySync()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    const stepped = fromNdarray(base.step(1, -1)); // columns reversed
    expect(stepped.arraySync()).toEqual([
      [2, 1, 0],
      [5, 4, 3],
    ]);
    const window = fromNdarray(base.lo(1, 1).hi(1, 2));
    expect(window.arraySync()).toEqual([[4, 5]]);
    const row = fromNdarray(base.pick(1, null));
    expect(row.arraySync()).toEqual([3, 4, 5]);
    tf.dispose([tT, stepped, window, row]);
  });

  it('dtypes: integer arrays become int32, floats float32; round trip is exact', () => {
    const u8 = fromNdarray(ndarray(new Uint8Array([1, 255]), [2]));
    expect(u8.dtype).toBe('int32');
    expect(Array.from(u8.dataSync())).toEqual([1, 255]);
    const f64 = fromNdarray(ndarray(new Float64Array([0.5, 2]), [2]));
    expect(f64.dtype).toBe('float32');
    const t = tf.tensor2d([
      [1.25, -2],
      [3, 4.5],
    ]);
    const back = fromNdarray(toNdarray(t));
    expect(back.arraySync()).toEqual(t.arraySync());
    tf.dispose([u8, f64, t, back]);
  });
});
