/**
 * Properties of parser and printer on generated programs. The generator's tree is the
 * independent truth for the parser; the parser's tree is the truth for the printer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Expr, IndexExpr, Program, Statement } from '../../../dsl/parse/ast';
import { astDifference, astEqual, stripSpans } from '../../../dsl/parse/equal';
import { parse } from '../../../dsl/parse/parser';
import { printProgram } from '../../../dsl/parse/print';
import { convPoolProgramArb, programArb } from './generators';

const RUNS = 400;

/** The tree with every `paren` node replaced by its content: what the program means. */
function withoutParens(p: Program): Program {
  const ix = (e: IndexExpr): IndexExpr => {
    switch (e.kind) {
      case 'paren':
        return ix(e.arg);
      case 'binary':
        return { ...e, left: ix(e.left), right: ix(e.right) };
      case 'negate':
      case 'boundary':
        return { ...e, arg: ix(e.arg) };
      case 'composite':
        return { ...e, parts: e.parts.map(ix) };
      default:
        return e;
    }
  };
  const ex = (e: Expr): Expr => {
    switch (e.kind) {
      case 'paren':
        return ex(e.arg);
      case 'binary':
        return { ...e, left: ex(e.left), right: ex(e.right) };
      case 'negate':
        return { ...e, arg: ex(e.arg) };
      case 'call':
        return { ...e, args: e.args.map(ex) };
      case 'aggregate':
        return { ...e, body: ex(e.body) };
      case 'access':
        return { ...e, indices: e.indices.map(ix) };
      default:
        return e;
    }
  };
  const st = (s: Statement): Statement => (s.kind === 'assign' ? { ...s, indices: s.indices.map(ix), parts: s.parts.map(ex) } : s);
  return { ...p, statements: p.statements.map(st) };
}

describe('generated programs', () => {
  it('parse to the tree they were generated from, whatever the spelling', () => {
    fc.assert(
      fc.property(programArb, (g) => {
        expect(astDifference(parse(g.text), g.ast)).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });

  it('print to text that parses back to the same tree: parse(print(p)) = p', () => {
    fc.assert(
      fc.property(programArb, (g) => {
        const p = parse(g.text);
        const printed = printProgram(p);
        expect(astDifference(parse(printed), p), printed).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });

  it('print canonically: printing is idempotent and spelling-independent', () => {
    fc.assert(
      fc.property(programArb, (g) => {
        const once = printProgram(parse(g.text));
        expect(printProgram(parse(once))).toBe(once);
        // The generator's own tree (no spans, no spellings) prints the same text.
        expect(printProgram(g.ast)).toBe(once);
        // Canonical text is ASCII apart from names and `·`: no Σ, ∑, ⋅, ×, ∗, −, –.
        expect(once).not.toMatch(/[Σ∑⋅×∗−–]/);
      }),
      { numRuns: RUNS },
    );
  });

  it('add the parentheses a paren-free tree needs to be read back, and no more', () => {
    const parenCount = (p: Program) => JSON.stringify(p).split('"kind":"paren"').length - 1;
    fc.assert(
      fc.property(programArb, (g) => {
        const bare = withoutParens(g.ast);
        const printed = printProgram(bare);
        const reread = parse(printed);
        expect(astDifference(withoutParens(reread), bare), printed).toBeUndefined();
        // The generator parenthesises only where the grammar needs it (plus redundant pairs at
        // random), so the printer may not add more than the generated tree has.
        expect(parenCount(reread)).toBeLessThanOrEqual(parenCount(g.ast));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('structural equality', () => {
  it('ignores spans, spellings and number text but not meaning', () => {
    const a = parse('Y[i] = 2.50 * X[i]  # c');
    const b = parse('Y [ i ]=2.5·X[i]');
    expect(astEqual(a, b)).toBe(true);
    expect(stripSpans(a)).toEqual(stripSpans(b));
    expect(astEqual(a, parse('Y[i] = 2.5 / X[i]'))).toBe(false);
    expect(astDifference(a, parse('Y[i] = 2.5 / X[i]'))).toBe('statements[0].parts[0].op: "*" vs "/"');
    expect(astEqual(parse('Y = (a)'), parse('Y = a'))).toBe(false);
    expect(astEqual(parse('param W ~ zeros'), parse('param W[] ~ zeros'))).toBe(false);
    expect(astEqual(parse('Y = X[i:3]'), parse('Y = X[i:4]'))).toBe(false);
  });

  it('strips every span and spelling field', () => {
    const s = JSON.stringify(stripSpans(parse('L1[b,j:6] = relu(W1[Δx:5,j] L0[b,Δx] + B1[j]) ; Σ[i] A[i]\nconst s = 2')));
    expect(s).not.toMatch(/"(span|nameSpan|headSpan|targetSpan|spelling|text|source)"/);
  });
});

describe('shape-correct example generator', () => {
  it('produces §1-style programs that parse to their trees', () => {
    fc.assert(
      fc.property(convPoolProgramArb, ({ program, inputs }) => {
        expect(astDifference(parse(program.text), program.ast)).toBeUndefined();
        expect(inputs.L0).toHaveLength(4);
      }),
      { numRuns: 100 },
    );
  });
});
