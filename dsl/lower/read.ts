/**
 * Lowering a tensor read `T[i₁, …, iₙ]` to a named value whose axes are index names. Each axis is
 * handled by the cheapest form that is exact and differentiable on every backend:
 *   bare index       → the axis itself (sliced when the range is shorter)
 *   (g, I)           → a reshape
 *   s·x + d          → slice (+ reshape to take every s-th) + zero pad
 *   anything else    → a 0/1 selection matrix and a matMul (windows x+Δx, floor division,
 *                      boundary modes); out-of-range reads become zero columns
 * An index name that ends up on two axes (a diagonal, `A[i,i]`) is then merged by a strided pick.
 * tfjs has no gradient for stridedSlice or einsum, so neither is used.
 */
import type { CheckedIndex, IndexRange } from '../check/checked';
import { compileAxis } from '../check/index-eval';
import { indexNamesOf } from '../check/index-forms';
import { andMasks, simplifyMask, type Mask, type NamedValue, type PlanBuilder } from './builder';
import { forEachCombination, sizeOf } from '../../core/layout';

export interface ReadContext {
  readonly builder: PlanBuilder;
  readonly ranges: ReadonlyMap<string, IndexRange>;
}

/** Placeholder name for an axis not yet renamed to an index. */
const raw = (k: number) => `#${k}`;

export function lowerRead(
  ctx: ReadContext,
  step: number,
  shape: readonly number[],
  indices: readonly CheckedIndex[],
  inReduction: boolean,
  safe = false,
): NamedValue {
  const b = ctx.builder;
  const extent = (name: string) => ctx.ranges.get(name)!.extent;
  let v: NamedValue = b.named(
    step,
    shape.map((_, k) => raw(k)),
  );
  let mask: Mask | undefined;

  indices.forEach((ix, k) => {
    const n = shape[k];
    const here = raw(k);
    const single = ix.kind === 'affine' && ix.terms.length === 1 ? ix.terms[0] : undefined;
    if (ix.kind === 'composite') {
      v = splitAxis(
        b,
        v,
        here,
        ix.parts.map((p) => p.terms[0].index),
        ix.factors,
      );
      return;
    }
    if (single !== undefined && single.coef > 0) {
      const r = stridedRead(b, v, here, single.index, single.coef, ix.kind === 'affine' ? ix.offset : 0, extent(single.index), n);
      v = r.value;
      if (r.mask) mask = andMasks(mask, r.mask);
      return;
    }
    const r = selectionRead(b, v, here, ix, n, indexNamesOf(ix), extent);
    v = r.value;
    if (r.mask) mask = andMasks(mask, r.mask);
  });

  v = mergeDuplicateAxes(b, v);
  if (!inReduction || mask === undefined) return { ...v, mask: undefined, zeroWhereMasked: true };
  if (!safe) return { ...v, mask, zeroWhereMasked: true };
  // Safe padding: 1 where the read falls outside (see lowerExpr).
  const outside = new Float32Array(mask.data.length);
  for (let k = 0; k < outside.length; k++) outside[k] = 1 - mask.data[k];
  const ones = b.named(b.constant(outside, mask.shape), mask.axes);
  const padded = b.binary('add', v.step, b.broadcastable(ones, v.axes));
  return { ...v, step: padded, shape: b.shapeOf(padded), mask, zeroWhereMasked: false };
}

/** Replaces axis `axis` (extent = product of factors) by the axes `names`. */
function splitAxis(b: PlanBuilder, v: NamedValue, axis: string, names: readonly string[], factors: readonly number[]): NamedValue {
  const k = v.axes.indexOf(axis);
  const axes = [...v.axes.slice(0, k), ...names, ...v.axes.slice(k + 1)];
  const shape = [...v.shape.slice(0, k), ...factors, ...v.shape.slice(k + 1)];
  return b.named(b.reshape(v.step, shape), axes);
}

/** Reads positions coef·x + offset, x ∈ [0, count), of an axis of extent n; zero outside. */
function stridedRead(
  b: PlanBuilder,
  v: NamedValue,
  axis: string,
  name: string,
  coef: number,
  offset: number,
  count: number,
  n: number,
): { value: NamedValue; mask?: Mask } {
  const k = v.axes.indexOf(axis);
  const lo = Math.max(0, Math.ceil(-offset / coef));
  const hi = Math.min(count - 1, Math.floor((n - 1 - offset) / coef));
  const rename = (step: number) =>
    b.named(
      step,
      v.axes.map((a) => (a === axis ? name : a)),
    );
  if (lo > hi) {
    // Never in range: a zero tensor of the right shape (still differentiable: 0·x).
    const zeroShape = v.shape.map((d, j) => (j === k ? count : d));
    const step = b.binary(
      'mul',
      b.reshape(
        b.slice(
          v.step,
          v.shape.map(() => 0),
          v.shape.map((d, j) => (j === k ? 1 : d)),
        ),
        v.shape.map((d, j) => (j === k ? 1 : d)),
      ),
      b.scalar(0),
    );
    const zeros = b.emit({ op: 'broadcast' }, [step], zeroShape);
    return { value: rename(zeros), mask: { axes: [name], shape: [count], data: new Uint8Array(count) } };
  }
  const taken = hi - lo + 1;
  const begin = coef * lo + offset;
  let step: number;
  if (coef === 1) {
    step = b.slice(
      v.step,
      v.shape.map((_, j) => (j === k ? begin : 0)),
      v.shape.map((d, j) => (j === k ? taken : d)),
    );
  } else {
    // Every coef-th element: a contiguous run of coef·taken (zero padded past the end), viewed
    // as [taken, coef], first column.
    const avail = Math.min(coef * taken, n - begin);
    let run = b.slice(
      v.step,
      v.shape.map((_, j) => (j === k ? begin : 0)),
      v.shape.map((d, j) => (j === k ? avail : d)),
    );
    run = b.pad(run, v.shape.map((_, j) => (j === k ? [0, coef * taken - avail] : [0, 0])) as [number, number][]);
    const split = [...v.shape.slice(0, k), taken, coef, ...v.shape.slice(k + 1)];
    run = b.reshape(run, split);
    run = b.slice(
      run,
      split.map(() => 0),
      split.map((d, j) => (j === k + 1 ? 1 : d)),
    );
    step = b.reshape(
      run,
      v.shape.map((d, j) => (j === k ? taken : d)),
    );
  }
  step = b.pad(step, v.shape.map((_, j) => (j === k ? [lo, count - 1 - hi] : [0, 0])) as [number, number][]);
  let mask: Mask | undefined;
  if (lo > 0 || hi < count - 1) {
    const data = new Uint8Array(count);
    data.fill(1, lo, hi + 1);
    mask = { axes: [name], shape: [count], data };
  }
  return { value: rename(step), mask };
}

/**
 * Reads axis `axis` (extent n) at index expression `ix` over its index names, through a 0/1
 * selection matrix S[n, M]: value[..., m] = Σ_p value[..., p]·S[p, m].
 */
function selectionRead(
  b: PlanBuilder,
  v: NamedValue,
  axis: string,
  ix: CheckedIndex,
  n: number,
  names: readonly string[],
  extent: (name: string) => number,
): { value: NamedValue; mask?: Mask } {
  const vars = [...new Set(names)];
  const extents = vars.map(extent);
  const m = sizeOf(extents);
  const at = compileAxis(ix, n, (name) => vars.indexOf(name));
  const selection = new Float32Array(n * m);
  const valid = new Uint8Array(m);
  forEachCombination(extents, (env, col) => {
    const p = at(env);
    if (p >= 0) {
      selection[p * m + col] = 1;
      valid[col] = 1;
    }
  });
  const others = v.axes.filter((a) => a !== axis);
  const moved = b.permute(v, [...others, axis]);
  const restShape = moved.shape.slice(0, -1);
  const flat = b.reshape(moved.step, [sizeOf(restShape), n]);
  const s = b.constant(selection, [n, m]);
  const product = b.matMul(flat, s, [sizeOf(restShape), m]);
  const step = b.reshape(product, [...restShape, ...extents]);
  const mask = simplifyMask({ axes: vars, shape: extents, data: valid });
  return { value: b.named(step, [...others, ...vars]), mask };
}

/** `A[i, i]`: where an index names several axes, keep the diagonal. */
function mergeDuplicateAxes(b: PlanBuilder, v: NamedValue): NamedValue {
  // Every repeated occurrence gets a name of its own first (A[i+k, i+k] repeats two names), then
  // each is folded into the first occurrence, one pair at a time.
  const seen = new Map<string, number>();
  const axes = v.axes.map((a) => {
    const n = seen.get(a) ?? 0;
    seen.set(a, n + 1);
    return n === 0 ? a : `${a}#${n}`;
  });
  let w: NamedValue = { ...v, axes };
  for (const [name, count] of seen) {
    for (let n = 1; n < count; n++) w = diagonal(b, w, name, `${name}#${n}`);
  }
  return w;
}

/** Keeps the entries where axes `keep` and `drop` (same extent) are equal; `drop` disappears. */
function diagonal(b: PlanBuilder, v: NamedValue, keep: string, drop: string): NamedValue {
  const d = v.shape[v.axes.indexOf(keep)];
  const others = v.axes.filter((a) => a !== keep && a !== drop);
  const moved = b.permute(v, [...others, keep, drop]);
  const rest = moved.shape.slice(0, -2);
  // Flattened d×d: the diagonal is every (d+1)-th element.
  let step = b.reshape(moved.step, [...rest, d * d]);
  step = b.pad(step, [...rest.map(() => [0, 0] as [number, number]), [0, d]]);
  step = b.reshape(step, [...rest, d, d + 1]);
  step = b.slice(step, [...rest.map(() => 0), 0, 0], [...rest, d, 1]);
  step = b.reshape(step, [...rest, d]);
  return b.named(step, [...others, keep]);
}
