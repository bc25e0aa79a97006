/**
 * Losses (against hand-computed values and tfjs' own implementations), optimizers (against
 * update sequences computed by hand here and against tf.train.adam), schedules (`linear` is
 * numpy's linspace), and fit: history, callbacks, early stopping, NaN checks,
 * option errors.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../models/model';
import { meanSquaredError, softmaxCrossEntropy, accuracy } from '../../models/losses';
import { adam, sgd } from '../../models/optimizers';
import { cosine, linear, stepDecay } from '../../models/schedules';
import { evaluate, fit, formatHistory, trainStep } from '../../models/train';
import { failure, failureAsync, maxDiff, useWasm } from './helpers';
import { linearModel, toyData } from './toy-problem';

beforeAll(useWasm);

describe('losses in the notation', () => {
  it('softmax cross-entropy: hand value for [1,2,3] with class 2 is log(e+e²+e³) − 3', () => {
    const Z = tf.tensor2d([[1, 2, 3]]);
    const l = softmaxCrossEntropy(Z, tf.tensor1d([2], 'int32'));
    expect(l.dataSync()[0]).toBeCloseTo(Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3, 5);
    tf.dispose([Z, l]);
  });
  it('agrees with tf.losses.softmaxCrossEntropy and stays finite for scores of 1000', () => {
    const Z = tf.tensor2d([
      [1000, 0, -5],
      [0.5, 0.25, 3],
      [-2, 7, 7],
    ]);
    const y = tf.tensor1d([1, 2, 0], 'int32');
    const ours = softmaxCrossEntropy(Z, y);
    const theirs = tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), Z);
    expect(Number.isFinite(ours.dataSync()[0])).toBe(true);
    // Row 1: 1000 − 0 = 1000 (+ log(1 + e^−1000 + …) ≈ 0).
    expect(ours.dataSync()[0]).toBeCloseTo(theirs.dataSync()[0], 3);
    tf.dispose([Z, y, ours, theirs]);
  });
  it('its gradient is (softmax − one-hot)/b', () => {
    const Z = tf.tensor2d([
      [0.1, 0.2, 0.3],
      [1, -1, 0],
    ]);
    const y = tf.tensor1d([0, 2], 'int32');
    const g = tf.grad((z: tf.Tensor) => softmaxCrossEntropy(z, y))(Z);
    const want = tf.softmax(Z).sub(tf.oneHot(y, 3)).div(2);
    expect(maxDiff(g, want)).toBeLessThan(1e-6);
    tf.dispose([Z, y, g, want]);
  });
  it('mean squared error and accuracy by hand', () => {
    const l = meanSquaredError(
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      tf.tensor2d([
        [1, 0],
        [0, 4],
      ]),
    );
    expect(l.dataSync()[0]).toBeCloseTo((0 + 4 + 9 + 0) / 4, 6);
    expect(
      accuracy(
        tf.tensor2d([
          [0, 1],
          [1, 0],
          [0, 1],
        ]),
        tf.tensor1d([1, 1, 1], 'int32'),
      ),
    ).toBeCloseTo(2 / 3, 6);
    l.dispose();
  });
});

describe('optimizers', () => {
  // Minimize f(w) = ½ w² (gradient w) from w = 1: every update is computable by hand.
  function run(opt: ReturnType<typeof sgd>, steps: number, wd = false): number[] {
    const w = tf.variable(tf.scalar(1));
    const out: number[] = [];
    for (let k = 0; k < steps; k++) {
      const g = w.clone();
      opt.apply(new Map([['w', w]]), { w: g });
      g.dispose();
      out.push(w.dataSync()[0]);
    }
    w.dispose();
    opt.dispose();
    void wd;
    return out;
  }
  it('SGD: w ← w − lr·g', () => {
    const got = run(sgd({ learningRate: 0.1 }), 2);
    expect(got[0]).toBeCloseTo(0.9, 6);
    expect(got[1]).toBeCloseTo(0.81, 6);
  });
  it('momentum: v ← μv + g, w ← w − lr·v; Nesterov: w ← w − lr·(g + μv)', () => {
    // lr 0.1, μ 0.9. Step 1: v = 1, w = 0.9. Step 2: g = 0.9, v = 1.8, w = 0.72.
    const m = run(sgd({ learningRate: 0.1, momentum: 0.9 }), 2);
    expect(m[0]).toBeCloseTo(0.9, 6);
    expect(m[1]).toBeCloseTo(0.72, 6);
    // Nesterov. Step 1: v = 1, w = 1 − 0.1·(1 + 0.9) = 0.81. Step 2: g = 0.81, v = 1.71,
    // w = 0.81 − 0.1·(0.81 + 1.539) = 0.5751.
    const n = run(sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }), 2);
    expect(n[0]).toBeCloseTo(0.81, 6);
    expect(n[1]).toBeCloseTo(0.5751, 6);
  });
  it('weight decay adds wd·w to the gradient', () => {
    // g = w + 0.5 w = 1.5 → w = 1 − 0.1·1.5 = 0.85.
    expect(run(sgd({ learningRate: 0.1, weightDecay: 0.5 }), 1)[0]).toBeCloseTo(0.85, 6);
  });
  it('Adam follows tf.train.adam step for step', () => {
    const ours = run(adam({ learningRate: 0.05 }) as ReturnType<typeof sgd>, 5);
    const w = tf.variable(tf.scalar(1));
    const ref = tf.train.adam(0.05, 0.9, 0.999, 1e-8);
    const theirs: number[] = [];
    for (let k = 0; k < 5; k++) {
      ref.minimize(() => w.square().mul(0.5) as tf.Scalar, false, [w]);
      theirs.push(w.dataSync()[0]);
    }
    expect(maxDiff(ours, theirs)).toBeLessThan(1e-5);
    w.dispose();
    ref.dispose();
  });
  it('AdamW decays the weight outside the moments', () => {
    // Step 1 of Adam moves by lr·sign(g) = 0.1; decoupled decay removes lr·wd·w = 0.1·0.5·1.
    const got = run(adam({ learningRate: 0.1, weightDecay: 0.5, decoupled: true }) as ReturnType<typeof sgd>, 1);
    expect(got[0]).toBeCloseTo(1 - 0.1 - 0.05, 5);
  });
  it('an unknown option or a bad value is an EIN4002 naming it', () => {
    const e = failure(() => sgd({ learningRate: 0.1, momentun: 0.9 } as never));
    expect(e.code).toBe('EIN4002');
    expect(e.message).toContain("'momentun'");
    expect(e.message).toContain("did you mean 'momentum'");
    expect(failure(() => sgd({ learningRate: -1 })).code).toBe('EIN4002');
    expect(failure(() => sgd({ learningRate: 0.1, nesterov: true })).code).toBe('EIN4002');
    expect(failure(() => adam({ beta1: 1 })).code).toBe('EIN4002');
  });
});

describe('schedules', () => {
  it('linear matches np.linspace(0.02, 0.0001, 5)', () => {
    const s = linear(0.02, 0.0001, 5);
    // np.linspace(0.02, 0.0001, 5) = [0.02, 0.015025, 0.01005, 0.005075, 0.0001]
    expect([0, 1, 2, 3, 4].map(s).map((v) => +v.toFixed(6))).toEqual([0.02, 0.015025, 0.01005, 0.005075, 0.0001]);
    expect(s(10)).toBeCloseTo(0.0001, 10);
  });
  it('step decay and cosine', () => {
    expect([0, 1, 2, 3, 4].map(stepDecay(1, { every: 2, gamma: 0.5 }))).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect([0, 90, 135, 200].map(stepDecay(0.1, { at: [91, 136] })).map((v) => +v.toPrecision(3))).toEqual([0.1, 0.1, 0.01, 0.001]);
    const c = cosine(1, { epochs: 4, min: 0 });
    expect([c(0), c(2), c(4)].map((v) => +v.toFixed(6))).toEqual([1, 0.5, 0]);
  });
});

describe('fit', () => {
  it('returns one history row per epoch with the classic training-table columns, and calls back per batch and epoch', async () => {
    const train = toyData(256, 1);
    const valid = toyData(128, 2);
    const m = linearModel();
    const batches: number[] = [];
    const epochs: number[] = [];
    try {
      const h = await fit(m, train, {
        epochs: 3,
        batchSize: 32,
        optimizer: sgd({ learningRate: 0.5, momentum: 0.9 }),
        validation: valid,
        schedules: { learningRate: linear(0.5, 0.1, 3) },
        onBatchEnd: (b) => void batches.push(b.step),
        onEpochEnd: (r) => void epochs.push(r.epoch),
      });
      expect(h.epochs).toHaveLength(3);
      expect(batches).toEqual(Array.from({ length: 24 }, (_, k) => k + 1));
      expect(epochs).toEqual([1, 2, 3]);
      for (const r of h.epochs) {
        expect(r.ratio).toBeCloseTo(r.trainLoss / r.validLoss!, 10);
        expect(r.duration).toBeGreaterThan(0);
      }
      expect(h.epochs.map((r) => r.hyper.learningRate)).toEqual([0.5, 0.3, 0.1]);
      expect(h.epochs[2].trainLoss).toBeLessThan(h.epochs[0].trainLoss);
      expect(h.epochs[2].accuracy).toBeGreaterThan(0.9);
      // Independent check of the reported accuracy.
      expect((await evaluate(m, valid)).accuracy).toBeCloseTo(h.epochs[2].accuracy!, 10);
      const text = formatHistory(h);
      expect(text.split('\n')[0]).toMatch(/epoch\s+train loss\s+valid loss\s+train\/val/);
    } finally {
      tf.dispose([train.images, train.labels, valid.images, valid.labels]);
      m.dispose();
    }
  });
  it('early stopping: no improvement (learning rate ~0) stops after patience + 1 epochs and keeps the best', async () => {
    const train = toyData(64, 3);
    const m = linearModel();
    try {
      const h = await fit(m, train, {
        epochs: 20,
        batchSize: 64,
        optimizer: sgd({ learningRate: 1e-12 }),
        earlyStopping: { patience: 2, minDelta: 1e-3, monitor: 'trainLoss' },
      });
      expect(h.stoppedEarly).toBe(true);
      expect(h.epochs).toHaveLength(4);
      expect(h.bestEpoch).toBe(1);
    } finally {
      tf.dispose([train.images, train.labels]);
      m.dispose();
    }
  });
  it("a callback returning 'stop' ends training", async () => {
    const train = toyData(64, 4);
    const m = linearModel();
    const h = await fit(m, train, { epochs: 5, batchSize: 16, optimizer: sgd({ learningRate: 0.1 }), onBatchEnd: (b) => (b.step === 2 ? 'stop' : undefined) });
    expect(h.epochs).toHaveLength(1);
    tf.dispose([train.images, train.labels]);
    m.dispose();
  });
  it('a loss that goes NaN stops with the step; checkFinite names the first bad tensor', async () => {
    const m = new Model({ program: 'H[b,k:2] = W[i,k] · X[b,i]\nY[b,k] = log(H[b,k])', inputs: { X: [1, 2] }, output: 'Y' });
    const x = tf.tensor2d([[1, -1]]);
    const y = tf.tensor1d([0], 'int32');
    try {
      const e = failure(() => trainStep(m, sgd({ learningRate: 0.1 }), x, y, { step: 7 }));
      expect(e.code).toBe('EIN4007');
      expect(e.message).toContain('training step 7');
      const f = failure(() => trainStep(m, sgd({ learningRate: 0.1 }), x, y, { step: 8, checkFinite: true }));
      expect(f.code).toBe('EIN4007');
      expect(f.message).toMatch(/tensor Y holds NaN/);
    } finally {
      tf.dispose([x, y]);
      m.dispose();
    }
  });
  it('bad options are EIN4010/EIN4002 errors naming the option', async () => {
    const train = toyData(8, 5);
    const m = linearModel();
    const opt = sgd({ learningRate: 0.1 });
    expect((await failureAsync(() => fit(m, train, { epochs: 0, optimizer: opt }))).code).toBe('EIN4010');
    expect((await failureAsync(() => fit(m, train, { epochs: 1, optimizer: opt, batchSize: 0 }))).code).toBe('EIN4010');
    expect((await failureAsync(() => fit(m, train, { epochs: 1, optimizer: opt, epoch: 3 } as never))).message).toContain("'epoch'");
    const e = await failureAsync(() => fit(m, train, { epochs: 1, optimizer: opt, schedules: { beta1: linear(0.9, 0.8, 2) } }));
    expect(e.code).toBe('EIN4002');
    expect(e.message).toContain('learningRate');
    tf.dispose([train.images, train.labels]);
    m.dispose();
  });
});
