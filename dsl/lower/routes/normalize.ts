/**
 * Normalization by given statistics: one statement
 *
 *   Y[b,x,y,j] = f((X[b,x,y,j] - M[j]) / S[j] · G[j] + B[j])        (f, G, B optional)
 *
 * whose M and S are per-channel tensors not computed from X in the program — batch norm in
 * evaluation, where they are the running averages. Lowered elementwise it takes four or five
 * passes over X (−, /, ·, +, relu); here it is one step, differentiable in X, M, S, G and B, run
 * on the native backend by the batch-norm route's normalization kernel. A statement of a batch-norm
 * group (batchnorm.ts) is claimed by that route first.
 */
import type { CheckedProgram, CheckedStatement } from '../../check/checked';
import type { StatementContext, StatementRoute } from '../context';
import { emitNormalization, matchNormalize, readOf, type Normalization } from './batchnorm';

/**
 * `Y[...] = f((X[...] − M[kept]) / S[kept] · G[kept] + B[kept])` where M and S are any per-channel
 * tensors (in evaluation, the running averages): X's kept axes are those M reads, in X's order.
 */
function matchGivenNormalization(s: CheckedStatement): Normalization | undefined {
  let e = s.parts.length === 1 ? s.parts[0] : undefined;
  if (e?.kind === 'unary') e = e.arg;
  // Down the chain of sums and products to (X − M) / S.
  while (e !== undefined && e.kind === 'binary' && (e.fn === 'add' || e.fn === 'mul')) {
    e = e.left.kind === 'binary' && ['add', 'mul', 'div'].includes(e.left.fn) ? e.left : e.right;
  }
  if (e === undefined || e.kind !== 'binary' || e.fn !== 'div' || e.left.kind !== 'binary' || e.left.fn !== 'sub') return undefined;
  const x = readOf(e.left.left);
  const mu = readOf(e.left.right);
  const sigma = readOf(e.right);
  if (x === undefined || mu === undefined || sigma === undefined || new Set([x.tensor, mu.tensor, sigma.tensor]).size !== 3) return undefined;
  const kept = mu.names.map((n) => x.names.indexOf(n));
  if (kept.some((a, i) => a < 0 || (i > 0 && a <= kept[i - 1]))) return undefined;
  const reduced = x.names.map((_, a) => a).filter((a) => !kept.includes(a));
  if (reduced.length === 0) return undefined;
  const parts = matchNormalize(s, { input: x.tensor, reduced, kept }, mu.tensor, sigma.tensor);
  if (parts === undefined) return undefined;
  return { input: x.tensor, names: { mean: mu.tensor, std: sigma.tensor }, reduced, ...parts };
}

/** The statements that are normalizations by given statistics. */
function findGivenNormalizations(program: CheckedProgram): Map<number, Normalization> {
  const found = new Map<number, Normalization>();
  program.statements.forEach((s, k) => {
    const m = matchGivenNormalization(s);
    if (m !== undefined) found.set(k, m);
  });
  return found;
}

function lowerGivenNormalization(ctx: StatementContext, m: Normalization): number {
  const { step, formula } = emitNormalization(ctx, 'normalize', m, [ctx.tensor(m.names.mean).step, ctx.tensor(m.names.std).step]);
  ctx.routes.push(`normalization by given statistics: ${formula}; one pass over the input, differentiable in every operand`);
  return step;
}

export const givenNormalizationRoute: StatementRoute<Normalization> = {
  name: 'normalization by given statistics',
  matches: findGivenNormalizations,
  lower: lowerGivenNormalization,
};
