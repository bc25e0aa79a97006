/**
 * The extremum route: `max`/`min` over indices. Out-of-range terms are ignored (filled with
 * ∓∞ through `where`); an empty max is dropped by the enclosing reduction (its mask), or reads 0
 * outside any reduction. The step's gradient goes to one winner (dsl/run/execute.ts).
 */
import type { CheckedExpr } from '../../check/checked';
import { anyMask, type NamedValue } from '../builder';
import type { ExprContext, ExprRoute, Where } from '../context';

type Reduce = CheckedExpr & { kind: 'reduce' };

function lowerExtremum(ctx: ExprContext, e: Reduce, inReduction: boolean): NamedValue {
  const b = ctx.builder;
  const op = e.op as 'max' | 'min';
  const body = ctx.lower(e.body, { inReduction: true, safe: true });
  const fill = op === 'max' ? -Infinity : Infinity;
  const left = body.mask ? anyMask(body.mask, e.indices) : undefined;
  const dropped = body.mask ? b.applyMask(body, fill) : body;
  let result: NamedValue = { ...b.reduceNamed(op, dropped, e.indices), mask: left, zeroWhereMasked: false };
  // An empty max is ∓∞; make it finite (it stays masked) so that gradients through it are not NaN.
  if (left !== undefined) result = { ...b.applyMask(result, 1), mask: left, zeroWhereMasked: false };
  ctx.routes.push(`${op} over [${e.indices.join(',')}]${body.mask ? ' (out-of-range terms ignored via where)' : ''}`);
  if (!inReduction && result.mask !== undefined) result = b.applyMask(result, 0);
  return result;
}

export const extremumRoute: ExprRoute = {
  name: 'extremum',
  matches: (e) => e.kind === 'reduce' && (e.op === 'max' || e.op === 'min'),
  lower: (ctx, e, where: Where) => lowerExtremum(ctx, e as Reduce, where.inReduction),
};
