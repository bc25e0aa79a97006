/**
 * Parser: tokens → syntax tree. Recursive descent, one function per grammar rule. A syntax
 * error ends its statement only: the parser skips to the next line and goes on, so that one run
 * reports every syntax error of a program, each with its caret.
 *
 *   program    := { statement NEWLINE }
 *   statement  := 'input' NAME '[' names ']'
 *               | 'param' NAME [ '[' names ']' ] [ '~' NAME [ '(' numbers ')' ] ]
 *               | 'const' NAME [ '=' number ]
 *               | NAME [ '[' indices ']' ] '=' expr { ';' expr }
 *   expr       := term { ('+'|'-') term }
 *   term       := unary { ('*'|'/'|juxtaposition) unary }
 *   unary      := '-' unary | power
 *   power      := atom [ '^' unary ]
 *   atom       := NUMBER | NAME '[' indices ']' | NAME '(' args ')' | NAME
 *               | AGG '[' names ']' term | '(' expr ')'
 *   index      := affine sums/products of names and numbers, `(g, I)`, clamp/wrap/reflect(index)
 */
import { EinError, MAX_REPORTED_ERRORS, lineOf, throwAll } from '../../core/diagnostics';
import {
  AGGREGATE_OPS,
  BOUNDARY_MODES,
  type AggregateOp,
  type BoundaryMode,
  type Expr,
  type Extent,
  type IndexExpr,
  type IndexName,
  type InitializerSpec,
  type Program,
  type Statement,
} from './ast';
import { StatementFailed, TokenCursor } from './cursor';
import { clip, tokenize, type Token } from './lexer';

export { RESERVED_WORDS } from './cursor';

class Parser extends TokenCursor {
  /** The first `MAX_REPORTED_ERRORS` syntax errors, in source order. */
  readonly errors: EinError[] = [];
  /** How many syntax errors there are in all. */
  errorCount = 0;

  /** `badLines`: lines with a lexical error, whose parse errors would only repeat it. */
  constructor(
    source: string,
    tokens: readonly Token[],
    private readonly badLines: ReadonlySet<number>,
  ) {
    super(source, tokens);
  }

  // -- program and statements -------------------------------------------------------------------

  parseProgram(): Statement[] {
    const statements: Statement[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.peek().kind === 'eof') break;
      try {
        statements.push(this.parseStatement());
        const t = this.peek();
        if (t.kind !== 'newline' && t.kind !== 'eof') {
          this.fail(`unexpected ${this.describe(t)} after the end of the statement`, t.span, 'a new line before the next statement', undefined);
        }
      } catch (e) {
        if (!(e instanceof StatementFailed)) throw e;
        this.record(e);
        while (this.peek().kind !== 'newline' && this.peek().kind !== 'eof') this.next();
      }
    }
    return statements;
  }

  /** Keeps a syntax error, unless it repeats a lexical error on its line. */
  private record(failure: StatementFailed): void {
    if (this.badLines.has(lineOf(this.source, failure.error.span.start))) return;
    this.errorCount++;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push(new EinError(failure.error));
  }

  private parseStatement(): Statement {
    const first = this.peek();
    const second = this.peek(1);
    if (first.kind === 'ident' && second.kind === 'ident') {
      if (first.text === 'input') return this.parseInput();
      if (first.text === 'param') return this.parseParam();
      if (first.text === 'const') return this.parseConst();
    }
    return this.parseAssignment();
  }

  private parseInput(): Statement {
    const start = this.next().span.start;
    const name = this.expectName('an input name');
    const open = this.expect('[', `'[' and the input's indices with extents, e.g. input ${clip(name.raw)}[b, x:28, y:28, i:1]`);
    const indices = this.parseNameList(open);
    return { kind: 'input', name: name.text, nameSpan: name.span, indices, span: { start, end: this.lastEnd() } };
  }

  private parseParam(): Statement {
    const start = this.next().span.start;
    const name = this.expectName('a parameter name');
    let indices: IndexName[] | undefined;
    const open = this.accept('[');
    if (open) indices = this.parseNameList(open);
    let init: InitializerSpec | undefined;
    if (this.accept('~')) {
      const fn = this.expectName('an initializer name (zeros, ones, glorot_uniform, he_normal, normal(m, s), ...)');
      const args: number[] = [];
      const paren = this.accept('(');
      if (paren) {
        if (!this.at(')')) {
          do args.push(this.parseSignedNumber('a number'));
          while (this.accept(','));
        }
        this.expect(')', "')' or ','", paren);
      }
      init = { name: fn.text, args, span: { start: fn.span.start, end: this.lastEnd() } };
    } else if (indices === undefined) {
      this.fail(`'param ${clip(name.raw)}' says nothing`, { start, end: this.lastEnd() }, `a shape '[i:3, ...]' or an initializer '~ he_normal'`);
    }
    return { kind: 'param', name: name.text, nameSpan: name.span, indices, init, span: { start, end: this.lastEnd() } };
  }

  private parseConst(): Statement {
    const start = this.next().span.start;
    const name = this.expectName('a constant name');
    if (!this.accept('=')) return { kind: 'const', name: name.text, nameSpan: name.span, span: { start, end: this.lastEnd() } };
    const numStart = this.peek().span.start;
    const value = this.parseSignedNumber('a number');
    const text = this.source.slice(numStart, this.lastEnd()).replace(/\s+/g, '');
    return { kind: 'const', name: name.text, nameSpan: name.span, value, text, span: { start, end: this.lastEnd() } };
  }

  private parseSignedNumber(expected: string): number {
    const neg = this.accept('-') !== undefined;
    const t = this.peek();
    if (t.kind !== 'number') this.fail(`unexpected ${this.describe(t)}`, t.span, expected);
    this.next();
    const v = Number(t.text);
    return neg ? -v : v;
  }

  private parseAssignment(): Statement {
    const name = this.peek();
    if (name.kind !== 'ident') {
      this.fail(`unexpected ${this.describe(name)} at the start of a statement`, name.span, 'a tensor name, or input / param / const');
    }
    this.expectName('a tensor name');
    let indices: IndexExpr[] = [];
    const open = this.accept('[');
    if (open) indices = this.parseIndexList(open);
    const eq = this.peek();
    if (!this.accept('=')) {
      this.fail(`unexpected ${this.describe(eq)}`, eq.span, open ? `'=' after ${clip(name.raw)}[...]` : `'[' or '=' after '${clip(name.raw)}'`);
    }
    this.skipNewlines();
    const parts = [this.parseExpr()];
    while (this.accept(';')) {
      this.skipNewlines();
      parts.push(this.parseExpr());
    }
    return { kind: 'assign', target: name.text, targetSpan: name.span, indices, parts, span: { start: name.span.start, end: this.lastEnd() } };
  }

  // -- index expressions ------------------------------------------------------------------------

  private parseIndexList(open: Token): IndexExpr[] {
    const list: IndexExpr[] = [];
    if (this.accept(']')) return list;
    do list.push(this.parseIndex());
    while (this.accept(','));
    this.expect(']', "',' or ']'", open);
    return list;
  }

  /** A list of index names with optional extents: aggregator heads and declarations. */
  private parseNameList(open: Token): IndexName[] {
    const list: IndexName[] = [];
    if (!this.at(']')) {
      do list.push(this.parseIndexName());
      while (this.accept(','));
    }
    this.expect(']', "',' or ']'", open);
    return list;
  }

  private parseIndexName(): IndexName {
    const t = this.expectName('an index name');
    const extent = this.parseExtent();
    return { kind: 'name', name: t.text, extent, span: { start: t.span.start, end: this.lastEnd() } };
  }

  private parseExtent(): Extent | undefined {
    if (!this.accept(':')) return undefined;
    const t = this.peek();
    if (t.kind === 'number') {
      this.next();
      const value = Number(t.text);
      if (!Number.isInteger(value) || value < 1) {
        this.fail(`extent '${clip(t.raw)}' is not a positive integer`, t.span, 'a positive integer extent, e.g. j:16', undefined, 'EIN1004');
      }
      return { kind: 'literal', value, span: t.span };
    }
    if (t.kind === 'ident') {
      this.expectName('an extent: a positive integer or a const name');
      return { kind: 'const', name: t.text, span: t.span };
    }
    this.fail(`unexpected ${this.describe(t)} after ':'`, t.span, 'an extent: a positive integer or a const name');
  }

  private parseIndex(): IndexExpr {
    return this.nested(() => this.parseIndexSum());
  }

  private parseIndexSum(): IndexExpr {
    let left = this.parseIndexTerm();
    for (let n = 0; ; n++) {
      this.limitChain(n);
      const op = this.accept('+') ?? this.accept('-');
      if (!op) return left;
      const right = this.parseIndexTerm();
      left = { kind: 'binary', op: op.text as '+' | '-', left, right, span: { start: left.span.start, end: right.span.end } };
    }
  }

  private parseIndexTerm(): IndexExpr {
    let left = this.parseIndexUnary();
    for (let n = 0; ; n++) {
      this.limitChain(n);
      const op = this.accept('*') ?? this.accept('/');
      if (!op) return left;
      const right = this.parseIndexUnary();
      left = { kind: 'binary', op: op.text as '*' | '/', left, right, span: { start: left.span.start, end: right.span.end } };
    }
  }

  private parseIndexUnary(): IndexExpr {
    return this.nested(() => this.parseIndexUnaryLevel());
  }

  private parseIndexUnaryLevel(): IndexExpr {
    const minus = this.accept('-');
    if (minus) {
      const arg = this.parseIndexUnary();
      return { kind: 'negate', arg, span: { start: minus.span.start, end: arg.span.end } };
    }
    return this.parseIndexAtom();
  }

  private parseIndexAtom(): IndexExpr {
    const t = this.peek();
    if (t.kind === 'number') {
      this.next();
      const value = Number(t.text);
      if (!Number.isInteger(value)) {
        this.fail(`index '${clip(t.raw)}' is not an integer`, t.span, 'integer coefficients and offsets in an index', undefined, 'EIN1004');
      }
      return { kind: 'number', value, span: t.span };
    }
    if (t.kind === 'ident' && (BOUNDARY_MODES as readonly string[]).includes(t.text) && this.peek(1).text === '(') {
      this.next();
      const open = this.next();
      const arg = this.parseIndex();
      this.expect(')', "')'", open);
      return { kind: 'boundary', mode: t.text as BoundaryMode, arg, span: { start: t.span.start, end: this.lastEnd() } };
    }
    if (t.kind === 'ident') return this.parseIndexName();
    const open = this.accept('(');
    if (open) {
      const first = this.parseIndex();
      if (this.accept(',')) {
        const parts = [first];
        do parts.push(this.parseIndex());
        while (this.accept(','));
        this.expect(')', "',' or ')'", open);
        return { kind: 'composite', parts, span: { start: open.span.start, end: this.lastEnd() } };
      }
      this.expect(')', "')'", open);
      return { kind: 'paren', arg: first, span: { start: open.span.start, end: this.lastEnd() } };
    }
    this.fail(`unexpected ${this.describe(t)} in an index`, t.span, 'an index: a name, a number, (g, i), or clamp/wrap/reflect(...)');
  }

  // -- value expressions ------------------------------------------------------------------------

  private parseExpr(): Expr {
    return this.nested(() => this.parseSum());
  }

  private parseSum(): Expr {
    let left = this.parseTerm();
    for (let n = 0; ; n++) {
      this.limitChain(n);
      const op = this.accept('+') ?? this.accept('-');
      if (!op) return left;
      this.skipNewlines();
      const right = this.parseTerm();
      left = { kind: 'binary', op: op.text as '+' | '-', left, right, span: { start: left.span.start, end: right.span.end } };
    }
  }

  /** Can `t` begin a factor multiplied by juxtaposition (`W[..] L[..]`)? */
  private startsFactor(t: Token): boolean {
    return t.kind === 'ident' || t.kind === 'number' || (t.kind === 'punct' && t.text === '(');
  }

  private parseTerm(): Expr {
    let left = this.parseUnary();
    for (let n = 0; ; n++) {
      this.limitChain(n);
      const t = this.peek();
      let op: '*' | '/';
      let spelling = '';
      if (t.kind === 'punct' && (t.text === '*' || t.text === '/')) {
        this.next();
        this.skipNewlines();
        op = t.text;
        spelling = t.raw;
      } else if (this.startsFactor(t)) {
        op = '*';
      } else return left;
      const right = this.parseUnary();
      left = { kind: 'binary', op, left, right, spelling: op === '*' ? spelling : undefined, span: { start: left.span.start, end: right.span.end } };
    }
  }

  private parseUnary(): Expr {
    return this.nested(() => this.parseUnaryLevel());
  }

  private parseUnaryLevel(): Expr {
    const minus = this.accept('-');
    if (minus) {
      const arg = this.parseUnary();
      return { kind: 'negate', arg, span: { start: minus.span.start, end: arg.span.end } };
    }
    const base = this.parseAtom();
    if (this.accept('^')) {
      this.skipNewlines();
      const exponent = this.parseUnary();
      return { kind: 'binary', op: '^', left: base, right: exponent, span: { start: base.span.start, end: exponent.span.end } };
    }
    return base;
  }

  private parseAtom(): Expr {
    const t = this.peek();
    if (t.kind === 'number') {
      this.next();
      return { kind: 'number', value: Number(t.text), text: t.text, span: t.span };
    }
    if (t.kind === 'ident') {
      const after = this.peek(1);
      if ((AGGREGATE_OPS as readonly string[]).includes(t.text)) {
        if (after.text === '[') return this.parseAggregate();
        if (after.text === '(' && (t.text === 'max' || t.text === 'min')) return this.parseCall();
        this.fail(
          `'${clip(t.raw)}' is an aggregator and needs its indices in brackets`,
          t.span,
          `${t.text}[i, ...] followed by the term it reduces`,
          t.text === 'max' || t.text === 'min' ? `for the elementwise ${t.text} of two values write ${t.text}(a, b)` : undefined,
          'EIN1005',
        );
      }
      if (after.text === '[') return this.parseAccess();
      if (after.text === '(' && !after.spaceBefore) return this.parseCall();
      this.next();
      return { kind: 'nameref', name: t.text, span: t.span };
    }
    const open = this.accept('(');
    if (open) {
      this.skipNewlines();
      const arg = this.parseExpr();
      this.skipNewlines();
      this.expect(')', "')'", open);
      return { kind: 'paren', arg, span: { start: open.span.start, end: this.lastEnd() } };
    }
    this.fail(`unexpected ${this.describe(t)}`, t.span, 'a value: a tensor access T[...], a number, a function call, sum[...] or (...)');
  }

  private parseAccess(): Expr {
    const name = this.next();
    const open = this.next();
    const indices = this.parseIndexList(open);
    return { kind: 'access', tensor: name.text, indices, nameSpan: name.span, span: { start: name.span.start, end: this.lastEnd() } };
  }

  private parseCall(): Expr {
    const name = this.next();
    const open = this.next();
    const args: Expr[] = [];
    this.skipNewlines();
    if (!this.at(')')) {
      do {
        this.skipNewlines();
        args.push(this.parseExpr());
        this.skipNewlines();
      } while (this.accept(','));
    }
    this.expect(')', "',' or ')'", open);
    return { kind: 'call', fn: name.text, args, nameSpan: name.span, span: { start: name.span.start, end: this.lastEnd() } };
  }

  private parseAggregate(): Expr {
    const word = this.next();
    const open = this.next();
    const indices = this.parseNameList(open);
    if (indices.length === 0) {
      this.fail(`${word.text}[] names no index to reduce`, { start: word.span.start, end: this.lastEnd() }, `${word.text}[i, ...]`);
    }
    const headSpan = { start: word.span.start, end: this.lastEnd() };
    const body = this.parseTerm();
    return { kind: 'aggregate', op: word.text as AggregateOp, indices, body, headSpan, span: { start: word.span.start, end: body.span.end } };
  }
}

/**
 * Parses a program. Throws one `EinError` for one syntax error, or `EinErrors` listing the
 * syntax errors of the program in source order when there are several.
 */
export function parse(source: string): Program {
  const lexed = tokenize(source);
  // A character the lexer dropped usually makes the parser stumble on the same line; the
  // lexer's message is the useful one, so parser errors on such lines are left out.
  const parser = new Parser(source, lexed.tokens, lexed.errorLines);
  const statements = parser.parseProgram();
  throwAll([...lexed.errors, ...parser.errors], lexed.errorCount + parser.errorCount);
  if (statements.length === 0) {
    throw new EinError({
      code: 'EIN1007',
      message: 'the program has no statements',
      source,
      span: { start: 0, end: 0 },
      expected: 'at least one assignment, e.g. Y[i] = X[i]',
    });
  }
  return { statements, source };
}
