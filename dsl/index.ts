/**
 * The language's one face for the rest of the package: the Program API, the checked program's
 * types for tools that inspect programs (initializers, summary), the stages for benchmarks.
 * Nothing outside dsl/ imports a file inside it but this one.
 */
export { ein, Program } from './program';
export type { CheckReport, PyTorchOptions, RunOptions } from './program';
export type {
  AffineIndex,
  CheckedExpr,
  CheckedIndex,
  CheckedProgram,
  CheckedStatement,
  IndexRange,
  InitializerSpec,
  Provenance,
  TensorInfo,
} from './check/checked';
export { checkProgram, readTensors } from './check/checker';
export { readsOf } from './check/reads';
export type { IndexExpr } from './parse/ast';
export { parse } from './parse/parser';
export { printProgram } from './parse/print';
