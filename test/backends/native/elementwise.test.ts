/**
 * Element-wise kernels of the native backend against tfjs' CPU backend: every unary op and every
 * broadcasting binary op on tensors above the size threshold, plus the small-tensor path.
 * (Data movement, comparisons, reductions on random shapes: movement.test.ts.)
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELEMENTWISE_MIN_SIZE } from '../../../backends/native/elementwise';
import { nativeKernelStats, resetNativeKernelStats } from '../../../backends/native/stats';
import { ADDON_BUILT, NATIVE, SKIP_REASON, activateNative, compareWithCpu, gradients, randomInput, rng, runOn } from './compare';

describe.skipIf(!ADDON_BUILT)(`native element-wise kernels vs tfjs cpu${SKIP_REASON}`, () => {
  let tensorsBefore = 0;
  beforeAll(async () => {
    await activateNative();
    tensorsBefore = tf.memory().numTensors;
  });
  afterAll(() => expect(tf.memory().numTensors).toBe(tensorsBefore));

  const shape = [4, 33, 17, 16]; // 35904 elements, above the threshold
  it('the test tensors are above the size threshold', () => {
    expect(shape.reduce((a, b) => a * b)).toBeGreaterThanOrEqual(ELEMENTWISE_MIN_SIZE);
  });

  const unary: [string, (x: tf.Tensor) => tf.Tensor, 'any' | 'positive'][] = [
    ['Relu', tf.relu, 'any'],
    ['Relu6', tf.relu6, 'any'],
    ['Elu', tf.elu, 'any'],
    ['Sigmoid', tf.sigmoid, 'any'],
    ['Tanh', tf.tanh, 'any'],
    ['Log', tf.log, 'positive'],
    ['Sqrt', tf.sqrt, 'positive'],
    ['Square', tf.square, 'any'],
    ['Abs', tf.abs, 'any'],
  ];
  for (const [kernel, f, domain] of unary) {
    it(`${kernel}`, async () => {
      const x = randomInput(rng(kernel.length * 7919), shape);
      // Scale to exercise relu6's upper clip and the tails of sigmoid/tanh/exp.
      for (let i = 0; i < x.data.length; i++) x.data[i] = domain === 'positive' ? Math.abs(x.data[i]) * 8 + 1e-3 : x.data[i] * 8;
      resetNativeKernelStats();
      await compareWithCpu(kernel, [x], ([t]) => f(t), 1e-5);
      expect(nativeKernelStats().native[kernel]).toBe(1);
    });
  }

  const binary: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['Add', tf.add],
    ['Sub', tf.sub],
    ['Multiply', tf.mul],
    ['RealDiv', tf.div],
    ['Maximum', tf.maximum],
    ['Minimum', tf.minimum],
    ['SquaredDifference', tf.squaredDifference],
  ];
  const pairs: [number[], number[]][] = [
    [shape, shape],
    [shape, [16]], // bias-like
    [shape, [4, 1, 1, 16]],
    [shape, [1, 33, 1, 1]],
    [shape, []], // scalar
    [[16], shape], // first operand broadcasts
    [
      [4, 1, 17, 1],
      [1, 33, 1, 16],
    ], // both broadcast
  ];
  for (const [kernel, f] of binary) {
    it(`${kernel} with broadcasting`, async () => {
      const r = rng(kernel.length * 104729);
      for (const [sa, sb] of pairs) {
        const a = randomInput(r, sa);
        const b = randomInput(r, sb);
        // Keep divisors away from 0 so the comparison is about the kernel, not about 1/tiny.
        if (kernel === 'RealDiv') for (let i = 0; i < b.data.length; i++) b.data[i] = Math.sign(b.data[i] || 1) * (0.5 + Math.abs(b.data[i]));
        resetNativeKernelStats();
        await compareWithCpu(`${kernel} [${sa}] by [${sb}]`, [a, b], ([x, y]) => f(x, y), 1e-5);
        expect(nativeKernelStats().native[kernel], `${kernel} [${sa}] by [${sb}] ran natively`).toBe(1);
      }
    });
  }

  it('tanh, sigmoid, elu and log go native from 1024 elements (a dense layer of 64×120)', async () => {
    const x = randomInput(rng(12), [64, 120]);
    for (let i = 0; i < x.data.length; i++) x.data[i] *= 6;
    const positive = { shape: x.shape, data: Float32Array.from(x.data, (v) => Math.abs(v) + 1e-3) };
    resetNativeKernelStats();
    await compareWithCpu('tanh, sigmoid, elu', [x], ([a]) => [tf.tanh(a), tf.sigmoid(a), tf.elu(a)], 1e-5);
    await compareWithCpu('log', [positive], ([a]) => tf.log(a), 1e-5);
    expect(nativeKernelStats().native).toMatchObject({ Tanh: 1, Sigmoid: 1, Elu: 1, Log: 1 });
  });

  it('tanh and sigmoid gradients (one native loop each) equal tfjs cpu', async () => {
    for (const shape of [
      [64, 120],
      [4, 33, 17, 16],
    ]) {
      const x = randomInput(rng(13), shape);
      for (let i = 0; i < x.data.length; i++) x.data[i] *= 3;
      resetNativeKernelStats();
      await compareWithCpu(
        `tanh' [${shape}]`,
        [x],
        gradients(([a]) => tf.sum(tf.mul(tf.tanh(a), a))),
        1e-5,
      );
      await compareWithCpu(
        `sigmoid' [${shape}]`,
        [x],
        gradients(([a]) => tf.sum(tf.mul(tf.sigmoid(a), a))),
        1e-5,
      );
      expect(nativeKernelStats().native.EinnetActivationGrad).toBe(2);
    }
  });

  it('small tensors run on the CPU kernels without counting as fallbacks', async () => {
    resetNativeKernelStats();
    const [y] = await runOn(NATIVE, [{ shape: [3], data: Float32Array.of(-1, 0, 2) }], ([x]) => tf.relu(x));
    expect(Array.from(y.data)).toEqual([0, 0, 2]);
    expect(nativeKernelStats()).toEqual({ native: {}, fallback: {}, reasons: [] });
  });

  it('Sum and Mean over every combination of axes, keepDims or not', async () => {
    const x = randomInput(rng(11), shape);
    const rank = shape.length;
    for (let mask = 1; mask < 1 << rank; mask++) {
      const axes = [...Array(rank).keys()].filter((i) => mask & (1 << i));
      const keepDims = mask % 2 === 0;
      resetNativeKernelStats();
      await compareWithCpu(`sum/mean over [${axes}] keepDims ${keepDims}`, [x], ([t]) => [tf.sum(t, axes, keepDims), tf.mean(t, axes, keepDims)], 1e-5);
      expect(nativeKernelStats().native).toEqual({ Sum: 1, Mean: 1 });
    }
    // Hand-checked: Σ_{i<2^15} i = 2^15 (2^15 - 1) / 2, exactly representable in float32.
    const n = 1 << 15;
    const ramp = { shape: [n], data: Float32Array.from({ length: n }, (_, i) => i) };
    const [total] = await runOn(NATIVE, [ramp], ([t]) => tf.sum(t));
    expect(total.data[0]).toBe((n * (n - 1)) / 2);
  });

  it('Sum over all axes but the last (a bias gradient), 1 to 9 channels, equals cpu bit for bit', async () => {
    const r = rng(12);
    for (let c = 1; c <= 9; c++) {
      const x = randomInput(r, [3, 7, 5, c]);
      resetNativeKernelStats();
      const [native] = await runOn(NATIVE, [x], ([t]) => tf.sum(t, [0, 1, 2]));
      expect(nativeKernelStats().native).toEqual({ Sum: 1 });
      const [cpu] = await runOn('cpu', [x], ([t]) => tf.sum(t, [0, 1, 2]));
      expect(Array.from(native.data), `${c} channels`).toEqual(Array.from(cpu.data));
    }
  });

  it('Relu and Relu6 run natively from 256 elements (a dense layer), NaN kept', async () => {
    const x = randomInput(rng(13), [64, 120]);
    x.data[5] = NaN;
    for (const [kernel, f] of [
      ['Relu', tf.relu],
      ['Relu6', tf.relu6],
    ] as const) {
      resetNativeKernelStats();
      const [native] = await runOn(NATIVE, [x], ([t]) => f(t.mul(8)));
      expect(nativeKernelStats().native[kernel]).toBe(1);
      const [cpu] = await runOn('cpu', [x], ([t]) => f(t.mul(8)));
      expect(Array.from(native.data), kernel).toEqual(Array.from(cpu.data));
    }
  });

  it('Exp stays on the CPU kernel (oneDNN would turn NaN into a number)', async () => {
    const x = randomInput(rng(4), shape);
    resetNativeKernelStats();
    await runOn(NATIVE, [x], ([a]) => tf.exp(a));
    expect(nativeKernelStats().native.Exp).toBeUndefined();
  });

  it('NaN stays NaN through every overridden kernel, as on the CPU backend (divergence must stay visible)', async () => {
    const x = randomInput(rng(3), shape);
    for (let i = 0; i < x.data.length; i++) x.data[i] = Math.abs(x.data[i]) + 0.5;
    x.data[5] = NaN;
    const fs = [
      ...unary.map(
        ([, f]) =>
          (a: tf.Tensor) =>
            f(a),
      ),
      ...binary.map(
        ([, f]) =>
          (a: tf.Tensor) =>
            f(a, tf.onesLike(a)),
      ),
      (a: tf.Tensor) => tf.sum(a, [1, 2], true).tile([1, 33, 17, 1]),
      (a: tf.Tensor) => tf.mean(a, [1, 2], true).tile([1, 33, 17, 1]),
    ];
    fs.push(
      (a: tf.Tensor) => tf.max(a, [1, 2], true).tile([1, 33, 17, 1]),
      (a: tf.Tensor) => tf.min(a, [0, 3], true).tile([4, 1, 1, 16]),
    );
    const names = [...unary.map(([k]) => k), ...binary.map(([k]) => k), 'Sum', 'Mean', 'Max', 'Min'];
    const outs = await runOn(NATIVE, [x], ([a]) => fs.map((f) => f(a)));
    const notNaN = names.filter((_, i) => !Number.isNaN(outs[i].data[5]));
    expect(notNaN.join(', ')).toBe('');
  });
});
