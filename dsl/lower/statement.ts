/**
 * Lowering one statement: each right-hand part becomes a named value over the left-hand
 * indices, which is then laid out as the left-hand side says — plain axes by a transpose,
 * composites `(g, j)` by a reshape, scatters `2*x+Δx` by a transposed selection matrix (so
 * overlapping writes add and writes outside are dropped), concatenation parts by a concat.
 */
import type { CheckedStatement, LhsIndex } from '../check/checked';
import { compileAxis } from '../check/index-eval';
import { indexNamesOf } from '../check/index-forms';
import type { NamedValue, PlanBuilder } from './builder';
import { concatNote, ELEMENTWISE_NOTE, SCATTER_NOTE, type ExprContext } from './context';
import { forEachCombination, sizeOf } from '../../core/layout';

export function lowerStatement(ctx: ExprContext, s: CheckedStatement): number {
  const b = ctx.builder;
  const extent = (n: string) => s.ranges.get(n)!.extent;
  const concatAxis = s.lhs.findIndex((ix) => ix.kind === 'concat');
  const pieces = s.parts.map((part, p) => {
    const value = ctx.lower(part, { inReduction: false, safe: false });
    return layOut(b, value, s.lhs, p, s.shape, extent);
  });
  if (s.scatter) ctx.routes.push(SCATTER_NOTE);
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
function layOut(b: PlanBuilder, value: NamedValue, lhs: readonly LhsIndex[], p: number, shape: readonly number[], extent: (n: string) => number): number {
  // The index names each left-hand axis consumes, in order.
  const groups = lhs.map((ix) => (ix.kind === 'concat' ? [ix.parts[p]] : [...new Set(indexNamesOf(ix))]));
  const names = groups.flat();
  let v = b.expandTo(value, names, names.map(extent));
  // Scatter axes: positions from the index expression, through S[M, P]; overlapping writes add.
  lhs.forEach((ix, k) => {
    if (ix.kind !== 'affine' || (ix.terms.length === 1 && ix.terms[0].coef === 1 && ix.offset === 0)) return;
    v = scatterAxis(b, v, groups[k], ix, shape[k], `@${k}`, extent);
    groups[k] = [`@${k}`];
  });
  const ordered = b.permute(v, groups.flat());
  const partShape = lhs.map((ix, k) => (ix.kind === 'concat' ? extent(ix.parts[p]) : shape[k]));
  return b.reshape(ordered.step, partShape);
}

function scatterAxis(
  b: PlanBuilder,
  v: NamedValue,
  vars: readonly string[],
  ix: LhsIndex & { kind: 'affine' },
  size: number,
  name: string,
  extent: (n: string) => number,
): NamedValue {
  const extents = vars.map(extent);
  const m = sizeOf(extents);
  const at = compileAxis(ix, size, (n) => vars.indexOf(n));
  const selection = new Float32Array(m * size);
  forEachCombination(extents, (env, row) => {
    const pos = at(env);
    if (pos >= 0) selection[row * size + pos] = 1;
  });
  const others = v.axes.filter((a) => !vars.includes(a));
  const moved = b.permute(v, [...others, ...vars]);
  const rest = moved.shape.slice(0, others.length);
  const flat = b.reshape(moved.step, [sizeOf(rest), m]);
  const s = b.constant(selection, [m, size]);
  const product = b.matMul(flat, s, [sizeOf(rest), size]);
  return b.named(b.reshape(product, [...rest, size]), [...others, name]);
}
