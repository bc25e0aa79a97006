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
 * These programs are lowered by the same planner (the conv route recognises both), so backends
 * without Conv2DBackpropFilter or dilated-conv gradients (wasm; every tfjs backend for dilation
 * > 1) still train. They are derived lazily, on the first gradient, since their own convolutions
 * have derived gradients of their own.
 */
import { checkProgram } from '../check/checker';
import { indexText } from '../check/index-text';
import { parse } from '../parse/parser';
// A cycle (lower → conv route → here → lower), harmless: lowerProgram is only called later, at
// the first gradient, when both modules are fully loaded.
import * as lowering from '../lower/index';
import type { Plan } from '../lower/plan';

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

export interface ConvBackward {
  /** The derived programs, in the notation, for `p.backward()`. */
  readonly filterSource: string;
  readonly inputSource: string;
  /** Lowered plans (built on first use): inputs X, W, dY; outputs dW and dX. */
  plans(): { readonly filter: Plan; readonly input: Plan };
}

const spatial = (rank: number, letter: string) => Array.from({ length: rank }, (_, k) => `${letter}${k + 1}`);
/** `Σ coef·name + offset` as index text. */
const affine = (terms: [string, number][], offset: number) => indexText({ kind: 'affine', terms: terms.map(([index, coef]) => ({ index, coef })), offset });

export function deriveConvBackward(spec: ConvSpec): ConvBackward {
  const r = spec.rank;
  const u = spatial(r, 'u');
  const v = spatial(r, 'v');
  const q = spatial(r, 'q');
  const K = spec.filterShape.slice(0, r);
  const Q = spec.imageShape.slice(1, 1 + r);
  const pad = spec.padding.map((p) => p[0]);
  const window = u.map((ui, k) => affine([[ui, spec.strides[k]], [v[k], spec.dilations[k]]], -pad[k]));
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
  const shifted = q.map((qi, k) => affine([[qi, 1], [v[k], -spec.dilations[k]]], pad[k]));
  if (spec.depthwise) {
    lines.push(`T[n, ${q.map((qi, k) => `${qi}:${Q[k]}`).join(', ')}, c, m] = ${source}[n, ${shifted.join(', ')}, c, m] · W[${v.join(', ')}, c, m]`);
    lines.push(`dX[n, ${q.join(', ')}, c] = sum[m] T[n, ${q.join(', ')}, c, m]`);
  } else {
    lines.push(`dX[n, ${q.map((qi, k) => `${qi}:${Q[k]}`).join(', ')}, c] = ${source}[n, ${shifted.join(', ')}, o] · W[${v.join(', ')}, c, o]`);
  }
  const inputSource = lines.join('\n');
  let cached: { filter: Plan; input: Plan } | undefined;
  return {
    filterSource,
    inputSource,
    plans() {
      if (cached === undefined) {
        const shapes = { X: spec.imageShape, W: spec.filterShape, dY: spec.outShape };
        const lower = (src: string, names: readonly string[]) => {
          const bound: Record<string, readonly number[]> = {};
          for (const n of names) bound[n] = shapes[n as keyof typeof shapes];
          return lowering.lowerProgram(checkProgram(parse(src), { shapes: bound }));
        };
        cached = { filter: lower(filterSource, ['X', 'dY']), input: lower(inputSource, ['W', 'dY']) };
      }
      return cached;
    },
  };
}
