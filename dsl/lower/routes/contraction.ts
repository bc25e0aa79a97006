/**
 * The contraction route: `sum` and `mean` of a body. A product of zero-padded reads drops its
 * out-of-range terms by itself (LANGUAGE.md §6) and becomes transpose + reshape + matMul
 * (contract.ts); any other body gets safe padding and an explicit mask (`where`) before the sum.
 */
import type { CheckedExpr } from '../../check/checked';
import { UNARY_MEANING } from '../../check/functions';
import { andMasks, type NamedValue } from '../builder';
import { productFactors, type ExprContext, type ExprRoute } from '../context';
import { contract } from '../contract';

type Reduce = CheckedExpr & { kind: 'reduce' };

/**
 * True when the expression is 0 wherever one of its reads falls outside (so a sum may ignore the
 * mask): reads, products of such, and functions with f(0) = 0 of such.
 */
function zeroWhereOutside(e: CheckedExpr): boolean {
  switch (e.kind) {
    case 'const':
    case 'access':
      return true;
    case 'unary':
      return UNARY_MEANING[e.fn](0) === 0 && zeroWhereOutside(e.arg);
    case 'binary':
      if (e.fn === 'mul') return zeroWhereOutside(e.left) && zeroWhereOutside(e.right);
      if (e.fn === 'div') return zeroWhereOutside(e.left) && e.right.kind === 'const';
      return false;
    case 'reduce':
      return e.op === 'sum' || e.op === 'mean';
  }
}

/** Σ over `e.indices` of the body: a contraction, or a masked sum where padding is not zero. */
function lowerSum(ctx: ExprContext, e: Reduce): NamedValue {
  const b = ctx.builder;
  const parts = productFactors(e.body);
  // A product of zero-padded reads drops out-of-range terms by itself; anything else gets
  // safe padding and an explicit mask.
  const safe = !parts.every(zeroWhereOutside);
  const factors = parts.map((f) => ctx.lower(f, { inReduction: true, safe }));
  const mask = factors.reduce((m, f) => andMasks(m, f.mask), factors[0].mask);
  const present = new Set(factors.flatMap((f) => [...f.axes, ...(f.mask?.axes ?? [])]));
  let result: NamedValue;
  if (mask !== undefined && factors.some((f) => f.mask !== undefined && !f.zeroWhereMasked)) {
    // Some factor is not zero where its read fell outside: drop those terms explicitly.
    let product = factors[0];
    for (const f of factors.slice(1)) {
      const axes = [...product.axes, ...f.axes.filter((a) => !product.axes.includes(a))];
      const step = b.binary('mul', b.broadcastable(product, axes), b.broadcastable(f, axes));
      product = { step, axes, shape: b.shapeOf(step), zeroWhereMasked: false };
    }
    result = b.reduceNamed('sum', b.applyMask({ ...product, mask }, 0), e.indices);
    ctx.routes.push(`masked sum over [${e.indices.join(',')}] (a term is not zero where its read falls outside)`);
  } else {
    result = contract(
      b,
      factors.map((f) => ({ ...f, mask: undefined })),
      e.indices,
      ctx.order,
    );
    ctx.routes.push(`contraction over [${e.indices.join(',')}] of ${factors.length} factor${factors.length === 1 ? '' : 's'} (transpose + reshape + matMul)`);
  }
  // An index reduced but absent from the body: each of its values adds the same term.
  const repeat = e.indices.filter((n) => !present.has(n)).reduce((acc, n) => acc * ctx.ranges.get(n)!.extent, 1);
  return repeat === 1 ? result : { ...result, step: b.binary('mul', result.step, b.scalar(repeat)) };
}

function lowerSumOrMean(ctx: ExprContext, e: Reduce): NamedValue {
  let result = lowerSum(ctx, e);
  if (e.op === 'mean') {
    const count = e.indices.reduce((acc, n) => acc * ctx.ranges.get(n)!.extent, 1);
    result = { ...result, step: ctx.builder.binary('div', result.step, ctx.builder.scalar(count)) };
  }
  return { ...result, mask: undefined, zeroWhereMasked: true };
}

export const contractionRoute: ExprRoute = {
  name: 'contraction',
  matches: (e) => e.kind === 'reduce' && (e.op === 'sum' || e.op === 'mean'),
  lower: (ctx, e) => lowerSumOrMean(ctx, e as Reduce),
};
