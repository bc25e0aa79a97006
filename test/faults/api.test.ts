/**
 * Faults of the public API, one `it` per fault: unknown options, tensors left behind when an
 * error is thrown, tensor names that are JavaScript prototype members, bad values for the
 * reference evaluator, schedule ends, the notebook runner's late exceptions, ResNet's counts.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { EinError } from '../../core/diagnostics';
import { ein } from '../../dsl/program';
import { Model } from '../../models/model';
import { NetBuilder } from '../../models/builder';
import { batchNorm, conv, dense } from '../../models/blocks';
import { sgd } from '../../models/optimizers';
import { fit, trainStep } from '../../models/train';

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
