/**
 * The parser's view of the token list: a cursor with one token of lookahead, the checks that
 * turn a wrong token into a located syntax error, and the limits on nesting and chaining. A
 * syntax error abandons its statement by throwing `StatementFailed`, which the parser catches.
 */
import type { DiagnosticCode, EinErrorInit, Span } from '../../core/diagnostics';
import { AGGREGATE_OPS } from './ast';
import { clip, type Token } from './lexer';

/** Words that are never tensor or index names. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([...AGGREGATE_OPS]);

/** Thrown inside the parser to abandon one statement; never escapes `parse`. */
export class StatementFailed {
  constructor(readonly error: EinErrorInit & { readonly span: Span }) {}
}

/** Deeper nesting than this is surely a mistake, and would overflow the stack of later stages. */
const MAX_NESTING = 200;
/** Likewise for the number of operands chained by operators in one expression. */
const MAX_CHAIN = 1000;

export class TokenCursor {
  private pos = 0;
  private depth = 0;

  constructor(
    protected readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  protected peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }

  protected next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  protected lastEnd(): number {
    return this.pos === 0 ? 0 : this.tokens[this.pos - 1].span.end;
  }

  protected at(text: string): boolean {
    const t = this.peek();
    return (t.kind === 'punct' || t.kind === 'ident') && t.text === text;
  }

  protected accept(text: string): Token | undefined {
    return this.at(text) ? this.next() : undefined;
  }

  protected skipNewlines(): void {
    while (this.peek().kind === 'newline') this.next();
  }

  protected fail(message: string, span: Span, expected?: string, hint?: string, code: DiagnosticCode = 'EIN1002'): never {
    throw new StatementFailed({ code, message, source: this.source, span, expected, hint });
  }

  protected describe(t: Token): string {
    if (t.kind === 'eof') return 'end of program';
    if (t.kind === 'newline') return 'end of line';
    return `'${clip(t.raw)}'`;
  }

  protected expect(text: string, expected: string, opener?: Token): Token {
    const t = this.peek();
    if ((t.kind === 'punct' || t.kind === 'ident') && t.text === text) return this.next();
    const onLaterLine = opener !== undefined && this.source.slice(opener.span.end, t.span.start).includes('\n');
    if (opener !== undefined && (t.kind === 'eof' || t.kind === 'newline' || onLaterLine)) {
      this.fail(`'${opener.raw}' is never closed`, opener.span, `'${text}' to close it`, undefined, 'EIN1003');
    }
    this.fail(`unexpected ${this.describe(t)}`, t.span, expected);
  }

  protected expectName(what: string): Token {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(`unexpected ${this.describe(t)}`, t.span, what);
    if (RESERVED_WORDS.has(t.text)) {
      this.fail(`'${clip(t.raw)}' is a reserved word (an aggregator) and cannot be ${what}`, t.span, what, 'choose another name', 'EIN1005');
    }
    return this.next();
  }

  protected limitChain(n: number): void {
    if (n > MAX_CHAIN) this.fail(`the expression chains more than ${MAX_CHAIN} operands`, this.peek().span, undefined, 'split it into several statements');
  }

  /** Runs `parse` one nesting level deeper, refusing absurd depths with a located error. */
  protected nested<T>(parse: () => T): T {
    if (++this.depth > MAX_NESTING) {
      const t = this.peek();
      this.depth = 0;
      this.fail(`the expression nests more than ${MAX_NESTING} levels deep`, t.span, undefined, 'split it into several statements');
    }
    try {
      return parse();
    } finally {
      this.depth = Math.max(0, this.depth - 1);
    }
  }
}
