/**
 * Lowering one statement: each right-hand part becomes a named value over the left-hand
 * indices, which is then laid out as the left-hand side says — plain axes by a transpose,
 * composites `(g, j)` by a reshape, scatters `2*x + 1` by zero insertion (pad + reshape) and
 * scatters `2*x+Δx` by a scatter-add at host-computed positions (so overlapping writes add and
 * writes outside are dropped), concatenation parts by a concat.
 */
import type { CheckedStatement, LhsIndex } from '../check/checked';
import { compileAxis } from '../check/index-eval';
import { indexNamesOf } from '../check/index-forms';
import type { NamedValue, PlanBuilder } from './builder';
import { concatNote, ELEMENTWISE_NOTE, scatterNote, type ExprContext } from './context';
import { forEachCombination, sizeOf } from '../../core/layout';

export function lowerStatement(ctx: ExprContext, s: CheckedStatement): number {
  const b = ctx.builder;
  const extent = (n: string) => s.ranges.get(n)!.extent;
  const concatAxis = s.lhs.findIndex((ix) => ix.kind === 'concat');
  const scatters = new Set<string>();
  const pieces = s.parts.map((part, p) => {
    const value = ctx.lower(part, { inReduction: false, safe: false });
    return layOut(b, value, s.lhs, p, s.shape, extent, scatters);
  });
  for (const how of scatters) ctx.routes.push(scatterNote(how));
  if (ctx.routes.length === 0) ctx.routes.push(ELEMENTWISE_NOTE);
  let step: number;
  if (pieces.length === 1) step = pieces[0];
  else {
    step = b.emit({ op: 'concat', axis: concatAxis }, pieces, s.shape);
    ctx.routes.push(concatNote(pieces.length, concatAxis));
  }
  // The result must be a tensor of its own: a statement that only renames (Y[i] = X[i]) would
  // otherwise hand the caller its own input, which disposing Y would destroy.
  const op = b.steps[step].op;
  if (op === 'constant' || op === 'scalar' || op === 'mask' || ctx.tensorSteps.has(step)) {
    step = b.emit({ op: 'clone' }, [step], s.shape);
  }
  return step;
}

/** Arranges one part's value as the left-hand side (concat part `p`) and returns its step. */
function layOut(
  b: PlanBuilder,
  value: NamedValue,
  lhs: readonly LhsIndex[],
  p: number,
  shape: readonly number[],
  extent: (n: string) => number,
  scatters: Set<string>,
): number {
  // The index names each left-hand axis consumes, in order.
  const groups = lhs.map((ix) => (ix.kind === 'concat' ? [ix.parts[p]] : [...new Set(indexNamesOf(ix))]));
  const names = groups.flat();
  let v = b.expandTo(value, names, names.map(extent));
  // Scatter axes: positions from the index expression, through S[M, P]; overlapping writes add.
  lhs.forEach((ix, k) => {
    if (ix.kind !== 'affine' || (ix.terms.length === 1 && ix.terms[0].coef === 1 && ix.offset === 0)) return;
    v = scatterAxis(b, v, groups[k], ix, shape[k], `@${k}`, extent, scatters);
    groups[k] = [`@${k}`];
  });
  const ordered = b.permute(v, groups.flat());
  const partShape = lhs.map((ix, k) => (ix.kind === 'concat' ? extent(ix.parts[p]) : shape[k]));
  return b.reshape(ordered.step, partShape);
}

/**
 * Writes the index names `vars` of a value to positions `ix` of a new axis `name` of extent
 * `size`: zero insertion for one name with a positive coefficient, else a scatter-add.
 */
function scatterAxis(
  b: PlanBuilder,
  v: NamedValue,
  vars: readonly string[],
  ix: LhsIndex & { kind: 'affine' },
  size: number,
  name: string,
  extent: (n: string) => number,
  scatters: Set<string>,
): NamedValue {
  const spread = ix.terms.length === 1 && ix.terms[0].coef > 0 ? spreadAxis(b, v, vars[0], ix.terms[0].coef, ix.offset, size, name) : undefined;
  if (spread !== undefined) {
    scatters.add('s·x + d on the left-hand side by zero insertion (reshape + pad) and a shift (pad or slice)');
    return spread;
  }
  scatters.add('left-hand positions computed on the host, one scatter-add (tf.scatterND; overlapping writes add, writes outside are dropped)');
  const extents = vars.map(extent);
  const m = sizeOf(extents);
  const others = v.axes.filter((a) => !vars.includes(a));
  const moved = b.permute(v, [...others, ...vars]);
  const rest = moved.shape.slice(0, others.length);
  b.requireSize([...rest, size + 1], 'scatter');
  const at = compileAxis(ix, size, (n) => vars.indexOf(n));
  const positions = new Int32Array(m);
  let outside = false;
  forEachCombination(extents, (env, row) => {
    const pos = at(env);
    if (pos < 0) outside = true;
    positions[row] = pos >= 0 ? pos : size;
  });
  // Writes outside go to one extra position, cut off afterwards.
  const target = outside ? size + 1 : size;
  const flat = b.reshape(moved.step, [...rest, m]);
  const where = b.emit({ op: 'indices', values: positions }, [], [m]);
  let step = b.emit({ op: 'scatterAdd', axis: rest.length }, [flat, where], [...rest, target]);
  step = b.slice(step, [...rest.map(() => 0), 0], [...rest, size]);
  return b.named(step, [...others, name]);
}

/**
 * Axis `axis` (values at x ∈ [0, count)) written to positions coef·x + offset of a new axis of
 * extent `size`: coef − 1 zeros after each value (reshape + pad), then shifted by the offset, on a
 * rank-3 view [outer, axis, inner]. Undefined (the caller scatters) when no write lands inside.
 */
function spreadAxis(b: PlanBuilder, v: NamedValue, axis: string, coef: number, offset: number, size: number, name: string): NamedValue | undefined {
  const k = v.axes.indexOf(axis);
  const count = v.shape[k];
  const length = coef * count;
  if (offset >= size || -offset >= length) return undefined;
  const outer = sizeOf(v.shape.slice(0, k));
  const inner = sizeOf(v.shape.slice(k + 1));
  let step = v.step;
  if (coef > 1) {
    step = b.pad(b.reshape(step, [outer, count, 1, inner]), [
      [0, 0],
      [0, 0],
      [0, coef - 1],
      [0, 0],
    ]);
  }
  step = b.reshape(step, [outer, length, inner]);
  // Element j of the spread axis goes to position j + offset; keep the part inside [0, size).
  const first = Math.max(0, -offset);
  const last = Math.min(length, size - offset);
  step = b.slice(step, [0, first, 0], [outer, last - first, inner]);
  step = b.pad(step, [
    [0, 0],
    [first + offset, size - (last + offset)],
    [0, 0],
  ]);
  return b.named(
    b.reshape(
      step,
      v.shape.map((d, j) => (j === k ? size : d)),
    ),
    v.axes.map((a) => (a === axis ? name : a)),
  );
}
