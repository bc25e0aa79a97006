/**
 * The gradient of a convolution, derived in the notation itself by the transpose rule: the
 * gradient of a contraction with respect to one operand is another contraction, of the output
 * gradient with the other operand. For a valid convolution
 *
 *   Y[n, u, o] = W[v, c, o] · X[n, s·u + d·v, c]
 *
 * the filter gradient reads the same windows, and the input gradient is a convolution of the
 * output gradient spread out by the stride (U) with the flipped kernel:
 *
 *   dW[v:K, c, o] = dY[n, u, o] · X[n, s·u + d·v, c]
 *   U[n, s·u, o]  = dY[n, u, o]
 *   dX[n, q:Q, c] = U[n, q - d·v, o] · W[v, c, o]
 *
 * The result is data — the programs' text and the shapes to check them against — carried by the
 * conv step of a plan. The run stage compiles them with the same planner (the conv route
 * recognises both) on the first gradient, so backends without right conv backprop kernels
 * (backends/capabilities.ts, `hasConvGradient`; every tfjs backend for dilation > 1) still train;
 * compiling lazily matters, since their own convolutions have derived gradients of their own.
 */
import { indexText } from '../check/index-text';

export interface ConvSpec {
  readonly rank: 2 | 3;
  /** Zero padding before and after each spatial axis. */
  readonly padding: readonly (readonly [number, number])[];
  readonly imageShape: readonly number[];
  readonly filterShape: readonly number[];
  readonly outShape: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly depthwise: boolean;
}

/** A derived program: its text in the notation and the shapes of the tensors it binds. */
export interface GradientProgram {
  readonly source: string;
  readonly shapes: Readonly<Record<string, readonly number[]>>;
}

/** The gradient programs of a convolution: dW from X and dY, dX from W and dY. */
export interface ConvGradientPrograms {
  readonly filter: GradientProgram;
  readonly input: GradientProgram;
}

const spatial = (rank: number, letter: string) => Array.from({ length: rank }, (_, k) => `${letter}${k + 1}`);
/** `Σ coef·name + offset` as index text. */
const affine = (terms: [string, number][], offset: number) => indexText({ kind: 'affine', terms: terms.map(([index, coef]) => ({ index, coef })), offset });

export function deriveConvBackward(spec: ConvSpec): ConvGradientPrograms {
  const r = spec.rank;
  const u = spatial(r, 'u');
  const v = spatial(r, 'v');
  const q = spatial(r, 'q');
  const K = spec.filterShape.slice(0, r);
  const Q = spec.imageShape.slice(1, 1 + r);
  const pad = spec.padding.map((p) => p[0]);
  const window = u.map((ui, k) =>
    affine(
      [
        [ui, spec.strides[k]],
        [v[k], spec.dilations[k]],
      ],
      -pad[k],
    ),
  );
  const spread = spec.strides.some((s) => s > 1);
  const C = spec.imageShape[spec.imageShape.length - 1];
  const filterSource = spec.depthwise
    ? [
        `D[n, ${u.join(', ')}, c, m] = dY[n, ${u.join(', ')}, (c:${C}, m)]`,
        `dW[${v.map((vi, k) => `${vi}:${K[k]}`).join(', ')}, c, m] = D[n, ${u.join(', ')}, c, m] · X[n, ${window.join(', ')}, c]`,
      ].join('\n')
    : `dW[${v.map((vi, k) => `${vi}:${K[k]}`).join(', ')}, c, o] = dY[n, ${u.join(', ')}, o] · X[n, ${window.join(', ')}, c]`;
  const source = spread ? 'U' : spec.depthwise ? 'D' : 'dY';
  const lines: string[] = [];
  if (spec.depthwise) lines.push(`D[n, ${u.join(', ')}, c, m] = dY[n, ${u.join(', ')}, (c:${C}, m)]`);
  const channels = spec.depthwise ? 'c, m' : 'o';
  const from = spec.depthwise ? 'D' : 'dY';
  if (spread) lines.push(`U[n, ${u.map((ui, k) => affine([[ui, spec.strides[k]]], 0)).join(', ')}, ${channels}] = ${from}[n, ${u.join(', ')}, ${channels}]`);
  const shifted = q.map((qi, k) =>
    affine(
      [
        [qi, 1],
        [v[k], -spec.dilations[k]],
      ],
      pad[k],
    ),
  );
  if (spec.depthwise) {
    lines.push(`T[n, ${q.map((qi, k) => `${qi}:${Q[k]}`).join(', ')}, c, m] = ${source}[n, ${shifted.join(', ')}, c, m] · W[${v.join(', ')}, c, m]`);
    lines.push(`dX[n, ${q.join(', ')}, c] = sum[m] T[n, ${q.join(', ')}, c, m]`);
  } else {
    lines.push(`dX[n, ${q.map((qi, k) => `${qi}:${Q[k]}`).join(', ')}, c] = ${source}[n, ${shifted.join(', ')}, o] · W[${v.join(', ')}, c, o]`);
  }
  const inputSource = lines.join('\n');
  return {
    filter: { source: filterSource, shapes: { X: spec.imageShape, dY: spec.outShape } },
    input: { source: inputSource, shapes: { W: spec.filterShape, dY: spec.outShape } },
  };
}
