/**
 * What makes a kernel's plots stand alone in a saved notebook (plain Jupyter, nbconvert, an HTML
 * export): at the end of each cell the kernel updates every plot the cell showed, by display id,
 * to its final form where
 *   - exactly the session's first plot carries plotly.js (a live plot updated in place lost the
 *     copy its first drawing had; later plots carry it only when they need the full bundle and
 *     the session sent the cartesian one, see viz/plotly-html.ts);
 *   - every plot carries `image/png`, rendered by headless Chromium when one is found
 *     (EINNET_CHROMIUM=none turns this off).
 * The update comes before the cell's reply, so Jupyter saves it with the cell.
 */
import { PLOTLY_MIME } from '../../viz/display';
import type { Figure } from '../../viz/figure';
import { PLOTLY_LIBRARY_BEGIN, PLOTLY_LIBRARY_END, plotlyBundleFor, plotlyLibraryHtml, type PlotlyBundle } from '../../viz/plotly-html';
import { findChromium, openPngRenderer, type PngRenderer } from './png-export';

/** Display id → the latest MIME bundle shown with it in this cell. */
export type PlotOutputs = Map<string, Record<string, unknown>>;

/** The bundle the session's plots carry so far (undefined: none yet). */
let libraryDelivered: PlotlyBundle | undefined;
let renderer: Promise<PngRenderer | undefined> | undefined;

function pngRenderer(): Promise<PngRenderer | undefined> {
  renderer ??= (async () => {
    const chromium = findChromium();
    if (chromium === undefined) return undefined;
    try {
      return await openPngRenderer(chromium);
    } catch {
      return undefined; // plots keep their interactive and HTML forms
    }
  })();
  return renderer;
}

const LIBRARY = new RegExp(`${escape(PLOTLY_LIBRARY_BEGIN)}[\\s\\S]*?${escape(PLOTLY_LIBRARY_END)}\\n?`, 'g');

/** Sends each plot's final form through `update` (display id, bundle). Other outputs are left alone. */
export async function finishPlots(plots: PlotOutputs, update: (id: string, data: Record<string, unknown>) => void): Promise<void> {
  for (const [id, data] of plots) {
    const figure = data[PLOTLY_MIME] as Figure | undefined;
    if (figure === undefined || typeof data['text/html'] !== 'string') continue;
    let html = data['text/html'].replace(LIBRARY, '');
    const need = plotlyBundleFor([figure]);
    if (libraryDelivered === undefined || (need === 'full' && libraryDelivered === 'cartesian')) {
      html = plotlyLibraryHtml(need) + '\n' + html;
      libraryDelivered = need;
    }
    const final: Record<string, unknown> = { ...data, 'text/html': html };
    const r = await pngRenderer();
    if (r !== undefined) {
      try {
        final['image/png'] = (await r.render(figure)).toString('base64');
      } catch {
        // A figure Chromium cannot draw keeps its other forms.
      }
    }
    update(id, final);
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
