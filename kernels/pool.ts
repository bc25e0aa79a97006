/**
 * 2-D pooling on tfjs. Padding is a tf.pad before the op (-∞ for max, 0 for average), so the op
 * itself is always 'valid'.
 *
 * Max pooling has a gradient of its own here: tfjs-wasm's MaxPoolGrad kernel gives zero gradient
 * where a window's maximum is negative (measured with tfjs 4.22), so the executor wraps
 * tf.maxPool in tf.customGrad with `maxPoolBackward`, built from slices, reshapes and pads that
 * are right on every backend. Ties share the gradient, as for tf.max.
 */
import * as tf from '@tensorflow/tfjs';
import type { Step } from '../dsl/lower/plan';

type PoolStep = Step & { op: 'pool' };

export function poolForward(s: PoolStep, x: tf.Tensor): tf.Tensor {
  const window = [...s.window] as [number, number];
  const strides = [...s.strides] as [number, number];
  return s.fn === 'max' ? tf.maxPool(x as tf.Tensor4D, window, strides, 'valid') : tf.avgPool(x as tf.Tensor4D, window, strides, 'valid');
}

/** Elements offset, offset+stride, … (count of them) along `axis`; zero past the end. */
function strided(x: tf.Tensor, axis: number, offset: number, stride: number, count: number): tf.Tensor {
  const n = x.shape[axis];
  const take = Math.min(stride * count, n - offset);
  const begin = x.shape.map((_, k) => (k === axis ? offset : 0));
  const size = x.shape.map((d, k) => (k === axis ? take : d));
  let run = tf.slice(x, begin, size);
  run = tf.pad(run, x.shape.map((_, k) => (k === axis ? [0, stride * count - take] : [0, 0])) as [number, number][]);
  const split = [...x.shape.slice(0, axis), count, stride, ...x.shape.slice(axis + 1)];
  const first = tf.slice(tf.reshape(run, split), split.map(() => 0), split.map((d, k) => (k === axis + 1 ? 1 : d)));
  return tf.reshape(first, x.shape.map((d, k) => (k === axis ? count : d)));
}

/** The inverse placement: t's elements go to offset, offset+stride, … of an axis of length `total`. */
function spread(t: tf.Tensor, axis: number, offset: number, stride: number, total: number): tf.Tensor {
  const count = t.shape[axis];
  const withSlot = tf.reshape(t, [...t.shape.slice(0, axis), count, 1, ...t.shape.slice(axis + 1)]);
  const padded = tf.pad(withSlot, withSlot.shape.map((_, k) => (k === axis + 1 ? [0, stride - 1] : [0, 0])) as [number, number][]);
  const flat = tf.reshape(padded, t.shape.map((d, k) => (k === axis ? count * stride : d)));
  const length = offset + count * stride;
  const placed = tf.pad(flat, flat.shape.map((_, k) => (k === axis ? [offset, Math.max(0, total - length)] : [0, 0])) as [number, number][]);
  return length > total ? tf.slice(placed, placed.shape.map(() => 0), placed.shape.map((d, k) => (k === axis ? total : d))) : placed;
}

/** ∂(max pooling)/∂x for valid max pooling of x (NHWC) into y, given dy. */
export function maxPoolBackward(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, window: readonly [number, number], strides: readonly [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    const [, H, W] = x.shape;
    const [, OH, OW] = y.shape;
    let dx: tf.Tensor = tf.zerosLike(x);
    for (let i = 0; i < window[0]; i++) {
      for (let j = 0; j < window[1]; j++) {
        const xs = strided(strided(x, 1, i, strides[0], OH), 2, j, strides[1], OW);
        const winner = tf.cast(tf.equal(xs, y), 'float32');
        const part = spread(spread(tf.mul(dy, winner), 1, i, strides[0], H), 2, j, strides[1], W);
        dx = tf.add(dx, part);
      }
    }
    return dx as tf.Tensor4D;
  });
}
