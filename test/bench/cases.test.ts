/**
 * The benchmark cases (bench/cases.ts) at the sizes each benchmark runs: `npm run bench` keeps
 * its case names at FULL_SIZES, and at any size each case's DSL contender computes what its
 * hand-written tfjs contender computes. The hand-written ResNet-20's subsampling
 * (bench/hand-models.ts) against tfjs' strided slice.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ein } from '../../index';
import { useBackend } from '../dsl/lower/harness';
import { benchCases, FULL_SIZES, SOFTWARE_SIZES, type BenchSizes } from '../../bench/cases';
import { everySecondPixel } from '../../bench/hand-models';

const TINY: BenchSizes = { batch: 2, side: 8, channels: 4, denseBatch: 3, features: 16 };

function names(sizes: BenchSizes): string[] {
  const { cases, dispose } = benchCases(tf, ein, sizes);
  dispose();
  return cases.map((c) => c.name);
}

describe('the benchmark cases', () => {
  beforeAll(() => useBackend('cpu'));

  it('at FULL_SIZES (npm run bench, bench:browser on a GPU) keep their names', () => {
    expect(names(FULL_SIZES)).toEqual([
      '3x3 conv 32x32x64→64, batch 32, forward',
      '3x3 conv 32x32x64→64, batch 32, forward+backward',
      'dense 1024→1024, batch 64, forward',
      'dense 1024→1024, batch 64, forward+backward',
      '3x3/2 max pool 32x32x64, batch 32, forward',
      '3x3/2 max pool 32x32x64, batch 32, forward+backward',
    ]);
  });

  it('at SOFTWARE_SIZES (bench:browser on SwiftShader) name the sizes they run', () => {
    expect(names(SOFTWARE_SIZES)).toEqual([
      '3x3 conv 16x16x64→64, batch 8, forward',
      '3x3 conv 16x16x64→64, batch 8, forward+backward',
      'dense 1024→1024, batch 16, forward',
      'dense 1024→1024, batch 16, forward+backward',
      '3x3/2 max pool 16x16x64, batch 8, forward',
      '3x3/2 max pool 16x16x64, batch 8, forward+backward',
    ]);
  });

  it('compute the same as the hand-written tfjs at another size', async () => {
    const before = tf.memory().numTensors;
    const { cases, dispose } = benchCases(tf, ein, TINY);
    for (const c of cases) {
      if (typeof c.hand === 'string') throw new Error(`${c.name}: ${c.hand}`);
      const got = [c.dsl()].flat();
      const want = [c.hand()].flat();
      expect(got.map((t) => t.shape)).toEqual(want.map((t) => t.shape));
      for (let k = 0; k < got.length; k++) {
        const g = await got[k].data();
        const w = await want[k].data();
        const scale = Math.max(...Array.from(w, Math.abs));
        expect(scale).toBeGreaterThan(0);
        const worst = Math.max(...Array.from(g, (v, i) => Math.abs(v - w[i])));
        expect(worst / scale, `${c.name}, result ${k}`).toBeLessThan(1e-5);
      }
      tf.dispose([...got, ...want]);
    }
    dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the hand-written ResNet-20', () => {
  beforeAll(() => useBackend('cpu'));

  it("takes every second pixel as tfjs' strided slice does, and has its gradient", () => {
    const x = tf.randomNormal([2, 6, 4, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const strided = tf.stridedSlice(x, [0, 0, 0, 0], [2, 6, 4, 3], [1, 2, 2, 1]);
    expect(everySecondPixel(x).arraySync()).toEqual(strided.arraySync());
    // The gradient of Σ r·sub(x): r at the kept pixels, 0 elsewhere.
    const r = tf.randomNormal([2, 3, 2, 3], 0, 1, 'float32', 10);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(everySecondPixel(t as tf.Tensor4D), r)))(x);
    const gv = g.arraySync() as number[][][][];
    const rv = r.arraySync() as number[][][][];
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 4; j++) for (let c = 0; c < 3; c++) expect(gv[n][i][j][c]).toBe(i % 2 === 0 && j % 2 === 0 ? rv[n][i / 2][j / 2][c] : 0);
    tf.dispose([x, strided, r, g]);
  });
});
