/**
 * Static export: plotly figures rendered to PNG by headless Chromium are the right size and not
 * blank (decoded, pixels counted). Skipped, with the reason, where no Chromium is installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, openPngRenderer, type PngRenderer } from '../../scripts/notebooks/png-export';
import { addPngs, normalizePlotlyLibrary } from '../../scripts/notebooks/plotly-outputs';
import type { Notebook } from '../../scripts/notebooks/ipynb';
import { PLOTLY_LIBRARY_BEGIN, PLOTLY_MIME, figureBundle, heatmap, resetPlotlyInlining, type Figure } from '../../viz';
import { pngStats } from './helpers';
import { CHROMIUM_FLAGS } from '../../scripts/notebooks/png-export';

const chromium = findChromium();
const NO_CHROMIUM = 'no Chromium installed (apt-get install chromium, or set EINNET_CHROMIUM)';

describe('PNG export', () => {
  let renderer: PngRenderer | undefined;
  beforeAll(async () => {
    if (chromium !== undefined) renderer = await openPngRenderer(chromium);
  }, 60_000);
  afterAll(async () => {
    await renderer?.close();
  });

  it('renders a heatmap to a non-blank PNG of the layout size', async (ctx) => {
    if (renderer === undefined) ctx.skip(NO_CHROMIUM);
    const fig = heatmap(
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
      ],
      { title: 'nine cells' },
    );
    const stats = pngStats(await renderer!.render(fig));
    expect([stats.width, stats.height]).toEqual([fig.layout.width, fig.layout.height]);
    // The 3×3 heatmap alone covers well over a tenth of the picture, in many colours.
    expect(stats.foreground).toBeGreaterThan(0.1 * stats.width * stats.height);
    expect(stats.distinctColours).toBeGreaterThan(9);
  }, 60_000);

  it('a figure with no data renders as a near-blank picture (the check can fail)', async (ctx) => {
    if (renderer === undefined) ctx.skip(NO_CHROMIUM);
    const empty: Figure = { data: [], layout: { width: 300, height: 200, xaxis: { visible: false }, yaxis: { visible: false } } };
    const stats = pngStats(await renderer!.render(empty));
    expect(stats.foreground).toBeLessThan(0.01 * stats.width * stats.height);
  }, 60_000);

  it('adds image/png to every plot output of a notebook, and keeps one plotly.js copy', async (ctx) => {
    if (renderer === undefined) ctx.skip(NO_CHROMIUM);
    resetPlotlyInlining();
    const first = figureBundle(
      heatmap([
        [1, 2],
        [3, 4],
      ]),
      { includeLibrary: false },
    ); // as if its update dropped the library
    const second = figureBundle(
      heatmap([
        [4, 3],
        [2, 1],
      ]),
      { includeLibrary: true },
    );
    const nb: Notebook = {
      cells: [
        { cell_type: 'code', metadata: {}, source: 'a', outputs: [{ output_type: 'display_data', data: first, metadata: {} }] },
        { cell_type: 'code', metadata: {}, source: 'b', outputs: [{ output_type: 'display_data', data: second, metadata: {} }] },
      ],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5,
    };
    expect(normalizePlotlyLibrary(nb)).toBe(1);
    const htmlOf = (k: number) => String((nb.cells[k].outputs![0] as { data: Record<string, unknown> }).data['text/html']);
    expect(htmlOf(0).startsWith(PLOTLY_LIBRARY_BEGIN)).toBe(true);
    expect(htmlOf(1)).not.toContain(PLOTLY_LIBRARY_BEGIN);
    expect(await addPngs(nb, (f) => renderer!.render(f))).toBe(2);
    for (const cell of nb.cells) {
      const data = (cell.outputs![0] as { data: Record<string, unknown> }).data;
      expect(Object.keys(data).sort()).toEqual([PLOTLY_MIME, 'image/png', 'text/html', 'text/plain'].sort());
      expect(pngStats(Buffer.from(String(data['image/png']), 'base64')).foreground).toBeGreaterThan(1000);
    }
  }, 60_000);
});

describe('static HTML export', () => {
  it('draws every figure of a page where only the first figure carries plotly.js (gzipped), large figures gzipped too', async (ctx) => {
    if (chromium === undefined) ctx.skip(NO_CHROMIUM);
    resetPlotlyInlining();
    // What nbconvert does: the text/html outputs, in order, in one page.
    const html = [
      heatmap([
        [1, 2],
        [3, 4],
      ]),
      heatmap([
        [5, 6],
        [7, 8],
      ]),
      heatmap([[9]]),
      // Large enough to be embedded gzipped.
      heatmap(Array.from({ length: 60 }, (_, y) => Array.from({ length: 60 }, (_, x) => Math.sin(x * y) / 3))),
    ]
      .map((f) => String(figureBundle(f)['text/html']))
      .join('\n<p>between outputs</p>\n');
    const { chromium: pw } = await import('playwright-core');
    // Runs in the page; typed loosely because the project compiles without the DOM library.
    type Page = { querySelectorAll(s: string): ArrayLike<Page> & Iterable<Page> };
    const browser = await pw.launch({ executablePath: chromium, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage();
      await page.setContent(`<!doctype html><html><body>${html}</body></html>`);
      await page.waitForFunction(
        () => (globalThis as unknown as { document: Page }).document.querySelectorAll('.einnet-plotly-figure .main-svg').length >= 4,
        undefined,
        { timeout: 20_000 },
      );
      const drawn = await page.evaluate(() =>
        [...(globalThis as unknown as { document: Page }).document.querySelectorAll('.einnet-plotly-figure')].map(
          (d) => d.querySelectorAll('.heatmaplayer image, .hm image').length,
        ),
      );
      expect(drawn).toEqual([1, 1, 1, 1]);
      // plotly.js travels gzipped: the page is far smaller than the 4.8 MB library.
      expect(html.length).toBeLessThan(2.2e6);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
