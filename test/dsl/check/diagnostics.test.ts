/**
 * Diagnostics: one bad program per mistake a user makes, each pinned to its code, line, column
 * and a fragment of the message. Line and column were counted by hand from the source text (in
 * code points, 1-based), never copied from the checker's output. Then: every code the sources
 * use is declared in DIAGNOSTIC_CODES, and docs/errors.md lists every declared code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_CODES, EinError, EinErrors } from '../../../core/diagnostics';
import { ein } from '../../../dsl/program';

const ROOT = join(__dirname, '..', '..', '..');

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

interface Case {
  /** What the user got wrong. */
  readonly what: string;
  readonly src: string;
  readonly shapes?: Record<string, readonly number[]>;
  readonly consts?: Record<string, number>;
  readonly code: string;
  /** undefined for errors with no place in the source (bindings, options). */
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly message: string | RegExp;
}

const check = (c: Pick<Case, 'src' | 'shapes' | 'consts'>) => () => ein(c.src).check(c.shapes ?? {}, { consts: c.consts });

// ---------------------------------------------------------------------------------------------
// Syntax (EIN1xxx).

const SYNTAX: Case[] = [
  { what: 'a character the language does not know', src: 'Y[i] = X[i] $ 2', code: 'EIN1001', line: 1, column: 13, message: "unexpected character '$'" },
  // 𝑌 is one code point but two UTF-16 units: columns count code points.
  { what: 'columns count code points, not UTF-16 units', src: '𝑌[i] = X[i] $', code: 'EIN1001', line: 1, column: 13, message: "'$'" },
  { what: 'an emoji after a product sign', src: 'Y[i] = X[i]·😀', code: 'EIN1001', line: 1, column: 13, message: "unexpected character '😀'" },
  { what: 'an unclosed index bracket', src: 'Y[i] = X[i', code: 'EIN1003', line: 1, column: 9, message: "'[' is never closed" },
  { what: 'an unclosed call parenthesis', src: 'Y[i] = relu(X[i]', code: 'EIN1003', line: 1, column: 12, message: "'(' is never closed" },
  { what: 'an unclosed left-hand bracket', src: 'Y[i = X[i]', code: 'EIN1002', line: 1, column: 5, message: "unexpected '='" },
  { what: "a missing '='", src: 'Y[i] X[i]', code: 'EIN1002', line: 1, column: 6, message: "unexpected 'X'" },
  { what: '2x for 2*x', src: 'Y[i] = 2x * X[i]', code: 'EIN1004', line: 1, column: 8, message: "'2x' is not a number" },
  { what: 'a fractional extent', src: 'Y[i:2.5] = X[i]', code: 'EIN1004', line: 1, column: 5, message: "extent '2.5' is not a positive integer" },
  { what: 'a zero extent', src: 'Y[i:0] = X[i]', code: 'EIN1004', line: 1, column: 5, message: "extent '0' is not a positive integer" },
  { what: 'a fractional index offset', src: 'Y[i] = X[i+0.5]', code: 'EIN1004', line: 1, column: 12, message: "index '0.5' is not an integer" },
  { what: 'an aggregator as a tensor name', src: 'sum[i] = X[i]', code: 'EIN1005', line: 1, column: 1, message: "'sum' is a reserved word" },
  { what: 'an aggregator as an index name', src: 'Y[max] = X[max]', code: 'EIN1005', line: 1, column: 3, message: "'max' is a reserved word" },
  { what: 'an aggregator as a const name', src: 'const mean = 2\nY[i] = X[i]', code: 'EIN1005', line: 1, column: 7, message: "'mean' is a reserved word" },
  {
    what: 'an aggregator without its brackets',
    src: 'Y[i] = sum X[i]',
    code: 'EIN1005',
    line: 1,
    column: 8,
    message: "'sum' is an aggregator and needs its indices in brackets",
  },
  { what: 'mean called like a function', src: 'Y[i] = mean(X[i])', code: 'EIN1005', line: 1, column: 8, message: "'mean' is an aggregator" },
  { what: 'an aggregator that reduces nothing', src: 'Y[i] = sum[] X[i]', code: 'EIN1002', line: 1, column: 8, message: 'sum[] names no index to reduce' },
  { what: 'a stray closing parenthesis', src: 'Y[i] = X[i] )', code: 'EIN1002', line: 1, column: 13, message: "unexpected ')' after the end of the statement" },
  {
    what: 'a statement that starts with =',
    src: 'Y[i] = X[i]\n= X[i]',
    code: 'EIN1002',
    line: 2,
    column: 1,
    message: "unexpected '=' at the start of a statement",
  },
  { what: 'a dangling + at the end of the program', src: 'Y[i] = X[i] +', code: 'EIN1002', line: 1, column: 14, message: 'unexpected end of program' },
  { what: 'two operators in a row', src: 'Y[i] = X[i] +* 2', code: 'EIN1002', line: 1, column: 14, message: "unexpected '*'" },
  { what: 'an empty index after a comma', src: 'Y[i] = X[i, ]', code: 'EIN1002', line: 1, column: 13, message: "unexpected ']' in an index" },
  { what: 'a missing comma between indices', src: 'Y[i j] = X[i, j]', code: 'EIN1002', line: 1, column: 5, message: "unexpected 'j'" },
  { what: 'an input declaration without indices', src: 'input X\nY[i] = X[i]', code: 'EIN1002', line: 1, column: 8, message: 'unexpected end of line' },
  { what: 'a param declaration that says nothing', src: 'param W\nY[i:2] = W[i]', code: 'EIN1002', line: 1, column: 1, message: "'param W' says nothing" },
  { what: 'a const whose value is a name', src: 'const s = x\nY[i] = X[i]', code: 'EIN1002', line: 1, column: 11, message: "unexpected 'x'" },
  {
    what: 'an error on a later line',
    src: '# conv\nL1[x] = W[Δx:3] · L0[x+Δx]\nL2[x] = L1[x] @ 2',
    code: 'EIN1001',
    line: 3,
    column: 15,
    message: "unexpected character '@'",
  },
];

// ---------------------------------------------------------------------------------------------
// Names, scopes and single assignment.

const SCOPES: Case[] = [
  { what: 'an unknown function', src: 'Y[i] = rellu(X[i])', code: 'EIN2002', line: 1, column: 8, message: "unknown function 'rellu'" },
  { what: 'a unary function with two arguments', src: 'Y[i] = relu(X[i], 2)', code: 'EIN2003', line: 1, column: 8, message: 'relu takes 1 argument but got 2' },
  { what: 'a binary function with one argument', src: 'Y[i] = max(X[i])', code: 'EIN2003', line: 1, column: 8, message: 'max takes 2 arguments but got 1' },
  { what: 'a tensor assigned twice', src: 'Y[i] = X[i]\nY[i] = 2 * X[i]', code: 'EIN2001', line: 2, column: 1, message: 'Y is assigned twice' },
  {
    what: 'a const assigned as a tensor',
    src: 'const s = 2\ns[i] = X[i]',
    code: 'EIN2001',
    line: 2,
    column: 1,
    message: 's is a const and cannot be assigned',
  },
  { what: 'a const declared twice', src: 'const s = 2\nconst s = 3\nY[i] = X[s*i]', code: 'EIN2001', line: 2, column: 7, message: 'const s is declared twice' },
  {
    what: 'a tensor read before it is assigned',
    src: 'Y[i] = Z[i]\nZ[i] = X[i]',
    shapes: { X: [3] },
    code: 'EIN2014',
    line: 1,
    column: 8,
    message: 'Z is read before it is assigned',
  },
  { what: 'a tensor that reads itself', src: 'Y[i:3] = Y[i] + 1', code: 'EIN2014', line: 1, column: 10, message: 'Y reads itself' },
  { what: 'a left-hand index used twice', src: 'Y[i,i] = X[i,i]', code: 'EIN2012', line: 1, column: 3, message: 'left-hand index i is used twice' },
  { what: 'a const as a left-hand index', src: 'const s = 2\nY[s] = X[s]', code: 'EIN2013', line: 2, column: 3, message: 'a constant on the left-hand side' },
  { what: 'a boundary mode on the left', src: 'Y[clamp(x)] = X[x]', code: 'EIN2013', line: 1, column: 3, message: 'clamp(...) on the left-hand side' },
  { what: 'a floor division on the left', src: 'Y[x/2] = X[x]', code: 'EIN2013', line: 1, column: 3, message: 'floor division on the left-hand side' },
  {
    what: 'a reduced index that is also a left index',
    src: 'Y[i] = sum[i] X[i]',
    code: 'EIN2018',
    line: 1,
    column: 12,
    message: 'index i is bound twice: it is a left-hand index',
  },
  {
    what: 'a reduced index used again after its term',
    src: 'Y[i:2] = sum[k] A[i,k] + B[k]',
    code: 'EIN2018',
    line: 1,
    column: 26,
    message: 'index k is bound by an aggregator and also used outside it',
  },
  {
    what: 'a reduced index used before its aggregator',
    src: 'Y[i:2] = B[k] · sum[k] A[i,k]',
    code: 'EIN2018',
    line: 1,
    column: 21,
    message: 'index k is bound by sum[...] and also used outside it',
  },
  {
    what: 'nested aggregators binding one index',
    src: 'Y[i:2] = sum[k] max[k] A[i,k]',
    code: 'EIN2018',
    line: 1,
    column: 21,
    message: 'an enclosing aggregator binds it already',
  },
  {
    what: 'a declared input that the program assigns',
    src: 'input Y[i:3]\nY[i] = X[i]',
    code: 'EIN2020',
    line: 1,
    column: 7,
    message: 'Y is declared an input but the program assigns it',
  },
  { what: 'a tensor declared twice', src: 'input X[i:3]\nparam X ~ zeros\nY[i] = X[i]', code: 'EIN2020', line: 2, column: 7, message: 'X is declared twice' },
  { what: 'a const indexed like a tensor', src: 'const s = 2\nY[i:3] = s[i]', code: 'EIN2010', line: 2, column: 10, message: 's is a const, not a tensor' },
  {
    what: 'an unknown initializer',
    src: 'param W ~ he_normall\nY[i:3] = W[i]',
    code: 'EIN2019',
    line: 1,
    column: 11,
    message: "unknown initializer 'he_normall'",
  },
  {
    what: 'an initializer with too few arguments',
    src: 'param W ~ normal(0)\nY[i:3] = W[i]',
    code: 'EIN2019',
    line: 1,
    column: 11,
    message: 'initializer normal takes 2 arguments but got 1',
  },
  {
    what: 'an initializer with arguments it does not take',
    src: 'param W ~ zeros(1)\nY[i:3] = W[i]',
    code: 'EIN2019',
    line: 1,
    column: 11,
    message: 'initializer zeros takes 0 arguments but got 1',
  },
  { what: 'a const without a value', src: 'const n\nY[i:n] = X[i]', code: 'EIN2015', line: 1, column: 1, message: 'const n has no value' },
  { what: 'an extent naming an unknown const', src: 'Y[i:n] = X[i]', code: 'EIN2015', line: 1, column: 5, message: "unknown constant 'n' used as an extent" },
  {
    what: 'a fractional const as an extent',
    src: 'const n = 2.5\nY[i:n] = X[i]',
    code: 'EIN2015',
    line: 2,
    column: 5,
    message: 'const n = 2.5 is not a positive integer extent',
  },
];

// ---------------------------------------------------------------------------------------------
// Implicit summation and index forms.

const INDEX_FORMS: Case[] = [
  {
    what: 'an implicit sum split across +',
    src: 'Y[i] = A[i,k] + B[k]',
    shapes: { A: [2, 3], B: [3] },
    code: 'EIN2008',
    line: 1,
    column: 8,
    message: "split across '+' or '-'",
  },
  {
    what: 'an implicit sum split across -',
    src: 'Y[i] = A[i] - B[k] · C[k]  - D[k]',
    shapes: { A: [2], B: [3], C: [3], D: [3] },
    code: 'EIN2008',
    line: 1,
    column: 15,
    message: 'index k is summed implicitly',
  },
  {
    what: 'an implicit sum split across a function call',
    src: 'Y[i] = relu(A[i,k]) · B[k]',
    shapes: { A: [2, 3], B: [3] },
    code: 'EIN2008',
    line: 1,
    column: 13,
    message: 'split across a function call',
  },
  {
    what: 'an implicit sum entirely inside the arguments of max(a, b)',
    src: 'Y[i] = max(A[i,k], B[k])',
    shapes: { A: [2, 3], B: [3] },
    code: 'EIN2008',
    line: 1,
    column: 12,
    message: 'a function call',
  },
  { what: 'a product of two indices', src: 'Y[i,j] = X[i*j]', code: 'EIN2009', line: 1, column: 12, message: 'a product of two indices' },
  { what: 'a division by an index', src: 'Y[i,j] = X[i/j]', code: 'EIN2009', line: 1, column: 12, message: 'division by an index' },
  { what: 'an offset outside a floor division', src: 'Y[x] = X[x/2 + 1]', code: 'EIN2009', line: 1, column: 10, message: "'+' of a floor division" },
  { what: 'a negated floor division', src: 'Y[x] = X[-(x/2)]', code: 'EIN2009', line: 1, column: 10, message: 'a floor division cannot be negated' },
  { what: 'a division by zero', src: 'Y[x] = X[x/0]', code: 'EIN2022', line: 1, column: 12, message: 'division of an index by 0' },
  {
    what: 'a fractional const as a coefficient',
    src: 'const s = 1.5\nY[i:3] = X[s*i]',
    code: 'EIN2009',
    line: 2,
    column: 12,
    message: 'constant s = 1.5 is not an integer',
  },
  {
    what: 'a composite part that is not a plain name',
    src: 'Y[b,i] = X[b,(2*g,i)]',
    code: 'EIN2009',
    line: 1,
    column: 15,
    message: 'each part of a composite (g, i) must be a plain index name',
  },
  { what: 'a composite inside an index expression', src: 'Y[b,i] = X[b,(g,i)+1]', code: 'EIN2009', line: 1, column: 14, message: 'must be a whole axis' },
  {
    what: 'a boundary mode inside an index expression',
    src: 'Y[x] = X[clamp(x)+1]',
    shapes: { X: [4] },
    code: 'EIN2009',
    line: 1,
    column: 10,
    message: 'clamp(...) must be a whole axis',
  },
];

// ---------------------------------------------------------------------------------------------
// Shapes and ranges.

const SHAPES: Case[] = [
  {
    what: 'two bound tensors disagree on an index',
    src: 'Y[i] = A[i] · B[i]',
    shapes: { A: [3], B: [4] },
    code: 'EIN2004',
    line: 1,
    column: 17,
    message: 'index i has two different ranges: 3 and 4',
  },
  {
    what: 'an annotation disagrees with a bound tensor',
    src: 'Y[i:5] = X[i]',
    shapes: { X: [4] },
    code: 'EIN2004',
    line: 1,
    column: 12,
    message: 'index i has two different ranges: 5 and 4',
  },
  {
    what: 'a declaration disagrees with the binding',
    src: 'input X[i:3]\nY[i] = X[i]',
    shapes: { X: [4] },
    code: 'EIN2004',
    line: 1,
    column: 7,
    message: 'X axis 0 is declared 3 but bound with 4',
  },
  {
    what: 'a declared parameter disagrees with an annotation',
    src: 'param W[k:2] ~ zeros\nY[i:3] = W[i]',
    code: 'EIN2004',
    line: 2,
    column: 12,
    message: 'index i has two different ranges: 3 and 2',
  },
  {
    what: 'a conv filter wider than a bound filter',
    src: 'L1[x] = W[Δx:5] · L0[x+Δx]',
    shapes: { W: [3], L0: [8] },
    code: 'EIN2004',
    line: 1,
    column: 11,
    message: 'index Δx has two different ranges: 5 and 3',
  },
  {
    what: 'a composite factor that does not divide the axis',
    src: 'Y[b,g:4,i] = X[b,(g,i)]',
    shapes: { X: [1, 6] },
    code: 'EIN2005',
    line: 1,
    column: 18,
    message: 'the known factor 4 does not divide 6',
  },
  {
    what: 'composite factors whose product is not the axis',
    src: 'Y[b,g:2,i:2] = X[b,(g,i)]',
    shapes: { X: [1, 6] },
    code: 'EIN2005',
    line: 1,
    column: 20,
    message: 'its factors multiply to 4, but the axis has extent 6',
  },
  {
    what: 'an aggregator index with no range',
    src: 'Y[i:3] = max[k] X[i+k]',
    shapes: { X: [5] },
    code: 'EIN2006',
    line: 1,
    column: 10,
    message: 'the range of reduced index k cannot be inferred',
  },
  {
    what: 'an implicit sum index with no range',
    src: 'Y[i:3] = W[k] · X[i+k]',
    shapes: { X: [5] },
    code: 'EIN2006',
    line: 1,
    column: 10,
    message: 'the range of reduced index k cannot be inferred',
  },
  {
    what: 'a parameter read through clamp with no shape',
    src: 'Y[x:4] = W[clamp(x+1)]',
    code: 'EIN2006',
    line: 1,
    column: 12,
    message: 'read through clamp(...)',
  },
  { what: 'a left index with no range', src: 'Y[i] = W[i]', code: 'EIN2021', line: 1, column: 3, message: 'the range of left-hand index i cannot be inferred' },
  // The left index's valid range waits on k, so the error names k, the index to annotate.
  {
    what: 'a left index only used with an unknown reduced offset',
    src: 'Y[i] = max[k] X[i+k]',
    shapes: { X: [5] },
    code: 'EIN2006',
    line: 1,
    column: 8,
    message: 'reduced index k cannot be inferred',
  },
  {
    what: 'a left index read only by a parameter',
    src: 'Y[i] = W[i]',
    shapes: {},
    code: 'EIN2021',
    line: 1,
    column: 3,
    message: 'left-hand index i cannot be inferred',
  },
  {
    what: 'a filter larger than the image (empty valid range)',
    src: 'Y[i] = W[k:5] · X[i+k]',
    shapes: { X: [3] },
    code: 'EIN2007',
    line: 1,
    column: 3,
    message: 'index i has an empty valid range',
  },
  {
    what: 'a stride-2 pool over too small an input',
    src: 'Y[x] = max[Δx:4] X[2*x+Δx]',
    shapes: { X: [3] },
    code: 'EIN2007',
    line: 1,
    column: 3,
    message: 'empty valid range',
  },
  {
    what: 'a scatter axis that never reaches 0',
    src: 'Y[x-5] = X[x]',
    shapes: { X: [3] },
    code: 'EIN2007',
    line: 1,
    column: 3,
    message: 'left-hand axis 0 of Y never takes a value ≥ 0',
  },
  {
    what: 'a bound tensor read with too few indices',
    src: 'Y[i] = X[i]',
    shapes: { X: [2, 3] },
    code: 'EIN2010',
    line: 1,
    column: 8,
    message: 'X has 2 axes but is read with 1 indices',
  },
  {
    what: 'a parameter read with two different ranks',
    src: 'Y[i:3] = W[i] + W[i,i]',
    code: 'EIN2010',
    line: 1,
    column: 17,
    message: 'W has 1 axes but is read with 2 indices',
  },
  {
    what: 'a parameter whose rank differs between statements',
    src: 'A[i:3] = W[i]\nB[i:3] = W[i,i]',
    code: 'EIN2010',
    line: 2,
    column: 10,
    message: 'is read with 2 indices',
  },
  {
    what: 'an output read with the wrong rank',
    src: 'A[i] = X[i]\nB[i] = A[i,i]',
    shapes: { X: [3] },
    code: 'EIN2010',
    line: 2,
    column: 8,
    message: 'A has 1 axes but is read with 2 indices',
  },
  {
    what: 'a declared rank that disagrees with the binding',
    src: 'input X[i:3]\nY[i] = X[i]',
    shapes: { X: [3, 1] },
    code: 'EIN2010',
    line: 1,
    column: 7,
    message: 'X is declared with 1 axes',
  },
  {
    what: 'a concatenation with more parts than its axis names',
    src: 'Y[i, J1+J2] = A[i,J1] ; B[i,J2] ; C[i,J2]',
    shapes: { A: [2, 3], B: [2, 3], C: [2, 3] },
    code: 'EIN2016',
    line: 1,
    column: 1,
    message: 'the concatenation axis names 2 parts but the right-hand side has 3',
  },
  {
    what: 'a concatenation without a J1+J2 axis',
    src: 'Y[i,j] = A[i,j] ; B[i,j]',
    shapes: { A: [2, 3], B: [2, 3] },
    code: 'EIN2016',
    line: 1,
    column: 1,
    message: 'needs one left-hand axis written J1+J2',
  },
];

// ---------------------------------------------------------------------------------------------
// Bindings and options: no place in the source, but a message naming the name and the fix.

const BINDINGS: Case[] = [
  {
    what: 'a binding with a misspelt name',
    src: 'Y[i] = Xs[i]',
    shapes: { Xz: [3] },
    code: 'EIN2023',
    line: undefined,
    column: undefined,
    message: /Xz is bound but the program has no tensor of that name[\s\S]*did you mean 'Xs'/,
  },
  {
    what: 'a binding for a computed tensor',
    src: 'Y[i] = X[i]',
    shapes: { X: [3], Y: [3] },
    code: 'EIN2023',
    line: undefined,
    column: undefined,
    message: 'Y is computed by the program and cannot be bound',
  },
  {
    what: 'a binding with a fractional extent',
    src: 'Y[i] = X[i]',
    shapes: { X: [2.5] },
    code: 'EIN2023',
    line: undefined,
    column: undefined,
    message: 'the shape bound for X is [2.5]',
  },
  {
    what: 'a binding with a zero extent',
    src: 'Y[i] = X[i]',
    shapes: { X: [0, 3] },
    code: 'EIN2023',
    line: undefined,
    column: undefined,
    message: 'the shape bound for X is [0,3]',
  },
  {
    what: 'a const supplied as NaN',
    src: 'const s = 2\nY[i] = X[s*i]',
    shapes: { X: [6] },
    consts: { s: NaN },
    code: 'EIN2023',
    line: undefined,
    column: undefined,
    message: 'const s is given NaN',
  },
];

describe('each bad program gives its EinError, placed where the mistake is', () => {
  for (const [group, cases] of Object.entries({ syntax: SYNTAX, scopes: SCOPES, 'index forms': INDEX_FORMS, shapes: SHAPES, bindings: BINDINGS })) {
    describe(group, () => {
      for (const c of cases) {
        it(c.what, () => {
          const e = failure(check(c));
          expect(e, e.message).toBeInstanceOf(EinError);
          expect({ code: e.code, line: e.line, column: e.column }, e.message).toEqual({ code: c.code, line: c.line, column: c.column });
          if (typeof c.message === 'string') expect(e.message).toContain(c.message);
          else expect(e.message).toMatch(c.message);
          // Everything in DIAGNOSTIC_CODES, and the message starts with the code.
          expect(Object.keys(DIAGNOSTIC_CODES)).toContain(e.code);
          expect(e.message.startsWith(`${e.code}: `)).toBe(true);
        });
      }
    });
  }

  it('has at least 40 distinct bad programs', () => {
    const all = [...SYNTAX, ...SCOPES, ...INDEX_FORMS, ...SHAPES, ...BINDINGS];
    expect(new Set(all.map((c) => JSON.stringify([c.src, c.shapes, c.consts]))).size).toBe(all.length);
    expect(all.length).toBeGreaterThanOrEqual(40);
  });
});

describe('the parts of a diagnostic', () => {
  it('shows the source line with a caret under the mistake', () => {
    const e = failure(check({ src: 'Y[i] = X[i]\nZ[i] = rellu(Y[i])', shapes: { X: [3] } }));
    expect(e.excerpt).toBe('2 | Z[i] = rellu(Y[i])\n           ^^^^^');
    expect(e.message).toContain("did you mean 'relu'?");
    expect(e.message).toContain('expected: one of relu');
  });

  it('lists every extent involved in a shape error with where it came from', () => {
    const e = failure(check({ src: 'Y[i] = A[i] · B[i]', shapes: { A: [3], B: [4] } }));
    expect(e.extents.map((x) => x.extent)).toEqual([3, 4]);
    expect(e.extents[0].from).toContain('bound A: [3]');
    expect(e.extents[1].from).toContain('bound B: [4]');
    expect(e.message).toContain('extents involved:');
    // The other place takes part too.
    expect(e.message).toMatch(/where i got 3 at 1:10/);
  });

  it('names the first assignment when a tensor is assigned twice', () => {
    const e = failure(check({ src: 'Y[i] = X[i]\nY[i] = 2 * X[i]' }));
    expect(e.message).toMatch(/first assignment at 1:1/);
    expect(e.hint).toContain("Y'");
  });

  it('suggests declaring the extent for an empty valid range, and lists the extents', () => {
    const e = failure(check({ src: 'Y[i] = W[k:5] · X[i+k]', shapes: { X: [3] } }));
    expect(e.hint).toContain('i:N');
    expect(e.extents.map((x) => [x.what, x.extent])).toEqual([
      ['X axis 0', 3],
      ['index k', 5],
    ]);
  });

  it('suggests [k:3] for an un-inferable reduced index', () => {
    const e = failure(check({ src: 'Y[i:3] = max[k] X[i+k]', shapes: { X: [5] } }));
    expect(e.hint).toContain('[k:3]');
  });

  it('asks for an explicit sum when an implicit sum is split', () => {
    const e = failure(check({ src: 'Y[i] = A[i,k] + B[k]', shapes: { A: [2, 3], B: [3] } }));
    expect(e.hint).toContain('sum[k]');
    expect(e.message).toMatch(/another occurrence at 1:17/);
  });

  it('reports several syntax errors at once, each with its place', () => {
    const src = ['Y[i] = X[i] $ 1', 'Z[i] = X[i] +* 2', 'ok[i] = X[i]', 'W[j] = sum[] X[j]'].join('\n');
    const e = failure(() => ein(src));
    expect(e).toBeInstanceOf(EinErrors);
    const errors = (e as EinErrors).errors;
    expect(errors.map((x) => [x.code, x.line, x.column])).toEqual([
      ['EIN1001', 1, 13],
      ['EIN1002', 2, 14],
      ['EIN1002', 4, 8],
    ]);
    // The aggregate takes the first error's code and place, and its message holds all three.
    expect([e.code, e.line, e.column]).toEqual(['EIN1001', 1, 13]);
    expect(e.message).toContain('3 errors');
    for (const x of errors) expect(e.message).toContain(x.message);
  });

  it('an empty program is an error placed at its start', () => {
    const e = failure(() => ein('# only a comment\n\n'));
    expect([e.code, e.line, e.column]).toEqual(['EIN1007', 1, 1]);
    expect(e.message).toContain('the program has no statements');
  });

  it('a value that is not a tensor is an EinError naming the input', () => {
    const p = ein`Y[i] = X[i]`;
    const ragged = failure(() => p.evaluateReference({ X: [[1, 2], [3]] as unknown as number[][] }));
    expect([ragged.code, ragged.line]).toEqual(['EIN2023', undefined]);
    expect(ragged.message).toContain('the value bound for X is a ragged nested array');
    const text = failure(() => p.evaluateReference({ X: ['a', 'b'] as unknown as number[] }));
    expect(text.message).toContain('holds string where a number was expected');
  });

  it('a missing parameter value at evaluation names the parameter and its shape', () => {
    const e = failure(() => ein`Y[i] = W[i,j] · X[j]`.evaluateReference({ X: [1, 2] }, { consts: {} }));
    // W's shape cannot be known without i's range: the missing value is named, the checker's reason given.
    expect(e.code).toBe('EIN3003');
    expect(e.message).toContain('no value for W');
    const f = failure(() => ein`Y[i:2] = W[i,j] · X[j]`.evaluateReference({ X: [1, 2, 3] }));
    expect(f.code).toBe('EIN3003');
    expect(f.message).toContain('no value for parameter W');
    expect(f.message).toContain('[2,3]');
  });
});

// ---------------------------------------------------------------------------------------------
// The code table: every code used exists, codes are unique, docs/errors.md lists them all.

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    if (statSync(path).isDirectory()) out = out.concat(sourceFiles(path));
    else if (/\.(ts|js|cc|cpp|h)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

describe('the table of diagnostic codes', () => {
  const declared = Object.keys(DIAGNOSTIC_CODES);
  const dirs = ['core', 'dsl', 'ops', 'backends', 'datasets', 'viz', 'models', 'scripts', 'bench'].map((d) => join(ROOT, d));
  const files = [...dirs.flatMap(sourceFiles), join(ROOT, 'index.ts')];

  it('declares every code the sources use', () => {
    const used = new Map<string, string>();
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bEIN\d{4}\b/g)) if (!used.has(m[0])) used.set(m[0], f);
    }
    expect(used.size).toBeGreaterThan(20);
    const missing = [...used].filter(([code]) => !declared.includes(code)).map(([code, f]) => `${code} (${f})`);
    expect(missing).toEqual([]);
  });

  it('declares each code once, with a title, in the ranges of diagnostics.ts', () => {
    const text = readFileSync(join(ROOT, 'core', 'diagnostics.ts'), 'utf8');
    const table = text.slice(text.indexOf('DIAGNOSTIC_CODES = {'), text.indexOf('} as const'));
    const keys = [...table.matchAll(/^\s*(EIN\d{4})\s*:/gm)].map((m) => m[1]);
    expect(keys.length).toBe(declared.length);
    expect(new Set(keys).size).toBe(keys.length);
    for (const [code, title] of Object.entries(DIAGNOSTIC_CODES)) {
      expect(code).toMatch(/^EIN[1-7]\d{3}$/);
      expect(title.length, code).toBeGreaterThan(3);
    }
  });

  it('raises every declared code somewhere outside core/diagnostics.ts (a quoted code in source, not a comment)', () => {
    const raised = new Set<string>();
    for (const f of files) {
      if (f === join(ROOT, 'core', 'diagnostics.ts')) continue;
      for (const m of readFileSync(f, 'utf8').matchAll(/['"`](EIN\d{4})\b/g)) raised.add(m[1]);
    }
    expect(declared.filter((c) => !raised.has(c))).toEqual([]);
  });

  it('docs/errors.md lists every declared code, and no code that does not exist', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
    const headed = [...doc.matchAll(/^#{2,4}\s+(EIN\d{4})\b/gm)].map((m) => m[1]);
    expect(declared.filter((c) => !headed.includes(c))).toEqual([]);
    expect(headed.filter((c) => !declared.includes(c))).toEqual([]);
    expect(new Set(headed).size).toBe(headed.length);
  });
});
