/**
 * A plan is data: a list of tfjs steps in single-assignment form, each with its output shape
 * and a note saying why it is there — no functions, so it serializes (serialize.ts). Lowering builds it once per program and input-shape
 * signature; `run` replays it; `explain()` prints it.
 */
import type { BinaryFn, UnaryFn } from '../check/checked';
import type { BoundaryMode } from '../parse/ast';
import type { ConvGradientPrograms } from '../derive/conv-backward';

export type ReduceFn = 'sum' | 'max' | 'min';

/** What one step computes. Inputs are earlier steps, named by index in `Plan.steps`. */
export type StepOp =
  | { readonly op: 'input'; readonly name: string }
  | { readonly op: 'constant'; readonly values: Float32Array; readonly dtype: 'float32' }
  | { readonly op: 'mask'; readonly values: Uint8Array }
  | { readonly op: 'scalar'; readonly value: number }
  /** int32 positions along one axis, kept with the plan like the other constants (for gather and scatterAdd). */
  | { readonly op: 'indices'; readonly values: Int32Array }
  /**
   * Axis `axis` of the first input read at the positions the second input (an `indices` step)
   * lists, in order; its gradient is the matching scatterAdd.
   */
  | { readonly op: 'gather'; readonly axis: number }
  /**
   * The transpose of a gather: entry m along axis `axis` of the first input is added at position
   * indices[m] of the output's axis (the second input is an `indices` step); its gradient is the
   * matching gather.
   */
  | { readonly op: 'scatterAdd'; readonly axis: number }
  | { readonly op: 'transpose'; readonly perm: readonly number[] }
  | { readonly op: 'reshape' }
  | { readonly op: 'slice'; readonly begin: readonly number[]; readonly size: readonly number[] }
  | { readonly op: 'pad'; readonly paddings: readonly (readonly [number, number])[]; readonly value: number }
  | { readonly op: 'matMul'; readonly transposeA: boolean; readonly transposeB: boolean }
  | { readonly op: 'unary'; readonly fn: UnaryFn }
  | { readonly op: 'binary'; readonly fn: BinaryFn }
  | { readonly op: 'where' }
  /** relu(a + b) of two same-shape operands, one pass each way (a residual block's output). */
  | { readonly op: 'addRelu' }
  | { readonly op: 'reduce'; readonly fn: ReduceFn; readonly axes: readonly number[] }
  | { readonly op: 'broadcast' }
  | { readonly op: 'concat'; readonly axis: number }
  | { readonly op: 'clone' }
  | { readonly op: 'reverse'; readonly axes: readonly number[] }
  /** Pads one axis as a boundary mode reads past its ends (clamp: edge, wrap: circular, reflect: mirror). */
  | { readonly op: 'boundaryPad'; readonly axis: number; readonly before: number; readonly after: number; readonly mode: BoundaryMode }
  | {
      /** A convolution with explicit zero padding (1-D runs as 2-D). */
      readonly op: 'conv';
      readonly rank: 2 | 3;
      readonly strides: readonly number[];
      readonly dilations: readonly number[];
      /** Zero padding before and after each spatial axis. */
      readonly padding: readonly (readonly [number, number])[];
      readonly depthwise: boolean;
      /** Its gradient programs, derived in the notation (compiled by the run stage when first needed). */
      readonly backward: ConvGradientPrograms;
      /** Fused epilogue: a third input holds the bias over output channels; then the activation. */
      readonly bias: boolean;
      readonly activation?: 'relu' | 'sigmoid';
    }
  /**
   * Batch statistics (routes/batchnorm.ts), flat: the mean of the input over `reduced`, then
   * sqrt(variance + epsilon), each over the kept axes in row-major order; shape [2·kept size].
   */
  | { readonly op: 'batchStats'; readonly reduced: readonly number[]; readonly epsilon: number }
  /** Half `index` (0: μ, 1: σ) of a batchStats step: one split makes both. */
  | { readonly op: 'statsHalf'; readonly index: 0 | 1 }
  /**
   * (x − μ)/σ · γ + β, then relu if set; inputs x, the batchStats step, γ if `scale`, β if
   * `offset`. Its gradient is the whole normalization's, through μ and σ.
   */
  | { readonly op: 'batchNormalize'; readonly reduced: readonly number[]; readonly scale: boolean; readonly offset: boolean; readonly relu: boolean }
  /**
   * (x − μ)/σ · γ + β with μ and σ given (batch norm in evaluation), then relu if set; inputs x,
   * μ, σ, then γ if `scale`, β if `offset`, each but x over the kept axes. Differentiable in all.
   */
  | { readonly op: 'normalize'; readonly reduced: readonly number[]; readonly scale: boolean; readonly offset: boolean; readonly relu: boolean }
  | {
      readonly op: 'pool';
      readonly fn: 'max' | 'avg';
      readonly window: readonly [number, number];
      readonly strides: readonly [number, number];
    };

export type Step = StepOp & {
  readonly inputs: readonly number[];
  readonly shape: readonly number[];
  /** Which statement it belongs to and why it exists, for `explain()`. */
  readonly note?: string;
};

/** One statement's lowering, for `explain()`. */
export interface StatementPlan {
  readonly target: string;
  readonly source: string;
  /** Routes taken, in order, with the reason a faster one was not. */
  readonly routes: readonly string[];
  readonly firstStep: number;
  readonly lastStep: number;
}

export interface Plan {
  readonly steps: readonly Step[];
  /** Step holding each assigned tensor. */
  readonly outputs: ReadonlyMap<string, number>;
  readonly statements: readonly StatementPlan[];
}
