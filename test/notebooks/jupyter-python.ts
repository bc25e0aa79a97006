/** Real Jupyter from the tests: finding a Python that has it, building and installing the kernel, a kernel session. */
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { installKernel } from '../../scripts/notebooks/kernel-install';
import { ROOT } from './helpers';

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
