/**
 * The exported LeNet-5 trained by its train.py on MNIST (2 epochs × 50 steps, global batch 32):
 * - `torchrun --nproc_per_node=2` with gloo: both processes hold identical weights after every
 *   step, and the loss curve equals a single-process run with the same global batch;
 * - the epoch's learning rate follows the exported schedule;
 * - the checkpoint imported into einnet gives the test accuracy and loss train.py logged.
 * And a network with batch norm and dropout on CIFAR-10-format files of random pixels: its
 * running statistics, averaged over the processes, stay identical too, and einnet's evaluation of
 * the imported checkpoint (running statistics in use) gives train.py's logged test loss.
 * Two torchrun runs and one plain Python run, side by side.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython } from '../../../core/python';
import { mnistDataDir } from '../../../datasets/sources';
import { loadMnist } from '../../../datasets/mnist';
import { openCifar10 } from '../../../datasets/cifar';
import { seededRandom } from '../../../core/random';
import { NetBuilder } from '../../../models/builder';
import { batchNorm, conv, dense, dropout, globalAvgPool } from '../../../models/blocks';
import { lenet5 } from '../../../models/architectures';
import { sgd } from '../../../models/optimizers';
import { linear } from '../../../models/schedules';
import { evaluate } from '../../../models/train';
import { exportPyTorch, importPyTorch } from '../../../models/export/pytorch';

const python = findTorchPython();
const root = mkdtempSync(join(tmpdir(), 'einnet-torch-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STEPS_PER_EPOCH = 50;
const BATCH = 32;
const TEST = 1000;

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    // A process group of its own, so that a timeout ends torchrun's workers too, not only torchrun.
    const child = spawn(command, args, { cwd, detached: true, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += '\n[killed after 300 s]';
      process.kill(-child.pid!, 'SIGKILL');
    }, 300_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A TCP port no one listens on now (for a rendezvous of its own: --standalone's fixed port would join concurrent runs). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

type LogLine = Record<string, number | string | null>;

function readLog(path: string): LogLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** A conv, batch norm, dropout and dense network for 32×32×3 images, 10 classes. */
function bnNet(seed: number) {
  const net = new NetBuilder({ X: [1, 32, 32, 3] });
  let h = net.add('c1', conv({ out: 4, stride: 2 }), net.input('X'));
  h = net.add('bn', batchNorm({ activation: 'relu' }), h);
  h = net.add('drop', dropout(0.25), h);
  h = net.add('g', globalAvgPool(), h);
  net.add('fc', dense({ out: 10 }), h);
  return net.build({ seed });
}

/** CIFAR-10 binary files of random pixels (records: label byte, 3,072 pixel bytes). */
function writeRandomCifar(dir: string, recordsPerFile: number): void {
  mkdirSync(dir, { recursive: true });
  const random = seededRandom(3);
  const names = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat('test_batch.bin');
  for (const name of names) {
    const bytes = new Uint8Array(recordsPerFile * 3073);
    for (let k = 0; k < bytes.length; k++) bytes[k] = k % 3073 === 0 ? Math.floor(random.next() * 10) : Math.floor(random.next() * 256);
    writeFileSync(join(dir, name), bytes);
  }
}

describe.skipIf(python === undefined)('train.py of the exported LeNet-5 (needs a Python with torch; skipped without)', () => {
  const pkg = join(root, 'lenet');
  let ddp: LogLine[] = [];
  let single: LogLine[] = [];
  const bnPkg = join(root, 'bn');
  const cifar = join(root, 'cifar');
  let bn: LogLine[] = [];

  async function exportBnNet(): Promise<void> {
    writeRandomCifar(cifar, 16);
    const model = bnNet(1);
    try {
      await exportPyTorch(model, bnPkg, { dataset: 'cifar-10', optimizer: sgd({ learningRate: 0.1, momentum: 0.9 }) });
    } finally {
      model.dispose();
    }
  }

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const model = lenet5({ seed: 4 });
    const optimizer = sgd({ learningRate: 0.05, momentum: 0.9 });
    try {
      await exportPyTorch(model, pkg, { optimizer, schedules: { learningRate: linear(0.05, 0.02, 2) }, epochs: 2, batchSize: BATCH, dataDir: mnistDataDir() });
    } finally {
      model.dispose();
      optimizer.dispose();
    }
    const flags = ['--limit', String(STEPS_PER_EPOCH * BATCH), '--test-limit', String(TEST), '--log-every', '1'];
    // torchrun's module, one node with a rendezvous of its own; --redirects/--tee work around torch 1.13's torchrun on
    // Python 3.11 (its default of no redirection fails there).
    const torchrun = async (logs: string) => [
      '-m',
      'torch.distributed.run',
      '--nnodes=1',
      '--nproc_per_node=2',
      '--rdzv_backend=c10d',
      `--rdzv_endpoint=127.0.0.1:${await freePort()}`,
      '--redirects',
      '2',
      '--tee',
      '1',
      '--log_dir',
      join(root, logs),
    ];
    await exportBnNet();
    const bnFlags = ['--epochs', '2', '--batch-size', '16', '--augment', '--log-every', '1', '--verify-replicas', '--data', cifar];
    const [a, b, c] = await Promise.all([
      run(python!, [...(await torchrun('torchrun')), join(pkg, 'train.py'), ...flags, '--verify-replicas'], root),
      run(python!, [join(pkg, 'train.py'), ...flags, '--out', join(root, 'single')], root),
      run(python!, [...(await torchrun('torchrun-bn')), join(bnPkg, 'train.py'), ...bnFlags], root),
    ]);
    if (a.code !== 0) throw new Error(`torchrun failed (${a.code}):\n${a.output}`);
    if (b.code !== 0) throw new Error(`train.py failed (${b.code}):\n${b.output}`);
    if (c.code !== 0) throw new Error(`torchrun (batch norm) failed (${c.code}):\n${c.output}`);
    bn = readLog(join(bnPkg, 'checkpoints', 'log.jsonl'));
    ddp = readLog(join(pkg, 'checkpoints', 'log.jsonl'));
    single = readLog(join(root, 'single', 'log.jsonl'));
  }, 600_000);

  it('two gloo processes hold identical weights after every step', () => {
    const steps = ddp.filter((l) => l.event === 'step');
    expect(steps).toHaveLength(2 * STEPS_PER_EPOCH);
    expect(ddp.find((l) => l.event === 'start')).toMatchObject({ world_size: 2, backend: 'gloo' });
    for (const s of steps) expect(s.replica_max_diff).toBe(0);
  });

  it('the loss curve equals a single-process run with the same global batch', () => {
    const a = ddp.filter((l) => l.event === 'step').map((l) => l.loss as number);
    const b = single.filter((l) => l.event === 'step').map((l) => l.loss as number);
    expect(b).toHaveLength(a.length);
    const worst = Math.max(...a.map((v, k) => Math.abs(v - b[k])));
    expect(worst).toBeLessThan(1e-4);
    // It trained: the last steps' loss is well below the first (ln 10 ≈ 2.3 at the start).
    expect(a.slice(-10).reduce((s, v) => s + v, 0) / 10).toBeLessThan(a[0] / 2);
  });

  it('each epoch uses the exported schedule and writes a checkpoint', () => {
    const epochs = ddp.filter((l) => l.event === 'epoch');
    expect(epochs.map((e) => e.lr)).toEqual([0.05, 0.02]);
    expect(epochs.map((e) => e.checkpoint)).toEqual(['epoch-0001', 'epoch-0002']);
  });

  it("importPyTorch: einnet's test accuracy of the imported weights is the one train.py logged", async () => {
    const logged = ddp.filter((l) => l.event === 'epoch').pop()!;
    const model = lenet5({ seed: 99 });
    const test = loadMnist({ split: 'test', limit: TEST });
    try {
      const report = importPyTorch(model, pkg);
      expect(report.checkpoint).toBe(join(pkg, 'checkpoints', 'epoch-0002'));
      expect(report.metadata).toMatchObject({ epoch: 2, step: 2 * STEPS_PER_EPOCH, test_accuracy: logged.test_accuracy });
      const ours = await evaluate(model, test);
      expect(Math.abs(ours.accuracy! - (logged.test_accuracy as number))).toBeLessThanOrEqual(1 / TEST);
      expect(Math.abs(ours.loss - (logged.test_loss as number))).toBeLessThan(1e-4);
      expect(ours.accuracy!).toBeGreaterThan(0.7);
      expect(importPyTorch(model, pkg, { epoch: 1 }).metadata).toMatchObject({ epoch: 1 });
    } finally {
      model.dispose();
      tf.dispose([test.images, test.labels]);
    }
  });

  it('with batch norm and dropout: parameters and running statistics identical in both processes after every step', () => {
    const steps = bn.filter((l) => l.event === 'step');
    expect(steps).toHaveLength(2 * (80 / 16));
    for (const s of steps) expect(s.replica_max_diff).toBe(0);
  });

  it("with batch norm: einnet's evaluation of the imported checkpoint gives train.py's test loss and accuracy", async () => {
    const logged = bn.filter((l) => l.event === 'epoch').pop()!;
    const model = bnNet(7);
    try {
      importPyTorch(model, bnPkg);
      expect(Array.from(model.stats.get('bn.σ')!.dataSync()).some((v) => v !== 1)).toBe(true);
      const ours = await evaluate(model, openCifar10({ split: 'test', path: cifar }));
      expect(ours.count).toBe(16);
      expect(Math.abs(ours.loss - (logged.test_loss as number))).toBeLessThan(1e-4);
      expect(ours.accuracy).toBeCloseTo(logged.test_accuracy as number, 6);
    } finally {
      model.dispose();
    }
  });
});
