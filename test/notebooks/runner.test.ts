/**
 * The headless runner: a failing cell is reported with the notebook, the cell number and the
 * REAL error (runtime, TypeScript, unhandled rejection, timeout), nothing is written for a
 * failed notebook, and a clean notebook is saved with its outputs (display updates applied).
 * Uses temporary notebooks with deliberate mistakes; no einnet build needed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasErrorOutputs, readNotebook } from '../../scripts/notebooks/ipynb';
import { runScript, tempDir, writeNotebook } from './helpers';

const RUNNER = 'scripts/notebooks/run.ts';
let dir: string;
let out: string;
let run: { status: number | null; output: string };

beforeAll(() => {
  dir = tempDir('runner');
  out = path.join(dir, 'executed');
  writeNotebook(path.join(dir, 'bad-runtime.ipynb'), [
    'md:# a lesson',
    'function f(): number {\n  throw new TypeError("deliberate failure in f");\n}',
    'const before = 1;\nf();',
    'console.log("never runs");',
  ]);
  writeNotebook(path.join(dir, 'bad-types.ipynb'), ['const ok = 1;', 'const y: number = "a";']);
  writeNotebook(path.join(dir, 'bad-rejection.ipynb'), ['Promise.reject(new Error("nobody awaits me"));', '1 + 1']);
  writeNotebook(path.join(dir, 'good.ipynb'), [
    'md:# fine',
    'import * as tslab from "tslab";\nconsole.log("hello", 1 + 1);\ntslab.display.html("<b>bold</b>");',
    'const d = tslab.newDisplay();\nd.text("first");\nd.text("second");',
    'await new Promise((r) => setTimeout(r, 20));\nprocess.env.EINNET_FULL === "1" ? "full" : "ci"',
  ]);
  run = runScript(RUNNER, [
    dir + '/bad-runtime.ipynb',
    dir + '/bad-types.ipynb',
    dir + '/bad-rejection.ipynb',
    dir + '/good.ipynb',
    '--out',
    out,
    '--no-png',
    '--jobs',
    '2',
  ]);
}, 120_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a failing notebook', () => {
  it('makes the run fail', () => {
    expect(run.status).toBe(1);
    expect(run.output).toContain('notebooks: 1 ran clean, 3 failed');
  });

  it('reports a thrown error with notebook, cell and the real message', () => {
    expect(run.output).toContain('EIN6002: ' + path.join(dir, 'bad-runtime.ipynb') + ', cell 3 (code cell 2): error');
    expect(run.output).toContain('TypeError: deliberate failure in f');
    expect(run.output).toMatch(/2 \| f\(\);/); // the failing cell's source
    expect(run.output).not.toContain('<Error>');
  });

  it('reports a TypeScript error with its line and column in the cell', () => {
    expect(run.output).toContain('bad-types.ipynb, cell 2 (code cell 2): TypeScript error');
    expect(run.output).toContain("TypeScript error at line 1, column 7: Type 'string' is not assignable to type 'number'.");
  });

  it('reports an unhandled promise rejection', () => {
    expect(run.output).toContain('bad-rejection.ipynb, cell 1 (code cell 1): unhandled rejection');
    expect(run.output).toContain('unhandled promise rejection: Error: nobody awaits me');
  });

  it('writes no executed copy of a failed notebook', () => {
    expect(fs.existsSync(path.join(out, 'bad-runtime.ipynb'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'bad-types.ipynb'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'bad-rejection.ipynb'))).toBe(false);
  });
});

describe('a clean notebook', () => {
  it('is saved with its outputs: streams, display data, in-place updates, last values', () => {
    const nb = readNotebook(path.join(out, 'good.ipynb'));
    expect(hasErrorOutputs(nb)).toBe(false);
    expect(nb.cells.map((c) => c.execution_count ?? null)).toEqual([null, 1, 2, 3]);
    expect(nb.cells[1].outputs).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'hello 2\n' },
      { output_type: 'display_data', data: { 'text/html': '<b>bold</b>' }, metadata: {} },
    ]);
    // newDisplay().text twice: one output, replaced by the update.
    expect(nb.cells[2].outputs).toEqual([{ output_type: 'display_data', data: { 'text/plain': 'second' }, metadata: {} }]);
    expect(nb.cells[3].outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'ci\n' }]);
    // Sources are untouched, markdown keeps no outputs.
    expect(nb.cells[0]).toEqual({ cell_type: 'markdown', metadata: {}, source: '# fine' });
    // No temporary files are left beside it.
    expect(fs.readdirSync(out)).toEqual(['good.ipynb']);
  });
});

describe('bad input to the runner', () => {
  it('names a notebook that is not JSON', () => {
    const file = path.join(dir, 'broken.ipynb');
    fs.writeFileSync(file, '{"cells": [');
    const r = runScript(RUNNER, [file, '--out', out, '--no-png']);
    expect(r.status).toBe(1);
    expect(r.output).toContain(`EIN6001: ${file} is not valid JSON`);
  });

  it('rejects an unknown option with exit status 2', () => {
    const r = runScript(RUNNER, ['--fast']);
    expect(r.status).toBe(2);
    expect(r.output).toContain('EIN6009: unknown option --fast');
  });

  it('stops a notebook that hangs, naming the cell', () => {
    const file = path.join(dir, 'hang.ipynb');
    writeNotebook(file, ['const a = 1;', 'await new Promise(() => {});']);
    const r = runScript(RUNNER, [file, '--out', out, '--no-png', '--timeout', '8']);
    expect(r.status).toBe(1);
    expect(r.output).toContain('hang.ipynb, cell 2 (code cell 2)');
    expect(r.output).toContain('EIN6006: the notebook did not finish within 8 s');
  }, 60_000);
});
