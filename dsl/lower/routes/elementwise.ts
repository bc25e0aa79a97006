/**
 * The elementwise route: constants, reads, functions and binary operators, broadcasting by
 * index name. Reads go through lowerRead (slices, pads, selection matrices, masks); the larger
 * operand of a binary operator keeps its layout and the smaller one is broadcast against it.
 */
import type { CheckedExpr } from '../../check/checked';
import { UNARY_MEANING } from '../../check/functions';
import { sizeOf } from '../../../core/layout';
import { andMasks, type NamedValue } from '../builder';
import type { ExprContext, ExprRoute, Where } from '../context';
import { lowerRead } from '../read';

function lowerElementwise(ctx: ExprContext, e: CheckedExpr, where: Where): NamedValue | undefined {
  const b = ctx.builder;
  switch (e.kind) {
    case 'const':
      return b.named(b.scalar(e.value), []);
    case 'access': {
      const t = ctx.tensor(e.tensor);
      return lowerRead({ builder: b, ranges: ctx.ranges }, t.step, t.shape, e.indices, where.inReduction, where.safe);
    }
    case 'unary': {
      const v = ctx.lower(e.arg, where);
      const step = b.unary(e.fn, v.step);
      return { ...v, step, zeroWhereMasked: v.zeroWhereMasked && UNARY_MEANING[e.fn](0) === 0 };
    }
    case 'binary': {
      const l = ctx.lower(e.left, where);
      const r = ctx.lower(e.right, where);
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
      return undefined;
  }
}

export const elementwiseRoute: ExprRoute = {
  name: 'elementwise',
  matches: (e) => e.kind !== 'reduce',
  lower: lowerElementwise,
};
