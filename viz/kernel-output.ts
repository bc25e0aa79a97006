/**
 * The one place where einnet hands rich output to the notebook kernel.
 *
 * tslab's public `display` API sends one MIME type per message (`display.html(s)` is a whole
 * output by itself), but a plot must be ONE output carrying several formats so each frontend
 * picks the best it can render (JupyterLab/VS Code: plotly JSON; static HTML: text/html;
 * GitHub and terminals: image/png and text/plain). So this module calls tslab's message writer
 * (`lastWriteDisplayData` in `tslab/dist/jupyter.js`, set for every executed cell) with the full
 * bundle, exactly as tslab's own `display.raw` does for one type.
 *
 * tslab is never loaded from here: if no tslab kernel module is in the require cache, we are not
 * inside a kernel, and output falls back to printing `text/plain` (scripts, tests, a REPL).
 * Pinned to tslab 1.0.22, whose internals this relies on (see docs/notebooks.md).
 */

/** MIME type → content: strings for text formats, plain JSON for `application/*+json`, base64 for images. */
export type MimeBundle = Record<string, unknown>;

/** What a sink receives: the bundle, and the display id when the output can be updated later. */
export interface DisplayMessage {
  readonly data: MimeBundle;
  readonly displayId?: string;
  /** true: replace the earlier output that has `displayId` (Jupyter `update_display_data`). */
  readonly update: boolean;
}

/** Receives rich outputs instead of the kernel (used by tests and by non-tslab frontends). */
export type DisplaySink = (message: DisplayMessage) => void;

type TslabWriter = (content: { data: MimeBundle; metadata: object; transient: object }, update: boolean) => void;

let sink: DisplaySink | undefined;
let tslabJupyterModule: { lastWriteDisplayData: TslabWriter | null } | undefined;

/**
 * Redirects every rich output to `next` (or back to the kernel with `undefined`); returns the
 * previous sink so callers can restore it.
 *
 * @example
 *   const seen: DisplayMessage[] = [];
 *   const previous = setDisplaySink((m) => seen.push(m));
 *   show(heatmap([[1, 2], [3, 4]]));
 *   setDisplaySink(previous);
 */
export function setDisplaySink(next: DisplaySink | undefined): DisplaySink | undefined {
  const previous = sink;
  sink = next;
  return previous;
}

/**
 * Sends one output to the sink, to the running tslab kernel, or — outside a kernel — prints its
 * `text/plain` (updates are not printed there: a terminal cannot replace an earlier line).
 */
export function emitDisplay(message: DisplayMessage): void {
  if (sink !== undefined) {
    sink(message);
    return;
  }
  const writer = findTslabWriter();
  if (writer !== undefined) {
    writer({ data: message.data, metadata: {}, transient: message.displayId !== undefined ? { display_id: message.displayId } : {} }, message.update);
    return;
  }
  if (!message.update && typeof message.data['text/plain'] === 'string') console.log(message.data['text/plain']);
}

/** True when rich output goes somewhere that renders it (a kernel or a sink). */
export function richOutputAvailable(): boolean {
  return sink !== undefined || findTslabWriter() !== undefined;
}

/**
 * tslab's writer for the cell running now, if this process is a tslab kernel. Found in the
 * require cache rather than by `require('tslab')`, because the kernel that runs us may be a
 * tslab installed elsewhere (a global one), and loading tslab would pull in its TypeScript.
 */
function findTslabWriter(): TslabWriter | undefined {
  // A web page (the browser bundle) has no `require`, and no kernel.
  if (typeof require === 'undefined' || typeof require.cache !== 'object' || require.cache === null) return undefined;
  if (tslabJupyterModule === undefined) {
    for (const [file, mod] of Object.entries(require.cache)) {
      if (mod !== undefined && /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) {
        const exports = mod.exports as { lastWriteDisplayData?: unknown };
        if (exports !== null && typeof exports === 'object' && 'lastWriteDisplayData' in exports) {
          tslabJupyterModule = exports as { lastWriteDisplayData: TslabWriter | null };
          break;
        }
      }
    }
  }
  return tslabJupyterModule?.lastWriteDisplayData ?? undefined;
}
