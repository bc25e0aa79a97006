/**
 * Static export: plotly figures rendered to PNG by headless Chromium are the right size and not
 * blank (decoded, pixels counted), stored as palette PNGs; figures' HTML draws in a page with one
 * plotly.js copy (the cartesian bundle, or the full one where a figure needs it), binary and
 * colour-level arrays included. Skipped, with the reason, where no Chromium is installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, openPngRenderer, type PngRenderer } from '../../scripts/notebooks/png-export';
import { addPngs, normalizePlotlyLibrary } from '../../scripts/notebooks/plotly-outputs';
import type { Notebook } from '../../scripts/notebooks/ipynb';
import { PLOTLY_LIBRARY_BEGIN, PLOTLY_MIME, figureBundle, heatmap, resetPlotlyInlining, type Figure } from '../../viz';
import { CARTESIAN_TRACE_TYPES, plotlyLibraryPath } from '../../viz/plotly-html';
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
    const png = await renderer!.render(fig);
    expect(png[8 + 8 + 9]).toBe(3); // IHDR colour type: palette
    const stats = pngStats(png);
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
  it('the cartesian bundle draws every trace type einnet counts as cartesian, and the full bundle more', async (ctx) => {
    if (chromium === undefined) ctx.skip(NO_CHROMIUM);
    const { chromium: pw } = await import('playwright-core');
    const browser = await pw.launch({ executablePath: chromium, args: CHROMIUM_FLAGS });
    try {
      const types: Record<string, string[]> = {};
      for (const bundle of ['cartesian', 'full'] as const) {
        const page = await browser.newPage();
        await page.addScriptTag({ path: plotlyLibraryPath(bundle) });
        types[bundle] = await page.evaluate(() =>
          Object.keys((globalThis as unknown as { Plotly: { PlotSchema: { get(): { traces: object } } } }).Plotly.PlotSchema.get().traces),
        );
      }
      expect(types.cartesian.sort()).toEqual([...CARTESIAN_TRACE_TYPES].sort());
      expect(types.full).toEqual(expect.arrayContaining([...CARTESIAN_TRACE_TYPES, 'surface', 'scatterpolar']));
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('draws binary arrays, colour levels, an image and a figure that needs the full bundle after the cartesian one', async (ctx) => {
    if (chromium === undefined) ctx.skip(NO_CHROMIUM);
    resetPlotlyInlining();
    const wave = (n: number) => Array.from({ length: n }, (_, y) => Array.from({ length: n }, (_, x) => Math.sin(x / 5) * Math.cos(y / 7)));
    const figures: Figure[] = [
      heatmap(wave(40)), // float32
      heatmap(wave(200)), // 40,000 values: colour levels
      {
        data: [{ type: 'image', z: Array.from({ length: 40 }, (_, y) => Array.from({ length: 60 }, (_, x) => [4 * y, 4 * x, 128])) }],
        layout: { width: 300, height: 240 },
      },
      { data: [{ type: 'scatterpolar', r: [1, 2, 3], theta: [0, 90, 180] }], layout: { width: 300, height: 300 } },
    ];
    const bundles = figures.map((f) => figureBundle(f));
    expect(bundles.map((b) => String(b['text/html']).split(PLOTLY_LIBRARY_BEGIN).length - 1)).toEqual([1, 0, 0, 1]);
    expect(bundles.map((b) => ((b[PLOTLY_MIME] as Figure).data[0].z as { dtype?: string } | undefined)?.dtype)).toEqual(['f4', 'u1', 'u1', undefined]);
    const html = bundles.map((b) => String(b['text/html'])).join('\n<p>between outputs</p>\n');
    expect(await drawnPerFigure(html, '.hm image, .im image, .polar .scatterlayer .trace', 30_000)).toEqual([1, 1, 1, 1]);
  }, 60_000);

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
    expect(await drawnPerFigure(html, '.heatmaplayer image, .hm image', 20_000)).toEqual([1, 1, 1, 1]);
    // plotly.js travels gzipped: the page is far smaller than the 4.8 MB library.
    expect(html.length).toBeLessThan(2.2e6);
  }, 60_000);
});

/**
 * Opens `html` in Chromium, waits until its four figures are drawn, and counts per figure the
 * elements `selector` matches (the drawn traces).
 */
async function drawnPerFigure(html: string, selector: string, timeout: number): Promise<number[]> {
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
      { timeout },
    );
    return await page.evaluate(
      (sel) => [...(globalThis as unknown as { document: Page }).document.querySelectorAll('.einnet-plotly-figure')].map((d) => d.querySelectorAll(sel).length),
      selector,
    );
  } finally {
    await browser.close();
  }
}
