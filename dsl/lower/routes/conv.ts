/**
 * The convolution route: a sum of (image read with window indices) × (kernel read) lowered to
 * one tfjs conv. Filled in below; until a pattern matches, the generic contraction runs.
 */
import type { CheckedExpr } from '../../check/checked';
import type { NamedValue } from '../builder';
import type { ExprContext } from '../expr';

export function tryConvRoute(_ctx: ExprContext, _e: CheckedExpr & { kind: 'reduce' }): NamedValue | undefined {
  return undefined;
}
