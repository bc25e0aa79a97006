/**
 * `npm run notebooks`: executes every notebook top to bottom, headless (tslab's executor; no
 * Jupyter, no Python), and writes executed copies with outputs and PNGs of all plots.
 *
 *   npm run notebooks                          all notebooks/*.ipynb at CI size
 *   npm run notebooks -- --full                full size (sets EINNET_FULL=1 for the notebooks)
 *   npm run notebooks -- notebooks/02-*.ipynb  some notebooks
 *   options: --out DIR (default notebooks/.executed), --no-png, --require-png, --timeout SECONDS
 *            (per notebook, default 900), --jobs N (notebooks at once, default 1)
 *
 * Each notebook runs in its own process (a fresh kernel) whose working folder is the notebook's
 * folder. A cell error, TypeScript error, unhandled rejection or uncaught exception fails the
 * notebook: the runner names the notebook and cell and prints the real error, and writes no
 * copy of it, so a saved notebook never holds error outputs. Sources stay output-free in git;
 * executed copies are written atomically (temporary file + rename).
 * Exit status: 0 all passed, 1 a notebook failed, 2 bad usage.
 */
import { fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { EinError } from '../../core/diagnostics';
import { readNotebook, sourceText, writeNotebookAtomic, hasErrorOutputs, type Notebook } from './ipynb';
import { addPngs, normalizePlotlyLibrary, plotOutputs } from './plotly-outputs';
import { findChromium, openPngRenderer, type PngRenderer } from './png-export';
import type { CellFailure, RunRequest, WorkerMessage } from './protocol';

const ROOT = path.resolve(__dirname, '..', '..');

/** A path for messages: relative to the working folder when inside it, else absolute. */
function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

export interface RunnerOptions {
  readonly notebooks: string[];
  readonly outDir: string;
  readonly full: boolean;
  readonly png: 'auto' | 'off' | 'require';
  readonly timeoutSeconds: number;
  readonly jobs: number;
}

/** Parses the command line. @throws EinError EIN6009 for unknown or malformed options. */
export function parseArguments(argv: readonly string[], cwd = process.cwd()): RunnerOptions {
  const notebooks: string[] = [];
  let outDir = path.join(ROOT, 'notebooks', '.executed');
  let full = process.env.EINNET_FULL === '1';
  let png: RunnerOptions['png'] = 'auto';
  let timeoutSeconds = 900;
  let jobs = 1;
  const number = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n <= 0) {
      throw new EinError({ code: 'EIN6009', message: `${flag} needs a positive number, got ${v ?? 'nothing'}`, hint: `e.g. ${flag} 2` });
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--full') full = true;
    else if (a === '--no-png') png = 'off';
    else if (a === '--require-png') png = 'require';
    else if (a === '--out') outDir = path.resolve(cwd, argv[++i] ?? '');
    else if (a === '--timeout') timeoutSeconds = number(a, argv[++i]);
    else if (a === '--jobs') jobs = Math.floor(number(a, argv[++i]));
    else if (a.startsWith('-')) {
      throw new EinError({
        code: 'EIN6009',
        message: `unknown option ${a}`,
        expected: '--full, --out DIR, --no-png, --require-png, --timeout SECONDS, --jobs N, or notebook paths',
      });
    } else notebooks.push(path.resolve(cwd, a));
  }
  if (notebooks.length === 0) {
    const dir = path.join(ROOT, 'notebooks');
    if (fs.existsSync(dir)) {
      for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.ipynb')) notebooks.push(path.join(dir, f));
    }
  }
  for (const nb of notebooks) {
    if (!fs.existsSync(nb)) throw new EinError({ code: 'EIN6009', message: `no notebook at ${nb}` });
  }
  return { notebooks, outDir, full, png, timeoutSeconds, jobs };
}

/** What happened to one notebook. */
export interface NotebookResult {
  readonly file: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly plots: number;
  readonly written?: string;
  /** Human-readable report of the failure (notebook, cell, real error). */
  readonly report?: string;
}

/** Executes one notebook in a fresh process; returns the executed notebook or the failure. */
export function executeNotebook(
  file: string,
  options: Pick<RunnerOptions, 'full' | 'timeoutSeconds'>,
): Promise<{ notebook: Notebook; failure?: CellFailure & { timedOut?: boolean } }> {
  const notebook = readNotebook(file);
  const cells = notebook.cells.flatMap((c, index) => (c.cell_type === 'code' ? [{ index, source: sourceText(c) }] : []));
  const env = { ...process.env, EINNET_NOTEBOOK_RUNNER: '1', ...(options.full ? { EINNET_FULL: '1' } : {}) };
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'worker.ts'), [], {
      cwd: path.dirname(file),
      env,
      // The worker is TypeScript: run it through tsx, found from this project.
      execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let running = -1;
    let settled = false;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.on('data', () => undefined);
    const finish = (
      failure?: CellFailure & { timedOut?: boolean },
      outputs?: Record<number, Notebook['cells'][number]['outputs']>,
      counts?: Record<number, number>,
    ) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      for (const [index, outs] of Object.entries(outputs ?? {})) notebook.cells[Number(index)].outputs = outs;
      for (const [index, n] of Object.entries(counts ?? {})) notebook.cells[Number(index)].execution_count = n;
      resolve({ notebook, failure });
    };
    const timer = setTimeout(() => {
      finish({
        index: running,
        kind: 'runtime',
        message: `EIN6006: the notebook did not finish within ${options.timeoutSeconds} s (still running this cell); raise --timeout or make the CI size smaller`,
        frames: [],
        timedOut: true,
      });
    }, options.timeoutSeconds * 1000);
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'cell-start') running = m.index;
      else if (m.type === 'done') finish(m.failure, m.outputs, m.executionCounts);
    });
    child.on('error', (e) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(e);
      }
    });
    child.on('exit', (code, signal) => {
      finish({
        index: running,
        kind: 'runtime',
        message: `the notebook process ended (${signal ?? `exit code ${code}`}) before the notebook finished${stderr.trim() ? `:\n${stderr.trim().split('\n').slice(-8).join('\n')}` : ''}`,
        frames: [],
      });
    });
    const request: RunRequest = { type: 'run', cells };
    child.send(request);
  });
}

/** The report for a failed cell: where (file, cell numbers, the source line) and the real error. */
export function formatFailure(file: string, nb: Notebook, failure: CellFailure): string {
  const rel = shown(file);
  if (failure.index < 0) return `✗ ${rel}: ${failure.message}`;
  const codeNumber = nb.cells.slice(0, failure.index + 1).filter((c) => c.cell_type === 'code').length;
  const source = sourceText(nb.cells[failure.index]).split('\n');
  const lineMatch = /line (\d+), column/.exec(failure.message);
  const lineIndexes = lineMatch
    ? [Number(lineMatch[1]) - 1]
    : source
        .map((_, i) => i)
        .filter((i) => source[i].trim() !== '')
        .slice(0, 3);
  const excerpt = lineIndexes
    .filter((i) => i >= 0 && i < source.length)
    .map((i) => `      ${String(i + 1).padStart(3)} | ${source[i]}`)
    .join('\n');
  const what = failure.kind === 'typescript' ? 'TypeScript error' : failure.kind === 'rejection' ? 'unhandled rejection' : 'error';
  const error = new EinError({ code: 'EIN6002', message: `${rel}, cell ${failure.index + 1} (code cell ${codeNumber}): ${what}` });
  return [`✗ ${error.message}`, excerpt, ...failure.message.split('\n').map((l) => `    ${l}`), ...failure.frames.map((f) => `      ${f}`)]
    .filter((l) => l !== '')
    .join('\n');
}

/** Runs the notebooks, exports PNGs, writes executed copies; prints progress and failures. */
export async function runNotebooks(options: RunnerOptions, log: (line: string) => void = console.log): Promise<NotebookResult[]> {
  log(
    `notebooks: ${options.notebooks.length} to run at ${options.full ? 'FULL' : 'CI'} size (EINNET_FULL=${options.full ? '1' : '0'}) → ${shown(options.outDir)}`,
  );
  let renderer: Promise<PngRenderer> | undefined;
  const chromium = findChromium();
  if (options.png === 'require' && chromium === undefined) await openPngRenderer(undefined); // throws EIN6008
  if (options.png === 'auto' && chromium === undefined) {
    log('  PNG export skipped: no Chromium found (apt-get install chromium, or set EINNET_CHROMIUM)');
  }
  const results: NotebookResult[] = new Array(options.notebooks.length);
  let next = 0;
  const runOne = async (k: number) => {
    const file = options.notebooks[k];
    const started = Date.now();
    let result: NotebookResult;
    try {
      const { notebook, failure } = await executeNotebook(file, options);
      if (failure !== undefined) {
        result = { file, ok: false, seconds: (Date.now() - started) / 1000, plots: 0, report: formatFailure(file, notebook, failure) };
      } else {
        normalizePlotlyLibrary(notebook);
        const plots = plotOutputs(notebook).length;
        if (plots > 0 && options.png !== 'off' && chromium !== undefined) {
          renderer ??= openPngRenderer(chromium);
          const r = await renderer;
          await addPngs(notebook, (fig) => r.render(fig));
        }
        if (hasErrorOutputs(notebook)) throw new Error('internal: an executed notebook holds error outputs');
        const target = path.join(options.outDir, path.basename(file));
        writeNotebookAtomic(target, notebook);
        result = { file, ok: true, seconds: (Date.now() - started) / 1000, plots, written: target };
      }
    } catch (e) {
      const message = e instanceof EinError ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
      result = { file, ok: false, seconds: (Date.now() - started) / 1000, plots: 0, report: `✗ ${shown(file)}: ${message}` };
    }
    results[k] = result;
    if (result.ok) {
      log(`✓ ${shown(file)}  ${result.seconds.toFixed(1)} s, ${result.plots} plot${result.plots === 1 ? '' : 's'}`);
    } else log(result.report!);
  };
  const workers = Array.from({ length: Math.min(options.jobs, options.notebooks.length) }, async () => {
    while (next < options.notebooks.length) await runOne(next++);
  });
  try {
    await Promise.all(workers);
  } finally {
    if (renderer !== undefined) await (await renderer.catch(() => undefined))?.close();
  }
  const failed = results.filter((r) => !r.ok).length;
  log(`notebooks: ${results.length - failed} ran clean, ${failed} failed`);
  return results;
}

async function main(): Promise<void> {
  let options: RunnerOptions;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (e) {
    console.error(e instanceof EinError ? e.message : String(e));
    process.exit(2);
  }
  try {
    const results = await runNotebooks(options);
    process.exitCode = results.every((r) => r.ok) ? 0 : 1;
  } catch (e) {
    console.error(e instanceof EinError ? e.message : String(e));
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
