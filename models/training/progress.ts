/**
 * What `fit` shows while it trains, in the form the output can take:
 *
 * - `notebook`: ONE output, replaced in place (Jupyter `update_display_data`): a bar with epoch,
 *   batch/total, loss, rate and time left, above it one line per finished epoch;
 * - `terminal`: the same line redrawn in place with `\r`, kept as a summary when the epoch ends;
 * - `lines` (stdout redirected to a file, CI, the browser console): one line per epoch.
 *
 * `progressMode` picks one from where the output goes; `fit({ progress })` can force any.
 */
import { DisplayHandle } from '../../viz/display';
import { richOutputAvailable } from '../../viz/kernel-output';
import type { EpochRecord } from './history';

export type ProgressMode = 'notebook' | 'terminal' | 'lines' | 'off';

/** Receives the loop's progress; the loop hands it batch losses at most every `intervalMs`. */
export interface ProgressDisplay {
  readonly mode: ProgressMode;
  /** How often the display wants a batch update (Infinity: never; only epoch ends). */
  readonly intervalMs: number;
  epochStart(epoch: number, batches: number): void;
  /** `done` batches of the epoch are finished; `loss` is the epoch's running mean. */
  batch(done: number, loss: number): void;
  epochEnd(record: EpochRecord): void;
  /** A sentence below the progress (where a stop request ended training). */
  message(text: string): void;
  close(): void;
}

function isTerminal(): boolean {
  return (globalThis as { process?: { stdout?: { isTTY?: boolean } } }).process?.stdout?.isTTY === true;
}

function inNotebook(): boolean {
  try {
    return richOutputAvailable();
  } catch {
    return false; // no require cache (a browser bundle): not a kernel
  }
}

/** The display mode for `fit({ progress })`: false → off; true or undefined → by where output goes. */
export function progressMode(option: boolean | ProgressMode | undefined): ProgressMode {
  if (option === false) return 'off';
  if (typeof option === 'string') return option;
  return inNotebook() ? 'notebook' : isTerminal() ? 'terminal' : 'lines';
}

/** m:ss, or h:mm:ss from an hour on. */
export function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Where an epoch stands: what the live line shows. */
export interface BatchState {
  readonly epoch: number;
  readonly epochs: number;
  readonly done: number;
  readonly total: number;
  readonly loss: number;
  /** Seconds since the epoch started. */
  readonly seconds: number;
}

const BAR_WIDTH = 24;

/** `epoch 2/5 [#########---------------] 120/938 loss 0.2345 | 85.0 batch/s | 0:09 left` */
export function batchLine(s: BatchState): string {
  const filled = Math.round((BAR_WIDTH * s.done) / Math.max(s.total, 1));
  const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
  const rate = s.seconds > 0 ? s.done / s.seconds : 0;
  const left = rate > 0 ? (s.total - s.done) / rate : NaN;
  const loss = Number.isFinite(s.loss) && s.done > 0 ? s.loss.toFixed(4) : '-';
  return `epoch ${s.epoch}/${s.epochs} [${bar}] ${s.done}/${s.total} loss ${loss} | ${rate.toFixed(1)} batch/s | ${clock(left)} left`;
}

/** `epoch 2/5 938/938 loss 0.1234 | valid loss 0.0567 | valid acc 98.12% | 12.3 s` */
export function epochLine(r: EpochRecord, epochs: number, total: number): string {
  const parts = [`epoch ${r.epoch}/${epochs} ${r.batches}/${total} loss ${r.trainLoss.toFixed(4)}`];
  if (r.trainAccuracy !== undefined) parts.push(`train acc ${(100 * r.trainAccuracy).toFixed(2)}%`);
  if (r.validLoss !== undefined) parts.push(`valid loss ${r.validLoss.toFixed(4)}`);
  if (r.accuracy !== undefined) parts.push(`valid acc ${(100 * r.accuracy).toFixed(2)}%`);
  parts.push(`${r.duration.toFixed(1)} s`);
  return parts.join(' | ');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The notebook output: finished epochs, then the live bar (HTML) or line (text/plain). */
export function notebookBundle(finished: readonly string[], live: BatchState | undefined): Record<string, string> {
  const text = [...finished, ...(live ? [batchLine(live)] : [])].join('\n');
  const rows = finished.map((l) => `<div>${escapeHtml(l)}</div>`);
  if (live) {
    const rest = escapeHtml(batchLine(live).replace(/\[[#-]+\] /, ''));
    rows.push(`<div><progress value="${live.done}" max="${live.total}" style="width:16em;vertical-align:middle"></progress> ${rest}</div>`);
  }
  return { 'text/html': `<div style="font-family:monospace;font-size:12px">${rows.join('')}</div>`, 'text/plain': text };
}

abstract class Display implements ProgressDisplay {
  abstract readonly mode: ProgressMode;
  abstract readonly intervalMs: number;
  protected epoch = 0;
  protected total = 0;
  protected started = 0;
  constructor(protected readonly epochs: number) {}
  epochStart(epoch: number, batches: number): void {
    this.epoch = epoch;
    this.total = batches;
    this.started = performance.now();
  }
  protected state(done: number, loss: number): BatchState {
    return { epoch: this.epoch, epochs: this.epochs, done, total: this.total, loss, seconds: (performance.now() - this.started) / 1000 };
  }
  abstract batch(done: number, loss: number): void;
  abstract epochEnd(record: EpochRecord): void;
  abstract message(text: string): void;
  close(): void {}
}

class Silent extends Display {
  readonly mode = 'off' as const;
  readonly intervalMs = Infinity;
  batch(): void {}
  epochEnd(): void {}
  message(): void {}
}

class Lines extends Display {
  readonly mode = 'lines' as const;
  readonly intervalMs = Infinity;
  constructor(
    epochs: number,
    private readonly print: (line: string) => void,
  ) {
    super(epochs);
  }
  batch(): void {}
  epochEnd(record: EpochRecord): void {
    this.print(epochLine(record, this.epochs, this.total));
  }
  message(text: string): void {
    this.print(text);
  }
}

class Terminal extends Display {
  readonly mode = 'terminal' as const;
  readonly intervalMs = 100;
  private drawn = false;
  constructor(
    epochs: number,
    private readonly write: (text: string) => void,
  ) {
    super(epochs);
  }
  batch(done: number, loss: number): void {
    this.write(`\r\x1b[2K${batchLine(this.state(done, loss))}`);
    this.drawn = true;
  }
  epochEnd(record: EpochRecord): void {
    this.write(`${this.drawn ? '\r\x1b[2K' : ''}${epochLine(record, this.epochs, this.total)}\n`);
    this.drawn = false;
  }
  message(text: string): void {
    this.write(`${this.drawn ? '\n' : ''}${text}\n`);
    this.drawn = false;
  }
  override close(): void {
    if (this.drawn) this.write('\n');
    this.drawn = false;
  }
}

class Notebook extends Display {
  readonly mode = 'notebook' as const;
  readonly intervalMs = 500;
  private readonly finished: string[] = [];
  private readonly handle = new DisplayHandle();
  override epochStart(epoch: number, batches: number): void {
    super.epochStart(epoch, batches);
    this.handle.bundle(notebookBundle(this.finished, this.state(0, NaN)));
  }
  batch(done: number, loss: number): void {
    this.handle.bundle(notebookBundle(this.finished, this.state(done, loss)));
  }
  epochEnd(record: EpochRecord): void {
    this.finished.push(epochLine(record, this.epochs, this.total));
    this.handle.bundle(notebookBundle(this.finished, undefined));
  }
  message(text: string): void {
    this.finished.push(text);
    this.handle.bundle(notebookBundle(this.finished, undefined));
  }
}

/** A display of `mode` for a run of `epochs`; `write` replaces stdout (tests). */
export function progressDisplay(mode: ProgressMode, epochs: number, write?: (text: string) => void): ProgressDisplay {
  const out = write ?? ((text: string) => void (globalThis as { process?: { stdout?: { write(s: string): unknown } } }).process?.stdout?.write(text));
  switch (mode) {
    case 'off':
      return new Silent(epochs);
    case 'notebook':
      return new Notebook(epochs);
    case 'terminal':
      return new Terminal(epochs, out);
    case 'lines':
      return new Lines(epochs, write ? (line) => write(`${line}\n`) : (line) => console.log(line));
  }
}
