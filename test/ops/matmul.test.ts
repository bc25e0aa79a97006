/**
 * ops/matmul.ts against float64 loops: op(a)·op(b) outside a tape and the gradients of
 * Σ R·(op(a)·op(b)) under one, for every combination of transposes, on every backend (wasm routes
 * them through explicit transposes, with a gradient of its own under a tape; the others through
 * tfjs' BatchMatMul kernel and its gradient).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ein } from '../../dsl/program';
import { matMul } from '../../ops/matmul';
import { BACKENDS, seededRandom, useBackend } from '../dsl/lower/harness';

/** A rows × cols matrix of float32-representable values in [−1, 1). */
function matrix(rand: () => number, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.fround(2 * rand() - 1)));
}

const transpose = (m: number[][]) => m[0].map((_, j) => m.map((row) => row[j]));
const product = (a: number[][], b: number[][]) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));

function close(got: number[][], want: number[][]): boolean {
  return got.every((row, i) => row.every((v, j) => Math.abs(v - want[i][j]) <= 1e-4 * (1 + Math.abs(want[i][j]))));
}

for (const backend of BACKENDS) {
  describe(`matMul with transposes, on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      it(`transposeA ${ta}, transposeB ${tb}: value and both gradients`, () => {
        const rand = seededRandom(3);
        const [m, k, n] = [5, 7, 3];
        const A = ta ? matrix(rand, k, m) : matrix(rand, m, k);
        const B = tb ? matrix(rand, n, k) : matrix(rand, k, n);
        const R = matrix(rand, m, n);
        const opA = ta ? transpose(A) : A;
        const opB = tb ? transpose(B) : B;
        // d op(A) = R·op(B)ᵀ, d op(B) = op(A)ᵀ·R.
        const dOpA = product(R, transpose(opB));
        const dOpB = product(transpose(opA), R);
        const before = tf.memory().numTensors;
        const [a, b, r] = [tf.tensor2d(A), tf.tensor2d(B), tf.tensor2d(R)];
        const y = matMul(a, b, ta, tb);
        const [da, db] = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(matMul(x as tf.Tensor2D, w as tf.Tensor2D, ta, tb), r)))([a, b]);
        const got = [y, da, db].map((t) => t.arraySync() as number[][]);
        tf.dispose([a, b, r, y, da, db]);
        expect(tf.memory().numTensors).toBe(before);
        expect(close(got[0], product(opA, opB))).toBe(true);
        expect(close(got[1], ta ? transpose(dOpA) : dOpA)).toBe(true);
        expect(close(got[2], tb ? transpose(dOpB) : dOpB)).toBe(true);
      });
    }
    it('batched operands (rank 3, the loss head) with transposes: value', () => {
      const rand = seededRandom(4);
      const A = [matrix(rand, 1, 4), matrix(rand, 1, 4)];
      const B = [matrix(rand, 3, 4), matrix(rand, 3, 4)];
      const [a, b] = [tf.tensor3d(A), tf.tensor3d(B)];
      const y = matMul(a, b, false, true);
      const got = y.arraySync() as number[][][];
      tf.dispose([a, b, y]);
      got.forEach((g, i) => expect(close(g, product(A[i], transpose(B[i])))).toBe(true));
    });
  });
}

describe('explain() of a dense layer', () => {
  const dense = ein('Y[b,j] = W[i,j] · X[b,i]');
  const shapes = { X: [4, 3], W: [3, 2] };
  it('on wasm: a note after the matMul says how it runs', async () => {
    await useBackend('wasm');
    const lines = dense.explain(shapes).split('\n');
    const at = lines.findIndex((l) => l.includes('tf.matMul'));
    expect(lines[at + 1]).toMatch(/^ {2}note: wasm: transposed operands are transposed first/);
  });
  it('on cpu: no note', async () => {
    await useBackend('cpu');
    expect(dense.explain(shapes)).not.toContain('note:');
  });
});
