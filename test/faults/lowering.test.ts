/**
 * Faults in lowering, one `it` per fault: reads and left-hand sides with index arithmetic that
 * built dense 0/1 selection matrices (quadratic in the data: RangeError or minutes), intermediates
 * larger than a tensor can hold (minutes of work, then an out-of-memory), and index constants
 * beyond 2^53. The truth is the reference evaluator (`p.evaluateReference`) wherever a value
 * results; the size of a plan is read from `explain()`, so "linear in the data" is checked
 * without timing anything.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EinError } from '../../core/diagnostics';
import { ein, type Program } from '../../dsl/program';
import { gradientMismatches, makeLeaves, mismatches, seededRandom, useBackend } from '../dsl/lower/harness';

/** The largest step of the plan for these shapes, in elements (from explain()'s `→ [shape]`). */
function largestStep(p: Program, shapes: Record<string, readonly number[]>): number {
  let largest = 0;
  for (const m of p.explain(shapes).matchAll(/→ \[([\d,]*)\]/g)) {
    const size = m[1] === '' ? 1 : m[1].split(',').reduce((a, d) => a * Number(d), 1);
    largest = Math.max(largest, size);
  }
  return largest;
}

/** Runs `p` on `values` (1-D inputs) and compares every output with the reference. */
function againstReference(p: Program, values: Record<string, Float32Array>, rtol = 1e-4): string[] {
  const bound: Record<string, tf.Tensor> = {};
  for (const [name, v] of Object.entries(values)) bound[name] = tf.tensor1d(v);
  const before = tf.memory().numTensors;
  const want = p.evaluateReference(Object.fromEntries(Object.entries(values).map(([n, v]) => [n, { shape: [v.length], data: Float64Array.from(v) }])));
  const got = p.run(bound);
  const problems: string[] = [];
  for (const [name, ref] of Object.entries(want)) {
    expect(got[name].shape).toEqual([...ref.shape]);
    problems.push(...mismatches(name, got[name].dataSync(), ref.data, rtol));
  }
  for (const t of Object.values(got)) t.dispose();
  p.dispose();
  expect(tf.memory().numTensors).toBe(before);
  for (const t of Object.values(bound)) t.dispose();
  return problems;
}

function ramp(n: number, scale = 1e-3): Float32Array {
  return Float32Array.from({ length: n }, (_, k) => Math.sin(k * 0.37) + scale * (k % 17));
}

/** The EinError `f` throws (fails the test when it throws anything else or nothing). */
function einError(f: () => unknown): EinError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EinError);
    return e as EinError;
  }
  throw new Error('expected an EinError, nothing was thrown');
}

describe('lowering faults (cpu)', () => {
  beforeAll(() => useBackend('cpu'));

  it('a 64-wide window over 16,000 elements (sum[d:64] square(X[x+d])) runs, linear in the data, and agrees with the reference', () => {
    const p = ein('Y[x] = sum[d:64] square(X[x+d])');
    // The read itself is 15,937 × 64 values; a selection matrix was 16,000 × 15,937·64.
    expect(largestStep(p, { X: [16000] })).toBeLessThanOrEqual(15937 * 64);
    expect(againstReference(p, { X: ramp(16000) })).toEqual([]);
  });

  it('nearest upsampling U[x] = X[x/2] of 100,000 elements runs, linear in the data, and agrees with the reference', () => {
    const p = ein('U[x] = X[x/2]');
    expect(largestStep(p, { X: [100000] })).toBeLessThanOrEqual(2 * 200000);
    expect(p.explain({ X: [100000] })).not.toMatch(/tf\.matMul|constant \(\d{6,} values\)/);
    expect(againstReference(p, { X: ramp(100000) })).toEqual([]);
  });

  it('other floor divisions, clamps and negative strides of long axes are gathers that agree with the reference', () => {
    const p = ein('A[x:70] = X[(2*x+1)/3]\nB[x:90] = X[clamp(x-2)]\nC[x:60] = X[59-x]\nD[x:40] = X[reflect((x - 2)/2)]');
    const text = p.explain({ X: [60] });
    expect(text.match(/tf\.gather/g)).toHaveLength(4);
    expect(text).not.toMatch(/tf\.matMul/);
    expect(againstReference(p, { X: ramp(60) })).toEqual([]);
  });

  it('axes of at most 32 keep a small selection matrix (at most 32 multiply-adds per value read), agreeing with the reference', () => {
    const p = ein('U[x] = X[x/2]\nB[x:9] = X[clamp(x-2)]');
    const text = p.explain({ X: [16] });
    expect(text).toMatch(/constant \(512 values\) → \[16,32\]/);
    expect(text).not.toMatch(/tf\.gather/);
    expect(againstReference(p, { X: ramp(16) })).toEqual([]);
  });

  it('a stride of 10^15 (X[1000000000000000*i]) reads X[0] only, as the reference does, without a RangeError', () => {
    const p = ein('Y[i:3] = X[1000000000000000*i]');
    expect(largestStep(p, { X: [3] })).toBeLessThanOrEqual(3);
    expect(againstReference(p, { X: Float32Array.from([1, 2, 3]) })).toEqual([]);
    const q = ein('Y[i:3] = sum[k:2] X[1000000000000000*i + k]');
    expect(againstReference(q, { X: Float32Array.from([1, 2, 3]) })).toEqual([]);
  });

  it('index constants beyond 2^53 (X[100000000000000000000*i]) are EIN2030 with a caret at the constant, in check and in the reference', () => {
    const src = 'Y[i:3] = X[100000000000000000000*i]';
    const e = einError(() => ein(src).check({ X: [3] }));
    expect(e.code).toBe('EIN2030');
    expect(src.slice(e.span!.start, e.span!.end)).toBe('100000000000000000000');
    expect(e.message).toMatch(/\^+/);
    expect(einError(() => ein(src).evaluateReference({ X: [1, 2, 3] })).code).toBe('EIN2030');
    expect(einError(() => ein(src).run({ X: tf.tensor1d([1, 2, 3]) })).code).toBe('EIN2030');
  });

  it('a product of index constants beyond 2^53 (100000000*100000000*i) is EIN2030 at the product', () => {
    const src = 'Y[i:3] = X[100000000*100000000*i + 1]';
    const e = einError(() => ein(src).check({ X: [3] }));
    expect(e.code).toBe('EIN2030');
    expect(src.slice(e.span!.start, e.span!.end)).toBe('100000000*100000000');
  });

  it('left-hand scatters (2*x+1 by zero insertion, x+d by scatter-add, writes outside dropped) agree with the reference', () => {
    const p = ein('S[2*x+1] = X[x]\nT[x+d] = X[x] · D[d]\nQ[x-d] = X[x] · D[d]\nR[3*x-2] = X[x]');
    const text = p.explain({ X: [6], D: [3] });
    expect(text).not.toMatch(/tf\.matMul/);
    expect(text).toMatch(/zero insertion/);
    expect(text).toMatch(/scatter-add/);
    expect(againstReference(p, { X: ramp(6), D: Float32Array.from([0.5, -1, 2]) })).toEqual([]);
  });

  it('a strided left-hand side U[2*x] = X[x] over 100,000 elements runs, linear in the data', () => {
    const p = ein('U[2*x] = X[x]');
    expect(largestStep(p, { X: [100000] })).toBeLessThanOrEqual(2 * 200000);
    expect(againstReference(p, { X: ramp(100000) })).toEqual([]);
  });

  it('sum[a,b] (X[a] + V[b]) on two [50000] inputs is EIN2024 naming the statement and the [50000,50000] shape, in milliseconds, allocating nothing', () => {
    const p = ein('S = sum[a,b] (X[a] + V[b])');
    const X = tf.zeros([50000]);
    const V = tf.zeros([50000]);
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    const e = einError(() => p.run({ X, V }));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(tf.memory().numTensors).toBe(before);
    expect(e.code).toBe('EIN2024');
    expect(e.message).toMatch(/\bS\b/);
    expect(e.message).toMatch(/\[50000,50000\]/);
    expect(e.span).toBeDefined();
    X.dispose();
    V.dispose();
  });

  it('sum[a:50000,b:50000] X[a+1] · V[b+1] lowers in milliseconds (no 2.5e9-entry mask on the host) and equals ΣX·ΣV', () => {
    const p = ein('S = sum[a:50000,b:50000] X[a+1] · V[b+1]');
    const x = ramp(50001);
    const v = Float32Array.from(ramp(50001), (t) => 1 - t);
    const t0 = performance.now();
    p.explain({ X: [50001], V: [50001] });
    expect(performance.now() - t0).toBeLessThan(2000);
    let sx = 0;
    let sv = 0;
    for (let k = 1; k < 50001; k++) {
      sx += x[k];
      sv += v[k];
    }
    const X = tf.tensor1d(x);
    const V = tf.tensor1d(v);
    const { S } = p.run({ X, V });
    expect(mismatches('S', S.dataSync(), [sx * sv], 1e-4)).toEqual([]);
    tf.dispose([X, V, S]);
    p.dispose();
  });

  it('a convolution whose output is 33000·32·32·64 elements (> 2^31) is EIN2024 before anything is allocated', () => {
    const p = ein('Y[b,j:64] = mean[x:32,y:32] relu(W[Δx:3,Δy:3,I,j] · X[b,x+Δx-1,y+Δy-1,I])');
    const before = tf.memory().numTensors;
    const e = einError(() => p.explain({ X: [33000, 32, 32, 1] }));
    expect(e.code).toBe('EIN2024');
    expect(e.message).toMatch(/\bY\b/);
    expect(e.message).toMatch(/\[33000,32,32,64\]/);
    expect(tf.memory().numTensors).toBe(before);
    // One batch less than the limit's worth lowers fine.
    expect(() => p.explain({ X: [32000, 32, 32, 1] })).not.toThrow();
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`gather and scatter-add gradients on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    afterAll(() => useBackend('cpu'));

    it(`gathers, upsampling and scatter-adds have gradients that agree with finite differences on ${backend} (wasm lacks UnsortedSegmentSum)`, () => {
      const cases: { src: string; shapes: Record<string, readonly number[]> }[] = [
        { src: 'Y[x] = sum[d:3] square(X[x+d])', shapes: { X: [40] } },
        { src: 'Y[x:80] = X[x/2] · X[clamp(x-1)]', shapes: { X: [40] } },
        { src: 'Y[x+d] = X[x] · D[d]\nZ[2*x+1] = Y[x]\nQ[x-d] = Z[x] · D[d]', shapes: { X: [4], D: [3] } },
      ];
      for (const c of cases) {
        const p = ein(c.src);
        const rand = seededRandom(3);
        expect(gradientMismatches(p, makeLeaves(p, c, rand), rand), c.src).toEqual([]);
        p.dispose();
      }
    });
  });
}
