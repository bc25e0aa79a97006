/**
 * ImageSet: a labelled image dataset held once, as the bytes the file formats store (uint8,
 * NHWC), with no tensors. Tensors are made from it on demand — all at once (`toTensors`) or one
 * batch at a time (`batches`) — so streaming a dataset never holds it twice: the uint8 copy is
 * 1/4 the size of a float32 tensor, and each batch tensor lives only until you dispose it.
 */
import * as tf from '@tensorflow/tfjs';
import { optionError } from './errors';
import { asRandom, permutation, type SeedOrRandom } from '../core/random';

/**
 * How pixel bytes become float32 values:
 * - `'unit'` (default): byte / 255, so values lie in [0, 1];
 * - `'byte'`: the byte value itself, in [0, 255].
 */
export type PixelScale = 'unit' | 'byte';

export interface ImageSetInit {
  /** Which dataset and split, e.g. `mnist/train`; used in messages. */
  readonly name: string;
  /** count × height × width × channels bytes, NHWC order. */
  readonly pixels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** One label per image, each in 0 .. classNames.length-1. */
  readonly labels: Int32Array;
  readonly classNames: readonly string[];
}

/** Images and labels as tensors. You own them: call `dispose()` when done. */
export interface TensorDataset {
  /** [count, height, width, channels] float32, scaled as asked (default [0, 1]). */
  readonly images: tf.Tensor4D;
  /** [count] int32 class indices. */
  readonly labels: tf.Tensor1D;
  /** The same labels on the host, for counting and indexing without a download. */
  readonly labelArray: Int32Array;
  readonly classNames: readonly string[];
  readonly count: number;
  /** Disposes `images` and `labels`. */
  dispose(): void;
}

/** One batch from `ImageSet.batches`. You own its tensors: call `dispose()` when done. */
export interface Batch {
  /** [batchSize, height, width, channels] float32. */
  readonly images: tf.Tensor4D;
  /** [batchSize] int32 class indices, or [batchSize, classes] float32 one-hot with `oneHot`. */
  readonly labels: tf.Tensor1D | tf.Tensor2D;
  /** Which images of the set are in this batch, in batch order. */
  readonly indices: Int32Array;
  dispose(): void;
}

export interface BatchOptions {
  /** Images per batch (a positive integer). */
  readonly batchSize: number;
  /** Visit images in a seeded random order. Pass a `Random` to get a new order each epoch. */
  readonly shuffle?: SeedOrRandom | false;
  /** Skip the last batch when it is smaller than `batchSize` (default false). */
  readonly dropRemainder?: boolean;
  readonly scale?: PixelScale;
  /** Labels as one-hot float32 [batch, classes] instead of int32 [batch]. */
  readonly oneHot?: boolean;
}

/** Bytes → float32, scaled. One pass, no intermediate tensors. */
export function bytesToFloat(bytes: Uint8Array, scale: PixelScale = 'unit'): Float32Array {
  const out = new Float32Array(bytes.length);
  if (scale === 'byte') {
    out.set(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  }
  return out;
}

function checkScale(where: string, scale: unknown): PixelScale {
  if (scale === undefined) return 'unit';
  if (scale !== 'unit' && scale !== 'byte') {
    throw optionError(where, `scale must be 'unit' or 'byte', got ${JSON.stringify(scale)}`, "use 'unit' for [0,1] values or 'byte' for [0,255]");
  }
  return scale;
}

/**
 * A labelled image dataset in host memory (see the file comment). Made by the loaders
 * (`openMnist`, `openCifar10`, …); cheap to subset, split and shuffle.
 *
 * @example
 * const train = openMnist({ split: 'train' });
 * for (const batch of train.batches({ batchSize: 128, shuffle: 1 })) {
 *   // … use batch.images [128,28,28,1] and batch.labels [128] …
 *   batch.dispose();
 * }
 */
export class ImageSet {
  readonly name: string;
  readonly pixels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly labels: Int32Array;
  readonly classNames: readonly string[];

  constructor(init: ImageSetInit) {
    const { count, height, width, channels } = init;
    for (const [k, v] of Object.entries({ count, height, width, channels })) {
      if (!Number.isInteger(v) || v < 0) throw optionError(`ImageSet ${init.name}`, `${k} must be a non-negative integer, got ${v}`);
    }
    if (init.pixels.length !== count * height * width * channels) {
      throw optionError(
        `ImageSet ${init.name}`,
        `pixels has ${init.pixels.length} bytes, expected ${count}×${height}×${width}×${channels} = ${count * height * width * channels}`,
        undefined,
        'EIN5003',
      );
    }
    if (init.labels.length !== count) {
      throw optionError(`ImageSet ${init.name}`, `${init.labels.length} labels for ${count} images`, 'give one label per image', 'EIN5005');
    }
    this.name = init.name;
    this.pixels = init.pixels;
    this.count = count;
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.labels = init.labels;
    this.classNames = init.classNames;
  }

  /** Bytes per image (height × width × channels). */
  get imageSize(): number {
    return this.height * this.width * this.channels;
  }

  /** The bytes of image `i` (a view, not a copy). */
  image(i: number): Uint8Array {
    this.checkIndex('image', i);
    return this.pixels.subarray(i * this.imageSize, (i + 1) * this.imageSize);
  }

  /**
   * Images `start .. end-1` as a new ImageSet sharing this one's memory (no copy).
   * Limitations: writes to either set's pixels show in both.
   */
  slice(start: number, end: number = this.count, name?: string): ImageSet {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.count || start > end) {
      throw optionError(`${this.name}.slice`, `range ${start}..${end} is outside 0..${this.count}`);
    }
    return new ImageSet({
      ...this.shape(),
      name: name ?? `${this.name}[${start}:${end}]`,
      count: end - start,
      pixels: this.pixels.subarray(start * this.imageSize, end * this.imageSize),
      labels: this.labels.subarray(start, end),
    });
  }

  /** The images at `indices`, in that order, copied into a new ImageSet. */
  subset(indices: ArrayLike<number>, name?: string): ImageSet {
    const size = this.imageSize;
    const pixels = new Uint8Array(indices.length * size);
    const labels = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      this.checkIndex('subset', i);
      pixels.set(this.pixels.subarray(i * size, (i + 1) * size), k * size);
      labels[k] = this.labels[i];
    }
    return new ImageSet({ ...this.shape(), name: name ?? `${this.name}(subset)`, count: indices.length, pixels, labels });
  }

  /** Tensors for the images at `indices` (all images when omitted). The caller owns them. */
  tensorsAt(indices?: ArrayLike<number>, options: { scale?: PixelScale; oneHot?: boolean } = {}): Batch {
    const scale = checkScale(`${this.name}.tensorsAt`, options.scale);
    const size = this.imageSize;
    let bytes: Uint8Array;
    let idx: Int32Array;
    let labelValues: Int32Array;
    if (indices === undefined) {
      bytes = this.pixels;
      idx = new Int32Array(this.count).map((_, i) => i);
      labelValues = this.labels.slice();
    } else {
      bytes = new Uint8Array(indices.length * size);
      idx = Int32Array.from(indices);
      labelValues = new Int32Array(indices.length);
      for (let k = 0; k < idx.length; k++) {
        this.checkIndex('tensorsAt', idx[k]);
        bytes.set(this.pixels.subarray(idx[k] * size, (idx[k] + 1) * size), k * size);
        labelValues[k] = this.labels[idx[k]];
      }
    }
    const n = idx.length;
    const images = tf.tensor4d(bytesToFloat(bytes, scale), [n, this.height, this.width, this.channels], 'float32');
    let labels: tf.Tensor1D | tf.Tensor2D;
    if (options.oneHot) {
      labels = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labelValues, 'int32'), this.classNames.length), 'float32') as tf.Tensor2D);
    } else {
      labels = tf.tensor1d(labelValues, 'int32');
    }
    return {
      images,
      labels,
      indices: idx,
      dispose: () => {
        images.dispose();
        labels.dispose();
      },
    };
  }

  /**
   * The whole set as tensors: images [count,h,w,c] float32 (scaled, default [0,1]) and labels
   * [count] int32. Limitations: the float32 images take 4 bytes per pixel (MNIST train: 188 MB);
   * use `batches` to train without making them all at once.
   */
  toTensors(options: { scale?: PixelScale } = {}): TensorDataset {
    const b = this.tensorsAt(undefined, { scale: options.scale });
    return {
      images: b.images,
      labels: b.labels as tf.Tensor1D,
      labelArray: this.labels.slice(),
      classNames: this.classNames,
      count: this.count,
      dispose: b.dispose,
    };
  }

  /**
   * Batches of tensors, made one at a time from the bytes (the set is never held twice).
   * Each batch is yours to dispose; `forEachBatch` does it for you.
   *
   * @example
   * for (const b of set.batches({ batchSize: 64, shuffle: rng })) { train(b.images, b.labels); b.dispose(); }
   */
  *batches(options: BatchOptions): Generator<Batch, void, undefined> {
    const where = `${this.name}.batches`;
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw optionError(where, `batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    const scale = checkScale(where, options.scale);
    const order =
      options.shuffle === undefined || options.shuffle === false
        ? new Int32Array(this.count).map((_, i) => i)
        : permutation(this.count, asRandom(options.shuffle));
    for (let start = 0; start < this.count; start += batchSize) {
      const end = Math.min(start + batchSize, this.count);
      if (end - start < batchSize && options.dropRemainder) return;
      yield this.tensorsAt(order.subarray(start, end), { scale, oneHot: options.oneHot });
    }
  }

  private shape() {
    return { height: this.height, width: this.width, channels: this.channels, classNames: this.classNames };
  }

  private checkIndex(where: string, i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw optionError(`${this.name}.${where}`, `index ${i} is outside 0..${this.count - 1}`);
    }
  }
}

/**
 * Runs `fn` on each batch and disposes the batch afterwards, also when `fn` throws.
 *
 * @example
 * await forEachBatch(train, { batchSize: 128, shuffle: rng }, async (b) => { await step(b.images, b.labels); });
 */
export async function forEachBatch(set: ImageSet, options: BatchOptions, fn: (batch: Batch, index: number) => void | Promise<void>): Promise<void> {
  let i = 0;
  for (const batch of set.batches(options)) {
    try {
      await fn(batch, i++);
    } finally {
      batch.dispose();
    }
  }
}
