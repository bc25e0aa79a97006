/**
 * exportPyTorch: every small architecture exported and run by PyTorch alone (check_packages.py,
 * one Python process for all of them): the parameter count, the state_dict names, and the outputs
 * in evaluation and training mode (same dropout masks) and the running statistics after a
 * training step equal einnet's on the cpu backend. The 224×224 networks (AlexNet, VGG-16,
 * ResNet-50) take minutes and up to half a gigabyte of weights: they run with EINNET_FULL=1, on
 * einnet's native backend where its addon is built (tfjs' cpu kernels take many minutes a pass
 * at that size, blocking the test worker meanwhile).
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython } from '../../../core/python';
import { Model } from '../../../models/model';
import { NetBuilder } from '../../../models/builder';
import { batchNorm, conv, dense, dropout, globalAvgPool, maxPool } from '../../../models/blocks';
import { alexnet, densenetBC, lenet5, resnet50, resnetCifar, vgg16 } from '../../../models/architectures';
import { exportPyTorch } from '../../../models/export/pytorch';
import { findAddon, registerNativeBackend } from '../../../backends/native';

const python = findTorchPython();
const FULL = process.env.EINNET_FULL === '1';
/** The backend of the 224×224 networks: native where built, else cpu. */
const FULL_BACKEND = FULL && findAddon() !== undefined ? 'einnet-native' : 'cpu';
if (FULL_BACKEND !== 'cpu') registerNativeBackend();
const root = mkdtempSync(join(tmpdir(), 'einnet-torch-export-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A small network with every kind of state: batch norm (running statistics), dropout, dense layers. */
function smallNet(): Model {
  const net = new NetBuilder({ X: [1, 12, 12, 3] });
  let h = net.add('c1', conv({ out: 6, activation: 'relu' }), net.input('X'));
  h = net.add('bn', batchNorm({ activation: 'relu', momentum: 0.8 }), h);
  h = net.add('pool', maxPool(), h);
  h = net.add('drop1', dropout(0.3), h);
  h = net.add('g', globalAvgPool(), h);
  h = net.add('fc1', dense({ out: 8, activation: 'tanh' }), h);
  h = net.add('drop2', dropout(0.5), h);
  net.add('fc2', dense({ out: 4 }), h);
  return net.build({ seed: 5 });
}

interface Case {
  readonly name: string;
  readonly make: () => Model;
  readonly full?: boolean;
}

const CASES: Case[] = [
  { name: 'small net with batch norm and dropout', make: smallNet },
  { name: 'LeNet-5', make: () => lenet5({ seed: 1 }) },
  { name: 'LeNet-5 (32×32, relu, max pooling)', make: () => lenet5({ seed: 2, size: 32, activation: 'relu', pooling: 'max' }) },
  { name: 'ResNet-20', make: () => resnetCifar({ depth: 20, seed: 1 }) },
  { name: 'DenseNet-BC-22 (k = 4)', make: () => densenetBC({ depth: 22, growth: 4, seed: 1 }) },
  { name: 'AlexNet', make: () => alexnet({ seed: 1 }), full: true },
  { name: 'VGG-16', make: () => vgg16({ seed: 1 }), full: true },
  { name: 'ResNet-50', make: () => resnet50({ seed: 1 }), full: true },
];

const BATCH = 3;

interface Prepared {
  readonly name: string;
  readonly dir: string;
  readonly parameterCount: number;
  readonly names: string[];
  readonly eval: Float32Array;
  readonly train: Float32Array;
  readonly stats: Float32Array;
}

function writeFloats(path: string, data: ArrayLike<number>): void {
  writeFileSync(path, Buffer.from(Float32Array.from(data).buffer));
}

function readFloats(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** Exports `c`, runs einnet on a batch of 3 in both modes, and writes the job for Python. */
async function prepare(c: Case, k: number): Promise<{ prepared: Prepared; job: unknown }> {
  await tf.setBackend(c.full ? FULL_BACKEND : 'cpu');
  const model = c.make();
  const dir = join(root, `case${k}`);
  const out = join(dir, 'check');
  try {
    const input = model.inputNames[0];
    const shape = model.inputShapes[input].map((d, a) => (a === 0 ? BATCH : d));
    await exportPyTorch(model, join(dir, 'package'));
    mkdirSync(out, { recursive: true });
    const x = tf.randomNormal(shape, 0, 1, 'float32', 7 + k);
    const masks: Record<string, tf.Tensor> = {};
    const maskShapes = model.check({ [input]: shape }).shapes;
    let s = 11 + k;
    for (const [name, rate] of model.dropoutRates) {
      masks[name] = tf.tidy(() =>
        tf
          .randomUniform([...maskShapes[name]], 0, 1, 'float32', s++)
          .greaterEqual(rate)
          .cast('float32')
          .div(1 - rate),
      );
    }
    const evalOut = model.apply({ [input]: x });
    const bindings: Record<string, tf.Tensor> = { [input]: x, ...masks };
    for (const [name, v] of model.params) bindings[name] = v;
    const trainOuts = model.trainProgram.run(bindings);
    model.updateRunningStats(trainOuts);
    const stats = Float32Array.from([...model.stats.values()].flatMap((v) => Array.from(v.dataSync())));
    writeFloats(join(out, 'input.bin'), x.dataSync());
    const maskJobs: Record<string, unknown> = {};
    for (const [name, m] of Object.entries(masks)) {
      writeFloats(join(out, `${name}.bin`), m.dataSync());
      maskJobs[name] = { file: join(out, `${name}.bin`), shape: m.shape };
    }
    const prepared: Prepared = {
      name: c.name,
      dir: out,
      parameterCount: model.parameterCount,
      names: [...model.params.keys(), ...model.stats.keys()],
      eval: Float32Array.from(evalOut.dataSync()),
      train: Float32Array.from(trainOuts[model.output].dataSync()),
      stats,
    };
    tf.dispose([x, evalOut, ...Object.values(masks), ...Object.values(trainOuts)]);
    return { prepared, job: { package: join(dir, 'package'), input: join(out, 'input.bin'), inputShape: shape, masks: maskJobs, out } };
  } finally {
    model.dispose();
  }
}

/** Runs the Python with torch on `args` without blocking the test worker; kills it after `timeout` ms. */
function runPython(args: string[], timeout: number): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(python!, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

/** Largest |a − b| relative to the largest |b| (at least 1). */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1;
  for (let k = 0; k < b.length; k++) {
    diff = Math.max(diff, Math.abs(a[k] - b[k]));
    scale = Math.max(scale, Math.abs(b[k]));
  }
  return diff / scale;
}

describe.skipIf(python === undefined)('exportPyTorch: the architectures in PyTorch (needs a Python with torch; skipped without)', () => {
  const cases = CASES.filter((c) => FULL || !c.full);
  const prepared: Prepared[] = [];

  beforeAll(
    async () => {
      const jobs: unknown[] = [];
      for (const [k, c] of cases.entries()) {
        const p = await prepare(c, k);
        prepared.push(p.prepared);
        jobs.push(p.job);
        // The kernels run synchronously: let the worker answer the test runner between networks.
        await new Promise((resolve) => setImmediate(resolve));
      }
      await tf.setBackend('cpu');
      writeFileSync(join(root, 'jobs.json'), JSON.stringify(jobs));
      const run = await runPython([join(__dirname, 'check_packages.py'), join(root, 'jobs.json')], FULL ? 1_800_000 : 600_000);
      if (run.status !== 0) throw new Error(`check_packages.py failed (${run.status}):\n${run.stderr}`);
    },
    FULL ? 3_600_000 : 900_000,
  );

  for (const [k, c] of cases.entries()) {
    it(`${c.name}: parameter count, names, and outputs in evaluation and training mode equal einnet's`, () => {
      const p = prepared[k];
      const result = JSON.parse(readFileSync(join(p.dir, 'result.json'), 'utf8'));
      expect(result.parameterCount).toBe(p.parameterCount);
      expect([...result.stateDictKeys].sort()).toEqual([...p.names].sort());
      expect(relativeDifference(readFloats(join(p.dir, 'eval.bin')), p.eval)).toBeLessThan(1e-4);
      expect(relativeDifference(readFloats(join(p.dir, 'train.bin')), p.train)).toBeLessThan(1e-4);
      expect(relativeDifference(readFloats(join(p.dir, 'stats.bin')), p.stats)).toBeLessThan(1e-4);
    });
  }
});
