/**
 * Per-step losses and correct counts kept on the device and read back in one go (`flush`): once
 * per epoch, or when a progress display, a plot or a callback asks for the values. A training loop
 * that reads every loss waits for every step to finish before it can queue the next one; reading
 * them in groups lets the device run ahead. Each loss stays its own tensor until the read, so a
 * non-finite loss is still reported with the exact step that produced it.
 */
import * as tf from '@tensorflow/tfjs';
import { lossError } from './step';

/** One step as read back. */
export interface StepValue {
  readonly step: number;
  /** 0-based batch within the epoch. */
  readonly batch: number;
  readonly loss: number;
  readonly size: number;
}

export class StepLog {
  private losses: tf.Scalar[] = [];
  private corrects: tf.Scalar[] = [];
  private entries: { step: number; batch: number; size: number }[] = [];
  /** Sums over the steps read back so far. */
  lossSum = 0;
  correctSum = 0;
  seen = 0;

  /** Takes ownership of `loss` (and `correct`). */
  push(step: number, batch: number, size: number, loss: tf.Scalar, correct: tf.Scalar | undefined): void {
    this.losses.push(loss);
    if (correct !== undefined) this.corrects.push(correct);
    this.entries.push({ step, batch, size });
  }

  get pending(): number {
    return this.losses.length;
  }

  /** Mean loss over the steps read back so far. */
  get meanLoss(): number {
    return this.lossSum / Math.max(this.seen, 1);
  }

  /** Reads the pending steps; throws EIN4007 naming the first step whose loss is not finite. */
  async flush(): Promise<StepValue[]> {
    if (this.losses.length === 0) return [];
    const losses = this.losses;
    const corrects = this.corrects;
    const entries = this.entries;
    this.losses = [];
    this.corrects = [];
    this.entries = [];
    let values: Float32Array | Int32Array | Uint8Array;
    const all = tf.stack([...losses, ...corrects]);
    try {
      values = await all.data();
    } finally {
      all.dispose();
      tf.dispose([...losses, ...corrects]);
    }
    const out: StepValue[] = [];
    for (let k = 0; k < entries.length; k++) {
      const { step, batch, size } = entries[k];
      const loss = values[k];
      if (!Number.isFinite(loss)) {
        const later = entries.length - 1 - k;
        throw lossError(step, loss, later > 0 ? ` (read back after ${later} more step${later === 1 ? ' was' : 's were'} applied)` : '');
      }
      this.lossSum += loss * size;
      this.seen += size;
      if (corrects.length > 0) this.correctSum += values[entries.length + k];
      out.push({ step, batch, loss, size });
    }
    return out;
  }

  dispose(): void {
    tf.dispose([...this.losses, ...this.corrects]);
    this.losses = [];
    this.corrects = [];
    this.entries = [];
  }
}
