/**
 * The fused-epilogue route: `act(conv + B[channels])`, `conv + B[channels]` or `act(conv)` (act
 * relu or sigmoid) as one conv step with a bias input and an activation — tf.fused.conv2d where
 * the backend computes its gradient, else conv, bias and activation with the derived gradient.
 * Only outside reductions, where no mask can reach the result. The convolution itself is
 * recognised by the convolution route's analysis (conv.ts).
 */
import type { CheckedExpr } from '../../check/checked';
import { bareIndex } from '../../check/index-forms';
import type { NamedValue } from '../builder';
import type { ExprContext, ExprRoute } from '../context';
import { convPlan, emitConv, type ConvEpilogue } from './conv';

type Access = CheckedExpr & { kind: 'access' };

function lowerFusedConv(ctx: ExprContext, e: CheckedExpr): NamedValue | undefined {
  let activation: ConvEpilogue['activation'];
  let inner = e;
  if (e.kind === 'unary' && (e.fn === 'relu' || e.fn === 'sigmoid')) {
    activation = e.fn;
    inner = e.arg;
  }
  let sum: CheckedExpr = inner;
  let bias: Access | undefined;
  if (inner.kind === 'binary' && inner.fn === 'add') {
    const [l, r] = [inner.left, inner.right];
    if (l.kind === 'reduce' && r.kind === 'access') [sum, bias] = [l, r];
    else if (r.kind === 'reduce' && l.kind === 'access') [sum, bias] = [r, l];
    else return undefined;
  } else if (activation === undefined) return undefined;
  const plan = convPlan(ctx, sum, false);
  if (plan === undefined || plan.groups.length > 0) return undefined;
  if (bias !== undefined) {
    // The bias must run over exactly the output channels, in their order.
    const channels = [...(plan.depthwise.length > 0 ? plan.depthwise : []), ...plan.outChannels];
    const names = bias.indices.map(bareIndex);
    if (names.length !== channels.length || names.some((n, k) => n !== channels[k])) return undefined;
  }
  return emitConv(ctx, plan, { bias, activation });
}

export const convEpilogueRoute: ExprRoute = {
  name: 'fused epilogue',
  matches: (e, where) => !where.inReduction && (e.kind === 'unary' || e.kind === 'binary'),
  lower: lowerFusedConv,
};
