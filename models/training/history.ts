/**
 * What `fit` returns: one record per epoch with the columns of the classic training table (train
 * loss, valid loss, train/valid ratio, duration) plus accuracies and the hyperparameters used, and
 * where training stopped when it was asked to.
 */

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
  /** Training batches done in the epoch (fewer than planned when training was stopped in it). */
  readonly batches: number;
}

/** Where a stop request (an AbortSignal or `requestStop()`) ended training. */
export interface StopPoint {
  /** 1-based epoch in which training stopped. */
  readonly epoch: number;
  /** Training batches of that epoch that were done (each applied in full). */
  readonly batch: number;
  /** Optimizer steps taken in total when training stopped. */
  readonly step: number;
  /** 'train' when it stopped between training batches, 'validation' during the epoch's validation. */
  readonly phase: 'train' | 'validation';
}

export interface History {
  readonly epochs: EpochRecord[];
  readonly stoppedEarly: boolean;
  /** 1-based epoch with the best monitored value (early stopping), else the last. */
  readonly bestEpoch: number;
  /** Set when a stop request ended training; the model holds the weights after `stopped.step`. */
  readonly stopped?: StopPoint;
}

/** The sentence `fit` prints when a stop request ends it. */
export function stopText(s: StopPoint, batchesPerEpoch: number): string {
  const where = s.phase === 'validation' ? `during the validation of epoch ${s.epoch}` : `at epoch ${s.epoch}, batch ${s.batch}/${batchesPerEpoch}`;
  return `fit stopped ${where} as asked; the model holds the weights after step ${s.step}`;
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
