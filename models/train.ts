/**
 * Training: one step (`trainStep`), evaluation (`evaluate`) and the epoch loop (`fit`) with
 * schedules, early stopping, callbacks, a terminal progress bar and optional NaN/Inf checks.
 *
 * `fit` returns a history with, per epoch, the columns of the classic training table — train loss, valid
 * loss, train/valid ratio, duration — plus accuracies and the hyperparameters used.
 */
import * as tf from '@tensorflow/tfjs';
import { SingleBar, Presets } from 'cli-progress';
import { ImageSet } from '../datasets/image-set';
import { asRandom, permutation, type Random, type SeedOrRandom } from '../core/random';
import type { Model } from './model';
import type { Optimizer } from './optimizers';
import type { Schedule } from './schedules';
import { correctCount, lossByName, softmaxCrossEntropy, type LossFn } from './losses';
import { modelError, rejectUnknownOptions, shapeText } from './errors';

/** Examples with labels: an `ImageSet` (streamed in batches) or tensors `{ images, labels }`. */
export type DataSource = ImageSet | { readonly images: tf.Tensor; readonly labels: tf.Tensor };

interface XY {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
  dispose(): void;
}

function sourceCount(data: DataSource): number {
  return data instanceof ImageSet ? data.count : data.images.shape[0];
}

/** Batches of a data source, shuffled with `shuffle` (a generator continues across epochs). */
function* batchesOf(data: DataSource, batchSize: number, shuffle: Random | false): Generator<XY> {
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

function singleInput(model: Model, where: string): string {
  if (model.inputNames.length !== 1)
    throw modelError(
      'EIN4010',
      where,
      `the model has ${model.inputNames.length} inputs (${model.inputNames.join(', ')})`,
      'fit/evaluate feed one input; write your own loop with trainStep for several',
    );
  return model.inputNames[0];
}

/** Throws EIN4007 naming the tensor when `t` holds NaN or ±Infinity. */
function requireFinite(t: tf.Tensor, what: string, step: number): void {
  const bad = tf.tidy(() => tf.logicalNot(tf.isFinite(t)));
  const flags = bad.dataSync();
  bad.dispose();
  const k = flags.indexOf(1);
  if (k < 0) return;
  const v = t.dataSync()[k];
  throw modelError(
    'EIN4007',
    `training step ${step}`,
    `${what} holds ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Infinity' : '-Infinity'} (first at flat index ${k} of ${shapeText(t.shape)})`,
    'lower the learning rate, check the input scaling, or add batch normalization',
  );
}

/**
 * When the function given to tf.variableGrads throws, tfjs leaves its gradient tape behind with
 * every tensor the kernels saved for the backward pass (the next tape replaces it without
 * disposing them). Disposes those, unless an outer tape is still recording and owns them.
 */
function releaseAbandonedTape(): void {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null } }).state;
  if (state.gradientDepth !== 0 || !Array.isArray(state.activeTape)) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

export interface StepOptions {
  readonly loss?: LossFn;
  /** Check every activation, the loss and every gradient for NaN/Inf (slower: reads them back). */
  readonly checkFinite?: boolean;
  /** Step number for messages. */
  readonly step?: number;
}

/**
 * One training step on a batch: forward in training mode, loss, gradients of the trainable
 * variables, optimizer update, running-statistics update. Returns the batch loss.
 * Leaves no tensor behind.
 */
export function trainStep(model: Model, optimizer: Optimizer, x: tf.Tensor, y: tf.Tensor, options: StepOptions = {}): number {
  rejectUnknownOptions('EIN4010', 'trainStep', options, ['loss', 'checkFinite', 'step']);
  const input = singleInput(model, 'trainStep');
  const lossFn = options.loss ?? softmaxCrossEntropy;
  const step = options.step ?? optimizer.iterations + 1;
  const stats: Record<string, tf.Tensor> = Object.create(null);
  const vars = model.trainableVariables;
  const byVar = new Map<string, string>();
  for (const [name, v] of model.params) byVar.set(v.name, name);
  let value: tf.Scalar;
  let grads: tf.NamedTensorMap;
  // A bad tensor is reported once the gradients are computed: thrown inside variableGrads, it
  // would leave the tensors the tape saved for the backward pass behind.
  let notFinite: unknown;
  try {
    ({ value, grads } = tf.variableGrads(() => {
      const outs = model.forward({ [input]: x }, { training: true });
      if (options.checkFinite) {
        try {
          for (const [name, t] of Object.entries(outs)) requireFinite(t, `tensor ${name}`, step);
        } catch (e) {
          notFinite = e;
        }
      }
      for (const name of model.stats.keys()) stats[name] = tf.keep(outs[name]);
      return lossFn(outs[model.output], y);
    }, vars));
  } catch (e) {
    tf.dispose(Object.values(stats));
    releaseAbandonedTape();
    throw e;
  }
  try {
    if (notFinite !== undefined) throw notFinite;
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) {
      throw modelError(
        'EIN4007',
        `training step ${step}`,
        `the loss is ${loss}`,
        'lower the learning rate or check the inputs; fit({ checkFinite: true }) names the first tensor that went bad',
      );
    }
    const named: Record<string, tf.Tensor> = Object.create(null);
    for (const [varName, g] of Object.entries(grads)) {
      const name = byVar.get(varName)!;
      if (options.checkFinite) requireFinite(g, `the gradient of ${name}`, step);
      named[name] = g;
    }
    optimizer.apply(model.params, named);
    model.updateRunningStats(stats);
    return loss;
  } finally {
    value.dispose();
    tf.dispose(Object.values(grads));
    tf.dispose(Object.values(stats));
  }
}

export interface EvaluateOptions {
  readonly batchSize?: number;
  readonly loss?: 'softmaxCrossEntropy' | 'mse' | LossFn;
  /** Count accuracy (default: true for softmax cross-entropy). */
  readonly accuracy?: boolean;
}

export interface Evaluation {
  readonly loss: number;
  /** Fraction correct, when counted. */
  readonly accuracy?: number;
  readonly count: number;
}

/** Loss (and accuracy) of the model in evaluation mode over a whole data source. */
export function evaluate(model: Model, data: DataSource, options: EvaluateOptions = {}): Evaluation {
  rejectUnknownOptions('EIN4010', 'evaluate', options, ['batchSize', 'loss', 'accuracy']);
  const input = singleInput(model, 'evaluate');
  const lossFn = lossByName(options.loss ?? 'softmaxCrossEntropy');
  const withAccuracy = options.accuracy ?? lossFn === softmaxCrossEntropy;
  let total = 0;
  let correct = 0;
  let count = 0;
  for (const b of batchesOf(data, options.batchSize ?? 256, false)) {
    try {
      const out = model.apply({ [input]: b.x });
      try {
        const l = lossFn(out, b.y);
        const n = b.x.shape[0];
        total += l.dataSync()[0] * n;
        l.dispose();
        if (withAccuracy) correct += correctCount(out, b.y);
        count += n;
      } finally {
        out.dispose();
      }
    } finally {
      b.dispose();
    }
  }
  return { loss: total / Math.max(count, 1), accuracy: withAccuracy ? correct / Math.max(count, 1) : undefined, count };
}

/** One row of the history (the classic training table's columns and more). */
export interface EpochRecord {
  /** 1-based. */
  readonly epoch: number;
  /** Mean batch loss during the epoch (training mode). */
  readonly trainLoss: number;
  readonly validLoss?: number;
  /** trainLoss / validLoss. */
  readonly ratio?: number;
  /** Fraction correct on the training batches as they were seen (training mode). */
  readonly trainAccuracy?: number;
  /** Fraction correct on the validation data (evaluation mode). */
  readonly accuracy?: number;
  /** Seconds for the epoch's training and validation. */
  readonly duration: number;
  /** Hyperparameters in force during the epoch. */
  readonly hyper: Readonly<Record<string, number>>;
}

export interface History {
  readonly epochs: EpochRecord[];
  readonly stoppedEarly: boolean;
  /** 1-based epoch with the best monitored value (early stopping), else the last. */
  readonly bestEpoch: number;
}

export interface BatchInfo {
  readonly epoch: number;
  /** 0-based batch within the epoch. */
  readonly batch: number;
  /** 1-based global step. */
  readonly step: number;
  readonly loss: number;
  readonly size: number;
}

export type CallbackResult = void | 'stop' | Promise<void | 'stop'>;

export interface FitOptions {
  readonly epochs: number;
  readonly optimizer: Optimizer;
  readonly batchSize?: number;
  readonly loss?: 'softmaxCrossEntropy' | 'mse' | LossFn;
  readonly validation?: DataSource;
  /** Order of the training examples: a seed or generator (default seed 0), or false. */
  readonly shuffle?: SeedOrRandom | false;
  /** Hyperparameter name → value per epoch. */
  readonly schedules?: Readonly<Record<string, Schedule>>;
  readonly earlyStopping?: {
    readonly patience: number;
    readonly minDelta?: number;
    /** Default validLoss (trainLoss without validation data). */
    readonly monitor?: 'validLoss' | 'trainLoss';
    /** Put back the best epoch's weights at the end (default true). */
    readonly restoreBest?: boolean;
  };
  readonly checkFinite?: boolean;
  /** Terminal progress bar (default: only when stdout is a TTY). */
  readonly progress?: boolean;
  /** Applied to each training batch of images (normalization, augmentation); its result is disposed. */
  readonly transform?: (images: tf.Tensor) => tf.Tensor;
  /** Stop each epoch after this many batches (quick runs). */
  readonly maxBatchesPerEpoch?: number;
  readonly onBatchEnd?: (info: BatchInfo) => CallbackResult;
  readonly onEpochEnd?: (record: EpochRecord, history: readonly EpochRecord[]) => CallbackResult;
}

const FIT_OPTIONS = [
  'epochs',
  'optimizer',
  'batchSize',
  'loss',
  'validation',
  'shuffle',
  'schedules',
  'earlyStopping',
  'checkFinite',
  'progress',
  'transform',
  'maxBatchesPerEpoch',
  'onBatchEnd',
  'onEpochEnd',
];

/**
 * Trains `model` on `train` for `epochs` epochs.
 *
 * @example
 *   const history = await fit(model, openMnist(), {
 *     epochs: 3, batchSize: 64, optimizer: adam({ learningRate: 1e-3 }),
 *     validation: openMnist({ split: 'test' }),
 *     schedules: { learningRate: linear(0.02, 0.0001, 10) },
 *     earlyStopping: { patience: 5 },
 *   });
 *   console.log(formatHistory(history));
 */
export async function fit(model: Model, train: DataSource, options: FitOptions): Promise<History> {
  rejectUnknownOptions('EIN4010', 'fit', options, FIT_OPTIONS);
  const input = singleInput(model, 'fit');
  if (!Number.isInteger(options.epochs) || options.epochs < 1)
    throw modelError('EIN4010', 'fit', `epochs must be a positive integer, got ${String(options.epochs)}`);
  if (options.optimizer === undefined)
    throw modelError('EIN4010', 'fit', 'no optimizer given', 'pass { optimizer: sgd({ learningRate: 0.01, momentum: 0.9 }) }');
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw modelError('EIN4010', 'fit', `batchSize must be a positive integer, got ${String(batchSize)}`);
  const es = options.earlyStopping;
  if (es !== undefined && !(Number.isInteger(es.patience) && es.patience >= 0))
    throw modelError('EIN4010', 'fit', `earlyStopping.patience must be a non-negative integer, got ${String(es.patience)}`);
  for (const name of Object.keys(options.schedules ?? {})) {
    if (!(name in options.optimizer.hyper))
      throw modelError(
        'EIN4002',
        'fit schedules',
        `the ${options.optimizer.name} optimizer has no hyperparameter '${name}'`,
        undefined,
        Object.keys(options.optimizer.hyper).join(', '),
      );
  }
  const lossFn = lossByName(options.loss ?? 'softmaxCrossEntropy');
  const countAccuracy = lossFn === softmaxCrossEntropy;
  const shuffle = options.shuffle === false ? false : asRandom(options.shuffle ?? 0);
  const total = sourceCount(train);
  if (total === 0) throw modelError('EIN4010', 'fit', 'the training data holds no examples', 'pass a dataset with at least one example');
  const perEpoch = Math.min(Math.ceil(total / batchSize), options.maxBatchesPerEpoch ?? Infinity);
  const showBar = options.progress ?? (globalThis as { process?: { stdout?: { isTTY?: boolean } } }).process?.stdout?.isTTY === true;
  const bar = showBar
    ? new SingleBar(
        { format: 'epoch {epoch}/{epochs} {bar} {value}/{total} batches | loss {loss}', hideCursor: true, clearOnComplete: false },
        Presets.shades_classic,
      )
    : undefined;

  const history: EpochRecord[] = [];
  let best = Infinity;
  let bestEpoch = 0;
  let sinceBest = 0;
  let bestWeights: Map<string, tf.Tensor> | undefined;
  let stoppedEarly = false;
  let step = options.optimizer.iterations;
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      for (const [name, schedule] of Object.entries(options.schedules ?? {})) options.optimizer.hyper[name] = schedule(epoch - 1);
      const hyper = { ...options.optimizer.hyper };
      const t0 = performance.now();
      let lossSum = 0;
      let seen = 0;
      let correct = 0;
      let batch = 0;
      let stop = false;
      bar?.start(perEpoch, 0, { epoch, epochs: options.epochs, loss: '-' });
      for (const b of batchesOf(train, batchSize, shuffle)) {
        try {
          if (batch >= perEpoch) break;
          if (b.x.shape.length !== model.inputShapes[input].length) {
            throw modelError(
              'EIN4006',
              'fit',
              `training images have shape ${shapeText(b.x.shape)}, the model's input ${input} is ${shapeText(model.inputShapes[input])}`,
            );
          }
          const x = options.transform ? tf.tidy(() => options.transform!(b.x)) : b.x;
          try {
            step++;
            const loss = trainStep(model, options.optimizer, x, b.y, { loss: lossFn, checkFinite: options.checkFinite, step });
            const n = b.x.shape[0];
            lossSum += loss * n;
            seen += n;
            if (countAccuracy && options.validation === undefined) {
              // Training accuracy costs a second forward pass; only when there is nothing else to report.
              const out = model.apply({ [input]: x });
              try {
                correct += correctCount(out, b.y);
              } finally {
                out.dispose();
              }
            }
            bar?.update(batch + 1, { loss: (lossSum / seen).toFixed(4) });
            const r = await options.onBatchEnd?.({ epoch, batch, step, loss, size: n });
            if (r === 'stop') stop = true;
          } finally {
            if (x !== b.x) x.dispose();
          }
        } finally {
          b.dispose();
        }
        batch++;
        if (stop) break;
      }
      bar?.stop();
      const trainLoss = lossSum / Math.max(seen, 1);
      const valid = options.validation ? evaluate(model, options.validation, { batchSize: Math.max(batchSize, 256), loss: lossFn }) : undefined;
      const record: EpochRecord = {
        epoch,
        trainLoss,
        validLoss: valid?.loss,
        ratio: valid ? trainLoss / valid.loss : undefined,
        trainAccuracy: countAccuracy && options.validation === undefined ? correct / Math.max(seen, 1) : undefined,
        accuracy: valid?.accuracy,
        duration: (performance.now() - t0) / 1000,
        hyper,
      };
      history.push(record);
      const r = await options.onEpochEnd?.(record, history);
      if (r === 'stop') stop = true;
      if (es !== undefined) {
        const value = (es.monitor ?? (valid ? 'validLoss' : 'trainLoss')) === 'validLoss' ? (record.validLoss ?? trainLoss) : trainLoss;
        if (value < best - (es.minDelta ?? 0)) {
          best = value;
          bestEpoch = epoch;
          sinceBest = 0;
          if (es.restoreBest ?? true) {
            if (bestWeights) tf.dispose([...bestWeights.values()]);
            bestWeights = new Map([...model.namedVariables()].map(([n, v]) => [n, v.clone()]));
          }
        } else if (++sinceBest > es.patience) {
          stoppedEarly = true;
          stop = true;
        }
      }
      if (stop) break;
    }
    if (bestWeights && stoppedEarly) for (const [n, v] of model.namedVariables()) v.assign(bestWeights.get(n)!);
  } finally {
    bar?.stop();
    if (bestWeights) tf.dispose([...bestWeights.values()]);
  }
  return { epochs: history, stoppedEarly, bestEpoch: bestEpoch || history.length };
}

/**
 * The history as the classic training table prints it:
 *
 *   epoch  train loss  valid loss  train/val  valid acc    dur
 *       1     0.11094     0.04377    2.53447     98.12%  2.97s
 */
export function formatHistory(history: History | readonly EpochRecord[]): string {
  const rows = Array.isArray(history) ? history : (history as History).epochs;
  const head = 'epoch  train loss  valid loss  train/val  valid acc     dur';
  const fmt = (v: number | undefined, d = 5) => (v === undefined ? '-' : v.toFixed(d));
  const lines = rows.map(
    (r: EpochRecord) =>
      `${String(r.epoch).padStart(5)}  ${fmt(r.trainLoss).padStart(10)}  ${fmt(r.validLoss).padStart(10)}  ${fmt(r.ratio).padStart(9)}  ` +
      `${(r.accuracy === undefined ? '-' : (100 * r.accuracy).toFixed(2) + '%').padStart(9)}  ${(r.duration.toFixed(2) + 's').padStart(6)}`,
  );
  return [head, ...lines].join('\n');
}
