/**
 * Windows read through clamp/wrap/reflect: the conv and pooling routes pad the input by the mode
 * (a `boundaryPad` step) and then convolve or pool without zero padding on that axis.
 */
import type { BoundaryMode } from '../../parse/ast';
import type { PlanBuilder } from '../builder';

/**
 * Whether padding by `mode` can supply `before` and `after` extra elements on an axis of extent
 * `n` (reflect mirrors at most n−1 elements, wrap at most n, clamp any number).
 */
export function modeReaches(mode: BoundaryMode, n: number, before: number, after: number): boolean {
  const reach = mode === 'reflect' ? n - 1 : mode === 'wrap' ? n : Infinity;
  return before <= reach && after <= reach;
}

/** Pads `axis` of `step` by `mode`; returns the new step. */
export function padByMode(b: PlanBuilder, step: number, axis: number, before: number, after: number, mode: BoundaryMode): number {
  const shape = b.shapeOf(step).map((d, j) => (j === axis ? d + before + after : d));
  return b.emit({ op: 'boundaryPad', axis, before, after, mode }, [step], shape);
}
