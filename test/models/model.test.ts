/**
 * Model: parameters from inferred shapes, seeded; training and evaluation programs for batch
 * norm (batch statistics vs running averages, checked against formulas computed here with plain
 * tfjs ops) and dropout; blocks against tfjs reference ops; input errors; no tensor left behind
 * across 200 training steps.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../models/model';
import { NetBuilder } from '../../models/builder';
import { batchNorm, conv, convBn, dense, denseLayer, dropout, globalAvgPool, maxPool, resnetBasic, zeroPadShortcut } from '../../models/blocks';
import { sgd } from '../../models/optimizers';
import { trainStep } from '../../models/train';
import { failure, maxDiff, useWasm, values } from './helpers';

beforeAll(useWasm);

const BN_SOURCE = `
param bn.γ ~ ones
bn.μ[j] = mean[b,x,y] X[b,x,y,j]
bn.σ[j] = sqrt(mean[b,x,y] square(X[b,x,y,j] - bn.μ[j]) + 0.00001)
Y[b,x,y,j] = bn.γ[j] · (X[b,x,y,j] - bn.μ[j]) / bn.σ[j] + bn.β[j]`;

describe('parameters', () => {
  it('are created from the inferred shapes with the declared initializers, seeded', () => {
    const src = `param W ~ he_normal
Y[b,k:5] = relu(W[i,k] · X[b,i] + B[k])`;
    const a = new Model({ program: src, inputs: { X: [1, 7] }, output: 'Y', seed: 4 });
    const b = new Model({ program: src, inputs: { X: [3, 7] }, output: 'Y', seed: 4 });
    const c = new Model({ program: src, inputs: { X: [1, 7] }, output: 'Y', seed: 5 });
    try {
      expect([...a.params.keys()]).toEqual(['W', 'B']);
      expect(a.params.get('W')!.shape).toEqual([7, 5]);
      expect(values(a.params.get('B')!)).toEqual([0, 0, 0, 0, 0]);
      expect(a.trainableVariables.every((v) => v.trainable)).toBe(true);
      expect(a.parameterCount).toBe(40);
      expect(values(a.params.get('W')!)).toEqual(values(b.params.get('W')!));
      expect(values(a.params.get('W')!)).not.toEqual(values(c.params.get('W')!));
    } finally {
      [a, b, c].forEach((m) => m.dispose());
    }
  });
  it('two models with the same names live side by side', () => {
    const a = new Model({ program: 'Y[b,k:2] = W[i,k] · X[b,i]', inputs: { X: [1, 3] }, output: 'Y' });
    const b = new Model({ program: 'Y[b,k:2] = W[i,k] · X[b,i]', inputs: { X: [1, 3] }, output: 'Y' });
    expect(a.params.get('W')!.name).not.toBe(b.params.get('W')!.name);
    a.dispose();
    b.dispose();
  });
});

describe('batch normalization (seed 003)', () => {
  const x = () =>
    tf.tensor4d(
      Array.from({ length: 2 * 3 * 3 * 2 }, (_, k) => Math.sin(k) * 3 + (k % 2) * 5),
      [2, 3, 3, 2],
    );

  it('training mode normalizes with the batch statistics (formula in plain tfjs)', () => {
    const m = new Model({ program: BN_SOURCE, inputs: { X: [2, 3, 3, 2] }, output: 'Y', runningStats: { 'bn.μ': {}, 'bn.σ': { init: 1 } } });
    const X = x();
    try {
      expect([...m.params.keys()].sort()).toEqual(['bn.β', 'bn.γ']);
      expect(values(m.params.get('bn.γ')!)).toEqual([1, 1]);
      const y = m.apply({ X }, { training: true });
      const { mean, variance } = tf.moments(X, [0, 1, 2]);
      const want = X.sub(mean).div(variance.add(1e-5).sqrt());
      expect(maxDiff(y, want)).toBeLessThan(1e-4);
      tf.dispose([y, mean, variance, want]);
    } finally {
      X.dispose();
      m.dispose();
    }
  });

  it('running statistics move by momentum after a training step; evaluation uses them', () => {
    const m = new Model({
      program: BN_SOURCE,
      inputs: { X: [2, 3, 3, 2] },
      output: 'Y',
      runningStats: { 'bn.μ': { momentum: 0.8 }, 'bn.σ': { momentum: 0.8, init: 1 } },
    });
    const X = x();
    try {
      // Evaluation before any step: μ = 0, σ = 1, γ = 1, β = 0 → identity.
      const y0 = m.apply({ X });
      expect(maxDiff(y0, X)).toBeLessThan(1e-6);
      const all = m.forward({ X }, { training: true });
      m.updateRunningStats(all);
      const { mean, variance } = tf.moments(X, [0, 1, 2]);
      const std = variance.add(1e-5).sqrt();
      const runMean = mean.mul(0.2);
      const runStd = std.mul(0.2).add(0.8);
      expect(maxDiff(m.stats.get('bn.μ')!, runMean)).toBeLessThan(1e-5);
      expect(maxDiff(m.stats.get('bn.σ')!, runStd)).toBeLessThan(1e-5);
      const y1 = m.apply({ X });
      const want = X.sub(runMean).div(runStd);
      expect(maxDiff(y1, want)).toBeLessThan(1e-4);
      // The evaluation program is the training program without the statistics statements.
      expect(m.evalProgram.toString()).not.toContain('bn.μ[j] =');
      expect(m.trainProgram.toString()).toContain('bn.μ[j] =');
      tf.dispose([y0, ...Object.values(all), mean, variance, std, runMean, runStd, y1, want]);
    } finally {
      X.dispose();
      m.dispose();
    }
  });

  it('the batchNorm block writes the same statements and registers μ, σ', () => {
    const net = new NetBuilder({ X: [2, 3, 3, 2] });
    net.add('bn', batchNorm(), net.input('X'));
    const m = net.build();
    const X = x();
    try {
      expect([...m.stats.keys()]).toEqual(['bn.μ', 'bn.σ']);
      const y = m.apply({ X }, { training: true });
      const { mean, variance } = tf.moments(X, [0, 1, 2]);
      const want = X.sub(mean).div(variance.add(1e-5).sqrt());
      expect(maxDiff(y, want)).toBeLessThan(1e-4);
      tf.dispose([y, mean, variance, want]);
    } finally {
      X.dispose();
      m.dispose();
    }
  });
});

describe('dropout', () => {
  it('training drops about p of the units and scales the rest by 1/(1-p); evaluation is the identity', () => {
    const net = new NetBuilder({ X: [50, 40] });
    net.add('drop', dropout(0.25), net.input('X'));
    const m = net.build({ seed: 3 });
    const X = tf.ones([50, 40]);
    try {
      const y = values(m.apply({ X }, { training: true }));
      const zeros = y.filter((v) => v === 0).length / y.length;
      expect(zeros).toBeGreaterThan(0.2);
      expect(zeros).toBeLessThan(0.3);
      for (const v of y) if (v !== 0) expect(v).toBeCloseTo(1 / 0.75, 5);
      const e = m.apply({ X });
      expect(values(e).every((v) => v === 1)).toBe(true);
      e.dispose();
    } finally {
      X.dispose();
      m.dispose();
    }
  });
  it('a hand-written program: the mask is named in options and is not a parameter', () => {
    const m = new Model({ program: 'Y[b,j] = X[b,j] · M[b,j]', inputs: { X: [4, 3] }, output: 'Y', dropout: { M: 0.5 } });
    expect(m.params.size).toBe(0);
    const X = tf.ones([4, 3]);
    const y = m.apply({ X });
    expect(values(y)).toEqual(Array(12).fill(1));
    tf.dispose([X, y]);
    m.dispose();
  });
});

describe('blocks against tfjs reference ops', () => {
  it("conv 'same' with stride 2 equals tf.conv2d(…, 'same') plus bias", () => {
    const net = new NetBuilder({ X: [2, 7, 7, 3] });
    net.add('c', conv({ out: 4, size: 3, stride: 2 }), net.input('X'));
    const m = net.build({ seed: 2 });
    const X = tf.randomNormal([2, 7, 7, 3], 0, 1, 'float32', 7);
    try {
      m.params.get('c.B')!.assign(tf.tensor1d([0.1, -0.2, 0.3, 0.5]));
      const y = m.apply({ X });
      const want = tf.conv2d(X as tf.Tensor4D, m.params.get('c.W') as tf.Tensor4D, 2, 'same').add(m.params.get('c.B')!);
      expect(y.shape).toEqual([2, 4, 4, 4]);
      expect(maxDiff(y, want)).toBeLessThan(1e-4);
      tf.dispose([y, want]);
    } finally {
      X.dispose();
      m.dispose();
    }
  });
  it('max pool 3/2 same equals tf.maxPool; dense over a feature map equals flatten + matMul', () => {
    const net = new NetBuilder({ X: [2, 5, 5, 3] });
    const p = net.add('p', maxPool({ size: 3, stride: 2, padding: 'same' }), net.input('X'));
    net.add('fc', dense({ out: 4 }), p);
    const m = net.build({ seed: 1 });
    const X = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 8);
    try {
      const all = m.forward({ X });
      const pool = tf.maxPool(X as tf.Tensor4D, 3, 2, 'same');
      expect(maxDiff(all.p, pool)).toBeLessThan(1e-6);
      const fc = pool
        .reshape([2, -1])
        .matMul(m.params.get('fc.W')!.reshape([-1, 4]))
        .add(m.params.get('fc.B')!);
      expect(maxDiff(all.fc, fc)).toBeLessThan(1e-4);
      tf.dispose([...Object.values(all), pool, fc]);
    } finally {
      X.dispose();
      m.dispose();
    }
  });
  it("the seed's zero-padded spatial reduction: L[b,2x,2y,j] for j < J, 0 above", () => {
    const net = new NetBuilder({ X: [1, 4, 4, 2] });
    net.add('s', zeroPadShortcut({ out: 4, stride: 2 }), net.input('X'));
    const m = net.build();
    const X = tf.range(0, 32).reshape([1, 4, 4, 2]).cast('float32');
    const y = m.apply({ X });
    // x = y = 0 → X[0,0,0,:] = 0,1; x=0,y=1 → X[0,0,2,:] = 4,5; x=1,y=0 → X[0,2,0,:] = 16,17
    expect(y.shape).toEqual([1, 2, 2, 4]);
    expect(values(y)).toEqual([0, 1, 0, 0, 4, 5, 0, 0, 16, 17, 0, 0, 20, 21, 0, 0]);
    expect(failure(() => new NetBuilder({ X: [1, 4, 4, 2] }).add('s', zeroPadShortcut({ out: 5, stride: 2 }), { name: 'X', shape: [1, 4, 4, 2] })).code).toBe(
      'EIN4008',
    );
    tf.dispose([X, y]);
    m.dispose();
  });
  it('ResNet basic block: namespaces per instance, output relu(conv path + shortcut)', () => {
    const net = new NetBuilder({ X: [2, 8, 8, 4] });
    let h = net.add('stage1.block1', resnetBasic({ out: 4 }), net.input('X'));
    h = net.add('stage2.block1', resnetBasic({ out: 8, stride: 2 }), h);
    expect(h).toEqual({ name: 'stage2.block1', shape: [2, 4, 4, 8] });
    const m = net.build({ seed: 1 });
    try {
      expect([...m.params.keys()]).toContain('stage2.block1.conv1.conv.W');
      expect(m.params.get('stage2.block1.conv1.conv.W')!.shape).toEqual([3, 3, 4, 8]);
      expect([...m.stats.keys()]).toContain('stage1.block1.conv2.σ');
      const X = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 2);
      const all = m.forward({ X });
      const want = tf.relu(all['stage2.block1.conv2'].add(all['stage2.block1.short']));
      expect(maxDiff(all['stage2.block1'], want)).toBeLessThan(1e-5);
      tf.dispose([X, ...Object.values(all), want]);
    } finally {
      m.dispose();
    }
  });
  it('DenseNet layer concatenates k new channels onto its input', () => {
    const net = new NetBuilder({ X: [1, 4, 4, 6] });
    const h = net.add('l1', denseLayer({ growth: 3 }), net.input('X'));
    expect(h.shape).toEqual([1, 4, 4, 9]);
    const m = net.build();
    const X = tf.randomNormal([1, 4, 4, 6], 0, 1, 'float32', 3);
    const y = m.apply({ X });
    expect(maxDiff(y.slice([0, 0, 0, 0], [1, 4, 4, 6]), X)).toBe(0);
    tf.dispose([X, y]);
    m.dispose();
  });
});

describe('bad input', () => {
  const build = () => new Model({ program: 'Y[b,k:2] = W[x,y,i,k] · X[b,x,y,i]', inputs: { X: [1, 3, 3, 1] }, output: 'Y' });
  it('a wrong input shape names the input and the expected shape (EIN4006)', () => {
    const m = build();
    const X = tf.zeros([2, 4, 3, 1]);
    const e = failure(() => m.apply({ X }));
    expect(e.code).toBe('EIN4006');
    expect(e.message).toContain('[2,4,3,1]');
    expect(e.message).toContain('[?,3,3,1]');
    X.dispose();
    m.dispose();
  });
  it('a missing or unknown input (EIN4012), an unknown option or output (EIN4001), use after dispose (EIN4009)', () => {
    const m = build();
    expect(failure(() => m.apply({})).code).toBe('EIN4012');
    const X = tf.zeros([1, 3, 3, 1]);
    expect(failure(() => m.apply({ X, Z: X })).code).toBe('EIN4012');
    expect(failure(() => m.apply({ X }, { trainig: true } as never)).code).toBe('EIN4001');
    expect(failure(() => new Model({ program: 'Y[b,k:2] = W[i,k] · X[b,i]', inputs: { X: [1, 3] }, output: 'Z' })).code).toBe('EIN4001');
    const e = failure(() => new Model({ program: 'Y[b,k:2] = W[i,k] · X[b,i]', inputs: { X: [1, 3] }, output: 'Y', sed: 1 } as never));
    expect(e.message).toContain("did you mean 'seed'");
    m.dispose();
    expect(failure(() => m.apply({ X })).code).toBe('EIN4009');
    X.dispose();
  });
  it('a block that cannot work says which (EIN4008)', () => {
    const net = new NetBuilder({ X: [1, 4, 4, 3] });
    expect(failure(() => net.add('c', conv({ out: 0 }), net.input('X'))).code).toBe('EIN4008');
    expect(failure(() => net.add('2bad', conv({ out: 3 }), net.input('X'))).code).toBe('EIN4008');
    expect(failure(() => dropout(1)).code).toBe('EIN4008');
    expect(failure(() => net.add('c', conv({ out: 4, groups: 2 }), net.input('X'))).code).toBe('EIN4008');
  });
});

describe('memory', () => {
  it('tf.memory().numTensors is unchanged across 200 training steps (conv-BN-ReLU, pool, dropout, dense)', () => {
    const net = new NetBuilder({ X: [8, 8, 8, 1] });
    let h = net.add('c1', convBn({ out: 4 }), net.input('X'));
    h = net.add('p1', maxPool({ size: 2 }), h);
    h = net.add('d1', dropout(0.2), h);
    h = net.add('g', globalAvgPool(), h);
    net.add('fc', dense({ out: 3 }), h);
    const m = net.build({ seed: 1 });
    const opt = sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true });
    const X = tf.randomNormal([8, 8, 8, 1], 0, 1, 'float32', 4);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
    try {
      trainStep(m, opt, X, y); // first step: plans and optimizer slots are created
      const before = tf.memory().numTensors;
      let first = 0;
      let last = 0;
      for (let k = 0; k < 200; k++) {
        const l = trainStep(m, opt, X, y);
        if (k === 0) first = l;
        last = l;
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(last).toBeLessThan(first);
    } finally {
      tf.dispose([X, y]);
      opt.dispose();
      m.dispose();
    }
  });
});
