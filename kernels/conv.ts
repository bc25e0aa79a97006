/**
 * Convolution on tfjs, with the backend quirks routed around:
 * - padding is a separate tf.pad before the op (conv3d takes only 'same'/'valid');
 * - tfjs conv2d refuses stride > 1 together with dilation > 1: the conv then runs with stride 1
 *   and its output is subsampled (exact; costs s² more arithmetic, said by explain()).
 * Gradients are not decided here: dsl/run wraps the forward in tf.customGrad.
 */
import * as tf from '@tensorflow/tfjs';
import type { Step } from '../dsl/lower/plan';

type ConvStep = Step & { op: 'conv' };

/** Every s-th element along each spatial axis (axes 1 … rank), by slice + reshape (no stridedSlice: it has no gradient). */
export function subsample(x: tf.Tensor, strides: readonly number[]): tf.Tensor {
  let y = x;
  strides.forEach((s, k) => {
    if (s === 1) return;
    const axis = k + 1;
    const shape = y.shape;
    const n = Math.ceil(shape[axis] / s);
    const padded = tf.pad(y, shape.map((_, j) => (j === axis ? [0, n * s - shape[axis]] : [0, 0])) as [number, number][]);
    const split = [...shape.slice(0, axis), n, s, ...shape.slice(axis + 1)];
    const picked = tf.slice(tf.reshape(padded, split), split.map(() => 0), split.map((d, j) => (j === axis + 1 ? 1 : d)));
    y = tf.reshape(picked, shape.map((d, j) => (j === axis ? n : d)));
  });
  return y;
}

/** The valid forward convolution of a conv step: image [N, spatial…, C], filter [k…, C, O] (depthwise: [k…, C, M]). */
export function convForward(s: ConvStep, image: tf.Tensor, filter: tf.Tensor): tf.Tensor {
  const x = image;
  const both = s.strides.some((v) => v > 1) && s.dilations.some((v) => v > 1);
  const strides = both ? s.strides.map(() => 1) : [...s.strides];
  let y: tf.Tensor;
  if (s.rank === 1) {
    y = tf.conv1d(x as tf.Tensor3D, filter as tf.Tensor3D, strides[0], 'valid', 'NWC', s.dilations[0]);
  } else if (s.rank === 2) {
    const st = strides as [number, number];
    const di = [...s.dilations] as [number, number];
    y = s.depthwise
      ? tf.depthwiseConv2d(x as tf.Tensor4D, filter as tf.Tensor4D, st, 'valid', 'NHWC', di)
      : tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, st, 'valid', 'NHWC', di);
  } else {
    y = tf.conv3d(x as tf.Tensor5D, filter as tf.Tensor5D, strides as [number, number, number], 'valid', 'NDHWC', [...s.dilations] as [number, number, number]);
  }
  return both ? subsample(y, s.strides) : y;
}
