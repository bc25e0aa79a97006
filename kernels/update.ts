/**
 * Parameter and statistic updates between training steps (models/): one SGD step of a
 * parameter, and the moving average of a running statistic. On the native backend one kernel
 * each (kernels/native/update.ts); elsewhere the tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import { MOVING_AVERAGE, SGD_UPDATE } from './native/update';

export interface SgdHyper {
  readonly learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/**
 * One SGD step, PyTorch's form:
 *   g ← g + wd·w;  v ← μ·v + g;  w ← w − lr·(nesterov ? g + μ·v : v)   (v only when μ > 0).
 * Returns the new parameter and, with momentum (`v` given), the new velocity.
 */
export function sgdStep(w: tf.Tensor, g: tf.Tensor, v: tf.Tensor | undefined, h: SgdHyper): { w: tf.Tensor; v?: tf.Tensor } {
  const native = w.dtype === 'float32' && g.dtype === 'float32' && tf.getKernel(SGD_UPDATE, tf.getBackend()) !== undefined;
  if (native) {
    const inputs: tf.NamedTensorMap = v === undefined ? { w, g } : { w, g, v };
    const [wNew, vNew] = tf.engine().runKernel(SGD_UPDATE, inputs, { ...h } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { w: wNew, v: vNew };
  }
  return tf.tidy(() => {
    const grad = h.weightDecay > 0 ? tf.add(g, tf.mul(w, h.weightDecay)) : g;
    if (v === undefined) return { w: tf.sub(w, tf.mul(grad, h.learningRate)) };
    const vNew = tf.add(tf.mul(v, h.momentum), grad);
    const step = h.nesterov ? tf.add(grad, tf.mul(vNew, h.momentum)) : vNew;
    return { w: tf.sub(w, tf.mul(step, h.learningRate)), v: vNew };
  });
}

/** v·momentum + batch·(1 − momentum): a running statistic moved toward its batch value. */
export function movingAverage(v: tf.Tensor, batch: tf.Tensor, momentum: number): tf.Tensor {
  if (v.dtype === 'float32' && batch.dtype === 'float32' && tf.getKernel(MOVING_AVERAGE, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(MOVING_AVERAGE, { v, batch }, { momentum }) as tf.Tensor;
  }
  return tf.tidy(() => tf.add(tf.mul(v, momentum), tf.mul(batch, 1 - momentum)));
}
