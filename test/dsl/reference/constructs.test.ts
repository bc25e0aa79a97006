/**
 * One hand-checked case per construct of the language, evaluated by the reference evaluator.
 * The expected numbers are worked out by hand (the working is in the comments), typed from numpy
 * (boundary modes), or computed by a tiny independent loop written here over plain arrays — never
 * by the evaluator itself.
 */
import * as tf from '@tensorflow/tfjs';
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { EinError } from '../../../core/diagnostics';
import { ein } from '../../../dsl/program';

type Nd = { shape: number[]; data: ArrayLike<number>; get(...i: number[]): number };

/** Nested arrays of an ndarray (row-major), for readable comparisons. */
function nested(t: Nd): unknown {
  const build = (prefix: number[]): unknown =>
    prefix.length === t.shape.length ? t.get(...prefix) : Array.from({ length: t.shape[prefix.length] }, (_, k) => build([...prefix, k]));
  return build([]);
}

/** Small integers from a seed, so that float64 sums are exact. */
function ints(seed: number, n: number, lo = -3, hi = 3): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return lo + (s % (hi - lo + 1));
  });
}

/** A row-major nested array of the given shape from flat values. */
function shaped(flat: number[], shape: number[]): unknown {
  const build = (offset: number, axis: number): unknown => {
    if (axis === shape.length) return flat[offset];
    const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[axis] }, (_, k) => build(offset + k * stride, axis + 1));
  };
  return build(0, 0);
}

/**
 * Independent 2-D convolution (correlation, as CNNs compute it) over plain arrays:
 * x[h][w][c], f[kh][kw][c][o] → out[i][j][o], zero padding, stride, dilation.
 */
function conv2dLoop(
  x: number[][][],
  f: number[][][][],
  opt: { stride?: number; pad?: number; dilation?: number; outH?: number; outW?: number } = {},
): number[][][] {
  const [s, p, d] = [opt.stride ?? 1, opt.pad ?? 0, opt.dilation ?? 1];
  const [H, W, C] = [x.length, x[0].length, x[0][0].length];
  const [KH, KW, O] = [f.length, f[0].length, f[0][0][0].length];
  const outH = opt.outH ?? Math.floor((H + 2 * p - d * (KH - 1) - 1) / s) + 1;
  const outW = opt.outW ?? Math.floor((W + 2 * p - d * (KW - 1) - 1) / s) + 1;
  const out: number[][][] = [];
  for (let i = 0; i < outH; i++) {
    out.push([]);
    for (let j = 0; j < outW; j++) {
      out[i].push([]);
      for (let o = 0; o < O; o++) {
        let acc = 0;
        for (let a = 0; a < KH; a++) {
          for (let b = 0; b < KW; b++) {
            const r = i * s + a * d - p;
            const q = j * s + b * d - p;
            if (r < 0 || r >= H || q < 0 || q >= W) continue;
            for (let c = 0; c < C; c++) acc += f[a][b][c][o] * x[r][q][c];
          }
        }
        out[i][j].push(acc);
      }
    }
  }
  return out;
}

describe('convolution variants', () => {
  it('dilation: W[Δx] · X[x + 2*Δx] (hand)', () => {
    // Y[x] = X[x] + 10·X[x+2] + 100·X[x+4]; valid range 7 - 2·2 = 3.
    const { Y } = ein`Y[x] = W[Δx] · X[x + 2*Δx]`.evaluateReference({ W: [1, 10, 100], X: [1, 2, 3, 4, 5, 6, 7] });
    expect(nested(Y)).toEqual([1 + 30 + 500, 2 + 40 + 600, 3 + 50 + 700]);
  });

  it('stride with dilation: X[3*x + 2*Δx] (hand)', () => {
    // X[i] = i+1. Y[x] = 2·X[3x] + X[3x+2] = 2(3x+1) + (3x+3) = 9x + 5; valid x: 3x+2 ≤ 9 → x ≤ 2.
    const { Y } = ein`Y[x] = W[Δx] · X[3*x + 2*Δx]`.evaluateReference({ W: [2, 1], X: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
    expect(nested(Y)).toEqual([5, 14, 23]);
  });

  it('2-D stride 2 with dilation 2, inferred output extent, against an independent loop', () => {
    const x = shaped(ints(1, 9 * 9 * 2), [9, 9, 2]) as number[][][];
    const f = shaped(ints(2, 3 * 3 * 2 * 3), [3, 3, 2, 3]) as number[][][][];
    const p = ein`Y[x,y,j] = W[Δx,Δy,I,j] · X[2*x + 2*Δx, 2*y + 2*Δy, I]`;
    expect(p.check({ X: [9, 9, 2], W: [3, 3, 2, 3] }).shapes.Y).toEqual([3, 3, 3]); // ⌊(9 - 4 - 1)/2⌋ + 1
    expect(nested(p.evaluateReference({ X: x, W: f }).Y)).toEqual(conv2dLoop(x, f, { stride: 2, dilation: 2 }));
  });

  it('"same" padding: offset -1 and a declared extent, against an independent zero-padded loop', () => {
    const x = shaped(ints(3, 5 * 5 * 2), [5, 5, 2]) as number[][][];
    const f = shaped(ints(4, 3 * 3 * 2 * 2), [3, 3, 2, 2]) as number[][][][];
    const { Y } = ein`Y[x:5, y:5, j] = W[Δx,Δy,I,j] · X[x+Δx-1, y+Δy-1, I]`.evaluateReference({ X: x, W: f });
    expect(nested(Y)).toEqual(conv2dLoop(x, f, { pad: 1 }));
  });

  it('grouping with a composite axis (hand): 4 input channels in 2 groups, 3 outputs per group', () => {
    // Group 0 reads channels [1, 2], group 1 reads [3, 4].
    // g0: j0 = 1·1 + 2·0 = 1, j1 = 1·0 + 2·1 = 2, j2 = 1·1 + 2·1 = 3
    // g1: j0 = 3·1 + 4·2 = 11, j1 = 3·1 + 4·0 = 3, j2 = 3·0 + 4·1 = 4
    const W = [
      [
        [1, 0, 1],
        [0, 1, 1],
      ],
      [
        [1, 1, 0],
        [2, 0, 1],
      ],
    ];
    const p = ein`Y[b,(g,j)] = W[g,i,j] · X[b,(g,i)]`;
    const r = p.check({ W: [2, 2, 3], X: [1, 4] });
    expect(r.shapes.Y).toEqual([1, 6]);
    expect(r.ranges.Y.get('g')!.extent).toBe(2);
    expect(nested(p.evaluateReference({ W, X: [[1, 2, 3, 4]] }).Y)).toEqual([[1, 2, 3, 11, 3, 4]]);
  });

  it('grouped 2-D convolution (the missing group count inferred from the axis), against per-group loops', () => {
    const G = 2;
    const x = shaped(ints(5, 4 * 4 * 4), [4, 4, 4]) as number[][][];
    const w = shaped(ints(6, 2 * 2 * G * 2 * 3), [2, 2, G, 2, 3]) as number[][][][][];
    const p = ein`Y[x, y, (g,j)] = W[Δx,Δy,g,i,j] · X[x+Δx, y+Δy, (g,i)]`;
    const { Y } = p.evaluateReference({ X: x, W: w });
    expect(Y.shape).toEqual([3, 3, 6]);
    for (let g = 0; g < G; g++) {
      // Each group is an ordinary convolution of its slice of channels with its slice of filters.
      const xg = x.map((row) => row.map((px) => px.slice(g * 2, g * 2 + 2)));
      const fg = w.map((row) => row.map((taps) => taps[g]));
      const yg = conv2dLoop(xg, fg);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let o = 0; o < 3; o++) expect(Y.get(i, j, g * 3 + o)).toBe(yg[i][j][o]);
    }
  });

  it('depthwise: the channel index stays on the left, so it is not summed (hand)', () => {
    // D[x,0] = X[x,0] + X[x+1,0] = [1+2, 2+3]; D[x,1] = X[x,1] − X[x+1,1] = [10−20, 20−30].
    const { D } = ein`D[x,c] = K[Δx,c] · X[x+Δx, c]`.evaluateReference({
      K: [
        [1, 1],
        [1, -1],
      ],
      X: [
        [1, 10],
        [2, 20],
        [3, 30],
      ],
    });
    expect(nested(D)).toEqual([
      [3, -10],
      [5, -10],
    ]);
  });

  it('3-D convolution (hand, closed form)', () => {
    // X[i,j,k] = 9i + 3j + k, W = 1 on a 2x2x2 window:
    // V[x,y,z] = Σ 9(x+a) + 3(y+c) + (z+e) = 8(9x + 3y + z) + 4·(9 + 3 + 1).
    const X = shaped(
      Array.from({ length: 27 }, (_, n) => n),
      [3, 3, 3],
    );
    const W = shaped(Array(8).fill(1), [2, 2, 2]);
    const { V } = ein`V[x,y,z] = W[a,c,e] · X[x+a, y+c, z+e]`.evaluateReference({ X: X as number[][][], W: W as number[][][] });
    expect(V.shape).toEqual([2, 2, 2]);
    for (let x = 0; x < 2; x++) for (let y = 0; y < 2; y++) for (let z = 0; z < 2; z++) expect(V.get(x, y, z)).toBe(8 * (9 * x + 3 * y + z) + 52);
  });
});

describe('scatter: affine left-hand sides', () => {
  it('transposed convolution, stride 2: overlapping writes add (hand)', () => {
    // T[p] = Σ over 2x+Δx = p of W[Δx]·L[x]: p=2 gets W2·L0 + W0·L1 = 100 + 2; p=4 gets 200 + 3.
    const p = ein`T[2*x+Δx] = W[Δx:3] · L[x]`;
    expect(p.check({ L: [3] }).shapes.T).toEqual([7]); // largest index 2·2 + 2, plus one
    expect(nested(p.evaluateReference({ W: [1, 10, 100], L: [1, 2, 3] }).T)).toEqual([1, 10, 102, 20, 203, 30, 300]);
  });

  it('2-D transposed convolution against an independent scatter loop', () => {
    const L = shaped(ints(7, 3 * 3 * 2), [3, 3, 2]) as number[][][];
    const W = shaped(ints(8, 3 * 3 * 2 * 2), [3, 3, 2, 2]) as number[][][][];
    const out = Array.from({ length: 7 }, () => Array.from({ length: 7 }, () => [0, 0]));
    for (let x = 0; x < 3; x++)
      for (let y = 0; y < 3; y++)
        for (let a = 0; a < 3; a++)
          for (let b = 0; b < 3; b++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) out[2 * x + a][2 * y + b][j] += W[a][b][i][j] * L[x][y][i];
    const { T } = ein`T[2*x+Δx, 2*y+Δy, j] = W[Δx,Δy,I,j] · L[x,y,I]`.evaluateReference({ L, W });
    expect(nested(T)).toEqual(out);
  });

  it('the scatter extent is the largest index + 1, and writes below 0 are dropped (hand)', () => {
    // x = 0 would write T[-1]: dropped. T = [X1, X2].
    const { T } = ein`T[x-1] = X[x]`.evaluateReference({ X: [5, 6, 7] });
    expect(nested(T)).toEqual([6, 7]);
  });
});

describe('concatenation, upsampling, shuffles', () => {
  it('concatenation along the channel axis (hand)', () => {
    const { T } = ein`T[b, J1+J2] = A[b,J1] ; B[b,J2]`.evaluateReference({ A: [[1, 2]], B: [[3, 4, 5]] });
    expect(nested(T)).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('concatenation of computed parts, the second part reduced (hand)', () => {
    // Part 1: 2·A = [2, 4]; part 2: max over k of B[J2,k] = [max(1,7), max(9,3), max(0,-1)].
    const { T } = ein`T[J1+J2] = 2 * A[J1] ; max[k] B[J2,k]`.evaluateReference({
      A: [1, 2],
      B: [
        [1, 7],
        [9, 3],
        [0, -1],
      ],
    });
    expect(nested(T)).toEqual([2, 4, 7, 9, 0]);
  });

  it('nearest-neighbour upsampling X[x/2, y/2] (hand); the extent 2·N is inferred', () => {
    const { U } = ein`U[x,y] = X[x/2, y/2]`.evaluateReference({
      X: [
        [1, 2],
        [3, 4],
      ],
    });
    expect(nested(U)).toEqual([
      [1, 1, 2, 2],
      [1, 1, 2, 2],
      [3, 3, 4, 4],
      [3, 3, 4, 4],
    ]);
  });

  it('channel shuffle: (g, i) read, (i, g) written (hand)', () => {
    // Y[2i + g] = X[3g + i]: [X0, X3, X1, X4, X2, X5].
    const { Y } = ein`Y[b,(i,g)] = X[b,(g:2,i)]`.evaluateReference({ X: [[0, 1, 2, 3, 4, 5]] });
    expect(nested(Y)).toEqual([[0, 3, 1, 4, 2, 5]]);
  });
});

describe('boundaries and padding', () => {
  // Expected values typed from numpy: np.pad([1,2,3,4], 5, mode) for 'edge', 'wrap', 'reflect'.
  const X = [1, 2, 3, 4];
  it('clamp(e) replicates the edge (numpy "edge")', () => {
    const { Y } = ein`Y[x:14] = X[clamp(x-5)]`.evaluateReference({ X });
    expect(nested(Y)).toEqual([1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4]);
  });

  it('wrap(e) is circular (numpy "wrap")', () => {
    const { Y } = ein`Y[x:14] = X[wrap(x-5)]`.evaluateReference({ X });
    expect(nested(Y)).toEqual([4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1]);
  });

  it('reflect(e) mirrors without repeating the edge, -1 → 1 (numpy "reflect")', () => {
    const { Y } = ein`Y[x:14] = X[reflect(x-5)]`.evaluateReference({ X });
    expect(nested(Y)).toEqual([2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3]);
  });

  it('a boundary mode in a 3-tap smoothing: reflect-padded "same" output (hand)', () => {
    // Y[x] = X[r(x-1)] + X[x] + X[r(x+1)], r = reflect: Y0 = X1+X0+X1 = 5, Y3 = X2+X3+X2 = 10.
    const { Y } = ein`Y[x:4] = sum[d:3] X[reflect(x+d-1)]`.evaluateReference({ X });
    expect(nested(Y)).toEqual([5, 6, 9, 10]);
  });

  it('an out-of-range read outside any reduction gives 0 (hand)', () => {
    const { Y } = ein`Y[x:4] = X[x-1] + 1`.evaluateReference({ X: [1, 2, 3] });
    expect(nested(Y)).toEqual([1, 2, 3, 4]);
  });

  it('mean over padding counts the padded terms (count_include_pad, hand)', () => {
    // M0 = (0 + 3 + 6)/3, M1 = (3 + 6 + 9)/3, M2 = (6 + 9 + 0)/3.
    const { M } = ein`M[x:3] = mean[Δx:3] X[x+Δx-1]`.evaluateReference({ X: [3, 6, 9] });
    expect(nested(M)).toEqual([3, 6, 5]);
  });

  it('max ignores out-of-range terms at a padded border instead of seeing zeros (hand)', () => {
    // P0 = max(X0, X1) = −5 (zero padding would give 0), P1 = max(X0..X2) = −5, P2 = max(X1, X2) = −7.
    const { P } = ein`P[x:3] = max[Δx:3] X[x+Δx-1]`.evaluateReference({ X: [-5, -9, -7] });
    expect(nested(P)).toEqual([-5, -5, -7]);
  });

  it('min likewise ignores them, and sum treats them as zeros (hand)', () => {
    const { P, S } = ein`P[x:3] = min[Δx:3] X[x+Δx-1]
S[x:3] = sum[Δx:3] X[x+Δx-1]`.evaluateReference({ X: [5, 9, 7] });
    expect(nested(P)).toEqual([5, 5, 7]);
    expect(nested(S)).toEqual([14, 21, 16]);
  });

  it('a padded border term is dropped as a whole, even when it multiplies something in range', () => {
    // Term Δx=0 at x=0 reads X[-1]: W0·X[-1] is dropped from the max, so P0 = W1·X0 = −2.
    const { P } = ein`P[x:2] = max[Δx:2] W[Δx] · X[x+Δx-1]`.evaluateReference({ W: [1, 2], X: [-1, -3] });
    expect(nested(P)).toEqual([-2, Math.max(1 * -1, 2 * -3)]);
  });
});

describe('pooling variants', () => {
  it('L2 pooling: sqrt(sum[...] square(...)) (hand)', () => {
    // √(3² + 4²) = 5, √(6² + 8²) = 10, √(0² + 5²) = 5.
    const { P } = ein`P[x] = sqrt(sum[Δx:2] square(X[2*x+Δx]))`.evaluateReference({ X: [3, 4, 6, 8, 0, 5] });
    expect(nested(P)).toEqual([5, 10, 5]);
  });

  it('stride-2 max pooling with the extent inferred (hand)', () => {
    const { P } = ein`P[x] = max[Δx:2] X[2*x+Δx]`.evaluateReference({ X: [1, 5, 2, 4, 3, 0, 9] });
    expect(nested(P)).toEqual([5, 4, 3]); // x = 3 would read X[6], X[7]: outside the valid range
  });
});

describe('where an implicit or explicit sum stops', () => {
  const A = [
    [1, 2],
    [3, 4],
  ];
  const B = [10, 100];
  const C = [5, 7];
  it('sum[k] A[i,k]·B[k] + C[i] is (Σ A·B) + C (hand)', () => {
    // Z0 = 10 + 200 + 5 = 215 (a sum over the whole right side would give 210 + 2·5 = 220).
    const { Z } = ein`Z[i] = sum[k] A[i,k]·B[k] + C[i]`.evaluateReference({ A, B, C });
    expect(nested(Z)).toEqual([215, 437]);
  });

  it('the Einstein rule gives the same: k is summed over the product term A·B only', () => {
    const { Z } = ein`Z[i] = A[i,k]·B[k] + C[i]`.evaluateReference({ A, B, C });
    expect(nested(Z)).toEqual([215, 437]);
  });

  it('parentheses extend an aggregator: sum[k] (A[i,k] + B[k]) (hand)', () => {
    // Z0 = (1 + 10) + (2 + 100) = 113, Z1 = (3 + 10) + (4 + 100) = 117.
    const { Z } = ein`Z[i] = sum[k] (A[i,k] + B[k])`.evaluateReference({ A, B });
    expect(nested(Z)).toEqual([113, 117]);
  });

  it('relu(W·X) + B: the sum is inside relu, the bias outside (hand)', () => {
    // pre = [1·1 + 2·1, −1·1 − 3·1] = [3, −4]; relu → [3, 0]; + B → [13, 20].
    const W = [
      [1, -1],
      [2, -3],
    ];
    const { Y } = ein`Y[j] = relu(W[I,j]·X[I]) + B[j]`.evaluateReference({ W, X: [1, 1], B: [10, 20] });
    expect(nested(Y)).toEqual([13, 20]);
  });

  it("the slides' σ(W·L − B): B is subtracted once, after the sum", () => {
    const W = [
      [1, -1],
      [2, -3],
    ];
    const { Y } = ein`Y[j] = σ(W[I,j]·X[I] − B[j])`.evaluateReference({ W, X: [1, 1], B: [1, -2] });
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    expect(Y.get(0)).toBeCloseTo(sigmoid(3 - 1), 12);
    expect(Y.get(1)).toBeCloseTo(sigmoid(-4 + 2), 12);
  });
});

describe('scalars, consts and input forms', () => {
  it('rank-0 outputs, read back by bare name (hand)', () => {
    // s = 1+2+3+4 = 10; n = Σ X² = 30; Y = X / s.
    const r = ein`s = sum[i] X[i]
n = X[i]·X[i]
Y[i] = X[i] / s`.evaluateReference({ X: [1, 2, 3, 4] });
    expect(r.s.shape).toEqual([]);
    expect(r.s.get()).toBe(10);
    expect(r.n.get()).toBe(30);
    expect(nested(r.Y)).toEqual([0.1, 0.2, 0.3, 0.4]);
  });

  it('consts as coefficients, extents and values; supplied and overridden from TypeScript (hand)', () => {
    const X = [1, 5, 2, 4, 3, 0];
    const p = ein`const s = 2
const eps = 0.5
Y[x] = max[Δx:s] X[s*x+Δx] + eps`;
    // s = 2: windows [1,5] [2,4] [3,0] → [5, 4, 3] + 0.5.
    expect(nested(p.evaluateReference({ X }).Y)).toEqual([5.5, 4.5, 3.5]);
    // s = 3 from TypeScript overrides the declared 2: windows [1,5,2] [4,3,0] → [5, 4] + 0.5.
    expect(nested(p.evaluateReference({ X }, { consts: { s: 3 } }).Y)).toEqual([5.5, 4.5]);
    // A const declared without a value must be supplied.
    const q = ein`const k
Y[x] = X[k*x]`;
    expect(() => q.check({ X: [6] })).toThrow(EinError);
    expect(nested(q.evaluateReference({ X }, { consts: { k: 2 } }).Y)).toEqual([1, 2, 3]);
  });

  it('inputs as ndarrays (also strided views), nested arrays, numbers and tf tensors', () => {
    const before = tf.memory().numTensors;
    const t = tf.tensor1d([100, 200]);
    const base = ndarray(Float64Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const r = ein`Y[i,j] = a * X[i,j] + b[j]
Z[j] = T[j] + Y[0,j]`.evaluateReference({ X: base.transpose(1, 0), a: 10, b: [1, 2], T: t });
    t.dispose();
    // X is the transposed view [[1,4],[2,5],[3,6]]; Y = 10·X + [1, 2].
    expect(nested(r.Y)).toEqual([
      [11, 42],
      [21, 52],
      [31, 62],
    ]);
    expect(nested(r.Z)).toEqual([100 + 11, 200 + 42]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the LeNet program of LANGUAGE.md §1: parameter shapes are inferred', () => {
    const p = ein`L1[b,x,y,j:6]  = relu(W1[Δx:5,Δy:5,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])
L2[b,x,y,j]    = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]`;
    const r = p.check({ L0: [2, 28, 28, 1] });
    // 28 − 5 + 1 = 24; pooling: 2x + 1 ≤ 23 → 12.
    expect(r.shapes).toMatchObject({ L1: [2, 24, 24, 6], W1: [5, 5, 1, 6], B1: [6], L2: [2, 12, 12, 6] });
    expect(r.inputs).toEqual(['L0']);
    expect([...r.params].sort()).toEqual(['B1', 'W1']);
    expect(r.checked.tensors.get('W1')!.init?.name).toBe('glorot_uniform');
    expect(r.checked.tensors.get('B1')!.init?.name).toBe('zeros');
  });
});
