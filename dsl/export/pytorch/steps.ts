/**
 * One plan step as one PyTorch expression. Tensors stay in einnet's layout (channels last); the
 * convolution and pooling steps move channels first around the torch call (`permute`), as a
 * PyTorch user holding NHWC data would. Constants the plan keeps (gather positions, masks, float
 * values) become module buffers (`self.…`); a scalar the plan broadcasts is written as a number
 * where the other operand already has the result's shape.
 */
import type { BinaryFn, UnaryFn } from '../../check/checked';
import type { Step } from '../../lower/plan';
import { pyFloat, pyTuple } from './python';

/** What a step's translation reads: its inputs' Python expressions, shapes and literal values. */
export interface StepInputs {
  /** The Python expression of input `j` of the step (a variable or a buffer). */
  ref(j: number): string;
  /** The shape input `j` has in PyTorch. */
  shape(j: number): readonly number[];
  /** The number input `j` holds everywhere when it is a broadcast scalar, else undefined. */
  literal(j: number): number | undefined;
  /**
   * Input `j`'s own step and inputs, to read through it (a reshape folded into the next one);
   * `only` is true when this step is its one reader and it is not returned.
   */
  peek(j: number): Peek;
}

export interface Peek extends StepInputs {
  readonly step: Step;
  readonly only: boolean;
}

/** A step's PyTorch text, with the shape its value has when that is not the plan's. */
export type StepText = string | { readonly text: string; readonly shape: readonly number[] };

const UNARY: Record<UnaryFn, (x: string) => string> = {
  neg: (x) => `-${x}`,
  relu: (x) => `torch.relu(${x})`,
  sigmoid: (x) => `torch.sigmoid(${x})`,
  tanh: (x) => `torch.tanh(${x})`,
  exp: (x) => `torch.exp(${x})`,
  log: (x) => `torch.log(${x})`,
  sqrt: (x) => `torch.sqrt(${x})`,
  abs: (x) => `torch.abs(${x})`,
  square: (x) => `torch.square(${x})`,
  softplus: (x) => `F.softplus(${x})`,
};

const OPERATOR: Partial<Record<BinaryFn, string>> = { add: '+', sub: '-', mul: '*', div: '/', pow: '**' };

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, k) => d === b[k]);

/** `, dim=…` argument text: one axis bare, several as a tuple. */
const dims = (axes: readonly number[]) => (axes.length === 1 ? String(axes[0]) : pyTuple(axes));

/**
 * True when operand `j` of a broadcasting binary step is a reshape that only adds leading unit
 * axes (a bias [n] as [1, n]) and the other operand has at least its rank: broadcasting adds them.
 */
function shedsUnitAxes(x: StepInputs, j: number): boolean {
  const p = x.peek(j);
  if (p.step.op !== 'reshape' || !p.only) return false;
  const from = p.shape(0);
  const added = p.step.shape.length - from.length;
  const leadingOnes = added >= 0 && p.step.shape.every((d, k) => (k < added ? d === 1 : d === from[k - added]));
  return leadingOnes && x.shape(1 - j).length >= p.step.shape.length;
}

/** `a op b`, `torch.maximum(a, b)`; a broadcast scalar operand written as a number where that keeps the shape. */
function binary(fn: BinaryFn, s: Step, x: StepInputs): string {
  const [la, lb] = [x.literal(0), x.literal(1)];
  const numberFor = (j: 0 | 1, v: number | undefined) => (v !== undefined && x.literal(1 - j) === undefined ? v : undefined);
  const na = numberFor(0, la);
  const nb = numberFor(1, lb);
  // A number operand broadcasts nothing: the tensor operand gets the result's shape by a reshape
  // when the scalar had extra unit axes.
  const tensorShape = na !== undefined ? x.shape(1) : nb !== undefined ? x.shape(0) : s.shape;
  const num = (v: number) => (v < 0 || Object.is(v, -0) ? `(${pyFloat(v)})` : pyFloat(v));
  // At most one operand sheds its leading unit axes, and only beside another tensor.
  const shed = na === undefined && nb === undefined ? [0, 1].filter((j) => shedsUnitAxes(x, j)) : [];
  const operand = (j: 0 | 1) => (shed.length === 1 && shed[0] === j ? x.peek(j).ref(0) : x.ref(j));
  const a = na !== undefined ? num(na) : operand(0);
  const b = nb !== undefined ? num(nb) : operand(1);
  let text: string;
  const op = OPERATOR[fn];
  if (op !== undefined) text = `${a} ${op} ${b}`;
  else if (na !== undefined || nb !== undefined) {
    // max(x, c) is a clamp from below, min(x, c) from above (both orders of the operands).
    const bound = fn === 'max' ? 'min' : 'max';
    text = na !== undefined ? `torch.clamp(${b}, ${bound}=${a})` : `torch.clamp(${a}, ${bound}=${b})`;
  } else text = `torch.${fn === 'max' ? 'maximum' : 'minimum'}(${a}, ${b})`;
  return sameShape(tensorShape, s.shape) ? text : `(${text}).reshape(${pyTuple(s.shape)})`;
}

/** Channels-first view of an NHWC (or NDHWC) tensor expression and back. */
const toChannelsFirst = (x: string, spatial: number) => `${x}.permute(0, ${spatial + 1}, ${Array.from({ length: spatial }, (_, k) => k + 1).join(', ')})`;
const toChannelsLast = (x: string, spatial: number) => `${x}.permute(0, ${Array.from({ length: spatial }, (_, k) => k + 2).join(', ')}, 1)`;

/** `(a, b)`, or `a` when every entry is the same (as PyTorch accepts). */
const perAxis = (xs: readonly number[]) => (xs.every((v) => v === xs[0]) ? String(xs[0]) : pyTuple(xs));

/** Output extent of a window sweep (convolution or pooling) over `n` with padding `p` on both sides. */
const sweep = (n: number, p: number, k: number, stride: number, dilation: number) => Math.floor((n + 2 * p - dilation * (k - 1) - 1) / stride) + 1;

/**
 * PyTorch's one padding per axis for explicit (before, after) paddings: `before` on both sides
 * gives the same windows when the output keeps its extent (the extra cells are never read).
 */
function symmetricPadding(
  padding: readonly (readonly [number, number])[],
  extents: readonly number[],
  window: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  outExtents: readonly number[],
): number[] | undefined {
  const ok = padding.every(([before, after], k) => after <= before && sweep(extents[k], before, window[k], strides[k], dilations[k]) === outExtents[k]);
  return ok ? padding.map(([before]) => before) : undefined;
}

/**
 * F.conv1d / F.conv2d / F.conv3d on NHWC data with an HWIO filter, as PyTorch's NCHW / OIHW. A
 * 1-D convolution the plan runs as 2-D with a unit axis is F.conv1d on the tensors before the
 * unit axis was added (its shape says so to the reshape that removes it).
 */
function conv(s: Step & { op: 'conv' }, x: StepInputs): StepText {
  const image = x.peek(0);
  const kernel = x.peek(1);
  const unitAxis =
    s.rank === 2 &&
    !s.depthwise &&
    [image, kernel].every((p) => p.step.op === 'reshape' && p.only && p.shape(0).length === p.step.shape.length - 1) &&
    x.shape(0)[1] === 1 &&
    x.shape(1)[0] === 1 &&
    s.strides[0] === 1 &&
    s.dilations[0] === 1 &&
    s.padding[0][0] === 0 &&
    s.padding[0][1] === 0;
  const drop = <T>(xs: readonly T[]) => (unitAxis ? xs.slice(1) : xs);
  const spatial = unitAxis ? 1 : s.rank;
  const [imageText, imageShape] = unitAxis ? [image.ref(0), image.shape(0)] : [x.ref(0), x.shape(0)];
  const [filterText, filter] = unitAxis ? [kernel.ref(0), kernel.shape(0)] : [x.ref(1), x.shape(1)];
  const padding = drop(s.padding);
  const strides = drop(s.strides);
  const dilations = drop(s.dilations);
  const outShape = unitAxis ? [s.shape[0], ...s.shape.slice(2)] : s.shape;
  const window = filter.slice(0, spatial);
  const symmetric = symmetricPadding(padding, imageShape.slice(1, -1), window, strides, dilations, outShape.slice(1, -1));
  const padded = symmetric !== undefined ? imageText : `F.pad(${imageText}, ${pyTuple([0, 0, ...[...padding].reverse().flat()])})`;
  // HWIO → OIHW; a depthwise filter [kh, kw, in, multiplier] is `in` groups of `multiplier` outputs.
  const filterPerm = `${filter.length - 1}, ${filter.length - 2}, ${Array.from({ length: spatial }, (_, k) => k).join(', ')}`;
  const inChannels = filter[filter.length - 2];
  const weight = s.depthwise
    ? `${filterText}.reshape(${pyTuple([...window, 1, inChannels * filter[filter.length - 1]])}).permute(${filterPerm})`
    : `${filterText}.permute(${filterPerm})`;
  const args = [toChannelsFirst(padded, spatial), weight];
  if (s.bias) args.push(x.ref(2));
  if (strides.some((v) => v !== 1)) args.push(`stride=${perAxis(strides)}`);
  if (symmetric !== undefined && symmetric.some((p) => p !== 0)) args.push(`padding=${perAxis(symmetric)}`);
  if (dilations.some((v) => v !== 1)) args.push(`dilation=${perAxis(dilations)}`);
  if (s.depthwise) args.push(`groups=${inChannels}`);
  let y = toChannelsLast(`F.conv${spatial}d(${args.join(', ')})`, spatial);
  if (s.activation !== undefined) y = `torch.${s.activation}(${y})`;
  return unitAxis ? { text: y, shape: outShape } : y;
}

/**
 * F.max_pool2d / F.avg_pool2d on NHWC data. The plan pads first (−∞ for max, 0 for mean); when
 * PyTorch's own padding gives the same windows, the pad step is folded into the pooling (average
 * pooling counts padded cells, as einnet's mean does).
 */
function pool(s: Step & { op: 'pool' }, x: StepInputs): string {
  const fn = s.fn === 'max' ? 'F.max_pool2d' : 'F.avg_pool2d';
  const pad = x.peek(0);
  const fill = s.fn === 'max' ? -Infinity : 0;
  let image: string | undefined;
  let padding: number[] | undefined;
  if (pad.step.op === 'pad' && pad.only && pad.step.value === fill && pad.step.paddings.every(([b, a], k) => k === 1 || k === 2 || (b === 0 && a === 0))) {
    const spatial = pad.step.paddings.slice(1, 3);
    const found = symmetricPadding(spatial, pad.shape(0).slice(1, 3), s.window, s.strides, [1, 1], s.shape.slice(1, 3));
    if (found !== undefined && found.every((p, k) => 2 * p <= s.window[k])) {
      image = pad.ref(0);
      padding = found;
    }
  }
  image ??= x.ref(0);
  const extra = padding === undefined || padding.every((p) => p === 0) ? '' : `, padding=${perAxis(padding)}`;
  return toChannelsLast(`${fn}(${toChannelsFirst(image, 2)}, ${perAxis(s.window)}, ${perAxis(s.strides)}${extra})`, 2);
}

/**
 * One axis padded as a boundary mode reads past its ends, with F.pad's reflect / replicate /
 * circular modes. F.pad pads the last axis of a [batch, channels, length] tensor, so the axis is
 * moved last and the others folded in front unless the tensor has that form already.
 */
function boundaryPad(s: Step & { op: 'boundaryPad' }, x: StepInputs): string {
  const mode = { clamp: 'replicate', wrap: 'circular', reflect: 'reflect' }[s.mode];
  const shape = x.shape(0);
  const last = s.axis === shape.length - 1;
  const pad = `(${s.before}, ${s.after}), mode="${mode}"`;
  if (last && shape.length === 3) return `F.pad(${x.ref(0)}, ${pad})`;
  const moved = last ? x.ref(0) : `${x.ref(0)}.movedim(${s.axis}, -1)`;
  const movedShape = last ? s.shape : [...s.shape.filter((_, k) => k !== s.axis), s.shape[s.axis]];
  const padded = `F.pad(${moved}.reshape(-1, 1, ${shape[s.axis]}), ${pad}).reshape(${pyTuple(movedShape)})`;
  return last ? padded : `${padded}.movedim(-1, ${s.axis})`;
}

/** `x[a:b, :, c:d]`: a slice as Python indexing; trailing whole axes are left out. */
function slice(s: Step & { op: 'slice' }, x: StepInputs): string {
  const shape = x.shape(0);
  const parts = s.begin.map((b, k) => (b === 0 && s.size[k] === shape[k] ? ':' : `${b || ''}:${b + s.size[k] === shape[k] ? '' : b + s.size[k]}`));
  while (parts.length > 0 && parts[parts.length - 1] === ':') parts.pop();
  return parts.length === 0 ? x.ref(0) : `${x.ref(0)}[${parts.join(', ')}]`;
}

/** The pair list of F.pad: last axis first; leading axes without padding left out. */
function padPairs(paddings: readonly (readonly [number, number])[]): number[] {
  const pairs = [...paddings];
  while (pairs.length > 0 && pairs[0][0] === 0 && pairs[0][1] === 0) pairs.shift();
  return pairs.reverse().flatMap(([before, after]) => [before, after]);
}

/**
 * f when the positions a gather reads are 0,…,0, 1,…,1, … (each f times, the last run possibly
 * cut short) over all `extent` entries: nearest-neighbour upsampling, `repeat_interleave`.
 */
function repeatFactor(positions: Step, extent: number): number | undefined {
  if (positions.op !== 'indices' || positions.values.length === 0) return undefined;
  const v = positions.values;
  let f = 1;
  while (f < v.length && v[f] === 0) f++;
  if (f === 1) return undefined;
  const ok = v.every((p, m) => p === Math.floor(m / f)) && v[v.length - 1] === extent - 1;
  return ok ? f : undefined;
}

/** `x.reshape(shape)` unless x has that shape already. */
const reshaped = (text: string, from: readonly number[], to: readonly number[]) => (sameShape(from, to) ? text : `${text}.reshape(${pyTuple(to)})`);

/** The PyTorch expression of step `s`, reading its inputs through `x`. Buffer-like steps (inputs, constants) are not handled here. */
export function stepExpression(s: Step, x: StepInputs): StepText {
  switch (s.op) {
    case 'gather': {
      const repeat = repeatFactor(x.peek(1).step, x.shape(0)[s.axis]);
      if (repeat !== undefined) {
        const text = `${x.ref(0)}.repeat_interleave(${repeat}, dim=${s.axis})`;
        const long = x.shape(0)[s.axis] * repeat;
        const kept = x.shape(1)[0];
        const cut = kept === long ? text : `${text}[${[...Array(s.axis).fill(':'), `:${kept}`].join(', ')}]`;
        return reshaped(
          cut,
          x.shape(0).map((d, k) => (k === s.axis ? kept : d)),
          s.shape,
        );
      }
      const shape = x.shape(0).map((d, k) => (k === s.axis ? x.shape(1)[0] : d));
      return reshaped(`${x.ref(0)}.index_select(${s.axis}, ${x.ref(1)})`, shape, s.shape);
    }
    case 'scatterAdd': {
      const shape = x.shape(0).map((d, k) => (k === s.axis ? s.shape[s.axis] : d));
      const zeros = `${x.ref(0)}.new_zeros(${pyTuple(shape)})`;
      return reshaped(`${zeros}.index_add(${s.axis}, ${x.ref(1)}, ${x.ref(0)})`, shape, s.shape);
    }
    case 'transpose':
      return `${x.ref(0)}.permute(${s.perm.join(', ')})`;
    case 'reshape': {
      // Reshapes in a row are one reshape.
      let from: StepInputs = x;
      while (from.peek(0).step.op === 'reshape' && from.peek(0).only) from = from.peek(0);
      return reshaped(from.ref(0), from.shape(0), s.shape);
    }
    case 'slice':
      return slice(s, x);
    case 'pad': {
      const value = s.value === 0 ? '' : `, value=${pyFloat(s.value)}`;
      return `F.pad(${x.ref(0)}, ${pyTuple(padPairs(s.paddings))}${value})`;
    }
    case 'matMul':
      return `${x.ref(0)}${s.transposeA ? '.mT' : ''} @ ${x.ref(1)}${s.transposeB ? '.mT' : ''}`;
    case 'unary':
      return UNARY[s.fn](x.ref(0));
    case 'binary':
      return binary(s.fn, s, x);
    case 'where':
      return `torch.where(${x.ref(0)}, ${x.ref(1)}, ${x.ref(2)})`;
    case 'addRelu':
      return `torch.relu(${x.ref(0)} + ${x.ref(1)})`;
    case 'reduce':
      if (s.axes.length === 0) return x.ref(0);
      return `${x.ref(0)}.${{ sum: 'sum', max: 'amax', min: 'amin' }[s.fn]}(${dims(s.axes)})`;
    case 'broadcast':
      return `${x.ref(0)}.expand(${pyTuple(s.shape)})`;
    case 'concat':
      return `torch.cat([${s.inputs.map((_, j) => x.ref(j)).join(', ')}], dim=${s.axis})`;
    case 'clone':
      return `${x.ref(0)}.clone()`;
    case 'reverse':
      return `${x.ref(0)}.flip(${dims(s.axes)})`;
    case 'boundaryPad':
      return boundaryPad(s, x);
    case 'conv':
      return conv(s, x);
    case 'pool':
      return pool(s, x);
    case 'batchStats': {
      // (μ, σ) with σ = sqrt(mean((x − μ)²) + ε), as the program writes them; flat when several axes are kept.
      const axes = pyTuple(s.reduced);
      const v = x.ref(0);
      const flat = x.shape(0).length - s.reduced.length === 1 ? '' : '.flatten()';
      const sigma = `torch.sqrt(torch.square(${v} - ${v}.mean(${axes}, keepdim=True)).mean(${axes}) + ${pyFloat(s.epsilon)})`;
      return `(${v}.mean(${axes})${flat}, ${sigma}${flat})`;
    }
    case 'statsHalf':
      return `${x.ref(0)}[${s.index}]`;
    case 'batchNormalize':
      return batchNormalize(s, x, `${x.ref(1)}[0]`, `${x.ref(1)}[1]`, 2);
    case 'normalize':
      return batchNormalize(s, x, x.ref(1), x.ref(2), 3);
    case 'input':
    case 'constant':
    case 'mask':
    case 'scalar':
    case 'indices':
      throw new Error(`stepExpression: a ${s.op} step is a name or a buffer, not an expression`);
  }
}

/** (x − μ)/σ · γ + β on the kept axes, then relu if the step says so; γ is input `first` and β follows it. */
function batchNormalize(s: Step & { op: 'batchNormalize' | 'normalize' }, x: StepInputs, mu: string, sigma: string, first: number): string {
  const shape = x.shape(0);
  // μ, σ, γ and β are flat over the kept axes: they broadcast as they are when one trailing axis is kept.
  const leading = s.reduced.every((a, k) => a === k) && s.reduced.length === shape.length - 1;
  const keep = shape.map((d, a) => (s.reduced.includes(a) ? 1 : d));
  const view = (t: string) => (leading ? t : `${t}.reshape(${pyTuple(keep)})`);
  let y = `(${x.ref(0)} - ${view(mu)}) / ${view(sigma)}`;
  if (s.scale) y = `${y} * ${view(x.ref(first))}`;
  if (s.offset) y = `${y} + ${view(x.ref(s.scale ? first + 1 : first))}`;
  return s.relu ? `torch.relu(${y})` : y;
}
