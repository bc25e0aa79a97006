/**
 * Fuzz: whatever text reaches `parse`, the only thing it may throw is an `EinError` (a place and
 * a fix for the user, never a TypeError from inside the compiler). Inputs are random text and
 * random character- and token-level mutations of valid programs. Whatever still parses must
 * also print and read back to the same tree, and typeset without throwing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EinError } from '../../../core/diagnostics';
import { astDifference } from '../../../dsl/parse/equal';
import { programToLatex } from '../../../dsl/parse/latex';
import { tokenize } from '../../../dsl/parse/lexer';
import { parse } from '../../../dsl/parse/parser';
import { printProgram } from '../../../dsl/parse/print';
import { programArb } from './generators';

/** Characters that matter to the lexer, and some that should not appear at all. */
const NASTY = [...'[](),:=~;+-/^*·⋅×∗−–Σ∑σΔ#/\'"._0123456789eExyzLW \t\n\r{}!@$%&|<>?`\\\u00a0\u2028', '\ud800', '\udc00', '😀', 'é'];

const nastyChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

/** `parse` either returns a tree or throws an EinError; a returned tree round-trips through the printer. */
function parsesOrExplains(text: string): void {
  let program;
  try {
    program = parse(text);
  } catch (e) {
    if (!(e instanceof EinError)) throw new Error(`parse threw ${String(e)} for ${JSON.stringify(text)}`);
    expect(e.code).toMatch(/^EIN1\d{3}$/);
    return;
  }
  const printed = printProgram(program);
  const again = parse(printed);
  const diff = astDifference(again, program);
  if (diff !== undefined) throw new Error(`round trip differs at ${diff}\ninput: ${JSON.stringify(text)}\nprinted: ${JSON.stringify(printed)}`);
  programToLatex(program);
}

type Mutation =
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'replace'; at: number; text: string }
  | { kind: 'dropToken' | 'doubleToken' | 'swapTokens'; at: number }
  | { kind: 'moveToken'; at: number; to: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: nastyChar, minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: nastyChar }),
  fc.record({ kind: fc.constantFrom('dropToken' as const, 'doubleToken' as const, 'swapTokens' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('moveToken' as const), at: fc.nat(), to: fc.nat() }),
);

function mutate(text: string, m: Mutation): string {
  if (m.kind === 'delete' || m.kind === 'insert' || m.kind === 'replace') {
    const at = text.length === 0 ? 0 : m.at % (text.length + 1);
    if (m.kind === 'delete') return text.slice(0, at) + text.slice(at + m.length);
    if (m.kind === 'insert') return text.slice(0, at) + m.text + text.slice(at);
    return text.slice(0, at) + m.text + text.slice(at + 1);
  }
  const tokens = tokenize(text).tokens.filter((t) => t.kind !== 'eof');
  if (tokens.length === 0) return text;
  const t = tokens[m.at % tokens.length];
  const { start, end } = t.span;
  switch (m.kind) {
    case 'dropToken':
      return text.slice(0, start) + text.slice(end);
    case 'doubleToken':
      return text.slice(0, end) + ' ' + t.raw + text.slice(end);
    case 'swapTokens': {
      const u = tokens[(m.at + 1) % tokens.length];
      if (u.span.start <= end) return text;
      return text.slice(0, start) + u.raw + text.slice(end, u.span.start) + t.raw + text.slice(u.span.end);
    }
    case 'moveToken': {
      const without = text.slice(0, start) + text.slice(end);
      const to = m.to % (without.length + 1);
      return without.slice(0, to) + t.raw + without.slice(to);
    }
  }
}

describe('parse never throws anything but EinError', () => {
  it('on random text', () => {
    fc.assert(
      fc.property(fc.string({ unit: nastyChar, maxLength: 60 }), (text) => parsesOrExplains(text)),
      { numRuns: 1500 },
    );
  });

  it('on random text made of program tokens', () => {
    const token = fc.constantFrom(
      'L1',
      'W',
      'x',
      'Δx',
      'sum',
      'Σ',
      'max',
      'min',
      'mean',
      'relu',
      'σ',
      'clamp',
      'wrap',
      'input',
      'param',
      'const',
      '~',
      '[',
      ']',
      '(',
      ')',
      ',',
      ':',
      '=',
      ';',
      '+',
      '-',
      '·',
      '/',
      '^',
      '2',
      '.5',
      '1e3',
      '\n',
      ' ',
      '#c\n',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (tokens) => parsesOrExplains(tokens.join(''))),
      { numRuns: 1500 },
    );
  });

  it('on valid programs after random mutations', () => {
    fc.assert(
      fc.property(programArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (program, mutations) => {
        parsesOrExplains(mutations.reduce(mutate, program.text));
      }),
      { numRuns: 1500 },
    );
  });
});
