/**
 * Lexer: source text → tokens. Unicode and ASCII spellings meet here, so the parser sees one
 * spelling: `·` `⋅` `×` `*` are all `*`; `−` is `-`; `Σ` `∑` are the word `sum`.
 * Newlines end statements, except inside brackets (the lexer drops them there) and after a
 * binary operator (the parser skips them there).
 */
import { EinError, MAX_REPORTED_ERRORS, lineOf, type EinErrorInit, type Span } from '../../core/diagnostics';

export type TokenKind = 'ident' | 'number' | 'punct' | 'newline' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Normalised text: `*` for every multiplication sign, `sum` for Σ. */
  readonly text: string;
  /** The text as written. */
  readonly raw: string;
  readonly span: Span;
  /** True when white space (not a newline) separates this token from the previous one. */
  readonly spaceBefore: boolean;
}

const MULTIPLY_SIGNS = new Set(['·', '⋅', '×', '*', '∗']);
const SUM_SIGNS = new Set(['Σ', '∑']);
const SINGLE_PUNCT = new Set(['[', ']', '(', ')', ',', ':', '=', '~', ';', '+', '-', '/', '^']);

// ASCII is decided by char code; the Unicode classes only for the rest (Δ, μ, subscripts …).
function isAsciiLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

function isIdentStart(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 128) return isAsciiLetter(c) || c === 95;
  return /\p{L}/u.test(ch) && !SUM_SIGNS.has(ch);
}

function isIdentPart(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 128) return isAsciiLetter(c) || (c >= 48 && c <= 57) || c === 95 || c === 39;
  return /[\p{L}\p{N}]/u.test(ch) && !SUM_SIGNS.has(ch);
}

const NUMBER = /(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;

export interface Tokens {
  readonly tokens: Token[];
  /** The first `MAX_REPORTED_ERRORS` lexical errors, in source order. */
  readonly errors: EinError[];
  /** How many lexical errors there are in all. */
  readonly errorCount: number;
  /** Lines (1-based) holding a lexical error. */
  readonly errorLines: ReadonlySet<number>;
}

/**
 * Splits `source` into tokens. Unknown characters are collected as errors (EIN1001) and skipped,
 * so that the parser can still report its own errors for the rest of the text. Only the first
 * `MAX_REPORTED_ERRORS` errors are built; the rest are counted, so a line of junk costs linear time.
 */
export function tokenize(source: string): Tokens {
  const tokens: Token[] = [];
  const errors: EinError[] = [];
  const errorLines = new Set<number>();
  let errorCount = 0;
  const error = (init: EinErrorInit & { span: Span }) => {
    errorCount++;
    errorLines.add(lineOf(source, init.span.start));
    if (errors.length < MAX_REPORTED_ERRORS) errors.push(new EinError(init));
  };
  let depth = 0;
  let i = 0;
  let spaceBefore = false;
  const push = (kind: TokenKind, text: string, start: number, end: number) => {
    tokens.push({ kind, text, raw: source.slice(start, end), span: { start, end }, spaceBefore });
    spaceBefore = false;
  };
  while (i < source.length) {
    const cp = source.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const start = i;
    if (ch === '\n') {
      if (depth === 0) push('newline', '\n', i, i + 1);
      i++;
      continue;
    }
    if (/\s/u.test(ch)) {
      spaceBefore = true;
      i += ch.length;
      continue;
    }
    if (ch === '#' || (ch === '/' && source[i + 1] === '/')) {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(source)!;
      i += m[0].length;
      const prev = tokens[tokens.length - 1];
      const glued = ch === '.' && prev !== undefined && prev.span.end === start && (prev.kind === 'ident' || prev.kind === 'number');
      if (glued || source[i] === '.' || !Number.isFinite(Number(m[0]))) {
        // `1.2.3`, `x.5`, `1e400`: no reading of these is what was meant.
        let j = i;
        while (j < source.length && /[0-9.eE]/.test(source[j])) j++;
        const from = glued ? prev.span.start : start;
        if (glued) tokens.pop();
        error({
          code: 'EIN1004',
          message: Number.isFinite(Number(m[0])) ? `'${clip(source.slice(from, j))}' is not a number` : `'${clip(m[0])}' is too large for a number`,
          source,
          span: { start: from, end: j },
          expected: 'a number like 2, 0.5 or 1e-5',
        });
        i = j;
        continue;
      }
      if (i < source.length && isIdentStart(String.fromCodePoint(source.codePointAt(i)!))) {
        // `2x` is almost always a missing `*`; say so rather than lexing two tokens.
        let j = i;
        while (j < source.length && isIdentPart(String.fromCodePoint(source.codePointAt(j)!))) j += String.fromCodePoint(source.codePointAt(j)!).length;
        error({
          code: 'EIN1004',
          message: `'${clip(source.slice(start, j))}' is not a number`,
          source,
          span: { start, end: j },
          expected: 'a number, or a multiplication written out',
          hint: `write '${clip(m[0])}*${clip(source.slice(i, j))}'`,
        });
        i = j;
        continue;
      }
      push('number', m[0], start, i);
      continue;
    }
    if (isIdentStart(ch)) {
      i += ch.length;
      for (;;) {
        if (i >= source.length) break;
        const next = String.fromCodePoint(source.codePointAt(i)!);
        if (isIdentPart(next)) {
          i += next.length;
        } else if (next === '.' && i + 1 < source.length && isIdentStart(String.fromCodePoint(source.codePointAt(i + 1)!))) {
          i += 1; // namespacing: `blk1.W`
        } else break;
      }
      push('ident', source.slice(start, i), start, i);
      continue;
    }
    if (SUM_SIGNS.has(ch)) {
      i += ch.length;
      push('ident', 'sum', start, i);
      continue;
    }
    if (MULTIPLY_SIGNS.has(ch)) {
      i += ch.length;
      push('punct', '*', start, i);
      continue;
    }
    if (ch === '−' || ch === '–') {
      i += ch.length;
      push('punct', '-', start, i);
      continue;
    }
    if (SINGLE_PUNCT.has(ch)) {
      if (ch === '[' || ch === '(') depth++;
      if ((ch === ']' || ch === ')') && depth > 0) depth--;
      i++;
      push('punct', ch, start, i);
      continue;
    }
    i += ch.length;
    error({
      code: 'EIN1001',
      message: `unexpected character '${ch}'`,
      source,
      span: { start, end: i },
      expected: 'a name, a number, an operator (+ - · * / ^), brackets, or a comment (# or //)',
    });
  }
  push('eof', '', source.length, source.length);
  return { tokens, errors, errorCount, errorLines };
}

/** Quoted source text in a message: at most 40 characters, so a message stays short. */
export function clip(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 37)}…`;
}
