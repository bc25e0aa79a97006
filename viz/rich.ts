/**
 * Rich displays of einnet's values, for `show(x)` and for a notebook cell's last value:
 *   tensor        its values: a table up to 2-D (small), a heatmap (large 2-D), a heatmap grid
 *                 per channel for images (rank 3 [h,w,c] and rank 4 [b,h,w,c], first example);
 *   program       its typeset math, and the shape of every tensor when they are known;
 *   check report  the shape table with the provenance of every extent;
 *   summary       the layer table (shape, size, parameters, multiply-adds, receptive field).
 * Other layers add displays with `registerRichDisplay` (models/ registers the model summary).
 * Values nobody displays richly give `undefined`, and the kernel prints them as before.
 */
import * as tf from '@tensorflow/tfjs';
import { Program, type CheckReport } from '../dsl';
import type { MimeBundle } from './kernel-output';
import { checkFigure, DisplayHandle, figureBundle, mathBundle, tableBundle, type TableRow } from './display';
import type { Figure } from './figure';
import { activationGrid, heatmap } from './grids';

/** A display for some kind of value: its MIME bundle, or undefined when the value is not its kind. */
export type RichDisplay = (value: unknown) => MimeBundle | undefined;

const registered: RichDisplay[] = [];

/** Adds a display, tried before the built-in ones. */
export function registerRichDisplay(display: RichDisplay): void {
  if (!registered.includes(display)) registered.unshift(display);
}

/** The rich MIME bundle of `value`, or undefined when einnet has no rich form for it. */
export function richBundle(value: unknown): MimeBundle | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const display of [...registered, tensorBundle, programBundle, checkReportBundle, summaryBundle]) {
    const bundle = display(value);
    if (bundle !== undefined) return bundle;
  }
  return undefined;
}

/** Tensors of at most this many values show as a table (rank ≤ 2). */
export const TABLE_LIMIT = 400;

function tensorBundle(value: unknown): MimeBundle | undefined {
  if (!(value instanceof tf.Tensor)) return undefined;
  const t = value;
  const title = `${t.dtype} tensor, shape [${t.shape.join(', ')}]`;
  if (t.isDisposed) return { 'text/plain': `disposed ${title}` };
  if (t.dtype === 'string' || t.dtype === 'complex64') return { 'text/plain': `${title}\n${t.toString()}` };
  const text = `${title}\n${t.toString()}`;
  if (t.rank <= 2 && t.size <= TABLE_LIMIT) {
    const values = t.arraySync();
    const rows: TableRow[] = t.rank === 0 ? [[values]] : t.rank === 1 ? [values as unknown[]] : (values as unknown[][]).map((r, i) => [i, ...(r as unknown[])]);
    const columns = t.rank === 2 ? ['', ...Array.from({ length: t.shape[1] }, (_, j) => String(j))] : undefined;
    const table = tableBundle(rows, { caption: title, ...(columns !== undefined ? { columns } : {}) });
    return { 'text/html': table['text/html'], 'text/plain': text };
  }
  if (t.rank === 2) return { ...figureBundle(heatmap(t, { title })), 'text/plain': text };
  if (t.rank === 3 || t.rank === 4) {
    const images = t.rank === 3 ? t.expandDims(0) : t;
    try {
      return { ...figureBundle(activationGrid(images, { title: t.rank === 4 ? `${title}, example 0` : title })), 'text/plain': text };
    } finally {
      if (images !== t) images.dispose();
    }
  }
  return { 'text/plain': text };
}

function programBundle(value: unknown): MimeBundle | undefined {
  if (!(value instanceof Program)) return undefined;
  const math = mathBundle(value);
  let report: CheckReport | undefined;
  try {
    report = value.check();
  } catch {
    // Extents depend on shapes bound at run time: the math alone says what the program does.
  }
  if (report === undefined) return { ...math, 'text/html': `<div>${math['text/markdown']}</div>` };
  const shapes = tableBundle(
    Object.entries(report.shapes).map(([tensor, shape]) => ({ tensor, role: report!.tensors.get(tensor)?.role ?? '', shape: `[${shape.join(', ')}]` })),
  );
  return {
    'text/html': `<div>${math['text/markdown']}</div>\n${shapes['text/html']}`,
    'text/markdown': math['text/markdown'],
    'text/latex': math['text/latex'],
    'text/plain': `${value.toString()}\n\n${shapes['text/plain']}`,
  };
}

function isCheckReport(value: object): value is CheckReport {
  const r = value as Partial<CheckReport>;
  return r.tensors instanceof Map && typeof r.shapes === 'object' && typeof r.ranges === 'object' && r.checked !== undefined;
}

function checkReportBundle(value: unknown): MimeBundle | undefined {
  if (value === null || typeof value !== 'object' || !isCheckReport(value)) return undefined;
  const rows = [...value.tensors.values()].map((t) => ({
    tensor: t.name,
    role: t.role,
    shape: `[${t.shape.join(', ')}]`,
    'extents from': t.axisFrom.map((p, i) => `${t.shape[i]}: ${p.from}`).join('; '),
  }));
  return tableBundle(rows, { caption: 'checked shapes (where each extent comes from)' });
}

interface SummaryLike {
  readonly rows: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    readonly size: number;
    readonly params: number;
    readonly multiplyAdds: number;
    readonly receptiveField?: readonly number[];
  }[];
  readonly totalParams: number;
  readonly totalMultiplyAdds: number;
  toString(): string;
}

function isSummary(value: object): value is SummaryLike {
  const s = value as Partial<SummaryLike>;
  return Array.isArray(s.rows) && typeof s.totalParams === 'number' && typeof s.totalMultiplyAdds === 'number';
}

/** The layer table of a `summary(...)` result: HTML with a total row, and its own text form. */
export function summaryBundle(value: unknown): MimeBundle | undefined {
  if (value === null || typeof value !== 'object' || !isSummary(value)) return undefined;
  const rows: TableRow[] = value.rows.map((r) => ({
    layer: r.name,
    shape: r.shape.join('×'),
    size: r.size,
    params: r.params,
    'multiply-adds': r.multiplyAdds,
    'receptive field': r.receptiveField !== undefined ? r.receptiveField.join('×') : '',
  }));
  rows.push({ layer: 'total', shape: '', size: '', params: value.totalParams, 'multiply-adds': value.totalMultiplyAdds, 'receptive field': '' });
  return { 'text/html': tableBundle(rows)['text/html'], 'text/plain': value.toString() };
}

/** What `show` displays: a plotly figure, or any value with a rich display. */
export type Showable = Figure | tf.Tensor | Program | CheckReport | object;

/**
 * Displays a value in the notebook, as one output with several formats: a plotly figure; a
 * tensor's values (table, heatmap or heatmap grid); a program's math and shapes; a check
 * report's shape table; a summary or model's layer table.
 *
 * @example
 *   show(heatmap([[0, 1], [1, 0]], { title: 'XOR' }));
 *   show(tf.tensor2d([[1, 2], [3, 4]]));          // a table of the values
 *   show(summary(lenet5(), { X: [1, 28, 28, 1] })); // the layer table
 *   // To redraw a figure in place later, use a handle instead:
 *   const h = new DisplayHandle();
 *   h.figure(heatmap([[0, 1], [1, 0]]));
 *   h.figure(heatmap([[1, 0], [0, 1]]));   // replaces the plot
 *
 * Returns nothing on purpose: a cell ending in `show(...)` would otherwise print the return value.
 * Limitations: frontends without a plotly renderer fall back to the HTML form, which needs the
 * session's first plot to be on the page (re-run from the top after clearing outputs).
 * @throws EinError EIN6003 for a value with no display.
 */
export function show(value: Showable): void {
  const figure = value as Partial<Figure>;
  if (value !== null && typeof value === 'object' && Array.isArray(figure.data) && typeof figure.layout === 'object') {
    new DisplayHandle().figure(value as Figure);
    return;
  }
  const bundle = richBundle(value);
  if (bundle === undefined) checkFigure(value as Figure); // throws EIN6003, naming what was passed
  new DisplayHandle().bundle(bundle!);
}
