/**
 * Bad bindings given to `Program.run`: each raises an EinError with the right code, naming the
 * tensor, the expected and the actual shape (or dtype) and where the expectation came from; a
 * failed run allocates nothing and does not spoil later runs.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EinError } from '../../../core/diagnostics';
import { ein } from '../../../dsl/program';
import { useBackend } from './harness';

/**
 * The error `f` throws; fails the test when it throws nothing or not an EinError. Runs inside
 * tf.tidy, so that tensors made inline for the call are released.
 */
function failure(f: () => unknown): EinError {
  try {
    tf.tidy(() => {
      f();
    });
  } catch (e) {
    expect(e).toBeInstanceOf(EinError);
    return e as EinError;
  }
  throw new Error('expected an EinError, but nothing was thrown');
}

const NET = ein(
  ['input X[b, x:6, y:6, i:2]', 'L1[b,x,y,j:3] = relu(W[Δx:3,Δy:3,I,j]·X[b,x+Δx,y+Δy,I] + B[j])', 'Y[b,k:4] = V[x,y,j,k]·L1[b,x,y,j]'].join('\n'),
);
const DENSE = ein('Y[b,j] = W[I,j]·X[b,I] + B[j]');

describe('bad bindings', () => {
  let good: Record<string, tf.Tensor>;
  let afterFirstRun: number;
  beforeAll(async () => {
    await useBackend('cpu');
    good = { X: tf.zeros([2, 6, 6, 2]), W: tf.zeros([3, 3, 2, 3]), B: tf.zeros([3]), V: tf.zeros([4, 4, 3, 4]) };
  });
  afterAll(() => {
    for (const t of Object.values(good)) t.dispose();
    NET.dispose();
    DENSE.dispose();
  });
  /** `good` with some names replaced (undefined removes); disposes the replacements afterwards. */
  const withBindings = (changes: Record<string, unknown>, f: (b: Record<string, tf.Tensor>) => void) => {
    const b: Record<string, tf.Tensor> = { ...good };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) delete b[k];
      else b[k] = v as tf.Tensor;
    }
    try {
      f(b);
    } finally {
      for (const v of Object.values(changes)) if (v instanceof tf.Tensor && !v.isDisposed) v.dispose();
    }
  };

  it('the good bindings run (the program itself is fine)', () => {
    const out = NET.run(good);
    expect(out.Y.shape).toEqual([2, 4]);
    for (const t of Object.values(out)) t.dispose();
    afterFirstRun = tf.memory().numTensors;
  });

  it('wrong rank of a declared input: EIN2010 with the declaration and the bound shape', () => {
    withBindings({ X: tf.zeros([2, 6, 6]) }, (b) => {
      const e = failure(() => NET.run(b));
      expect(e.code).toBe('EIN2010');
      expect(e.message).toContain('X is declared with 4 axes');
      expect(e.message).toContain('[2,6,6]');
      expect(e.line).toBe(1); // points at the declaration
    });
  });

  it('wrong rank of an undeclared input: EIN2010 with the bound shape and the read', () => {
    const e = failure(() => DENSE.run({ X: tf.zeros([2, 3, 1]), W: tf.zeros([3, 5]), B: tf.zeros([5]) }));
    expect(e.code).toBe('EIN2010');
    expect(e.message).toContain('X has 3 axes but is read with 2 indices');
    expect(e.message).toContain('bound X: [2,3,1]');
  });

  it('wrong rank of a parameter: EIN2010', () => {
    withBindings({ B: tf.zeros([3, 1]) }, (b) => {
      const e = failure(() => NET.run(b));
      expect(e.code).toBe('EIN2010');
      expect(e.message).toContain('B has 2 axes');
      expect(e.message).toContain('bound B: [3,1]');
    });
  });

  // A wrong extent is an extent conflict found by the checker (EIN2004, "extent conflict"):
  // run() checks the program for the shapes it is given.
  const SHAPE_CODES = ['EIN2004'];

  it('wrong extent of a declared input: names the tensor, both extents and where each came from', () => {
    withBindings({ X: tf.zeros([2, 5, 6, 2]) }, (b) => {
      const e = failure(() => NET.run(b));
      expect(SHAPE_CODES).toContain(e.code);
      expect(e.message).toContain('X axis 1');
      expect(e.extents.map((x) => x.extent).sort()).toEqual([5, 6]);
      expect(e.message).toContain('declaration at 1:7');
      expect(e.message).toContain('bound X: [2,5,6,2]');
    });
  });

  it('wrong extent of a parameter: names it, its bound shape and the annotation that disagrees', () => {
    withBindings({ W: tf.zeros([3, 3, 2, 4]) }, (b) => {
      const e = failure(() => NET.run(b));
      expect(SHAPE_CODES).toContain(e.code);
      expect(e.message).toContain('bound W: [3,3,2,4]');
      expect(e.message).toContain('annotation j:3');
      expect(e.extents.map((x) => x.extent).sort()).toEqual([3, 4]);
    });
  });

  it('two bound tensors that disagree: names both with their shapes', () => {
    const e = failure(() => DENSE.run({ X: tf.zeros([2, 3]), W: tf.zeros([4, 5]), B: tf.zeros([5]) }));
    expect(SHAPE_CODES).toContain(e.code);
    expect(e.message).toContain('bound X: [2,3]');
    expect(e.message).toContain('bound W: [4,5]');
  });

  it.each([
    ['int32', () => tf.zeros([2, 6, 6, 2], 'int32')],
    ['bool', () => tf.zeros([2, 6, 6, 2], 'bool')],
  ])('%s dtype: EIN3005 naming the tensor, the dtype and float32', (dtype, make) => {
    withBindings({ X: make() }, (b) => {
      const e = failure(() => NET.run(b));
      expect(e.code).toBe('EIN3005');
      expect(e.message).toContain(`X has dtype ${dtype}`);
      expect(e.message).toContain('float32');
    });
  });

  it('missing parameter: EIN3003 naming it with its expected shape', () => {
    withBindings({ B: undefined }, (b) => {
      const e = failure(() => NET.run(b));
      expect(e.code).toBe('EIN3003');
      expect(e.message).toContain('parameter B [3]');
    });
  });

  it('several missing: one EIN3003 listing all with their shapes', () => {
    withBindings({ B: undefined, V: undefined }, (b) => {
      const e = failure(() => NET.run(b));
      expect(e.code).toBe('EIN3003');
      expect(e.message).toContain('parameter B [3]');
      expect(e.message).toContain('parameter V [4,4,3,4]');
    });
  });

  it('missing input whose shape is declared in full: EIN3003 naming it with its shape', () => {
    const p = ein('input X[b:2, i:3]\nY[b,j:4] = W[i,j]·X[b,i]');
    const W = tf.zeros([3, 4]);
    // The typed API would refuse the missing X at compile time; the runtime check is for JS callers.
    const e = failure(() => p.run({ W } as unknown as Parameters<typeof p.run>[0]));
    W.dispose();
    expect(e.code).toBe('EIN3003');
    expect(e.message).toContain('input X [2,3]');
  });

  // Not "EIN2021: the range of left-hand index b cannot be inferred": run() says which binding is
  // missing when the shapes do not follow without it.
  it('missing input whose shape is not declared in full: EIN3003 naming it', () => {
    withBindings({ X: undefined }, (b) => {
      const e = failure(() => NET.run(b));
      expect(e.code).toBe('EIN3003');
      expect(e.message).toContain('X');
    });
  });

  it.each([
    ['an array', [[1, 2]]],
    ['a number', 3],
    ['null', null],
    ['a plain object with a shape', { shape: [2, 6, 6, 2], data: new Float32Array(144) }],
  ])('not a tensor (%s): EIN3005 naming the tensor', (_what, value) => {
    withBindings({ X: value }, (b) => {
      const e = failure(() => NET.run(b));
      expect(e.code).toBe('EIN3005');
      expect(e.message).toMatch(/^EIN3005: X is bound to .*not a tf\.Tensor/);
    });
  });

  it('disposed tensor: EIN3005 naming it', () => {
    const B = tf.zeros([3]);
    B.dispose();
    withBindings({ B }, (b) => {
      const e = failure(() => NET.run(b));
      expect(e.code).toBe('EIN3005');
      expect(e.message).toContain('B is bound to a tensor that was already disposed');
    });
  });

  it('an unknown extra name: EIN2023 naming it and suggesting the nearest', () => {
    withBindings({ Wx: tf.zeros([1]) }, (b) => {
      const e = failure(() => NET.run(b));
      expect(e.code).toBe('EIN2023');
      expect(e.message).toContain('Wx is bound but the program has no tensor of that name');
      expect(e.message).toContain("'W'");
    });
  });

  it('binding a computed tensor: EIN2023', () => {
    withBindings({ L1: tf.zeros([2, 4, 4, 3]) }, (b) => {
      const e = failure(() => NET.run(b));
      expect(e.code).toBe('EIN2023');
      expect(e.message).toContain('L1 is computed by the program and cannot be bound');
    });
  });

  it('bindings that are not an object: EIN3003', () => {
    expect(failure(() => NET.run(null as unknown as Record<string, tf.Tensor>)).code).toBe('EIN3003');
    expect(failure(() => NET.run('X' as unknown as Record<string, tf.Tensor>)).code).toBe('EIN3003');
  });

  it('failed runs allocated nothing, and a good run still works afterwards', () => {
    expect(tf.memory().numTensors).toBe(afterFirstRun);
    const out = NET.run(good);
    expect(out.Y.shape).toEqual([2, 4]);
    for (const t of Object.values(out)) t.dispose();
  });
});

describe('repeated runs (the last run without options is reused when names and shapes repeat)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  const dense = (rows: number, seed: number) => ({
    X: tf.randomNormal([rows, 3], 0, 1, 'float32', seed),
    W: tf.randomNormal([3, 2], 0, 1, 'float32', seed + 1),
    B: tf.randomNormal([2], 0, 1, 'float32', seed + 2),
  });
  /** X·W + B computed by hand. */
  const expected = (b: Record<string, tf.Tensor>) => tf.tidy(() => tf.add(tf.matMul(b.X, b.W), b.B).arraySync());
  const runAndRead = (p: ReturnType<typeof ein>, b: Record<string, tf.Tensor>, options?: Parameters<typeof p.run>[1]) => {
    const out = p.run(b, options);
    const y = out.Y.arraySync();
    tf.dispose(Object.values(out));
    return y;
  };

  it('a repeat reads the new tensors, in any binding order, and alternating shapes give each its own plan', () => {
    const p = ein('Y[b,j] = W[I,j]·X[b,I] + B[j]');
    const bindings = [dense(2, 1), dense(2, 4), dense(5, 7), dense(2, 10)];
    for (const b of bindings) expect(runAndRead(p, b)).toEqual(expected(b));
    const reordered = { B: bindings[3].B, X: bindings[3].X, W: bindings[3].W };
    expect(runAndRead(p, reordered)).toEqual(expected(bindings[3]));
    expect(runAndRead(p, bindings[1])).toEqual(expected(bindings[1]));
    p.dispose();
    expect(runAndRead(p, bindings[0]), 'after dispose()').toEqual(expected(bindings[0]));
    p.dispose();
    for (const b of bindings) tf.dispose(Object.values(b));
  });

  it('a repeat with a disposed, int32 or reshaped tensor gets the same error as a first run', () => {
    const source = 'Y[b,j] = W[I,j]·X[b,I] + B[j]';
    const p = ein(source);
    const b = dense(2, 1);
    runAndRead(p, b);
    const disposed = tf.zeros([2, 3]);
    disposed.dispose();
    for (const bad of [{ X: disposed }, { X: tf.zeros([2, 3], 'int32') }, { W: tf.zeros([4, 2]) }]) {
      const bound = { ...b, ...bad };
      const fresh = failure(() => ein(source).run(bound));
      const repeat = failure(() => p.run(bound));
      tf.dispose(Object.values(bad));
      expect([repeat.code, repeat.message]).toEqual([fresh.code, fresh.message]);
      expect(['EIN3005', 'EIN2004']).toContain(repeat.code);
    }
    expect(runAndRead(p, b)).toEqual(expected(b));
    p.dispose();
    tf.dispose(Object.values(b));
  });

  it('a repeat with one binding fewer, one more, or one only inherited gets the same error as a first run', () => {
    const source = 'Y[b,j] = W[I,j]·X[b,I] + B[j]';
    const p = ein(source);
    const b = dense(2, 1);
    runAndRead(p, b);
    const extra = tf.zeros([2]);
    const inherited: Record<string, tf.Tensor> = Object.create({ B: b.B });
    Object.assign(inherited, { X: b.X, W: b.W });
    for (const bound of [{ X: b.X, W: b.W }, { ...b, C: extra }, inherited]) {
      const fresh = failure(() => ein(source).run(bound));
      const repeat = failure(() => p.run(bound));
      expect([repeat.code, repeat.message]).toEqual([fresh.code, fresh.message]);
    }
    expect(runAndRead(p, b)).toEqual(expected(b));
    p.dispose();
    tf.dispose([extra, ...Object.values(b)]);
  });

  it('a repeat whose plan the cache has dropped (16 other shapes since) lowers it again', () => {
    const p = ein('Y[b,j] = W[I,j]·X[b,I] + B[j]');
    const first = dense(1, 1);
    runAndRead(p, first);
    for (let rows = 2; rows <= 17; rows++) {
      const b = dense(rows, rows);
      expect(runAndRead(p, b, { outputs: ['Y'] })).toEqual(expected(b));
      tf.dispose(Object.values(b));
    }
    expect(runAndRead(p, first)).toEqual(expected(first));
    p.dispose();
    tf.dispose(Object.values(first));
  });
});
