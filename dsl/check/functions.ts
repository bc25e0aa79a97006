/**
 * The elementwise functions of the language, with their arity and spellings. One table, read by
 * the checker (names and arity), the reference evaluator and lowering (meaning), the printer and
 * LaTeX (spelling).
 */
import type { BinaryFn, UnaryFn } from './checked';

export interface FunctionSpec {
  readonly arity: 1 | 2;
  /** The checked function it becomes. */
  readonly fn: UnaryFn | BinaryFn;
}

export const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  relu: { arity: 1, fn: 'relu' },
  sigmoid: { arity: 1, fn: 'sigmoid' },
  σ: { arity: 1, fn: 'sigmoid' }, // the usual σ(...)
  tanh: { arity: 1, fn: 'tanh' },
  exp: { arity: 1, fn: 'exp' },
  log: { arity: 1, fn: 'log' },
  sqrt: { arity: 1, fn: 'sqrt' },
  abs: { arity: 1, fn: 'abs' },
  square: { arity: 1, fn: 'square' },
  softplus: { arity: 1, fn: 'softplus' },
  max: { arity: 2, fn: 'max' },
  min: { arity: 2, fn: 'min' },
};

/** Scalar meaning of each unary function: the reference evaluator's definition. */
export const UNARY_MEANING: Readonly<Record<UnaryFn, (x: number) => number>> = {
  neg: (x) => -x,
  relu: (x) => (x > 0 ? x : 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  square: (x) => x * x,
  // log(1 + e^x), computed without overflow for large x.
  softplus: (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
};

export const BINARY_MEANING: Readonly<Record<BinaryFn, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => Math.pow(a, b),
  max: (a, b) => Math.max(a, b),
  min: (a, b) => Math.min(a, b),
};
