/**
 * Receptive fields of stacked convolutions/poolings, computed from kernel, stride and dilation,
 * and the classic picture of nested receptive fields (lecture seed 000, "Receptive field").
 *
 * For layer l with kernel k, stride s, dilation d (effective kernel d·(k−1)+1):
 *   jump_l = jump_{l−1} · s            (input pixels between neighbouring units of layer l)
 *   r_l    = r_{l−1} + d·(k−1)·jump_{l−1}   (receptive field side, r_0 = 1, jump_0 = 1)
 * The picture also counts, for every input pixel, how many paths lead from it to one output
 * unit (darker = more): dilation can leave holes (gridding), plain stacks give a peaked bump.
 */
import { EinError } from '../core/diagnostics';
import type { Figure, Trace } from './figure';

/** One layer's geometry (square kernels; one number per spatial axis). */
export interface LayerGeometry {
  readonly kernel: number;
  readonly stride?: number;
  readonly dilation?: number;
  readonly name?: string;
}

/** The same as parallel lists, as lecture tables give them. */
export interface LayerGeometryLists {
  readonly kernel: readonly number[];
  readonly stride?: readonly number[];
  readonly dilation?: readonly number[];
  readonly name?: readonly string[];
}

/** One row of the receptive-field table. */
export interface ReceptiveFieldRow {
  readonly layer: number;
  readonly name: string;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  /** d·(k−1)+1. */
  readonly effectiveKernel: number;
  /** Input pixels between neighbouring units of this layer. */
  readonly jump: number;
  /** Side of the square of input pixels one unit of this layer sees. */
  readonly receptiveField: number;
}

/**
 * The receptive-field table of a stack of layers.
 *
 * @example
 *   receptiveFields({ kernel: [3, 3, 3], stride: [1, 2, 1] }).map((r) => r.receptiveField)   // [3, 5, 9]
 *   receptiveFields([{ kernel: 3, dilation: 2 }])[0].receptiveField                           // 5
 */
export function receptiveFields(layers: readonly LayerGeometry[] | LayerGeometryLists): ReceptiveFieldRow[] {
  const list = normalizeLayers(layers);
  const rows: ReceptiveFieldRow[] = [];
  let jump = 1;
  let field = 1;
  list.forEach((l, i) => {
    const stride = l.stride ?? 1;
    const dilation = l.dilation ?? 1;
    field += dilation * (l.kernel - 1) * jump;
    jump *= stride;
    rows.push({
      layer: i + 1,
      name: l.name ?? `layer ${i + 1}`,
      kernel: l.kernel,
      stride,
      dilation,
      effectiveKernel: dilation * (l.kernel - 1) + 1,
      jump,
      receptiveField: field,
    });
  });
  return rows;
}

/**
 * For one unit of the last layer: how many paths reach it from each input offset 0…r−1
 * (one axis; the 2-D count is the outer product). Zero entries are pixels it never sees.
 *
 * @example
 *   pathCounts([{ kernel: 3 }, { kernel: 3 }])   // [1, 2, 3, 2, 1]
 *   pathCounts([{ kernel: 3, dilation: 2 }])     // [1, 0, 1, 0, 1]
 */
export function pathCounts(layers: readonly LayerGeometry[] | LayerGeometryLists): number[] {
  const list = normalizeLayers(layers);
  // Walk from the output unit down: a unit at position p of layer l reads layer l−1 at
  // s·p + d·t for t = 0…k−1 (offsets relative to the field's first pixel).
  let counts = [1];
  for (let l = list.length - 1; l >= 0; l--) {
    const { kernel, stride = 1, dilation = 1 } = list[l];
    const next = new Array<number>(stride * (counts.length - 1) + dilation * (kernel - 1) + 1).fill(0);
    counts.forEach((n, p) => {
      for (let t = 0; t < kernel; t++) next[stride * p + dilation * t] += n;
    });
    counts = next;
  }
  return counts;
}

/** Options for `receptiveFieldFigure`. */
export interface ReceptiveFieldFigureOptions {
  readonly title?: string;
  /** Side in pixels of the drawing (default 560). */
  readonly size?: number;
}

/**
 * The nested receptive fields of one output unit: for every layer a square of its receptive-field
 * side (centred), over a heatmap of the path counts of the whole stack (log scale).
 *
 * @example
 *   show(receptiveFieldFigure({ kernel: [3, 3, 3], dilation: [1, 2, 4] }));   // 3 → 7 → 15, with holes
 */
export function receptiveFieldFigure(layers: readonly LayerGeometry[] | LayerGeometryLists, options: ReceptiveFieldFigureOptions = {}): Figure {
  const table = receptiveFields(layers);
  const counts = pathCounts(layers);
  const n = counts.length;
  const z = counts.map((a) => counts.map((b) => (a * b > 0 ? Math.log10(a * b) : null)));
  const heat: Trace = {
    type: 'heatmap',
    z,
    colorscale: 'Blues',
    reversescale: true,
    name: 'paths (log10)',
    colorbar: { title: { text: 'log₁₀ paths' } },
    hovertemplate: 'x=%{x} y=%{y}<br>log10 paths=%{z:.2f}<extra></extra>',
  };
  const centre = (n - 1) / 2;
  const palette = ['#d62728', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
  const shapes = table.map((row, i) => ({
    type: 'rect',
    x0: centre - row.receptiveField / 2,
    x1: centre + row.receptiveField / 2,
    y0: centre - row.receptiveField / 2,
    y1: centre + row.receptiveField / 2,
    line: { color: palette[i % palette.length], width: 2 },
  }));
  const labels: Trace[] = table.map((row, i) => ({
    type: 'scatter',
    mode: 'lines',
    x: [null],
    y: [null],
    name: `${row.name}: ${row.receptiveField}×${row.receptiveField}`,
    line: { color: palette[i % palette.length], width: 2 },
  }));
  const size = options.size ?? 560;
  return {
    data: [heat, ...labels],
    layout: {
      title: {
        text:
          options.title ??
          `Receptive field ${table.length > 0 ? table[table.length - 1].receptiveField : 1}×${table.length > 0 ? table[table.length - 1].receptiveField : 1}`,
      },
      width: size + 240,
      height: size,
      shapes,
      xaxis: { range: [-1.5, n + 0.5], constrain: 'domain', title: { text: 'input x' }, showgrid: false, zeroline: false },
      yaxis: { range: [n + 0.5, -1.5], scaleanchor: 'x', constrain: 'domain', title: { text: 'input y' }, showgrid: false, zeroline: false },
      legend: { x: 1.25, y: 1 },
      margin: { l: 60, r: 20, t: 50, b: 50 },
    },
  };
}

function normalizeLayers(layers: readonly LayerGeometry[] | LayerGeometryLists): LayerGeometry[] {
  let list: LayerGeometry[];
  if (Array.isArray(layers)) {
    list = [...(layers as LayerGeometry[])];
  } else if (layers !== null && typeof layers === 'object' && Array.isArray((layers as LayerGeometryLists).kernel)) {
    const lists = layers as LayerGeometryLists;
    for (const key of ['stride', 'dilation', 'name'] as const) {
      const v = lists[key];
      if (v !== undefined && v.length !== lists.kernel.length) {
        throw new EinError({
          code: 'EIN6005',
          message: `receptive field: ${key} has ${v.length} entries but kernel has ${lists.kernel.length}`,
          hint: 'give one entry per layer in every list',
        });
      }
    }
    list = lists.kernel.map((kernel, i) => ({ kernel, stride: lists.stride?.[i], dilation: lists.dilation?.[i], name: lists.name?.[i] }));
  } else {
    throw new EinError({
      code: 'EIN6005',
      message: 'receptive field needs layers as [{ kernel, stride?, dilation? }, …] or { kernel: [...], stride?: [...], dilation?: [...] }',
    });
  }
  list.forEach((l, i) => {
    for (const key of ['kernel', 'stride', 'dilation'] as const) {
      const v = l[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
        throw new EinError({ code: 'EIN6005', message: `receptive field: layer ${i + 1} has ${key} ${v}`, expected: 'a whole number ≥ 1' });
      }
    }
  });
  return list;
}
