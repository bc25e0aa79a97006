/**
 * The convolution route: `Σ image[…, s·u + d·v + p, …] · kernel[…, v, …]` lowered to one tfjs
 * conv1d/2d/3d or depthwiseConv2d. Index roles are read off the names, not positions:
 *
 *   image axis  s·u + d·v + p   a window: u is an output index (stride s), v a kernel index
 *                               (dilation d; d < 0 flips the kernel)
 *   image axis  bare, not in kernel, kept       → batch
 *   image axis  bare, in kernel, summed         → input channel
 *   image axis  bare, in kernel, kept           → depthwise channel
 *   kernel axis bare, not in image, kept        → output channel (depthwise: multiplier)
 *
 * Several indices of one role merge into one axis by transpose + reshape, so the same route
 * serves `dW[v,c,o] = dY[n,u,o] · X[n,s·u+d·v,c]` (the filter gradient: batch and channel roles
 * swap) and `dX[n,q,c] = dY[n,q-d·v,o] · W[v,c,o]` (the input gradient: a flipped kernel).
 * Offsets become the conv's explicit padding (or a crop); zero padding is exactly the dropping of
 * out-of-range terms a sum does (LANGUAGE.md §6).
 */
import type { AffineIndex, CheckedExpr, CheckedIndex } from '../../check/checked';
import type { NamedValue } from '../builder';
import { productFactors, type ExprContext } from '../expr';
import { sizeOf } from '../plan';
import { deriveConvBackward } from './conv-backward';

type Access = CheckedExpr & { kind: 'access' };

interface Window {
  readonly axis: number;
  readonly out: string;
  readonly kernel: string;
  readonly stride: number;
  readonly dilation: number;
  readonly offset: number;
}

/** Why the route did not apply, for explain(). */
class NotConv {
  constructor(readonly reason: string) {}
}

function bare(ix: CheckedIndex): string | undefined {
  return ix.kind === 'affine' && ix.terms.length === 1 && ix.terms[0].coef === 1 && ix.offset === 0 ? ix.terms[0].index : undefined;
}

export function tryConvRoute(ctx: ExprContext, e: CheckedExpr & { kind: 'reduce' }): NamedValue | undefined {
  const plan = convPlan(ctx, e, true);
  return plan === undefined ? undefined : emitConv(ctx, plan, {});
}

function convPlan(ctx: ExprContext, e: CheckedExpr, explainWhyNot: boolean): ConvPlan | undefined {
  if (e.kind !== 'reduce' || e.op !== 'sum') return undefined;
  const factors = productFactors(e.body);
  if (factors.length !== 2 || factors.some((f) => f.kind !== 'access')) return undefined;
  const [a, b] = factors as Access[];
  const attempts = [analyse(ctx, a, b, e.indices), analyse(ctx, b, a, e.indices)];
  const plan = attempts.find((x): x is ConvPlan => !(x instanceof NotConv));
  if (plan === undefined && explainWhyNot) {
    const reasons = attempts.map((x) => (x as NotConv).reason);
    if (attempts.some((x) => (x as NotConv).reason !== 'no window axis')) {
      ctx.routes.push(`conv route not taken: ${[...new Set(reasons)].join('; ')}`);
    }
  }
  return plan;
}

/** What a fused conv adds after the convolution: a bias over its output channels, an activation. */
export interface ConvEpilogue {
  readonly bias?: Access;
  readonly activation?: 'relu' | 'sigmoid';
}

/**
 * `act(conv + B[channels])`, `conv + B[channels]` or `act(conv)` as one fused conv step
 * (tf.fused.conv2d where the backend computes its gradient, else conv, bias and activation with
 * the derived gradient). Only outside reductions, where no mask can reach the result.
 */
export function tryFusedConv(ctx: ExprContext, e: CheckedExpr): NamedValue | undefined {
  let activation: ConvEpilogue['activation'];
  let inner = e;
  if (e.kind === 'unary' && (e.fn === 'relu' || e.fn === 'sigmoid')) {
    activation = e.fn;
    inner = e.arg;
  }
  let sum: CheckedExpr = inner;
  let bias: Access | undefined;
  if (inner.kind === 'binary' && inner.fn === 'add') {
    const [l, r] = [inner.left, inner.right];
    if (l.kind === 'reduce' && r.kind === 'access') [sum, bias] = [l, r];
    else if (r.kind === 'reduce' && l.kind === 'access') [sum, bias] = [r, l];
    else return undefined;
  } else if (activation === undefined) return undefined;
  const plan = convPlan(ctx, sum, false);
  if (plan === undefined) return undefined;
  if (bias !== undefined) {
    // The bias must run over exactly the output channels, in their order.
    const channels = [...(plan.depthwise.length > 0 ? plan.depthwise : []), ...plan.outChannels];
    const names = bias.indices.map(bare);
    if (names.length !== channels.length || names.some((n, k) => n !== channels[k])) return undefined;
  }
  return emitConv(ctx, plan, { bias, activation });
}

interface ConvPlan {
  readonly image: Access;
  readonly kernel: Access;
  readonly windows: readonly Window[];
  readonly batch: readonly string[];
  readonly inChannels: readonly string[];
  readonly depthwise: readonly string[];
  readonly outChannels: readonly string[];
}

function analyse(ctx: ExprContext, image: Access, kernel: Access, reduced: readonly string[]): ConvPlan | NotConv {
  const isReduced = (n: string) => reduced.includes(n);
  const kernelNames = kernel.indices.map(bare);
  if (kernelNames.some((n) => n === undefined)) return new NotConv('the kernel is not read with plain indices');
  const kNames = kernelNames as string[];
  if (new Set(kNames).size !== kNames.length) return new NotConv('the kernel reads a diagonal');
  const windows: Window[] = [];
  const batch: string[] = [];
  const inChannels: string[] = [];
  const depthwise: string[] = [];
  const seen = new Set<string>();
  for (let axis = 0; axis < image.indices.length; axis++) {
    const ix = image.indices[axis];
    const name = bare(ix);
    if (name !== undefined) {
      if (seen.has(name)) return new NotConv('the image reads a diagonal');
      seen.add(name);
      const inKernel = kNames.includes(name);
      if (!inKernel && !isReduced(name)) batch.push(name);
      else if (inKernel && isReduced(name)) inChannels.push(name);
      else if (inKernel) depthwise.push(name);
      else return new NotConv(`index ${name} is summed over the image only`);
      continue;
    }
    if (ix.kind !== 'affine' || ix.terms.length !== 2) {
      return new NotConv(`image axis ${axis} is not a window s·u + d·v + p`);
    }
    const w = windowOf(axis, ix, kNames, isReduced);
    if (w === undefined) return new NotConv(`image axis ${axis} does not pair an output index with a kernel index`);
    if (seen.has(w.out) || seen.has(w.kernel)) return new NotConv('an index appears on two image axes');
    seen.add(w.out);
    seen.add(w.kernel);
    windows.push(w);
  }
  if (windows.length === 0) return new NotConv('no window axis');
  if (windows.length > 3) return new NotConv(`${windows.length} spatial axes (tfjs convolves at most 3)`);
  const outChannels = kNames.filter((n) => !seen.has(n));
  if (outChannels.some(isReduced)) return new NotConv('an index is summed over the kernel only');
  if (depthwise.length > 0 && inChannels.length > 0) return new NotConv('grouped: channels both summed and kept (no tfjs op; see the generic route)');
  if (depthwise.length > 0 && windows.length === 3) return new NotConv('depthwise 3-D convolution (no tfjs op)');
  if (windows.length === 3 && windows.some((w) => Math.abs(w.dilation) > 1)) return new NotConv('3-D convolution with dilation (not implemented by tfjs)');
  // Kernel extents must match the ranges of their indices (they do for bare reads of known shapes).
  const kShape = ctx.tensor(kernel.tensor).shape;
  for (const w of windows) {
    if (kShape[kNames.indexOf(w.kernel)] !== ctx.ranges.get(w.kernel)!.extent) return new NotConv('kernel extent differs from its index range');
  }
  return { image, kernel, windows, batch, inChannels, depthwise, outChannels };
}

function windowOf(axis: number, ix: AffineIndex, kNames: readonly string[], isReduced: (n: string) => boolean): Window | undefined {
  const [t1, t2] = ix.terms;
  const asWindow = (out: typeof t1, k: typeof t1): Window | undefined => {
    if (isReduced(out.index) || kNames.includes(out.index) || out.coef <= 0) return undefined;
    if (!isReduced(k.index) || !kNames.includes(k.index)) return undefined;
    return { axis, out: out.index, kernel: k.index, stride: out.coef, dilation: k.coef, offset: ix.offset };
  };
  return asWindow(t1, t2) ?? asWindow(t2, t1);
}

function emitConv(ctx: ExprContext, p: ConvPlan, epilogue: ConvEpilogue): NamedValue {
  const b = ctx.builder;
  const extent = (n: string) => ctx.ranges.get(n)!.extent;
  const img = ctx.tensor(p.image.tensor);
  const ker = ctx.tensor(p.kernel.tensor);
  const rank = p.windows.length;
  // A 1-D convolution runs as 2-D with a unit spatial axis (tfjs' conv1d does the same, and
  // has no depthwise form).
  const lift = rank === 1;

  // Image → [N, S₁…S_r, C].
  const imageAxes = p.image.indices.map((ix, k) => bare(ix) ?? `#w${k}`);
  const channelNames = p.depthwise.length > 0 ? p.depthwise : p.inChannels;
  const ordered = [...p.batch, ...p.windows.map((w) => `#w${w.axis}`), ...channelNames];
  let imageStep = b.permute(b.named(img.step, imageAxes), ordered).step;
  const N = sizeOf(p.batch.map(extent));
  const C = sizeOf(channelNames.map(extent));
  imageStep = b.reshape(imageStep, [N, ...p.windows.map((w) => img.shape[w.axis]), C]);

  // Position s·u + |d|·v' + offset (v' the possibly flipped kernel index) must be index s·u + |d|·v'
  // of the padded image: a negative offset is padding before, a positive one a crop (rare).
  // Elements past the last window are left in place; a longer output is sliced instead, which
  // is cheaper than cropping the input.
  const padding: [number, number][] = [];
  const crops: number[] = [];
  const convOut: number[] = [];
  p.windows.forEach((w) => {
    const kv = extent(w.kernel);
    const d = Math.abs(w.dilation);
    // Flipping the kernel (d < 0) turns offset p into p - d·(k-1).
    const offset = w.dilation < 0 ? w.offset - d * (kv - 1) : w.offset;
    const span = d * (kv - 1) + 1;
    const needed = w.stride * (extent(w.out) - 1) + span;
    const crop = Math.max(0, offset);
    const before = Math.max(0, -offset);
    const available = img.shape[w.axis] - crop;
    const after = Math.max(0, needed - before - available);
    crops.push(crop);
    padding.push([before, after]);
    convOut.push(Math.floor((before + available + after - span) / w.stride) + 1);
  });
  if (crops.some((c) => c > 0)) {
    const shape = b.shapeOf(imageStep);
    imageStep = b.slice(imageStep, shape.map((_, j) => (j >= 1 && j <= rank ? crops[j - 1] : 0)), shape.map((d, j) => (j >= 1 && j <= rank ? d - crops[j - 1] : d)));
  }

  // Kernel → [k₁…k_r, C, O] (depthwise: [k…, C, M]), flipped where the dilation is negative.
  const kernelAxes = p.kernel.indices.map((ix) => bare(ix)!);
  let kernelStep = b.permute(b.named(ker.step, kernelAxes), [...p.windows.map((w) => w.kernel), ...channelNames, ...p.outChannels]).step;
  const O = sizeOf(p.outChannels.map(extent));
  const kSpatial = p.windows.map((w) => extent(w.kernel));
  kernelStep = b.reshape(kernelStep, [...kSpatial, C, O]);
  const flips = p.windows.map((w, k) => (w.dilation < 0 ? k : -1)).filter((k) => k >= 0);
  if (flips.length > 0) kernelStep = b.emit({ op: 'reverse', axes: flips }, [kernelStep], b.shapeOf(kernelStep));

  const uShape = p.windows.map((w) => extent(w.out));
  const strides = p.windows.map((w) => w.stride);
  const dilations = p.windows.map((w) => Math.abs(w.dilation));
  let x = imageStep;
  let f = kernelStep;
  let stepRank = rank as 2 | 3;
  if (lift) {
    x = b.reshape(x, [N, 1, b.shapeOf(x)[1], C]);
    f = b.reshape(f, [1, kSpatial[0], C, O]);
    strides.unshift(1);
    dilations.unshift(1);
    padding.unshift([0, 0]);
    convOut.unshift(1);
    uShape.unshift(1);
    stepRank = 2;
  }
  const channelsOut = p.depthwise.length > 0 ? C * O : O;
  const outShape = [N, ...convOut, channelsOut];
  const backward = deriveConvBackward({
    rank: stepRank,
    imageShape: b.shapeOf(x),
    filterShape: b.shapeOf(f),
    outShape,
    strides,
    dilations,
    padding,
    depthwise: p.depthwise.length > 0,
  });
  const inputs = [x, f];
  if (epilogue.bias !== undefined) {
    const bt = ctx.tensor(epilogue.bias.tensor);
    inputs.push(b.reshape(bt.step, [channelsOut]));
  }
  let conv = b.emit(
    { op: 'conv', rank: stepRank, strides, dilations, padding, depthwise: p.depthwise.length > 0, backward, bias: epilogue.bias !== undefined, activation: epilogue.activation },
    inputs,
    outShape,
  );
  if (convOut.some((n, k) => n !== uShape[k])) conv = b.slice(conv, outShape.map(() => 0), [N, ...uShape, channelsOut]);
  const both = strides.some((s) => s > 1) && dilations.some((d) => d > 1);
  ctx.routes.push(
    `${p.depthwise.length > 0 ? 'depthwise ' : ''}conv${rank}d route: ${p.image.tensor} ⊛ ${p.kernel.tensor}, strides [${p.windows.map((w) => w.stride)}], dilations [${p.windows.map((w) => Math.abs(w.dilation))}]` +
      (lift ? ' (as conv2d with a unit axis)' : '') +
      (epilogue.bias || epilogue.activation ? `, fused with ${[epilogue.bias ? `bias ${epilogue.bias.tensor}` : '', epilogue.activation ?? ''].filter(Boolean).join(' and ')}` : '') +
      (both ? ' (stride and dilation together: conv at stride 1, then subsampled — tfjs refuses both)' : '') +
      `; gradient: the backend's backprop kernels where it has them and dilation is 1, else derived in the notation (p.backward())`,
  );
  // Back to named axes: [batch…, u…, out channels…] (depthwise: [batch…, u…, channel…, multiplier…]).
  const named = [...p.batch, ...p.windows.map((w) => w.out), ...channelNames.filter(() => p.depthwise.length > 0), ...p.outChannels];
  const step = b.reshape(conv, named.map(extent));
  return { step, axes: named, shape: b.shapeOf(step), zeroWhereMasked: true };
}
