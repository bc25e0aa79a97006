/**
 * `evaluate`: loss and accuracy of a model in evaluation mode over a whole data source. Sums stay
 * on the device and are read back once, with `await data()` (every backend, WebGPU included).
 */
import * as tf from '@tensorflow/tfjs';
import { clearStopRequest } from '../../core/interrupt';
import type { Model } from '../model';
import { lossByName, softmaxCrossEntropy, type LossFn } from '../losses';
import { rejectUnknownOptions } from '../errors';
import { batchesOf, type DataSource } from './batches';
import { correctOnDevice, singleInput } from './step';
import { StopCheck } from './stop';

export interface EvaluateOptions {
  readonly batchSize?: number;
  readonly loss?: 'softmaxCrossEntropy' | 'mse' | LossFn;
  /** Count accuracy (default: true for softmax cross-entropy). */
  readonly accuracy?: boolean;
  /** Stops at the next batch boundary when aborted (so does `requestStop()`). */
  readonly signal?: AbortSignal;
}

export interface Evaluation {
  readonly loss: number;
  /** Fraction correct, when counted. */
  readonly accuracy?: number;
  /** Examples evaluated. */
  readonly count: number;
  /** Set when a stop request ended the evaluation early: the batches done (the values cover only those). */
  readonly stopped?: { readonly batch: number };
}

export interface EvaluationPlan {
  readonly input: string;
  readonly lossFn: LossFn;
  readonly withAccuracy: boolean;
  readonly batchSize: number;
}

/** The evaluation loop, polling `stop` between batches. */
export async function evaluateWith(model: Model, data: DataSource, plan: EvaluationPlan, stop: StopCheck): Promise<Evaluation> {
  let lossSum: tf.Scalar = tf.scalar(0);
  let correctSum: tf.Scalar = tf.scalar(0);
  let count = 0;
  let batch = 0;
  let stopped = false;
  const batches = batchesOf(data, plan.batchSize, false);
  try {
    for (;;) {
      if (await stop.requested()) {
        stopped = true;
        break;
      }
      const next = batches.next();
      if (next.done === true) break;
      const b = next.value;
      try {
        const n = b.x.shape[0];
        const [l, c] = tf.tidy(() => {
          const out = model.apply({ [plan.input]: b.x });
          const loss = lossSum.add(plan.lossFn(out, b.y).mul(n)) as tf.Scalar;
          return [loss, plan.withAccuracy ? (correctSum.add(correctOnDevice(out, b.y)) as tf.Scalar) : correctSum.clone()];
        });
        tf.dispose([lossSum, correctSum]);
        lossSum = l;
        correctSum = c;
        count += n;
        batch++;
      } finally {
        b.dispose();
      }
    }
    const both = tf.stack([lossSum, correctSum]);
    const [total, correct] = await both.data();
    both.dispose();
    const n = Math.max(count, 1);
    return { loss: total / n, accuracy: plan.withAccuracy ? correct / n : undefined, count, stopped: stopped ? { batch } : undefined };
  } finally {
    batches.return(undefined);
    tf.dispose([lossSum, correctSum]);
  }
}

/**
 * Loss (and accuracy) of the model in evaluation mode over a whole data source. Options are
 * checked at once (a mistake throws); the values come back as a promise, read with `await data()`.
 *
 * @example
 *   const { loss, accuracy } = await evaluate(model, openMnist({ split: 'test' }));
 */
export function evaluate(model: Model, data: DataSource, options: EvaluateOptions = {}): Promise<Evaluation> {
  rejectUnknownOptions('EIN4010', 'evaluate', options, ['batchSize', 'loss', 'accuracy', 'signal']);
  const input = singleInput(model, 'evaluate');
  const lossFn = lossByName(options.loss ?? 'softmaxCrossEntropy');
  const withAccuracy = options.accuracy ?? lossFn === softmaxCrossEntropy;
  clearStopRequest();
  return evaluateWith(model, data, { input, lossFn, withAccuracy, batchSize: options.batchSize ?? 256 }, new StopCheck(options.signal));
}
