/**
 * Walks over syntax trees, so that each later stage says only what it looks for.
 */
import type { Expr, IndexExpr, IndexName } from './ast';

/** Calls `f` on every node of a value expression, parents first. */
export function forEachExpr(e: Expr, f: (node: Expr) => void): void {
  f(e);
  switch (e.kind) {
    case 'binary':
      forEachExpr(e.left, f);
      forEachExpr(e.right, f);
      return;
    case 'negate':
    case 'paren':
      forEachExpr(e.arg, f);
      return;
    case 'call':
      for (const a of e.args) forEachExpr(a, f);
      return;
    case 'aggregate':
      forEachExpr(e.body, f);
      return;
    default:
      return;
  }
}

/** Calls `f` on every index name of an index expression, left to right. */
export function forEachIndexName(e: IndexExpr, f: (name: IndexName) => void): void {
  switch (e.kind) {
    case 'name':
      f(e);
      return;
    case 'binary':
      forEachIndexName(e.left, f);
      forEachIndexName(e.right, f);
      return;
    case 'negate':
    case 'paren':
    case 'boundary':
      forEachIndexName(e.arg, f);
      return;
    case 'composite':
      for (const p of e.parts) forEachIndexName(p, f);
      return;
    case 'number':
      return;
  }
}
