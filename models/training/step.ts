/**
 * One training step, in parts the loops share: `computeGradients` (forward in training mode, loss,
 * gradients), the finiteness checks, and `applyGradients` (optimizer update, running statistics).
 *
 * `trainStep` reads the loss synchronously (`dataSync`), `trainStepAsync` with `await data()` (the
 * only read WebGPU supports); both check it before the update, so a non-finite step is never
 * applied. `fit` applies every step without reading and keeps the loss on the device.
 */
import * as tf from '@tensorflow/tfjs';
import type { Model } from '../model';
import type { Optimizer } from '../optimizers';
import { softmaxCrossEntropy, type LossFn } from '../losses';
import { modelError, rejectUnknownOptions, shapeText } from '../errors';
import { releaseAbandonedTape } from '../../backends/engine-internals';

export interface StepOptions {
  readonly loss?: LossFn;
  /** Check every activation, the loss and every gradient for NaN/Inf (slower: reads them back). */
  readonly checkFinite?: boolean;
  /** Step number for messages. */
  readonly step?: number;
}

export function singleInput(model: Model, where: string): string {
  if (model.inputNames.length !== 1)
    throw modelError(
      'EIN4010',
      where,
      `the model has ${model.inputNames.length} inputs (${model.inputNames.join(', ')})`,
      'fit/evaluate feed one input; write your own loop with trainStep for several',
    );
  return model.inputNames[0];
}

/** Number of rows whose largest score is at the target class, as a scalar on the device. */
export function correctOnDevice(scores: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const want = target.rank === 2 ? target.argMax(1) : target.cast('int32');
    return scores.argMax(1).equal(want).cast('float32').sum() as tf.Scalar;
  });
}

/** Forward, loss and gradients of one batch; the caller disposes it (`disposeComputed`). */
export interface Computed {
  readonly loss: tf.Scalar;
  /** Gradients by parameter name. */
  readonly grads: Record<string, tf.Tensor>;
  /** Batch statistics for the running averages. */
  readonly stats: Record<string, tf.Tensor>;
  /** Every forward tensor, kept only when checking finiteness. */
  readonly outputs: Record<string, tf.Tensor>;
  /** Correct predictions in the batch (training mode), when asked. */
  readonly correct?: tf.Scalar;
}

/** Disposes a computed step, except the tensors in `keep` (taken over by the caller). */
export function disposeComputed(c: Computed, keep?: ReadonlySet<tf.Tensor>): void {
  const all = [c.loss, ...Object.values(c.grads), ...Object.values(c.stats), ...Object.values(c.outputs)];
  if (c.correct !== undefined) all.push(c.correct);
  tf.dispose(keep === undefined ? all : all.filter((t) => !keep.has(t)));
}

export interface ComputeOptions {
  readonly input: string;
  readonly lossFn: LossFn;
  readonly keepOutputs: boolean;
  readonly countCorrect: boolean;
}

/** Forward in training mode, the loss and the gradients of the trainable variables. */
export function computeGradients(model: Model, x: tf.Tensor, y: tf.Tensor, o: ComputeOptions): Computed {
  const stats: Record<string, tf.Tensor> = Object.create(null);
  const outputs: Record<string, tf.Tensor> = Object.create(null);
  let correct: tf.Scalar | undefined;
  const byVar = new Map<string, string>();
  for (const [name, v] of model.params) byVar.set(v.name, name);
  let value: tf.Scalar;
  let varGrads: tf.NamedTensorMap;
  try {
    ({ value, grads: varGrads } = tf.variableGrads(() => {
      const outs = model.forward({ [o.input]: x }, { training: true });
      for (const name of model.stats.keys()) stats[name] = tf.keep(outs[name]);
      // A statistic is both in `stats` and in `outputs`: disposing a tensor twice does nothing.
      if (o.keepOutputs) for (const [name, t] of Object.entries(outs)) outputs[name] = tf.keep(t);
      if (o.countCorrect) correct = tf.keep(correctOnDevice(outs[model.output], y));
      return o.lossFn(outs[model.output], y);
    }, model.trainableVariables));
  } catch (e) {
    tf.dispose([...Object.values(stats), ...Object.values(outputs)]);
    correct?.dispose();
    releaseAbandonedTape();
    throw e;
  }
  const grads: Record<string, tf.Tensor> = Object.create(null);
  for (const [varName, g] of Object.entries(varGrads)) grads[byVar.get(varName)!] = g;
  return { loss: value, grads, stats, outputs, correct };
}

/** The optimizer update and the running-statistics update of a computed step. */
export function applyGradients(model: Model, optimizer: Optimizer, c: Computed): void {
  optimizer.apply(model.params, c.grads);
  model.updateRunningStats(c.stats);
}

/** The tensors `checkFinite` reads, in the order they are reported: forward tensors, then gradients. */
export function checkedTensors(c: Computed): { forward: [tf.Tensor, string][]; gradients: [tf.Tensor, string][] } {
  return {
    forward: Object.entries(c.outputs).map(([name, t]) => [t, `tensor ${name}`]),
    gradients: Object.entries(c.grads).map(([name, t]) => [t, `the gradient of ${name}`]),
  };
}

/** EIN4007 for `t` whose flat element `k` (value `v`) is not finite. */
export function notFiniteError(t: tf.Tensor, what: string, step: number, k: number, v: number): Error {
  return modelError(
    'EIN4007',
    `training step ${step}`,
    `${what} holds ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Infinity' : '-Infinity'} (first at flat index ${k} of ${shapeText(t.shape)})`,
    'lower the learning rate, check the input scaling, or add batch normalization',
  );
}

/** EIN4007 for a non-finite loss at `step`. */
export function lossError(step: number, loss: number, afterwards = ''): Error {
  return modelError(
    'EIN4007',
    `training step ${step}`,
    `the loss is ${loss}${afterwards}`,
    'lower the learning rate or check the inputs; fit({ checkFinite: true }) names the first tensor that went bad',
  );
}

function firstNotFinite(values: ArrayLike<number>): number {
  for (let k = 0; k < values.length; k++) if (!Number.isFinite(values[k])) return k;
  return -1;
}

function requireFiniteSync(t: tf.Tensor, what: string, step: number): void {
  const values = t.dataSync();
  const k = firstNotFinite(values);
  if (k >= 0) throw notFiniteError(t, what, step, k, values[k]);
}

/** Throws EIN4007 naming the tensor when `t` holds NaN or ±Infinity (reads it with `await data()`). */
export async function requireFinite(t: tf.Tensor, what: string, step: number): Promise<void> {
  const values = await t.data();
  const k = firstNotFinite(values);
  if (k >= 0) throw notFiniteError(t, what, step, k, values[k]);
}

/** Reads the loss and, with `checkFinite`, every checked tensor; throws before anything is applied. */
export async function checkComputed(c: Computed, step: number, checkFinite: boolean | undefined): Promise<number> {
  const checks = checkedTensors(c);
  if (checkFinite) for (const [t, what] of checks.forward) await requireFinite(t, what, step);
  const loss = (await c.loss.data())[0];
  if (!Number.isFinite(loss)) throw lossError(step, loss);
  if (checkFinite) for (const [t, what] of checks.gradients) await requireFinite(t, what, step);
  return loss;
}

function prepare(model: Model, x: tf.Tensor, y: tf.Tensor, options: StepOptions, where: string): Computed {
  rejectUnknownOptions('EIN4010', where, options, ['loss', 'checkFinite', 'step']);
  const input = singleInput(model, where);
  const lossFn = options.loss ?? softmaxCrossEntropy;
  const c = computeGradients(model, x, y, { input, lossFn, keepOutputs: options.checkFinite === true, countCorrect: false });
  return c;
}

/**
 * One training step on a batch: forward in training mode, loss, gradients of the trainable
 * variables, optimizer update, running-statistics update. Returns the batch loss, read with
 * `dataSync` (use `trainStepAsync` on WebGPU). A non-finite loss throws EIN4007 before the update.
 * Leaves no tensor behind.
 */
export function trainStep(model: Model, optimizer: Optimizer, x: tf.Tensor, y: tf.Tensor, options: StepOptions = {}): number {
  const c = prepare(model, x, y, options, 'trainStep');
  const step = options.step ?? optimizer.iterations + 1;
  try {
    const checks = checkedTensors(c);
    if (options.checkFinite) for (const [t, what] of checks.forward) requireFiniteSync(t, what, step);
    const loss = c.loss.dataSync()[0];
    if (!Number.isFinite(loss)) throw lossError(step, loss);
    if (options.checkFinite) for (const [t, what] of checks.gradients) requireFiniteSync(t, what, step);
    applyGradients(model, optimizer, c);
    return loss;
  } finally {
    disposeComputed(c);
  }
}

/**
 * `trainStep` reading the loss with `await data()`: the step for your own loop on every backend,
 * WebGPU included (where `dataSync` is not available). The update is applied after the loss has
 * been read and found finite. Leaves no tensor behind.
 *
 * @example
 *   for (const b of train.batches({ batchSize: 64, shuffle: 1 })) {
 *     const loss = await trainStepAsync(model, optimizer, b.images, b.labels);
 *     b.dispose();
 *   }
 */
export async function trainStepAsync(model: Model, optimizer: Optimizer, x: tf.Tensor, y: tf.Tensor, options: StepOptions = {}): Promise<number> {
  const c = prepare(model, x, y, options, 'trainStepAsync');
  const step = options.step ?? optimizer.iterations + 1;
  try {
    const loss = await checkComputed(c, step, options.checkFinite);
    applyGradients(model, optimizer, c);
    return loss;
  } finally {
    disposeComputed(c);
  }
}
