/**
 * Lowering of right-hand expressions to named values. Elementwise operations broadcast by index
 * name; reductions follow LANGUAGE.md §6: a sum of a product of zero-padded reads needs no mask
 * (the padded zeros drop the term), anything else drops masked terms with `where` — 0 for sums,
 * ∓∞ for max/min — and an empty max/min is itself dropped by the enclosing reduction, or reads 0
 * outside any reduction.
 */
import type { CheckedExpr, IndexRange } from '../check/checked';
import { UNARY_MEANING } from '../check/functions';
import { sizeOf } from '../../core/layout';
import { andMasks, anyMask, type NamedValue, type PlanBuilder } from './builder';
import { contract } from './contract';
import { lowerRead } from './read';
import { tryConvRoute, tryFusedConv } from './routes/conv';
import { tryPoolRoute } from './routes/pool';

export interface ExprContext {
  readonly builder: PlanBuilder;
  readonly ranges: ReadonlyMap<string, IndexRange>;
  /** Step and shape of a tensor readable here (input, parameter or earlier output). */
  readonly tensor: (name: string) => { step: number; shape: readonly number[] };
  /** The statement's left-hand index order: results laid out so are not transposed again. */
  readonly order: readonly string[];
  /** Steps that hold a whole tensor (inputs, parameters, earlier outputs). */
  readonly tensorSteps: ReadonlySet<number>;
  /** Routes taken, for explain(). */
  readonly routes: string[];
}

/**
 * `safe`: reads that fall outside give 1 instead of 0 (their terms are dropped by a mask later
 * anyway). Used where a dropped term is not simply a zero factor — under log, a division, inside
 * a max — so that the dropped term is finite and its gradient (0 × f'(pad)) is 0, not NaN.
 */
export function lowerExpr(ctx: ExprContext, e: CheckedExpr, inReduction: boolean, safe = false): NamedValue {
  const b = ctx.builder;
  switch (e.kind) {
    case 'const':
      return b.named(b.scalar(e.value), []);
    case 'access': {
      const t = ctx.tensor(e.tensor);
      return lowerRead({ builder: b, ranges: ctx.ranges }, t.step, t.shape, e.indices, inReduction, safe);
    }
    case 'unary': {
      const fused = inReduction ? undefined : tryFusedConv(ctx, e);
      if (fused !== undefined) return fused;
      const v = lowerExpr(ctx, e.arg, inReduction, safe);
      const step = e.fn === 'relu' ? b.relu(v.step, !ctx.tensorSteps.has(v.step)) : b.unary(e.fn, v.step);
      if (b.steps[step].op === 'addRelu') ctx.routes.push('residual output: relu(a + b) of same-shape operands as one addRelu step (one pass forward, one backward)');
      return { ...v, step, zeroWhereMasked: v.zeroWhereMasked && UNARY_MEANING[e.fn](0) === 0 };
    }
    case 'binary': {
      const fused = inReduction ? undefined : tryFusedConv(ctx, e);
      if (fused !== undefined) return fused;
      const l = lowerExpr(ctx, e.left, inReduction, safe);
      const r = lowerExpr(ctx, e.right, inReduction, safe);
      // The larger operand keeps its layout; the smaller one is broadcast against it.
      const [big, small] = sizeOf(l.shape) >= sizeOf(r.shape) ? [l, r] : [r, l];
      const axes = [...big.axes, ...small.axes.filter((a) => !big.axes.includes(a))];
      // tfjs' gradients of maximum/minimum do not undo broadcasting: give both operands the full shape.
      const full = e.fn === 'max' || e.fn === 'min';
      const shape = axes.map((a) => (l.axes.includes(a) ? l.shape[l.axes.indexOf(a)] : r.shape[r.axes.indexOf(a)]));
      const operand = (v: NamedValue) => (full ? b.expandTo(v, axes, shape).step : b.broadcastable(v, axes));
      const step = b.binary(e.fn, operand(l), operand(r));
      const mask = andMasks(l.mask, r.mask);
      const zero =
        e.fn === 'mul'
          ? (l.mask === undefined || l.zeroWhereMasked) && (r.mask === undefined || r.zeroWhereMasked)
          : e.fn === 'div'
            ? l.zeroWhereMasked && r.mask === undefined
            : mask === undefined;
      return { step, axes, shape: b.shapeOf(step), mask, zeroWhereMasked: zero };
    }
    case 'reduce':
      return lowerReduce(ctx, e, inReduction);
  }
}

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

/** The factors of a product chain `a·b·c` (division and everything else is one factor). */
export function productFactors(e: CheckedExpr): CheckedExpr[] {
  if (e.kind === 'binary' && e.fn === 'mul') return [...productFactors(e.left), ...productFactors(e.right)];
  return [e];
}

function lowerReduce(ctx: ExprContext, e: CheckedExpr & { kind: 'reduce' }, inReduction: boolean): NamedValue {
  const pooled = tryPoolRoute(ctx, e);
  if (pooled !== undefined) return pooled;
  if (e.op === 'max' || e.op === 'min') return lowerExtremum(ctx, e, inReduction);
  const b = ctx.builder;
  let result = (e.op === 'sum' ? tryConvRoute(ctx, e) : undefined) ?? lowerSum(ctx, e);
  if (e.op === 'mean') {
    const count = e.indices.reduce((acc, n) => acc * ctx.ranges.get(n)!.extent, 1);
    result = { ...result, step: b.binary('div', result.step, b.scalar(count)) };
  }
  return { ...result, mask: undefined, zeroWhereMasked: true };
}

/** Σ over `e.indices` of the body: a contraction, or a masked sum where padding is not zero. */
function lowerSum(ctx: ExprContext, e: CheckedExpr & { kind: 'reduce' }): NamedValue {
  const b = ctx.builder;
  const parts = productFactors(e.body);
  // A product of zero-padded reads drops out-of-range terms by itself; anything else gets
  // safe padding and an explicit mask.
  const safeBody = !parts.every(zeroWhereOutside);
  const factors = parts.map((f) => lowerExpr(ctx, f, true, safeBody));
  // The terms' mask is needed (and computed on the host) only where padding is not zero.
  const masked = factors.some((f) => f.mask !== undefined && !f.zeroWhereMasked);
  const mask = masked ? factors.reduce((m, f) => andMasks(m, f.mask), factors[0].mask) : undefined;
  const present = new Set(factors.flatMap((f) => [...f.axes, ...(f.mask?.axes ?? [])]));
  let result: NamedValue;
  if (mask !== undefined) {
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
    result = contract(b, factors.map((f) => ({ ...f, mask: undefined })), e.indices, ctx.order);
    ctx.routes.push(`contraction over [${e.indices.join(',')}] of ${factors.length} factor${factors.length === 1 ? '' : 's'} (transpose + reshape + matMul)`);
  }
  // An index reduced but absent from the body: each of its values adds the same term.
  const repeat = e.indices.filter((n) => !present.has(n)).reduce((acc, n) => acc * ctx.ranges.get(n)!.extent, 1);
  return repeat === 1 ? result : { ...result, step: b.binary('mul', result.step, b.scalar(repeat)) };
}

/**
 * max/min over `e.indices`: out-of-range terms are ignored (∓∞); an empty max is dropped by the
 * enclosing reduction (its mask), or reads 0 outside any reduction.
 */
function lowerExtremum(ctx: ExprContext, e: CheckedExpr & { kind: 'reduce' }, inReduction: boolean): NamedValue {
  const b = ctx.builder;
  const op = e.op as 'max' | 'min';
  const body = lowerExpr(ctx, e.body, true, true);
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
