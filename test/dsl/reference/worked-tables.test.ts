/**
 * The course's worked convolution and pooling tables, reproduced by the reference evaluator.
 * Inputs and expected outputs are typed in from the published tables, not computed here.
 *
 * All of them are correlations, as CNN layers are: the window at (x, y) multiplies W[Δx, Δy] with
 * X[x+Δx, y+Δy], no kernel flip. The 6x6 vertical-edge table settles it: its filter is
 * antisymmetric left-right, so a flipped (mathematical) convolution would give every entry
 * negated — the test checks both.
 */
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { ein } from '../../../dsl/program';
// The worked 5x5 input and 3x3 filter ("no padding, unit strides") and their tables, shared with the playground page.
import { CONV_PAD1_STRIDE2, CONV_VALID, FILTER_3x3, INPUT_5x5, MAX_POOL_3x3, MEAN_POOL_3x3 } from '../../../playground/course-tables';

/** Row-major nested arrays of an ndarray, for readable comparisons. */
function rows(t: { shape: number[]; get(...i: number[]): number }): number[][] {
  const [h, w] = t.shape.slice(-2);
  const lead = t.shape.slice(0, -2).map(() => 0);
  return Array.from({ length: h }, (_, i) => Array.from({ length: w }, (_, j) => t.get(...lead, i, j)));
}

/** Adds a batch and a channel axis: [h, w] → [1, h, w, 1]. */
function nhwc(m: number[][]): number[][][][] {
  return [m.map((row) => row.map((v) => [v]))];
}

describe('the worked 5×5 ⊛ 3×3 example: convolution and pooling', () => {
  it('5x5 input ⊛ 3x3 filter, no padding, stride 1 → 3x3 (layer notation, inferred shapes)', () => {
    const p = ein`L1[b,x,y,j] = W[Δx,Δy,I,j] · L0[b,x+Δx,y+Δy,I]`;
    const W = FILTER_3x3.map((r) => r.map((v) => [[v]])); // [3,3,1,1]
    const { shapes } = p.check({ L0: [1, 5, 5, 1], W: [3, 3, 1, 1] });
    expect(shapes.L1).toEqual([1, 3, 3, 1]);
    const { L1 } = p.evaluateReference({ L0: nhwc(INPUT_5x5), W });
    expect(rows(L1.pick(null, null, null, 0) as never)).toEqual(CONV_VALID);
  });

  it('zero padding 1, stride 2 → 3x3: padding is an offset of -1 with a declared extent', () => {
    const p = ein`L1[b, x:3, y:3, j] = W[Δx,Δy,I,j] · L0[b, 2*x+Δx-1, 2*y+Δy-1, I]`;
    const { L1 } = p.evaluateReference({ L0: nhwc(INPUT_5x5), W: FILTER_3x3.map((r) => r.map((v) => [[v]])) });
    expect(L1.shape).toEqual([1, 3, 3, 1]);
    expect(rows(L1.pick(null, null, null, 0) as never)).toEqual(CONV_PAD1_STRIDE2);
  });

  it('3x3 max pooling, stride 1 → 3x3', () => {
    const { P } = ein`P[x,y] = max[Δx:3,Δy:3] X[x+Δx, y+Δy]`.evaluateReference({ X: INPUT_5x5 });
    expect(rows(P)).toEqual(MAX_POOL_3x3);
  });

  it('3x3 mean pooling, stride 1 → 3x3 (the table rounds to one decimal)', () => {
    const { M } = ein`M[x,y] = mean[Δx:3,Δy:3] X[x+Δx, y+Δy]`.evaluateReference({ X: INPUT_5x5 });
    expect(rows(M).map((r) => r.map((v) => Math.round(v * 10) / 10))).toEqual(MEAN_POOL_3x3);
  });
});

describe('the box filter h[m,n] = Σ_{k,l} f[k,l] I[m+k, n+l]', () => {
  it('10x10 image, 3x3 box of 1/9 → the 8x8 table', () => {
    const I = [
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 90, 90, 90, 90, 90, 0, 0],
      [0, 0, 0, 90, 90, 90, 90, 90, 0, 0],
      [0, 0, 0, 90, 90, 90, 90, 90, 0, 0],
      [0, 0, 0, 90, 0, 90, 90, 90, 0, 0],
      [0, 0, 0, 90, 90, 90, 90, 90, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 90, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ];
    const h = [
      [0, 10, 20, 30, 30, 30, 20, 10],
      [0, 20, 40, 60, 60, 60, 40, 20],
      [0, 30, 60, 90, 90, 90, 60, 30],
      [0, 30, 50, 80, 80, 90, 60, 30],
      [0, 30, 50, 80, 80, 90, 60, 30],
      [0, 20, 30, 50, 50, 60, 40, 20],
      [10, 20, 30, 30, 30, 30, 20, 10],
      [10, 10, 10, 0, 0, 0, 0, 0],
    ];
    const f = [0, 1, 2].map(() => [1 / 9, 1 / 9, 1 / 9]);
    // The textbook formula, written as it is printed; `f` and `I` given as an ndarray and nested arrays.
    const p = ein`h[m,n] = f[k,l] I[m+k, n+l]`;
    const out = p.evaluateReference({ f: ndarray(Float64Array.from(f.flat()), [3, 3]), I }).h;
    expect(out.shape).toEqual([8, 8]);
    const got = rows(out);
    for (let m = 0; m < 8; m++) for (let n = 0; n < 8; n++) expect(got[m][n], `h[${m},${n}]`).toBeCloseTo(h[m][n], 10);
  });
});

describe('the 6x6 vertical-edge example', () => {
  const image = [
    [3, 0, 1, 2, 7, 4],
    [1, 5, 8, 9, 3, 1],
    [2, 7, 2, 5, 1, 3],
    [0, 1, 3, 1, 7, 8],
    [4, 2, 1, 6, 2, 8],
    [2, 4, 5, 2, 3, 9],
  ];
  const filter = [
    [1, 0, -1],
    [1, 0, -1],
    [1, 0, -1],
  ];
  const table = [
    [-5, -4, 0, 8],
    [-10, -2, 2, 3],
    [0, -2, -4, -7],
    [-3, -2, -3, -16],
  ];

  it('6x6 image * 3x3 filter → 4x4, as a correlation (the CNN meaning of *)', () => {
    const { Y } = ein`Y[x,y] = W[Δx,Δy] · X[x+Δx, y+Δy]`.evaluateReference({ X: image, W: filter });
    expect(rows(Y)).toEqual(table);
  });

  it('a flipped-kernel (mathematical) convolution would give the table negated, so the seed means correlation', () => {
    const { Y } = ein`Y[x,y] = sum[Δx:3,Δy:3] W[2-Δx, 2-Δy] · X[x+Δx, y+Δy]`.evaluateReference({ X: image, W: filter });
    expect(rows(Y)).toEqual(table.map((r) => r.map((v) => (v === 0 ? 0 : -v))));
  });
});
