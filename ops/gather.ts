/**
 * Gather and its transpose, scatter-add, along one axis: the plan's `gather` and `scatterAdd`
 * steps (reads and left-hand sides with index arithmetic). Each is the other's gradient, so
 * gradients of any order exist on every backend: tf.gather's own gradient needs
 * UnsortedSegmentSum, which the wasm backend lacks, while ScatterNd (which adds duplicate
 * positions) exists on cpu, wasm and, through the cpu kernel, native.
 *
 * Both fold the tensor to [outer, axis, inner] first, so any rank works (XNNPACK stops at 6).
 */
import * as tf from '@tensorflow/tfjs';

// Bound once (backends/engine-internals.ts says why).
const { customGrad, gather, reshape, scatterND, tidy, transpose } = tf;

/** [outer, extent of axis, inner] for a tensor of `shape`. */
function folded(shape: readonly number[], axis: number): [number, number, number] {
  const outer = shape.slice(0, axis).reduce((a, d) => a * d, 1);
  const inner = shape.slice(axis + 1).reduce((a, d) => a * d, 1);
  return [outer, shape[axis], inner];
}

/** y[a, m, c] = x[a, indices[m], c] on folded 3-D tensors. */
function gather3(x: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  const size = x.shape[1] as number;
  const f = customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return { value: gather(input, indices, 1), gradFunc: (dy: tf.Tensor) => scatter3(dy, indices, size) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f as (t: tf.Tensor) => tf.Tensor)(x);
}

/** y[a, p, c] = Σ_{m : indices[m] = p} x[a, m, c] on folded 3-D tensors, p ∈ [0, size). */
function scatter3(x: tf.Tensor, indices: tf.Tensor, size: number): tf.Tensor {
  const f = customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    const [outer, m, inner] = input.shape;
    const positions = reshape(indices, [m, 1]);
    let value: tf.Tensor;
    if (outer === 1) {
      value = reshape(scatterND(positions, reshape(input, [m, inner]), [size, inner]), [1, size, inner]);
    } else {
      const moved = transpose(input, [1, 0, 2]);
      value = transpose(scatterND(positions, moved, [size, outer, inner]), [1, 0, 2]);
    }
    return { value, gradFunc: (dy: tf.Tensor) => gather3(dy, indices) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f as (t: tf.Tensor) => tf.Tensor)(x);
}

/** Axis `axis` of `x` at `indices` (int32, each in range); the result has shape `shape`. */
export function gatherAxis(x: tf.Tensor, indices: tf.Tensor, axis: number, shape: readonly number[]): tf.Tensor {
  return tidy(() => reshape(gather3(reshape(x, folded(x.shape, axis)), indices), [...shape]));
}

/** Entry m along axis `axis` of `x` added at position indices[m] of a result of shape `shape`. */
export function scatterAddAxis(x: tf.Tensor, indices: tf.Tensor, axis: number, shape: readonly number[]): tf.Tensor {
  return tidy(() => reshape(scatter3(reshape(x, folded(x.shape, axis)), indices, shape[axis]), [...shape]));
}
