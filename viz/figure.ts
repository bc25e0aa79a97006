/**
 * Plotly figures as plain data: what every plot helper in `viz/` returns and `show` displays.
 *
 * A figure is exactly the JSON that `Plotly.newPlot(div, data, layout, config)` takes, so it can
 * be saved into a notebook as `application/vnd.plotly.v1+json`, rendered by JupyterLab or
 * VS Code, or handed to plotly.js in a browser. No plotly.js code runs in Node.
 */

/** One plotly trace (`{type: 'heatmap', z: [[...]]}`, `{type: 'scatter', x, y}` …). */
export type Trace = Record<string, unknown> & { readonly type?: string; name?: string };

/** A plotly figure: traces, layout and config, all plain JSON. */
export interface Figure {
  data: Trace[];
  layout: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** The cells of a subplot grid, row-major; `axis` is plotly's suffix ('' for the first). */
export interface GridCell {
  readonly row: number;
  readonly column: number;
  /** '' for cell 0, '2', '3' … after: trace `xaxis: 'x' + axis`, layout `xaxis${axis}`. */
  readonly axis: string;
}

/**
 * Lays out `count` panels in a grid of `columns` columns with their own x/y axes: returns the
 * layout entries for every axis and each panel's axis suffix. Rows are drawn top to bottom.
 *
 * @example
 *   const { cells, axes } = subplotGrid(4, 2, 0.05);
 *   // cells[3] = { row: 1, column: 1, axis: '4' }; axes.xaxis4.domain = [0.525, 1]
 */
export function subplotGrid(
  count: number,
  columns: number,
  gap = 0.02,
  axisStyle: Record<string, unknown> = {},
): { cells: GridCell[]; axes: Record<string, unknown>; rows: number } {
  const rows = Math.max(1, Math.ceil(count / columns));
  const width = (1 - gap * (columns - 1)) / columns;
  const height = (1 - gap * (rows - 1)) / rows;
  const cells: GridCell[] = [];
  const axes: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const row = Math.floor(i / columns);
    const column = i % columns;
    const axis = i === 0 ? '' : String(i + 1);
    const x0 = column * (width + gap);
    const y1 = 1 - row * (height + gap);
    axes[`xaxis${axis}`] = { ...axisStyle, domain: [round(x0), round(x0 + width)], anchor: `y${axis}` };
    axes[`yaxis${axis}`] = { ...axisStyle, domain: [round(y1 - height), round(y1)], anchor: `x${axis}` };
    cells.push({ row, column, axis });
  }
  return { cells, axes, rows };
}

/** Rounds to 6 decimals so layouts stay readable in saved notebooks. */
function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** A one-line description of a figure for `text/plain` outputs (terminals, plain viewers). */
export function describeFigure(figure: Figure): string {
  const types = [...new Set(figure.data.map((t) => t.type ?? 'scatter'))];
  const title = titleText(figure.layout.title);
  return `<Figure${title ? ` '${title}'` : ''}: ${figure.data.length} trace${figure.data.length === 1 ? '' : 's'} (${types.join(', ')})>`;
}

function titleText(title: unknown): string | undefined {
  if (typeof title === 'string') return title;
  if (title !== null && typeof title === 'object' && typeof (title as { text?: unknown }).text === 'string') {
    return (title as { text: string }).text;
  }
  return undefined;
}
