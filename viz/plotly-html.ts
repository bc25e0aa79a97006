/**
 * The `text/html` form of a figure: a div and a script that draws it with plotly.js.
 *
 * plotly.js is inlined ONCE per kernel session: the first figure's HTML carries the library
 * between marker comments, later figures only reference `window.Plotly` (waiting for it briefly).
 * The library is the smallest plotly.js bundle that draws the figures: the cartesian bundle
 * (plotly.js-cartesian-dist-min: scatter, bar, heatmap, image, box, violin, histograms, contour,
 * pie; 1.5 MB, 0.67 MB gzipped and base64-encoded) when every trace is one of its types, else the
 * full bundle (plotly.js-dist-min, 4.8 MB; 2 MB packed). A figure that needs the full bundle after
 * the cartesian one was sent carries the full one itself. The page unpacks the library with the
 * browser's DecompressionStream (Chrome 80, Firefox 113, Safari 16.4). A figure whose JSON is
 * large is embedded gzipped in the same way. The headless runner re-checks the saved notebook so
 * that exactly its first plot output carries the library (live plots that were updated in place
 * lose it), which keeps an exported HTML page self-contained without repeating megabytes per plot.
 */
import * as fs from 'fs';
import { randomBytes } from 'crypto';
import { gzipSync } from 'zlib';
import type { Figure } from './figure';

/** Marks the inlined library so tools (the notebook runner) can find, drop or move it. */
export const PLOTLY_LIBRARY_BEGIN = '<!-- einnet:plotly.js begin -->';
export const PLOTLY_LIBRARY_END = '<!-- einnet:plotly.js end -->';
/** Every figure div carries this class, so tools can tell plot outputs from other HTML. */
export const FIGURE_DIV_CLASS = 'einnet-plotly-figure';

/** Which plotly.js bundle a page loads: 'cartesian' (plotly.js-cartesian-dist-min) or 'full' (plotly.js-dist-min). */
export type PlotlyBundle = 'cartesian' | 'full';

/** The trace types the cartesian bundle draws (test/notebooks/display.test.ts checks them against the bundle). */
export const CARTESIAN_TRACE_TYPES: ReadonlySet<string> = new Set([
  'bar',
  'box',
  'contour',
  'heatmap',
  'histogram',
  'histogram2d',
  'histogram2dcontour',
  'image',
  'pie',
  'scatter',
  'scatterternary',
  'violin',
]);

const BUNDLE_PACKAGE: Record<PlotlyBundle, string> = { cartesian: 'plotly.js-cartesian-dist-min', full: 'plotly.js-dist-min' };
const librarySource = new Map<PlotlyBundle, string>();
const libraryPacked = new Map<PlotlyBundle, string>();

/** Figure JSON longer than this is embedded gzipped. */
export const PACK_FIGURES_OVER = 16_384;

/** A script expression: a promise of the text packed (gzip, base64) in `base64`. */
function unpackExpression(base64: string): string {
  return (
    `new Response(new Blob([Uint8Array.from(atob('${base64}'), function (c) { return c.charCodeAt(0); })])` +
    `.stream().pipeThrough(new DecompressionStream('gzip'))).text()`
  );
}

function pack(text: string): string {
  return gzipSync(Buffer.from(text, 'utf8'), { level: 9 }).toString('base64');
}

/** The bundle the session's pages have been sent so far (undefined: none yet). */
let libraryInlined: PlotlyBundle | undefined;

/** The smallest bundle that draws every trace of `figures`: 'cartesian' unless one needs the full bundle. */
export function plotlyBundleFor(figures: readonly Figure[]): PlotlyBundle {
  for (const figure of figures) {
    for (const trace of figure.data) if (!CARTESIAN_TRACE_TYPES.has(trace.type ?? 'scatter')) return 'full';
  }
  return 'cartesian';
}

/** A bundle's source text, read once from node_modules. */
export function plotlyLibrarySource(bundle: PlotlyBundle = 'full'): string {
  let source = librarySource.get(bundle);
  if (source === undefined) {
    source = fs.readFileSync(plotlyLibraryPath(bundle), 'utf8');
    librarySource.set(bundle, source);
  }
  return source;
}

/** Absolute path of a minified plotly.js bundle (for browsers that load it from disk); the full one by default. */
export function plotlyLibraryPath(bundle: PlotlyBundle = 'full'): string {
  return require.resolve(BUNDLE_PACKAGE[bundle]);
}

/**
 * The library as an HTML block between the marker comments. An AMD loader on the page
 * (RequireJS in the classic notebook and nbconvert pages) would capture plotly's UMD export, so
 * `define` is hidden while the library runs. The page records which bundle it loaded in
 * `window.einnetPlotlyBundle`; a cartesian block leaves an already loaded full bundle in place.
 */
export function plotlyLibraryHtml(bundle: PlotlyBundle = 'full'): string {
  let packed = libraryPacked.get(bundle);
  if (packed === undefined) {
    packed = pack(plotlyLibrarySource(bundle));
    libraryPacked.set(bundle, packed);
  }
  const load = [
    '(function () {',
    `  ${unpackExpression(packed)}.then(function (source) {`,
    bundle === 'cartesian' ? "    if (window.Plotly && window.einnetPlotlyBundle === 'full') return;" : '',
    '    var saved = window.define;',
    '    window.define = undefined;',
    "    var script = document.createElement('script');",
    '    script.text = source;',
    '    document.head.appendChild(script);',
    '    window.define = saved;',
    `    window.einnetPlotlyBundle = '${bundle}';`,
    '  });',
    '})();',
  ]
    .filter((line) => line !== '')
    .join('\n');
  return [PLOTLY_LIBRARY_BEGIN, `<script type="text/javascript">\n${load}\n</script>`, PLOTLY_LIBRARY_END].join('\n');
}

/**
 * Whether `figure` must carry the library: true for the session's first figure, and for a figure
 * that needs the full bundle when only the cartesian one was sent.
 */
export function takeLibraryInlining(figure: Figure): boolean {
  const need = plotlyBundleFor([figure]);
  if (libraryInlined === undefined || (need === 'full' && libraryInlined === 'cartesian')) {
    libraryInlined = need;
    return true;
  }
  return false;
}

/** Forgets that the library was sent, so the next figure carries it again (after clearing outputs). */
export function resetPlotlyInlining(): void {
  libraryInlined = undefined;
}

/**
 * HTML that draws `figure` with plotly.js; with `includeLibrary`, the library (the bundle the
 * figure needs) comes first. JSON is embedded with `<` escaped, so no figure text can close the
 * script tag. A figure that needs the full bundle waits until the page has it.
 */
export function figureHtml(figure: Figure, includeLibrary: boolean): string {
  const id = `einnet-figure-${randomBytes(6).toString('hex')}`;
  const json = JSON.stringify({ data: figure.data, layout: figure.layout, config: figure.config ?? {} })
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  const height = typeof figure.layout.height === 'number' ? figure.layout.height : 450;
  const figureExpression = json.length > PACK_FIGURES_OVER ? `${unpackExpression(pack(json))}.then(JSON.parse)` : `Promise.resolve(${json})`;
  const bundle = plotlyBundleFor([figure]);
  const ready = bundle === 'full' ? "window.Plotly && window.einnetPlotlyBundle !== 'cartesian'" : 'window.Plotly';
  const script = `<script type="text/javascript">
(function () {
  var id = '${id}';
  ${figureExpression}.then(function (figure) {
  function draw() { window.Plotly.newPlot(id, figure.data, figure.layout, figure.config); }
  function ready() { return ${ready}; }
  if (ready()) { draw(); return; }
  var tries = 0;
  var timer = setInterval(function () {
    if (ready()) { clearInterval(timer); draw(); }
    else if (++tries > 100) {
      clearInterval(timer);
      var div = document.getElementById(id);
      if (div) div.textContent = 'plotly.js is not loaded on this page: run the notebook from the top (its first plot carries the library).';
    }
  }, 100);
  });
})();
</script>`;
  const div = `<div id="${id}" class="${FIGURE_DIV_CLASS}" style="width:100%;min-height:${height}px"></div>`;
  return (includeLibrary ? plotlyLibraryHtml(bundle) + '\n' : '') + div + '\n' + script;
}
