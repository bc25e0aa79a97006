/**
 * Parser tests for every construct of LANGUAGE.md §2–§5. Expected trees are built by hand with
 * the small constructors below and compared up to spans and spellings (`astDifference`);
 * Unicode and ASCII spellings of one program must give equal trees.
 */
import { describe, expect, it } from 'vitest';
import { EinError } from '../../../core/diagnostics';
import type { AggregateOp, Expr, Extent, IndexExpr, IndexName, Program, Statement } from '../../../dsl/parse/ast';
import { astDifference } from '../../../dsl/parse/equal';
import { parse } from '../../../dsl/parse/parser';

// -- tree constructors ------------------------------------------------------------------------

const S = { start: 0, end: 0 };
type Ix = IndexExpr | string;
const ext = (e: number | string): Extent => (typeof e === 'number' ? { kind: 'literal', value: e, span: S } : { kind: 'const', name: e, span: S });
/** `n('j', 6)` is `j:6`. */
const n = (name: string, extent?: number | string): IndexName => ({ kind: 'name', name, extent: extent === undefined ? undefined : ext(extent), span: S });
const ix = (i: Ix): IndexExpr => (typeof i === 'string' ? n(i) : i);
const inum = (value: number): IndexExpr => ({ kind: 'number', value, span: S });
const iop = (op: '+' | '-' | '*' | '/', l: Ix, r: Ix): IndexExpr => ({ kind: 'binary', op, left: ix(l), right: ix(r), span: S });
const ineg = (a: Ix): IndexExpr => ({ kind: 'negate', arg: ix(a), span: S });
const iparen = (a: Ix): IndexExpr => ({ kind: 'paren', arg: ix(a), span: S });
const comp = (...parts: Ix[]): IndexExpr => ({ kind: 'composite', parts: parts.map(ix), span: S });
const bound = (mode: 'clamp' | 'wrap' | 'reflect', a: Ix): IndexExpr => ({ kind: 'boundary', mode, arg: ix(a), span: S });

const A = (tensor: string, ...indices: Ix[]): Expr => ({ kind: 'access', tensor, indices: indices.map(ix), span: S, nameSpan: S });
const num = (value: number): Expr => ({ kind: 'number', value, text: '', span: S });
const ref = (name: string): Expr => ({ kind: 'nameref', name, span: S });
const op = (o: '+' | '-' | '*' | '/' | '^', left: Expr, right: Expr): Expr => ({ kind: 'binary', op: o, left, right, span: S });
const mul = (l: Expr, r: Expr) => op('*', l, r);
const add = (l: Expr, r: Expr) => op('+', l, r);
const sub = (l: Expr, r: Expr) => op('-', l, r);
const neg = (arg: Expr): Expr => ({ kind: 'negate', arg, span: S });
const paren = (arg: Expr): Expr => ({ kind: 'paren', arg, span: S });
const call = (fn: string, ...args: Expr[]): Expr => ({ kind: 'call', fn, args, span: S, nameSpan: S });
const agg = (o: AggregateOp, indices: IndexName[], body: Expr): Expr => ({ kind: 'aggregate', op: o, indices, body, span: S, headSpan: S });
const assign = (target: string, indices: Ix[], ...parts: Expr[]): Statement => ({
  kind: 'assign',
  target,
  targetSpan: S,
  indices: indices.map(ix),
  parts,
  span: S,
});
const prog = (...statements: Statement[]): Program => ({ statements, source: '' });

/** Parses `source` and expects exactly the given statements. */
function expectTree(source: string, ...statements: Statement[]): void {
  expect(astDifference(parse(source), prog(...statements)), source).toBeUndefined();
}

/** Parses each source and expects all trees equal to the first. */
function expectSameTree(...sources: string[]): void {
  const first = parse(sources[0]);
  for (const s of sources.slice(1)) expect(astDifference(parse(s), first), `${JSON.stringify(s)} vs ${JSON.stringify(sources[0])}`).toBeUndefined();
}

/** Parsing `source` throws an EinError at `line:column` whose message contains `fragment`. */
function expectError(source: string, line: number, column: number, fragment: string): EinError {
  let error: unknown;
  try {
    parse(source);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(EinError);
  const e = error as EinError;
  expect([e.line, e.column], e.message).toEqual([line, column]);
  expect(e.message).toContain(fragment);
  return e;
}

// -- §2 lexical -------------------------------------------------------------------------------

describe('§2 identifiers', () => {
  it("reads Δx, ΔX, μ, L', digits and _ as ordinary names", () => {
    expectTree(
      "Y[Δx, ΔX, μ, x'] = L'[Δx, ΔX] · _a1[μ, x'] · μ",
      assign('Y', ['Δx', 'ΔX', 'μ', "x'"], mul(mul(A("L'", 'Δx', 'ΔX'), A('_a1', 'μ', "x'")), ref('μ'))),
    );
  });

  it('reads dotted tensor names as one name (namespacing)', () => {
    expectTree('blk1.Y[i] = blk1.W[i] + enc.layer2.B[i]', assign('blk1.Y', ['i'], add(A('blk1.W', 'i'), A('enc.layer2.B', 'i'))));
  });

  it('reads subscript digits as part of a name', () => {
    expectTree('L₁[i] = L₀[i]', assign('L₁', ['i'], A('L₀', 'i')));
  });
});

describe('§2 multiplication spellings', () => {
  const expected = assign('Y', ['b', 'j'], mul(A('W', 'I', 'j'), A('X', 'b', 'I')));
  for (const sign of ['·', '⋅', '*', '×', '∗']) {
    it(`'${sign}' multiplies`, () => expectTree(`Y[b,j] = W[I,j] ${sign} X[b,I]`, expected));
  }
  it('juxtaposition of two accesses multiplies, as on the slides', () => {
    expectTree('Y[b,j] = W[I,j] X[b,I]', expected);
    expectTree('Y[b,j] = W[I,j]X[b,I]', expected);
  });
  it('juxtaposition also multiplies numbers, names and parentheses', () => {
    expectTree('Y[i] = 2 X[i] (a + b) c', assign('Y', ['i'], mul(mul(mul(num(2), A('X', 'i')), paren(add(ref('a'), ref('b')))), ref('c'))));
  });
  it('every sign gives the same tree inside an index', () => {
    expectSameTree('Y[x] = X[2*x]', 'Y[x] = X[2·x]', 'Y[x] = X[2⋅x]', 'Y[x] = X[2×x]', 'Y[x] = X[2 ∗ x]');
    expectTree('Y[x] = X[2·x]', assign('Y', ['x'], A('X', iop('*', inum(2), 'x'))));
  });
  it('records how the product was written, and equality ignores it', () => {
    const [s] = parse('Y = a ⋅ b').statements;
    expect(s.kind === 'assign' && s.parts[0].kind === 'binary' && s.parts[0].spelling).toBe('⋅');
  });
});

describe('§2 Σ, ∑ and sum; σ', () => {
  it('Σ, ∑ and sum are one aggregator', () => {
    expectSameTree('Y[j] = sum[i] W[i,j]', 'Y[j] = Σ[i] W[i,j]', 'Y[j] = ∑[i] W[i,j]', 'Y[j]=Σ [ i ]W[i,j]');
    expectTree('Y[j] = Σ[i] W[i,j]', assign('Y', ['j'], agg('sum', [n('i')], A('W', 'i', 'j'))));
  });
  it('σ(...) is a call (the checker maps σ to sigmoid); σ[j] is a tensor', () => {
    const [s] = parse('Y[j] = σ(X[j]) · σ[j]').statements;
    expect(s.kind).toBe('assign');
    const e = (s as Extract<Statement, { kind: 'assign' }>).parts[0];
    expect(e.kind === 'binary' && e.left.kind === 'call' && ['σ', 'sigmoid'].includes(e.left.fn)).toBe(true);
    expect(e.kind === 'binary' && astDifference(e.right, A('σ', 'j'))).toBeUndefined();
  });
});

describe('§2 minus signs', () => {
  it('− (U+2212) and – (U+2013) are minus, binary and unary, in values and indices', () => {
    expectSameTree('Y[x] = a - -b + X[x-1]', 'Y[x] = a − −b + X[x−1]', 'Y[x] = a – –b + X[x–1]');
    expectTree('Y[x] = a − −b + X[x−1]', assign('Y', ['x'], add(sub(ref('a'), neg(ref('b'))), A('X', iop('-', 'x', inum(1))))));
  });
});

describe('§2 comments', () => {
  it('# and // run to the end of the line, on their own lines or after a statement', () => {
    const expected = [assign('Y', ['i'], A('X', 'i')), assign('Z', [], num(1))];
    expectTree('# first\nY[i] = X[i]  # why\n// second\nZ = 1 // one', ...expected);
    expectTree('Y[i] = X[i]#no space\nZ = 1//no space', ...expected);
  });
  it('a comment may stand inside brackets and after an operator', () => {
    expectTree('Y[i, # the row\n  j] = A[i] + # more\n B[j]', assign('Y', ['i', 'j'], add(A('A', 'i'), A('B', 'j'))));
  });
  it('a single / is division, // a comment', () => {
    expectTree('Y = a / b // c', assign('Y', [], op('/', ref('a'), ref('b'))));
  });
  it('a program of comments only is empty', () => {
    expect(() => parse('# nothing\n// here\n')).toThrow(/EIN1007.*no statements/);
  });
});

describe('§2 statements and line breaks', () => {
  it('a newline ends a statement', () => {
    expectTree('Y = a\nZ = b\n\n\nW = c', assign('Y', [], ref('a')), assign('Z', [], ref('b')), assign('W', [], ref('c')));
  });
  for (const [sign, o] of [
    ['+', '+'],
    ['-', '-'],
    ['·', '*'],
    ['*', '*'],
    ['/', '/'],
    ['^', '^'],
  ] as const) {
    it(`continues after a binary '${sign}'`, () => {
      expectTree(`Y = a ${sign}\n    b`, assign('Y', [], op(o, ref('a'), ref('b'))));
    });
  }
  it('continues after = and ;', () => {
    expectTree('T[J1+J2] =\n  A[J1] ;\n  B[J2]', assign('T', [iop('+', 'J1', 'J2')], A('A', 'J1'), A('B', 'J2')));
  });
  it('continues inside brackets and parentheses', () => {
    expectTree('Y[b,\n  j] = relu(\n  W[I,\n    j]\n  · X[b, I]\n)', assign('Y', ['b', 'j'], call('relu', mul(A('W', 'I', 'j'), A('X', 'b', 'I')))));
    expectTree('Y = (a\n + b)', assign('Y', [], paren(add(ref('a'), ref('b')))));
  });
  it('does not continue before an operator on the next line', () => {
    expectError('Y[i] = X[i]\n  + B[i]', 2, 3, "unexpected '+'");
  });
  it('accepts CRLF line ends', () => {
    expectTree('Y = a\r\nZ = b\r\n', assign('Y', [], ref('a')), assign('Z', [], ref('b')));
  });
});

// -- §3 statements ----------------------------------------------------------------------------

describe('§3 statements', () => {
  it('assignment with extents, composite and const extents on the left', () => {
    expectTree('T[i, j:16, (g,k), m:K] = X[i,j,g,k,m]', assign('T', ['i', n('j', 16), comp('g', 'k'), n('m', 'K')], A('X', 'i', 'j', 'g', 'k', 'm')));
  });
  it('a scalar target with or without []', () => {
    expectSameTree('Y = sum[i] X[i]', 'Y[] = sum[i] X[i]');
  });
  it('concatenation along one axis', () => {
    expectTree(
      'T[b, x, y, J1+J2] = A[b,x,y,J1] ; B[b,x,y,J2]',
      assign('T', ['b', 'x', 'y', iop('+', 'J1', 'J2')], A('A', 'b', 'x', 'y', 'J1'), A('B', 'b', 'x', 'y', 'J2')),
    );
    expect((parse('T[J1+J2+J3] = A[J1]; B[J2]; C[J3]').statements[0] as Extract<Statement, { kind: 'assign' }>).parts).toHaveLength(3);
  });
  it('an affine left-hand side (transposed convolution)', () => {
    expectTree(
      'T[b, 2*x+Δx, 2*y+Δy, j] = W[Δx,Δy,I,j] · L[b,x,y,I]',
      assign(
        'T',
        ['b', iop('+', iop('*', inum(2), 'x'), 'Δx'), iop('+', iop('*', inum(2), 'y'), 'Δy'), 'j'],
        mul(A('W', 'Δx', 'Δy', 'I', 'j'), A('L', 'b', 'x', 'y', 'I')),
      ),
    );
  });
  it('input declaration', () => {
    expectTree('input X[b, x:28, y:28, i:1]', { kind: 'input', name: 'X', nameSpan: S, indices: [n('b'), n('x', 28), n('y', 28), n('i', 1)], span: S });
  });
  const initializers: readonly (readonly [string, string, number[]])[] = [
    ['zeros', 'zeros', []],
    ['ones', 'ones', []],
    ['glorot_uniform', 'glorot_uniform', []],
    ['glorot_normal', 'glorot_normal', []],
    ['he_normal', 'he_normal', []],
    ['he_uniform', 'he_uniform', []],
    ['normal(0, 0.1)', 'normal', [0, 0.1]],
    ['uniform(−1, 1)', 'uniform', [-1, 1]],
    ['normal(-0.5,2e-2)', 'normal', [-0.5, 0.02]],
  ];
  for (const [written, name, args] of initializers) {
    it(`param W ~ ${written}`, () => {
      expectTree(`param W ~ ${written}`, { kind: 'param', name: 'W', nameSpan: S, init: { name, args, span: S }, span: S });
    });
  }
  it('param with a shape, with or without an initializer', () => {
    expectTree('param W[i:3, j:4] ~ he_normal', {
      kind: 'param',
      name: 'W',
      nameSpan: S,
      indices: [n('i', 3), n('j', 4)],
      init: { name: 'he_normal', args: [], span: S },
      span: S,
    });
    expectTree('param W[i:3]', { kind: 'param', name: 'W', nameSpan: S, indices: [n('i', 3)], span: S });
  });
  it('param that says nothing is an error', () => {
    expectError('param W', 1, 1, 'says nothing');
  });
  it('const with a value, a negative value, or none', () => {
    expectTree(
      'const s = 2\nconst t = −0.5\nconst K',
      { kind: 'const', name: 's', nameSpan: S, value: 2, span: S },
      { kind: 'const', name: 't', nameSpan: S, value: -0.5, span: S },
      { kind: 'const', name: 'K', nameSpan: S, span: S },
    );
  });
  it('input, param and const are names where no declaration can start', () => {
    expectTree('input = param[const]', assign('input', [], A('param', 'const')));
  });
});

// -- §4 index expressions ---------------------------------------------------------------------

describe('§4 index expressions', () => {
  it('affine s*x + d*Δx - p with the usual precedence', () => {
    expectTree('Y[x] = X[s*x + d*Δx - p]', assign('Y', ['x'], A('X', iop('-', iop('+', iop('*', 's', 'x'), iop('*', 'd', 'Δx')), 'p'))));
  });
  it('left-associative minus, unary minus binds tightest', () => {
    expectTree('Y[x] = X[x-1-2, -x+1]', assign('Y', ['x'], A('X', iop('-', iop('-', 'x', inum(1)), inum(2)), iop('+', ineg('x'), inum(1)))));
  });
  it('floor division by a constant, parentheses kept', () => {
    expectTree('Y[x] = X[x/2, (x+1)/2]', assign('Y', ['x'], A('X', iop('/', 'x', inum(2)), iop('/', iparen(iop('+', 'x', inum(1))), inum(2)))));
  });
  it('composite (g, I), also nested and with extents', () => {
    expectTree('Y[b, (g, j)] = X[b, (g, I), (g:2, (I, k))]', assign('Y', ['b', comp('g', 'j')], A('X', 'b', comp('g', 'I'), comp(n('g', 2), comp('I', 'k')))));
  });
  it('boundary functions clamp, wrap, reflect', () => {
    expectTree(
      'Y[x] = X[clamp(x+Δx-1), wrap(x), reflect(2*x)]',
      assign('Y', ['x'], A('X', bound('clamp', iop('-', iop('+', 'x', 'Δx'), inum(1))), bound('wrap', 'x'), bound('reflect', iop('*', inum(2), 'x')))),
    );
  });
  it('extents on indices inside an access (the §1 filter)', () => {
    expectTree('Y[j] = W[Δx:5, Δy:K, j]', assign('Y', ['j'], A('W', n('Δx', 5), n('Δy', 'K'), 'j')));
  });
  it('integral numbers in any notation; fractions are an error', () => {
    expectSameTree('Y[x] = X[2*x+1]', 'Y[x] = X[2.0*x+1e0]');
    expectError('Y[x] = X[x + 0.5]', 1, 14, 'not an integer');
  });
  it('extents must be positive integers', () => {
    expectError('Y[j:0] = X[j]', 1, 5, 'not a positive integer');
    expectError('Y[j:2.5] = X[j]', 1, 5, 'not a positive integer');
  });
});

// -- §5 expressions ---------------------------------------------------------------------------

describe('§5 expressions', () => {
  it('precedence: · over +, left-associative - and /', () => {
    expectTree('Y = a + b · c - d / e / f', assign('Y', [], sub(add(ref('a'), mul(ref('b'), ref('c'))), op('/', op('/', ref('d'), ref('e')), ref('f')))));
  });
  it('^ is right-associative and binds tighter than unary minus', () => {
    expectTree('Y = -a^b^c', assign('Y', [], neg(op('^', ref('a'), op('^', ref('b'), ref('c'))))));
    expectTree('Y = -a · b', assign('Y', [], mul(neg(ref('a')), ref('b'))));
    expectTree('Y = a^-b', assign('Y', [], op('^', ref('a'), neg(ref('b')))));
  });
  it('numbers in every form', () => {
    expectTree('Y = 1e-5 + .5 + 2. + 1E3 + 42', assign('Y', [], add(add(add(add(num(1e-5), num(0.5)), num(2)), num(1000)), num(42))));
  });
  for (const fn of ['relu', 'sigmoid', 'tanh', 'exp', 'log', 'sqrt', 'abs', 'square', 'softplus']) {
    it(`${fn}(x) is an elementwise call`, () => expectTree(`Y[i] = ${fn}(X[i])`, assign('Y', ['i'], call(fn, A('X', 'i')))));
  }
  it('max(a, b) and min(a, b) are elementwise calls, even with a space before (', () => {
    expectTree('Y[i] = max(X[i], 0) + min (X[i], Z[i])', assign('Y', ['i'], add(call('max', A('X', 'i'), num(0)), call('min', A('X', 'i'), A('Z', 'i')))));
  });
  it('any other name followed by ( is a call (the checker judges the name)', () => {
    expectTree('Y = gelu(a, b)', assign('Y', [], call('gelu', ref('a'), ref('b'))));
  });
  it('a name, a space, then ( is a product, not a call', () => {
    expectTree('Y = f (a)', assign('Y', [], mul(ref('f'), paren(ref('a')))));
  });
  it('aggregators sum, Σ, max, min, mean with optional extents', () => {
    expectTree(
      'Y[j] = sum[i,k] A[i,k,j] + max[Δx:2,Δy:2] B[Δx,Δy,j] + min[i] C[i,j] + mean[i:K] D[i,j]',
      assign(
        'Y',
        ['j'],
        add(
          add(
            add(agg('sum', [n('i'), n('k')], A('A', 'i', 'k', 'j')), agg('max', [n('Δx', 2), n('Δy', 2)], A('B', 'Δx', 'Δy', 'j'))),
            agg('min', [n('i')], A('C', 'i', 'j')),
          ),
          agg('mean', [n('i', 'K')], A('D', 'i', 'j')),
        ),
      ),
    );
  });
  it('an aggregator applies to the product term that follows: sum[i] A[i]·B[i] + C is (sum ...) + C', () => {
    expectTree('Y = sum[i] A[i]·B[i] + C', assign('Y', [], add(agg('sum', [n('i')], mul(A('A', 'i'), A('B', 'i'))), ref('C'))));
    expectTree('Y = sum[i] A[i] B[i] - C', assign('Y', [], sub(agg('sum', [n('i')], mul(A('A', 'i'), A('B', 'i'))), ref('C'))));
  });
  it('parentheses extend an aggregator', () => {
    expectTree('Y = sum[i] (A[i] + C)', assign('Y', [], agg('sum', [n('i')], paren(add(A('A', 'i'), ref('C'))))));
  });
  it('an aggregator as a right factor takes the rest of the product', () => {
    expectTree('Y[j] = A[j] · sum[i] B[i] · C[i]', assign('Y', ['j'], mul(A('A', 'j'), agg('sum', [n('i')], mul(A('B', 'i'), A('C', 'i'))))));
    expectTree('Y = -sum[i] A[i]', assign('Y', [], neg(agg('sum', [n('i')], A('A', 'i')))));
    expectTree('Y = sum[i] max[j] A[i,j]', assign('Y', [], agg('sum', [n('i')], agg('max', [n('j')], A('A', 'i', 'j')))));
  });
  it('max[..] L[..] is an aggregator, never a tensor max times L', () => {
    expectTree('Y[j] = max[i] L[i,j]', assign('Y', ['j'], agg('max', [n('i')], A('L', 'i', 'j'))));
  });
  it('the seed convolution: implicit sums are left to the checker', () => {
    expectTree(
      'L[b,x,y,j] = σ(W[Δx,Δy,I,j]·L0[b,x+Δx,y+Δy,I] − B[j])',
      assign(
        'L',
        ['b', 'x', 'y', 'j'],
        call('σ', sub(mul(A('W', 'Δx', 'Δy', 'I', 'j'), A('L0', 'b', iop('+', 'x', 'Δx'), iop('+', 'y', 'Δy'), 'I')), A('B', 'j'))),
      ),
    );
  });
});

describe('§5 reserved words', () => {
  it('sum, max, min, mean cannot name a tensor, an index or a parameter', () => {
    expectError('sum[i] = X[i]', 1, 1, 'reserved word');
    expectError('Y[mean] = X[mean]', 1, 3, 'reserved word');
    expectError('Y = max[sum] X', 1, 9, 'reserved word');
    expectError('param min ~ zeros', 1, 7, 'reserved word');
  });
  it('an aggregator needs its index brackets', () => {
    expectError('Y = sum(X[i])', 1, 5, 'aggregator');
    expectError('Y = max', 1, 5, 'aggregator');
    expectError('Y = sum[] X', 1, 5, 'no index');
  });
});

describe('syntax errors are EinErrors with a place', () => {
  it('reports every bad line of a program, the first one first', () => {
    const e = expectError('Y = a $ b\nZ = = b\nW = c ]', 1, 7, "unexpected character '$'");
    expect(e.message).toContain('3 errors');
    expect(e.message).toContain("2:5: unexpected '='");
    expect(e.message).toContain("3:7: unexpected ']'");
  });
  it('a bracket left open at the end of the program', () => {
    expectError('Y[i] = relu(X[i]', 1, 12, "'(' is never closed");
  });
  it('a number glued to a name asks for a multiplication sign', () => {
    expectError('Y[x] = X[2x]', 1, 10, "write '2*x'");
  });
  it('an unknown character', () => {
    expectError('Y = a $ b', 1, 7, "unexpected character '$'");
  });
});

describe('known parser limitations (tests document them; flip to `it` when fixed)', () => {
  // Deep nesting overflows the recursive-descent stack: a RangeError, not an EinError.
  it('deeply nested parentheses raise an EinError, not a RangeError', () => {
    expect(() => parse('Y = ' + '('.repeat(5000) + 'x' + ')'.repeat(5000))).toThrow(EinError);
  });
});
