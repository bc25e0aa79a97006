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
import type { AffineIndex, CheckedExpr } from '../../check/checked';
import { bareIndex } from '../../check/index-forms';
import type { BoundaryMode } from '../../parse/ast';
import type { NamedValue } from '../builder';
import { productFactors, type ExprContext, type ExprRoute } from '../context';
import { sizeOf } from '../../../core/layout';
import { modeReaches, padByMode } from './boundary';
import { deriveConvBackward } from '../../derive/conv-backward';

type Access = CheckedExpr & { kind: 'access' };

interface Window {
  readonly axis: number;
  readonly out: string;
  readonly kernel: string;
  readonly stride: number;
  readonly dilation: number;
  readonly offset: number;
  /** A read through clamp/wrap/reflect: the image is padded that way instead of with zeros. */
  readonly mode?: BoundaryMode;
}

/** Why the route did not apply, for explain(). */
class NotConv {
  constructor(readonly reason: string) {}
}

export const convolutionRoute: ExprRoute = {
  name: 'convolution',
  matches: (e) => e.kind === 'reduce' && e.op === 'sum',
  lower: (ctx, e) => {
    const plan = convPlan(ctx, e, true);
    return plan === undefined ? undefined : emitConv(ctx, plan, {});
  },
};

/** How `e` runs as a convolution, if it is one; `explainWhyNot` notes why not in `ctx.routes`. */
export function convPlan(ctx: ExprContext, e: CheckedExpr, explainWhyNot: boolean): ConvPlan | undefined {
  if (e.kind !== 'reduce' || e.op !== 'sum') return undefined;
  const factors = productFactors(e.body);
  if (factors.length !== 2 || factors.some((f) => f.kind !== 'access')) return undefined;
  const [a, b] = factors as Access[];
  const attempts = [analyse(ctx, a, b, e.indices), analyse(ctx, b, a, e.indices)];
  const plan = attempts.find((x): x is ConvPlan => !(x instanceof NotConv));
  if (plan === undefined && explainWhyNot) {
    // Say why for the reading that had a plain kernel, if one did: the other reading's "kernel"
    // is the image, and its complaint only confuses.
    const plainKernel = [b, a].map((k) => k.indices.every((ix) => bareIndex(ix) !== undefined));
    const relevant = attempts.filter((_, k) => plainKernel[k]);
    const reasons = (relevant.length > 0 ? relevant : attempts).map((x) => (x as NotConv).reason);
    if (reasons.some((r) => r !== 'no window axis')) {
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

export interface ConvPlan {
  readonly image: Access;
  readonly kernel: Access;
  readonly windows: readonly Window[];
  readonly batch: readonly string[];
  readonly inChannels: readonly string[];
  readonly depthwise: readonly string[];
  /** Grouped convolution: indices kept in image and kernel while others are summed. */
  readonly groups: readonly string[];
  readonly outChannels: readonly string[];
}

function analyse(ctx: ExprContext, image: Access, kernel: Access, reduced: readonly string[]): ConvPlan | NotConv {
  const isReduced = (n: string) => reduced.includes(n);
  const kernelNames = kernel.indices.map(bareIndex);
  if (kernelNames.some((n) => n === undefined)) return new NotConv('the kernel is not read with plain indices');
  const kNames = kernelNames as string[];
  if (new Set(kNames).size !== kNames.length) return new NotConv('the kernel reads a diagonal');
  const windows: Window[] = [];
  const batch: string[] = [];
  const inChannels: string[] = [];
  const depthwise: string[] = [];
  const seen = new Set<string>();
  const classify = (name: string): NotConv | undefined => {
    if (seen.has(name)) return new NotConv('the image reads a diagonal');
    seen.add(name);
    const inKernel = kNames.includes(name);
    if (!inKernel && !isReduced(name)) batch.push(name);
    else if (inKernel && isReduced(name)) inChannels.push(name);
    else if (inKernel) depthwise.push(name);
    else return new NotConv(`index ${name} is summed over the image only`);
    return undefined;
  };
  for (let axis = 0; axis < image.indices.length; axis++) {
    const ix = image.indices[axis];
    const name = bareIndex(ix);
    // A composite (g, i) axis holds its parts row-major: each part is classified like an axis.
    const names = name !== undefined ? [name] : ix.kind === 'composite' ? ix.parts.map((part) => part.terms[0].index) : undefined;
    if (names !== undefined) {
      for (const n of names) {
        const problem = classify(n);
        if (problem) return problem;
      }
      continue;
    }
    const affine = ix.kind === 'boundary' && ix.arg.kind === 'affine' ? ix.arg : ix;
    if (affine.kind !== 'affine' || affine.terms.length !== 2) {
      return new NotConv(`image axis ${axis} is not a window s·u + d·v + p`);
    }
    const plain = windowOf(axis, affine, kNames, isReduced);
    if (plain === undefined) return new NotConv(`image axis ${axis} does not pair an output index with a kernel index`);
    const w: Window = ix.kind === 'boundary' ? { ...plain, mode: ix.mode } : plain;
    if (w.mode !== undefined) {
      // The padding is made physically by the mode, which only reaches so far.
      if (w.dilation < 0) return new NotConv(`a flipped kernel read through ${w.mode}(...)`);
      const n = ctx.tensor(image.tensor).shape[axis];
      const needed = w.stride * (ctx.ranges.get(w.out)!.extent - 1) + w.dilation * (ctx.ranges.get(w.kernel)!.extent - 1) + 1;
      const before = Math.max(0, -w.offset);
      const after = Math.max(0, needed + w.offset - n);
      if (!modeReaches(w.mode, n, before, after)) return new NotConv(`${w.mode}(...) padding of ${Math.max(before, after)} on an axis of ${n}`);
    }
    if (seen.has(w.out) || seen.has(w.kernel)) return new NotConv('an index appears on two image axes');
    seen.add(w.out);
    seen.add(w.kernel);
    windows.push(w);
  }
  if (windows.length === 0) return new NotConv('no window axis');
  if (windows.length > 3) return new NotConv(`${windows.length} spatial axes (tfjs convolves at most 3)`);
  const outChannels = kNames.filter((n) => !seen.has(n));
  if (outChannels.some(isReduced)) return new NotConv('an index is summed over the kernel only');
  // Channels both kept (in image and kernel) and summed: a grouped convolution, one conv per group.
  const grouped = depthwise.length > 0 && inChannels.length > 0;
  if (depthwise.length > 0 && windows.length === 3) return new NotConv(`${grouped ? 'grouped' : 'depthwise'} 3-D convolution (no tfjs op)`);
  if (windows.length === 3 && windows.some((w) => Math.abs(w.dilation) > 1)) return new NotConv('3-D convolution with dilation (not implemented by tfjs)');
  // Kernel extents must match the ranges of their indices (they do for bare reads of known shapes).
  const kShape = ctx.tensor(kernel.tensor).shape;
  for (const w of windows) {
    if (kShape[kNames.indexOf(w.kernel)] !== ctx.ranges.get(w.kernel)!.extent) return new NotConv('kernel extent differs from its index range');
  }
  return grouped
    ? { image, kernel, windows, batch, inChannels, depthwise: [], groups: depthwise, outChannels }
    : { image, kernel, windows, batch, inChannels, depthwise, groups: [], outChannels };
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

export function emitConv(ctx: ExprContext, p: ConvPlan, epilogue: ConvEpilogue): NamedValue {
  const b = ctx.builder;
  const extent = (n: string) => ctx.ranges.get(n)!.extent;
  const img = ctx.tensor(p.image.tensor);
  const ker = ctx.tensor(p.kernel.tensor);
  const rank = p.windows.length;
  // A 1-D convolution runs as 2-D with a unit spatial axis (tfjs' conv1d does the same, and
  // has no depthwise form).
  const lift = rank === 1;

  // Image → [N, S₁…S_r, C] (grouped: C = G·I, group-major). Composite axes are split first.
  const imageAxes = p.image.indices.flatMap((ix, k) => (ix.kind === 'composite' ? ix.parts.map((q) => q.terms[0].index) : [bareIndex(ix) ?? `#w${k}`]));
  const imageShape = p.image.indices.flatMap((ix, k) => (ix.kind === 'composite' ? [...ix.factors] : [img.shape[k]]));
  const channelNames = p.depthwise.length > 0 ? p.depthwise : [...p.groups, ...p.inChannels];
  const ordered = [...p.batch, ...p.windows.map((w) => `#w${w.axis}`), ...channelNames];
  let imageStep = b.permute(b.named(b.reshape(img.step, imageShape), imageAxes), ordered).step;
  const N = sizeOf(p.batch.map(extent));
  const C = sizeOf(channelNames.map(extent));
  const G = sizeOf(p.groups.map(extent));
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
  // Boundary modes: pad the image as the mode reads it (before any crop, so wrap reads the
  // true other end); the conv then pads nothing there.
  p.windows.forEach((w, k) => {
    if (w.mode === undefined || (padding[k][0] === 0 && padding[k][1] === 0)) return;
    imageStep = padByMode(b, imageStep, 1 + k, padding[k][0], padding[k][1], w.mode);
    padding[k] = [0, 0];
  });
  if (crops.some((c) => c > 0)) {
    const shape = b.shapeOf(imageStep);
    imageStep = b.slice(
      imageStep,
      shape.map((_, j) => (j >= 1 && j <= rank ? crops[j - 1] : 0)),
      shape.map((d, j) => (j >= 1 && j <= rank ? d - crops[j - 1] : d)),
    );
  }

  // Kernel → [k₁…k_r, C, O] (depthwise: [k…, C, M]), flipped where the dilation is negative.
  const kernelAxes = p.kernel.indices.map((ix) => bareIndex(ix)!);
  let kernelStep = b.permute(b.named(ker.step, kernelAxes), [...p.windows.map((w) => w.kernel), ...channelNames, ...p.outChannels]).step;
  const O = sizeOf(p.outChannels.map(extent));
  const kSpatial = p.windows.map((w) => extent(w.kernel));
  kernelStep = b.reshape(kernelStep, [...kSpatial, C, O]);
  const perGroup = C / G; // input channels of one group
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
  const convStep = (image: number, filter: number, bias?: number) =>
    b.emit(
      {
        op: 'conv',
        rank: stepRank,
        strides,
        dilations,
        padding,
        depthwise: p.depthwise.length > 0,
        backward: deriveConvBackward({
          rank: stepRank,
          imageShape: b.shapeOf(image),
          filterShape: b.shapeOf(filter),
          outShape,
          strides,
          dilations,
          padding,
          depthwise: p.depthwise.length > 0,
        }),
        bias: bias !== undefined,
        activation: epilogue.activation,
      },
      bias === undefined ? [image, filter] : [image, filter, bias],
      outShape,
    );
  let conv: number;
  if (G > 1) {
    // One conv per group on its slice of channels, results side by side: [N, U…, G, O].
    const xs = b.shapeOf(x);
    const fs = b.shapeOf(f);
    const parts: number[] = [];
    for (let g = 0; g < G; g++) {
      const xg = b.slice(
        x,
        xs.map((_, j) => (j === xs.length - 1 ? g * perGroup : 0)),
        xs.map((d, j) => (j === xs.length - 1 ? perGroup : d)),
      );
      const fg = b.slice(
        f,
        fs.map((_, j) => (j === fs.length - 2 ? g * perGroup : 0)),
        fs.map((d, j) => (j === fs.length - 2 ? perGroup : d)),
      );
      parts.push(b.reshape(convStep(xg, fg), [N, ...convOut, 1, O]));
    }
    conv = b.emit({ op: 'concat', axis: convOut.length + 1 }, parts, [N, ...convOut, G, O]);
    if (convOut.some((n, k) => n !== uShape[k]))
      conv = b.slice(
        conv,
        b.shapeOf(conv).map(() => 0),
        [N, ...uShape, G, O],
      );
  } else {
    const bias = epilogue.bias !== undefined ? b.reshape(ctx.tensor(epilogue.bias.tensor).step, [channelsOut]) : undefined;
    conv = convStep(x, f, bias);
    if (convOut.some((n, k) => n !== uShape[k]))
      conv = b.slice(
        conv,
        outShape.map(() => 0),
        [N, ...uShape, channelsOut],
      );
  }
  const both = strides.some((s) => s > 1) && dilations.some((d) => d > 1);
  ctx.routes.push(
    `${p.depthwise.length > 0 ? 'depthwise ' : G > 1 ? `grouped (${G} groups, one conv each) ` : ''}conv${rank}d route: ${p.image.tensor} ⊛ ${p.kernel.tensor}, strides [${p.windows.map((w) => w.stride)}], dilations [${p.windows.map((w) => Math.abs(w.dilation))}]` +
      (lift ? ' (as conv2d with a unit axis)' : '') +
      (p.windows.some((w) => w.mode)
        ? `, ${p.windows
            .filter((w) => w.mode)
            .map((w) => w.mode)
            .join('/')} padding made before the conv`
        : '') +
      (epilogue.bias || epilogue.activation
        ? `, fused with ${[epilogue.bias ? `bias ${epilogue.bias.tensor}` : '', epilogue.activation ?? ''].filter(Boolean).join(' and ')}`
        : '') +
      (both ? ' (stride and dilation together: conv at stride 1, then subsampled — tfjs refuses both)' : '') +
      `; gradient: the backend's backprop kernels where it has them and dilation is 1, else derived in the notation (p.backward())`,
  );
  // Back to named axes: [batch…, u…, out channels…] (depthwise: [batch…, u…, channel…, multiplier…]).
  const named = [...p.batch, ...p.windows.map((w) => w.out), ...(p.depthwise.length > 0 ? p.depthwise : p.groups), ...p.outChannels];
  const step = b.reshape(conv, named.map(extent));
  return { step, axes: named, shape: b.shapeOf(step), zeroWhereMasked: true };
}
