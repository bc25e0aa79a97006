/**
 * Lowering of right-hand expressions to named values, through the route registry
 * (routes/index.ts). Elementwise operations broadcast by index name; reductions follow
 * docs/language.md §8: a sum of a product of zero-padded reads needs no mask (the padded zeros drop
 * the term), anything else drops masked terms with `where` — 0 for sums, ∓∞ for max/min — and an
 * empty max/min is itself dropped by the enclosing reduction, or reads 0 outside any reduction.
 */
import type { CheckedExpr } from '../check/checked';
import type { NamedValue } from './builder';
import type { ExprContext, Where } from './context';
import { EXPRESSION_ROUTES } from './routes';

/** `e` lowered by the first route of the registry that takes it. */
export function lowerExpr(ctx: ExprContext, e: CheckedExpr, where: Where): NamedValue {
  for (const route of EXPRESSION_ROUTES) {
    if (!route.matches(e, where)) continue;
    const value = route.lower(ctx, e, where);
    if (value !== undefined) return value;
  }
  // The registry's last routes take every kind of expression.
  throw new Error(`internal: no lowering route took a ${e.kind} expression`);
}
