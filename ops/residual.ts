/**
 * relu(a + b) of two same-shape tensors and the relu gradient (the `addRelu` plan step, a
 * residual block's output): one native pass each on the native backend, tfjs ops elsewhere. The
 * relu gradient together with its bias's gradient (a convolution's epilogue): one pass where the
 * backend has einnet's kernel for it (wasm), tfjs ops elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { ownKernelApplies } from '../backends/capabilities';
import { runKernel } from '../backends/engine-internals';
import { ADD_RELU, RELU_BIAS_GRAD, RELU_GRAD } from '../backends/kernel-names';
import '../backends/wasm-kernels';

// Bound once (backends/engine-internals.ts says why).
const { add, cast, greater, mul, relu, step, sum, tidy } = tf;

/** max(a + b, 0). */
export function addRelu(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (ownKernelApplies(ADD_RELU, [a, b])) return runKernel(ADD_RELU, { a, b });
  return tidy(() => relu(add(a, b)));
}

/** dy where y > 0, else 0: the gradient through a relu whose output is y. */
export function reluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (ownKernelApplies(RELU_GRAD, [dy, y])) return runKernel(RELU_GRAD, { dy, y });
  return tidy(() => mul(dy, step(y)));
}

/**
 * The gradient through y = relu(z + bias), the bias over the last axis: [dz, d bias], dz = dy
 * where y > 0, else 0 (NaN included), and d bias its sums over every other axis.
 */
export function reluBiasGrad(dy: tf.Tensor, y: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (ownKernelApplies(RELU_BIAS_GRAD, [dy, y])) return runKernel<[tf.Tensor, tf.Tensor]>(RELU_BIAS_GRAD, { dy, y });
  const dz = tidy(() => mul(dy, cast(greater(y, 0), 'float32')));
  return [dz, sum(dz, [...Array(dz.rank - 1).keys()])];
}
