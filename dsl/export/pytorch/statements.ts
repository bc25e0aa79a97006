/**
 * Whole statements as the one PyTorch call a person would write, where the plan spells them out
 * step by step: a product of plain reads summed Einstein-style is `torch.einsum`; a max, min,
 * mean or sum over windows of a channels-last tensor (1-, 2- or 3-D, stride, dilation, padding)
 * is F.max_poolNd / F.avg_poolNd; a read at x/f is `repeat_interleave`; a scatter of a product is
 * F.conv_transposeNd. Anything else is left to the plan's steps (undefined).
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

/**
 * A transposed convolution, `T[b, s·x + d·Δ, …, j] = W[Δ, …, I, j]·L[b, x, …, I]` (the batch and
 * both channel axes optional), as F.conv_transposeNd on channels-first views; the left side's
 * extents must be the full output's, (n − 1)·s + d·(k − 1) + 1.
 */
function transposedConv(st: CheckedStatement, tensor: TensorRef): string | undefined {
  const body = st.parts[0];
  const product = factors(body.kind === 'reduce' && body.op === 'sum' ? body.body : body);
  if (product === undefined || product.length !== 2) return undefined;
  const reduced = body.kind === 'reduce' ? body.indices : [];
  const lhsBare = st.lhs.map(bare);
  const batch = lhsBare[0];
  const hasBatch = batch !== undefined;
  const out = lhsBare[lhsBare.length - 1];
  const hasOut = out !== undefined && st.lhs.length > 1;
  const spatialLhs = st.lhs.slice(hasBatch ? 1 : 0, hasOut ? -1 : undefined);
  const n = spatialLhs.length;
  if (n < 1 || n > 3 || reduced.length > 1) return undefined;
  const inC = reduced[0];
  const names = (f: (typeof product)[number]) => f.indices.map(bare);
  const same = (got: readonly (string | undefined)[], want: readonly (string | undefined)[]) =>
    got.length === want.length && got.every((g, k) => g !== undefined && g === want[k]);
  const opt = (name: string | undefined, present: boolean) => (present && name !== undefined ? [name] : []);
  // Either factor may be the input: x is the term of each left axis that the input is read at.
  const layouts = [product, [product[1], product[0]]].map(([l, w]) => {
    const axes = spatialLhs.map((ix) => {
      if (ix.kind !== 'affine' || ix.offset !== 0 || ix.terms.length !== 2) return undefined;
      const at = ix.terms.find((t) => names(l).includes(t.index));
      const delta = ix.terms.find((t) => t !== at);
      return at && delta ? { x: at.index, stride: at.coef, delta: delta.index, dilation: delta.coef } : undefined;
    });
    if (axes.some((a) => a === undefined)) return undefined;
    const lWant = [...opt(batch, hasBatch), ...axes.map((a) => a!.x), ...opt(inC, inC !== undefined)];
    const wWant = [...axes.map((a) => a!.delta), ...opt(inC, inC !== undefined), ...opt(out, hasOut)];
    return same(names(l), lWant) && same(names(w), wWant) ? { l, w, axes: axes.map((a) => a!), lWant, wWant } : undefined;
  });
  // The reading where the filter is not dilated is the one a person writes (the other is valid too: convolution commutes).
  const layout = layouts.find((x) => x !== undefined && x.axes.every((a) => a.dilation === 1)) ?? layouts.find((x) => x !== undefined);
  if (layout === undefined) return undefined;
  const { l, w, axes, lWant, wWant } = layout;
  const input = tensor(l.tensor);
  const weight = tensor(w.tensor);
  const whole = (want: readonly (string | undefined)[], shape: readonly number[]) => want.every((name, k) => st.ranges.get(name!)?.extent === shape[k]);
  if (!whole(lWant, input.shape) || !whole(wWant, weight.shape)) return undefined;
  const expected = axes.map((a, k) => (input.shape[lWant.indexOf(a.x)] - 1) * a.stride + a.dilation * (weight.shape[k] - 1) + 1);
  const extentsAt = st.shape.slice(hasBatch ? 1 : 0, hasBatch ? n + 1 : n);
  if (expected.some((e, k) => e !== extentsAt[k])) return undefined;
  const spatial = Array.from({ length: n }, (_, k) => k);
  const first = `${spatial.map((k) => k + 1).join(', ')}`;
  const x =
    inC === undefined
      ? hasBatch
        ? `${input.text}.unsqueeze(1)`
        : `${input.text}[None, None]`
      : `${input.text}${hasBatch ? '' : '.unsqueeze(0)'}.permute(0, ${n + 1}, ${first})`;
  const k =
    inC === undefined && !hasOut
      ? `${weight.text}[None, None]`
      : `${weight.text}${inC === undefined ? `.unsqueeze(${n})` : ''}${hasOut ? '' : '.unsqueeze(-1)'}.permute(${n}, ${n + 1}, ${spatial.join(', ')})`;
  const perAxis = (vs: readonly number[]) => (vs.every((v) => v === vs[0]) ? String(vs[0]) : pyTuple(vs));
  const args = [x, k];
  const strides = axes.map((a) => a.stride);
  const dilations = axes.map((a) => a.dilation);
  if (strides.some((v) => v !== 1)) args.push(`stride=${perAxis(strides)}`);
  if (dilations.some((v) => v !== 1)) args.push(`dilation=${perAxis(dilations)}`);
  const y = `F.conv_transpose${n}d(${args.join(', ')})`;
  if (!hasOut) return hasBatch ? `${y}[:, 0]` : `${y}[0, 0]`;
  return `${y}.permute(0, ${spatial.map((k) => k + 2).join(', ')}, 1)${hasBatch ? '' : '[0]'}`;
}

/** The index names of a composite `(g, i)` of bare parts, else undefined. */
function compositeParts(ix: CheckedIndex | LhsIndex): string[] | undefined {
  if (ix.kind !== 'composite') return undefined;
  const names = ix.parts.map(bare);
  return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}

/**
 * A grouped convolution through composites, `Y[b, x, …, (g,j)] = W[Δ, …, g, i, j]·X[b, s·x + d·Δ − p, …, (g,i)]`
 * (1- to 3-D, channels last), as one F.convNd with `groups`: the filter [k…, G, I, J] becomes
 * PyTorch's [G·J, I, k…]. The output extents must be PyTorch's for the symmetric padding p.
 */
function groupedConv(st: CheckedStatement, tensor: TensorRef): string | undefined {
  const body = st.parts[0];
  const product = body.kind === 'reduce' && body.op === 'sum' ? factors(body.body) : undefined;
  const reduced = body.kind === 'reduce' ? body.indices : [];
  if (product === undefined || product.length !== 2) return undefined;
  const n = st.lhs.length - 2;
  const batch = bare(st.lhs[0]);
  const outParts = compositeParts(st.lhs[n + 1]);
  if (n < 1 || n > 3 || batch === undefined || outParts?.length !== 2 || st.lhs.slice(1, n + 1).some((ix) => bare(ix) === undefined)) return undefined;
  const [g, j] = outParts;
  const xs = st.lhs.slice(1, n + 1).map((ix) => bare(ix)!);
  const [read, filter] = compositeParts(product[0].indices[n + 1] ?? product[0].indices[0]) ? product : [product[1], product[0]];
  const inParts = compositeParts(read.indices[n + 1]);
  if (read.indices.length !== n + 2 || bare(read.indices[0]) !== batch || inParts?.length !== 2 || inParts[0] !== g) return undefined;
  const i = inParts[1];
  const axes = read.indices.slice(1, n + 1).map((ix, k) => windowAxis(ix, xs[k], reduced));
  if (axes.some((a) => a === undefined)) return undefined;
  const want = [...axes.map((a) => a!.delta), g, i, j];
  if (filter.indices.length !== want.length || filter.indices.some((ix, k) => bare(ix) !== want[k])) return undefined;
  const image = tensor(read.tensor);
  const weight = tensor(filter.tensor);
  if (want.some((name, k) => st.ranges.get(name)?.extent !== weight.shape[k])) return undefined;
  const [groups, perGroupIn, perGroupOut] = weight.shape.slice(n);
  if (image.shape[n + 1] !== groups * perGroupIn || st.shape[n + 1] !== groups * perGroupOut) return undefined;
  const padding = axes.map((a) => -a!.offset);
  const window = weight.shape.slice(0, n);
  const extents = axes.map((a, k) => Math.floor((image.shape[k + 1] + 2 * padding[k] - a!.dilation * (window[k] - 1) - 1) / a!.stride) + 1);
  if (extents.some((e, k) => e !== st.shape[k + 1])) return undefined;
  const spatial = Array.from({ length: n }, (_, k) => k);
  const perAxis = (vs: readonly number[]) => (vs.every((v) => v === vs[0]) ? String(vs[0]) : pyTuple(vs));
  const w = `${weight.text}.permute(${n}, ${n + 2}, ${n + 1}, ${spatial.join(', ')}).reshape(${pyTuple([groups * perGroupOut, perGroupIn, ...window])})`;
  const args = [`${image.text}.permute(0, ${n + 1}, ${spatial.map((k) => k + 1).join(', ')})`, w];
  const strides = axes.map((a) => a!.stride);
  const dilations = axes.map((a) => a!.dilation);
  if (strides.some((v) => v !== 1)) args.push(`stride=${perAxis(strides)}`);
  if (padding.some((v) => v !== 0)) args.push(`padding=${perAxis(padding)}`);
  if (dilations.some((v) => v !== 1)) args.push(`dilation=${perAxis(dilations)}`);
  args.push(`groups=${groups}`);
  return `F.conv${n}d(${args.join(', ')}).permute(0, ${spatial.map((k) => k + 2).join(', ')}, 1)`;
}

/** The PyTorch text of a whole statement where one call says it, else undefined. */
export function statementText(st: CheckedStatement, tensor: TensorRef): string | undefined {
  if (st.parts.length !== 1) return undefined;
  if (st.scatter) return transposedConv(st, tensor);
  return pooling(st, tensor) ?? einsum(st, tensor) ?? upsampling(st, tensor) ?? groupedConv(st, tensor);
}
