/**
 * Figures to files, for scripts: `saveHtml` writes a page that stands alone (plotly.js inside,
 * gzipped; opens offline in any current browser), `savePng` a PNG drawn by plotly.js in headless
 * Chromium. Both write a temporary file and rename it, so a file is never half-written.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EinError } from '../core/diagnostics';
import { checkFigure } from './display';
import type { Figure } from './figure';
import { figureHtml } from './plotly-html';
import { findChromium, openPngRenderer } from './png-render';

function writeAtomic(file: string, content: string | Buffer, what: string): void {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new EinError({
      code: 'EIN6010',
      message: `cannot write the ${what} ${file}: ${(e as Error).message}`,
      hint: 'choose a folder that exists and you can write',
    });
  }
}

/**
 * Writes `figure` as an HTML page that draws it with no network access.
 *
 * @example
 *   saveHtml(curves.figure(), 'loss.html');
 * @throws EinError EIN6003 for something that is not a figure; EIN6010 when the file cannot be written.
 */
export function saveHtml(figure: Figure, file: string): void {
  checkFigure(figure);
  const title = typeof figure.layout.title === 'object' && figure.layout.title !== null ? String((figure.layout.title as { text?: unknown }).text ?? '') : '';
  const head = `<head><meta charset="utf-8"><title>${title.replace(/</g, '&lt;')}</title></head>`;
  const page = `<!doctype html>\n<html>${head}\n<body>\n${figureHtml(figure, true)}\n</body></html>\n`;
  writeAtomic(file, page, 'HTML page');
}

/**
 * Writes `figure` as a PNG, drawn by plotly.js in headless Chromium (EINNET_CHROMIUM or the usual
 * install paths).
 *
 * @example
 *   await savePng(curves.figure(), 'loss.png');
 * @throws EinError EIN6008 when no Chromium is found or it does not start; EIN6003 for something
 *   that is not a figure; EIN6010 when the file cannot be written.
 */
export async function savePng(figure: Figure, file: string): Promise<void> {
  checkFigure(figure);
  const renderer = await openPngRenderer(findChromium());
  try {
    writeAtomic(file, await renderer.render(figure), 'PNG');
  } finally {
    await renderer.close();
  }
}
