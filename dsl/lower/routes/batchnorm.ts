/**
 * Batch-normalization route. Three statements written as
 *
 *   μ[j] = mean[b,x,y] X[b,x,y,j]
 *   σ[j] = sqrt(mean[b,x,y] square(X[b,x,y,j] - μ[j]) + ε)
 *   Y[b,x,y,j] = relu((X[b,x,y,j] - μ[j]) / σ[j] · γ[j] + β[j])        (relu, γ, β optional)
 *
 * lowered statement by statement and differentiated op by op cost ~50 tfjs kernels per
 * normalization, a dozen of them over the whole activation (a ResNet-20 step ran ~1,000). Here
 * they become two steps: the batch statistics of X (μ and σ in one pass) and the normalization,
 * each with a gradient of its own. The normalization's gradient is the whole group's — it
 * includes the paths through μ and σ — so the normalization takes only X, γ and β as
 * differentiable inputs and reads μ, σ as constants; μ and σ keep their own gradient for any
 * other reader. Anything that does not match exactly is lowered by the ordinary routes.
 */
import type { CheckedExpr, CheckedIndex, CheckedProgram, CheckedStatement, LhsIndex, UnaryFn } from '../../check/checked';
import { bareIndex } from '../../check/index-forms';
import type { StatementContext, StatementRoute } from '../context';

/** One recognized group: statement numbers and what the steps need. */
export interface BatchNormGroup {
  /** The normalized tensor X. */
  readonly input: string;
  readonly mean: number;
  readonly std: number;
  readonly normalize: number;
  /** The names μ and σ have in the program. */
  readonly names: { readonly mean: string; readonly std: string };
  /** Axes of X averaged over, ascending; the others (kept, in X's order) are μ's and σ's axes. */
  readonly reduced: readonly number[];
  readonly epsilon: number;
  /** γ and β tensors (shape of μ), when present. */
  readonly scale?: string;
  readonly offset?: string;
  /** Applied to x̂·γ + β: relu is fused; any other function is an ordinary step after it. */
  readonly activation?: UnaryFn;
}

/** Index names of indices that are all bare, distinct names; undefined otherwise. */
function plainNames(indices: readonly (CheckedIndex | LhsIndex)[]): string[] | undefined {
  const names = indices.map(bareIndex);
  if (names.some((n) => n === undefined)) return undefined;
  return new Set(names).size === names.length ? (names as string[]) : undefined;
}

function lhsNames(s: CheckedStatement): string[] | undefined {
  return s.parts.length === 1 ? plainNames(s.lhs) : undefined;
}

/** `tensor[...]` read with plain names: the names, or undefined. */
export function readOf(e: CheckedExpr, tensor?: string): { tensor: string; names: string[] } | undefined {
  if (e.kind !== 'access' || (tensor !== undefined && e.tensor !== tensor)) return undefined;
  const names = plainNames(e.indices);
  return names === undefined ? undefined : { tensor: e.tensor, names };
}

const sameList = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((v, k) => v === b[k]);

/**
 * Within one statement that reads X[xNames]: whether `names` are exactly X's kept axes `kept`, in
 * that order (so a per-channel read there lines up with μ's axes).
 */
function keptAxes(names: readonly string[], xNames: readonly string[], kept: readonly number[]): boolean {
  return sameList(
    names.map((n) => xNames.indexOf(n)),
    kept,
  );
}

export interface MeanMatch {
  readonly input: string;
  readonly reduced: number[];
  readonly kept: number[];
}

/** `M[kept] = mean[reduced] X[...]`, kept axes in X's order. */
function matchMean(s: CheckedStatement): MeanMatch | undefined {
  const lhs = lhsNames(s);
  const e = s.parts[0];
  if (lhs === undefined || e.kind !== 'reduce' || e.op !== 'mean') return undefined;
  const x = readOf(e.body);
  if (x === undefined) return undefined;
  const kept = lhs.map((n) => x.names.indexOf(n));
  if (kept.some((a, i) => a < 0 || (i > 0 && a <= kept[i - 1]))) return undefined;
  const reduced = x.names.map((_, a) => a).filter((a) => !kept.includes(a));
  if (reduced.length === 0 || !sameList([...e.indices].sort(), reduced.map((a) => x.names[a]).sort())) return undefined;
  return { input: x.tensor, reduced, kept };
}

/** `S[kept] = sqrt(mean[reduced] square(X[...] − M[kept]) + ε)`: ε, or undefined. */
function matchStd(s: CheckedStatement, m: MeanMatch, mean: string): number | undefined {
  const lhs = lhsNames(s);
  const e = s.parts[0];
  if (lhs === undefined || e.kind !== 'unary' || e.fn !== 'sqrt' || e.arg.kind !== 'binary' || e.arg.fn !== 'add') return undefined;
  const [variance, eps] = e.arg.right.kind === 'const' ? [e.arg.left, e.arg.right] : [e.arg.right, e.arg.left];
  if (eps.kind !== 'const' || !(eps.value > 0) || variance.kind !== 'reduce' || variance.op !== 'mean') return undefined;
  const sq = variance.body;
  const diff =
    sq.kind === 'unary' && sq.fn === 'square'
      ? sq.arg
      : sq.kind === 'binary' && sq.fn === 'pow' && sq.right.kind === 'const' && sq.right.value === 2
        ? sq.left
        : undefined;
  if (diff === undefined || diff.kind !== 'binary' || diff.fn !== 'sub') return undefined;
  const x = readOf(diff.left, m.input);
  const mu = readOf(diff.right, mean);
  if (x === undefined || mu === undefined || x.names.length !== m.kept.length + m.reduced.length) return undefined;
  if (!keptAxes(lhs, x.names, m.kept) || !keptAxes(mu.names, x.names, m.kept)) return undefined;
  if (!sameList([...variance.indices].sort(), m.reduced.map((a) => x.names[a]).sort())) return undefined;
  return eps.value;
}

/**
 * `Y[...] = f((X[...] − M[kept]) / S[kept] · G[kept] + B[kept])` with Y laid out as X; f, G, B
 * optional and the products and sums in either order.
 */
export function matchNormalize(
  s: CheckedStatement,
  m: MeanMatch,
  mean: string,
  std: string,
): Pick<BatchNormGroup, 'scale' | 'offset' | 'activation'> | undefined {
  const lhs = lhsNames(s);
  if (lhs === undefined) return undefined;
  let e = s.parts[0];
  let activation: UnaryFn | undefined;
  if (e.kind === 'unary') {
    activation = e.fn;
    e = e.arg;
  }
  // A per-channel read of `tensor` (any tensor but X, μ, σ), in the kept order.
  const perChannel = (t: CheckedExpr): string | undefined => {
    const r = readOf(t);
    if (r === undefined || [m.input, mean, std].includes(r.tensor) || !keptAxes(r.names, lhs, m.kept)) return undefined;
    return r.tensor;
  };
  let offset: string | undefined;
  if (e.kind === 'binary' && e.fn === 'add') {
    const [rest, b] = perChannel(e.right) !== undefined ? [e.left, e.right] : [e.right, e.left];
    offset = perChannel(b);
    if (offset === undefined) return undefined;
    e = rest;
  }
  let scale: string | undefined;
  if (e.kind === 'binary' && e.fn === 'mul') {
    const [rest, g] = perChannel(e.right) !== undefined ? [e.left, e.right] : [e.right, e.left];
    scale = perChannel(g);
    if (scale === undefined) return undefined;
    e = rest;
  }
  if (e.kind !== 'binary' || e.fn !== 'div' || e.left.kind !== 'binary' || e.left.fn !== 'sub') return undefined;
  const x = readOf(e.left.left, m.input);
  const mu = readOf(e.left.right, mean);
  const sigma = readOf(e.right, std);
  if (x === undefined || mu === undefined || sigma === undefined || !sameList(x.names, lhs)) return undefined;
  if (!keptAxes(mu.names, lhs, m.kept) || !keptAxes(sigma.names, lhs, m.kept)) return undefined;
  return { scale, offset, activation };
}

/**
 * The batch-normalization groups of a program, by the statement number of each member.
 *
 * @example
 *   findBatchNorms(ein`μ[j] = mean[b] X[b,j] …`.check(shapes)) → Map {0 → group, 1 → group, 2 → group}
 */
function findBatchNorms(program: CheckedProgram): Map<number, BatchNormGroup> {
  const groups = new Map<number, BatchNormGroup>();
  const statements = program.statements;
  statements.forEach((s, k) => {
    const m = matchMean(s);
    if (m === undefined) return;
    for (let i = k + 1; i < statements.length; i++) {
      const epsilon = matchStd(statements[i], m, s.target);
      if (epsilon === undefined) continue;
      for (let j = i + 1; j < statements.length; j++) {
        const norm = matchNormalize(statements[j], m, s.target, statements[i].target);
        if (norm === undefined || groups.has(j)) continue;
        const names = { mean: s.target, std: statements[i].target };
        const group: BatchNormGroup = { input: m.input, mean: k, std: i, normalize: j, names, reduced: m.reduced, epsilon, ...norm };
        for (const member of [k, i, j]) groups.set(member, group);
        return;
      }
    }
  });
  return groups;
}

/**
 * Lowers statement `k`, a member of `group`: μ emits the statistics step (μ's values, then σ's,
 * flat) and takes its first half, σ its second; the normalization is one step (then its
 * activation, unless that is relu, which is fused). `statsOf` remembers each group's statistics
 * step. Returns the statement's step.
 */
function lowerBatchNormMember(ctx: StatementContext, group: BatchNormGroup, k: number, statsOf: Map<BatchNormGroup, number>): number {
  const { builder: b, tensor, routes } = ctx;
  const x = tensor(group.input);
  const kept = x.shape.filter((_, a) => !group.reduced.includes(a));
  const size = kept.reduce((p, d) => p * d, 1);
  const over = `[${group.reduced.join(',')}]`;
  if (k === group.mean) {
    statsOf.set(group, b.emit({ op: 'batchStats', reduced: group.reduced, epsilon: group.epsilon }, [x.step], [2 * size]));
    routes.push(`batch statistics: ${group.names.mean} and ${group.names.std} of ${group.input} over axes ${over} in one pass, each with its own gradient`);
  }
  const stats = statsOf.get(group)!;
  if (k === group.mean || k === group.std) {
    const half = b.emit({ op: 'statsHalf', index: k === group.mean ? 0 : 1 }, [stats], [size]);
    if (k === group.std) routes.push(`batch statistics: ${group.names.std} is the second half of the step computed with ${group.names.mean}`);
    return b.reshape(half, kept);
  }
  const { step, formula } = emitNormalization(ctx, 'batchNormalize', group, [stats]);
  routes.push(`batch normalization: ${formula}; one step whose gradient is the whole group's (through ${group.names.mean} and ${group.names.std})`);
  return step;
}

/** What a normalization step needs besides its statistics: X, its averaged axes, γ, β, the activation, and the names of μ and σ. */
export type Normalization = Pick<BatchNormGroup, 'input' | 'names' | 'reduced' | 'scale' | 'offset' | 'activation'>;

/**
 * Emits the normalization step `op` of `n`, reading X, then `stats` (the statistics steps), then γ
 * and β when present; then the activation, unless it is relu, which the step fuses. Returns the
 * step and the formula for the route's note, e.g. `(X − μ)/σ · γ + β, relu fused`.
 */
export function emitNormalization(
  ctx: StatementContext,
  op: 'batchNormalize' | 'normalize',
  n: Normalization,
  stats: readonly number[],
): { step: number; formula: string } {
  const { builder: b, tensor } = ctx;
  const x = tensor(n.input);
  const inputs = [x.step, ...stats];
  if (n.scale !== undefined) inputs.push(tensor(n.scale).step);
  if (n.offset !== undefined) inputs.push(tensor(n.offset).step);
  const relu = n.activation === 'relu';
  let step = b.emit({ op, reduced: n.reduced, scale: n.scale !== undefined, offset: n.offset !== undefined, relu }, inputs, x.shape);
  if (n.activation !== undefined && !relu) step = b.unary(n.activation, step);
  const then = n.activation === undefined ? '' : relu ? ', relu fused' : `, then ${n.activation}`;
  const formula = `(${n.input} − ${n.names.mean})/${n.names.std}${n.scale ? ` · ${n.scale}` : ''}${n.offset ? ` + ${n.offset}` : ''}${then}`;
  return { step, formula };
}

export const batchNormRoute: StatementRoute<BatchNormGroup> = {
  name: 'batch normalization',
  matches: findBatchNorms,
  lower: lowerBatchNormMember,
};
