/**
 * The batch-norm route's native kernels (ops/batchnorm.ts), the fused SGD step and the
 * running statistics' moving average (ops/update.ts) against the same functions on tfjs' cpu backend, where they are tfjs ops:
 * small tensors (one thread) and tensors above the 64K-element threshold split over two OpenMP
 * threads, with and without relu, γ, β, momentum, Nesterov and weight decay.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchNormalize, batchNormalizeGrad, batchStats, batchStatsGrad } from '../../../ops/batchnorm';
import { setNativeThreads } from '../../../backends/native';
import { nativeKernelStats, resetNativeKernelStats } from '../../../backends/native/stats';
import { movingAverages, sgdSteps } from '../../../ops/update';
import { ADDON_BUILT, SKIP_REASON, activateNative, compareWithCpu, randomInput, rng } from './compare';

describe.skipIf(!ADDON_BUILT)(`native batch-norm and SGD kernels vs tfjs cpu${SKIP_REASON}`, () => {
  let tensorsBefore = 0;
  beforeAll(async () => {
    await activateNative();
    tensorsBefore = tf.memory().numTensors;
  });
  afterAll(() => {
    setNativeThreads(1);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  const shapes = [
    [3, 5, 7, 4],
    [8, 16, 16, 32], // 65536 elements: two threads
  ];
  for (const threads of [1, 2]) {
    for (const shape of shapes) {
      // Every combination of γ and β (the kernels take each as optional).
      const affines = [
        { scale: true, offset: true },
        { scale: true, offset: false },
        { scale: false, offset: true },
        { scale: false, offset: false },
      ];
      for (const relu of [false, true]) {
        for (const { scale, offset } of affines) {
          it(`statistics, normalization and both gradients, [${shape}], relu ${relu}, γ ${scale}, β ${offset}, ${threads} thread(s)`, async () => {
            setNativeThreads(threads);
            const r = rng(shape[0] * 31 + (relu ? 1 : 0));
            const C = shape[shape.length - 1];
            const x = randomInput(r, shape);
            for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i] * 3 + 0.5; // mean and spread away from 0, 1
            const inputs = [x, randomInput(r, shape), randomInput(r, [C]), randomInput(r, [C]), randomInput(r, [2 * C])];
            const reduced = [0, 1, 2];
            resetNativeKernelStats();
            await compareWithCpu(
              `batch norm ${shape}`,
              inputs,
              ([xt, dy, g, b, dstats]) => {
                const [gamma, beta] = [scale ? g : undefined, offset ? b : undefined];
                const stats = batchStats(xt, reduced, 1e-5);
                const y = batchNormalize(xt, stats, gamma, beta, reduced, relu);
                const [dx, dgamma, dbeta] = batchNormalizeGrad(dy, xt, y, stats, gamma, reduced, relu);
                return [stats, y, dx, dgamma, dbeta, batchStatsGrad(dstats, xt, stats, reduced)];
              },
              2e-4,
            );
            expect(nativeKernelStats().native.EinnetBatchNormalizeGrad).toBe(1);
          });
        }
      }
    }
    for (const [momentum, nesterov, weightDecay] of [
      [0, false, 0],
      [0.9, false, 0],
      [0.9, true, 5e-4],
    ] as const) {
      it(`SGD steps of two parameters in one call, momentum ${momentum}, nesterov ${nesterov}, weight decay ${weightDecay}, ${threads} thread(s)`, async () => {
        setNativeThreads(threads);
        const r = rng(7 + threads);
        const shape = [256, 288]; // 73728 elements
        resetNativeKernelStats();
        await compareWithCpu(
          'sgd',
          [randomInput(r, shape), randomInput(r, shape), randomInput(r, shape), randomInput(r, [3, 5]), randomInput(r, [3, 5]), randomInput(r, [3, 5])],
          ([w, g, v, w2, g2, v2]) => {
            const hyper = { learningRate: 0.1, momentum, weightDecay, nesterov };
            const items = [
              { w, g, v: momentum > 0 ? v : undefined },
              { w: w2, g: g2, v: momentum > 0 ? v2 : undefined },
            ];
            return sgdSteps(items, hyper).flatMap((next) => (next.v === undefined ? [next.w] : [next.w, next.v]));
          },
          1e-6,
        );
        expect(nativeKernelStats().native.EinnetSgdUpdate).toBe(1);
      });
    }
    it(`moving averages of two running statistics in one call, ${threads} thread(s)`, async () => {
      setNativeThreads(threads);
      const r = rng(11 + threads);
      resetNativeKernelStats();
      await compareWithCpu(
        'moving averages',
        [randomInput(r, [300]), randomInput(r, [300]), randomInput(r, [7]), randomInput(r, [7])],
        ([v, b, v2, b2]) =>
          movingAverages([
            { v, batch: b, momentum: 0.9 },
            { v: v2, batch: b2, momentum: 0.5 },
          ]),
        1e-6,
      );
      expect(nativeKernelStats().native.EinnetMovingAverage).toBe(1);
    });
  }
});
