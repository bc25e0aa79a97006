/**
 * `Program.explain(shapes)`: per statement its source, the route chosen (and why a faster one
 * was not), and the tfjs ops with their arguments and output shapes. Assertions are on stable
 * fragments: the block layout, op names, shapes that follow from the program, key words of the
 * routes; not on exact wording.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EinError } from '../../../core/diagnostics';
import { ein } from '../../../dsl/program';
import { CASES } from './cases';
import { useBackend } from './harness';

const LENET = [
  'L1[b,x,y,j:4] = relu(W1[Δx:3,Δy:3,I,j]·L0[b,x+Δx,y+Δy,I] + B1[j])',
  'L2[b,x,y,j] = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]',
  'L3[b,k:3] = W2[x,y,j,k]·L2[b,x,y,j] + B2[k]',
];

interface Block {
  readonly source: string;
  readonly routes: string[];
  readonly ops: { id: number; text: string; shape: number[] }[];
  readonly target: string;
  readonly result: number;
}

const OP_LINE = /^ {2}%(\d+) = (.+) → \[([\d,]*)\]$/;
const RESULT_LINE = /^ {2}(\S+) = %(\d+)$/;

/** Parses explain() output into statement blocks; throws on any line of unexpected form. */
function blocks(text: string): Block[] {
  const out: Block[] = [];
  let cur: { source: string; routes: string[]; ops: Block['ops'] } | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('  ')) {
      cur = { source: line, routes: [], ops: [] };
      continue;
    }
    if (cur === undefined) throw new Error(`line before any statement: ${line}`);
    if (line.startsWith('  route: ')) {
      cur.routes.push(line.slice('  route: '.length));
      continue;
    }
    const op = OP_LINE.exec(line);
    if (op) {
      cur.ops.push({ id: Number(op[1]), text: op[2], shape: op[3] === '' ? [] : op[3].split(',').map(Number) });
      continue;
    }
    const result = RESULT_LINE.exec(line);
    if (result) {
      out.push({ ...cur, target: result[1], result: Number(result[2]) });
      cur = undefined;
      continue;
    }
    throw new Error(`unexpected explain() line: ${JSON.stringify(line)}`);
  }
  if (cur !== undefined) throw new Error(`statement without a result line: ${cur.source}`);
  return out;
}

/** The shape shown for step %id anywhere in the output. */
function shapeOfStep(all: Block[], id: number): number[] | undefined {
  for (const b of all) for (const op of b.ops) if (op.id === id) return op.shape;
  return undefined;
}

describe('explain()', () => {
  beforeAll(() => useBackend('cpu'));

  const lenet = ein(LENET.join('\n'));
  const shapes = { L0: [2, 10, 10, 2] };

  it('one block per statement, in order: source, routes, ops with shapes, result', () => {
    const bs = blocks(lenet.explain(shapes));
    expect(bs.map((b) => b.source)).toEqual(LENET);
    expect(bs.map((b) => b.target)).toEqual(['L1', 'L2', 'L3']);
    for (const b of bs) expect(b.ops.length).toBeGreaterThan(0);
  });

  it("each statement's result step has the shape the checker infers", () => {
    const bs = blocks(lenet.explain(shapes));
    const inferred = lenet.check(shapes).shapes;
    for (const b of bs) expect(shapeOfStep(bs, b.result), b.target).toEqual(inferred[b.target]);
  });

  it('names the conv route and the tfjs conv with its strides, dilations and output shape', () => {
    const [conv] = blocks(lenet.explain(shapes));
    expect(conv.routes.join('\n')).toMatch(/conv2d/);
    const op = conv.ops.find((o) => o.text.startsWith('tf.conv2d'));
    expect(op?.text).toContain('strides=[1,1]');
    expect(op?.text).toContain('dilations=[1,1]');
    expect(op?.shape).toEqual([2, 8, 8, 4]);
    // The bias and the relu are fused into the conv op.
    expect(op?.text).toContain('+bias relu');
    expect(conv.routes.join(' ')).toContain('fused with bias');
  });

  it('names the pooling route and its reduction', () => {
    const [, pool] = blocks(lenet.explain(shapes));
    expect(pool.routes.join('\n')).toMatch(/max/);
    expect(pool.ops.some((o) => /^tf\.max(Pool)?\b/.test(o.text))).toBe(true);
  });

  it('a dense layer is a transpose/reshape/matMul contraction with the shapes of its operands', () => {
    const [, , dense] = blocks(lenet.explain(shapes));
    expect(dense.routes.join('\n')).toMatch(/contraction/);
    const mm = dense.ops.find((o) => o.text.startsWith('tf.matMul'));
    // [b=2] × [x·y·j = 4·4·4 = 64] × [k=3], in one orientation or the other.
    expect([mm?.shape.join(','), mm?.shape.slice().reverse().join(',')]).toContain('2,3');
    expect(dense.ops.some((o) => o.text.startsWith('tf.reshape') && o.shape.includes(64))).toBe(true);
  });

  it('stride and dilation together: says the conv runs at stride 1 and is subsampled', () => {
    const p = ein('Y[b,x,y,j:3] = W[Δx:2,Δy:2,I,j]·X[b,2*x+2*Δx,2*y+2*Δy,I]');
    const [b] = blocks(p.explain({ X: [1, 9, 9, 2] }));
    expect(b.routes.join('\n')).toMatch(/stride/);
    expect(b.routes.join('\n')).toMatch(/subsampl/);
    expect(shapeOfStep([b], b.result)).toEqual([1, 4, 4, 3]);
  });

  it('a program that only the generic route can take still explains, and says why the faster route was not taken', () => {
    // A kernel read at 2·Δx is no tfjs conv (grouped convs have a route of their own).
    const p = ein('Y[b,x,y,j] = W[2*Δx:3,Δy:3,i,j]·X[b,x+Δx,y+Δy,i]');
    const [b] = blocks(p.explain({ X: [1, 5, 5, 2], W: [5, 3, 2, 4] }));
    expect(b.routes.join('\n')).toMatch(/not taken: \S/);
    expect(b.ops.some((o) => o.text.startsWith('tf.matMul'))).toBe(true);
    expect(shapeOfStep([b], b.result)).toEqual([1, 3, 3, 4]);
  });

  it('shows selection matrices, gathers with their positions, and masks, with their shapes', () => {
    const p = ein('Z[x:7] = X[clamp(x-1)]\nY[x,y] = max[k:3] (X2[x,y] - X2[x+k-1, y])\nG[x:41] = X3[clamp(x-1)]');
    const text = p.explain({ X: [5], X2: [4, 4], X3: [40] });
    expect(text).toMatch(/constant \(35 values\) → \[5,7\]/);
    expect(text).toMatch(/indices \(41 int32 positions\) → \[41\]/);
    expect(text).toMatch(/tf\.gather axis=1\(.*\) → \[1,41\]/);
    expect(text).toMatch(/mask \(\d+ of \d+ terms kept\)/);
  });

  it('batch norm written in the notation: one statistics step and one normalization step', () => {
    const c = CASES.find((k) => k.name.startsWith('batch norm as Ioffe & Szegedy define it'))!;
    const [mu, sigma, y] = blocks(ein(c.src).explain(c.shapes));
    expect(mu.routes.join('\n')).toMatch(/batch statistics/);
    expect(mu.ops.some((o) => o.text.startsWith('batch statistics') && o.shape.join(',') === '8')).toBe(true);
    expect(sigma.routes.join('\n')).toMatch(/second half/);
    expect(sigma.ops.map((o) => o.text)).toEqual([expect.stringMatching(/^second half \(tf\.split\)/)]);
    expect(y.routes.join('\n')).toMatch(/batch normalization.*relu fused/);
    expect(y.ops).toHaveLength(1);
    expect(y.ops[0].text).toMatch(/^batch normalization over axes \[0,1,2\] ·γ \+β relu\(/);
  });

  it('batch norm in evaluation (μ, σ given): one normalization step; near misses take the elementwise route', () => {
    const c = CASES.find((k) => k.name.startsWith('batch norm in evaluation'))!;
    const [y] = blocks(ein(c.src).explain(c.shapes));
    expect(y.routes.join('\n')).toMatch(/normalization by given statistics.*relu fused/);
    expect(y.ops.map((o) => o.text.split('(')[0])).toEqual(['normalization by given μ, σ over axes [0,1,2] ·γ +β relu']);
    const misses = [
      'Y[b,j] = (X[b,j] - M[j]) / X[b,j]', // σ is X itself
      'Y[b,j] = (X[b,j] - M[j]) / S[b]', // μ and σ over different axes
      'Y[b,j] = (X[b,j] - M[j]) · S[j]', // a product, not a quotient
      'Y[j,b] = (X[b,j] - M[j]) / S[j]', // the output transposes X
    ];
    for (const src of misses) {
      const text = ein(src).explain({ X: [4, 3] });
      expect(text, src).not.toMatch(/given statistics/);
    }
  });

  it('relu of a same-shape sum is one addRelu step; of a broadcasting sum, add then relu', () => {
    const fused = blocks(ein('Y[b,j] = relu(A[b,j] + B[b,j])').explain({ A: [3, 4], B: [3, 4] }))[0];
    expect(fused.ops.map((o) => o.text.split('(')[0])).toContain('relu');
    expect(fused.ops.some((o) => o.text.startsWith('relu(a + b)'))).toBe(true);
    expect(fused.routes.join('\n')).toMatch(/addRelu/);
    const plain = blocks(ein('Y[b,j] = relu(A[b,j] + B[j])').explain({ A: [3, 4], B: [4] }))[0];
    expect(plain.ops.some((o) => o.text.startsWith('relu(a + b)'))).toBe(false);
    expect(plain.ops.some((o) => o.text.startsWith('tf.relu'))).toBe(true);
  });

  it('near misses of batch norm take the ordinary routes', () => {
    const misses = [
      // σ of another tensor than μ's
      'μ[j] = mean[b] X[b,j]\nσ[j] = sqrt(mean[b] square(Z[b,j] - μ[j]) + 0.1)\nY[b,j] = (X[b,j] - μ[j]) / σ[j]',
      // no ε
      'μ[j] = mean[b] X[b,j]\nσ[j] = sqrt(mean[b] square(X[b,j] - μ[j]))\nY[b,j] = (X[b,j] - μ[j]) / σ[j]',
      // μ and σ swapped in the normalization
      'μ[j] = mean[b] X[b,j]\nσ[j] = sqrt(mean[b] square(X[b,j] - μ[j]) + 0.1)\nY[b,j] = (X[b,j] - σ[j]) / μ[j]',
      // the normalized read is shifted
      'μ[j] = mean[b] X[b,j]\nσ[j] = sqrt(mean[b] square(X[b,j] - μ[j]) + 0.1)\nY[b,j:3] = (X[b,j+1] - μ[j]) / σ[j]',
    ];
    for (const src of misses) {
      const shapes = { X: [4, 3], Z: [4, 3] };
      const p = ein(src);
      const text = p.explain(Object.fromEntries(Object.entries(shapes).filter(([n]) => src.includes(`${n}[`))));
      expect(text, src).not.toMatch(/batch normalization/);
    }
  });

  it('concatenation names its axis', () => {
    const p = ein('C[b,J1+J2] = A[b,J1] ; B[b,J2]');
    const [b] = blocks(p.explain({ A: [2, 3], B: [2, 4] }));
    expect(b.routes.join('\n')).toMatch(/concatenation/);
    expect(b.ops.find((o) => o.text.startsWith('tf.concat'))?.text).toContain('axis=1');
    expect(shapeOfStep([b], b.result)).toEqual([2, 7]);
  });

  it('runs nothing and allocates no tensors', () => {
    const before = tf.memory().numTensors;
    ein('Y[b,j:5] = W[I,j]·X[b,I]').explain({ X: [3, 4] });
    lenet.explain({ L0: [1, 6, 6, 3] });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('unknown shapes: an EinError saying what to declare or bind', () => {
    let error: unknown;
    try {
      ein('Y[b,j] = W[I,j]·X[b,I]').explain({ X: [3, 4] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EinError);
    expect((error as EinError).code).toBe('EIN2021');
  });

  // Elementwise statements and scatters name their route too (they once printed none).
  it('every statement names its route, including elementwise statements and scatters', () => {
    const p = ein('T[2*x+Δx] = W[Δx]·L[x]\nE[i] = relu(L[i])');
    for (const b of blocks(p.explain({ W: [3], L: [4] }))) expect(b.routes, b.source).not.toEqual([]);
  });

  // At 00cea2a the plan of an overlapping max pool with padding kept a step nothing used
  // (`tf.pad … value=-Infinity`, left over from a pooling route tried and abandoned), run on
  // every call. Every construct's plan is checked for such leftovers.
  it('no plan has dead steps (every op feeds a later op or a result)', () => {
    for (const c of CASES) {
      const p = ein(c.src);
      const report = p.check(c.shapes, { consts: c.consts });
      const leafShapes: Record<string, readonly number[]> = {};
      for (const n of [...report.inputs, ...report.params]) leafShapes[n] = report.shapes[n];
      const text = p.explain(leafShapes, { consts: c.consts });
      const bs = blocks(text);
      const used = new Set<number>(bs.map((b) => b.result));
      for (const m of text.matchAll(/\((%\d+(?:, %\d+)*)\) →/g)) for (const id of m[1].split(', ')) used.add(Number(id.slice(1)));
      const dead = bs.flatMap((b) => b.ops).filter((o) => !used.has(o.id));
      expect(
        dead.map((o) => `%${o.id} = ${o.text}`),
        c.name,
      ).toEqual([]);
    }
  });
});
