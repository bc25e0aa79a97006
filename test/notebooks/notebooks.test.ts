/**
 * Every notebook in notebooks/ runs clean at CI size through `npm run notebooks` (the README's
 * one test command covers them: notebooks added later are picked up automatically), its
 * executed copy has outputs and a non-blank PNG for each plot, and the sources follow the
 * conventions (size variable on top, imports from 'einnet', no outputs committed).
 * Then the real kernel: started from the spec `kernel:install` writes, spoken to over the
 * Jupyter wire protocol, it shows einnet's figures as one multi-format output and updates
 * live plots in place.
 * EINNET_NOTEBOOKS=02-convolution,03-pooling runs only those (a quick local check).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasErrorOutputs, readNotebook, sourceText } from '../../scripts/notebooks/ipynb';
import { kernelSpec } from '../../scripts/notebooks/kernel-install';
import { findChromium } from '../../scripts/notebooks/png-export';
import { PLOTLY_LIBRARY_BEGIN } from '../../viz/plotly-html';
import { ROOT, pngStats, tempDir } from './helpers';
import { KernelClient } from './jupyter-client';

const PLOTLY = 'application/vnd.plotly.v1+json';
/** An executed notebook stands alone (plotly.js inlined once) and stays under this size. */
const MAX_EXECUTED_BYTES = 3 * 1024 * 1024;
const only = process.env.EINNET_NOTEBOOKS?.split(',').filter((s) => s !== '');
const NOTEBOOKS = fs
  .readdirSync(path.join(ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb') && (only === undefined || only.some((o) => f.startsWith(o))))
  .sort();
const chromium = findChromium();
let out: string;
let run: { status: number | null; output: string };

beforeAll(async () => {
  out = tempDir('notebooks');
  const args = ['run', 'notebooks', '--', '--out', out, ...(chromium !== undefined ? ['--require-png'] : [])];
  if (only !== undefined) args.push(...NOTEBOOKS.map((n) => path.join('notebooks', n)));
  // Asynchronous on purpose: running every notebook takes minutes, and a blocking spawnSync would
  // starve vitest's worker RPC ("Timeout calling onTaskUpdate"), failing the run.
  run = await new Promise((resolve) => {
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: ROOT, timeout: 30 * 60_000 });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.on('error', (err) => resolve({ status: null, output: `${output}${String(err)}` }));
    child.on('close', (status) => resolve({ status, output }));
  });
}, 31 * 60_000);

afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe('the notebooks', () => {
  it('all run clean at CI size', () => {
    expect(NOTEBOOKS.length).toBeGreaterThan(0);
    // On failure the runner's report (notebook, cell, real error) is the assertion message.
    if (run.status !== 0) throw new Error(`npm run notebooks failed (status ${run.status}):\n${run.output}`);
    expect(run.output).toContain(`notebooks: ${NOTEBOOKS.length} ran clean, 0 failed`);
  });

  it.each(NOTEBOOKS)('%s: executed copy has every code cell run, no errors, and a non-blank PNG per plot', (name) => {
    const executed = path.join(out, name);
    if (!fs.existsSync(executed)) throw new Error(`${name} has no executed copy: the run failed (see the first test)`);
    const nb = readNotebook(executed);
    expect(hasErrorOutputs(nb)).toBe(false);
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    expect(code.map((c) => c.execution_count)).toEqual(code.map((_, i) => i + 1));
    for (const cell of code) {
      for (const o of cell.outputs ?? []) {
        if (o.output_type !== 'display_data' || o.data[PLOTLY] === undefined) continue;
        expect(o.data['text/html']).toBeTypeOf('string');
        expect(o.data['text/plain']).toBeTypeOf('string');
        if (chromium === undefined) continue;
        const png = pngStats(Buffer.from(String(o.data['image/png']), 'base64'));
        expect(png.foreground, `a plot in ${name} rendered blank`).toBeGreaterThan(0.02 * png.width * png.height);
      }
    }
  });

  it.each(NOTEBOOKS)('%s: executed copy is at most 3 MB and carries plotly.js at most once', (name) => {
    const executed = path.join(out, name);
    if (!fs.existsSync(executed)) throw new Error(`${name} has no executed copy: the run failed (see the first test)`);
    const text = fs.readFileSync(executed, 'utf8');
    expect(fs.statSync(executed).size, `${name} executed copy size in bytes`).toBeLessThanOrEqual(MAX_EXECUTED_BYTES);
    expect(text.split(PLOTLY_LIBRARY_BEGIN).length - 1, `copies of plotly.js in ${name}`).toBeLessThanOrEqual(1);
  });

  it.each(NOTEBOOKS)('%s: source follows the conventions', (name) => {
    const nb = readNotebook(path.join(ROOT, 'notebooks', name));
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    // One variable at the top selects CI size or full size.
    expect(sourceText(code[0])).toMatch(/const FULL = process\.env\.EINNET_FULL === '1'/);
    for (const cell of code) {
      const src = sourceText(cell);
      // Imports as a user writes them: from 'einnet', never relative paths into the sources.
      expect(src).not.toMatch(/from\s+['"]\.\.?\//);
      expect(src).not.toMatch(/require\(\s*['"]\.\.?\//);
      // Sources are committed without outputs; executed copies go to notebooks/.executed/.
      expect(cell.outputs ?? []).toEqual([]);
      expect(cell.execution_count ?? null).toBeNull();
    }
  });
});

describe('the Jupyter kernel (wire protocol, no Jupyter needed)', () => {
  const kernel = new KernelClient();
  beforeAll(async () => {
    const spec = kernelSpec();
    await kernel.start(spec.argv as string[], path.join(ROOT, 'notebooks'));
    const info = await kernel.request('kernel_info_request', {});
    expect(info.content.implementation).toBe('tslab');
  }, 120_000);
  afterAll(() => kernel.stop());

  it('shows an einnet figure as one output carrying plotly JSON, HTML and text', async () => {
    const { reply, published } = await kernel.execute("import { show, heatmap } from 'einnet';\nshow(heatmap([[1, 2], [3, 4]], { title: 'k' }));");
    expect(reply.content.status).toBe('ok');
    const displays = published.filter((m) => m.header.msg_type === 'display_data');
    expect(displays).toHaveLength(1);
    const data = displays[0].content.data!;
    expect(Object.keys(data).sort()).toEqual([PLOTLY, 'text/html', 'text/plain'].sort());
    expect((data[PLOTLY] as { data: { z: number[][] }[] }).data[0].z).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(String(data['text/html'])).toContain('einnet:plotly.js begin');
  }, 60_000);

  it('updates live training curves in place (update_display_data with one display id)', async () => {
    const { reply, published } = await kernel.execute(
      "import { lossCurves } from 'einnet';\nconst c = lossCurves({ throttleMs: 0 });\nc.onEpochEnd(0, { loss: 1 });\nc.onEpochEnd(1, { loss: 0.5 });",
    );
    expect(reply.content.status).toBe('ok');
    const kinds = published.filter((m) => m.header.msg_type.endsWith('display_data'));
    // One display, then its updates: one per epoch, and at the end of the cell the one that adds
    // the static PNG where Chromium exists.
    const types = kinds.map((m) => m.header.msg_type);
    expect(types[0]).toBe('display_data');
    expect(types.slice(1).length).toBeGreaterThanOrEqual(1);
    expect(types.slice(1).every((t) => t === 'update_display_data')).toBe(true);
    expect(new Set(kinds.map((m) => m.content.transient?.display_id)).size).toBe(1);
    const last = kinds[kinds.length - 1].content.data![PLOTLY] as { data: { y: number[] }[] };
    expect(last.data[0].y).toEqual([1, 0.5]);
  }, 60_000);

  it('reports a failing cell as an error reply', async () => {
    const { reply } = await kernel.execute("throw new Error('deliberate');");
    expect(reply.content.status).toBe('error');
  }, 60_000);
});
