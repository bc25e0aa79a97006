/**
 * Whole statements as the one PyTorch call a person would write, where the plan spells them out
 * step by step: a product of plain reads summed Einstein-style is `torch.einsum`; a max, min,
 * mean or sum over windows of a channels-last tensor (1-, 2- or 3-D, stride, dilation, padding)
 * is F.max_poolNd / F.avg_poolNd; a read at x/f is `repeat_interleave`. Anything else is left to the plan's steps (undefined).
 */
import type { AffineIndex, CheckedExpr, CheckedIndex, CheckedStatement, LhsIndex } from '../../check/checked';
import { pyTuple } from './python';

/** The Python expression of a tensor the statement reads, and its shape. */
export type TensorRef = (name: string) => { readonly text: string; readonly shape: readonly number[] };

/** The index name of a bare index (`x`, not `x+1` or `2*x`), else undefined. */
function bare(ix: CheckedIndex | LhsIndex): string | undefined {
  return ix.kind === 'affine' && ix.offset === 0 && ix.terms.length === 1 && ix.terms[0].coef === 1 ? ix.terms[0].index : undefined;
}

/** The factors of a product of reads, or undefined when the expression is anything else. */
function factors(e: CheckedExpr): (CheckedExpr & { kind: 'access' })[] | undefined {
  if (e.kind === 'access') return [e];
  if (e.kind !== 'binary' || e.fn !== 'mul') return undefined;
  const [a, b] = [factors(e.left), factors(e.right)];
  return a && b ? [...a, ...b] : undefined;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `torch.einsum("ij,jk->ik", A, B)` for a product of plain reads, summed over the indices the left side lacks. */
function einsum(st: CheckedStatement, tensor: TensorRef): string | undefined {
  const lhs = st.lhs.map(bare);
  const body = st.parts[0];
  const product = factors(body.kind === 'reduce' && body.op === 'sum' ? body.body : body);
  if (product === undefined || lhs.some((i) => i === undefined) || st.ranges.size > LETTERS.length) return undefined;
  if (body.kind === 'reduce' && !body.indices.every((i) => !lhs.includes(i))) return undefined;
  const letter = new Map([...st.ranges.keys()].map((name, k) => [name, LETTERS[k]]));
  const terms: string[] = [];
  for (const f of product) {
    const names = f.indices.map(bare);
    const shape = tensor(f.tensor).shape;
    // Every axis read whole: no offsets, no reads past the end (they would be zeros).
    if (names.some((n, k) => n === undefined || st.ranges.get(n)!.extent !== shape[k])) return undefined;
    terms.push(names.map((n) => letter.get(n!)!).join(''));
  }
  const out = lhs.map((n) => letter.get(n!)!).join('');
  // One factor, each index once, nothing summed: a permutation of the axes.
  if (product.length === 1 && new Set(terms[0]).size === terms[0].length && terms[0].length === out.length) {
    return `${tensor(product[0].tensor).text}.permute(${[...out].map((c) => terms[0].indexOf(c)).join(', ')})`;
  }
  const spec = `${terms.join(',')}->${out}`;
  return `torch.einsum("${spec}", ${product.map((f) => tensor(f.tensor).text).join(', ')})`;
}

/** `stride·x + dilation·Δ + offset` over one left index x and one reduced index Δ. */
function windowAxis(ix: CheckedIndex, x: string, reduced: readonly string[]): { stride: number; dilation: number; offset: number; delta: string } | undefined {
  if (ix.kind !== 'affine' || ix.terms.length !== 2) return undefined;
  const a = (ix as AffineIndex).terms.find((t) => t.index === x);
  const d = (ix as AffineIndex).terms.find((t) => reduced.includes(t.index));
  if (a === undefined || d === undefined || a.coef < 1 || d.coef < 1 || ix.offset > 0) return undefined;
  return { stride: a.coef, dilation: d.coef, offset: ix.offset, delta: d.index };
}

/**
 * F.max_poolNd (min as −max of −x) or F.avg_poolNd (sum as the average times the window size) of
 * X[b, s·x + d·Δ − p, …, c] over the Δs: batch first, channels last, reads past the ends ignored
 * (max, min) or zero (mean, sum, counted in the window as einnet's mean counts them).
 */
function pooling(st: CheckedStatement, tensor: TensorRef): string | undefined {
  const body = st.parts[0];
  if (body.kind !== 'reduce' || body.body.kind !== 'access') return undefined;
  const op = body.op;
  const read = body.body;
  const lhs = st.lhs.map(bare);
  const n = lhs.length - 2;
  if (n < 1 || n > 3 || read.indices.length !== lhs.length || lhs.some((i) => i === undefined)) return undefined;
  if (bare(read.indices[0]) !== lhs[0] || bare(read.indices[n + 1]) !== lhs[n + 1]) return undefined;
  const axes = read.indices.slice(1, n + 1).map((ix, k) => windowAxis(ix, lhs[k + 1]!, body.indices));
  if (axes.some((a) => a === undefined) || new Set(axes.map((a) => a!.delta)).size !== n || body.indices.length !== n) return undefined;
  const input = tensor(read.tensor);
  const window = axes.map((a) => st.ranges.get(a!.delta)!.extent);
  const padding = axes.map((a) => -a!.offset);
  const strides = axes.map((a) => a!.stride);
  const dilations = axes.map((a) => a!.dilation);
  const average = op === 'mean' || op === 'sum';
  if (average && dilations.some((d) => d !== 1)) return undefined;
  if (padding.some((p, k) => 2 * p > window[k])) return undefined;
  // PyTorch's output must cover the left side's extents (extra trailing outputs are cut off).
  const torchExtents = axes.map((_, k) => Math.floor((input.shape[k + 1] + 2 * padding[k] - dilations[k] * (window[k] - 1) - 1) / strides[k]) + 1);
  if (torchExtents.some((e, k) => e < st.shape[k + 1])) return undefined;
  const same = (xs: readonly number[]) => (xs.every((v) => v === xs[0]) ? String(xs[0]) : pyTuple(xs));
  const args = [`${same(window)}`, `${same(strides)}`];
  if (padding.some((p) => p !== 0)) args.push(`padding=${same(padding)}`);
  if (dilations.some((d) => d !== 1)) args.push(`dilation=${same(dilations)}`);
  const perm = [0, n + 1, ...Array.from({ length: n }, (_, k) => k + 1)];
  const back = [0, ...Array.from({ length: n }, (_, k) => k + 2), 1];
  const x = op === 'min' ? `(-${input.text})` : input.text;
  let y = `F.${average ? 'avg' : 'max'}_pool${n}d(${x}.permute(${perm.join(', ')}), ${args.join(', ')}).permute(${back.join(', ')})`;
  const cut = torchExtents.some((e, k) => e > st.shape[k + 1]);
  if (cut)
    y = `${y}[:, ${st.shape
      .slice(1, n + 1)
      .map((e) => `:${e}`)
      .join(', ')}]`;
  if (op === 'min') y = `-${y}`;
  if (op === 'sum') y = `${y} * ${window.reduce((a, b) => a * b, 1)}`;
  return y;
}

/**
 * Nearest-neighbour upsampling, `U[b, x, y, c] = X[b, x/2, y/2, c]`: `repeat_interleave` along
 * each axis read at x/f (cut to the left side's extent), the other axes read as they are.
 */
function upsampling(st: CheckedStatement, tensor: TensorRef): string | undefined {
  const read = st.parts[0];
  const lhs = st.lhs.map(bare);
  if (read.kind !== 'access' || read.indices.length !== lhs.length || lhs.some((i) => i === undefined)) return undefined;
  const input = tensor(read.tensor);
  let y = input.text;
  let repeated = false;
  const cuts: string[] = [];
  for (const [k, ix] of read.indices.entries()) {
    const extent = st.shape[k];
    if (bare(ix) === lhs[k] && extent === input.shape[k]) {
      cuts.push(':');
      continue;
    }
    if (ix.kind !== 'floordiv' || bare(ix.arg) !== lhs[k] || extent > input.shape[k] * ix.divisor) return undefined;
    y = `${y}.repeat_interleave(${ix.divisor}, dim=${k})`;
    repeated = true;
    cuts.push(extent === input.shape[k] * ix.divisor ? ':' : `:${extent}`);
  }
  while (cuts.length > 0 && cuts[cuts.length - 1] === ':') cuts.pop();
  if (!repeated) return undefined;
  return cuts.length === 0 ? y : `${y}[${cuts.join(', ')}]`;
}

/** The PyTorch text of a whole statement where one call says it, else undefined. */
export function statementText(st: CheckedStatement, tensor: TensorRef): string | undefined {
  if (st.scatter || st.parts.length !== 1) return undefined;
  return pooling(st, tensor) ?? einsum(st, tensor) ?? upsampling(st, tensor);
}
