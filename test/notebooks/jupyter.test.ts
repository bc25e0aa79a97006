/**
 * The einnet kernel under real Jupyter: jupyter_client (Debian's Python) starts the kernel from
 * the spec `kernel:install` writes, into a temporary JUPYTER_DATA_DIR, and speaks the wire
 * protocol to it as JupyterLab does. The stop button (Jupyter's interrupt) stops a long `fit` at
 * its next batch within 3 s, and the model stays usable without leaked tensors; a failing cell
 * shows its real error (an EinError without stack frames); a cell's last einnet value shows
 * richly. Skipped, saying so, when no Python with jupyter_client and nbconvert is installed.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installKernel } from '../../scripts/notebooks/kernel-install';
import { ROOT, tempDir } from './helpers';

/** The first Python that can import jupyter_client and nbconvert: EINNET_PYTHON, python3, /usr/bin/python3. */
export function jupyterPython(): string | undefined {
  for (const candidate of [process.env.EINNET_PYTHON, 'python3', '/usr/bin/python3']) {
    if (candidate === undefined || candidate === '') continue;
    const r = spawnSync(candidate, ['-c', 'import jupyter_client, nbconvert'], { encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  return undefined;
}

export interface SessionStep {
  readonly code: string;
  /** Seconds after the step's first output at which Jupyter interrupts the kernel. */
  readonly interrupt_after_s?: number;
}

export interface StepResult {
  readonly status: string;
  readonly execution_count: number | null;
  readonly ename: string | null;
  readonly evalue: string | null;
  readonly traceback: string[] | null;
  readonly errors: { ename: string; evalue: string; traceback: string[] }[];
  readonly stream: string;
  readonly displays: { kind: string; data: Record<string, unknown> }[];
  readonly replied_after_interrupt_s: number | null;
}

/** Runs steps in one kernel session through test/notebooks/jupyter_session.py. */
export function jupyterSession(python: string, dataDir: string, steps: readonly SessionStep[]): Promise<StepResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(__dirname, 'jupyter_session.py')], { env: { ...process.env, JUPYTER_DATA_DIR: dataDir } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) reject(new Error(`jupyter_session.py failed (${status}):\n${err}`));
      else resolve(JSON.parse(out) as StepResult[]);
    });
    child.stdin.end(JSON.stringify({ cwd: path.join(ROOT, 'notebooks'), steps }));
  });
}

/** Runs a command without blocking vitest's worker (a long spawnSync starves its RPC); resolves with status and output. */
export function runAsync(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (e) => resolve({ status: null, output: output + String(e) }));
    child.on('close', (status) => resolve({ status, output }));
  });
}

/** Builds dist/ (the kernel and the library the notebooks import) and installs the kernel into `dataDir`. */
export async function buildAndInstallKernel(dataDir: string): Promise<void> {
  const tsc = await runAsync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
  if (tsc.status !== 0) throw new Error(`build failed:\n${tsc.output}`);
  installKernel({ env: { JUPYTER_DATA_DIR: dataDir } });
}

const python = jupyterPython();
let dataDir: string;

describe.skipIf(python === undefined)('the kernel under real Jupyter (skipped when no Python has jupyter_client and nbconvert)', () => {
  beforeAll(async () => {
    dataDir = tempDir('jupyter');
    await buildAndInstallKernel(dataDir);
  }, 300_000);
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('the stop button stops a long fit at its next batch within 3 s; the model stays usable and nothing leaks', async () => {
    const results = await jupyterSession(python!, dataDir, [
      {
        code: [
          "import * as tf from '@tensorflow/tfjs';",
          "import { Model, ein, fit, evaluate, sgd } from 'einnet';",
          'const model = new Model({ program: ein`H[b,j:64] = relu(W1[I,j] · X[b,I] + B1[j])\\nY[b,k:10] = W2[J,k] · H[b,J] + B2[k]`,',
          "  inputs: { X: [1, 256] }, output: 'Y' });",
          'const images = tf.randomNormal([4096, 256]);',
          'const labels = tf.oneHot(tf.randomUniform([4096], 0, 10, "int32"), 10).toFloat();',
          'const optimizer = sgd({ learningRate: 0.01 });',
          'await fit(model, { images, labels }, { epochs: 1, optimizer, batchSize: 32, maxBatchesPerEpoch: 2 });',
          'const tensorsBefore = tf.memory().numTensors;',
          'tensorsBefore > 0',
        ].join('\n'),
      },
      {
        code: "console.log('fitting');\nconst history = await fit(model, { images, labels }, { epochs: 200, optimizer, batchSize: 32 });\nhistory.epochs.length",
        interrupt_after_s: 2,
      },
      { code: 'console.log(JSON.stringify({ leaked: tf.memory().numTensors - tensorsBefore, epochs: history.epochs.length }));' },
      {
        code: 'const ev = await evaluate(model, { images, labels });\nconsole.log(JSON.stringify({ finite: Number.isFinite(ev.loss), leaked: tf.memory().numTensors - tensorsBefore }));',
      },
    ]);
    const [setup, stopped, after, usable] = results;
    expect(setup.status, JSON.stringify(setup)).toBe('ok');
    expect(stopped.status, JSON.stringify(stopped)).toBe('ok');
    expect(stopped.replied_after_interrupt_s).not.toBeNull();
    expect(stopped.replied_after_interrupt_s!).toBeLessThan(3);
    expect(after.status).toBe('ok');
    const state = JSON.parse(after.stream) as { leaked: number; epochs: number };
    expect(state.leaked).toBe(0);
    expect(state.epochs).toBeLessThan(200);
    expect(JSON.parse(usable.stream)).toEqual({ finite: true, leaked: 0 });
  }, 300_000);

  it('a failing cell shows its real error: an EinError with code, message and caret, no stack frames; others keep their stack', async () => {
    const results = await jupyterSession(python!, dataDir, [
      { code: "import { ein } from 'einnet';\nconst p = ein`Y[i] = X[i] +`;" },
      { code: "function deep(): never { throw new RangeError('plain failure'); }\ndeep();" },
      { code: '1 + 1' },
    ]);
    const [einError, plain, fine] = results;
    expect(einError.status).toBe('error');
    expect(einError.ename).toBe('EinError');
    expect(einError.evalue).toMatch(/^EIN1\d{3}: 1:\d+: /);
    expect(einError.evalue).toContain('^');
    expect(einError.traceback!.join('\n')).not.toMatch(/^\s+at /m);
    expect(einError.errors).toHaveLength(1); // the same error, published for the cell's output
    expect(einError.errors[0].ename).toBe('EinError');
    expect(plain.ename).toBe('RangeError');
    expect(plain.evalue).toBe('plain failure');
    expect(plain.traceback!.join('\n')).toMatch(/^\s+at deep /m);
    expect(plain.traceback!.join('\n')).not.toMatch(/node_modules[\\/]tslab/);
    expect(results.map((r) => r.execution_count)).toEqual([1, 2, 3]);
    expect(fine.stream).toBe('2\n');
  }, 300_000);

  it("a cell's last value shows richly: a tensor as a table of its values", async () => {
    const [cell] = await jupyterSession(python!, dataDir, [{ code: "import * as tf from '@tensorflow/tfjs';\ntf.tensor2d([[1, 2], [3, 4]])" }]);
    expect(cell.status).toBe('ok');
    expect(cell.displays).toHaveLength(1);
    expect(String(cell.displays[0].data['text/html'])).toContain('<caption>float32 tensor, shape [2, 2]</caption>');
    expect(cell.stream).not.toMatch(/^Tensor$/m); // not printed as plain text
  }, 300_000);
});
