/**
 * Loss and accuracy curves that redraw themselves while a model trains.
 *
 * `lossCurves()` returns a callback object for `fit`: tfjs-style `onEpochEnd(epoch, logs)` and
 * `onBatchEnd(batch, logs)`, or `onEpochEnd(history)` with a whole `{ epoch, history }` record.
 * The plot is ONE notebook output replaced in place (Jupyter `update_display_data`, which tslab
 * supports through display ids), so a long run does not fill the notebook with copies.
 * Metrics whose name contains `acc` go to a right-hand accuracy panel; the rest to the loss panel.
 */
import { EinError } from '../core/diagnostics';
import { DisplayHandle } from './display';
import type { Figure, Trace } from './figure';
import { richOutputAvailable } from './kernel-output';
import { checkOptions } from '../core/options';

/** tfjs' `Logs`: metric name → value at the end of a batch or epoch. */
export type MetricLogs = Readonly<Record<string, number | undefined>>;

/** The record `fit` returns in tfjs (`tf.History`): epochs and one array per metric. */
export interface HistoryLike {
  readonly epoch: readonly number[];
  readonly history: Readonly<Record<string, readonly (number | unknown)[]>>;
}

/** Options for `lossCurves`. */
export interface LossCurvesOptions {
  readonly title?: string;
  /** Redraw on batch ends at most this often, in milliseconds (default 500). Epoch ends always redraw. */
  readonly throttleMs?: number;
  /** Batches per epoch, to place batch points at fractional epochs (default: learnt from the first epoch). */
  readonly batchesPerEpoch?: number;
  /** Show in the notebook (default true); false only records (read `figure()` yourself). */
  readonly display?: boolean;
  /** Print one text line per epoch when there is no notebook to draw in (default true). */
  readonly printOutsideNotebook?: boolean;
}

interface Series {
  readonly x: number[];
  readonly y: (number | null)[];
}

/** Live training curves; pass it as a `fit` callback. See `lossCurves`. */
export class LiveCurves {
  private readonly epochSeries = new Map<string, Series>();
  private readonly batchSteps = new Map<string, { step: number[]; y: (number | null)[] }>();
  private readonly handle = new DisplayHandle();
  private step = 0;
  private stepsInFirstEpoch = 0;
  private epochsSeen = 0;
  private lastDraw = 0;
  private readonly options: LossCurvesOptions;

  constructor(options: LossCurvesOptions = {}) {
    checkOptions(options, ['title', 'throttleMs', 'batchesPerEpoch', 'display', 'printOutsideNotebook'], 'lossCurves');
    this.options = options;
    // tfjs calls callbacks as methods of its own wrapper object, so they must be bound here.
    this.onBatchEnd = this.onBatchEnd.bind(this);
    this.onEpochEnd = this.onEpochEnd.bind(this);
    this.onTrainEnd = this.onTrainEnd.bind(this);
    if (options.batchesPerEpoch !== undefined && !(options.batchesPerEpoch > 0)) {
      throw new EinError({ code: 'EIN6005', message: `batchesPerEpoch must be positive, got ${options.batchesPerEpoch}` });
    }
  }

  /** tfjs callback: records the batch's metrics; redraws at most every `throttleMs`. */
  onBatchEnd(_batch: number, logs?: MetricLogs): void {
    this.step++;
    if (this.epochsSeen === 0) this.stepsInFirstEpoch = this.step;
    for (const [name, value] of Object.entries(logs ?? {})) {
      if (typeof value !== 'number' || name === 'batch' || name === 'size') continue;
      let s = this.batchSteps.get(name);
      if (s === undefined) this.batchSteps.set(name, (s = { step: [], y: [] }));
      s.step.push(this.step);
      s.y.push(Number.isFinite(value) ? value : null);
    }
    const now = Date.now();
    if (now - this.lastDraw >= (this.options.throttleMs ?? 500)) this.draw();
  }

  /**
   * tfjs callback `(epoch, logs)`, or `(history)` with a whole History record (replaces what was
   * recorded per epoch). Always redraws.
   */
  onEpochEnd(epochOrHistory: number | HistoryLike, logs?: MetricLogs): void {
    if (typeof epochOrHistory === 'number') {
      for (const [name, value] of Object.entries(logs ?? {})) {
        if (typeof value !== 'number') continue;
        this.point(name, epochOrHistory + 1, value);
      }
      this.epochsSeen = Math.max(this.epochsSeen, epochOrHistory + 1);
      if (this.printsText()) console.log(`epoch ${epochOrHistory + 1}: ${formatLogs(logs ?? {})}`);
    } else if (epochOrHistory !== null && typeof epochOrHistory === 'object' && Array.isArray(epochOrHistory.epoch)) {
      this.epochSeries.clear();
      const { epoch, history } = epochOrHistory;
      for (const [name, values] of Object.entries(history)) {
        values.forEach((v, k) => {
          if (typeof v === 'number') this.point(name, (epoch[k] ?? k) + 1, v);
        });
      }
      this.epochsSeen = Math.max(this.epochsSeen, epoch.length);
    } else {
      throw new EinError({
        code: 'EIN6005',
        message: 'onEpochEnd expects (epoch: number, logs) or a History { epoch: number[], history: {...} }',
      });
    }
    this.draw();
  }

  /**
   * Callbacks for einnet's own `fit` (models/train.ts), whose records name their metrics
   * `trainLoss`, `validLoss` and `accuracy`:
   *
   * @example
   *   const curves = lossCurves();
   *   await fit(model, train, { epochs: 3, ...curves.fitCallbacks() });
   */
  fitCallbacks(): {
    onBatchEnd: (info: { readonly batch: number; readonly loss: number }) => void;
    onEpochEnd: (record: { readonly epoch: number; readonly trainLoss: number; readonly validLoss?: number; readonly accuracy?: number }) => void;
  } {
    return {
      onBatchEnd: (info) => this.onBatchEnd(info.batch, { loss: info.loss }),
      onEpochEnd: (record) => {
        this.onEpochEnd(record.epoch - 1, { loss: record.trainLoss, val_loss: record.validLoss, val_acc: record.accuracy });
      },
    };
  }

  /** tfjs callback: the final redraw. */
  onTrainEnd(): void {
    this.draw();
  }

  /** The current plot as a figure (also after training, e.g. to `show` it again). */
  figure(): Figure {
    const perEpoch = this.options.batchesPerEpoch ?? (this.stepsInFirstEpoch || 1);
    const names = new Set([...this.epochSeries.keys(), ...this.batchSteps.keys()]);
    const hasAccuracy = [...names].some(isAccuracy);
    const data: Trace[] = [];
    const colours = new Map<string, string>();
    const colourOf = (metric: string) => {
      const base = metric.replace(/^val_/, '');
      if (!colours.has(base)) colours.set(base, PALETTE[colours.size % PALETTE.length]);
      return colours.get(base)!;
    };
    for (const [name, s] of this.batchSteps) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `${name} (batch)`,
        x: s.step.map((k) => k / perEpoch),
        y: s.y,
        line: { width: 1, color: colourOf(name) },
        opacity: 0.35,
        ...axesOf(name, hasAccuracy),
      });
    }
    for (const [name, s] of this.epochSeries) {
      data.push({
        type: 'scatter',
        mode: 'lines+markers',
        name,
        x: s.x,
        y: s.y,
        line: { width: 2, color: colourOf(name), dash: name.startsWith('val_') ? 'dash' : 'solid' },
        ...axesOf(name, hasAccuracy),
      });
    }
    const layout: Record<string, unknown> = {
      title: { text: this.options.title ?? 'Training' },
      width: hasAccuracy ? 900 : 560,
      height: 380,
      margin: { l: 60, r: 20, t: 50, b: 50 },
      legend: { orientation: 'h', y: -0.2 },
      xaxis: { title: { text: 'epoch' }, domain: hasAccuracy ? [0, 0.45] : [0, 1], anchor: 'y' },
      yaxis: { title: { text: 'loss' }, anchor: 'x' },
    };
    if (hasAccuracy) {
      layout.xaxis2 = { title: { text: 'epoch' }, domain: [0.55, 1], anchor: 'y2' };
      layout.yaxis2 = { title: { text: 'accuracy' }, anchor: 'x2' };
    }
    return { data, layout };
  }

  private point(name: string, x: number, value: number): void {
    let s = this.epochSeries.get(name);
    if (s === undefined) this.epochSeries.set(name, (s = { x: [], y: [] }));
    s.x.push(x);
    s.y.push(Number.isFinite(value) ? value : null);
  }

  private printsText(): boolean {
    return (this.options.printOutsideNotebook ?? true) && (this.options.display === false || !richOutputAvailable());
  }

  private draw(): void {
    this.lastDraw = Date.now();
    if (this.options.display === false || !richOutputAvailable()) return;
    if (this.epochSeries.size === 0 && this.batchSteps.size === 0) return;
    this.handle.figure(this.figure());
  }
}

/**
 * Live loss/accuracy curves for training: pass the result as a callback to `fit`.
 *
 * @example
 *   const curves = lossCurves({ title: 'LeNet-5 on MNIST' });
 *   await model.fit(xs, ys, { epochs: 5, validationSplit: 0.1, callbacks: curves });
 *   // or by hand: curves.onEpochEnd(epoch, { loss, val_loss, acc })
 *
 * Limitations: frontends that ignore `update_display_data` (some static viewers) keep the
 * first drawing; the saved notebook (headless runner) holds the final one.
 */
export function lossCurves(options: LossCurvesOptions = {}): LiveCurves {
  return new LiveCurves(options);
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function isAccuracy(name: string): boolean {
  return /acc/i.test(name);
}

function axesOf(name: string, hasAccuracy: boolean): { xaxis: string; yaxis: string } {
  return hasAccuracy && isAccuracy(name) ? { xaxis: 'x2', yaxis: 'y2' } : { xaxis: 'x', yaxis: 'y' };
}

function formatLogs(logs: MetricLogs): string {
  return Object.entries(logs)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k}=${Number((v as number).toPrecision(4))}`)
    .join(' ');
}
