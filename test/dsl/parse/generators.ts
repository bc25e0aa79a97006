/**
 * fast-check generators of well-formed einnet programs. Each generator yields a `Gen`: a syntax
 * tree and one random *spelling* of it as source text — Unicode or ASCII operators
 * (`·` `⋅` `*` `×` `∗` or juxtaposition; `Σ` `∑` `sum`; `−` `–` `-`), random white space,
 * comments (`#`, `//`), line breaks after binary operators and inside brackets, redundant
 * parentheses (kept in the tree as `paren` nodes). The tree is the independent truth:
 * `parse(text)` must equal `ast` (up to spans, `astEqual`).
 *
 * Trees are built in the parser's normal form: wherever precedence or an aggregator's reach
 * would change the reading, the combinators insert a `paren` node (and parentheses in the text).
 *
 * Layers, so that other generators can reuse the parts:
 * - white space and operator spellings: `blank`, `lineBreak`, `opStyle`, ...;
 * - names: `tensorName`, `indexName`, `constName`;
 * - pure combinators that build a `Gen` from parts and a spelling (no randomness):
 *   `indexBinary`, `accessOf`, `binaryExpr`, `callExpr`, `aggregateExpr`, `assignOf`, `programOf`, ...;
 * - arbitraries over the whole grammar: `indexExprArb`, `exprArb`, `statementArb`, `programArb`.
 *
 * A generator of shape-correct programs (for differential tests against the lowering) can draw
 * its own tensors and index lists and build accesses and statements with the same combinators,
 * getting the random spellings for free.
 */
import fc from 'fast-check';
import type {
  AggregateOp,
  Assignment,
  BoundaryMode,
  ConstDecl,
  Expr,
  Extent,
  IndexExpr,
  IndexName,
  InitializerSpec,
  InputDecl,
  ParamDecl,
  Program,
  Statement,
  TensorAccess,
} from '../../../dsl/parse/ast';

/** A syntax tree and one spelling of it as source text. */
export interface Gen<T> {
  readonly ast: T;
  readonly text: string;
}

/** Generated trees have no meaningful spans; comparisons ignore spans. */
export const NO_SPAN = { start: 0, end: 0 } as const;

// ---------------------------------------------------------------------------------------------
// White space, comments, line breaks.

/** White space between tokens on one line, often none. */
export const blank: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('', ' ') },
  { weight: 1, arbitrary: fc.constantFrom('  ', '\t', '\u00a0', '\u2009', ' \t ') },
);

/** Non-empty white space on one line: what juxtaposition needs. */
export const someBlank: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(' ') },
  { weight: 1, arbitrary: fc.constantFrom('  ', '\t', '\u00a0', '\u2009') },
);

const commentChar = fc.oneof(
  fc.constantFrom(...'abc xyz[]()Σ·#/;:=~\'"−+-*^.,\\\t'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).map((c) => (c === '\n' ? ' ' : c)),
);

/** A comment to the end of the line, `# ...` or `// ...` (without its newline). */
export const comment: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('#', '//'), fc.string({ unit: commentChar, maxLength: 12 }))
  .map(([mark, body]) => mark + body);

/** A line break, optionally after a comment, with indentation after it. */
export const lineBreak: fc.Arbitrary<string> = fc
  .tuple(blank, fc.option(comment, { freq: 3 }), fc.constantFrom('\n', '\n', '\r\n', '\n\n'), blank)
  // A comment is preceded by a space: `a /` + `// c` must not lex as `///`.
  .map(([before, c, nl, indent]) => `${before}${c === null ? '' : ' ' + c}${nl}${indent}`);

/** What may follow a binary operator (or `=`, `;`): white space, or a line break. */
export const afterOperator: fc.Arbitrary<string> = fc.oneof({ weight: 8, arbitrary: blank }, { weight: 1, arbitrary: lineBreak });

/** What may separate tokens inside brackets, where the lexer drops newlines. */
export const insideBrackets: fc.Arbitrary<string> = fc.oneof({ weight: 8, arbitrary: blank }, { weight: 1, arbitrary: lineBreak });

/** How one binary operator is written: its sign and the white space around it. */
export interface OpStyle {
  /** The sign as typed; '' for juxtaposition (then `before` is the white space between operands). */
  readonly sign: string;
  readonly before: string;
  readonly after: string;
}

/** Multiplication signs the lexer accepts; '' is juxtaposition. */
export const MULTIPLY_SIGNS = ['·', '⋅', '*', '×', '∗', ''] as const;
export const MINUS_SIGNS = ['-', '−', '–'] as const;

/** A random spelling of a binary operator. `juxtapose: false` leaves juxtaposition out (indices). */
export function opStyle(op: '+' | '-' | '*' | '/' | '^', gaps: fc.Arbitrary<string> = afterOperator, juxtapose = true): fc.Arbitrary<OpStyle> {
  const signs: readonly string[] = op === '*' ? MULTIPLY_SIGNS.filter((s) => juxtapose || s !== '') : op === '-' ? MINUS_SIGNS : [op];
  return fc
    .tuple(fc.constantFrom(...signs), blank, someBlank, gaps)
    .map(([sign, before, space, after]) => (sign === '' ? { sign, before: space, after: '' } : { sign, before, after }));
}

// ---------------------------------------------------------------------------------------------
// Names.

/** Tensor names as researchers write them; none is a reserved word or a statement keyword. */
export const TENSOR_BASES = [
  'L',
  'W',
  'B',
  'X',
  'Y',
  'Z',
  'A',
  'M',
  'R',
  'U',
  'V',
  'h',
  'e',
  'x',
  'σ',
  'μ',
  'Ψ',
  'Ω',
  'γ',
  'β',
  'W_q',
  'conv',
  'é',
  'ΔL',
  'x_',
  'Lé',
];
export const NAMESPACES = ['blk1', 'enc', 'layer2', 'Δ', 'res_3'];
export const INDEX_NAMES = [
  'b',
  'x',
  'y',
  'i',
  'j',
  'k',
  'g',
  'c',
  't',
  'I',
  'J',
  'K',
  'G',
  'Δx',
  'Δy',
  'ΔX',
  'ΔY',
  'Δz',
  'J1',
  'J2',
  'μ',
  "x'",
  'x₁',
  '_k',
  'ξ',
];
export const CONST_NAMES = ['s', 'd', 'p', 'K', 'N', 'C', 'stride', 'pad'];
export const UNARY_FUNCTIONS = ['relu', 'sigmoid', 'σ', 'tanh', 'exp', 'log', 'sqrt', 'abs', 'square', 'softplus'];
export const BINARY_FUNCTIONS = ['max', 'min'];
/** Calls the parser accepts and the checker rejects: the parser must not care. */
export const OTHER_FUNCTIONS = ['foo', 'f', 'gelu', 'my_fn'];
export const INITIALIZERS = ['zeros', 'ones', 'glorot_uniform', 'glorot_normal', 'he_normal', 'he_uniform', 'normal', 'uniform', 'my_init'];

/** `L1`, `W'`, `blk1.W`, `enc.layer2.conv3`, `L₁`, `Δx'`... */
export const tensorName: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.constantFrom(...NAMESPACES), { maxLength: 2 }),
    fc.constantFrom(...TENSOR_BASES),
    fc.constantFrom('', '', '0', '1', '2', '12', '₁'),
    fc.constantFrom('', '', '', "'", "''"),
  )
  .map(([ns, base, digits, primes]) => [...ns, base + digits + primes].join('.'));

export const indexName: fc.Arbitrary<string> = fc.constantFrom(...INDEX_NAMES);
export const constName: fc.Arbitrary<string> = fc.constantFrom(...CONST_NAMES);

// ---------------------------------------------------------------------------------------------
// Numbers.

/** Number tokens in every form the lexer reads: `12`, `0.5`, `.5`, `2.`, `1e-5`, `2.5E+3`. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.nat(1000).map(String),
  fc.tuple(fc.nat(99), fc.nat(999)).map(([a, b]) => `${a}.${b}`),
  fc.nat(999).map((b) => `.${b}`),
  fc.nat(99).map((a) => `${a}.`),
  fc
    .tuple(fc.nat(9), fc.constantFrom('', '.5'), fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.nat(12))
    .map(([m, f, e, s, x]) => `${m}${f}${e}${s}${x}`),
);

export const numberExpr: fc.Arbitrary<Gen<Expr>> = numberText.map((text) => ({
  ast: { kind: 'number', value: Number(text), text, span: NO_SPAN },
  text,
}));

/** An integer written as an index number or extent may carry a fraction or exponent: `2.0`, `2e0`. */
function integerText(n: number): fc.Arbitrary<string> {
  return fc.oneof({ weight: 6, arbitrary: fc.constant(String(n)) }, { weight: 1, arbitrary: fc.constantFrom(`${n}.0`, `${n}.`, `${n}e0`) });
}

/** A signed number as in `const s = −2` or `normal(0, -0.1)`: its value and its text. */
export const signedNumber: fc.Arbitrary<{ value: number; text: string }> = fc
  .tuple(fc.constantFrom('', '', ...MINUS_SIGNS), blank, numberText)
  .map(([sign, gap, digits]) => ({ value: sign === '' ? Number(digits) : -Number(digits), text: sign === '' ? digits : `${sign}${gap}${digits}` }));

// ---------------------------------------------------------------------------------------------
// Index expressions: combinators (normal form) and arbitraries.

export function extentOf(e: Extent, text: string): Gen<Extent> {
  return { ast: e, text };
}

export const extentArb: fc.Arbitrary<Gen<Extent>> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 64 }).chain((n) => integerText(n).map((t) => extentOf({ kind: 'literal', value: n, span: NO_SPAN }, t))) },
  { weight: 1, arbitrary: constName.map((name) => extentOf({ kind: 'const', name, span: NO_SPAN }, name)) },
);

/** `j` or `j:6` (white space around the colon as given). */
export function indexNameOf(name: string, extent?: Gen<Extent>, colon = ':'): Gen<IndexName> {
  return {
    ast: { kind: 'name', name, extent: extent?.ast, span: NO_SPAN },
    text: extent === undefined ? name : `${name}${colon}${extent.text}`,
  };
}

/** An index name with an extent half of the time: `j`, `j:6`, `Δx : K`. */
export function indexNameArb(names: fc.Arbitrary<string> = indexName, extentFreq = 2): fc.Arbitrary<Gen<IndexName>> {
  return fc
    .tuple(names, fc.option(extentArb, { freq: extentFreq }), blank, blank)
    .map(([name, extent, b1, b2]) => indexNameOf(name, extent ?? undefined, `${b1}:${b2}`));
}

export function indexNumberOf(value: number, text = String(value)): Gen<IndexExpr> {
  return { ast: { kind: 'number', value, span: NO_SPAN }, text };
}

function indexPrecedence(e: IndexExpr): number {
  if (e.kind === 'binary') return e.op === '+' || e.op === '-' ? 1 : 2;
  return e.kind === 'negate' ? 3 : 4;
}

export function indexParen(arg: Gen<IndexExpr>, open = '', close = ''): Gen<IndexExpr> {
  return { ast: { kind: 'paren', arg: arg.ast, span: NO_SPAN }, text: `(${open}${arg.text}${close})` };
}

/** `left op right`, parenthesising an operand where the grammar needs it (left-associative). */
export function indexBinary(
  op: '+' | '-' | '*' | '/',
  left: Gen<IndexExpr>,
  right: Gen<IndexExpr>,
  style: OpStyle = { sign: op, before: '', after: '' },
): Gen<IndexExpr> {
  const p = op === '+' || op === '-' ? 1 : 2;
  const l = indexPrecedence(left.ast) < p ? indexParen(left) : left;
  const r = indexPrecedence(right.ast) < p + 1 ? indexParen(right) : right;
  return {
    ast: { kind: 'binary', op, left: l.ast, right: r.ast, span: NO_SPAN },
    text: `${l.text}${style.before}${style.sign}${style.after}${r.text}`,
  };
}

export function indexNegate(arg: Gen<IndexExpr>, minus = '-', gap = ''): Gen<IndexExpr> {
  const a = indexPrecedence(arg.ast) < 3 ? indexParen(arg) : arg;
  return { ast: { kind: 'negate', arg: a.ast, span: NO_SPAN }, text: `${minus}${gap}${a.text}` };
}

/** `(g, I)`: `seps[k]` is the white space after the k-th comma. */
export function indexComposite(parts: readonly Gen<IndexExpr>[], seps: readonly string[] = []): Gen<IndexExpr> {
  return {
    ast: { kind: 'composite', parts: parts.map((p) => p.ast), span: NO_SPAN },
    text: `(${parts.map((p, k) => (k === 0 ? '' : `,${seps[k - 1] ?? ''}`) + p.text).join('')})`,
  };
}

export function indexBoundary(mode: BoundaryMode, arg: Gen<IndexExpr>, open = '', close = ''): Gen<IndexExpr> {
  return { ast: { kind: 'boundary', mode, arg: arg.ast, span: NO_SPAN }, text: `${mode}(${open}${arg.text}${close})` };
}

/** An index expression of the grammar, nested up to `depth`, over the given index names. */
export function indexExprArb(depth = 3, names: fc.Arbitrary<string> = indexName): fc.Arbitrary<Gen<IndexExpr>> {
  const leaf: fc.Arbitrary<Gen<IndexExpr>> = fc.oneof(
    { weight: 4, arbitrary: indexNameArb(names, 5) },
    { weight: 2, arbitrary: fc.nat(9).chain((n) => integerText(n).map((t) => indexNumberOf(n, t))) },
  );
  if (depth <= 0) return leaf;
  const sub = indexExprArb(depth - 1, names);
  const op = fc.constantFrom('+', '-', '*', '/') as fc.Arbitrary<'+' | '-' | '*' | '/'>;
  return fc.oneof(
    { weight: 5, arbitrary: leaf },
    { weight: 4, arbitrary: op.chain((o) => fc.tuple(sub, sub, opStyle(o, insideBrackets, false)).map(([l, r, s]) => indexBinary(o, l, r, s))) },
    { weight: 1, arbitrary: fc.tuple(sub, fc.constantFrom(...MINUS_SIGNS), blank).map(([a, m, g]) => indexNegate(a, m, g)) },
    { weight: 1, arbitrary: fc.tuple(sub, insideBrackets, insideBrackets).map(([a, o, c]) => indexParen(a, o, c)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.array(sub, { minLength: 2, maxLength: 3 }), fc.array(insideBrackets, { minLength: 2, maxLength: 2 }))
        .map(([parts, seps]) => indexComposite(parts, seps)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('clamp', 'wrap', 'reflect') as fc.Arbitrary<BoundaryMode>, sub, blank, blank)
        .map(([m, a, o, c]) => indexBoundary(m, a, o, c)),
    },
  );
}

/**
 * Index expressions as layers use them: `x`, `s*x+d*Δx-p`, `2*x+Δx`, `x/2`, `(x+1)/2`, `(g,I)`,
 * `clamp(x+Δx-1)`, `J1+J2`.
 */
export function realisticIndexArb(names: fc.Arbitrary<string> = indexName): fc.Arbitrary<Gen<IndexExpr>> {
  const bare = names.map((n) => indexNameOf(n));
  const coefficient = fc.oneof(
    fc.integer({ min: 1, max: 4 }).map((n) => indexNumberOf(n)),
    constName.map((n) => indexNameOf(n)),
  );
  const scaled = fc.tuple(coefficient, bare, opStyle('*', blank, false)).map(([c, v, s]) => indexBinary('*', c, v, s));
  const term = fc.oneof(bare, scaled);
  const affine = fc
    .tuple(
      term,
      fc.array(
        fc.tuple(
          fc.constantFrom('+', '-') as fc.Arbitrary<'+' | '-'>,
          fc.oneof(
            term,
            fc.nat(3).map((n) => indexNumberOf(n)),
          ),
        ),
        { maxLength: 2 },
      ),
      blank,
    )
    .map(([first, rest, gap]) => rest.reduce((acc, [op, t]) => indexBinary(op, acc, t, { sign: op, before: gap, after: gap }), first));
  return fc.oneof(
    { weight: 4, arbitrary: indexNameArb(names, 3) },
    { weight: 4, arbitrary: affine },
    {
      weight: 1,
      arbitrary: fc
        .tuple(affine, fc.integer({ min: 1, max: 4 }))
        .map(([a, d]) => indexBinary('/', a.ast.kind === 'binary' ? indexParen(a) : a, indexNumberOf(d))),
    },
    { weight: 1, arbitrary: fc.tuple(bare, bare, insideBrackets).map(([g, i, sep]) => indexComposite([g, i], [sep])) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('clamp', 'wrap', 'reflect') as fc.Arbitrary<BoundaryMode>, affine).map(([m, a]) => indexBoundary(m, a)) },
  );
}

/** `[i, j:6, x+Δx]` with random gaps (newlines allowed: we are inside brackets). */
export function indexListOf(indices: readonly Gen<IndexExpr>[], gaps: readonly string[] = []): string {
  const g = (k: number) => gaps[k] ?? '';
  return `[${g(0)}${indices.map((ix, k) => (k === 0 ? '' : `,${g(k + 1)}`) + ix.text).join('')}${indices.length > 0 ? g(1) : ''}]`;
}

export const indexListGaps: fc.Arbitrary<string[]> = fc.array(insideBrackets, { minLength: 8, maxLength: 8 });

// ---------------------------------------------------------------------------------------------
// Value expressions: combinators (normal form).

/** 1 `+ -`, 2 `· /`, 3 unary minus and aggregators, 4 `^`, 5 atoms — the parser's grammar. */
function precedence(e: Expr): number {
  switch (e.kind) {
    case 'binary':
      return e.op === '+' || e.op === '-' ? 1 : e.op === '^' ? 4 : 2;
    case 'negate':
    case 'aggregate':
      return 3;
    default:
      return 5;
  }
}

/** Would a following `· x` be swallowed by an aggregator at the right end of `e`? */
function swallowsFollowingFactor(e: Expr): boolean {
  if (e.kind === 'aggregate') return true;
  if (e.kind === 'negate') return swallowsFollowingFactor(e.arg);
  if (e.kind === 'binary' && e.op !== '+' && e.op !== '-') return swallowsFollowingFactor(e.right);
  return false;
}

export function parenExpr(arg: Gen<Expr>, open = '', close = ''): Gen<Expr> {
  return { ast: { kind: 'paren', arg: arg.ast, span: NO_SPAN }, text: `(${open}${arg.text}${close})` };
}

export function accessOf(tensor: string, indices: readonly Gen<IndexExpr>[], gaps: readonly string[] = [], beforeBracket = ''): Gen<TensorAccess> {
  return {
    ast: { kind: 'access', tensor, indices: indices.map((i) => i.ast), span: NO_SPAN, nameSpan: NO_SPAN },
    text: `${tensor}${beforeBracket}${indexListOf(indices, gaps)}`,
  };
}

export function nameRef(name: string): Gen<Expr> {
  return { ast: { kind: 'nameref', name, span: NO_SPAN }, text: name };
}

/**
 * `left op right` in normal form. A juxtaposition style falls back to `·` when the right
 * operand does not start a factor (a unary minus would read as subtraction).
 */
export function binaryExpr(
  op: '+' | '-' | '*' | '/' | '^',
  left: Gen<Expr>,
  right: Gen<Expr>,
  style: OpStyle = { sign: op === '*' ? '·' : op, before: ' ', after: ' ' },
): Gen<Expr> {
  let l = left;
  let r = right;
  if (op === '+' || op === '-') {
    if (precedence(r.ast) < 2) r = parenExpr(r);
  } else if (op === '*' || op === '/') {
    if (precedence(l.ast) < 2 || swallowsFollowingFactor(l.ast)) l = parenExpr(l);
    if (precedence(r.ast) < 3) r = parenExpr(r);
  } else {
    if (precedence(l.ast) < 5) l = parenExpr(l);
    if (precedence(r.ast) < 3) r = parenExpr(r);
  }
  const s = style.sign === '' && r.ast.kind === 'negate' ? { sign: '·', before: ' ', after: ' ' } : style;
  return {
    ast: { kind: 'binary', op, left: l.ast, right: r.ast, span: NO_SPAN, spelling: op === '*' ? s.sign : undefined },
    text: `${l.text}${s.before}${s.sign}${s.after}${r.text}`,
  };
}

export function negateExpr(arg: Gen<Expr>, minus = '-', gap = ''): Gen<Expr> {
  const a = precedence(arg.ast) < 3 ? parenExpr(arg) : arg;
  return { ast: { kind: 'negate', arg: a.ast, span: NO_SPAN }, text: `${minus}${gap}${a.text}` };
}

/** `fn(a, b)`; no space may stand between the name and `(` (else it is a product). */
export function callExpr(fn: string, args: readonly Gen<Expr>[], gaps: readonly string[] = []): Gen<Expr> {
  const g = (k: number) => gaps[k] ?? '';
  return {
    ast: { kind: 'call', fn, args: args.map((a) => a.ast), span: NO_SPAN, nameSpan: NO_SPAN },
    text: `${fn}(${g(0)}${args.map((a, k) => (k === 0 ? '' : `,${g(k + 1)}`) + a.text).join('')}${g(1)})`,
  };
}

/** `sum[i, j:3] body` (or `Σ[...]`, `∑[...]` per `word`); the body is a product term. */
export function aggregateExpr(
  op: AggregateOp,
  indices: readonly Gen<IndexName>[],
  body: Gen<Expr>,
  word: string = op,
  gaps: readonly string[] = [],
  beforeBody = ' ',
): Gen<Expr> {
  const b = precedence(body.ast) < 2 ? parenExpr(body) : body;
  return {
    ast: { kind: 'aggregate', op, indices: indices.map((i) => i.ast), body: b.ast, span: NO_SPAN, headSpan: NO_SPAN },
    text: `${word}${indexListOf(indices, gaps)}${beforeBody}${b.text}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Value expressions: arbitraries.

/** `T[...]` with a random tensor name and index list. */
export function accessArb(indices: fc.Arbitrary<Gen<IndexExpr>> = fc.oneof(realisticIndexArb(), indexExprArb(2))): fc.Arbitrary<Gen<TensorAccess>> {
  return fc.tuple(tensorName, fc.array(indices, { maxLength: 5 }), indexListGaps, blank).map(([name, ix, gaps, before]) => accessOf(name, ix, gaps, before));
}

/** Leaves of value expressions: accesses (mostly), numbers, bare names. */
export const exprLeafArb: fc.Arbitrary<Gen<Expr>> = fc.oneof(
  { weight: 6, arbitrary: accessArb() as fc.Arbitrary<Gen<Expr>> },
  { weight: 2, arbitrary: numberExpr },
  { weight: 1, arbitrary: fc.oneof(tensorName, constName).map(nameRef) },
);

const SUM_WORDS: Readonly<Record<AggregateOp, readonly string[]>> = {
  sum: ['sum', 'Σ', '∑'],
  max: ['max'],
  min: ['min'],
  mean: ['mean'],
};

/**
 * A value expression of the whole grammar, nested up to `depth`, with `leaf` at the bottom.
 * Pass a leaf generator of well-shaped accesses to get expressions over known tensors.
 */
export function exprArb(depth = 3, leaf: fc.Arbitrary<Gen<Expr>> = exprLeafArb): fc.Arbitrary<Gen<Expr>> {
  if (depth <= 0) return leaf;
  const sub = exprArb(depth - 1, leaf);
  const binOp = fc.constantFrom('+', '-', '*', '*', '/', '^') as fc.Arbitrary<'+' | '-' | '*' | '/' | '^'>;
  const callArb = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...UNARY_FUNCTIONS), sub).map(([fn, a]) => ({ fn, args: [a] })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...BINARY_FUNCTIONS), sub, sub).map(([fn, a, b]) => ({ fn, args: [a, b] })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...OTHER_FUNCTIONS), fc.array(sub, { maxLength: 3 })).map(([fn, args]) => ({ fn, args })) },
  );
  const aggArb = fc
    .tuple(
      fc.constantFrom('sum', 'sum', 'max', 'min', 'mean') as fc.Arbitrary<AggregateOp>,
      fc.array(indexNameArb(indexName, 1), { minLength: 1, maxLength: 3 }),
      sub,
      indexListGaps,
      blank,
    )
    .chain(([op, ix, body, gaps, before]) => fc.constantFrom(...SUM_WORDS[op]).map((word) => aggregateExpr(op, ix, body, word, gaps, before)));
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 6, arbitrary: binOp.chain((op) => fc.tuple(sub, sub, opStyle(op)).map(([l, r, s]) => binaryExpr(op, l, r, s))) },
    { weight: 1, arbitrary: fc.tuple(sub, fc.constantFrom(...MINUS_SIGNS), blank).map(([a, m, g]) => negateExpr(a, m, g)) },
    { weight: 2, arbitrary: fc.tuple(callArb, fc.array(insideBrackets, { minLength: 4, maxLength: 4 })).map(([c, gaps]) => callExpr(c.fn, c.args, gaps)) },
    { weight: 2, arbitrary: aggArb },
    { weight: 1, arbitrary: fc.tuple(sub, insideBrackets, insideBrackets).map(([a, o, c]) => parenExpr(a, o, c)) },
  );
}

// ---------------------------------------------------------------------------------------------
// Statements and programs.

/**
 * `T[i, j:6] = a ; b`. `indices: undefined` writes no brackets (`T = ...`); both spellings give
 * an empty index list in the tree.
 */
export function assignOf(
  target: string,
  indices: readonly Gen<IndexExpr>[] | undefined,
  parts: readonly Gen<Expr>[],
  gaps: { list?: readonly string[]; eq?: readonly [string, string]; semis?: readonly (readonly [string, string])[] } = {},
): Gen<Assignment> {
  const [b, a] = gaps.eq ?? [' ', ' '];
  const lhs = indices === undefined ? target : `${target}${indexListOf(indices, gaps.list)}`;
  // Before `;` only blanks (a newline there would end the statement); after it, a break is fine.
  const semi = (k: number) => `${gaps.semis?.[k]?.[0] ?? ' '};${gaps.semis?.[k]?.[1] ?? ' '}`;
  const rhs = parts.map((p, k) => (k === 0 ? '' : semi(k - 1)) + p.text).join('');
  return {
    ast: { kind: 'assign', target, targetSpan: NO_SPAN, indices: (indices ?? []).map((i) => i.ast), parts: parts.map((p) => p.ast), span: NO_SPAN },
    text: `${lhs}${b}=${a}${rhs}`,
  };
}

export function inputOf(name: string, indices: readonly Gen<IndexName>[], gaps: readonly string[] = [], space = ' '): Gen<InputDecl> {
  return {
    ast: { kind: 'input', name, nameSpan: NO_SPAN, indices: indices.map((i) => i.ast), span: NO_SPAN },
    text: `input${space}${name}${indexListOf(indices, gaps)}`,
  };
}

export function paramOf(
  name: string,
  indices: readonly Gen<IndexName>[] | undefined,
  init: { name: string; args: readonly { value: number; text: string }[]; parens: boolean } | undefined,
  gaps: readonly string[] = [],
  space = ' ',
): Gen<ParamDecl> {
  const spec: InitializerSpec | undefined = init && { name: init.name, args: init.args.map((a) => a.value), span: NO_SPAN };
  const shape = indices === undefined ? '' : indexListOf(indices, gaps);
  const initText = init === undefined ? '' : ` ~ ${init.name}${init.parens || init.args.length > 0 ? `(${init.args.map((a) => a.text).join(', ')})` : ''}`;
  return {
    ast: { kind: 'param', name, nameSpan: NO_SPAN, indices: indices?.map((i) => i.ast), init: spec, span: NO_SPAN },
    text: `param${space}${name}${shape}${initText}`,
  };
}

export function constOf(name: string, value: { value: number; text: string } | undefined, space = ' '): Gen<ConstDecl> {
  return {
    ast: { kind: 'const', name, nameSpan: NO_SPAN, value: value?.value, text: value?.text.replace(/\s+/g, ''), span: NO_SPAN },
    text: value === undefined ? `const${space}${name}` : `const${space}${name} = ${value.text}`,
  };
}

export const assignArb: fc.Arbitrary<Gen<Statement>> = fc
  .tuple(
    tensorName,
    fc.option(fc.array(fc.oneof({ weight: 3, arbitrary: indexNameArb() }, { weight: 1, arbitrary: realisticIndexArb() }), { maxLength: 5 }), { freq: 8 }),
    fc.array(exprArb(3), { minLength: 1, maxLength: 3 }),
    indexListGaps,
    fc.tuple(blank, afterOperator),
    fc.array(fc.tuple(blank, afterOperator), { minLength: 2, maxLength: 2 }),
  )
  .map(([target, indices, parts, list, eq, semis]) => assignOf(target, indices ?? undefined, parts, { list, eq, semis }));

export const inputArb: fc.Arbitrary<Gen<Statement>> = fc
  .tuple(tensorName, fc.array(indexNameArb(indexName, 3), { maxLength: 5 }), indexListGaps, someBlank)
  .map(([name, ix, gaps, space]) => inputOf(name, ix, gaps, space));

const initArb = fc.oneof(
  fc.constantFrom(...INITIALIZERS).map((name) => ({ name, args: [] as { value: number; text: string }[], parens: false })),
  fc.tuple(fc.constantFrom(...INITIALIZERS), fc.array(signedNumber, { maxLength: 3 })).map(([name, args]) => ({ name, args, parens: true })),
);

export const paramArb: fc.Arbitrary<Gen<Statement>> = fc
  .tuple(tensorName, fc.option(fc.array(indexNameArb(indexName, 3), { maxLength: 4 })), fc.option(initArb), indexListGaps, someBlank)
  // A declaration must say something: a shape, an initializer, or both.
  .map(([name, ix, init, gaps, space]) => paramOf(name, ix ?? (init === null ? [] : undefined), init ?? undefined, gaps, space));

export const constArb: fc.Arbitrary<Gen<Statement>> = fc
  .tuple(constName, fc.option(signedNumber, { freq: 4 }), someBlank)
  .map(([name, value, space]) => constOf(name, value ?? undefined, space));

export const statementArb: fc.Arbitrary<Gen<Statement>> = fc.oneof(
  { weight: 8, arbitrary: assignArb },
  { weight: 1, arbitrary: inputArb },
  { weight: 1, arbitrary: paramArb },
  { weight: 1, arbitrary: constArb },
);

/** What may stand between two statements: a newline, with comments and blank lines around it. */
export const statementSeparator: fc.Arbitrary<string> = fc
  .tuple(blank, fc.option(comment, { freq: 4 }), fc.constantFrom('\n', '\r\n', '\n\n', '\n  # note\n', '\n// note\n\n'))
  .map(([b, c, nl]) => `${b}${c ?? ''}${nl}`);

/**
 * A program from statements. `seps[0]` goes before the first statement, `seps[k + 1]` after
 * statement k; each separator must end in a newline. Without `seps`, one statement per line.
 */
export function programOf(statements: readonly Gen<Statement>[], seps: readonly string[] = []): Gen<Program> {
  const text = (seps[0] ?? '') + statements.map((s, k) => s.text + (seps[k + 1] ?? (k === statements.length - 1 ? '' : '\n'))).join('');
  return { ast: { statements: statements.map((s) => s.ast), source: text }, text };
}

export const programArb: fc.Arbitrary<Gen<Program>> = fc
  .tuple(fc.array(statementArb, { minLength: 1, maxLength: 5 }), fc.array(statementSeparator, { minLength: 7, maxLength: 7 }))
  .map(([statements, seps]) => programOf(statements, seps));

// ---------------------------------------------------------------------------------------------
// Shape-correct programs: an example of reuse.

/** A generated program together with input shapes under which it is shape-correct. */
export interface ShapedProgram {
  readonly program: Gen<Program>;
  /** Shapes to bind the program's inputs to. */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
}

/**
 * LANGUAGE.md §1-style programs that are shape-correct by construction, in random spellings:
 *
 *     L1[b,x,y,j:J] = act(W1[Δx:K,Δy:K,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])
 *     L2[b,x,y,j]   = agg[Δx:P,Δy:P] L1[b,P*x+Δx,P*y+Δy,j]
 *
 * with `L0` bound to `[N, H, W, C]` large enough that every valid range is non-empty. It shows
 * how a differential-test generator (lowering vs. reference) is built from the combinators:
 * choose shapes first, then write accesses whose ranks and extents agree with them.
 */
export const convPoolProgramArb: fc.Arbitrary<ShapedProgram> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 3 }),
    j: fc.integer({ min: 1, max: 4 }),
    k: fc.integer({ min: 1, max: 3 }),
    p: fc.integer({ min: 1, max: 3 }),
    extra: fc.integer({ min: 0, max: 3 }),
    act: fc.constantFrom(...UNARY_FUNCTIONS.filter((f) => f !== 'log' && f !== 'sqrt')),
    pool: fc.constantFrom('max', 'mean', 'sum') as fc.Arbitrary<AggregateOp>,
    product: opStyle('*'),
    plus: opStyle('+'),
    poolWord: fc.constantFrom(...SUM_WORDS.sum),
    gaps: indexListGaps,
    seps: fc.array(statementSeparator, { minLength: 3, maxLength: 3 }),
  })
  .map(({ n, c, j, k, p, extra, act, pool, product, plus, poolWord, gaps, seps }) => {
    const v = (name: string) => indexNameOf(name);
    const shifted = (a: string, b: string) => indexBinary('+', v(a), v(b));
    const strided = (a: string, b: string) => indexBinary('+', indexBinary('*', indexNumberOf(p), v(a)), v(b));
    const lit = (value: number) => extentOf({ kind: 'literal', value, span: NO_SPAN }, String(value));
    const conv = assignOf(
      'L1',
      [v('b'), v('x'), v('y'), indexNameOf('j', lit(j))],
      [
        callExpr(act, [
          binaryExpr(
            '+',
            binaryExpr(
              '*',
              accessOf('W1', [indexNameOf('Δx', lit(k)), indexNameOf('Δy', lit(k)), v('I'), v('j')], gaps),
              accessOf('L0', [v('b'), shifted('x', 'Δx'), shifted('y', 'Δy'), v('I')]),
              product,
            ),
            accessOf('B1', [v('j')]),
            plus,
          ),
        ]),
      ],
    );
    const poolBody = accessOf('L1', [v('b'), strided('x', 'Δx'), strided('y', 'Δy'), v('j')]);
    const pooled = aggregateExpr(pool, [indexNameOf('Δx', lit(p)), indexNameOf('Δy', lit(p))], poolBody, pool === 'sum' ? poolWord : pool);
    const program = programOf([conv, assignOf('L2', [v('b'), v('x'), v('y'), v('j')], [pooled])], seps);
    // Conv output is H-K+1 wide; pooling with stride P needs at least P of it.
    const h = k - 1 + p * (1 + extra);
    return { program, inputs: { L0: [n, h, h + (extra % 2), c] } };
  });
