/**
 * Heatmaps and grids of heatmaps: activations (NHWC), filters (HWIO), any 2-D array.
 *
 * All helpers read tensor values with `dataSync()` and create no tensors, so they never leak.
 * Images are drawn the way they are stored: row 0 at the top, column 0 at the left.
 */
import type * as tf from '@tensorflow/tfjs';
import { EinError } from '../core/diagnostics';
import { subplotGrid, type Figure, type Trace } from './figure';
import { checkOptions } from '../core/options';

/** Options shared by the heatmap helpers. */
const HEATMAP_OPTIONS = ['title', 'colorscale', 'zmin', 'zmax', 'panelSize'];

export interface HeatmapOptions {
  readonly title?: string;
  /** Plotly colour scale name or list (default 'Viridis'; weights use 'RdBu'). */
  readonly colorscale?: string | readonly (readonly [number, string])[];
  readonly zmin?: number;
  readonly zmax?: number;
  /** Pixel size of one panel's longer side (default 240 for one heatmap, 120 in grids). */
  readonly panelSize?: number;
}

/**
 * A single heatmap of a 2-D array (or rank-2 tensor), row 0 at the top, square cells.
 *
 * @example
 *   show(heatmap([[0, 1, 0], [1, 1, 1], [0, 1, 0]], { title: 'plus' }));
 */
export function heatmap(z: readonly (readonly number[])[] | tf.Tensor, options: HeatmapOptions = {}): Figure {
  checkOptions(options, HEATMAP_OPTIONS, 'heatmap');
  const rows = Array.isArray(z) ? (z as number[][]).map((r) => [...r]) : tensorTo2d(z as tf.Tensor, 'heatmap');
  if (rows.length === 0 || rows[0].length === 0 || rows.some((r) => r.length !== rows[0].length)) {
    throw new EinError({
      code: 'EIN6004',
      message: 'heatmap needs a non-empty rectangular 2-D array',
      hint: 'pass number[][] with equal row lengths, or a rank-2 tensor',
    });
  }
  const size = options.panelSize ?? 320;
  const h = rows.length;
  const w = rows[0].length;
  const scale = size / Math.max(h, w);
  const trace: Trace = { type: 'heatmap', z: rows, colorscale: options.colorscale ?? 'Viridis' };
  if (options.zmin !== undefined) trace.zmin = options.zmin;
  if (options.zmax !== undefined) trace.zmax = options.zmax;
  return {
    data: [trace],
    layout: {
      ...(options.title !== undefined ? { title: { text: options.title } } : {}),
      width: Math.round(w * scale) + 160,
      height: Math.round(h * scale) + 120,
      xaxis: { constrain: 'domain', showgrid: false, zeroline: false },
      yaxis: { autorange: 'reversed', scaleanchor: 'x', constrain: 'domain', showgrid: false, zeroline: false },
      margin: { l: 50, r: 20, t: options.title !== undefined ? 50 : 20, b: 40 },
    },
  };
}

/** Options for `activationGrid`. */
export interface ActivationGridOptions extends HeatmapOptions {
  /** Which example of the batch (default 0). */
  readonly example?: number;
  /** Which channels, in order (default: the first `maxChannels`). */
  readonly channels?: readonly number[];
  /** At most this many panels when `channels` is not given (default 64). */
  readonly maxChannels?: number;
  /** Panels per row (default: about the square root of the panel count). */
  readonly columns?: number;
  /** One colour range for all panels (default false: each panel its own range). */
  readonly sharedScale?: boolean;
}

/**
 * Feature maps of an NHWC activation (rank 4, or rank 3 = one HWC example) as a grid of heatmaps,
 * one panel per channel, labelled `c0`, `c1`, … ; each panel has its own colour bar (one shared bar with
 * `sharedScale`), and a channel whose values are all equal is labelled `constant` with its value.
 *
 * @example
 *   const out = p.run({ L0: images });      // any intermediate tensor [batch, h, w, channels]
 *   show(activationGrid(out.L1, { example: 0, maxChannels: 16 }));
 *
 * Large maps are resampled to the panel size when shown (viz/compact-figure.ts); pass `channels` to pick a few.
 */
export function activationGrid(t: tf.Tensor, options: ActivationGridOptions = {}): Figure {
  checkOptions(options, [...HEATMAP_OPTIONS, 'example', 'channels', 'maxChannels', 'columns', 'sharedScale'], 'activationGrid');
  if (t.rank !== 3 && t.rank !== 4) {
    throw new EinError({
      code: 'EIN6004',
      message: `activationGrid needs an NHWC tensor of rank 4 (or HWC of rank 3), got rank ${t.rank} with shape [${t.shape.join(',')}]`,
      hint: t.rank === 2 ? 'for a 2-D map use heatmap(t)' : 'reshape to [batch, height, width, channels] first',
    });
  }
  const [n, h, w, c] = t.rank === 4 ? t.shape : [1, ...t.shape];
  const example = options.example ?? 0;
  if (!Number.isInteger(example) || example < 0 || example >= n) {
    throw new EinError({ code: 'EIN6005', message: `example ${example} is outside the batch of ${n}`, expected: `0 … ${n - 1}` });
  }
  const channels = options.channels ?? range(Math.min(c, options.maxChannels ?? 64));
  for (const ch of channels) {
    if (!Number.isInteger(ch) || ch < 0 || ch >= c) {
      throw new EinError({ code: 'EIN6005', message: `channel ${ch} does not exist: the tensor has ${c} channels`, expected: `0 … ${c - 1}` });
    }
  }
  const values = t.dataSync();
  const base = example * h * w * c;
  const maps = channels.map((ch) => {
    const z: number[][] = [];
    for (let y = 0; y < h; y++) {
      const row: number[] = new Array(w);
      for (let x = 0; x < w; x++) row[x] = values[base + (y * w + x) * c + ch];
      z.push(row);
    }
    return z;
  });
  return panelGrid(
    maps,
    channels.map((ch) => `c${ch}`),
    { ...options, colorscale: options.colorscale ?? 'Viridis' },
    options.sharedScale ?? false,
  );
}

/** Options for `filterGrid`. */
export interface FilterGridOptions extends HeatmapOptions {
  /**
   * 'rgb': one colour image per output filter (needs 3 input channels; the default then);
   * 'channels': one heatmap per (input, output) pair, output-major.
   */
  readonly mode?: 'rgb' | 'channels';
  /** At most this many panels (default 64). */
  readonly maxPanels?: number;
  readonly columns?: number;
}

/**
 * Convolution filters stored HWIO (`W[Δx,Δy,I,j]`) as a grid: colour images for RGB inputs,
 * otherwise one diverging heatmap (0 = white, shared symmetric range) per input/output pair.
 *
 * @example
 *   show(filterGrid(params.W));                       // [5,5,3,16] → 16 colour patches
 *   show(filterGrid(params.W2, { mode: 'channels' })); // [3,3,16,32] → first 64 (i,o) pairs
 */
export function filterGrid(w: tf.Tensor, options: FilterGridOptions = {}): Figure {
  checkOptions(options, [...HEATMAP_OPTIONS, 'mode', 'maxPanels', 'columns'], 'filterGrid');
  if (w.rank !== 4) {
    throw new EinError({
      code: 'EIN6004',
      message: `filterGrid needs HWIO weights of rank 4, got rank ${w.rank} with shape [${w.shape.join(',')}]`,
      hint: 'pass the kernel of a 2-D convolution, [height, width, inputChannels, outputChannels]',
    });
  }
  const [kh, kw, ci, co] = w.shape;
  const mode = options.mode ?? (ci === 3 ? 'rgb' : 'channels');
  const maxPanels = options.maxPanels ?? 64;
  const values = w.dataSync();
  const at = (y: number, x: number, i: number, o: number) => values[((y * kw + x) * ci + i) * co + o];
  if (mode === 'rgb') {
    if (ci !== 3) {
      throw new EinError({ code: 'EIN6005', message: `mode 'rgb' needs 3 input channels, the filters have ${ci}`, hint: "use mode: 'channels'" });
    }
    const outputs = range(Math.min(co, maxPanels));
    const images = outputs.map((o) => {
      // Each filter is stretched to 0…255 by its own range, as in Krizhevsky et al.'s figure.
      let lo = Infinity;
      let hi = -Infinity;
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          for (let i = 0; i < 3; i++) {
            lo = Math.min(lo, at(y, x, i, o));
            hi = Math.max(hi, at(y, x, i, o));
          }
      const span = hi > lo ? hi - lo : 1;
      return range(kh).map((y) => range(kw).map((x) => range(3).map((i) => Math.round(((at(y, x, i, o) - lo) / span) * 255))));
    });
    const { cells, axes, rows } = subplotGrid(images.length, options.columns ?? defaultColumns(images.length), 0.02, hiddenAxis);
    const size = options.panelSize ?? 80;
    return {
      data: images.map((z, k) => ({ type: 'image', z, name: `o${outputs[k]}`, xaxis: `x${cells[k].axis}`, yaxis: `y${cells[k].axis}` })),
      layout: {
        ...(options.title !== undefined ? { title: { text: options.title } } : {}),
        ...axes,
        width: Math.max(300, Math.ceil(images.length / rows) * size + 80, titleWidth(options.title)),
        height: rows * size + 100,
        margin: { l: 20, r: 20, t: options.title !== undefined ? 60 : 30, b: 20 },
        annotations: panelLabels(
          cells.map((c) => c.axis),
          outputs.map((o) => `o${o}`),
        ),
      },
    };
  }
  const pairs: { i: number; o: number }[] = [];
  for (let o = 0; o < co && pairs.length < maxPanels; o++) for (let i = 0; i < ci && pairs.length < maxPanels; i++) pairs.push({ i, o });
  const maps = pairs.map(({ i, o }) => range(kh).map((y) => range(kw).map((x) => at(y, x, i, o))));
  let bound = 0;
  for (const m of maps) for (const r of m) for (const v of r) bound = Math.max(bound, Math.abs(v));
  return panelGrid(
    maps,
    pairs.map(({ i, o }) => `i${i}→o${o}`),
    { colorscale: 'RdBu', zmin: -bound || -1, zmax: bound || 1, panelSize: 80, ...options },
    true,
  );
}

const hiddenAxis = { showticklabels: false, showgrid: false, zeroline: false, ticks: '' };

/** Pixels between panel columns for each panel's own colour bar (panels without a shared scale). */
const PANEL_BAR = 46;

/**
 * A grid of heatmaps with one label per panel. A shared scale shows one colour bar; otherwise each
 * panel has its own range and its own thin colour bar. A panel whose values are all equal has no
 * range to show: its label says `constant` and the value, and it has no colour bar.
 */
function panelGrid(maps: number[][][], labels: string[], options: HeatmapOptions & { columns?: number }, sharedScale: boolean): Figure {
  const columns = options.columns ?? defaultColumns(maps.length);
  const size = options.panelSize ?? 120;
  const bar = sharedScale ? 0 : PANEL_BAR;
  const plotWidth = columns * size + (columns - 1) * bar;
  const { cells, axes, rows } = subplotGrid(maps.length, columns, sharedScale ? 0.02 : bar / plotWidth, hiddenAxis);
  for (const c of cells) {
    (axes[`yaxis${c.axis}`] as Record<string, unknown>).autorange = 'reversed';
    (axes[`yaxis${c.axis}`] as Record<string, unknown>).scaleanchor = `x${c.axis}`;
    (axes[`yaxis${c.axis}`] as Record<string, unknown>).constrain = 'domain';
    (axes[`xaxis${c.axis}`] as Record<string, unknown>).constrain = 'domain';
  }
  const ranges = maps.map(valueRange);
  let zmin = options.zmin;
  let zmax = options.zmax;
  if (sharedScale && (zmin === undefined || zmax === undefined)) {
    zmin ??= Math.min(...ranges.map((r) => r.lo));
    zmax ??= Math.max(...ranges.map((r) => r.hi));
  }
  const shownLabels = labels.map((label, k) => (ranges[k].constant ? `${label} · constant ${formatValue(ranges[k].lo)}` : label));
  const data: Trace[] = maps.map((z, k) => {
    const x = axes[`xaxis${cells[k].axis}`] as { domain: number[] };
    const y = axes[`yaxis${cells[k].axis}`] as { domain: number[] };
    const ownBar = {
      x: x.domain[1] + 4 / plotWidth,
      xanchor: 'left',
      y: (y.domain[0] + y.domain[1]) / 2,
      yanchor: 'middle',
      len: y.domain[1] - y.domain[0],
      thickness: 8,
      nticks: 3,
      outlinewidth: 0,
      tickfont: { size: 8 },
    };
    return {
      type: 'heatmap',
      z,
      name: shownLabels[k],
      colorscale: options.colorscale ?? 'Viridis',
      showscale: sharedScale ? k === 0 : !ranges[k].constant,
      ...(sharedScale ? { zmin, zmax } : { colorbar: ownBar }),
      xaxis: `x${cells[k].axis}`,
      yaxis: `y${cells[k].axis}`,
    };
  });
  return {
    data,
    layout: {
      ...(options.title !== undefined ? { title: { text: options.title } } : {}),
      ...axes,
      width: Math.max(300, plotWidth + (sharedScale ? 140 : 40 + bar), titleWidth(options.title)),
      height: rows * size + 100,
      margin: { l: 20, r: sharedScale ? 80 : 20 + bar, t: options.title !== undefined ? 60 : 30, b: 20 },
      annotations: panelLabels(
        cells.map((c) => c.axis),
        shownLabels,
      ),
    },
  };
}

/** The smallest and largest value of a map (NaN is skipped: it is drawn as a gap); constant when they are equal. */
function valueRange(map: number[][]): { lo: number; hi: number; constant: boolean } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of map)
    for (const v of r) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  return { lo, hi, constant: lo === hi };
}

/** A value for a label: at most four significant digits. */
function formatValue(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/** Small labels above each panel, placed in the panel's own axis domain. */
function panelLabels(axes: string[], labels: string[]): Record<string, unknown>[] {
  return axes.map((axis, k) => ({
    text: labels[k],
    xref: `x${axis} domain`,
    yref: `y${axis} domain`,
    x: 0.5,
    y: 1,
    yanchor: 'bottom',
    showarrow: false,
    font: { size: 10 },
  }));
}

/** Roughly the pixels a title needs at plotly's default 17 px title font, so it is not cut off. */
function titleWidth(title: string | undefined): number {
  return title === undefined ? 0 : Math.ceil(title.length * 9 + 40);
}

function defaultColumns(count: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(count)));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A rank-2 tensor (or [1,h,w,1]-like tensor with exactly two non-unit axes) as rows. */
function tensorTo2d(t: tf.Tensor, who: string): number[][] {
  const dims = t.shape.filter((d) => d !== 1);
  if (t.rank !== 2 && dims.length !== 2) {
    throw new EinError({
      code: 'EIN6004',
      message: `${who} needs a 2-D tensor, got shape [${t.shape.join(',')}]`,
      hint: 'for feature maps use activationGrid(t); or slice one channel first',
    });
  }
  const [h, w] = t.rank === 2 ? t.shape : dims;
  const values = t.dataSync();
  return range(h).map((y) => Array.from(values.subarray(y * w, (y + 1) * w)));
}
