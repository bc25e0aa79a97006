/**
 * Makes a figure's image data no larger than what it shows, so that notebooks stay small.
 *
 * Heatmap and image traces are resampled (nearest neighbour) down to the number of screen pixels
 * their panel has, and heatmap values are rounded to 4 significant digits. The axes keep their
 * coordinates: a resampled trace gets `x0`/`dx` and `y0`/`dy` so that its cells cover the same
 * range as before. Traces with explicit `x`/`y` coordinates or `transpose` are left as they are.
 */
import type { Figure, Trace } from './figure';

/** Significant digits kept for heatmap values. */
export const HEATMAP_DIGITS = 4;

/** plotly.js defaults when the layout does not say. */
const DEFAULT_SIZE = { width: 700, height: 450 };
const DEFAULT_MARGIN = { l: 80, r: 80, t: 100, b: 80 };
/** Per-cell arrays that are resampled together with `z`. */
const CELL_FIELDS = ['z', 'text', 'hovertext', 'customdata'];

/** A copy of `figure` whose heatmap and image traces hold at most one value per displayed pixel. */
export function compactFigure(figure: Figure): Figure {
  return { ...figure, data: figure.data.map((trace) => compactTrace(trace, figure.layout)) };
}

function compactTrace(trace: Trace, layout: Record<string, unknown>): Trace {
  if (trace.type !== 'heatmap' && trace.type !== 'image') return trace;
  const z = trace.z;
  if (!Array.isArray(z) || z.length === 0 || !Array.isArray(z[0])) return trace;
  let out: Trace = { ...trace };
  if (trace.type === 'heatmap') out.z = (z as unknown[][]).map((row) => row.map(roundValue));
  if (trace.transpose === true) return out;
  const rows = z.length;
  const columns = (z[0] as unknown[]).length;
  const box = shownPixels(trace, layout);
  // Square cells (y scale anchored to x): the data fits the box at one scale for both axes.
  const yAxis = layout[axisKey('y', trace.yaxis)];
  const square = isRecord(yAxis) && typeof yAxis.scaleanchor === 'string';
  const fit = square ? Math.min(1, box.width / columns, box.height / rows) : 1;
  const shown = square ? { width: Math.ceil(columns * fit), height: Math.ceil(rows * fit) } : box;
  if (!Array.isArray(trace.y) && rows > shown.height) out = resample(out, 'y', rows, shown.height);
  if (!Array.isArray(trace.x) && columns > shown.width) out = resample(out, 'x', columns, shown.width);
  return out;
}

function roundValue(v: unknown): unknown {
  return typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(HEATMAP_DIGITS)) : v;
}

/** Keeps `target` of `count` rows (axis y) or columns (axis x), each the one nearest its cell's centre. */
function resample(trace: Trace, axis: 'x' | 'y', count: number, target: number): Trace {
  const ratio = count / target;
  const pick = Array.from({ length: target }, (_, i) => Math.min(count - 1, Math.floor((i + 0.5) * ratio)));
  const out: Trace = { ...trace };
  for (const field of CELL_FIELDS) {
    const cells = trace[field];
    if (!Array.isArray(cells) || (axis === 'y' && cells.length !== count)) continue;
    if (axis === 'y') out[field] = pick.map((i) => cells[i] as unknown);
    else if (cells.every((row) => Array.isArray(row) && row.length === count)) out[field] = (cells as unknown[][]).map((row) => pick.map((i) => row[i]));
  }
  const start = typeof trace[`${axis}0`] === 'number' ? (trace[`${axis}0`] as number) : 0;
  const step = typeof trace[`d${axis}`] === 'number' ? (trace[`d${axis}`] as number) : 1;
  out[`${axis}0`] = start + ((ratio - 1) / 2) * step;
  out[`d${axis}`] = ratio * step;
  return out;
}

/** Screen pixels of the plot area the trace is drawn in (its axes' domains of the layout size). */
function shownPixels(trace: Trace, layout: Record<string, unknown>): { width: number; height: number } {
  const margin = { ...DEFAULT_MARGIN, ...(isRecord(layout.margin) ? layout.margin : {}) } as Record<string, unknown>;
  const size = (key: 'width' | 'height') => (typeof layout[key] === 'number' ? (layout[key] as number) : DEFAULT_SIZE[key]);
  const pad = (a: string, b: string) => num(margin[a], 0) + num(margin[b], 0);
  const plotWidth = Math.max(1, size('width') - pad('l', 'r'));
  const plotHeight = Math.max(1, size('height') - pad('t', 'b'));
  return {
    width: Math.ceil(plotWidth * domainSpan(layout, axisKey('x', trace.xaxis))),
    height: Math.ceil(plotHeight * domainSpan(layout, axisKey('y', trace.yaxis))),
  };
}

/** The layout key of a trace's axis: 'x2' → 'xaxis2', absent → 'xaxis'. */
function axisKey(letter: 'x' | 'y', ref: unknown): string {
  return typeof ref === 'string' && ref.startsWith(letter) ? `${letter}axis${ref.slice(1)}` : `${letter}axis`;
}

function domainSpan(layout: Record<string, unknown>, key: string): number {
  const axis = layout[key];
  const domain = isRecord(axis) ? axis.domain : undefined;
  if (!Array.isArray(domain) || domain.length !== 2) return 1;
  const span = num(domain[1], 1) - num(domain[0], 0);
  return span > 0 && span <= 1 ? span : 1;
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
