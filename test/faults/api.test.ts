/**
 * Faults of the public API, one `it` per fault: unknown options, tensors left behind when an
 * error is thrown, tensor names that are JavaScript prototype members, bad values for the
 * reference evaluator, schedule ends, the notebook runner's late exceptions, ResNet's counts.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { EinError } from '../../core/diagnostics';
import { ein } from '../../dsl/program';
import { Model } from '../../models/model';
import { NetBuilder } from '../../models/builder';
import { batchNorm, conv, dense } from '../../models/blocks';
import { adam, sgd } from '../../models/optimizers';
import { evaluate, fit, trainStep } from '../../models/train';
import { constant, cosine, linear, stepDecay } from '../../models/schedules';
import { describeModel } from '../../models/model';
import { summary } from '../../models/summary';
import { resnetBasic, convBn, globalAvgPool } from '../../models/blocks';
import { lenet5, resnetCifarSpec } from '../../models/architectures';
import { loadCheckpoint, saveCheckpoint } from '../../models/checkpoint';
import { runScript, tempDir, writeNotebook } from '../notebooks/helpers';
import {
  augmentBatch,
  decodeImage,
  fetchDataset,
  loadMnist,
  openCifar10,
  openMnist,
  openMnistAsCifar,
  readIdxImageSet,
  trainValidationSplit,
} from '../../datasets';
import { activationGrid, heatmap, lossCurves, occlusionMap, receptiveFieldFigure, tableBundle } from '../../viz';

/** Runs `f` and returns the EinError it throws; anything else (or nothing) fails the test. */
function failure(f: () => unknown): EinError {
  try {
    f();
  } catch (e) {
    if (e instanceof EinError) return e;
    throw new Error(`expected an EinError, got ${String(e)}\n${(e as Error).stack}`);
  }
  throw new Error('expected an EinError, but nothing was thrown');
}

async function failureAsync(f: () => Promise<unknown>): Promise<EinError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof EinError) return e;
    throw new Error(`expected an EinError, got ${String(e)}\n${(e as Error).stack}`);
  }
  throw new Error('expected an EinError, but nothing was thrown');
}

/** Expects `f` to throw an EinError with `code` whose message contains every fragment. */
function expectEinError(f: () => unknown, code: string, ...fragments: string[]): EinError {
  const e = failure(f);
  expect(e.code).toBe(code);
  for (const s of fragments) expect(e.message).toContain(s);
  return e;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('unknown options are EIN3006 with a suggestion', () => {
  const p = ein('Y[i] = X[i] * 2');
  it('check, explain, backward and evaluateReference reject a misspelled consts', () => {
    expectEinError(() => p.check({ X: [3] }, { const: {} } as never), 'EIN3006', "check: unknown option 'const'", "did you mean 'consts'?");
    expectEinError(() => p.explain({ X: [3] }, { cnsts: {} } as never), 'EIN3006', "explain: unknown option 'cnsts'", "did you mean 'consts'?");
    expectEinError(() => p.backward({ X: [3] }, { consts: {}, x: 1 } as never), 'EIN3006', "backward: unknown option 'x'");
    expectEinError(() => p.evaluateReference({ X: [1, 2] }, { constz: {} } as never), 'EIN3006', "evaluateReference: unknown option 'constz'");
  });
  it('run(b, null) is EIN3006, not a TypeError', () => {
    const X = tf.ones([3]);
    expectEinError(() => p.run({ X }, null as never), 'EIN3006', 'run: the options are null');
    X.dispose();
  });
  it('run with a NaN or negative tolerance is EIN3020, before anything runs', () => {
    const X = tf.ones([3]);
    const before = tf.memory().numTensors;
    expectEinError(() => p.run({ X }, { validate: true, tolerance: NaN }), 'EIN3020', 'tolerance is NaN');
    expectEinError(() => p.run({ X }, { validate: true, tolerance: -1 }), 'EIN3020', 'tolerance is -1');
    expectEinError(() => p.run({ X }, { validate: 'yes' as never }), 'EIN3020', 'validate is yes');
    expect(tf.memory().numTensors).toBe(before);
    X.dispose();
  });
  it('run with outputs that the program does not assign, or none, is EIN3020, before anything runs', () => {
    const X = tf.ones([3]);
    const before = tf.memory().numTensors;
    expectEinError(() => p.run({ X }, { outputs: ['Z'] }), 'EIN3020', 'outputs names Z, which the program does not assign', 'names among Y');
    expectEinError(() => p.run({ X }, { outputs: [] }), 'EIN3020', 'outputs is []');
    expectEinError(() => p.run({ X }, { outputs: 'Y' as never }), 'EIN3020', 'outputs is "Y"');
    expect(tf.memory().numTensors).toBe(before);
    X.dispose();
  });
  it('a const without a value is EIN2015 and a NaN const is EIN2023, not "missing binding"', () => {
    const q = ein('const n\nY[i] = X[i] * n');
    const X = tf.ones([3]);
    expectEinError(() => q.run({ X }), 'EIN2015', 'const n has no value');
    expectEinError(() => q.run({ X }, { consts: { n: NaN } }), 'EIN2023', 'const n is given NaN');
    expect(q.run({ X }, { consts: { n: 2 } }).Y.dataSync()).toEqual(new Float32Array([2, 2, 2]));
    X.dispose();
  });
  it('dataset openers and loaders: openMnist({ limt: 3 }) is EIN3006 suggesting limit', () => {
    expectEinError(() => openMnist({ limt: 3 } as never), 'EIN3006', "openMnist: unknown option 'limt'", "did you mean 'limit'?");
    expectEinError(() => loadMnist({ split: 'test', scal: 'byte' } as never), 'EIN3006', "did you mean 'scale'?");
    expectEinError(() => openCifar10({ spilt: 'test' } as never), 'EIN3006', "did you mean 'split'?");
    expectEinError(() => openMnistAsCifar({ limit: 2, scale: 'byte' } as never), 'EIN3006', "openMnistAsCifar: unknown option 'scale'");
    expectEinError(() => decodeImage(new Uint8Array(8), { chanels: 1 } as never), 'EIN3006', "did you mean 'channels'?");
    const x = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    expectEinError(() => augmentBatch(x, { pad: 2 } as never), 'EIN3006', "augmentBatch: unknown option 'pad'");
    x.dispose();
    const set = openMnist({ split: 'test', limit: 4 });
    expectEinError(() => trainValidationSplit(set, { validationsize: 1 } as never), 'EIN3006', "did you mean 'validationSize'?");
    expectEinError(() => [...set.batches({ batchSize: 2, shufle: 1 } as never)], 'EIN3006', "did you mean 'shuffle'?");
    // The loaders still pass their own options on: scale reaches the tensors, limit the opener.
    const d = loadMnist({ split: 'test', limit: 3, scale: 'byte' });
    expect(d.images.shape).toEqual([3, 28, 28, 1]);
    expect(d.images.max().dataSync()[0]).toBeGreaterThan(1);
    d.dispose();
  });
  it('checkpoints, fetchDataset and readIdxImageSet reject unknown options with EIN3006, before touching a file', async () => {
    const dir = tempDir('options');
    const m = new Model({ program: 'Y[b,k:2] = W[i,k] · X[b,i]', inputs: { X: [1, 3] }, output: 'Y' });
    const save = await failureAsync(() => saveCheckpoint(m, dir, { optimiser: sgd({ learningRate: 0.1 }) } as never));
    expect(save.code).toBe('EIN3006');
    expect(save.message).toContain("saveCheckpoint: unknown option 'optimiser'");
    expect(fs.readdirSync(dir)).toEqual([]);
    expectEinError(() => loadCheckpoint(m, dir, { strickt: true } as never), 'EIN3006', "did you mean 'strict'?");
    const fetch = await failureAsync(() => fetchDataset('mnist', { cachedir: dir } as never));
    expect(fetch.code).toBe('EIN3006');
    expect(fetch.message).toContain("did you mean 'cacheDir'?");
    expectEinError(() => readIdxImageSet('a', 'b', { name: 'x', classNames: [], limt: 1 } as never), 'EIN3006', "did you mean 'limit'?");
    m.dispose();
  });

  it('plot helpers reject unknown options with EIN3006', () => {
    expectEinError(() => heatmap([[1, 2]], { titel: 'x' } as never), 'EIN3006', "did you mean 'title'?");
    const t = tf.zeros([1, 2, 2, 2]);
    expectEinError(() => activationGrid(t, { channel: [0] } as never), 'EIN3006', "did you mean 'channels'?");
    const predict = (b: tf.Tensor4D) => b.mean([1, 2, 3]).expandDims(1);
    expectEinError(() => occlusionMap(t.squeeze([0]), predict, { patchSize: 1 } as never), 'EIN3006', "unknown option 'patchSize'");
    t.dispose();
    expectEinError(() => lossCurves({ throttlems: 10 } as never), 'EIN3006', "did you mean 'throttleMs'?");
    expectEinError(() => tableBundle([{ a: 1 }], { digit: 2 } as never), 'EIN3006', "did you mean 'digits'?");
    expectEinError(() => receptiveFieldFigure([{ kernel: 3 }], { sise: 100 } as never), 'EIN3006', "did you mean 'size'?");
  });
  it('a model, its forward pass and the architectures reject unknown options with EIN4001', () => {
    const spec = { program: 'Y[b,k:2] = W[i,k] · X[b,i]', inputs: { X: [1, 2] }, output: 'Y', sead: 1 };
    expectEinError(() => new Model(spec as never), 'EIN4001', "'sead'", "did you mean 'seed'?");
    expectEinError(() => lenet5({ clases: 10 } as never), 'EIN4001', "lenet5: unknown option 'clases'", "did you mean 'classes'?");
    expectEinError(() => resnetCifarSpec({ depth: 20, bach: 2 } as never), 'EIN4001', "did you mean 'batch'?");
    expectEinError(() => summary(ein('Y[i] = X[i]'), { X: [2] }, { groups: 2 } as never), 'EIN4001', "did you mean 'group'?");
  });
  it('optimizers reject unknown options with EIN4002', () => {
    expectEinError(() => sgd({ learningRate: 0.1, momentun: 0.9 } as never), 'EIN4002', "did you mean 'momentum'?");
    expectEinError(() => adam({ beta: 0.9 } as never), 'EIN4002', "unknown option 'beta'");
  });
  it('blocks reject unknown options with EIN4008', () => {
    expectEinError(() => convBn({ out: 4, strides: 2 } as never), 'EIN4008', "did you mean 'stride'?");
    expectEinError(() => resnetBasic({ out: 4, shortcutt: 'zeros' } as never), 'EIN4008', "did you mean 'shortcut'?");
  });
  it('trainStep, evaluate, fit and the schedules reject unknown options with EIN4010', async () => {
    const m = new Model({ program: 'Y[b,k:2] = W[i,k] · X[b,i]', inputs: { X: [1, 2] }, output: 'Y' });
    const x = tf.ones([2, 2]);
    const y = tf.tensor1d([0, 1], 'int32');
    expectEinError(() => trainStep(m, sgd({ learningRate: 0.1 }), x, y, { checkfinite: true } as never), 'EIN4010', "did you mean 'checkFinite'?");
    expectEinError(() => evaluate(m, { images: x, labels: y }, { batchsize: 2 } as never), 'EIN4010', "did you mean 'batchSize'?");
    const e = await failureAsync(() => fit(m, { images: x, labels: y }, { epochs: 1, optimizer: sgd({ learningRate: 0.1 }), epoch: 2 } as never));
    expect(e.code).toBe('EIN4010');
    expect(e.message).toContain("did you mean 'epochs'?");
    expectEinError(() => stepDecay(0.1, { every: 2, gama: 0.5 } as never), 'EIN4010', "did you mean 'gamma'?");
    expectEinError(() => cosine(0.1, { epochs: 3, minimum: 0 } as never), 'EIN4010', "unknown option 'minimum'");
    tf.dispose([x, y]);
    m.dispose();
  });
  it('run({ validat: true }) is EIN3006 suggesting validate', () => {
    const X = tf.ones([3]);
    const before = tf.memory().numTensors;
    expectEinError(() => p.run({ X }, { validat: true } as never), 'EIN3006', "unknown option 'validat'", "did you mean 'validate'?");
    expect(tf.memory().numTensors).toBe(before);
    X.dispose();
  });
});

/** A model with a convolution, batch statistics and a dense head: 4×4×1 images, 3 classes. */
function smallModel(): Model {
  const net = new NetBuilder({ X: [2, 4, 4, 1] });
  let x = net.add('c', conv({ out: 2, size: 3, padding: 'same' }), net.input('X'));
  x = net.add('bn', batchNorm({ activation: 'relu' }), x);
  net.add('fc', dense({ out: 3 }), x);
  return net.build({ seed: 3 });
}

/** Calls `f` (which must throw an EinError with `code`) and expects the tensor count unchanged. */
function expectNoLeak(f: () => unknown, code: string): void {
  failure(f); // a first call may build and cache plans (kept on purpose until dispose)
  const before = tf.memory().numTensors;
  expect(failure(f).code).toBe(code);
  expect(tf.memory().numTensors).toBe(before);
}

async function expectNoLeakAsync(f: () => Promise<unknown>, code: string): Promise<void> {
  await f().catch(() => undefined);
  const before = tf.memory().numTensors;
  expect((await failureAsync(f)).code).toBe(code);
  expect(tf.memory().numTensors).toBe(before);
}

describe('no tensor is left behind when an error is thrown', () => {
  for (const backend of ['cpu', 'wasm']) {
    it(`trainStep with checkFinite on a NaN input throws EIN4007 and leaks nothing (${backend})`, async () => {
      await tf.setBackend(backend);
      const m = smallModel();
      const opt = sgd({ learningRate: 0.1 });
      const x = tf.fill([2, 4, 4, 1], NaN);
      const y = tf.tensor1d([0, 2], 'int32');
      expectNoLeak(() => trainStep(m, opt, x, y, { checkFinite: true }), 'EIN4007');
      tf.dispose([x, y]);
      m.dispose();
      await tf.setBackend('cpu');
    });
  }
  it('trainStep with labels of the wrong length throws and leaks nothing', () => {
    const m = smallModel();
    const opt = sgd({ learningRate: 0.1 });
    const x = tf.ones([2, 4, 4, 1]);
    const y = tf.tensor1d([0, 1, 2], 'int32');
    const before = tf.memory().numTensors;
    expect(() => trainStep(m, opt, x, y)).toThrow(EinError);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    m.dispose();
  });
  it('trainStep with a throwing loss function leaks nothing', () => {
    const m = smallModel();
    const opt = sgd({ learningRate: 0.1 });
    const x = tf.ones([2, 4, 4, 1]);
    const y = tf.tensor1d([0, 1], 'int32');
    const loss = (out: tf.Tensor): tf.Scalar => {
      out.square();
      throw new EinError({ code: 'EIN4010', message: 'the loss failed' });
    };
    expectNoLeak(() => trainStep(m, opt, x, y, { loss }), 'EIN4010');
    tf.dispose([x, y]);
    m.dispose();
  });
  it('evaluate with a throwing loss function leaks nothing', async () => {
    const m = smallModel();
    const images = tf.ones([4, 4, 4, 1]);
    const labels = tf.tensor1d([0, 1, 2, 0], 'int32');
    const loss = (): tf.Scalar => {
      throw new EinError({ code: 'EIN4010', message: 'the loss failed' });
    };
    await expectNoLeakAsync(() => evaluate(m, { images, labels }, { batchSize: 2, loss }), 'EIN4010');
    tf.dispose([images, labels]);
    m.dispose();
  });
  it('fit with a throwing onBatchEnd callback leaks nothing', async () => {
    const m = smallModel();
    const images = tf.ones([4, 4, 4, 1]);
    const labels = tf.tensor1d([0, 1, 2, 0], 'int32');
    const onBatchEnd = () => {
      throw new EinError({ code: 'EIN4010', message: 'the callback failed' });
    };
    const transform = (t: tf.Tensor) => t.mul(2);
    const train = () => fit(m, { images, labels }, { epochs: 1, batchSize: 2, optimizer: sgd({ learningRate: 0.1 }), onBatchEnd, transform, progress: false });
    await expectNoLeakAsync(train, 'EIN4010');
    tf.dispose([images, labels]);
    m.dispose();
  });
  it('fit with checkFinite on NaN images throws EIN4007 and leaks nothing', async () => {
    const m = smallModel();
    const images = tf.fill([4, 4, 4, 1], NaN);
    const labels = tf.tensor1d([0, 1, 2, 0], 'int32');
    const train = () => fit(m, { images, labels }, { epochs: 1, batchSize: 2, optimizer: sgd({ learningRate: 0.1 }), checkFinite: true, progress: false });
    await expectNoLeakAsync(train, 'EIN4007');
    tf.dispose([images, labels]);
    m.dispose();
  });
  it('run({ validate: true }) ending in EIN3008 disposes every output', () => {
    // A tolerance of 0 fails on the first float32 rounding: exp(0.1) is not exact in float32.
    const p = ein('H[i] = exp(X[i])\nY[i] = H[i] * 3');
    const X = tf.tensor1d([0.1, 0.2, 0.3]);
    expectNoLeak(() => p.run({ X }, { validate: true, tolerance: 0 }), 'EIN3008');
    X.dispose();
    p.dispose();
  });
});

describe('tensor names that are prototype members of JavaScript objects', () => {
  const source = '__proto__[i] = constructor[i] * toString[i]\nhasOwnProperty[i] = valueOf[i] + __proto__[i]';
  it('run binds constructor, toString, valueOf and returns __proto__ as an own key (cpu)', () => {
    const p = ein(source);
    const bindings = { constructor: tf.tensor1d([1, 2]), toString: tf.tensor1d([3, 4]), valueOf: tf.tensor1d([10, 20]) };
    const before = tf.memory().numTensors;
    const out = p.run(bindings as never) as Record<string, tf.Tensor>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.keys(out).sort()).toEqual(['__proto__', 'hasOwnProperty']);
    expect(Array.from(out['__proto__'].dataSync())).toEqual([3, 8]);
    expect(Array.from(out['hasOwnProperty'].dataSync())).toEqual([13, 28]);
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors).toBe(before);
    expect(p.check({ constructor: [2], toString: [2], valueOf: [2] }).shapes['__proto__']).toEqual([2]);
    tf.dispose(Object.values(bindings));
    p.dispose();
  });
  it('run reports a missing constructor binding as EIN3003, not as Object.prototype.constructor', () => {
    const p = ein(source);
    const X = tf.tensor1d([1, 2]);
    expectEinError(() => p.run({ toString: X, valueOf: X } as never), 'EIN3003', 'constructor');
    X.dispose();
  });
  it('evaluateReference returns __proto__ as an own key', () => {
    const out = ein(source).evaluateReference({ constructor: [1, 2], toString: [3, 4], valueOf: [10, 20] } as never);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Array.from(out['__proto__'].data)).toEqual([3, 8]);
    expect(Array.from(out['hasOwnProperty'].data)).toEqual([13, 28]);
  });
  it('a model with parameters constructor and __proto__ and input toString trains and updates both', () => {
    const m = new Model({ program: 'valueOf[b,k:2] = constructor[i,k] · toString[b,i] + __proto__[k]', inputs: { toString: [1, 3] }, output: 'valueOf' });
    expect([...m.params.keys()]).toEqual(['constructor', '__proto__']);
    const biasBefore = Array.from(m.params.get('__proto__')!.dataSync());
    const x = tf.ones([2, 3]);
    const y = tf.tensor1d([0, 1], 'int32');
    const step = () => {
      expect(Number.isFinite(trainStep(m, sgd({ learningRate: 0.1 }), x, y))).toBe(true);
      const out = m.apply({ toString: x });
      expect(out.shape).toEqual([2, 2]);
      out.dispose();
    };
    step(); // builds and caches the plans
    // The bias called __proto__ got its gradient: softmax − one-hot summed over the batch is not 0.
    expect(Array.from(m.params.get('__proto__')!.dataSync())).not.toEqual(biasBefore);
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    m.dispose();
  });
});

describe('evaluateReference rejects bad values with an EinError', () => {
  const p = ein('Y[i] = X[i] * 2');
  it('a missing input is EIN3003 naming it (not EIN2021 about an index range)', () => {
    expectEinError(() => p.evaluateReference({}), 'EIN3003', 'no value for X');
  });
  it('a cyclic array is EIN2023, not a hang', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expectEinError(() => p.evaluateReference({ X: cyclic }), 'EIN2023', 'contains itself');
    const inner: unknown[] = [1];
    const outer = [inner, inner];
    inner[0] = outer;
    expectEinError(() => p.evaluateReference({ X: outer }), 'EIN2023', 'X');
  });
  it('a 10,000-deep array is EIN2023, not a stack overflow', () => {
    let deep: unknown = [1];
    for (let k = 0; k < 10_000; k++) deep = [deep];
    expectEinError(() => p.evaluateReference({ X: deep as unknown[] }), 'EIN2023', 'nested more than 32 levels');
  });
  it('a disposed tensor is EIN2023, not "Tensor is disposed"', () => {
    const X = tf.tensor1d([1, 2]);
    X.dispose();
    expectEinError(() => p.evaluateReference({ X }), 'EIN2023', 'already disposed');
  });
});

describe('schedules at one step and at their ends', () => {
  it('linear(2e-3, 2e-4, 1) gives its start, as numpy.linspace(start, stop, 1) does', () => {
    const s = linear(2e-3, 2e-4, 1);
    expect(s(0)).toBe(2e-3);
    expect(s(5)).toBe(2e-3);
  });
  it('linear is exact at both ends and stays at stop afterwards', () => {
    const s = linear(2e-3, 2e-4, 4);
    expect(s(0)).toBe(2e-3);
    expect(s(3)).toBe(2e-4);
    expect(s(10)).toBe(2e-4);
    expect(s(1)).toBeCloseTo(2e-3 - 6e-4, 12);
  });
  it('cosine, stepDecay and constant at one step and at their ends', () => {
    const c1 = cosine(0.1, { epochs: 1, min: 0.01 });
    expect(c1(0)).toBe(0.1);
    expect(c1(1)).toBeCloseTo(0.01, 15);
    const c4 = cosine(0.1, { epochs: 4 });
    expect(c4(0)).toBe(0.1);
    expect(c4(2)).toBeCloseTo(0.05, 15);
    expect(c4(4)).toBeCloseTo(0, 15);
    expect(c4(9)).toBeCloseTo(0, 15);
    const d = stepDecay(1, { every: 1, gamma: 0.5 });
    expect([d(0), d(1), d(3)]).toEqual([1, 0.5, 0.125]);
    const at = stepDecay(1, { at: [2, 1], gamma: 0.1 });
    expect(at(0)).toBe(1);
    expect(at(1)).toBeCloseTo(0.1, 15);
    expect(at(5)).toBeCloseTo(0.01, 15);
    expect(constant(3)(0)).toBe(3);
  });
});

describe('ResNet parameter counts', () => {
  it('CIFAR ResNet-20 has 269,722 and ResNet-56 853,018 parameters (zero-padded shortcuts)', () => {
    expect(describeModel(resnetCifarSpec({ depth: 20 })).parameterCount).toBe(269_722);
    expect(describeModel(resnetCifarSpec({ depth: 56 })).parameterCount).toBe(853_018);
  });
  it('projection shortcuts would add 2,752 (272,474 for ResNet-20): 1×1 conv + BN at 16→32 and 32→64', () => {
    const net = new NetBuilder({ X: [1, 32, 32, 3] });
    let h = net.add('stem', convBn({ out: 16 }), net.input('X'));
    [16, 32, 64].forEach((width, s) => {
      for (let k = 0; k < 3; k++) {
        const block = resnetBasic({ out: width, stride: s > 0 && k === 0 ? 2 : 1, shortcut: 'projection' });
        h = net.add(`stage${s + 1}.block${k + 1}`, block, h);
      }
    });
    h = net.add('pool', globalAvgPool(), h);
    net.add('fc', dense({ out: 10 }), h);
    // 16·32 + 2·32 (stage 2) and 32·64 + 2·64 (stage 3).
    expect(describeModel(net.spec()).parameterCount).toBe(269_722 + 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64);
    expect(describeModel(net.spec()).parameterCount).toBe(272_474);
  });
});

describe('the notebook runner waits for late errors', () => {
  it('a timer that throws 100 ms (and 400 ms) after the last cell fails the notebook, reported against that cell', () => {
    const dir = tempDir('late-timer');
    try {
      const late100 = path.join(dir, 'late100.ipynb');
      const late400 = path.join(dir, 'late400.ipynb');
      writeNotebook(late100, ['const a = 1;', 'setTimeout(() => { throw new RangeError("thrown by a timer"); }, 100);\n"returned"']);
      writeNotebook(late400, ['setTimeout(() => Promise.reject(new Error("rejected late")), 400);']);
      const out = path.join(dir, 'out');
      const r = runScript('scripts/notebooks/run.ts', [late100, late400, '--out', out, '--no-png', '--jobs', '2']);
      expect(r.status).toBe(1);
      expect(r.output).toContain('late100.ipynb, cell 2 (code cell 2): uncaught exception');
      expect(r.output).toContain('uncaught exception: RangeError: thrown by a timer');
      expect(r.output).toContain('late400.ipynb, cell 1 (code cell 1): unhandled rejection');
      expect(r.output).toContain('unhandled promise rejection: Error: rejected late');
      expect(r.output).toContain('notebooks: 0 ran clean, 2 failed');
      expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
