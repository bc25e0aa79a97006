/**
 * The pooling route: `max|mean|sum[v…] X[…, s·u + v + p, …]` over one or two window axes.
 * Out-of-range terms follow LANGUAGE.md §6: max pads with -∞ so they are ignored, mean pads with
 * 0 and still counts them (count_include_pad), sum is the mean times the window size.
 *
 * Every window shape and stride, tiling (the usual 2×2/2) or overlapping, runs as tf.maxPool /
 * tf.avgPool (1-D as 2-D with a unit axis) on the input padded as §6 says; max pooling gets its
 * gradient from ops/pool.ts, which routes around a backend's MaxPoolGrad where it is wrong. (A
 * reshape and a reduction would be exact too, but its gradient is a broadcast and, for max, an
 * arg-max mask: six kernels where the pooling gradient is one.)
 * A window entirely outside the input (an empty max) is also left to the generic route, which
 * knows how to drop it.
 */
import type { CheckedExpr } from '../../check/checked';
import { bareIndex } from '../../check/index-forms';
import type { BoundaryMode } from '../../parse/ast';
import type { NamedValue } from '../builder';
import type { ExprContext, ExprRoute } from '../context';
import { sizeOf } from '../../../core/layout';
import { modeReaches, padByMode } from './boundary';

interface PoolWindow {
  readonly axis: number;
  readonly out: string;
  readonly window: string;
  readonly stride: number;
  readonly offset: number;
  /** A read through clamp/wrap/reflect: the input is padded that way instead of with ∓∞ or 0. */
  readonly mode?: BoundaryMode;
}

function lowerPool(ctx: ExprContext, e: CheckedExpr & { kind: 'reduce' }): NamedValue | undefined {
  if (e.op === 'min' || e.body.kind !== 'access') return undefined;
  const access = e.body;
  const reduced = new Set(e.indices);
  const windows: PoolWindow[] = [];
  const others: string[] = [];
  for (let axis = 0; axis < access.indices.length; axis++) {
    const ix = access.indices[axis];
    const name = bareIndex(ix);
    if (name !== undefined) {
      if (reduced.has(name) || others.includes(name)) return undefined;
      others.push(name);
      continue;
    }
    const affine = ix.kind === 'boundary' && ix.arg.kind === 'affine' ? ix.arg : ix;
    if (affine.kind !== 'affine' || affine.terms.length !== 2) return undefined;
    const w = affine.terms.find((t) => reduced.has(t.index));
    const u = affine.terms.find((t) => !reduced.has(t.index));
    if (w === undefined || u === undefined || w.coef !== 1 || u.coef < 1) return undefined;
    windows.push({ axis, out: u.index, window: w.index, stride: u.coef, offset: affine.offset, mode: ix.kind === 'boundary' ? ix.mode : undefined });
  }
  if (windows.length === 0 || windows.length > 2) return undefined;
  const names = [...others, ...windows.flatMap((w) => [w.out, w.window])];
  if (new Set(names).size !== names.length || e.indices.some((i) => !windows.some((w) => w.window === i))) return undefined;

  const b = ctx.builder;
  const extent = (n: string) => ctx.ranges.get(n)!.extent;
  const t = ctx.tensor(access.tensor);
  // Every window must hold at least one in-range term, else max would be empty.
  for (const w of windows) {
    const n = t.shape[w.axis];
    if (w.mode !== undefined) {
      // The mode pads physically, which only reaches so far.
      const needed = w.stride * (extent(w.out) - 1) + extent(w.window);
      if (!modeReaches(w.mode, n, Math.max(0, -w.offset), Math.max(0, needed + w.offset - n))) return undefined;
      continue;
    }
    for (let u = 0; u < extent(w.out); u++) {
      const first = w.stride * u + w.offset;
      if (first + extent(w.window) - 1 < 0 || first > n - 1) return undefined;
    }
  }
  // Layout [N, H, W, C]: the last plain axis is the channel, the other plain axes the batch.
  const channel = others.length > 0 ? [others[others.length - 1]] : [];
  const batch = others.slice(0, Math.max(0, others.length - 1));
  const axesNamed = access.indices.map((ix, k) => bareIndex(ix) ?? `#p${k}`);
  const spatial = windows.map((w) => `#p${w.axis}`);
  let x = b.permute(b.named(t.step, axesNamed), [...batch, ...spatial, ...channel]).step;
  const N = sizeOf(batch.map(extent));
  const C = sizeOf(channel.map(extent));
  const inSpatial = windows.map((w) => t.shape[w.axis]);
  x = b.reshape(x, [N, ...inSpatial, C]);
  // Offsets: a negative one is padding before, a positive one a crop. Elements past the last
  // window stay (a longer pooled output is sliced instead, cheaper than cropping the input).
  const outSpatial = windows.map((w) => extent(w.out));
  const begin: number[] = [];
  const pads: [number, number][] = [];
  const lengths: number[] = [];
  windows.forEach((w, k) => {
    const needed = w.stride * (extent(w.out) - 1) + extent(w.window);
    const crop = Math.max(0, w.offset);
    const before = Math.max(0, -w.offset);
    const available = inSpatial[k] - crop;
    begin.push(crop);
    lengths.push(available);
    pads.push([before, Math.max(0, needed - before - available)]);
  });
  // Boundary modes pad physically, before any crop (so wrap reads the true other end).
  windows.forEach((w, k) => {
    if (w.mode === undefined || (pads[k][0] === 0 && pads[k][1] === 0)) return;
    const [before, after] = pads[k];
    x = padByMode(b, x, 1 + k, before, after, w.mode);
    pads[k] = [0, 0];
    if (begin[k] === 0 && before > 0) lengths[k] += before;
    lengths[k] += after;
  });
  const shape = b.shapeOf(x);
  x = b.slice(
    x,
    shape.map((_, j) => (j >= 1 && j <= windows.length ? begin[j - 1] : 0)),
    shape.map((d, j) => (j >= 1 && j <= windows.length ? lengths[j - 1] : d)),
  );
  x = b.pad(x, [[0, 0], ...pads, [0, 0]], e.op === 'max' ? -Infinity : 0);
  const padded = b.shapeOf(x);
  const pooled = windows.map((w, k) => Math.floor((padded[1 + k] - extent(w.window)) / w.stride) + 1);
  const lift = windows.length === 1;
  if (lift) x = b.reshape(x, [N, 1, b.shapeOf(x)[1], C]);
  const window: [number, number] = lift ? [1, extent(windows[0].window)] : [extent(windows[0].window), extent(windows[1].window)];
  const strides: [number, number] = lift ? [1, windows[0].stride] : [windows[0].stride, windows[1].stride];
  let y = b.emit({ op: 'pool', fn: e.op === 'max' ? 'max' : 'avg', window, strides }, [x], [N, ...(lift ? [1] : []), ...pooled, C]);
  if (pooled.some((n, k) => n !== outSpatial[k]))
    y = b.slice(
      y,
      b.shapeOf(y).map(() => 0),
      [N, ...(lift ? [1] : []), ...outSpatial, C],
    );
  if (e.op === 'sum') y = b.binary('mul', y, b.scalar(window[0] * window[1]));
  ctx.routes.push(
    `${e.op === 'max' ? 'max' : 'average'} pooling route: window [${window}], strides [${strides}]${e.op === 'sum' ? ' (sum = average × window size)' : ''}`,
  );
  const named = [...batch, ...windows.map((w) => w.out), ...channel];
  const step = b.reshape(y, named.map(extent));
  return { step, axes: named, shape: b.shapeOf(step), zeroWhereMasked: e.op !== 'max' };
}

export const poolingRoute: ExprRoute = {
  name: 'pooling',
  matches: (e) => e.kind === 'reduce' && e.op !== 'min' && e.body.kind === 'access',
  lower: (ctx, e) => lowerPool(ctx, e as CheckedExpr & { kind: 'reduce' }),
};
