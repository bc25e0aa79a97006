/**
 * The syntax tree of an einnet program, as the parser produces it: every node carries the span
 * of source text it came from, so that later stages can point at it. Nodes are plain readonly
 * data; names are resolved (tensor, index or constant) by the checker, not here.
 */
import type { Span } from '../../core/diagnostics';

// ---------------------------------------------------------------------------------------------
// Index expressions: what stands inside `[...]`.

/** An index variable or a constant's name; `extent` is an `i:N` annotation. */
export interface IndexName {
  readonly kind: 'name';
  readonly name: string;
  readonly extent?: Extent;
  readonly span: Span;
}

/** An extent annotation: a positive integer literal or the name of a `const`. */
export type Extent =
  { readonly kind: 'literal'; readonly value: number; readonly span: Span } | { readonly kind: 'const'; readonly name: string; readonly span: Span };

export interface IndexNumber {
  readonly kind: 'number';
  readonly value: number;
  readonly span: Span;
}

export interface IndexBinary {
  readonly kind: 'binary';
  readonly op: '+' | '-' | '*' | '/';
  readonly left: IndexExpr;
  readonly right: IndexExpr;
  readonly span: Span;
}

export interface IndexNegate {
  readonly kind: 'negate';
  readonly arg: IndexExpr;
  readonly span: Span;
}

/** `(g, I)`: an axis viewed row-major as several. */
export interface IndexComposite {
  readonly kind: 'composite';
  readonly parts: readonly IndexExpr[];
  readonly span: Span;
}

export type BoundaryMode = 'clamp' | 'wrap' | 'reflect';
export const BOUNDARY_MODES: readonly BoundaryMode[] = ['clamp', 'wrap', 'reflect'];

/** `clamp(e)`, `wrap(e)`, `reflect(e)`: what an out-of-range read gives. */
export interface IndexBoundary {
  readonly kind: 'boundary';
  readonly mode: BoundaryMode;
  readonly arg: IndexExpr;
  readonly span: Span;
}

/** A parenthesised index expression; kept so that `(x+1)/2` prints as written. */
export interface IndexParen {
  readonly kind: 'paren';
  readonly arg: IndexExpr;
  readonly span: Span;
}

export type IndexExpr = IndexName | IndexNumber | IndexBinary | IndexNegate | IndexComposite | IndexBoundary | IndexParen;

// ---------------------------------------------------------------------------------------------
// Value expressions: the right-hand side.

export interface TensorAccess {
  readonly kind: 'access';
  readonly tensor: string;
  readonly indices: readonly IndexExpr[];
  readonly span: Span;
  /** Span of the tensor name alone. */
  readonly nameSpan: Span;
}

export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
  /** The digits as written, so that printing keeps `1e-5` rather than `0.00001`. */
  readonly text: string;
  readonly span: Span;
}

/** A bare name: a `const`, or a rank-0 tensor. */
export interface NameRef {
  readonly kind: 'nameref';
  readonly name: string;
  readonly span: Span;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '^';

export interface Binary {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
  /** How `*` was written: `·`, `⋅`, `*`, `×` or juxtaposition (''). Printing normalises to `·`. */
  readonly spelling?: string;
}

export interface Negate {
  readonly kind: 'negate';
  readonly arg: Expr;
  readonly span: Span;
}

/** An elementwise function call `f(a, b)`; the name is checked against the function table later. */
export interface Call {
  readonly kind: 'call';
  readonly fn: string;
  readonly args: readonly Expr[];
  readonly span: Span;
  readonly nameSpan: Span;
}

export type AggregateOp = 'sum' | 'max' | 'min' | 'mean';
export const AGGREGATE_OPS: readonly AggregateOp[] = ['sum', 'max', 'min', 'mean'];

/** `sum[i, j:3] body`: `body` is the product term that follows. */
export interface Aggregate {
  readonly kind: 'aggregate';
  readonly op: AggregateOp;
  readonly indices: readonly IndexName[];
  readonly body: Expr;
  readonly span: Span;
  /** Span of the aggregator word and its bracket. */
  readonly headSpan: Span;
}

export interface Paren {
  readonly kind: 'paren';
  readonly arg: Expr;
  readonly span: Span;
}

export type Expr = TensorAccess | NumberLiteral | NameRef | Binary | Negate | Call | Aggregate | Paren;

// ---------------------------------------------------------------------------------------------
// Statements.

/** `T[i, j] = expr`, or with `;`-separated parts a concatenation. */
export interface Assignment {
  readonly kind: 'assign';
  readonly target: string;
  readonly targetSpan: Span;
  readonly indices: readonly IndexExpr[];
  /** One part for a plain assignment; several for `A[..] ; B[..]` concatenation. */
  readonly parts: readonly Expr[];
  readonly span: Span;
}

/** `input X[b, x:28, y:28, i:1]` */
export interface InputDecl {
  readonly kind: 'input';
  readonly name: string;
  readonly nameSpan: Span;
  readonly indices: readonly IndexName[];
  readonly span: Span;
}

export interface InitializerSpec {
  readonly name: string;
  readonly args: readonly number[];
  readonly span: Span;
}

/** `param W ~ he_normal` or `param W[i:3, j:4] ~ normal(0, 0.1)` */
export interface ParamDecl {
  readonly kind: 'param';
  readonly name: string;
  readonly nameSpan: Span;
  /** Optional shape declaration. */
  readonly indices?: readonly IndexName[];
  readonly init?: InitializerSpec;
  readonly span: Span;
}

/** `const s = 2`; without a value it must be supplied by the caller. */
export interface ConstDecl {
  readonly kind: 'const';
  readonly name: string;
  readonly nameSpan: Span;
  readonly value?: number;
  /** The number as written. */
  readonly text?: string;
  readonly span: Span;
}

export type Statement = Assignment | InputDecl | ParamDecl | ConstDecl;

export interface Program {
  readonly statements: readonly Statement[];
  readonly source: string;
}
