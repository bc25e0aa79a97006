/**
 * `fit`: the epoch loop users run, with schedules, early stopping, callbacks, a live plot, a
 * progress display, optional NaN/Inf checks and stopping at a batch boundary.
 *
 * Nothing is read back per step unless asked for: each step's loss (and, without validation data,
 * its correct count) stays on the device (step-log.ts) and is read with `await data()` once per
 * epoch, or when the progress display, the plot or an `onBatchEnd` callback wants the values.
 * Between batches the loop polls for a stop (an AbortSignal or `requestStop()`), yielding to the
 * event loop every few tens of milliseconds so that a stop can arrive.
 */
import * as tf from '@tensorflow/tfjs';
import { asRandom, type SeedOrRandom } from '../../core/random';
import { clearStopRequest } from '../../core/interrupt';
import { LiveCurves } from '../../viz/curves';
import type { Model } from '../model';
import type { Optimizer } from '../optimizers';
import type { Schedule } from '../schedules';
import { lossByName, softmaxCrossEntropy, type LossFn } from '../losses';
import { modelError, rejectUnknownOptions, shapeText } from '../errors';
import { batchesOf, sourceCount, type DataSource } from './batches';
import { evaluateWith } from './evaluate';
import { stopText, type EpochRecord, type History, type StopPoint } from './history';
import { progressDisplay, progressMode, type ProgressMode } from './progress';
import { StepLog, type StepValue } from './step-log';
import { applyGradients, checkComputed, computeGradients, disposeComputed, singleInput } from './step';
import { StopCheck } from './stop';

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

/** Callbacks `fit` calls; returning 'stop' ends training after the batch or epoch. */
export interface FitCallbacks {
  /** After every batch, with its loss (asking for it makes `fit` read each step's loss back). */
  readonly onBatchEnd?: (info: BatchInfo) => CallbackResult;
  readonly onEpochEnd?: (record: EpochRecord, history: readonly EpochRecord[]) => CallbackResult;
}

export interface FitOptions extends FitCallbacks {
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
  /**
   * Progress display: a live output in a notebook, a bar in a terminal, one line per epoch
   * elsewhere (the default, `true`); `false` for none, or force 'notebook' | 'terminal' | 'lines'.
   */
  readonly progress?: boolean | ProgressMode;
  /** Live loss curves (`lossCurves()`), updated per epoch and with the batch losses as they are read. */
  readonly plot?: LiveCurves;
  /** More callbacks: objects with onBatchEnd/onEpochEnd, or live plots. */
  readonly callbacks?: FitCallbacks | LiveCurves | readonly (FitCallbacks | LiveCurves)[];
  /** Stops training at the next batch boundary when aborted (so does `requestStop()`). */
  readonly signal?: AbortSignal;
  /** Applied to each training batch of images (normalization, augmentation); its result is disposed. */
  readonly transform?: (images: tf.Tensor) => tf.Tensor;
  /** Stop each epoch after this many batches (quick runs). */
  readonly maxBatchesPerEpoch?: number;
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
  'plot',
  'callbacks',
  'signal',
  'transform',
  'maxBatchesPerEpoch',
  'onBatchEnd',
  'onEpochEnd',
];

/** Milliseconds between reads of the step log for a live plot without a faster display. */
const PLOT_READ_MS = 1000;

function checkOptions(model: Model, train: DataSource, options: FitOptions): void {
  rejectUnknownOptions('EIN4010', 'fit', options, FIT_OPTIONS);
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
  if (options.plot !== undefined && !(options.plot instanceof LiveCurves))
    throw modelError('EIN4010', 'fit', 'plot must be a live plot made by lossCurves()', 'pass { plot: lossCurves() }');
  if (sourceCount(train) === 0) throw modelError('EIN4010', 'fit', 'the training data holds no examples', 'pass a dataset with at least one example');
  singleInput(model, 'fit');
}

/** The options' callbacks and live plots, each in a list. */
function listeners(options: FitOptions): { callbacks: FitCallbacks[]; plots: LiveCurves[] } {
  const extra = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks as FitCallbacks | LiveCurves];
  const plots: LiveCurves[] = options.plot ? [options.plot] : [];
  const callbacks: FitCallbacks[] = [{ onBatchEnd: options.onBatchEnd, onEpochEnd: options.onEpochEnd }];
  for (const c of extra as (FitCallbacks | LiveCurves)[]) {
    if (c instanceof LiveCurves) plots.push(c);
    else if (c !== null && typeof c === 'object') callbacks.push(c);
    else throw modelError('EIN4010', 'fit callbacks', `a callback must be an object with onBatchEnd/onEpochEnd or a lossCurves() plot, got ${String(c)}`);
  }
  return { callbacks: callbacks.filter((c) => c.onBatchEnd !== undefined || c.onEpochEnd !== undefined), plots };
}

/**
 * Trains `model` on `train` for `epochs` epochs.
 *
 * @example
 *   const history = await fit(model, openMnist(), {
 *     epochs: 3, batchSize: 64, optimizer: adam({ learningRate: 1e-3 }),
 *     validation: openMnist({ split: 'test' }),
 *     schedules: { learningRate: linear(0.02, 0.0001, 10) },
 *     earlyStopping: { patience: 5 },
 *     plot: lossCurves(),
 *   });
 *   console.log(formatHistory(history));
 */
export async function fit(model: Model, train: DataSource, options: FitOptions): Promise<History> {
  checkOptions(model, train, options);
  const input = model.inputNames[0];
  const optimizer = options.optimizer;
  const batchSize = options.batchSize ?? 32;
  const es = options.earlyStopping;
  const lossFn = lossByName(options.loss ?? 'softmaxCrossEntropy');
  // Training accuracy is counted from the training forward pass, when there is no validation to report.
  const countTrainAccuracy = lossFn === softmaxCrossEntropy && options.validation === undefined;
  const shuffle = options.shuffle === false ? false : asRandom(options.shuffle ?? 0);
  const perEpoch = Math.min(Math.ceil(sourceCount(train) / batchSize), options.maxBatchesPerEpoch ?? Infinity);
  const { callbacks, plots } = listeners(options);
  const batchCallbacks = callbacks.filter((c) => c.onBatchEnd !== undefined);
  const display = progressDisplay(progressMode(options.progress), options.epochs);
  const readEveryMs = Math.min(display.intervalMs, plots.length > 0 ? PLOT_READ_MS : Infinity);
  clearStopRequest();
  const stopCheck = new StopCheck(options.signal);

  const history: EpochRecord[] = [];
  let best = Infinity;
  let bestEpoch = 0;
  let sinceBest = 0;
  let bestWeights: Map<string, tf.Tensor> | undefined;
  let stoppedEarly = false;
  let stopped: StopPoint | undefined;
  let step = optimizer.iterations;
  let log: StepLog | undefined;
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      for (const [name, schedule] of Object.entries(options.schedules ?? {})) optimizer.hyper[name] = schedule(epoch - 1);
      const hyper = { ...optimizer.hyper };
      const t0 = performance.now();
      const epochLog = (log = new StepLog());
      let batch = 0;
      let stop = false;
      let lastRead = performance.now();
      const shareRead = async (values: StepValue[]) => {
        for (const p of plots) for (const v of values) p.onBatchEnd(v.batch, { loss: v.loss });
      };
      display.epochStart(epoch, perEpoch);
      const batches = batchesOf(train, batchSize, shuffle);
      try {
        while (batch < perEpoch) {
          if (await stopCheck.requested()) {
            stopped = { epoch, batch, step, phase: 'train' };
            break;
          }
          const next = batches.next();
          if (next.done === true) break;
          const b = next.value;
          let n: number;
          try {
            if (b.x.shape.length !== model.inputShapes[input].length) {
              throw modelError(
                'EIN4006',
                'fit',
                `training images have shape ${shapeText(b.x.shape)}, the model's input ${input} is ${shapeText(model.inputShapes[input])}`,
              );
            }
            n = b.x.shape[0];
            const x = options.transform ? tf.tidy(() => options.transform!(b.x)) : b.x;
            try {
              const c = computeGradients(model, x, b.y, { input, lossFn, keepOutputs: options.checkFinite === true, countCorrect: countTrainAccuracy });
              const kept = new Set<tf.Tensor>();
              try {
                if (options.checkFinite) await checkComputed(c, step + 1, true);
                applyGradients(model, optimizer, c);
                step++;
                epochLog.push(step, batch, n, c.loss, c.correct);
                kept.add(c.loss);
                if (c.correct) kept.add(c.correct);
              } finally {
                disposeComputed(c, kept);
              }
            } finally {
              if (x !== b.x) x.dispose();
            }
          } finally {
            b.dispose();
          }
          batch++;
          if (batchCallbacks.length > 0 || performance.now() - lastRead >= readEveryMs) {
            const values = await epochLog.flush();
            lastRead = performance.now();
            await shareRead(values);
            display.batch(batch, epochLog.meanLoss);
            for (const v of values) {
              for (const c of batchCallbacks)
                if ((await c.onBatchEnd!({ epoch, batch: v.batch, step: v.step, loss: v.loss, size: v.size })) === 'stop') stop = true;
            }
          }
          if (stop) break;
        }
      } finally {
        batches.return(undefined);
      }
      await shareRead(await epochLog.flush());
      const trainLoss = epochLog.meanLoss;
      const trainAccuracy = countTrainAccuracy ? epochLog.correctSum / Math.max(epochLog.seen, 1) : undefined;
      epochLog.dispose();
      const valid =
        stopped === undefined && options.validation
          ? await evaluateWith(
              model,
              options.validation,
              { input, lossFn, withAccuracy: lossFn === softmaxCrossEntropy, batchSize: Math.max(batchSize, 256) },
              stopCheck,
            )
          : undefined;
      if (valid?.stopped !== undefined) stopped = { epoch, batch, step, phase: 'validation' };
      const complete = valid !== undefined && valid.stopped === undefined ? valid : undefined;
      if (stopped !== undefined && batch === 0) break;
      const record: EpochRecord = {
        epoch,
        trainLoss,
        validLoss: complete?.loss,
        ratio: complete ? trainLoss / complete.loss : undefined,
        trainAccuracy,
        accuracy: complete?.accuracy,
        duration: (performance.now() - t0) / 1000,
        hyper,
        batches: batch,
      };
      history.push(record);
      display.epochEnd(record);
      for (const p of plots) p.onEpochEnd(epoch - 1, { loss: trainLoss, val_loss: record.validLoss, val_acc: record.accuracy, acc: trainAccuracy });
      if (stopped !== undefined) break;
      for (const c of callbacks) if ((await c.onEpochEnd?.(record, history)) === 'stop') stop = true;
      if (es !== undefined) {
        const value = (es.monitor ?? (complete ? 'validLoss' : 'trainLoss')) === 'validLoss' ? (record.validLoss ?? trainLoss) : trainLoss;
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
    if (stopped !== undefined) {
      // A stop is always reported, also when the progress display is off.
      if (display.mode === 'off') console.log(stopText(stopped, perEpoch));
      else display.message(stopText(stopped, perEpoch));
    }
  } finally {
    log?.dispose();
    display.close();
    for (const p of plots) p.onTrainEnd();
    if (bestWeights) tf.dispose([...bestWeights.values()]);
  }
  return { epochs: history, stoppedEarly, bestEpoch: bestEpoch || history.length, stopped };
}
