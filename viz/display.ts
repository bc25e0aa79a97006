/**
 * Display helpers for notebooks: `showMath(program)`, `showTable(rows)`, the figure, math and
 * table bundles, and `DisplayHandle` for outputs replaced in place (`show` is in rich.ts).
 *
 * Each emits ONE output carrying several formats; the frontend picks what it renders best:
 *   figure: application/vnd.plotly.v1+json (JupyterLab, VS Code), text/html (static HTML
 *           export; plotly.js inlined once per session), text/plain; the notebook runner adds
 *           image/png when it exports. Heatmap and image data are resampled to the displayed
 *           size, rounded and stored as binary arrays (viz/compact-figure.ts).
 *   math:   text/markdown and text/latex (both `$$…$$`), text/plain.
 *   table:  text/html, text/plain.
 * The `…Bundle` functions build the bundles without emitting them (for tests and tools).
 */
import { randomBytes } from 'crypto';
import { EinError } from '../core/diagnostics';
import { describeFigure, type Figure } from './figure';
import { compactFigure } from './compact-figure';
import { emitDisplay, type MimeBundle } from './kernel-output';
import { figureHtml, takeLibraryInlining } from './plotly-html';
import { checkOptions } from '../core/options';

/** MIME type of plotly figures, as JupyterLab's and VS Code's renderers expect it. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** Options for `figureBundle`. */
export interface FigureBundleOptions {
  /** Inline plotly.js into the HTML (default: only for the session's first figure, see viz/plotly-html.ts). */
  readonly includeLibrary?: boolean;
}

/**
 * The MIME bundle of a figure.
 *
 * @example
 *   Object.keys(figureBundle(heatmap([[1, 2]])))
 *   // ['application/vnd.plotly.v1+json', 'text/html', 'text/plain']
 */
export function figureBundle(figure: Figure, options: FigureBundleOptions = {}): MimeBundle {
  checkOptions(options, ['includeLibrary'], 'figureBundle');
  checkFigure(figure);
  // A JSON round trip drops undefined fields and turns NaN into null, as plotly.js expects; image
  // data is then cut down to what the figure shows, so notebooks stay small.
  const plain = compactFigure(JSON.parse(JSON.stringify({ data: figure.data, layout: figure.layout, config: figure.config ?? {} })) as Figure);
  const includeLibrary = options.includeLibrary ?? takeLibraryInlining(plain);
  return {
    [PLOTLY_MIME]: plain,
    'text/html': figureHtml(plain, includeLibrary),
    'text/plain': describeFigure(plain),
  };
}

/** An output that can be replaced later, in place (live training curves, animations). */
export class DisplayHandle {
  /** The Jupyter display id shared by the first output and its updates. */
  readonly id: string;
  private shown = false;

  constructor(id: string = randomBytes(8).toString('hex')) {
    this.id = id;
  }

  /** Shows `figure`: the first call creates the output, later calls replace it in place. */
  figure(figure: Figure): void {
    this.bundle(figureBundle(figure, this.shown ? { includeLibrary: false } : {}));
  }

  /** Shows any MIME bundle; the first call creates the output, later calls replace it. */
  bundle(data: MimeBundle): void {
    emitDisplay({ data, displayId: this.id, update: this.shown });
    this.shown = true;
  }
}

/** Anything with a LaTeX form, such as a checked einnet program. */
export interface HasLatex {
  toLatex(): string;
}

/**
 * The MIME bundle of a formula: `$$…$$` in text/markdown and text/latex, the source in text/plain.
 */
export function mathBundle(math: string | HasLatex): MimeBundle {
  const latex = latexOf(math).trim();
  const block = `$$\n${latex}\n$$`;
  return { 'text/markdown': block, 'text/latex': block, 'text/plain': latex };
}

/**
 * Renders LaTeX (or `program.toLatex()`) as display math, as textbooks typeset it.
 *
 * @example
 *   showMath('L_1[b,x,y,j] = \\mathrm{relu}\\Big(\\sum_{\\Delta x,\\Delta y,i} W \\cdot L_0\\Big)');
 *   showMath(program);   // anything with toLatex()
 */
export function showMath(math: string | HasLatex): void {
  emitDisplay({ data: mathBundle(math), update: false });
}

function latexOf(math: string | HasLatex): string {
  if (typeof math === 'string') return math;
  if (math !== null && typeof math === 'object' && typeof (math as HasLatex).toLatex === 'function') {
    const latex = (math as HasLatex).toLatex();
    if (typeof latex === 'string') return latex;
  }
  throw new EinError({
    code: 'EIN6003',
    message: `showMath got ${describeValue(math)}, which is neither a LaTeX string nor has toLatex()`,
    hint: 'pass a string such as showMath("a^2 + b^2") or a checked program p (showMath(p))',
  });
}

/** One table row: column name → value. Arrays of arrays are rows without names (see `columns`). */
export type TableRow = Readonly<Record<string, unknown>> | readonly unknown[];

/** Options for `showTable` / `tableBundle`. */
export interface TableOptions {
  /** Column names, in order; default: keys of the rows in order of first appearance. */
  readonly columns?: readonly string[];
  /** Significant digits for non-integer numbers (default 4). */
  readonly digits?: number;
  /** A caption above the table. */
  readonly caption?: string;
}

/**
 * The MIME bundle of a table: HTML with escaped cells (numbers right-aligned) and aligned text.
 *
 * @example
 *   tableBundle([{ layer: 'conv1', params: 456 }])['text/plain']
 *   // 'layer  params\n-----  ------\nconv1     456'
 */
export function tableBundle(rows: readonly TableRow[], options: TableOptions = {}): MimeBundle {
  checkOptions(options, ['columns', 'digits', 'caption'], 'tableBundle');
  if (!Array.isArray(rows)) {
    throw new EinError({
      code: 'EIN6003',
      message: `showTable got ${describeValue(rows)} instead of an array of rows`,
      hint: 'pass an array of objects, e.g. showTable([{ layer: "conv1", params: 456 }])',
    });
  }
  const digits = options.digits ?? 4;
  const columns = options.columns ?? columnsOf(rows);
  const cells = rows.map((row) => columns.map((c, i) => cellOf(Array.isArray(row) ? row[i] : (row as Record<string, unknown>)[c], digits)));
  const html = [
    '<table class="einnet-table">',
    options.caption !== undefined ? `<caption>${escapeHtml(options.caption)}</caption>` : '',
    '<thead><tr>' + columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('') + '</tr></thead>',
    '<tbody>',
    ...cells.map((row) => '<tr>' + row.map((cell) => `<td${cell.numeric ? ' style="text-align:right"' : ''}>${escapeHtml(cell.text)}</td>`).join('') + '</tr>'),
    '</tbody></table>',
  ]
    .filter((s) => s !== '')
    .join('\n');
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].text.length)));
  const line = (texts: string[], numeric: boolean[]) =>
    texts
      .map((t, i) => (numeric[i] ? t.padStart(widths[i]) : t.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const text = [
    ...(options.caption !== undefined ? [options.caption] : []),
    // Headers of number columns align right, over their numbers.
    line(
      [...columns],
      columns.map((_, i) => cells.some((r) => r[i].numeric) && cells.every((r) => r[i].numeric || r[i].text === '')),
    ),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map((r) =>
      line(
        r.map((c) => c.text),
        r.map((c) => c.numeric),
      ),
    ),
  ].join('\n');
  return { 'text/html': html, 'text/plain': text };
}

/**
 * Displays rows as a table (HTML in notebooks, aligned text elsewhere).
 *
 * @example
 *   showTable([{ layer: 'conv1', output: '28×28×6', params: 156 }, { layer: 'pool1', output: '14×14×6', params: 0 }]);
 */
export function showTable(rows: readonly TableRow[], options: TableOptions = {}): void {
  emitDisplay({ data: tableBundle(rows, options), update: false });
}

function columnsOf(rows: readonly TableRow[]): string[] {
  const seen: string[] = [];
  let width = 0;
  for (const row of rows) {
    if (Array.isArray(row)) width = Math.max(width, row.length);
    else for (const k of Object.keys(row)) if (!seen.includes(k)) seen.push(k);
  }
  for (let i = seen.length; i < width; i++) seen.push(String(i));
  return seen;
}

function cellOf(value: unknown, digits: number): { text: string; numeric: boolean } {
  if (typeof value === 'number') {
    const text = Number.isInteger(value) || !Number.isFinite(value) ? String(value) : String(Number(value.toPrecision(digits)));
    return { text, numeric: true };
  }
  if (typeof value === 'bigint') return { text: String(value), numeric: true };
  if (value === undefined || value === null) return { text: '', numeric: false };
  if (typeof value === 'string') return { text: value, numeric: false };
  if (Array.isArray(value)) return { text: `[${value.map((v) => cellOf(v, digits).text).join(', ')}]`, numeric: false };
  if (
    typeof value === 'object' &&
    typeof (value as { toString?: unknown }).toString === 'function' &&
    (value as object).toString !== Object.prototype.toString
  ) {
    return { text: String(value), numeric: false };
  }
  return { text: JSON.stringify(value) ?? String(value), numeric: false };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function checkFigure(figure: Figure): void {
  if (figure === null || typeof figure !== 'object' || !Array.isArray(figure.data) || typeof figure.layout !== 'object') {
    throw new EinError({
      code: 'EIN6003',
      message: `show got ${describeValue(figure)}, which is not a figure { data: [...], layout: {...} }`,
      hint: 'pass what a viz helper returns, e.g. show(heatmap(z)) or show(activationGrid(t))',
    });
  }
}

/** A short description of a wrong argument, for messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'object')
    return `an object with keys {${Object.keys(v as object)
      .slice(0, 5)
      .join(', ')}}`;
  return `${typeof v} ${String(v).slice(0, 40)}`;
}
