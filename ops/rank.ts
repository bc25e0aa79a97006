/**
 * XNNPACK, under tfjs' wasm backend, refuses tensors of rank > 6 in elementwise ops, reductions
 * and broadcasts: it logs "XNN status … 4" and leaves zeros (measured, tfjs 4.22). The generic
 * route builds such tensors (a 3-D window has six index axes plus batch and channel), so these
 * wrappers fold neighbouring axes that behave alike into one before calling tfjs, and unfold
 * after. Reshapes are free and differentiable; below rank 7 nothing changes.
 */
import * as tf from '@tensorflow/tfjs';
import { maxPadRank, maxSelectRank, maxTransposeRank } from '../backends/capabilities';

// Bound once (backends/engine-internals.ts says why).
const { broadcastTo, clone, concat, gather, pad, reshape, reverse, slice, tensor1d, tidy, tile, transpose, where } = tf;

const MAX_RANK = 6;

/** Groups of consecutive axes whose `kind` is the same; returns the group sizes' products. */
function fold(kinds: readonly string[], shapes: readonly (readonly number[])[]): { groups: number[][]; shapes: number[][] } {
  const groups: number[][] = [];
  kinds.forEach((kind, k) => {
    const last = groups[groups.length - 1];
    if (last !== undefined && kinds[last[0]] === kind) last.push(k);
    else groups.push([k]);
  });
  return { groups, shapes: shapes.map((s) => groups.map((g) => g.reduce((acc, k) => acc * s[k], 1))) };
}

function padRank(shape: readonly number[], rank: number): number[] {
  return [...Array(rank - shape.length).fill(1), ...shape];
}

/** An elementwise unary op at any rank: flat above the limit. */
export function unaryAnyRank(op: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (x.rank <= MAX_RANK) return op(x);
  return reshape(op(reshape(x, [-1])), x.shape);
}

/** A broadcasting binary op at any rank. */
export function binaryAnyRank(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const rank = Math.max(a.rank, b.rank);
  if (rank <= MAX_RANK) return op(a, b);
  const sa = padRank(a.shape, rank);
  const sb = padRank(b.shape, rank);
  const out = sa.map((d, k) => Math.max(d, sb[k]));
  const kinds = sa.map((d, k) => `${d === 1 && out[k] !== 1 ? 'a1' : ''}${sb[k] === 1 && out[k] !== 1 ? 'b1' : ''}`);
  const f = fold(kinds, [sa, sb]);
  if (f.groups.length > MAX_RANK) return op(a, b);
  return reshape(op(reshape(a, f.shapes[0]), reshape(b, f.shapes[1])), out);
}

/** tf.where on tensors of one shape, at any rank (webgl's and webgpu's Select stop at rank 4). */
export function whereAnyRank(mask: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank <= Math.min(MAX_RANK, maxSelectRank())) return where(mask, a, b);
  return reshape(where(reshape(mask, [-1]), reshape(a, [-1]), reshape(b, [-1])), a.shape);
}

/** A reduction over `axes` at any rank. */
export function reduceAnyRank(op: (x: tf.Tensor, axes: number[]) => tf.Tensor, x: tf.Tensor, axes: readonly number[]): tf.Tensor {
  if (x.rank <= MAX_RANK) return op(x, [...axes]);
  const f = fold(
    x.shape.map((_, k) => (axes.includes(k) ? 'r' : 'k')),
    [x.shape],
  );
  const reduced = f.groups.map((g, k) => (axes.includes(g[0]) ? k : -1)).filter((k) => k >= 0);
  const outShape = x.shape.filter((_, k) => !axes.includes(k));
  return reshape(op(reshape(x, f.shapes[0]), reduced), outShape);
}

/** tf.broadcastTo at any rank. */
export function broadcastAnyRank(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (shape.length <= MAX_RANK) return broadcastTo(x, [...shape]);
  const sx = padRank(x.shape, shape.length);
  const f = fold(
    sx.map((d, k) => (d === 1 && shape[k] !== 1 ? 'b' : 'f')),
    [sx, shape],
  );
  return reshape(broadcastTo(reshape(x, f.shapes[0]), f.shapes[1]), [...shape]);
}

/**
 * tf.slice with the untouched neighbouring axes folded together. Besides the rank limit, the wasm
 * backend slices low-rank tensors far faster (a rank-5 strided read: 137 ms vs 14 ms measured).
 */
export function sliceFolded(x: tf.Tensor, begin: readonly number[], size: readonly number[]): tf.Tensor {
  const kinds = x.shape.map((d, k) => (begin[k] === 0 && size[k] === d ? 'full' : `cut${k}`));
  const f = fold(kinds, [x.shape, size]);
  if (f.groups.length === x.rank) return slice(x, [...begin], [...size]);
  const foldedBegin = f.groups.map((g) => (g.length === 1 ? begin[g[0]] : 0));
  return reshape(slice(reshape(x, f.shapes[0]), foldedBegin, f.shapes[1]), [...size]);
}

/**
 * Pads `axis` as a boundary mode reads past the ends: clamp repeats the edge, wrap continues
 * from the other end, reflect mirrors without repeating the edge (docs/language.md §5). Built from
 * slices, tiles, reverses and concat, whose gradients are right on every backend (tf.mirrorPad's
 * gradient only crops, dropping what the mirrored copies contributed: measured, tfjs 4.22).
 */
export function boundaryPad(x: tf.Tensor, axis: number, before: number, after: number, mode: 'clamp' | 'wrap' | 'reflect'): tf.Tensor {
  const n = x.shape[axis];
  const part = (begin: number, size: number) =>
    sliceFolded(
      x,
      x.shape.map((_, k) => (k === axis ? begin : 0)),
      x.shape.map((d, k) => (k === axis ? size : d)),
    );
  const repeat = (t: tf.Tensor, times: number) =>
    tile(
      t,
      t.shape.map((_, k) => (k === axis ? times : 1)),
    );
  const mirror = (t: tf.Tensor) => reverse(t, [axis]);
  const pieces: tf.Tensor[] = [];
  if (before > 0) pieces.push(mode === 'clamp' ? repeat(part(0, 1), before) : mode === 'wrap' ? part(n - before, before) : mirror(part(1, before)));
  pieces.push(x);
  if (after > 0) pieces.push(mode === 'clamp' ? repeat(part(n - 1, 1), after) : mode === 'wrap' ? part(0, after) : mirror(part(n - 1 - after, after)));
  return concat(pieces, axis);
}

/**
 * tf.transpose at any rank: extent-1 axes are dropped and axes that stay neighbours, in order, move
 * as one (webgl and webgpu have no transpose above rank 6); what still has more than 6 axes is a
 * gather of the flat tensor by host-computed positions. Unchanged within the backend's limit.
 */
export function transposeAnyRank(x: tf.Tensor, perm: readonly number[]): tf.Tensor {
  if (x.rank <= maxTransposeRank()) return transpose(x, [...perm]);
  const outShape = perm.map((a) => x.shape[a]);
  const kept = perm.filter((a) => x.shape[a] !== 1);
  const runs: number[][] = [];
  for (const a of kept) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[last.length - 1] < a && !kept.some((b) => b > last[last.length - 1] && b < a)) last.push(a);
    else runs.push([a]);
  }
  const bySource = [...runs].sort((r, s) => r[0] - s[0]);
  const folded = bySource.map((r) => r.reduce((acc, a) => acc * x.shape[a], 1));
  if (folded.length <= MAX_RANK)
    return reshape(
      transpose(
        reshape(x, folded),
        runs.map((r) => bySource.indexOf(r)),
      ),
      outShape,
    );
  return tidy(() => reshape(gather(reshape(x, [-1]), transposeIndex(x.shape, perm)), outShape));
}

/** For each element of transpose(x, perm), in row-major order, its flat position in x. */
function transposeIndex(shape: readonly number[], perm: readonly number[]): tf.Tensor1D {
  const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
  const outShape = perm.map((a) => shape[a]);
  const size = outShape.reduce((a, b) => a * b, 1);
  const index = new Int32Array(size);
  const at = outShape.map(() => 0);
  for (let i = 0; i < size; i++) {
    let flat = 0;
    for (let k = 0; k < perm.length; k++) flat += at[k] * strides[perm[k]];
    index[i] = flat;
    for (let k = perm.length - 1; k >= 0; k--) {
      if (++at[k] < outShape[k]) break;
      at[k] = 0;
    }
  }
  return tensor1d(index, 'int32');
}

/**
 * tf.pad at any rank: above the backend's limit (webgl's packed pad is wrong at rank 5), one axis
 * at a time on a rank-3 view [before, axis, after]. Exact; unchanged within the limit. Like tf.pad,
 * a new tensor even where nothing is padded.
 */
export function padAnyRank(x: tf.Tensor, paddings: readonly (readonly [number, number])[], value = 0): tf.Tensor {
  if (x.rank <= maxPadRank())
    return pad(
      x,
      paddings.map(([a, b]) => [a, b] as [number, number]),
      value,
    );
  let y = x;
  paddings.forEach(([a, b], axis) => {
    if (a === 0 && b === 0) return;
    const shape = y.shape;
    const before = shape.slice(0, axis).reduce((p, d) => p * d, 1);
    const after = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    const padded = pad(
      reshape(y, [before, shape[axis], after]),
      [
        [0, 0],
        [a, b],
        [0, 0],
      ],
      value,
    );
    y = reshape(
      padded,
      shape.map((d, k) => (k === axis ? d + a + b : d)),
    );
  });
  return y === x ? clone(x) : y;
}
