/**
 * The `text/html` form of a figure: a div and a script that draws it with plotly.js.
 *
 * plotly.js (the minified plotly.js-dist-min bundle, 4.8 MB; 2 MB gzipped and base64-encoded) is
 * inlined ONCE per kernel session: the first figure's HTML carries the library between marker
 * comments, later figures only reference `window.Plotly` (waiting for it briefly). The page
 * unpacks it with the browser's DecompressionStream (Chrome 80, Firefox 113, Safari 16.4). A
 * figure whose JSON is large is embedded gzipped in the same way. The headless runner re-checks the saved
 * notebook so that exactly its first plot output carries the library (live plots that were
 * updated in place lose it), which keeps an exported HTML page self-contained without repeating
 * megabytes per plot.
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

let librarySource: string | undefined;
let libraryPacked: string | undefined;

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
let libraryInlined = false;

/** The plotly.js bundle's source text, read once from node_modules. */
export function plotlyLibrarySource(): string {
  if (librarySource === undefined) {
    librarySource = fs.readFileSync(plotlyLibraryPath(), 'utf8');
  }
  return librarySource;
}

/** Absolute path of the minified plotly.js bundle (for browsers that load it from disk). */
export function plotlyLibraryPath(): string {
  return require.resolve('plotly.js-dist-min');
}

/**
 * The library as an HTML block between the marker comments. An AMD loader on the page
 * (RequireJS in the classic notebook and nbconvert pages) would capture plotly's UMD export, so
 * `define` is hidden while the library runs.
 */
export function plotlyLibraryHtml(): string {
  libraryPacked ??= pack(plotlyLibrarySource());
  const load = [
    '(function () {',
    `  ${unpackExpression(libraryPacked)}.then(function (source) {`,
    '    var saved = window.define;',
    '    window.define = undefined;',
    "    var script = document.createElement('script');",
    '    script.text = source;',
    '    document.head.appendChild(script);',
    '    window.define = saved;',
    '  });',
    '})();',
  ].join('\n');
  return [PLOTLY_LIBRARY_BEGIN, `<script type="text/javascript">\n${load}\n</script>`, PLOTLY_LIBRARY_END].join('\n');
}

/** Whether the next figure must carry the library: true only for the session's first one. */
export function takeLibraryInlining(): boolean {
  const first = !libraryInlined;
  libraryInlined = true;
  return first;
}

/** Forgets that the library was sent, so the next figure carries it again (after clearing outputs). */
export function resetPlotlyInlining(): void {
  libraryInlined = false;
}

/**
 * HTML that draws `figure` with plotly.js; with `includeLibrary`, the library comes first.
 * JSON is embedded with `<` escaped, so no figure text can close the script tag.
 */
export function figureHtml(figure: Figure, includeLibrary: boolean): string {
  const id = `einnet-figure-${randomBytes(6).toString('hex')}`;
  const json = JSON.stringify({ data: figure.data, layout: figure.layout, config: figure.config ?? {} })
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  const height = typeof figure.layout.height === 'number' ? figure.layout.height : 450;
  const figureExpression = json.length > PACK_FIGURES_OVER ? `${unpackExpression(pack(json))}.then(JSON.parse)` : `Promise.resolve(${json})`;
  const script = `<script type="text/javascript">
(function () {
  var id = '${id}';
  ${figureExpression}.then(function (figure) {
  function draw() { window.Plotly.newPlot(id, figure.data, figure.layout, figure.config); }
  if (window.Plotly) { draw(); return; }
  var tries = 0;
  var timer = setInterval(function () {
    if (window.Plotly) { clearInterval(timer); draw(); }
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
  return (includeLibrary ? plotlyLibraryHtml() + '\n' : '') + div + '\n' + script;
}
