/**
 * The notebooks under real Jupyter, as a user runs them: `jupyter nbconvert --execute` with the
 * installed einnet kernel executes every notebook (CI size, one nbconvert call), then exports the
 * executed copies to HTML. Each executed copy has every code cell run with its execution count
 * and no error; it stands alone: at most 3 MB, every plot carries a PNG (where Chromium is
 * found), and its HTML page carries plotly.js once and draws every plot (checked in Chromium).
 * Skipped, saying so, when no Python has jupyter_client and nbconvert.
 * EINNET_NOTEBOOKS=00-setup-check,05-grouping runs only those (a quick local check).
 */
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNotebook, type Notebook } from '../../scripts/notebooks/ipynb';
import { CHROMIUM_FLAGS, findChromium } from '../../scripts/notebooks/png-export';
import { PLOTLY_MIME } from '../../viz/display';
import { FIGURE_DIV_CLASS, PLOTLY_LIBRARY_BEGIN } from '../../viz/plotly-html';
import { ROOT, tempDir } from './helpers';
import { buildAndInstallKernel, jupyterPython, runAsync } from './jupyter-python';

/** Size limit of an executed notebook, outputs included. */
const MAX_BYTES = 3 * 1024 * 1024;
const only = process.env.EINNET_NOTEBOOKS?.split(',').filter((s) => s !== '');
const NOTEBOOKS = fs
  .readdirSync(path.join(ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb') && (only === undefined || only.some((o) => f.startsWith(o))))
  .sort();
const python = jupyterPython();
const chromium = findChromium();
let dataDir: string;
let out: string;
let execution: { status: number | null; output: string };

/** The executed copy nbconvert wrote for `name` (it may add `.nbconvert` before the extension). */
function executedCopy(name: string, ext: string): string {
  const base = name.replace(/\.ipynb$/, '');
  const found = fs.readdirSync(out).find((f) => f === `${base}${ext}` || f === `${base}.nbconvert${ext}`);
  if (found === undefined) throw new Error(`no executed ${ext} of ${name}; nbconvert said:\n${execution.output.slice(-4000)}`);
  return path.join(out, found);
}

function plotOutputCount(nb: Notebook): number {
  return nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => 'data' in o && o.data[PLOTLY_MIME] !== undefined).length;
}

describe.skipIf(python === undefined)('the notebooks under real Jupyter (skipped when no Python has jupyter_client and nbconvert)', () => {
  beforeAll(async () => {
    dataDir = tempDir('jupyter');
    out = tempDir('nbconvert');
    await buildAndInstallKernel(dataDir);
    const env = { JUPYTER_DATA_DIR: dataDir, EINNET_FULL: '0' };
    const notebooks = NOTEBOOKS.map((n) => path.join(ROOT, 'notebooks', n));
    execution = await runAsync(
      python!,
      ['-m', 'nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=1800', '--output-dir', out, ...notebooks],
      env,
    );
    const executed = fs.readdirSync(out).filter((f) => f.endsWith('.ipynb'));
    if (executed.length > 0) {
      const html = await runAsync(python!, ['-m', 'nbconvert', '--to', 'html', '--output-dir', out, ...executed.map((f) => path.join(out, f))], env);
      if (html.status !== 0) throw new Error(`nbconvert --to html failed:\n${html.output}`);
    }
  }, 60 * 60_000);
  afterAll(() => {
    for (const d of [dataDir, out]) if (d !== undefined) fs.rmSync(d, { recursive: true, force: true });
  });

  it('nbconvert executes every notebook without error', () => {
    if (execution.status !== 0) throw new Error(`nbconvert --execute failed (status ${execution.status}):\n${execution.output.slice(-8000)}`);
  });

  it.each(NOTEBOOKS)('%s: every code cell ran, with its execution count, and no error output', (name) => {
    const nb = readNotebook(executedCopy(name, '.ipynb'));
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    expect(code.map((c) => c.execution_count)).toEqual(code.map((_, i) => i + 1));
    expect(code.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'error')).toEqual([]);
  });

  it.each(NOTEBOOKS)('%s: stands alone: at most 3 MB, a PNG on every plot where Chromium is found, plotly.js once', (name) => {
    const file = executedCopy(name, '.ipynb');
    expect(fs.statSync(file).size, `${name} is ${(fs.statSync(file).size / 1e6).toFixed(1)} MB`).toBeLessThanOrEqual(MAX_BYTES);
    const nb = readNotebook(file);
    const plots = nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => 'data' in o && o.data[PLOTLY_MIME] !== undefined);
    if (chromium !== undefined) for (const p of plots) expect('data' in p && typeof p.data['image/png'] === 'string').toBe(true);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.split(PLOTLY_LIBRARY_BEGIN).length - 1).toBe(plots.length > 0 ? 1 : 0);
  });

  it.each(NOTEBOOKS)(
    '%s: its HTML export draws every plot (in Chromium, offline; skipped without Chromium)',
    async (name) => {
      if (chromium === undefined) return;
      const nb = readNotebook(executedCopy(name, '.ipynb'));
      const expected = plotOutputCount(nb);
      const html = fs.readFileSync(executedCopy(name, '.html'), 'utf8');
      expect(html.split(`class="${FIGURE_DIV_CLASS}"`).length - 1).toBe(expected);
      if (expected === 0) return;
      const { chromium: pw } = await import('playwright-core');
      type Node = { querySelectorAll(s: string): ArrayLike<Node> & Iterable<Node> };
      const browser = await pw.launch({ executablePath: chromium, args: CHROMIUM_FLAGS });
      try {
        const page = await browser.newPage();
        // Stand alone: nothing may come from the network (nbconvert's page links MathJax and RequireJS; plots must not need them).
        await page.route(/^https?:/, (route) => route.abort());
        await page.goto(`file://${executedCopy(name, '.html')}`);
        const drawn = (n: number) => (globalThis as unknown as { document: Node }).document.querySelectorAll('.einnet-plotly-figure .main-svg').length >= n;
        await page.waitForFunction(drawn, expected, { timeout: 60_000 });
        const perFigure = await page.evaluate(() =>
          [...(globalThis as unknown as { document: Node }).document.querySelectorAll('.einnet-plotly-figure')].map(
            (d) => d.querySelectorAll('.main-svg').length,
          ),
        );
        expect(perFigure.filter((k) => k === 0)).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    120_000,
  );
});
