/**
 * Makes a figure's image data no larger than what it shows, so that notebooks stay small.
 *
 * - Heatmap and image traces are resampled (nearest neighbour) down to the number of screen
 *   pixels their panel has. The axes keep their coordinates: a resampled trace gets `x0`/`dx` and
 *   `y0`/`dy` so that its cells cover the same range as before. Traces with explicit `x`/`y`
 *   coordinates or `transpose` are not resampled.
 * - Heatmap values are rounded to 4 significant digits.
 * - Arrays of at least BINARY_FROM values are stored as plotly.js typed arrays,
 *   `{ dtype, bdata, shape }` (plotly.js 2.28 or later reads them): whole numbers in the smallest
 *   integer type that holds them exactly (image pixels as bytes; float64 beyond 32 bits), other
 *   values as float32.
 * - A figure whose heatmaps hold more than QUANTIZE_OVER non-integer values stores them at the
 *   precision a colour scale shows: 256 levels between the colour range's ends, one byte each
 *   (`zmin` 0, `zmax` 255), with the colour bar labelled in the original values. Hovering such a
 *   heatmap shows the cell's position, not its value. Traces whose colours or labels depend on the
 *   values in other ways (a shared `coloraxis`, a `hovertemplate` or `texttemplate`, explicit
 *   colour bar ticks, missing values) keep float32.
 */
import type { Figure, Trace } from './figure';

/** Significant digits kept for heatmap values. */
export const HEATMAP_DIGITS = 4;
/** Heatmap and image arrays with at least this many values are stored as binary typed arrays. */
export const BINARY_FROM = 1024;
/** A figure whose heatmaps hold more non-integer values than this stores them as 8-bit colour levels. */
export const QUANTIZE_OVER = 32_768;
/** Colour levels of a quantized heatmap (codes 0 … LEVELS − 1, one byte). */
const LEVELS = 256;

/** plotly.js defaults when the layout does not say. */
const DEFAULT_SIZE = { width: 700, height: 450 };
const DEFAULT_MARGIN = { l: 80, r: 80, t: 100, b: 80 };
/** Per-cell arrays that are resampled together with `z`. */
const CELL_FIELDS = ['z', 'text', 'hovertext', 'customdata'];

/** A copy of `figure` whose heatmap and image traces hold at most one value per displayed pixel, stored compactly. */
export function compactFigure(figure: Figure): Figure {
  const traces = figure.data.map((trace) => compactTrace(trace, figure.layout));
  const fractional = traces.reduce((n, t) => n + (t.type === 'heatmap' ? (grid2d(t.z)?.fractional ?? 0) : 0), 0);
  return { ...figure, data: traces.map((trace) => encodeTrace(trace, fractional > QUANTIZE_OVER)) };
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

/** plotly.js's typed array form: little-endian values in base64, row-major, shape outermost first. */
export interface TypedArraySpec {
  readonly dtype: 'u1' | 'i1' | 'u2' | 'i2' | 'i4' | 'f4' | 'f8';
  readonly bdata: string;
  readonly shape: string;
}

/** The values of a rectangular 2-D array of numbers and nulls, row-major, with what an encoding needs to know. */
interface Grid {
  readonly rows: number;
  readonly columns: number;
  readonly values: (number | null)[];
  /** How many values are not whole numbers. */
  readonly fractional: number;
  readonly hasNull: boolean;
}

function grid2d(z: unknown): Grid | undefined {
  if (!Array.isArray(z) || z.length === 0 || !Array.isArray(z[0])) return undefined;
  const columns = (z[0] as unknown[]).length;
  const values: (number | null)[] = [];
  let fractional = 0;
  let hasNull = false;
  for (const row of z as unknown[]) {
    if (!Array.isArray(row) || row.length !== columns) return undefined;
    for (const v of row) {
      if (v === null) hasNull = true;
      else if (typeof v !== 'number') return undefined;
      else if (!Number.isInteger(v)) fractional++;
      values.push(v as number | null);
    }
  }
  return { rows: z.length, columns, values, fractional, hasNull };
}

/** Stores a trace's large arrays as typed arrays; heatmaps of a large figure as colour levels. */
function encodeTrace(trace: Trace, quantize: boolean): Trace {
  if (trace.type === 'image') return encodeImage(trace);
  if (trace.type !== 'heatmap') return trace;
  const grid = grid2d(trace.z);
  if (grid === undefined || grid.values.length < BINARY_FROM) return trace;
  const shape = `${grid.rows},${grid.columns}`;
  if (grid.fractional === 0 && !grid.hasNull) {
    const ints = integerArray(grid.values as number[]);
    return { ...trace, z: ints !== undefined ? ints(shape) : typedSpec('f8', Float64Array.from(grid.values as number[]), shape) };
  }
  if (quantize && grid.fractional > 0 && !grid.hasNull && quantizable(trace)) return quantizeTrace(trace, grid.values as number[], shape);
  // null (a gap) becomes NaN, which plotly.js draws as a gap too.
  return {
    ...trace,
    z: typedSpec(
      'f4',
      Float32Array.from(grid.values, (v) => (v === null ? NaN : v)),
      shape,
    ),
  };
}

/** Image pixels ([rows][columns][channels], whole numbers) as the smallest integer type. */
function encodeImage(trace: Trace): Trace {
  const z = trace.z;
  if (!Array.isArray(z) || z.length === 0 || !Array.isArray(z[0]) || (z[0] as unknown[]).length === 0) return trace;
  const columns = (z[0] as unknown[]).length;
  const first = (z[0] as unknown[])[0];
  if (!Array.isArray(first)) return trace;
  const channels = first.length;
  const values: number[] = [];
  for (const row of z as unknown[]) {
    if (!Array.isArray(row) || row.length !== columns) return trace;
    for (const pixel of row) {
      if (!Array.isArray(pixel) || pixel.length !== channels) return trace;
      for (const v of pixel) {
        if (typeof v !== 'number' || !Number.isInteger(v)) return trace;
        values.push(v);
      }
    }
  }
  if (values.length < BINARY_FROM) return trace;
  const ints = integerArray(values);
  return ints === undefined ? trace : { ...trace, z: ints(`${z.length},${columns},${channels}`) };
}

/** Whole numbers in the smallest plotly dtype that holds them all; undefined beyond 32 bits. */
function integerArray(values: number[]): ((shape: string) => TypedArraySpec) | undefined {
  let lo = 0;
  let hi = 0;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo >= 0 && hi <= 0xff) return (shape) => typedSpec('u1', Uint8Array.from(values), shape);
  if (lo >= -0x80 && hi <= 0x7f) return (shape) => typedSpec('i1', Int8Array.from(values), shape);
  if (lo >= 0 && hi <= 0xffff) return (shape) => typedSpec('u2', Uint16Array.from(values), shape);
  if (lo >= -0x8000 && hi <= 0x7fff) return (shape) => typedSpec('i2', Int16Array.from(values), shape);
  if (lo >= -0x80000000 && hi <= 0x7fffffff) return (shape) => typedSpec('i4', Int32Array.from(values), shape);
  return undefined;
}

function typedSpec(dtype: TypedArraySpec['dtype'], array: ArrayBufferView, shape: string): TypedArraySpec {
  return { dtype, bdata: Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64'), shape };
}

/** Colour bar settings that fix tick positions or labels in data units (a quantized trace sets its own). */
const COLORBAR_TICK_KEYS = ['tickmode', 'tickvals', 'ticktext', 'tick0', 'dtick', 'tickformat', 'tickprefix', 'ticksuffix', 'exponentformat', 'showexponent'];

/** Whether a heatmap's appearance depends on its values only through the colour scale. */
function quantizable(trace: Trace): boolean {
  if (trace.coloraxis !== undefined || trace.hovertemplate !== undefined || trace.texttemplate !== undefined) return false;
  const bar = trace.colorbar;
  return !isRecord(bar) || COLORBAR_TICK_KEYS.every((k) => bar[k] === undefined);
}

/**
 * The heatmap with its values replaced by colour levels: level k stands for lo + k·(hi − lo)/255,
 * where lo…hi is the colour range plotly.js would use. Every cell keeps its colour to within half
 * a level; the colour bar shows the original values at round numbers.
 */
function quantizeTrace(trace: Trace, values: number[], shape: string): Trace {
  const { lo, hi } = colourRange(trace, values);
  const top = LEVELS - 1;
  const scale = top / (hi - lo);
  const codes = Uint8Array.from(values, (v) => Math.min(top, Math.max(0, Math.round((v - lo) * scale))));
  const nticks = isRecord(trace.colorbar) ? trace.colorbar.nticks : undefined;
  const ticks = niceTicks(lo, hi, typeof nticks === 'number' && nticks > 0 ? nticks : undefined);
  const out: Trace = {
    ...trace,
    z: typedSpec('u1', codes, shape),
    zmin: 0,
    zmax: top,
    zauto: false,
    colorbar: {
      ...(isRecord(trace.colorbar) ? trace.colorbar : {}),
      tickmode: 'array',
      tickvals: ticks.map((t) => (t.value - lo) * scale),
      ticktext: ticks.map((t) => t.text),
    },
  };
  delete out.zmid;
  const info = trace.hoverinfo;
  // A trace without a name would show plotly's 'trace 0'.
  if (info === undefined || info === 'all') out.hoverinfo = typeof trace.name === 'string' ? 'x+y+text+name' : 'x+y+text';
  else if (typeof info === 'string' && info !== 'none' && info !== 'skip') {
    out.hoverinfo =
      info
        .split('+')
        .filter((f) => f !== 'z')
        .join('+') || 'none';
  }
  return out;
}

/**
 * The value range plotly.js maps onto the colour scale: `zmin`…`zmax` when both are given (and
 * `zauto` is not true), else the data's range, widened symmetrically around `zmid` when one is
 * given; a range of one value is widened by 0.5 each way.
 */
function colourRange(trace: Trace, values: number[]): { lo: number; hi: number } {
  let lo: number;
  let hi: number;
  if (typeof trace.zmin === 'number' && typeof trace.zmax === 'number' && trace.zauto !== true && trace.zmin < trace.zmax) {
    lo = trace.zmin;
    hi = trace.zmax;
  } else {
    lo = Infinity;
    hi = -Infinity;
    for (const v of values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (typeof trace.zmid === 'number') {
      const mid = trace.zmid;
      if (hi - mid > mid - lo) lo = mid - (hi - mid);
      else hi = mid + (mid - lo);
    }
  }
  if (lo === hi) return { lo: lo - 0.5, hi: hi + 0.5 };
  return { lo, hi };
}

/**
 * Round values (steps of 1, 2 or 5 × 10^k) within lo…hi for a colour bar, labelled as plotly.js
 * labels ticks: at most `maxCount` of them when given (plotly's `nticks`), else about six.
 */
export function niceTicks(lo: number, hi: number, maxCount?: number): { value: number; text: string }[] {
  const raw = (hi - lo) / (maxCount ?? 6);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const steps = [1, 2, 5, 10].map((m) => m * magnitude);
  const step =
    maxCount !== undefined
      ? (steps.find((s) => s >= raw * (1 - 1e-9)) ?? 10 * magnitude)
      : steps.reduce((best, s) => (Math.abs(Math.log(s / raw)) < Math.abs(Math.log(best / raw)) ? s : best));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: { value: number; text: string }[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    const value = k === 0 ? 0 : k * step;
    ticks.push({ value, text: String(Number(value.toFixed(decimals))).replace(/^-/, '\u2212') });
  }
  return ticks;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
