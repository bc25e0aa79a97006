/**
 * Parameter and statistic updates between training steps (models/): SGD steps of parameters,
 * and the moving averages of running statistics. On the native backend one kernel call for all
 * of them (kernels/native/update.ts); elsewhere the tfjs ops, one parameter at a time.
 */
import * as tf from '@tensorflow/tfjs';
import { ownKernelApplies } from './native/kernel';
import { MOVING_AVERAGE, SGD_UPDATE } from './native/update';

export interface SgdHyper {
  readonly learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/** One parameter's step: its value, gradient and (with momentum) velocity. */
export interface SgdItem {
  readonly w: tf.Tensor;
  readonly g: tf.Tensor;
  readonly v?: tf.Tensor;
}

/**
 * SGD steps, PyTorch's form, for every item:
 *   g ← g + wd·w;  v ← μ·v + g;  w ← w − lr·(nesterov ? g + μ·v : v)   (v only when given).
 * Returns each new parameter and, where `v` was given, the new velocity.
 */
export function sgdSteps(items: readonly SgdItem[], h: SgdHyper): { w: tf.Tensor; v?: tf.Tensor }[] {
  if (items.length === 0) return [];
  if (ownKernelApplies(SGD_UPDATE, items.flatMap((it) => (it.v ? [it.w, it.g, it.v] : [it.w, it.g])))) {
    const inputs: tf.NamedTensorMap = {};
    items.forEach((it, i) => {
      inputs[`w${i}`] = it.w;
      inputs[`g${i}`] = it.g;
      if (it.v) inputs[`v${i}`] = it.v;
    });
    const outs = tf.engine().runKernel(SGD_UPDATE, inputs, { ...h, count: items.length } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    let k = 0;
    return items.map((it) => ({ w: outs[k++], v: it.v ? outs[k++] : undefined }));
  }
  return items.map((it) =>
    tf.tidy(() => {
      const grad = h.weightDecay > 0 ? tf.add(it.g, tf.mul(it.w, h.weightDecay)) : it.g;
      if (it.v === undefined) return { w: tf.sub(it.w, tf.mul(grad, h.learningRate)) };
      const vNew = tf.add(tf.mul(it.v, h.momentum), grad);
      const step = h.nesterov ? tf.add(grad, tf.mul(vNew, h.momentum)) : vNew;
      return { w: tf.sub(it.w, tf.mul(step, h.learningRate)), v: vNew };
    }),
  );
}

/** For each item, v·momentum + batch·(1 − momentum): a running statistic moved toward its batch value. */
export function movingAverages(items: readonly { v: tf.Tensor; batch: tf.Tensor; momentum: number }[]): tf.Tensor[] {
  if (items.length === 0) return [];
  if (ownKernelApplies(MOVING_AVERAGE, items.flatMap((it) => [it.v, it.batch]))) {
    const inputs: tf.NamedTensorMap = {};
    items.forEach((it, i) => {
      inputs[`v${i}`] = it.v;
      inputs[`b${i}`] = it.batch;
    });
    return tf.engine().runKernel(MOVING_AVERAGE, inputs, { momenta: items.map((it) => it.momentum) } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  }
  return items.map((it) => tf.tidy(() => tf.add(tf.mul(it.v, it.momentum), tf.mul(it.batch, 1 - it.momentum))));
}
