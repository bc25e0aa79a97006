/**
 * Native-backend gradients that replace several tfjs kernels by one.
 *
 * Tanh and Sigmoid: tfjs computes dy·(1 − y²) and dy·y·(1 − y) as three kernels (three passes and
 * two temporaries); here one loop (src/fused.cc), with the same float operations. Relu: tfjs
 * computes dy·step(x) as two kernels; here `EinnetReluGrad`, one pass (dy where x > 0, else 0;
 * where x is NaN the forward output is NaN already, and the gradient there is 0, not NaN).
 *
 * Sum and Mean, without a tensor of ones. tfjs differentiates `sum(x)` as
 * `reshape(dy) · ones(x.shape)`: the ones are a fresh JS array of x's size, filled in JS, and a
 * full multiplication; a ResNet-20 step made ~50 of them at 2 MB each, and the garbage they left
 * made V8 run a full collection every few tens of milliseconds. On the native backend the same
 * values come from broadcasting dy (one strided copy into a pooled buffer): `dy · 1 = dy` and
 * `(dy · 1) / n = dy / n` exactly, so results are bit-identical.
 *
 * tfjs keeps one gradient per kernel name for every backend, so the config registered here hands
 * each call made on another backend (or with a dy or saved tensor that is not float32) to tfjs' own config,
 * captured with tf.getGradient before registering: cpu and wasm keep tfjs' gradients exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_GRAD, RELU_GRAD, type ActivationGradAttrs } from '../kernel-names';
import { NATIVE_BACKEND_NAME } from './kernel';

let registered = false;

/** dy reshaped to x's rank with 1 on the reduced axes. */
function expanded(dy: tf.Tensor, x: tf.Tensor, attrs: tf.NamedAttrMap): tf.Tensor {
  const shape = x.shape.slice();
  for (const axis of tf.util.parseAxisParam(attrs.axis as number | number[], x.shape)) shape[axis] = 1;
  return tf.reshape(dy, shape);
}

/** Registers `native` as kernelName's gradient on the native backend; tfjs' own gradient elsewhere. */
function wrap(kernelName: string, native: (dy: tf.Tensor, x: tf.Tensor, attrs: tf.NamedAttrMap) => tf.Tensor): void {
  const original = tf.getGradient(kernelName);
  if (original === undefined) return;
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0];
      const d = dy as tf.Tensor;
      if (tf.getBackend() !== NATIVE_BACKEND_NAME || d.dtype !== 'float32' || x.dtype !== 'float32') return original.gradFunc(dy, saved, attrs);
      return { x: () => native(d, x, attrs) };
    },
  });
}

/** Installs the native-backend gradients of Tanh, Sigmoid, Relu, Sum and Mean (once). @internal */
export function registerNativeGradients(): void {
  if (registered) return;
  registered = true;
  // saved[0] is the activation's output y (tfjs saves outputs for these two).
  wrap(tf.Tanh, (dy, y) => tf.engine().runKernel(ACTIVATION_GRAD, { dy, y }, { op: 0 } satisfies ActivationGradAttrs) as tf.Tensor);
  wrap(tf.Sigmoid, (dy, y) => tf.engine().runKernel(ACTIVATION_GRAD, { dy, y }, { op: 1 } satisfies ActivationGradAttrs) as tf.Tensor);
  // saved[0] is relu's input x: x > 0 exactly where relu(x) > 0.
  wrap(tf.Relu, (dy, x) => tf.engine().runKernel(RELU_GRAD, { dy, y: x }) as tf.Tensor);
  wrap(tf.Sum, (dy, x, attrs) => tf.broadcastTo(expanded(dy, x, attrs), x.shape));
  wrap(tf.Mean, (dy, x, attrs) => {
    const n = x.size / Math.max(1, dy.size);
    return tf.broadcastTo(tf.div(expanded(dy, x, attrs), n), x.shape);
  });
}
