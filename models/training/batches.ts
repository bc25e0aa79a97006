/**
 * The batches `fit` and `evaluate` feed: from an `ImageSet` (made from its bytes one batch at a
 * time) or from tensors `{ images, labels }` (sliced, or gathered in shuffled order).
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
    for (const b of data.batches({ batchSize, shuffle })) yield { x: b.images, y: b.labels, dispose: () => b.dispose() };
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
