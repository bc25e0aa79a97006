/**
 * The checked program: what the checker hands to the reference evaluator and to lowering.
 * Every tensor has a shape, every index of every statement a range, each with where it came
 * from; implicit (Einstein) sums are explicit `reduce` nodes; index expressions are in normal
 * form (affine combinations, floor divisions, composites, boundary modes).
 */
import type { Span } from '../../core/diagnostics';
import type { AggregateOp, BoundaryMode, Program } from '../parse/ast';

// ---------------------------------------------------------------------------------------------
// Index expressions in normal form.

export interface AffineTerm {
  readonly index: string;
  readonly coef: number;
}

/** `Σ coef·index + offset`. A bare index is `{terms: [{index, coef: 1}], offset: 0}`. */
export interface AffineIndex {
  readonly kind: 'affine';
  readonly terms: readonly AffineTerm[];
  readonly offset: number;
}

/** `floor(arg / divisor)` (nearest-neighbour upsampling reads `x/2`). */
export interface FloorDivIndex {
  readonly kind: 'floordiv';
  readonly arg: AffineIndex;
  readonly divisor: number;
}

/** `(g, I)`: parts combined row-major; `factors[k]` is the extent of part k. */
export interface CompositeIndex {
  readonly kind: 'composite';
  readonly parts: readonly AffineIndex[];
  readonly factors: readonly number[];
}

/** `clamp(e)`, `wrap(e)`, `reflect(e)` around an affine or floor-division index. */
export interface BoundaryIndex {
  readonly kind: 'boundary';
  readonly mode: BoundaryMode;
  readonly arg: AffineIndex | FloorDivIndex;
}

/** Left-hand side only: `J1+J2+...`, the concatenation axis. */
export interface ConcatIndex {
  readonly kind: 'concat';
  readonly parts: readonly string[];
}

export type CheckedIndex = AffineIndex | FloorDivIndex | CompositeIndex | BoundaryIndex;
export type LhsIndex = AffineIndex | CompositeIndex | ConcatIndex;

// ---------------------------------------------------------------------------------------------
// Value expressions.

export type UnaryFn = 'neg' | 'relu' | 'sigmoid' | 'tanh' | 'exp' | 'log' | 'sqrt' | 'abs' | 'square' | 'softplus';
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min';

export type CheckedExpr =
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'access'; readonly tensor: string; readonly indices: readonly CheckedIndex[]; readonly span: Span }
  | { readonly kind: 'unary'; readonly fn: UnaryFn; readonly arg: CheckedExpr }
  | { readonly kind: 'binary'; readonly fn: BinaryFn; readonly left: CheckedExpr; readonly right: CheckedExpr }
  | {
      readonly kind: 'reduce';
      readonly op: AggregateOp;
      readonly indices: readonly string[];
      readonly body: CheckedExpr;
      /** True for a sum the Einstein rule inserted, false for one the program wrote. */
      readonly implicit: boolean;
      readonly span: Span;
    };

// ---------------------------------------------------------------------------------------------
// Ranges, tensors, statements.

/** Where an extent came from, for error messages and `explain()`. */
export interface Provenance {
  readonly from: string;
  readonly span?: Span;
}

export interface IndexRange extends Provenance {
  readonly name: string;
  /** The index takes the values 0 … extent-1. */
  readonly extent: number;
  /** `lhs` indices are iterated to produce the output; `reduced` ones are summed/maxed away. */
  readonly role: 'lhs' | 'reduced';
}

export type TensorRole = 'input' | 'param' | 'output';

export interface InitializerSpec {
  readonly name: string;
  readonly args: readonly number[];
}

export interface TensorInfo {
  readonly name: string;
  readonly role: TensorRole;
  readonly shape: readonly number[];
  /** Per axis, where its extent came from. */
  readonly axisFrom: readonly Provenance[];
  /** First place the tensor appears. */
  readonly span: Span;
  /** Parameters: the declared initializer, or the default (rank 1 → zeros, else glorot_uniform). */
  readonly init?: InitializerSpec;
}

export interface CheckedStatement {
  readonly target: string;
  readonly span: Span;
  readonly lhs: readonly LhsIndex[];
  /** One expression, or one per concatenated part (part k uses `concat.parts[k]` on that axis). */
  readonly parts: readonly CheckedExpr[];
  /** Every index of the statement. */
  readonly ranges: ReadonlyMap<string, IndexRange>;
  /** The left-hand indices, in order of first appearance: the loops that produce the output. */
  readonly loopIndices: readonly string[];
  /** True when some left-hand axis is an affine expression: writes overlap and add. */
  readonly scatter: boolean;
  readonly shape: readonly number[];
}

export interface CheckedProgram {
  readonly ast: Program;
  readonly source: string;
  readonly consts: ReadonlyMap<string, number>;
  /** Every tensor, in order of first appearance. */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly statements: readonly CheckedStatement[];
  readonly inputs: readonly string[];
  readonly params: readonly string[];
  readonly outputs: readonly string[];
}
