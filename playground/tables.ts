/**
 * Drawing numbers: tables (an example's expected and computed tables, small outputs) and heatmaps
 * on a canvas (larger outputs, filters, activations). Plain DOM, no library.
 */
import type { Cell, ReadTensor, TableData } from './examples';

/** A number as a table shows it: integers as they are, others to 4 significant digits. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return String(v);
  return Number(v.toPrecision(4)).toString();
}

function cellText(c: Cell): string {
  return typeof c === 'number' ? formatNumber(c) : c;
}

/** A table element for `table`; `className` styles it. */
export function tableElement(table: TableData, className = 'grid'): HTMLElement {
  const figure = document.createElement('figure');
  figure.style.margin = '0';
  const caption = document.createElement('figcaption');
  caption.textContent = table.caption;
  const t = document.createElement('table');
  t.className = className;
  if (table.header) {
    const tr = t.createTHead().insertRow();
    for (const h of table.header) {
      const th = document.createElement('th');
      th.textContent = h;
      tr.appendChild(th);
    }
  }
  const body = t.createTBody();
  for (const row of table.rows) {
    const tr = body.insertRow();
    for (const c of row) tr.insertCell().textContent = cellText(c);
  }
  figure.append(caption, t);
  return figure;
}

/** A colour for t in [0, 1]: dark blue → teal → yellow (viridis-like). */
function colour(t: number): [number, number, number] {
  const stops: [number, number, number][] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const k = Math.min(Math.floor(x), stops.length - 2);
  const f = x - k;
  return [0, 1, 2].map((c) => Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f)) as [number, number, number];
}

/** A heatmap canvas of `rows` (h × w values), `scale` pixels per value; grey when `gray`. */
export function heatmapCanvas(
  values: ArrayLike<number>,
  h: number,
  w: number,
  options: { scale?: number; gray?: boolean; title?: string } = {},
): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.className = 'map';
  canvas.width = w;
  canvas.height = h;
  const scale = options.scale ?? Math.max(1, Math.floor(160 / Math.max(h, w)));
  canvas.style.width = `${w * scale}px`;
  canvas.style.height = `${h * scale}px`;
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < h * w; k++) {
    if (Number.isFinite(values[k])) {
      lo = Math.min(lo, values[k]);
      hi = Math.max(hi, values[k]);
    }
  }
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(w, h);
  for (let k = 0; k < h * w; k++) {
    const v = values[k];
    const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    // NaN stays visible: red.
    const [r, g, b] = Number.isNaN(v) ? [255, 0, 0] : options.gray ? [255 * t, 255 * t, 255 * t] : colour(t);
    image.data.set([r, g, b, 255], 4 * k);
  }
  ctx.putImageData(image, 0, 0);
  canvas.title = options.title ?? `min ${formatNumber(lo)}, max ${formatNumber(hi)}`;
  return canvas;
}

/** Shape as text: [1, 3, 3, 1]. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * An output tensor shown as a table when its last two axes are small (at index 0 of the others),
 * otherwise as a heatmap of them.
 */
export function tensorView(name: string, t: ReadTensor): HTMLElement {
  const box = document.createElement('div');
  box.className = 'output';
  const rank = t.shape.length;
  const h = rank >= 2 ? t.shape[rank - 2] : 1;
  const w = rank >= 1 ? t.shape[rank - 1] : 1;
  // NHWC images with channels: show the spatial axes of channel 0.
  const nhwc = rank === 4 && t.shape[3] <= 64 && (t.shape[1] > 1 || t.shape[2] > 1);
  const rows = nhwc ? t.shape[1] : h;
  const cols = nhwc ? t.shape[2] : w;
  const at = (x: number, y: number) => (nhwc ? t.data[(x * cols + y) * t.shape[3]] : t.data[x * cols + y]);
  const where = nhwc ? (t.shape[3] > 1 ? ', image 0, channel 0' : '') : rank > 2 ? ', index 0 of the leading axes' : '';
  const title = `${name} ${shapeText(t.shape)}${where}`;
  if (rows <= 16 && cols <= 16) {
    const data = Array.from({ length: rows }, (_, x) => Array.from({ length: cols }, (_, y) => at(x, y)));
    box.appendChild(tableElement({ caption: title, rows: data }));
    box.dataset.values = JSON.stringify(data);
  } else {
    const values = new Float32Array(rows * cols);
    for (let x = 0; x < rows; x++) for (let y = 0; y < cols; y++) values[x * cols + y] = at(x, y);
    const caption = document.createElement('div');
    caption.textContent = title;
    box.append(caption, heatmapCanvas(values, rows, cols));
  }
  box.dataset.tensor = name;
  return box;
}
