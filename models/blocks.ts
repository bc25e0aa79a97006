/**
 * The built-in blocks. Each writes statements in the notation under its namespace (see
 * `builder.ts` for the design); read a model's program with `model.trainProgram.toString()`.
 *
 * Layout is NHWC: `[b, x, y, j]` (rank 4), also `[b, x, j]` and `[b, x, y, z, j]` for the
 * convolution and pooling blocks, `[b, j]` for dense layers.
 */
import { axisNames, type Block, type NetBuilder, type TensorRef } from './builder';
import { modelError, rejectUnknownOptions } from './errors';

export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'softplus' | 'none';
export type Padding = 'same' | 'valid' | number;

function wrap(activation: Activation | undefined, body: string): string {
  return activation === undefined || activation === 'none' ? body : `${activation}(${body})`;
}

function positiveInt(block: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw modelError('EIN4008', block, `${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** `s*x + d*Δx - p`, written without unit coefficients and zero terms. */
function windowIndex(x: string, s: number, d: number, dx: string | undefined, p: number): string {
  let e = s === 1 ? x : `${s}*${x}`;
  if (dx !== undefined) e += d === 1 ? `+${dx}` : `+${d}*${dx}`;
  if (p > 0) e += `-${p}`;
  if (p < 0) e += `+${-p}`;
  return e;
}

/** Output extent and leading pad of one spatial axis (TensorFlow's rule for 'same'). */
export function convExtent(n: number, k: number, s: number, d: number, padding: Padding): { extent: number; pad: number } {
  const span = d * (k - 1) + 1;
  if (padding === 'same') {
    const extent = Math.ceil(n / s);
    const total = Math.max(0, (extent - 1) * s + span - n);
    return { extent, pad: Math.floor(total / 2) };
  }
  const p = padding === 'valid' ? 0 : padding;
  return { extent: Math.floor((n + 2 * p - span) / s) + 1, pad: p };
}

const delta = (a: string) => `Δ${a}`;

export interface ConvOptions {
  /** Output channels (for depthwise: omitted or equal to the input channels). */
  readonly out?: number;
  readonly size?: number;
  readonly stride?: number;
  readonly dilation?: number;
  readonly padding?: Padding;
  /** Add a bias `B[j]` (default true, false with groups). */
  readonly bias?: boolean;
  readonly activation?: Activation;
  /** Initializer of the kernel (default he_normal). */
  readonly init?: string;
  /** One filter per channel: `W[Δx,Δy,j] · X[b,x+Δx,y+Δy,j]`. */
  readonly depthwise?: boolean;
  /** Grouped convolution: channels split into `groups` groups, `W[Δx,Δy,g,I,j]`. */
  readonly groups?: number;
}

/**
 * Convolution, written as the seed writes it:
 * `ns[b,x,y,j] = act(ns.W[Δx,Δy,I,j] · X[b, s*x+d*Δx-p, s*y+d*Δy-p, I] + ns.B[j])`.
 */
export function conv(options: ConvOptions): Block {
  rejectUnknownOptions('EIN4008', 'conv', options, ['out', 'size', 'stride', 'dilation', 'padding', 'bias', 'activation', 'init', 'depthwise', 'groups']);
  return (net, x, ns) => {
    const names = axisNames(x.shape.length);
    if (names.length < 3)
      throw modelError(
        'EIN4008',
        `conv ${ns}`,
        `input ${x.name} has rank ${x.shape.length}; a convolution needs spatial axes`,
        'use dense() for [b, j] inputs',
      );
    const spatial = names.slice(1, -1);
    const cin = x.shape[x.shape.length - 1];
    const k = positiveInt(`conv ${ns}`, 'size', options.size ?? 3);
    const s = positiveInt(`conv ${ns}`, 'stride', options.stride ?? 1);
    const d = positiveInt(`conv ${ns}`, 'dilation', options.dilation ?? 1);
    const padding = options.padding ?? 'same';
    const groups = positiveInt(`conv ${ns}`, 'groups', options.groups ?? 1);
    const out = options.depthwise ? (options.out ?? cin) : positiveInt(`conv ${ns}`, 'out', options.out);
    if (options.depthwise && out !== cin)
      throw modelError(
        'EIN4008',
        `conv ${ns}`,
        `a depthwise convolution keeps the ${cin} channels, out was ${out}`,
        'follow it with a 1×1 conv to change the width',
      );
    if (cin % groups !== 0 || out % groups !== 0)
      throw modelError('EIN4008', `conv ${ns}`, `groups ${groups} must divide the input channels ${cin} and output channels ${out}`);
    const bias = options.bias ?? groups === 1;
    if (bias && groups > 1) throw modelError('EIN4008', `conv ${ns}`, 'a grouped convolution has no bias here', 'set bias: false and follow it with batchNorm');
    const lhs: string[] = ['b'];
    const reads: string[] = ['b'];
    const kernel: string[] = [];
    for (const [a, axis] of spatial.entries()) {
      const { extent, pad } = convExtent(x.shape[a + 1], k, s, d, padding);
      if (extent <= 0)
        throw modelError(
          'EIN4008',
          `conv ${ns}`,
          `a ${k}-wide kernel with stride ${s} leaves no output on axis ${a + 1} (extent ${x.shape[a + 1]})`,
          "use padding: 'same' or a smaller kernel",
        );
      lhs.push(`${axis}:${extent}`);
      reads.push(windowIndex(axis, s, d, delta(axis), pad));
      kernel.push(`${delta(axis)}:${k}`);
    }
    let product: string;
    if (options.depthwise) {
      lhs.push('j');
      reads.push('j');
      product = `${ns}.W[${[...kernel, 'j'].join(',')}] · ${x.name}[${reads.join(',')}]`;
    } else if (groups > 1) {
      lhs.push('(g,j)');
      reads.push(`(g:${groups},I)`);
      product = `${ns}.W[${[...kernel, 'g', 'I', `j:${out / groups}`].join(',')}] · ${x.name}[${reads.join(',')}]`;
    } else {
      lhs.push(`j:${out}`);
      reads.push('I');
      product = `${ns}.W[${[...kernel, 'I', 'j'].join(',')}] · ${x.name}[${reads.join(',')}]`;
    }
    const body = bias ? `${product} + ${ns}.B[j]` : product;
    const train = `param ${ns}.W ~ ${options.init ?? 'he_normal'}\n${ns}[${lhs.join(',')}] = ${wrap(options.activation, body)}`;
    return net.emit({ train, output: ns });
  };
}

export interface DenseOptions {
  readonly out: number;
  readonly activation?: Activation;
  readonly bias?: boolean;
  /** Default glorot_uniform (he_normal with relu). */
  readonly init?: string;
}

/**
 * Fully connected layer. On `[b, x, y, i]` it contracts every axis but the batch, so no flatten
 * step is needed: `ns[b,k] = act(ns.W[x,y,i,k] · X[b,x,y,i] + ns.B[k])`.
 */
export function dense(options: DenseOptions): Block {
  rejectUnknownOptions('EIN4008', 'dense', options, ['out', 'activation', 'bias', 'init']);
  return (net, x, ns) => {
    const out = positiveInt(`dense ${ns}`, 'out', options.out);
    const names = x.shape.length === 2 ? ['i'] : [...axisNames(x.shape.length).slice(1, -1), 'i'];
    const init = options.init ?? (options.activation === 'relu' ? 'he_normal' : 'glorot_uniform');
    const product = `${ns}.W[${names.join(',')},k] · ${x.name}[b,${names.join(',')}]`;
    const body = options.bias === false ? product : `${product} + ${ns}.B[k]`;
    return net.emit({ train: `param ${ns}.W ~ ${init}\n${ns}[b,k:${out}] = ${wrap(options.activation, body)}`, output: ns });
  };
}

export interface BatchNormOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  readonly epsilon?: number;
  /** Weight of the old running value (default 0.9). */
  readonly momentum?: number;
  /** Applied after the affine transform, in the same statement. */
  readonly activation?: Activation;
}

/**
 * Spatial batch normalization exactly as seed 003 writes it, over every axis but the channel:
 *
 *   ns.μ[j] = mean[b,x,y] X[b,x,y,j]
 *   ns.σ[j] = sqrt(mean[b,x,y] square(X[b,x,y,j] - ns.μ[j]) + ε)
 *   ns[b,x,y,j] = (X[b,x,y,j] - ns.μ[j]) / ns.σ[j] · ns.γ[j] + ns.β[j]     (x̂·γ + β)
 *
 * γ starts at 1, β at 0. In evaluation the first two lines are left out and μ, σ are the running
 * averages (the running σ averages the batch σ, where PyTorch averages the unbiased variance).
 */
export function batchNorm(options: BatchNormOptions = {}): Block {
  rejectUnknownOptions('EIN4008', 'batchNorm', options, ['epsilon', 'momentum', 'activation']);
  return (net, x, ns) => {
    const eps = options.epsilon ?? 1e-5;
    if (!(eps > 0)) throw modelError('EIN4008', `batchNorm ${ns}`, `epsilon must be positive, got ${eps}`);
    const names = axisNames(x.shape.length);
    const all = names.join(',');
    const reduced = names.slice(0, -1).join(',');
    const decl = `param ${ns}.γ ~ ones\nparam ${ns}.β ~ zeros`;
    // x̂ · γ + β with x̂ = (x − μ)/σ; the input is written first so that lowering keeps its axis
    // order (γ[j] first made it transpose to [j, b, x, y] and back).
    const normalize = `${ns}[${all}] = ${wrap(options.activation, `(${x.name}[${all}] - ${ns}.μ[j]) / ${ns}.σ[j] · ${ns}.γ[j] + ${ns}.β[j]`)}`;
    const stats = `${ns}.μ[j] = mean[${reduced}] ${x.name}[${all}]\n` + `${ns}.σ[j] = sqrt(mean[${reduced}] square(${x.name}[${all}] - ${ns}.μ[j]) + ${eps})`;
    const momentum = options.momentum ?? 0.9;
    return net.emit({
      train: `${decl}\n${stats}\n${normalize}`,
      eval: `${decl}\n${normalize}`,
      output: ns,
      runningStats: { [`${ns}.μ`]: { momentum, init: 0 }, [`${ns}.σ`]: { momentum, init: 1 } },
    });
  };
}

/** Inverted dropout: `ns[…] = X[…] · ns.M[…]`, the mask supplied by the model (1 in evaluation). */
export function dropout(rate: number): Block {
  if (!(rate >= 0 && rate < 1)) throw modelError('EIN4008', 'dropout', `rate ${rate} is outside [0, 1)`, 'a rate is the fraction of units dropped, e.g. 0.5');
  return (net, x, ns) => {
    const all = axisNames(x.shape.length).join(',');
    return net.emit({
      train: `${ns}[${all}] = ${x.name}[${all}] · ${ns}.M[${all}]`,
      eval: `${ns}[${all}] = ${x.name}[${all}]`,
      output: ns,
      dropout: { [`${ns}.M`]: rate },
    });
  };
}

/** An elementwise activation as its own statement. */
export function activation(fn: Activation): Block {
  return (net, x, ns) => {
    const all = axisNames(x.shape.length).join(',');
    return net.emit({ train: `${ns}[${all}] = ${wrap(fn, `${x.name}[${all}]`)}`, output: ns });
  };
}

export interface PoolOptions {
  readonly size?: number;
  /** Default: the size. */
  readonly stride?: number;
  /** 'valid' (default) or 'same'; out-of-range terms are dropped from a max and count as 0 in a mean. */
  readonly padding?: Padding;
}

function pool(op: 'max' | 'mean', options: PoolOptions): Block {
  rejectUnknownOptions('EIN4008', `${op}Pool`, options, ['size', 'stride', 'padding']);
  return (net, x, ns) => {
    const names = axisNames(x.shape.length);
    const spatial = names.slice(1, -1);
    const k = positiveInt(`pool ${ns}`, 'size', options.size ?? 2);
    const s = positiveInt(`pool ${ns}`, 'stride', options.stride ?? k);
    const lhs = ['b'];
    const reads = ['b'];
    for (const [a, axis] of spatial.entries()) {
      const { extent, pad } = convExtent(x.shape[a + 1], k, s, 1, options.padding ?? 'valid');
      lhs.push(`${axis}:${extent}`);
      reads.push(windowIndex(axis, s, 1, delta(axis), pad));
    }
    lhs.push('j');
    reads.push('j');
    const window = spatial.map((a) => `${delta(a)}:${k}`).join(',');
    return net.emit({ train: `${ns}[${lhs.join(',')}] = ${op}[${window}] ${x.name}[${reads.join(',')}]`, output: ns });
  };
}

/** `ns[b,x,y,j] = max[Δx:k,Δy:k] X[b, s*x+Δx, s*y+Δy, j]` */
export function maxPool(options: PoolOptions = {}): Block {
  return pool('max', options);
}

/** `ns[b,x,y,j] = mean[Δx:k,Δy:k] X[b, s*x+Δx, s*y+Δy, j]` */
export function avgPool(options: PoolOptions = {}): Block {
  return pool('mean', options);
}

/** `ns[b,j] = mean[x,y] X[b,x,y,j]` */
export function globalAvgPool(): Block {
  return (net, x, ns) => {
    const names = axisNames(x.shape.length);
    return net.emit({ train: `${ns}[b,j] = mean[${names.slice(1, -1).join(',')}] ${x.name}[${names.join(',')}]`, output: ns });
  };
}

/**
 * Softmax over the last axis of [b, k], shifted by the maximum for stability:
 * `ns[b,k] = exp(X[b,k] - m[b]) / Σ[k'] exp(X[b,k'] - m[b])`.
 */
export function softmax(): Block {
  return (net, x, ns) => {
    if (x.shape.length !== 2) throw modelError('EIN4008', `softmax ${ns}`, `input ${x.name} has rank ${x.shape.length}`, 'apply it to [b, k] scores');
    return net.emit({
      train:
        `${ns}.m[b] = max[k] ${x.name}[b,k]\n` + `${ns}.e[b,k] = exp(${x.name}[b,k] - ${ns}.m[b])\n` + `${ns}[b,k] = ${ns}.e[b,k] / (sum[k2] ${ns}.e[b,k2])`,
      output: ns,
    });
  };
}

/** `ns[…] = act(X[…] + other[…])`: a residual sum (the seed's L_{ℓ+1} = L̃_ℓ + R_{ℓ+1}). */
export function addTo(other: TensorRef, act: Activation = 'none'): Block {
  return (net, x, ns) => {
    const all = axisNames(x.shape.length).join(',');
    return net.emit({ train: `${ns}[${all}] = ${wrap(act, `${x.name}[${all}] + ${other.name}[${all}]`)}`, output: ns });
  };
}

/** `ns[b,x,y,J1+J2] = X[b,x,y,J1] ; other[b,x,y,J2]`: concatenation along channels (DenseNet). */
export function concatWith(other: TensorRef): Block {
  return (net, x, ns) => {
    const lead = axisNames(x.shape.length).slice(0, -1).join(',');
    return net.emit({ train: `${ns}[${lead},J1+J2] = ${x.name}[${lead},J1] ; ${other.name}[${lead},J2]`, output: ns });
  };
}

/**
 * The seed's spatial reduction with zero-padded channels (ResNet option A):
 * L̃[b,x,y,j] = L[b, s·x, s·y, j] for j < J, 0 otherwise. Written as a concatenation with a
 * constant zero part whose extent is declared, because the language ties a bare `j` to the
 * input's extent: `ns[b,x,y,J1+J2:C] = X[b,s*x,s*y,J1] ; 0` — so `out` must be the input width
 * or twice it (as in every ResNet).
 */
export function zeroPadShortcut(options: { out: number; stride?: number }): Block {
  return (net, x, ns) => {
    const cin = x.shape[x.shape.length - 1];
    const s = options.stride ?? 1;
    const spatial = axisNames(x.shape.length).slice(1, -1);
    const reads = ['b', ...spatial.map((a) => windowIndex(a, s, 1, undefined, 0))].join(',');
    const lhs = ['b', ...spatial].join(',');
    if (options.out === cin) return net.emit({ train: `${ns}[${lhs},j] = ${x.name}[${reads},j]`, output: ns });
    if (options.out !== 2 * cin) {
      throw modelError(
        'EIN4008',
        `zeroPadShortcut ${ns}`,
        `widening ${cin} → ${options.out} channels is not a doubling`,
        "use shortcut: 'projection' (a 1×1 convolution)",
      );
    }
    // The new channels are the constant 0 (J2's extent declared): nothing is read for them.
    return net.emit({ train: `${ns}[${lhs},J1+J2:${cin}] = ${x.name}[${reads},J1] ; 0`, output: ns });
  };
}

/** `ns[b,x,y,(i,g)] = X[b,x,y,(g:G,i)]`: ShuffleNet's channel shuffle. */
export function channelShuffle(groups: number): Block {
  return (net, x, ns) => {
    const lead = axisNames(x.shape.length).slice(0, -1).join(',');
    const c = x.shape[x.shape.length - 1];
    if (c % groups !== 0) throw modelError('EIN4008', `channelShuffle ${ns}`, `${groups} groups do not divide ${c} channels`);
    return net.emit({ train: `${ns}[${lead},(i,g)] = ${x.name}[${lead},(g:${groups},i)]`, output: ns });
  };
}

// ---------------------------------------------------------------------------------------------
// Composite blocks.

export interface ConvBnOptions extends Omit<ConvOptions, 'bias' | 'activation'> {
  /** After batch norm (default relu). */
  readonly activation?: Activation;
  readonly momentum?: number;
}

/** conv (no bias) → batch norm → activation: `ns.conv`, then `ns` (BN and ReLU in one statement). */
export function convBn(options: ConvBnOptions): Block {
  const { activation: act = 'relu', momentum, ...convOptions } = options;
  return (net, x, ns) => {
    const h = net.add(`${ns}.conv`, conv({ ...convOptions, bias: false }), x);
    return net.add(ns, batchNorm({ activation: act, momentum }), h);
  };
}

/** conv → batch norm → ReLU. */
export function convBnRelu(options: Omit<ConvBnOptions, 'activation'>): Block {
  return convBn({ ...options, activation: 'relu' });
}

export interface ResidualOptions {
  readonly out: number;
  readonly stride?: number;
  /** How the shortcut matches a new shape: the seed's zero padding (default) or a 1×1 conv + BN. */
  readonly shortcut?: 'zeros' | 'projection';
}

function shortcut(net: NetBuilder, x: TensorRef, ns: string, out: number, stride: number, kind: 'zeros' | 'projection'): TensorRef {
  const cin = x.shape[x.shape.length - 1];
  if (stride === 1 && cin === out) return x;
  if (kind === 'zeros') return net.add(`${ns}.short`, zeroPadShortcut({ out, stride }), x);
  return net.add(`${ns}.short`, convBn({ out, size: 1, stride, activation: 'none' }), x);
}

/** ResNet basic block: 3×3 conv-BN-ReLU, 3×3 conv-BN, plus the shortcut, ReLU. */
export function resnetBasic(options: ResidualOptions): Block {
  rejectUnknownOptions('EIN4008', 'resnetBasic', options, ['out', 'stride', 'shortcut']);
  return (net, x, ns) => {
    const stride = options.stride ?? 1;
    const h1 = net.add(`${ns}.conv1`, convBn({ out: options.out, stride }), x);
    const h2 = net.add(`${ns}.conv2`, convBn({ out: options.out, activation: 'none' }), h1);
    const s = shortcut(net, x, ns, options.out, stride, options.shortcut ?? 'zeros');
    return net.add(ns, addTo(s, 'relu'), h2);
  };
}

export interface BottleneckOptions {
  /** Width of the 3×3 convolution (K in the seed). */
  readonly width: number;
  /** Output width (default 4 · width). */
  readonly out?: number;
  readonly stride?: number;
  /** Default projection (ResNet-50's option B). */
  readonly shortcut?: 'zeros' | 'projection';
}

/** ResNet bottleneck: 1×1 → K, 3×3 K → K (stride here), 1×1 K → J, plus the shortcut, ReLU. */
export function resnetBottleneck(options: BottleneckOptions): Block {
  rejectUnknownOptions('EIN4008', 'resnetBottleneck', options, ['width', 'out', 'stride', 'shortcut']);
  return (net, x, ns) => {
    const out = options.out ?? 4 * options.width;
    const stride = options.stride ?? 1;
    const u = net.add(`${ns}.conv1`, convBn({ out: options.width, size: 1 }), x);
    const v = net.add(`${ns}.conv2`, convBn({ out: options.width, stride }), u);
    const r = net.add(`${ns}.conv3`, convBn({ out, size: 1, activation: 'none' }), v);
    const s = shortcut(net, x, ns, out, stride, options.shortcut ?? 'projection');
    return net.add(ns, addTo(s, 'relu'), r);
  };
}

/** DenseNet(-BC) layer: BN-ReLU-1×1 conv (4k), BN-ReLU-3×3 conv (k), concatenated onto the input. */
export function denseLayer(options: { growth: number; bottleneck?: boolean }): Block {
  return (net, x, ns) => {
    const k = positiveInt(`denseLayer ${ns}`, 'growth', options.growth);
    let h = net.add(`${ns}.bn1`, batchNorm({ activation: 'relu' }), x);
    if (options.bottleneck ?? true) {
      h = net.add(`${ns}.conv1`, conv({ out: 4 * k, size: 1, bias: false }), h);
      h = net.add(`${ns}.bn2`, batchNorm({ activation: 'relu' }), h);
    }
    const r = net.add(`${ns}.conv2`, conv({ out: k, size: 3, bias: false }), h);
    return net.add(ns, concatWith(r), x);
  };
}

/** DenseNet transition: BN-ReLU-1×1 conv to ⌊θ·C⌋ channels, 2×2 average pool. */
export function denseTransition(options: { compression?: number } = {}): Block {
  return (net, x, ns) => {
    const theta = options.compression ?? 0.5;
    if (!(theta > 0 && theta <= 1)) throw modelError('EIN4008', `denseTransition ${ns}`, `compression ${theta} is outside (0, 1]`);
    const out = Math.floor(theta * x.shape[x.shape.length - 1]);
    let h = net.add(`${ns}.bn`, batchNorm({ activation: 'relu' }), x);
    h = net.add(`${ns}.conv`, conv({ out, size: 1, bias: false }), h);
    return net.add(ns, avgPool({ size: 2 }), h);
  };
}

/** MobileNet depthwise-separable block: 3×3 depthwise conv-BN-ReLU, 1×1 conv-BN-ReLU. */
export function depthwiseSeparable(options: { out: number; stride?: number }): Block {
  return (net, x, ns) => {
    const h = net.add(`${ns}.dw`, convBn({ depthwise: true, size: 3, stride: options.stride ?? 1 }), x);
    return net.add(ns, convBn({ out: options.out, size: 1 }), h);
  };
}

/**
 * ShuffleNet (v1) unit, stride 1: 1×1 group conv-BN-ReLU, channel shuffle, 3×3 depthwise conv-BN,
 * 1×1 group conv-BN, plus the input, ReLU. The bottleneck width is a quarter of the channels.
 */
export function shuffleUnit(options: { groups: number; bottleneck?: number }): Block {
  return (net, x, ns) => {
    const c = x.shape[x.shape.length - 1];
    const g = positiveInt(`shuffleUnit ${ns}`, 'groups', options.groups);
    const mid = options.bottleneck ?? c / 4;
    if (!Number.isInteger(mid) || mid % g !== 0) throw modelError('EIN4008', `shuffleUnit ${ns}`, `bottleneck width ${mid} is not a multiple of ${g} groups`);
    let h = net.add(`${ns}.gconv1`, convBn({ out: mid, size: 1, groups: g }), x);
    h = net.add(`${ns}.shuffle`, channelShuffle(g), h);
    h = net.add(`${ns}.dw`, convBn({ depthwise: true, size: 3, activation: 'none' }), h);
    h = net.add(`${ns}.gconv2`, convBn({ out: c, size: 1, groups: g, activation: 'none' }), h);
    return net.add(ns, addTo(x, 'relu'), h);
  };
}
