/**
 * Parameter and statistic updates between training steps (models/): SGD and Adam steps of
 * parameters, and the moving averages of running statistics. On the native and wasm backends one
 * kernel call for all of them (backends/native/update.ts, backends/wasm-kernels.ts); elsewhere the
 * tfjs ops, one parameter at a time.
 */
import * as tf from '@tensorflow/tfjs';
import { ownKernelApplies } from '../backends/capabilities';
import { runKernel } from '../backends/engine-internals';
import { ADAM_UPDATE, MOVING_AVERAGE, SGD_UPDATE, type AdamUpdateAttrs, type MovingAverageAttrs, type SgdUpdateAttrs } from '../backends/kernel-names';
import '../backends/wasm-kernels';

// Bound once (backends/engine-internals.ts says why).
const { add, div, mul, sqrt, square, sub, tidy } = tf;

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
  // Plain loops: V8 re-optimises closures created afresh every step (a compile a step, on a
  // helper thread that competes with the native kernels' threads).
  const tensors: tf.Tensor[] = [];
  const inputs: tf.NamedTensorMap = {};
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    tensors.push(it.w, it.g);
    inputs[`w${i}`] = it.w;
    inputs[`g${i}`] = it.g;
    if (it.v) {
      tensors.push(it.v);
      inputs[`v${i}`] = it.v;
    }
  }
  const result: { w: tf.Tensor; v?: tf.Tensor }[] = [];
  if (ownKernelApplies(SGD_UPDATE, tensors)) {
    const outs = runKernel<tf.Tensor[]>(SGD_UPDATE, inputs, { ...h, count: items.length } satisfies SgdUpdateAttrs);
    let k = 0;
    for (const it of items) result.push({ w: outs[k++], v: it.v ? outs[k++] : undefined });
    return result;
  }
  for (const it of items) result.push(tidy(() => sgdStepOps(it, h)));
  return result;
}

function sgdStepOps(it: SgdItem, h: SgdHyper): { w: tf.Tensor; v?: tf.Tensor } {
  const grad = h.weightDecay > 0 ? add(it.g, mul(it.w, h.weightDecay)) : it.g;
  if (it.v === undefined) return { w: sub(it.w, mul(grad, h.learningRate)) };
  const vNew = add(mul(it.v, h.momentum), grad);
  const step = h.nesterov ? add(grad, mul(vNew, h.momentum)) : vNew;
  return { w: sub(it.w, mul(step, h.learningRate)), v: vNew };
}

export interface AdamHyper {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** AdamW: w ← w − lr·wd·w instead of g ← g + wd·w. */
  readonly decoupled: boolean;
  /** The step count t (from 1), for the bias corrections 1 − β^t. */
  readonly step: number;
}

/** One parameter's Adam step: its value, gradient and both moments. */
export interface AdamItem {
  readonly w: tf.Tensor;
  readonly g: tf.Tensor;
  readonly m: tf.Tensor;
  readonly v: tf.Tensor;
}

/**
 * Adam steps for every item:
 *   g ← g + wd·w (L2);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *   w ← w − lr·(m/c1)/(√(v/c2) + ε), then w − lr·wd·w (decoupled), with c = 1 − β^t.
 * Returns each new parameter and both new moments.
 */
export function adamSteps(items: readonly AdamItem[], h: AdamHyper): { w: tf.Tensor; m: tf.Tensor; v: tf.Tensor }[] {
  if (items.length === 0) return [];
  const c1 = 1 - h.beta1 ** h.step;
  const c2 = 1 - h.beta2 ** h.step;
  const tensors: tf.Tensor[] = [];
  const inputs: tf.NamedTensorMap = {};
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    tensors.push(it.w, it.g, it.m, it.v);
    inputs[`w${i}`] = it.w;
    inputs[`g${i}`] = it.g;
    inputs[`m${i}`] = it.m;
    inputs[`v${i}`] = it.v;
  }
  const result: { w: tf.Tensor; m: tf.Tensor; v: tf.Tensor }[] = [];
  if (ownKernelApplies(ADAM_UPDATE, tensors)) {
    const attrs: AdamUpdateAttrs = {
      count: items.length,
      learningRate: h.learningRate,
      beta1: h.beta1,
      beta2: h.beta2,
      epsilon: h.epsilon,
      weightDecay: h.weightDecay,
      decoupled: h.decoupled,
      c1,
      c2,
    };
    const outs = runKernel<tf.Tensor[]>(ADAM_UPDATE, inputs, attrs);
    for (let i = 0; i < items.length; i++) result.push({ w: outs[3 * i], m: outs[3 * i + 1], v: outs[3 * i + 2] });
    return result;
  }
  for (const it of items) result.push(tidy(() => adamStepOps(it, h, c1, c2)));
  return result;
}

function adamStepOps(it: AdamItem, h: AdamHyper, c1: number, c2: number): { w: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  const { learningRate: lr, beta1, beta2, epsilon, weightDecay: wd } = h;
  const g = wd > 0 && !h.decoupled ? add(it.g, mul(it.w, wd)) : it.g;
  const m = add(mul(it.m, beta1), mul(g, 1 - beta1));
  const v = add(mul(it.v, beta2), mul(square(g), 1 - beta2));
  let w = sub(it.w, mul(div(div(m, c1), add(sqrt(div(v, c2)), epsilon)), lr));
  if (wd > 0 && h.decoupled) w = sub(w, mul(it.w, lr * wd));
  return { w, m, v };
}

/** For each item, v·momentum + batch·(1 − momentum): a running statistic moved toward its batch value. */
export function movingAverages(items: readonly { v: tf.Tensor; batch: tf.Tensor; momentum: number }[]): tf.Tensor[] {
  if (items.length === 0) return [];
  const tensors: tf.Tensor[] = [];
  const inputs: tf.NamedTensorMap = {};
  const momenta: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    tensors.push(it.v, it.batch);
    inputs[`v${i}`] = it.v;
    inputs[`b${i}`] = it.batch;
    momenta.push(it.momentum);
  }
  if (ownKernelApplies(MOVING_AVERAGE, tensors)) {
    return runKernel<tf.Tensor[]>(MOVING_AVERAGE, inputs, { momenta } satisfies MovingAverageAttrs);
  }
  const result: tf.Tensor[] = [];
  for (const it of items) result.push(tidy(() => add(mul(it.v, it.momentum), mul(it.batch, 1 - it.momentum))));
  return result;
}
