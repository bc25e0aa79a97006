/**
 * Per-channel normalisation and the ResNet-paper augmentation (He et al. 2015, §4.2: "4 pixels
 * are padded on each side, and a 32×32 crop is randomly sampled from the padded image or its
 * horizontal flip"), on NHWC float32 batches. Every function returns new tensors, disposes its
 * intermediates and leaves its inputs to the caller.
 */
import * as tf from '@tensorflow/tfjs';
import { optionError } from './errors';
import { ImageSet, type PixelScale } from './image-set';
import { asRandom, type SeedOrRandom } from '../core/random';
import { checkOptions } from '../core/options';

/** Per-channel statistics, one number per channel. */
export interface ChannelStats {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

function check4d(where: string, t: tf.Tensor): asserts t is tf.Tensor4D {
  if (t.rank !== 4) {
    throw optionError(where, `expected an NHWC batch of rank 4, got shape [${t.shape.join(', ')}]`, 'add a batch axis with expandDims(0)', 'EIN5015');
  }
}

/**
 * Mean and (population) standard deviation of each channel over all images and pixels.
 * For an ImageSet the values are in the units of `scale` (default 'unit', i.e. [0,1]); it is
 * computed on the host in float64 without making tensors.
 *
 * @example
 * channelMeanStd(openMnist()); // { mean: [0.1307], std: [0.3081] }
 */
export function channelMeanStd(images: tf.Tensor4D | ImageSet, options: { scale?: PixelScale } = {}): ChannelStats {
  checkOptions(options, ['scale'], 'channelMeanStd');
  if (images instanceof ImageSet) {
    const c = images.channels;
    const sum = new Float64Array(c);
    const sumSq = new Float64Array(c);
    const px = images.pixels;
    for (let i = 0; i < px.length; i++) {
      const v = px[i];
      sum[i % c] += v;
      sumSq[i % c] += v * v;
    }
    const n = px.length / c;
    const k = options.scale === 'byte' ? 1 : 1 / 255;
    const mean = Array.from(sum, (s) => (s / n) * k);
    const std = Array.from(sumSq, (s, j) => Math.sqrt(Math.max(0, s / n - (sum[j] / n) ** 2)) * k);
    return { mean, std };
  }
  check4d('channelMeanStd', images);
  const [mean, variance] = tf.tidy(() => {
    const m = tf.moments(images, [0, 1, 2]);
    return [m.mean, m.variance];
  });
  const out = { mean: Array.from(mean.dataSync()), std: Array.from(variance.dataSync(), (v) => Math.sqrt(v)) };
  mean.dispose();
  variance.dispose();
  return out;
}

/**
 * `channelMeanStd`, with a tensor's statistics read by `await data()`: in a page on webgpu, where
 * a synchronous read blocks on the GPU (and returns zeros on software WebGPU).
 */
export async function channelMeanStdAsync(images: tf.Tensor4D | ImageSet, options: { scale?: PixelScale } = {}): Promise<ChannelStats> {
  if (images instanceof ImageSet) return channelMeanStd(images, options);
  checkOptions(options, ['scale'], 'channelMeanStd');
  check4d('channelMeanStd', images);
  const [mean, variance] = tf.tidy(() => {
    const m = tf.moments(images, [0, 1, 2]);
    return [m.mean, m.variance];
  });
  try {
    const [m, v] = await Promise.all([mean.data(), variance.data()]);
    return { mean: Array.from(m), std: Array.from(v, (x) => Math.sqrt(x)) };
  } finally {
    mean.dispose();
    variance.dispose();
  }
}

/**
 * (images - mean) / std per channel. `images` is [..., C] with C = stats.mean.length.
 *
 * @example
 * const stats = channelMeanStd(train);            // from the training data only
 * const x = normalizeChannels(batch.images, stats);
 */
export function normalizeChannels<T extends tf.Tensor>(images: T, stats: ChannelStats): T {
  const c = images.shape[images.rank - 1];
  if (stats.mean.length !== c || stats.std.length !== c) {
    throw optionError(
      'normalizeChannels',
      `images have ${c} channels but mean/std have ${stats.mean.length}/${stats.std.length} values`,
      'compute the statistics on data with the same channels',
      'EIN5015',
    );
  }
  if (stats.std.some((s) => !(s > 0))) {
    throw optionError('normalizeChannels', `every std must be positive, got [${stats.std.join(', ')}]`, 'a constant channel cannot be normalised');
  }
  return tf.tidy(() => tf.div(tf.sub(images, tf.tensor1d(stats.mean as number[])), tf.tensor1d(stats.std as number[]))) as T;
}

export interface AugmentOptions {
  /** Zero pixels added on each side before cropping back to the original size (default 4). */
  readonly padding?: number;
  /** Mirror each image left-right with probability 0.5 (default true). */
  readonly flip?: boolean;
  /**
   * Seed or generator. Pass one `Random` for a whole training run so each batch gets new crops;
   * a number seed gives the same crops every call.
   */
  readonly random?: SeedOrRandom;
}

/**
 * Random crop with zero padding plus random horizontal flip, each image drawn independently
 * (draw order per image: row offset, column offset, flip), as one gather — exact pixel copies,
 * no interpolation.
 *
 * Limitations: pads with 0, which is the mean only after normalisation — normalise first, as
 * the ResNet paper does.
 *
 * @example
 * const rng = seededRandom(1);
 * const x = augmentBatch(batch.images, { padding: 4, flip: true, random: rng });
 */
export function augmentBatch(images: tf.Tensor4D, options: AugmentOptions = {}): tf.Tensor4D {
  checkOptions(options, ['padding', 'flip', 'random'], 'augmentBatch');
  check4d('augmentBatch', images);
  const p = options.padding ?? 4;
  if (!Number.isInteger(p) || p < 0) throw optionError('augmentBatch', `padding must be a non-negative integer, got ${p}`);
  const flip = options.flip ?? true;
  const rng = asRandom(options.random ?? 0);
  const [n, h, w, c] = images.shape;
  const hp = h + 2 * p;
  const wp = w + 2 * p;
  const idx = new Int32Array(n * h * w);
  let k = 0;
  for (let b = 0; b < n; b++) {
    const dy = rng.int(2 * p + 1);
    const dx = rng.int(2 * p + 1);
    const mirrored = flip && rng.next() < 0.5;
    for (let y = 0; y < h; y++) {
      // Cropping the mirrored padded image at offset 2p-dx = cropping at dx and reversing the row.
      const row = b * hp * wp + (y + dy) * wp + dx;
      for (let x = 0; x < w; x++) idx[k++] = row + (mirrored ? w - 1 - x : x);
    }
  }
  return tf.tidy(() => {
    const padded =
      p > 0
        ? tf.pad(images, [
            [0, 0],
            [p, p],
            [p, p],
            [0, 0],
          ])
        : images;
    const flat = tf.reshape(padded, [n * hp * wp, c]);
    return tf.reshape(tf.gather(flat, tf.tensor1d(idx, 'int32')), [n, h, w, c]) as tf.Tensor4D;
  });
}

/** Random crop with zero padding only (no flip). See augmentBatch. */
export function randomCropWithPadding(images: tf.Tensor4D, padding = 4, random: SeedOrRandom = 0): tf.Tensor4D {
  return augmentBatch(images, { padding, flip: false, random });
}

/** Random horizontal flip only, each image with probability 0.5. See augmentBatch. */
export function randomHorizontalFlip(images: tf.Tensor4D, random: SeedOrRandom = 0): tf.Tensor4D {
  return augmentBatch(images, { padding: 0, flip: true, random });
}
