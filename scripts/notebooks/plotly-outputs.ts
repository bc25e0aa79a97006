/**
 * Post-processing of plot outputs in an executed notebook: exactly one copy of plotly.js (in
 * the first plot's HTML), and a PNG beside every plotly figure.
 */
import type { Notebook } from './ipynb';
import { PLOTLY_MIME } from '../../viz/display';
import type { Figure } from '../../viz/figure';
import { FIGURE_DIV_CLASS, PLOTLY_LIBRARY_BEGIN, PLOTLY_LIBRARY_END, plotlyBundleFor, plotlyLibraryHtml } from '../../viz/plotly-html';

type DataOutput = { data: Record<string, unknown> };

/** Every display/execute output that carries a plotly figure, in notebook order. */
export function plotOutputs(nb: Notebook): DataOutput[] {
  const found: DataOutput[] = [];
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      if ((out.output_type === 'display_data' || out.output_type === 'execute_result') && out.data[PLOTLY_MIME] !== undefined) found.push(out);
    }
  }
  return found;
}

/**
 * Leaves exactly one inlined plotly.js in the notebook, at the start of the first plot's HTML:
 * the cartesian bundle when it draws every figure of the notebook, else the full one.
 * A live plot that was updated in place lost the copy its first drawing carried; a notebook run
 * twice in one kernel may carry none or several. Returns how many copies were removed.
 */
export function normalizePlotlyLibrary(nb: Notebook): number {
  const pattern = new RegExp(`${escapeRegExp(PLOTLY_LIBRARY_BEGIN)}[\\s\\S]*?${escapeRegExp(PLOTLY_LIBRARY_END)}\\n?`, 'g');
  let removed = 0;
  let first: DataOutput | undefined;
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      if (out.output_type !== 'display_data' && out.output_type !== 'execute_result') continue;
      const html = out.data['text/html'];
      if (html === undefined) continue;
      const text = Array.isArray(html) ? html.join('') : String(html);
      const stripped = text.replace(pattern, () => {
        removed++;
        return '';
      });
      out.data['text/html'] = stripped;
      if (first === undefined && stripped.includes(FIGURE_DIV_CLASS)) first = out;
    }
  }
  const bundle = plotlyBundleFor(plotOutputs(nb).map((out) => out.data[PLOTLY_MIME] as Figure));
  if (first !== undefined) first.data['text/html'] = plotlyLibraryHtml(bundle) + '\n' + String(first.data['text/html']);
  return removed;
}

/** Adds `image/png` (base64) to every plot output, rendered by `render`. Returns the count. */
export async function addPngs(nb: Notebook, render: (figure: Figure) => Promise<Buffer>): Promise<number> {
  const outputs = plotOutputs(nb);
  for (const out of outputs) {
    const png = await render(out.data[PLOTLY_MIME] as Figure);
    out.data['image/png'] = png.toString('base64');
  }
  return outputs.length;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
