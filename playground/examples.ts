/**
 * The course's worked examples: each a program, its input shapes, the example's tensors where the
 * lecture gives numbers, the lecture's expected table, and how to compute the same table from
 * what einnet reports (`check`'s shapes, or the outputs of a run).
 */
import { receptiveFields, type CheckReport } from '../browser';
import { CONV_PAD1_STRIDE2, CONV_VALID, FILTER_3x3, INPUT_5x5, MAX_POOL_3x3, MEAN_POOL_3x3, RECEPTIVE_FIELD_TABLE } from './course-tables';

export type Cell = string | number;

export interface TableData {
  readonly caption: string;
  readonly header?: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

/** An output read back from the backend. */
export interface ReadTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface ComputeContext {
  readonly report: CheckReport;
  /** After a run: every output, read back. */
  readonly outputs?: Readonly<Record<string, ReadTensor>>;
}

export interface CourseExample {
  readonly id: string;
  readonly title: string;
  readonly program: string;
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  /** Row-major values of the tensors the lecture gives (the rest are random when run). */
  readonly values?: Readonly<Record<string, readonly number[]>>;
  readonly expected: TableData;
  /** The table of `expected`, computed; undefined until what it needs is there (a run). */
  computed(ctx: ComputeContext): TableData | undefined;
}

/** The last two axes of `t` at index 0 of the others, as rows. */
export function lastTwoAxes(t: ReadTensor): number[][] {
  const [h, w] = t.shape.length >= 2 ? t.shape.slice(-2) : [1, t.shape[0] ?? 1];
  return Array.from({ length: h }, (_, i) => Array.from(t.data.subarray(i * w, i * w + w)));
}

/** Channel 0 of image 0 of an NHWC tensor, as rows. */
function firstChannel(t: ReadTensor): number[][] {
  const [, h, w, c] = t.shape;
  return Array.from({ length: h }, (_, x) => Array.from({ length: w }, (_, y) => t.data[(x * w + y) * c]));
}

function numericExample(
  id: string,
  title: string,
  program: string,
  shapes: Record<string, number[]>,
  values: Record<string, number[]>,
  output: string,
  expected: number[][],
  read: (t: ReadTensor) => number[][],
): CourseExample {
  return {
    id,
    title,
    program,
    shapes,
    values,
    expected: { caption: `lecture: ${output}`, rows: expected },
    computed: ({ outputs }) => (outputs?.[output] ? { caption: `computed: ${output}`, rows: read(outputs[output]) } : undefined),
  };
}

const round1 = (rows: number[][]) => rows.map((r) => r.map((v) => Math.round(v * 10) / 10));
const shapeRows = (report: CheckReport, names: readonly string[]) => names.map((n) => [n, `[${(report.shapes[n] ?? []).join(', ')}]`]);

/** The receptive-field stack: pad by 1, then a 3×3 convolution with the layer's stride. */
function stackProgram(strides: readonly number[], n: number): string {
  const lines: string[] = [];
  let size = n;
  strides.forEach((s, i) => {
    const l = i + 1;
    lines.push(`P${l}[x:${size + 2}, y:${size + 2}] = L${i}[x - 1, y - 1]`);
    lines.push(`L${l}[x, y] = W${l}[Δx:3, Δy:3] · P${l}[${s}*x + Δx, ${s}*y + Δy]`);
    size = Math.floor((size + 2 - 3) / s) + 1;
  });
  return lines.join('\n');
}

const GROUPS = [1, 2, 4, 8, 64];

export const EXAMPLES: readonly CourseExample[] = [
  numericExample(
    'conv',
    '5×5 ⊛ 3×3 convolution',
    'L1[b,x,y,j] = W[Δx,Δy,I,j] · L0[b,x+Δx,y+Δy,I]',
    { L0: [1, 5, 5, 1], W: [3, 3, 1, 1] },
    { L0: INPUT_5x5.flat(), W: FILTER_3x3.flat() },
    'L1',
    CONV_VALID,
    firstChannel,
  ),
  numericExample(
    'pad-stride',
    'zero padding 1, stride 2',
    'L1[b, x:3, y:3, j] = W[Δx,Δy,I,j] · L0[b, 2*x+Δx-1, 2*y+Δy-1, I]',
    { L0: [1, 5, 5, 1], W: [3, 3, 1, 1] },
    { L0: INPUT_5x5.flat(), W: FILTER_3x3.flat() },
    'L1',
    CONV_PAD1_STRIDE2,
    firstChannel,
  ),
  numericExample(
    'max-pool',
    '3×3 max pooling',
    'P[x,y] = max[Δx:3,Δy:3] X[x+Δx, y+Δy]',
    { X: [5, 5] },
    { X: INPUT_5x5.flat() },
    'P',
    MAX_POOL_3x3,
    lastTwoAxes,
  ),
  numericExample('mean-pool', '3×3 mean pooling', 'M[x,y] = mean[Δx:3,Δy:3] X[x+Δx, y+Δy]', { X: [5, 5] }, { X: INPUT_5x5.flat() }, 'M', MEAN_POOL_3x3, (t) =>
    round1(lastTwoAxes(t)),
  ),
  {
    id: 'receptive-field',
    title: 'dilation and receptive fields',
    program: [
      '# a 3×3 filter with dilation 2 sees 5×5 pixels',
      'D[x, y] = V[Δx:3, Δy:3] · L0[x + 2*Δx, y + 2*Δy]',
      "# the lecture's stack of eight 3×3 layers",
      stackProgram(RECEPTIVE_FIELD_TABLE.stride, RECEPTIVE_FIELD_TABLE.input),
    ].join('\n'),
    shapes: { L0: [RECEPTIVE_FIELD_TABLE.input, RECEPTIVE_FIELD_TABLE.input] },
    expected: {
      caption: 'lecture: eight 3×3 layers on 256×256',
      header: ['layer', 'stride', 'output', 'field'],
      rows: RECEPTIVE_FIELD_TABLE.stride.map((s, i) => [i + 1, s, RECEPTIVE_FIELD_TABLE.outputSize[i], RECEPTIVE_FIELD_TABLE.field[i]]),
    },
    computed: ({ report }) => {
      const fields = receptiveFields({ kernel: RECEPTIVE_FIELD_TABLE.stride.map(() => 3), stride: RECEPTIVE_FIELD_TABLE.stride });
      const dilated = receptiveFields([{ kernel: 3, dilation: 2 }])[0].receptiveField;
      return {
        caption: `computed: output from check(), field r = r + (k−1)·jump (D: ${dilated}×${dilated})`,
        header: ['layer', 'stride', 'output', 'field'],
        rows: RECEPTIVE_FIELD_TABLE.stride.map((s, i) => [i + 1, s, report.shapes[`L${i + 1}`]?.[0] ?? '?', fields[i].receptiveField]),
      };
    },
  },
  {
    id: 'grouping',
    title: 'grouped convolution',
    program: 'L1[b, x:28, y:28, (g, j:16)] = W[Δx:3, Δy:3, g, I, j] · L0[b, x + Δx - 1, y + Δy - 1, (g:4, I)]',
    shapes: { L0: [1, 28, 28, 64] },
    expected: {
      caption: 'lecture: G groups use G times fewer weights (3×3, 64 → 64 channels)',
      header: ['G', 'weights'],
      rows: GROUPS.map((g) => [g, (9 * 64 * 64) / g]),
    },
    computed: ({ report }) => {
      const w = report.shapes.W ?? [];
      const groups = w[2] ?? 1;
      const size = w.reduce((a, b) => a * b, 1);
      return {
        caption: `computed: W ${JSON.stringify(w)} has ${size} weights for G = ${groups}; the other rows scale it`,
        header: ['G', 'weights'],
        rows: GROUPS.map((g) => [g, (size * groups) / g]),
      };
    },
  },
  {
    id: 'hypercolumn',
    title: 'hypercolumn (concatenation)',
    program: 'H[b, x, y, J0 + J1 + J2] = X[b, x, y, J0] ; C1[b, x/2, y/2, J1] ; C2[b, x/4, y/4, J2]',
    shapes: { X: [1, 8, 8, 3], C1: [1, 4, 4, 4], C2: [1, 2, 2, 4] },
    expected: {
      caption: 'lecture: a pixel’s hypercolumn stacks every layer’s features (3 + 4 + 4)',
      header: ['tensor', 'shape'],
      rows: [
        ['X', '[1, 8, 8, 3]'],
        ['C1', '[1, 4, 4, 4]'],
        ['C2', '[1, 2, 2, 4]'],
        ['H', '[1, 8, 8, 11]'],
      ],
    },
    computed: ({ report }) => ({ caption: 'computed by check()', header: ['tensor', 'shape'], rows: shapeRows(report, ['X', 'C1', 'C2', 'H']) }),
  },
  {
    id: 'resnet',
    title: 'ResNet basic block',
    program: [
      'R1[b, x:8, y:8, j:16] = relu(W1[Δx:3, Δy:3, I, j] · L[b, x + Δx - 1, y + Δy - 1, I] + B1[j])',
      'R2[b, x:8, y:8, j:16] = W2[Δx:3, Δy:3, I, j] · R1[b, x + Δx - 1, y + Δy - 1, I] + B2[j]',
      'Out[b, x, y, j] = relu(L[b, x, y, j] + R2[b, x, y, j])',
    ].join('\n'),
    shapes: { L: [1, 8, 8, 16] },
    expected: {
      caption: 'lecture: L_ℓ and the residual R_ℓ+1 have the same shape',
      header: ['tensor', 'shape'],
      rows: [
        ['L', '[1, 8, 8, 16]'],
        ['R2', '[1, 8, 8, 16]'],
        ['Out', '[1, 8, 8, 16]'],
      ],
    },
    computed: ({ report }) => ({ caption: 'computed by check()', header: ['tensor', 'shape'], rows: shapeRows(report, ['L', 'R2', 'Out']) }),
  },
  {
    id: 'densenet',
    title: 'DenseNet block',
    program: [
      'R[b, x:8, y:8, j:4] = relu(W[Δx:3, Δy:3, I, j] · L[b, x + Δx - 1, y + Δy - 1, I] + B[j])',
      'L1[b, x, y, J + JR] = L[b, x, y, J] ; R[b, x, y, JR]',
    ].join('\n'),
    shapes: { L: [1, 8, 8, 8] },
    expected: {
      caption: 'lecture: the residual’s J_R features are concatenated onto the J_ℓ (8 + 4)',
      header: ['tensor', 'shape'],
      rows: [
        ['L', '[1, 8, 8, 8]'],
        ['R', '[1, 8, 8, 4]'],
        ['L1', '[1, 8, 8, 12]'],
      ],
    },
    computed: ({ report }) => ({ caption: 'computed by check()', header: ['tensor', 'shape'], rows: shapeRows(report, ['L', 'R', 'L1']) }),
  },
];

/** True when two tables hold the same cells. */
export function sameTable(a: TableData, b: TableData): boolean {
  return JSON.stringify(a.rows.map((r) => r.map(String))) === JSON.stringify(b.rows.map((r) => r.map(String)));
}
