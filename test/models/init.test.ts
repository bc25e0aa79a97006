/**
 * Initializers: fan-in/fan-out read from the parameter's role in the program (conv, dense,
 * depthwise, grouped, batch-norm scale), the docs/language.md §3 distributions (limits and moments
 * against their formulas), seeding, and bad arguments.
 */
import { describe, expect, it } from 'vitest';
import { ein } from '../../dsl/program';
import { fansOf, initialValues, parameterRandom } from '../../models/init';
import { seededRandom } from '../../core/random';
import { failure } from './helpers';

const checkedOf = (src: string, shapes: Record<string, number[]>) => ein(src).check(shapes).checked;

function moments(v: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let s2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    s += x;
    s2 += x * x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean), min, max };
}

describe('fan-in and fan-out from the parameter role', () => {
  it('conv W[Δx,Δy,I,j]: fan_in = kx·ky·i, fan_out = kx·ky·j', () => {
    const c = checkedOf('Y[b,x:8,y:8,j:16] = W[Δx:3,Δy:3,I,j] · X[b,x+Δx-1,y+Δy-1,I] + B[j]', { X: [1, 8, 8, 4] });
    expect(fansOf(c, 'W')).toEqual({ fanIn: 3 * 3 * 4, fanOut: 3 * 3 * 16, statement: 'Y' });
  });
  it('strided 5×5 conv: 5·5·3 in, 5·5·6 out', () => {
    const c = checkedOf('Y[b,x,y,j:6] = W[Δx:5,Δy:5,I,j] · X[b,2*x+Δx,2*y+Δy,I]', { X: [1, 32, 32, 3] });
    expect(fansOf(c, 'W')).toMatchObject({ fanIn: 75, fanOut: 150 });
  });
  it('dense W[i,k]: fan_in = i, fan_out = k; dense over a feature map: x·y·i in', () => {
    expect(fansOf(checkedOf('Y[b,k:10] = W[i,k] · X[b,i]', { X: [2, 84] }), 'W')).toMatchObject({ fanIn: 84, fanOut: 10 });
    expect(fansOf(checkedOf('Y[b,k:120] = W[x,y,i,k] · X[b,x,y,i]', { X: [2, 5, 5, 16] }), 'W')).toMatchObject({ fanIn: 400, fanOut: 120 });
  });
  it('depthwise W[Δx,Δy,j]: the channel pairs input and output, so fan_in = fan_out = 9', () => {
    const c = checkedOf('Y[b,x:8,y:8,j] = W[Δx:3,Δy:3,j] · X[b,x+Δx-1,y+Δy-1,j]', { X: [1, 8, 8, 5] });
    expect(fansOf(c, 'W')).toMatchObject({ fanIn: 9, fanOut: 9 });
  });
  it('grouped 1×1 conv W[g,I,j]: fan_in = I per group, fan_out = j per group', () => {
    const c = checkedOf('Y[b,x,y,(g,j)] = W[g,I,j:4] · X[b,x,y,(g:2,I)]', { X: [1, 4, 4, 6] });
    expect(fansOf(c, 'W')).toMatchObject({ fanIn: 3, fanOut: 4 });
  });
  it('batch-norm scale γ[j] and a bias: 1 and 1 / 1 and j', () => {
    const c = checkedOf('Y[b,j] = G[j] · X[b,j] + B[j]', { X: [2, 5] });
    expect(fansOf(c, 'G')).toMatchObject({ fanIn: 1, fanOut: 1 });
    expect(fansOf(c, 'B')).toMatchObject({ fanIn: 1, fanOut: 1 });
  });
});

describe('initializer distributions', () => {
  const fans = { fanIn: 300, fanOut: 100 };
  const n = 40000;
  it('glorot_uniform stays within ±√(6/(fi+fo)) and has its variance 2/(fi+fo)', () => {
    const v = initialValues({ name: 'glorot_uniform', args: [] }, [n], fans, seededRandom(1));
    const m = moments(v);
    const limit = Math.sqrt(6 / 400);
    expect(m.max).toBeLessThanOrEqual(limit);
    expect(m.min).toBeGreaterThanOrEqual(-limit);
    expect(m.max).toBeGreaterThan(0.99 * limit);
    expect(Math.abs(m.std / Math.sqrt(2 / 400) - 1)).toBeLessThan(0.02);
  });
  it('glorot_normal: std √(2/(fi+fo)); he_normal: std √(2/fi); he_uniform: limit √(6/fi)', () => {
    // Sampling error of a std from 40,000 draws is about 0.4%; allow 2%.
    const gn = moments(initialValues({ name: 'glorot_normal', args: [] }, [n], fans, seededRandom(2)));
    expect(Math.abs(gn.std / Math.sqrt(2 / 400) - 1)).toBeLessThan(0.02);
    const he = moments(initialValues({ name: 'he_normal', args: [] }, [n], fans, seededRandom(3)));
    expect(he.std).toBeCloseTo(Math.sqrt(2 / 300), 2);
    expect(Math.abs(he.mean)).toBeLessThan(0.003);
    const hu = moments(initialValues({ name: 'he_uniform', args: [] }, [n], fans, seededRandom(4)));
    expect(hu.max).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    expect(hu.std).toBeCloseTo(Math.sqrt(2 / 300), 2);
  });
  it('normal(m, s), uniform(a, b), zeros, ones', () => {
    const nm = moments(initialValues({ name: 'normal', args: [1, 0.5] }, [n], fans, seededRandom(5)));
    expect(nm.mean).toBeCloseTo(1, 1);
    expect(nm.std).toBeCloseTo(0.5, 1);
    const u = moments(initialValues({ name: 'uniform', args: [2, 3] }, [n], fans, seededRandom(6)));
    expect(u.min).toBeGreaterThanOrEqual(2);
    expect(u.max).toBeLessThan(3);
    expect(u.mean).toBeCloseTo(2.5, 2);
    expect([...initialValues({ name: 'zeros', args: [] }, [3], fans, seededRandom(7))]).toEqual([0, 0, 0]);
    expect([...initialValues({ name: 'ones', args: [] }, [2], fans, seededRandom(7))]).toEqual([1, 1]);
  });
  it('the Glorot & Bengio (2010) Xavier interval: fan_in = fan_out = N gives ±√(3/N)', () => {
    const v = initialValues({ name: 'glorot_uniform', args: [] }, [n], { fanIn: 12, fanOut: 12 }, seededRandom(8));
    expect(moments(v).max).toBeLessThanOrEqual(Math.sqrt(3 / 12));
    expect(moments(v).max).toBeGreaterThan(0.99 * Math.sqrt(3 / 12));
  });
  it('is seeded per (seed, name): same numbers again, other names and seeds differ', () => {
    const a = initialValues({ name: 'he_normal', args: [] }, [5], fans, parameterRandom(1, 'L1.W'));
    const b = initialValues({ name: 'he_normal', args: [] }, [5], fans, parameterRandom(1, 'L1.W'));
    const c = initialValues({ name: 'he_normal', args: [] }, [5], fans, parameterRandom(1, 'L2.W'));
    const d = initialValues({ name: 'he_normal', args: [] }, [5], fans, parameterRandom(2, 'L1.W'));
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
    expect([...a]).not.toEqual([...d]);
  });
  it('rejects a negative standard deviation and an inverted interval (EIN4011)', () => {
    const e = failure(() => initialValues({ name: 'normal', args: [0, -1] }, [3], fans, seededRandom(1), 'parameter W'));
    expect(e.code).toBe('EIN4011');
    expect(e.message).toContain('parameter W');
    expect(failure(() => initialValues({ name: 'uniform', args: [1, 0] }, [3], fans, seededRandom(1))).code).toBe('EIN4011');
  });
});
