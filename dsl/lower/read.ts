/**
 * Lowering a tensor read `T[i₁, …, iₙ]` to a named value whose axes are index names. Each axis is
 * handled by the cheapest form that is exact and differentiable on every backend, and linear in
 * the data it reads:
 *   bare index       → the axis itself (sliced when the range is shorter)
 *   (g, I)           → a reshape
 *   s·x + d          → slice (+ reshape to take every s-th) + zero pad
 *   anything else, axis of extent ≤ SMALL_AXIS
 *                    → a 0/1 selection matrix and a matMul (at most SMALL_AXIS multiply-adds per
 *                      value read); out-of-range reads become zero columns
 *   (x + d) / q      → each element repeated q times (multiply by q ones, reshape), then a slice
 *   anything else    → a gather with host-computed int32 positions (windows x+Δx, other floor
 *                      divisions, boundary modes, negative strides); out-of-range reads take a
 *                      zero appended to the axis
 * An index name that ends up on two axes (a diagonal, `A[i,i]`) is then merged by a strided pick.
 * tfjs has no gradient for stridedSlice or einsum, so neither is used.
 */
import type { CheckedIndex, IndexRange } from '../check/checked';
import { compileAxis } from '../check/index-eval';
import { indexNamesOf } from '../check/index-forms';
import { andMasks, simplifyMask, type Mask, type NamedValue, type PlanBuilder } from './builder';
import { forEachCombination, sizeOf } from '../../core/layout';

/**
 * Axes up to this extent are read through a 0/1 selection matrix S[n, M] and a matMul: at most
 * SMALL_AXIS multiply-adds per value read (linear in the data), and faster than a gather and its
 * scatter-add gradient for small n (nearest 2× upsampling of 16×16 maps on wasm: 65 vs 100 ms
 * forward + backward, measured).
 */
const SMALL_AXIS = 32;

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
    const names = indexNamesOf(ix);
    const small = n <= SMALL_AXIS;
    const up = ix.kind === 'floordiv' && !small ? upsamplingRead(b, v, here, ix, extent, n) : undefined;
    const r = up ?? (small ? selectionRead(b, v, here, ix, n, names, extent) : gatherRead(b, v, here, ix, n, names, extent));
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
  if (coef === 1 || taken === 1) {
    step = b.slice(
      v.step,
      v.shape.map((_, j) => (j === k ? begin : 0)),
      v.shape.map((d, j) => (j === k ? taken : d)),
    );
  } else {
    // Every coef-th element: a contiguous run of coef·taken (zero padded past the end, by fewer
    // than coef < n elements since taken ≥ 2), viewed as [taken, coef], first column.
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
 * Nearest upsampling `floor((x + d) / q)`: every element repeated q times (a broadcasting multiply
 * by q ones, then a reshape: linear in the result), then read at x + d like any shifted index.
 * Undefined (the caller gathers) for other floor divisions, or where the repeated axis would be
 * much longer than the part read.
 */
function upsamplingRead(
  b: PlanBuilder,
  v: NamedValue,
  axis: string,
  ix: CheckedIndex & { kind: 'floordiv' },
  extent: (name: string) => number,
  n: number,
): { value: NamedValue; mask?: Mask } | undefined {
  const terms = ix.arg.terms;
  if (terms.length !== 1 || terms[0].coef !== 1) return undefined;
  const q = ix.divisor;
  const name = terms[0].index;
  const count = extent(name);
  if (n * q > 2 * (count + q)) return undefined;
  const last = axisLast(b, v, axis);
  const rows = sizeOf(last.restShape);
  const ones = b.reshape(b.constant(new Float32Array(q).fill(1), [q]), [1, 1, q]);
  const repeated = b.reshape(b.binary('mul', b.reshape(last.flat, [rows, n, 1]), ones), [rows, n * q]);
  const r = stridedRead(b, b.named(repeated, [REST, axis]), axis, name, 1, ix.arg.offset, count, n * q);
  const step = b.reshape(r.value.step, [...last.restShape, count]);
  return { value: b.named(step, [...last.others, name]), mask: r.mask };
}

/** Placeholder name of the other axes of a value, folded into one. */
const REST = '#rest';

/**
 * The value with `axis` moved last (neighbouring axes move together) and viewed as [rest, n]: as
 * in the selection reads this replaces, later reductions see the read's index names together at
 * the end, so that folding neighbours keeps their rank within XNNPACK's limit of 6.
 */
function axisLast(b: PlanBuilder, v: NamedValue, axis: string): { flat: number; restShape: readonly number[]; others: readonly string[] } {
  const others = v.axes.filter((a) => a !== axis);
  const moved = b.permute(v, [...others, axis]);
  const restShape = moved.shape.slice(0, -1);
  return { flat: b.reshape(moved.step, [sizeOf(restShape), moved.shape[moved.shape.length - 1]]), restShape, others };
}

/**
 * Reads axis `axis` (extent n) at index expression `ix` over its index names: one gather with
 * host-computed positions (linear in what it reads). Out-of-range reads take a zero appended to
 * the axis (and are masked).
 */
function gatherRead(
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
  // The result is checked before the host allocates the positions.
  b.requireSize([sizeOf(v.shape) / n, m], 'gather');
  const at = compileAxis(ix, n, (name) => vars.indexOf(name));
  const positions = new Int32Array(m);
  const valid = new Uint8Array(m);
  let outside = false;
  let identity = m === n;
  forEachCombination(extents, (env, col) => {
    const p = at(env);
    if (p >= 0) valid[col] = 1;
    else outside = true;
    positions[col] = p >= 0 ? p : n;
    if (p !== col) identity = false;
  });
  const last = axisLast(b, v, axis);
  let step = last.flat;
  if (!identity) {
    if (outside)
      step = b.pad(step, [
        [0, 0],
        [0, 1],
      ]);
    const where = b.emit({ op: 'indices', values: positions }, [], [m]);
    step = b.emit({ op: 'gather', axis: 1 }, [step, where], [sizeOf(last.restShape), m]);
  }
  step = b.reshape(step, [...last.restShape, ...extents]);
  const mask = simplifyMask({ axes: vars, shape: extents, data: valid });
  return { value: b.named(step, [...last.others, ...vars]), mask };
}

/**
 * Reads axis `axis` (extent n ≤ SMALL_AXIS) at index expression `ix` over its index names,
 * through a 0/1 selection matrix S[n, M]: value[..., m] = Σ_p value[..., p]·S[p, m].
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
  b.requireSize([sizeOf(v.shape) / n, m], 'selection read');
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
  const last = axisLast(b, v, axis);
  const product = b.matMul(last.flat, b.constant(selection, [n, m]), [sizeOf(last.restShape), m]);
  const step = b.reshape(product, [...last.restShape, ...extents]);
  const mask = simplifyMask({ axes: vars, shape: extents, data: valid });
  return { value: b.named(step, [...last.others, ...vars]), mask };
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
