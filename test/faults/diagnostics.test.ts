/**
 * Faults in the diagnostics themselves: huge junk input, errors reported one at a time, codes
 * that nothing raises, and names that are JavaScript prototype members. Expected lines, columns
 * and codes were worked out by hand from the source texts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_CODES, EXCERPT_CONTEXT, EinError, EinErrors, MAX_REPORTED_ERRORS, excerpt } from '../../core/diagnostics';
import { ein } from '../../dsl/program';

/** Runs `f` and returns the EinError it throws; anything else (or nothing) fails the test. */
function failure(f: () => unknown): EinError {
  try {
    f();
  } catch (e) {
    if (e instanceof EinError) return e;
    throw new Error(`expected an EinError, got ${String(e)}`);
  }
  throw new Error('expected an EinError, but nothing was thrown');
}

/** The longest message a capped error list can have: 20 errors of a few clipped lines each. */
const MESSAGE_BOUND = 20_000;

describe('one long line of junk', () => {
  for (const n of [80_000, 1_000_000]) {
    it(`${n.toLocaleString('en')} characters of '$' are an EinErrors of ${MAX_REPORTED_ERRORS} errors with a bounded message`, () => {
      const e = failure(() => ein('$'.repeat(n)));
      expect(e).toBeInstanceOf(EinErrors);
      const all = e as EinErrors;
      expect(all.diagnostics.length).toBe(MAX_REPORTED_ERRORS);
      expect(all.total).toBe(n);
      expect(e.message.length).toBeLessThan(MESSAGE_BOUND);
      expect(e.message.split('\n')[0]).toBe("EIN1001: 1:1: unexpected character '$'");
      expect(e.message.split('\n').at(-1)).toBe(`… and ${n - MAX_REPORTED_ERRORS} more errors not shown`);
      expect(all.diagnostics.map((d) => d.column)).toEqual(Array.from({ length: MAX_REPORTED_ERRORS }, (_, k) => k + 1));
    });
  }

  it('a 100,000-character name glued to a number is quoted clipped in the message', () => {
    const e = failure(() => ein(`Y[i] = 2${'x'.repeat(100_000)} * X[i]`));
    expect(e.code).toBe('EIN1004');
    expect(e.message.length).toBeLessThan(2_000);
    expect(e.summary).toContain("'2xxxxxxxxx");
    expect(e.summary).toContain("…' is not a number");
  });

  it('junk at column 49,999 of a long valid line is excerpted around it, with the caret under it', () => {
    const prefix = 'Y[i] = X[i]' + ' + X[i]'.repeat(7_141); // 11 + 7141·7 = 49,998 characters
    const e = failure(() => ein(`${prefix}@ + X[i]`));
    expect([e.code, e.line, e.column]).toEqual(['EIN1001', 1, 49_999]);
    const [text, carets] = e.excerpt!.split('\n');
    expect(text.startsWith('1 | …')).toBe(true);
    expect(text.endsWith('…')).toBe(false); // fewer than 80 characters follow the '@'
    expect(text.length).toBeLessThanOrEqual('1 | '.length + 1 + EXCERPT_CONTEXT + 1 + ' + X[i]'.length);
    expect(carets.trim()).toBe('^');
    expect(text[carets.indexOf('^')]).toBe('@');
  });

  it('a long span gets at most 80 carets, and a clip never splits a surrogate pair', () => {
    const source = '𝑌'.repeat(200) + 'ab' + '𝑌'.repeat(200);
    const text = excerpt(source, { start: 400, end: source.length });
    const [line, carets] = text.split('\n');
    // 80 UTF-16 units of span: 'ab' and 39 two-unit 𝑌, one caret per code point.
    expect(carets.trim()).toBe('^'.repeat(41));
    // No lone surrogate: every UTF-16 unit of the excerpt line is part of a whole code point.
    expect(line).toBe(line.normalize());
    expect([...line].every((ch) => ch.length === 2 || ch.charCodeAt(0) < 0xd800 || ch.charCodeAt(0) > 0xdfff)).toBe(true);
    // The caret sits under 'a': columns count code points, like the gutter-relative position.
    expect([...line][[...carets].indexOf('^')]).toBe('a');
  });
});

describe('every independent error at once', () => {
  it('a misspelled function on line 2 is EIN2002 at ein(), before any shapes are given', () => {
    const e = failure(() => ein('Y[i] = W[i,j] · X[j]\nZ[i] = rellu(Y[i])'));
    expect([e.code, e.line, e.column]).toEqual(['EIN2002', 2, 8]);
    expect(e.hint).toContain("'relu'");
  });

  it('ein() reports every unknown function and initializer, and wrong argument counts, in source order', () => {
    const src = ['param W ~ he_normall', 'Y[i] = tanhh(W[i])', 'Z[i] = relu(Y[i], 2)', 'param B ~ normal(0)'].join('\n');
    const e = failure(() => ein(src));
    expect(e.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ['EIN2019', 1, 11],
      ['EIN2002', 2, 8],
      ['EIN2003', 3, 8],
      ['EIN2019', 4, 11],
    ]);
    // The message starts with the first error, as a single error's would.
    expect(e.message.split('\n')[0]).toBe("EIN2019: 1:11: unknown initializer 'he_normall'");
    expect(e.message).toContain('4 errors in all');
  });

  it('check() reports every statement that fails on its own, and not the statements that depend on it', () => {
    const src = [
      'A[i] = X[i, j]', // rank: X is bound with 1 axis
      'B[i] = A[i] + 1', // depends on A: not reported
      'C[i] = Z[i, k] · V[k]', // k has two ranges: 3 and 4
      'D[i:2] = X[i]', // fine
    ].join('\n');
    const e = failure(() => ein(src).check({ X: [2], Z: [2, 3], V: [4] }));
    expect(e.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ['EIN2010', 1],
      ['EIN2004', 3],
    ]);
    expect([e.code, e.line]).toEqual(['EIN2010', 1]);
  });

  it('a binding error and a statement error are both reported; the binding (no place) first', () => {
    const e = failure(() => ein('Y[i] = X[i]\nZ[i] = U[i, i, i]').check({ X: [2], U: [2, 2], Q: [1] }));
    expect(e.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ['EIN2023', undefined],
      ['EIN2010', 2],
    ]);
  });

  it('a tensor assigned twice is reported once, without the errors of either assignment', () => {
    const e = failure(() => ein('Y[i] = X[i]\nY[i] = 2 * X[i]').check({}));
    expect(e.diagnostics.map((d) => [d.code, d.line])).toEqual([['EIN2001', 2]]);
  });

  it('a const declared without a value and supplied at check() sizes a declaration', () => {
    const src = 'const N\nparam W[i:N]\nY[i] = W[i]';
    expect(ein(src).check({}, { consts: { N: 3 } }).shapes.W).toEqual([3]);
    const e = failure(() => ein(src).check({}));
    // The const has no value: reported once, and the declaration and statement using it are not.
    expect(e.diagnostics.map((d) => [d.code, d.line])).toEqual([['EIN2015', 1]]);
  });

  it('30 failing statements: check() lists the first 20 in source order and counts the other 10', () => {
    const src = Array.from({ length: 30 }, (_, k) => `Y${k}[i] = X[i, i]`).join('\n');
    const e = failure(() => ein(src).check({ X: [2] }));
    expect(e.diagnostics.map((d) => d.line)).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect((e as EinErrors).total).toBe(30);
    expect(e.message.split('\n').at(-1)).toBe('… and 10 more errors not shown');
  });

  it('a single error lists itself as its only diagnostic', () => {
    const e = failure(() => ein('Y[i] = X[i] $ 2'));
    expect(e).not.toBeInstanceOf(EinErrors);
    expect(e.diagnostics).toEqual([e]);
  });
});

describe('codes nothing raises', () => {
  it('EIN1006, EIN2011, EIN2017, EIN3004 and EIN3007 are neither declared nor documented', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
    for (const code of ['EIN1006', 'EIN2011', 'EIN2017', 'EIN3004', 'EIN3007']) {
      expect(Object.keys(DIAGNOSTIC_CODES)).not.toContain(code);
      expect(doc).not.toContain(code);
    }
  });
});

describe('names that are JavaScript prototype members', () => {
  it('constructor[i] = toString[i] checks, with toString bound', () => {
    const r = ein('constructor[i] = toString[i]').check({ toString: [3] });
    expect(r.shapes).toEqual({ constructor: [3], toString: [3] });
    expect(r.inputs).toEqual(['toString']);
    expect(r.outputs).toEqual(['constructor']);
  });

  it('an unknown function named constructor is EIN2002, not a TypeError', () => {
    const e = failure(() => ein('Y[i] = constructor(X[i])'));
    expect([e.code, e.line, e.column]).toEqual(['EIN2002', 1, 8]);
  });

  it('an initializer named valueOf is EIN2019', () => {
    const e = failure(() => ein('param toString ~ valueOf\nY[i] = toString[i]'));
    expect([e.code, e.line, e.column]).toEqual(['EIN2019', 1, 18]);
  });

  it('prototype names as index names, a scalar, a const and a reduced index', () => {
    const src = 'Y[constructor, toString] = X[constructor, __proto__] · W[__proto__, toString] · hasOwnProperty';
    const r = ein(src).check({ X: [2, 3], W: [3, 4], hasOwnProperty: [] });
    expect(r.shapes.Y).toEqual([2, 4]);
    expect([...r.ranges.Y.keys()].sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(ein('const valueOf = 2\nY[i] = X[valueOf*i]').check({ X: [6] }).shapes.Y).toEqual([3]);
    expect(ein('Y[i] = sum[constructor:3] X[i, constructor]').check({ X: [2, 3] }).shapes.Y).toEqual([2]);
  });

  it('a tensor named __proto__ is bound, reported and evaluated like any other', () => {
    const bound = ein('Y[i] = __proto__[i]').check(JSON.parse('{"__proto__": [2]}'));
    expect(Object.keys(bound.shapes).sort()).toEqual(['Y', '__proto__']);
    const out = ein('__proto__[i] = 2 * X[i]').evaluateReference({ X: [1, 2] });
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Array.from(out['__proto__'].data)).toEqual([2, 4]);
  });
});
