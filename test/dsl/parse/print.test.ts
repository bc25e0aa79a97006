/**
 * Printer golden cases: for every construct, a program as a user might write it and its
 * canonical text, written by hand from the printer's conventions (`·` for products, `sum` for
 * Σ, ASCII minus, spaces around value operators and none inside indices, `j:6` extents,
 * ` ; ` between concatenated parts, one statement per line, paren nodes kept).
 */
import { describe, expect, it } from 'vitest';
import type { Expr, IndexExpr, Program, Statement } from '../../../dsl/parse/ast';
import { astDifference } from '../../../dsl/parse/equal';
import { parse } from '../../../dsl/parse/parser';
import { printExpr, printIndex, printProgram } from '../../../dsl/parse/print';

const GOLDEN: readonly (readonly [string, string, string])[] = [
  // [what, as written, canonical]
  [
    'LANGUAGE.md §1 conv',
    'L1[b,x,y,j:6]  = relu(W1[Δx:5,Δy:5,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])',
    'L1[b,x,y,j:6] = relu(W1[Δx:5,Δy:5,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])',
  ],
  ['LANGUAGE.md §1 pool', 'L2[b,x,y,j]    = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]', 'L2[b,x,y,j] = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]'],
  ['every multiplication sign', 'Y[i] = A[i] * B[i] ⋅ C[i] × D[i] ∗ E[i] F[i]·G[i]', 'Y[i] = A[i] · B[i] · C[i] · D[i] · E[i] · F[i] · G[i]'],
  ['slide-style juxtaposition', 'L[b,x,y,j] = σ(W[Δx,Δy,I,j] L[b,x+Δx,y+Δy,I] − B[j])', 'L[b,x,y,j] = σ(W[Δx,Δy,I,j] · L[b,x+Δx,y+Δy,I] - B[j])'],
  ['Σ', 'Y = Σ[i] A[i]·B[i] + C', 'Y = sum[i] A[i] · B[i] + C'],
  ['∑ with extent and parentheses', 'Y = ∑[i : 3](A[i]+B[i])', 'Y = sum[i:3] (A[i] + B[i])'],
  [
    'max, min, mean aggregators',
    'Y[j] = max[i] A[i,j] + min[i,k:2] B[i,k,j] - mean[Δx:K] C[Δx,j]',
    'Y[j] = max[i] A[i,j] + min[i,k:2] B[i,k,j] - mean[Δx:K] C[Δx,j]',
  ],
  ['nested aggregators', 'Y = sum[i] max[j] A[i,j]', 'Y = sum[i] max[j] A[i,j]'],
  ['aggregator as a right factor', 'Y[j] = A[j] · sum[i] B[i] C[i]', 'Y[j] = A[j] · sum[i] B[i] · C[i]'],
  ['minus signs', 'Y = a − b – c - -d', 'Y = a - b - c - -d'],
  ['unary minus', 'Y = −a · b', 'Y = -a · b'],
  ['power', 'Y = x^2^k + (x^2)^k + -x ^ 2 + x^-1', 'Y = x^2^k + (x^2)^k + -x^2 + x^-1'],
  ['division', 'Y = a/b/c + a/(b/c) + a/b*c', 'Y = a / b / c + a / (b / c) + a / b · c'],
  ['parentheses kept as written', 'Y = ((a)) + (b·c)', 'Y = ((a)) + (b · c)'],
  ['numbers keep their digits', 'Y = 1e-5 + .5 + 2. + 1E3 + 0.250 + 7', 'Y = 1e-5 + .5 + 2. + 1E3 + 0.250 + 7'],
  [
    'elementwise functions',
    'Y[i]=relu(X[i])+sigmoid(X[i])+tanh(X[i])+exp(X[i])+log(X[i])+sqrt(X[i])+abs(X[i])+square(X[i])+softplus(X[i])',
    'Y[i] = relu(X[i]) + sigmoid(X[i]) + tanh(X[i]) + exp(X[i]) + log(X[i]) + sqrt(X[i]) + abs(X[i]) + square(X[i]) + softplus(X[i])',
  ],
  ['binary max and min, σ', 'Y[i] = max(A[i],0) + min (A[i] , B[i]) + σ(A[i])', 'Y[i] = max(A[i], 0) + min(A[i], B[i]) + σ(A[i])'],
  ['a name, a space, a parenthesis: a product', 'Y = f (x)', 'Y = f · (x)'],
  ['concatenation', 'T[b,x,y,J1+J2] = A[b,x,y,J1];B[b,x,y,J2]', 'T[b,x,y,J1+J2] = A[b,x,y,J1] ; B[b,x,y,J2]'],
  ['affine left-hand side (scatter)', 'T[b, 2*x+Δx, 2*y+Δy, j] = W[Δx,Δy,I,j] · L[b,x,y,I]', 'T[b,2*x+Δx,2*y+Δy,j] = W[Δx,Δy,I,j] · L[b,x,y,I]'],
  ['composite left-hand index', 'Y[b, (g, j:4)] = X[b, (g,I)] · W[g, I, j]', 'Y[b,(g,j:4)] = X[b,(g,I)] · W[g,I,j]'],
  [
    'index forms',
    'Y[x] = X[clamp(x − 1), wrap( x+1 ), reflect(x), (g, I), x / 2, -x, 2·x, s*x + d*Δx - p]',
    'Y[x] = X[clamp(x-1),wrap(x+1),reflect(x),(g,I),x/2,-x,2*x,s*x+d*Δx-p]',
  ],
  ['index parentheses kept', 'Y[x] = X[(x+1)/2, (x), x-(1-y)]', 'Y[x] = X[(x+1)/2,(x),x-(1-y)]'],
  ['integral index numbers', 'Y[x] = X[2.0*x + 1e0]', 'Y[x] = X[2*x+1]'],
  ['const extents', 'Y[j : K] = X[j]', 'Y[j:K] = X[j]'],
  ['scalar target, empty index lists', 'Y[] = X[] + 1', 'Y = X[] + 1'],
  ['Unicode and namespaced names', "blk1.L₁'[Δx, ΔX, μ] = enc.W_q[Δx] · L'[ΔX, μ]", "blk1.L₁'[Δx,ΔX,μ] = enc.W_q[Δx] · L'[ΔX,μ]"],
  ['input declaration', 'input  X[b, x:28, y:28, i:1]', 'input X[b,x:28,y:28,i:1]'],
  ['param with initializer', 'param W ~ he_normal', 'param W ~ he_normal'],
  ['param with shape and arguments', 'param W[i:3, j:4] ~ normal(0, 0.1)', 'param W[i:3,j:4] ~ normal(0, 0.1)'],
  ['param with negative arguments', 'param B ~ uniform(−1, 1)', 'param B ~ uniform(-1, 1)'],
  ['param with shape only', 'param W[i:3]', 'param W[i:3]'],
  ['param with an empty shape', 'param W[] ~ zeros()', 'param W[] ~ zeros'],
  ['const', 'const s = 2', 'const s = 2'],
  ['negative const keeps its digits', 'const s = − 2.50', 'const s = -2.50'],
  ['const supplied by the caller', 'const   s', 'const s'],
];

describe('printProgram golden cases', () => {
  for (const [what, written, canonical] of GOLDEN) {
    it(what, () => {
      expect(printProgram(parse(written))).toBe(canonical);
      // The canonical text is itself a fixed point.
      expect(printProgram(parse(canonical))).toBe(canonical);
    });
  }

  it('drops comments and blank lines, one statement per line', () => {
    const source = '# header\nY[i] = A[i] +   // continued\n  B[i]  # tail\n\n\nZ = relu(\n  Y[0]\n)\n';
    expect(printProgram(parse(source))).toBe('Y[i] = A[i] + B[i]\nZ = relu(Y[0])');
  });

  it('prints the whole LANGUAGE.md §1 program', () => {
    const source = [
      '# LeNet-style conv + pool, exactly as on the slides',
      'L1[b,x,y,j:6]  = relu(W1[Δx:5,Δy:5,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])',
      'L2[b,x,y,j]    = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]',
    ].join('\n');
    expect(printProgram(parse(source))).toBe(
      'L1[b,x,y,j:6] = relu(W1[Δx:5,Δy:5,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])\nL2[b,x,y,j] = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-built trees (as a later stage might build them): the printer adds the parentheses that
// reading back needs, and only those.

const S = { start: 0, end: 0 };
const ref = (name: string): Expr => ({ kind: 'nameref', name, span: S });
const acc = (tensor: string, ...names: string[]): Expr => ({
  kind: 'access',
  tensor,
  indices: names.map((name) => ({ kind: 'name', name, span: S })),
  span: S,
  nameSpan: S,
});
const bin = (op: '+' | '-' | '*' | '/' | '^', left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right, span: S });
const neg = (arg: Expr): Expr => ({ kind: 'negate', arg, span: S });
const sum = (i: string, body: Expr): Expr => ({ kind: 'aggregate', op: 'sum', indices: [{ kind: 'name', name: i, span: S }], body, span: S, headSpan: S });
const num = (value: number): Expr => ({ kind: 'number', value, text: String(value), span: S });
const iname = (name: string): IndexExpr => ({ kind: 'name', name, span: S });
const inum = (value: number): IndexExpr => ({ kind: 'number', value, span: S });
const ibin = (op: '+' | '-' | '*' | '/', left: IndexExpr, right: IndexExpr): IndexExpr => ({ kind: 'binary', op, left, right, span: S });
const program = (...parts: Expr[]): Program => ({
  statements: parts.map((e): Statement => ({ kind: 'assign', target: 'Y', targetSpan: S, indices: [], parts: [e], span: S })),
  source: '',
});

describe('printExpr on hand-built trees', () => {
  const cases: readonly (readonly [Expr, string])[] = [
    [bin('-', ref('a'), bin('-', ref('b'), ref('c'))), 'a - (b - c)'],
    [bin('-', bin('-', ref('a'), ref('b')), ref('c')), 'a - b - c'],
    [bin('*', ref('a'), bin('+', ref('b'), ref('c'))), 'a · (b + c)'],
    [bin('+', ref('a'), bin('*', ref('b'), ref('c'))), 'a + b · c'],
    [bin('/', ref('a'), bin('*', ref('b'), ref('c'))), 'a / (b · c)'],
    [bin('^', bin('^', ref('a'), ref('b')), ref('c')), '(a^b)^c'],
    [bin('^', ref('a'), bin('^', ref('b'), ref('c'))), 'a^b^c'],
    [bin('^', neg(ref('a')), num(2)), '(-a)^2'],
    [neg(bin('^', ref('a'), num(2))), '-a^2'],
    [neg(bin('+', ref('a'), ref('b'))), '-(a + b)'],
    [bin('*', neg(ref('a')), ref('b')), '-a · b'],
    // An aggregator reaches to the end of its product term: as a left factor it needs parentheses.
    [bin('*', sum('i', acc('A', 'i')), acc('B', 'i')), '(sum[i] A[i]) · B[i]'],
    [sum('i', bin('*', acc('A', 'i'), acc('B', 'i'))), 'sum[i] A[i] · B[i]'],
    [bin('+', sum('i', acc('A', 'i')), ref('C')), 'sum[i] A[i] + C'],
    [sum('i', bin('+', acc('A', 'i'), ref('C'))), 'sum[i] (A[i] + C)'],
    [bin('*', bin('*', ref('a'), sum('i', acc('A', 'i'))), ref('b')), '(a · sum[i] A[i]) · b'],
    [bin('*', neg(sum('i', acc('A', 'i'))), ref('b')), '(-sum[i] A[i]) · b'],
    [bin('*', bin('^', ref('a'), sum('i', acc('A', 'i'))), ref('b')), '(a^sum[i] A[i]) · b'],
    [bin('^', sum('i', acc('A', 'i')), num(2)), '(sum[i] A[i])^2'],
  ];
  for (const [tree, text] of cases) {
    it(text, () => {
      expect(printExpr(tree)).toBe(text);
      // And the text means the tree: the parser reads it back to the same operators.
      const reread = parse(`Y = ${text}`);
      const unparen = (e: Expr): Expr =>
        e.kind === 'paren'
          ? unparen(e.arg)
          : e.kind === 'binary'
            ? { ...e, left: unparen(e.left), right: unparen(e.right) }
            : e.kind === 'negate'
              ? { ...e, arg: unparen(e.arg) }
              : e.kind === 'aggregate'
                ? { ...e, body: unparen(e.body) }
                : e;
      const stmt = reread.statements[0];
      expect(stmt.kind === 'assign' && astDifference(unparen(stmt.parts[0]), tree)).toBeFalsy();
    });
  }

  it('prints index trees with the parentheses they need', () => {
    expect(printIndex(ibin('-', iname('x'), ibin('-', iname('y'), inum(1))))).toBe('x-(y-1)');
    expect(printIndex(ibin('/', ibin('+', iname('x'), inum(1)), inum(2)))).toBe('(x+1)/2');
    expect(printIndex(ibin('+', ibin('*', inum(2), iname('x')), iname('Δx')))).toBe('2*x+Δx');
    expect(printIndex(ibin('*', inum(2), ibin('/', iname('x'), inum(2))))).toBe('2*(x/2)');
    expect(printIndex({ kind: 'negate', arg: ibin('+', iname('x'), inum(1)), span: S })).toBe('-(x+1)');
  });

  it('prints numbers without written digits, Infinity included', () => {
    expect(printProgram(program({ kind: 'number', value: 0.1, span: S } as Expr))).toBe('Y = 0.1');
    expect(printProgram(program({ kind: 'number', value: 1e21, span: S } as Expr))).toBe('Y = 1e+21');
    // A hand-built Infinity prints as 1e999; the lexer refuses such a literal (EIN1004) rather
    // than reading a silent Infinity.
    expect(printProgram(program({ kind: 'number', value: Infinity, span: S } as Expr))).toBe('Y = 1e999');
    expect(() => parse('Y = 1e999')).toThrow(/EIN1004/);
  });
});
