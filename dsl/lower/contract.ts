/**
 * Sums of products: `Σ_R f₁·f₂·…·fₙ` lowered to pairwise contractions, each a transpose +
 * reshape + matMul (batched where both factors share a kept index). Never tf.einsum: tfjs has
 * no gradient for it. The pair contracted first is the one with the smallest result, the usual
 * greedy order.
 */
import { sizeOf } from './plan';
import type { NamedValue, PlanBuilder } from './builder';

/**
 * Contracts `factors` summing the indices in `reduced` (each must appear only in these factors).
 * Masks must already be resolved by the caller.
 */
export function contract(b: PlanBuilder, factors: readonly NamedValue[], reduced: readonly string[]): NamedValue {
  let items = [...factors];
  const isReduced = (a: string) => reduced.includes(a);
  // An index summed that appears in one factor only is summed there first.
  const sumLonely = (list: NamedValue[]) =>
    list.map((f, k) => {
      const lonely = f.axes.filter((a) => isReduced(a) && !list.some((g, j) => j !== k && g.axes.includes(a)));
      return lonely.length ? b.reduceNamed('sum', f, lonely) : f;
    });
  items = sumLonely(items);
  while (items.length > 1) {
    let best: { i: number; j: number; size: number } | undefined;
    for (let i = 0; i < items.length; i++) {
      for (let j = i + 1; j < items.length; j++) {
        const size = resultSize(items, i, j, isReduced);
        if (best === undefined || size < best.size) best = { i, j, size };
      }
    }
    const { i, j } = best!;
    const rest = items.filter((_, k) => k !== i && k !== j);
    const keep = (a: string) => !isReduced(a) || rest.some((f) => f.axes.includes(a));
    const merged = contractPair(b, items[i], items[j], keep);
    items = sumLonely([merged, ...rest]);
  }
  const last = items[0];
  return b.reduceNamed('sum', last, last.axes.filter(isReduced));
}

function resultSize(items: readonly NamedValue[], i: number, j: number, isReduced: (a: string) => boolean): number {
  const rest = items.filter((_, k) => k !== i && k !== j);
  const axes = new Map<string, number>();
  for (const f of [items[i], items[j]]) f.axes.forEach((a, k) => axes.set(a, f.shape[k]));
  let size = 1;
  for (const [a, d] of axes) if (!isReduced(a) || rest.some((f) => f.axes.includes(a))) size *= d;
  return size;
}

/** Contracts two values over their shared indices that `keep` does not keep. */
export function contractPair(b: PlanBuilder, x: NamedValue, y: NamedValue, keep: (a: string) => boolean): NamedValue {
  const shared = x.axes.filter((a) => y.axes.includes(a));
  const batch = shared.filter(keep);
  const summed = shared.filter((a) => !keep(a));
  const freeX = x.axes.filter((a) => !shared.includes(a));
  const freeY = y.axes.filter((a) => !shared.includes(a));
  const ext = (a: string) => (x.axes.includes(a) ? x.shape[x.axes.indexOf(a)] : y.shape[y.axes.indexOf(a)]);
  if (summed.length === 0) {
    // Nothing to sum: a broadcast multiply is cheaper than a matMul with K = 1.
    const axes = [...batch, ...freeX, ...freeY];
    const step = b.binary('mul', b.broadcastable(x, axes), b.broadcastable(y, axes));
    return { step, axes, shape: b.shapeOf(step), zeroWhereMasked: true };
  }
  const B = sizeOf(batch.map(ext));
  const M = sizeOf(freeX.map(ext));
  const K = sizeOf(summed.map(ext));
  const N = sizeOf(freeY.map(ext));
  const px = b.permute(x, [...batch, ...freeX, ...summed]);
  const py = b.permute(y, [...batch, ...summed, ...freeY]);
  const batched = batch.length > 0;
  const ax = b.reshape(px.step, batched ? [B, M, K] : [M, K]);
  const ay = b.reshape(py.step, batched ? [B, K, N] : [K, N]);
  const product = b.matMul(ax, ay, batched ? [B, M, N] : [M, N]);
  const axes = [...batch, ...freeX, ...freeY];
  const step = b.reshape(product, axes.map(ext));
  return { step, axes, shape: b.shapeOf(step), zeroWhereMasked: true };
}
