/**
 * The course's worked convolution and pooling tables as data: each program, its inputs and the
 * published output table, typed in from the tables (not computed; the 5x5 example's tables live in
 * playground/course-tables.ts, which the playground page shows). The reference evaluator
 * reproduces them (worked-tables.test.ts) and so does every browser backend
 * (test/browser/pages/gpu.ts).
 *
 * All of them are correlations, as CNN layers are: the window at (x, y) multiplies W[Δx, Δy] with
 * X[x+Δx, y+Δy], no kernel flip. The 6x6 vertical-edge table settles it: its filter is
 * antisymmetric left-right, so a flipped (mathematical) convolution gives every entry negated.
 */

import { CONV_PAD1_STRIDE2, CONV_VALID, FILTER_3x3, INPUT_5x5, MAX_POOL_3x3, MEAN_POOL_3x3 } from '../../../playground/course-tables';

export { FILTER_3x3, INPUT_5x5 };

type Nested = number | Nested[];

export interface WorkedTable {
  readonly name: string;
  readonly src: string;
  /** Every tensor the program reads, as nested arrays. */
  readonly inputs: Readonly<Record<string, Nested>>;
  readonly output: string;
  /** The published table: the output without its axes of extent 1 (batch, channel). */
  readonly table: readonly (readonly number[])[];
  /** The table is printed rounded to this many decimals (compare after rounding). */
  readonly decimals?: number;
}

/** Adds a batch and a channel axis: [h, w] → [1, h, w, 1]. */
export function nhwc(m: readonly (readonly number[])[]): number[][][][] {
  return [m.map((row) => row.map((v) => [v]))];
}

/** A [kh, kw] filter as [kh, kw, 1, 1]. */
function hwio(m: readonly (readonly number[])[]): number[][][][] {
  return m.map((r) => r.map((v) => [[v]]));
}

/** The box-filter example: a 10x10 image and its 8x8 table under a 3x3 box of 1/9. */
export const BOX_IMAGE = [
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
export const BOX_FILTER = [0, 1, 2].map(() => [1 / 9, 1 / 9, 1 / 9]);
const BOX_TABLE = [
  [0, 10, 20, 30, 30, 30, 20, 10],
  [0, 20, 40, 60, 60, 60, 40, 20],
  [0, 30, 60, 90, 90, 90, 60, 30],
  [0, 30, 50, 80, 80, 90, 60, 30],
  [0, 30, 50, 80, 80, 90, 60, 30],
  [0, 20, 30, 50, 50, 60, 40, 20],
  [10, 20, 30, 30, 30, 30, 20, 10],
  [10, 10, 10, 0, 0, 0, 0, 0],
];

const EDGE_IMAGE = [
  [3, 0, 1, 2, 7, 4],
  [1, 5, 8, 9, 3, 1],
  [2, 7, 2, 5, 1, 3],
  [0, 1, 3, 1, 7, 8],
  [4, 2, 1, 6, 2, 8],
  [2, 4, 5, 2, 3, 9],
];
const EDGE_FILTER = [
  [1, 0, -1],
  [1, 0, -1],
  [1, 0, -1],
];
const EDGE_TABLE = [
  [-5, -4, 0, 8],
  [-10, -2, 2, 3],
  [0, -2, -4, -7],
  [-3, -2, -3, -16],
];

export const WORKED_TABLES: readonly WorkedTable[] = [
  {
    name: '5x5 input ⊛ 3x3 filter, no padding, stride 1 → 3x3 (layer notation)',
    src: 'L1[b,x,y,j] = W[Δx,Δy,I,j] · L0[b,x+Δx,y+Δy,I]',
    inputs: { L0: nhwc(INPUT_5x5), W: hwio(FILTER_3x3) },
    output: 'L1',
    table: CONV_VALID,
  },
  {
    name: 'zero padding 1, stride 2 → 3x3: padding is an offset of -1 with a declared extent',
    src: 'L1[b, x:3, y:3, j] = W[Δx,Δy,I,j] · L0[b, 2*x+Δx-1, 2*y+Δy-1, I]',
    inputs: { L0: nhwc(INPUT_5x5), W: hwio(FILTER_3x3) },
    output: 'L1',
    table: CONV_PAD1_STRIDE2,
  },
  {
    name: '3x3 max pooling, stride 1 → 3x3',
    src: 'P[x,y] = max[Δx:3,Δy:3] X[x+Δx, y+Δy]',
    inputs: { X: INPUT_5x5 },
    output: 'P',
    table: MAX_POOL_3x3,
  },
  {
    name: '3x3 mean pooling, stride 1 → 3x3 (the table rounds to one decimal)',
    src: 'M[x,y] = mean[Δx:3,Δy:3] X[x+Δx, y+Δy]',
    inputs: { X: INPUT_5x5 },
    output: 'M',
    table: MEAN_POOL_3x3,
    decimals: 1,
  },
  {
    name: 'box filter h[m,n] = Σ f[k,l] I[m+k, n+l]: 10x10 image, 3x3 box of 1/9 → the 8x8 table',
    // The textbook formula, written as it is printed.
    src: 'h[m,n] = f[k,l] I[m+k, n+l]',
    inputs: { f: BOX_FILTER, I: BOX_IMAGE },
    output: 'h',
    table: BOX_TABLE,
  },
  {
    name: '6x6 image * 3x3 vertical-edge filter → 4x4, as a correlation (the CNN meaning of *)',
    src: 'Y[x,y] = W[Δx,Δy] · X[x+Δx, y+Δy]',
    inputs: { X: EDGE_IMAGE, W: EDGE_FILTER },
    output: 'Y',
    table: EDGE_TABLE,
  },
  {
    name: 'a flipped-kernel (mathematical) convolution gives the 6x6 table negated, so the notes mean correlation',
    src: 'Y[x,y] = sum[Δx:3,Δy:3] W[2-Δx, 2-Δy] · X[x+Δx, y+Δy]',
    inputs: { X: EDGE_IMAGE, W: EDGE_FILTER },
    output: 'Y',
    table: EDGE_TABLE.map((r) => r.map((v) => (v === 0 ? 0 : -v))),
  },
];

/**
 * Where `got` (the output's values, flat, row-major) differs from the table: after rounding to
 * the table's decimals, or by more than `rtol` of the table's largest magnitude. Empty when it agrees.
 */
export function tableMismatches(t: WorkedTable, got: ArrayLike<number>, rtol: number): string[] {
  const want = t.table.flat();
  if (got.length !== want.length) return [`${t.output} has ${got.length} values, the table ${want.length}`];
  const scale = Math.max(1, ...want.map(Math.abs));
  const problems: string[] = [];
  for (let k = 0; k < want.length; k++) {
    const g = t.decimals === undefined ? got[k] : Math.round(got[k] * 10 ** t.decimals) / 10 ** t.decimals;
    if (!(Math.abs(g - want[k]) <= rtol * scale)) problems.push(`${t.output}[flat ${k}] = ${got[k]}, table ${want[k]}`);
  }
  return problems;
}
