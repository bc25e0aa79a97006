/**
 * Sums of products: `Σ_R f₁·f₂·…·fₙ` lowered to pairwise contractions, each a transpose +
 * reshape + matMul (batched where both factors share a kept index). Never tf.einsum: tfjs has
 * no gradient for it. The pair contracted first is the one with the smallest result, the usual
 * greedy order.
 */
import { sizeOf } from '../../core/layout';
import type { NamedValue, PlanBuilder } from './builder';

/**
 * Contracts `factors` summing the indices in `reduced` (each must appear only in these factors).
 * Masks must already be resolved by the caller.
 */
export function contract(b: PlanBuilder, factors: readonly NamedValue[], reduced: readonly string[], preferred: readonly string[] = []): NamedValue {
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
    const merged = contractPair(b, items[i], items[j], keep, preferred);
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

/**
 * Contracts two values over their shared indices that `keep` does not keep. `preferred` is the
 * order the result's axes should come in (the left-hand side's), so that no transpose follows.
 */
export function contractPair(b: PlanBuilder, x: NamedValue, y: NamedValue, keep: (a: string) => boolean, preferred: readonly string[] = []): NamedValue {
  const shared = x.axes.filter((a) => y.axes.includes(a));
  const summed = shared.filter((a) => !keep(a));
  const ext = (a: string) => (x.axes.includes(a) ? x.shape[x.axes.indexOf(a)] : y.shape[y.axes.indexOf(a)]);
  if (summed.length === 0) {
    // Nothing to sum: a broadcast multiply is cheaper than a matMul with K = 1.
    const batch = shared;
    const axes = [...batch, ...x.axes.filter((a) => !shared.includes(a)), ...y.axes.filter((a) => !shared.includes(a))];
    const step = b.binary('mul', b.broadcastable(x, axes), b.broadcastable(y, axes));
    return { step, axes, shape: b.shapeOf(step), zeroWhereMasked: true };
  }
  // Choose which operand goes left and whose order the shared axes follow so that as few
  // elements as possible are transposed; matMul's transpose flags absorb [K, M] / [N, K] layouts.
  let best: { cost: number; lay: () => NamedValue } | undefined;
  for (const [left, right] of [
    [x, y],
    [y, x],
  ] as const) {
    for (const source of [left, right]) {
      const batch = source.axes.filter((a) => shared.includes(a) && keep(a));
      const sum = source.axes.filter((a) => summed.includes(a));
      const freeL = left.axes.filter((a) => !shared.includes(a));
      const freeR = right.axes.filter((a) => !shared.includes(a));
      const same = (v: NamedValue, order: readonly string[]) => v.axes.length === order.length && v.axes.every((a, k) => a === order[k]);
      const lPlain = same(left, [...batch, ...freeL, ...sum]);
      const lFlip = !lPlain && same(left, [...batch, ...sum, ...freeL]);
      const rPlain = same(right, [...batch, ...sum, ...freeR]);
      const rFlip = !rPlain && same(right, [...batch, ...freeR, ...sum]);
      const out = [...batch, ...freeL, ...freeR].filter((a) => preferred.includes(a));
      const outOrdered = out.every((a, k) => k === 0 || preferred.indexOf(a) > preferred.indexOf(out[k - 1]));
      const outSize = sizeOf([...batch, ...freeL, ...freeR].map(ext));
      const cost = (lPlain || lFlip ? 0 : sizeOf(left.shape)) + (rPlain || rFlip ? 0 : sizeOf(right.shape)) + (outOrdered ? 0 : outSize);
      if (best !== undefined && cost >= best.cost) continue;
      best = {
        cost,
        lay: () => {
          const B = sizeOf(batch.map(ext));
          const M = sizeOf(freeL.map(ext));
          const K = sizeOf(sum.map(ext));
          const N = sizeOf(freeR.map(ext));
          const batched = batch.length > 0;
          const shape3 = (p: number, q: number) => (batched ? [B, p, q] : [p, q]);
          const l = lFlip ? left.step : b.permute(left, [...batch, ...freeL, ...sum]).step;
          const r = rFlip ? right.step : b.permute(right, [...batch, ...sum, ...freeR]).step;
          const product = b.matMul(
            b.reshape(l, lFlip ? shape3(K, M) : shape3(M, K)),
            b.reshape(r, rFlip ? shape3(N, K) : shape3(K, N)),
            shape3(M, N),
            lFlip,
            rFlip,
          );
          const axes = [...batch, ...freeL, ...freeR];
          const step = b.reshape(product, axes.map(ext));
          return { step, axes, shape: b.shapeOf(step), zeroWhereMasked: true };
        },
      };
    }
  }
  return best!.lay();
}
