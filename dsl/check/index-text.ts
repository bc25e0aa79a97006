/**
 * Checked index forms as program text (`2*x+Δx-1`, `(x+1)/2`, `(g,I)`, `clamp(x-1)`, `J1+J2`):
 * each form is turned back into a syntax tree and printed by the one index printer,
 * `printIndex` of dsl/parse/print.ts, so checked and parsed indices read the same.
 */
import type { IndexExpr } from '../parse/ast';
import { printIndex } from '../parse/print';
import type { AffineIndex, CheckedIndex, LhsIndex } from './checked';

const NOWHERE = { start: 0, end: 0 };

function name(index: string): IndexExpr {
  return { kind: 'name', name: index, span: NOWHERE };
}

function num(value: number): IndexExpr {
  return { kind: 'number', value, span: NOWHERE };
}

function binary(op: '+' | '-' | '*' | '/', left: IndexExpr, right: IndexExpr): IndexExpr {
  return { kind: 'binary', op, left, right, span: NOWHERE };
}

/** `c·i` with the sign taken out when `signed` is false. */
function term(coef: number, index: string, signed: boolean): IndexExpr {
  const c = signed ? coef : Math.abs(coef);
  if (c === 1) return name(index);
  if (c === -1) return { kind: 'negate', arg: name(index), span: NOWHERE };
  return binary('*', num(c), name(index));
}

function affineTree(a: AffineIndex): IndexExpr {
  let tree: IndexExpr | undefined;
  for (const t of a.terms) {
    tree = tree === undefined ? term(t.coef, t.index, true) : binary(t.coef < 0 ? '-' : '+', tree, term(t.coef, t.index, false));
  }
  if (tree === undefined) return num(a.offset);
  return a.offset === 0 ? tree : binary(a.offset < 0 ? '-' : '+', tree, num(Math.abs(a.offset)));
}

/** The syntax tree that reads back as this checked index. */
export function indexTree(ix: CheckedIndex | LhsIndex): IndexExpr {
  switch (ix.kind) {
    case 'affine':
      return affineTree(ix);
    case 'floordiv':
      return binary('/', { kind: 'paren', arg: affineTree(ix.arg), span: NOWHERE }, num(ix.divisor));
    case 'composite':
      return { kind: 'composite', parts: ix.parts.map(affineTree), span: NOWHERE };
    case 'boundary':
      return { kind: 'boundary', mode: ix.mode, arg: indexTree(ix.arg), span: NOWHERE };
    case 'concat':
      return ix.parts.map(name).reduce((left, right) => binary('+', left, right));
  }
}

/**
 * A checked index as program text.
 *
 * @example indexText({ kind: 'affine', terms: [{ index: 'x', coef: 2 }, { index: 'Δx', coef: 1 }], offset: -1 })  // '2*x+Δx-1'
 */
export function indexText(ix: CheckedIndex | LhsIndex): string {
  return printIndex(indexTree(ix));
}
