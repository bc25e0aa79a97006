/**
 * The batches `fit` and `evaluate` feed: from an `ImageSet` (made from its bytes one batch at a
 * time) or from tensors `{ images, labels }` (sliced, or gathered in shuffled order).
 *
 * An ImageSet batch is written straight from the set's bytes into the one Float32Array that
 * becomes the image tensor's storage (a 256-entry table gives byte / 255, the value
 * `ImageSet.batches` computes), and the labels into the Int32Array of the label tensor: no
 * intermediate copies. The arrays cannot be reused across batches, because a CPU-side backend
 * keeps the very array it was given as the tensor's data.
 */
import * as tf from '@tensorflow/tfjs';
import { ImageSet } from '../../datasets/image-set';
import { permutation, type Random } from '../../core/random';

/** Examples with labels: an `ImageSet` (streamed in batches) or tensors `{ images, labels }`. */
export type DataSource = ImageSet | { readonly images: tf.Tensor; readonly labels: tf.Tensor };

export interface XY {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
  dispose(): void;
}

export function sourceCount(data: DataSource): number {
  return data instanceof ImageSet ? data.count : data.images.shape[0];
}

/** Batches of a data source, shuffled with `shuffle` (a generator continues across epochs). */
export function* batchesOf(data: DataSource, batchSize: number, shuffle: Random | false): Generator<XY> {
  if (data instanceof ImageSet) {
    yield* imageSetBatches(data, batchSize, shuffle);
    return;
  }
  const n = data.images.shape[0];
  const order = shuffle === false ? undefined : permutation(n, shuffle);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    if (order === undefined) {
      const x = data.images.slice(start, end - start);
      const y = data.labels.slice(start, end - start);
      yield { x, y, dispose: () => tf.dispose([x, y]) };
    } else {
      const idx = tf.tensor1d(order.subarray(start, end), 'int32');
      const x = tf.gather(data.images, idx);
      const y = tf.gather(data.labels, idx);
      idx.dispose();
      yield { x, y, dispose: () => tf.dispose([x, y]) };
    }
  }
}

/** byte → byte / 255 in float32. */
const UNIT = Float32Array.from({ length: 256 }, (_, b) => b / 255);

/** Images `order[start …]` (or `start …` without an order) as floats into `values`, their labels into `classes`. */
function gatherImages(
  pixels: Uint8Array,
  labels: Int32Array,
  size: number,
  order: Int32Array | undefined,
  start: number,
  values: Float32Array,
  classes: Int32Array,
): void {
  for (let k = 0; k < classes.length; k++) {
    const i = order === undefined ? start + k : order[start + k];
    const from = i * size;
    const to = k * size;
    for (let j = 0; j < size; j++) values[to + j] = UNIT[pixels[from + j]];
    classes[k] = labels[i];
  }
}

function* imageSetBatches(set: ImageSet, batchSize: number, shuffle: Random | false): Generator<XY> {
  const n = set.count;
  const size = set.imageSize;
  const order = shuffle === false ? undefined : permutation(n, shuffle);
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(n, start + batchSize) - start;
    const values = new Float32Array(count * size);
    const classes = new Int32Array(count);
    gatherImages(set.pixels, set.labels, size, order, start, values, classes);
    const x = tf.tensor4d(values, [count, set.height, set.width, set.channels], 'float32');
    const y = tf.tensor1d(classes, 'int32');
    yield { x, y, dispose: () => tf.dispose([x, y]) };
  }
}
