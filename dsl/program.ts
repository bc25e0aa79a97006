/**
 * The public face of the language: `ein` turns source text into a `Program` that can be checked,
 * printed, typeset and evaluated. Parsing happens once per source text (cached); checking once
 * per shape signature (cached on the program).
 */
import * as tf from '@tensorflow/tfjs';
import type { NdArray } from 'ndarray';
import type { CheckedProgram, IndexRange, TensorInfo } from './check/checked';
import { checkProgram, readTensors, type CheckOptions } from './check/checker';
import { EinError, throwAll } from '../core/diagnostics';
import { checkOptions } from '../core/options';
import { nameErrors } from './check/names';
import type { Program as Ast } from './parse/ast';
import { programToLatex } from './parse/latex';
import { parse } from './parse/parser';
import { printProgram } from './parse/print';
import { lowerProgram } from './lower';
import { backwardText } from './derive/backward';
import { explainPlan } from './lower/explain';
import { backendNote } from './run/backend-notes';
import { isPythonIdentifier, planToModule } from './export/pytorch';
import { boundShapes, requireAllBound } from './run/bind';
import { PlanRunner, type CompilePlan } from './run/execute';
import type { AssignedNames, BindableNames, Bindings, RequiredNames } from './types';
import { evaluateChecked, toDense, toNdarray, type DenseTensor, type ReferenceValue } from './reference/evaluate';

/** What `check` reports: every tensor's shape and every statement's index ranges. */
export interface CheckReport {
  /** Shape of every tensor: inputs, parameters and outputs. */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** Per statement (by target name), the range of each index with its origin. */
  readonly ranges: Readonly<Record<string, ReadonlyMap<string, IndexRange>>>;
  readonly inputs: readonly string[];
  readonly params: readonly string[];
  readonly outputs: readonly string[];
  /** The checked program itself, for lowering and tools. */
  readonly checked: CheckedProgram;
}

// Bound once (backends/engine-internals.ts says why): a repeated run checks its bindings with it.
const { Tensor } = tf;

const parseCache = new Map<string, Ast>();
const PARSE_CACHE_LIMIT = 256;

function parseCached(source: string): Ast {
  let ast = parseCache.get(source);
  if (ast === undefined) {
    ast = parse(source);
    throwAll(nameErrors(ast));
    if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.delete(parseCache.keys().next().value!);
    parseCache.set(source, ast);
  }
  return ast;
}

/** The cache key of a check or plan: bound shapes (in name order) and supplied consts. */
function signature(shapes: Readonly<Record<string, readonly number[]>>, consts: Readonly<Record<string, number>> | undefined): string {
  return JSON.stringify([Object.entries(shapes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), consts ?? {}]);
}

export interface RunOptions {
  /** Values for `const`s (see `check`). */
  readonly consts?: Readonly<Record<string, number>>;
  /**
   * Also evaluate with the reference evaluator and throw EIN3008 when an output differs by more
   * than `tolerance` (default 1e-3 relative). Slow: for debugging lowering.
   */
  readonly validate?: boolean;
  readonly tolerance?: number;
  /**
   * The assigned tensors to return (default: every one). Without a gradient tape the others are
   * freed as soon as no later statement reads them, so a long program — a whole network in
   * evaluation — holds a few intermediates at a time instead of all of them.
   */
  readonly outputs?: readonly string[];
}

/**
 * Source text and shapes → plan: what the run stage compiles the derived gradient programs of
 * convolutions with (parsed without the parse cache, which is for the user's programs).
 */
export const compilePlan: CompilePlan = (source, shapes) => lowerProgram(checkProgram(parse(source), { shapes }));

const RUN_OPTIONS = ['consts', 'validate', 'tolerance', 'outputs'];
const PYTORCH_OPTIONS = ['shapes', 'consts', 'className'];

/** What `toPyTorch` takes. */
export interface PyTorchOptions {
  /** Shapes of the bound tensors, as for `check` (the module is written for these shapes). */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  /** Values for `const`s (see `check`). */
  readonly consts?: Readonly<Record<string, number>>;
  /** The Python class name (default `Program`). */
  readonly className?: string;
}
const CHECK_OPTIONS = ['consts'];

/** Checks `run`'s options: known keys, a boolean `validate`, a finite non-negative `tolerance`. */
function checkRunOptions(options: RunOptions): void {
  checkOptions(options, RUN_OPTIONS, 'run');
  if (options.validate !== undefined && typeof options.validate !== 'boolean') {
    throw new EinError({ code: 'EIN3020', message: `run: validate is ${String(options.validate)}`, expected: 'true or false' });
  }
  const tol = options.tolerance;
  if (tol !== undefined && !(typeof tol === 'number' && Number.isFinite(tol) && tol >= 0)) {
    throw new EinError({
      code: 'EIN3020',
      message: `run: tolerance is ${String(tol)}`,
      expected: 'a finite number ≥ 0 (relative to the largest reference value, default 1e-3)',
    });
  }
}

/**
 * `run`'s `outputs` option as a set of the program's assigned tensors.
 * @throws EinError EIN3020 for a name the program does not assign, or no names
 */
function wantedOutputs(names: readonly string[], assigned: readonly string[]): ReadonlySet<string> {
  if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string')) {
    throw new EinError({ code: 'EIN3020', message: `run: outputs is ${JSON.stringify(names)}`, expected: 'a non-empty array of assigned tensor names' });
  }
  const unknown = names.filter((n) => !assigned.includes(n));
  if (unknown.length > 0) {
    throw new EinError({
      code: 'EIN3020',
      message: `run: outputs names ${unknown.join(', ')}, which the program does not assign`,
      expected: `names among ${assigned.join(', ')}`,
    });
  }
  return new Set(names);
}

/**
 * Tensors the program reads, never assigns, and that are neither in `given` nor consts: the
 * inputs and parameters a caller forgot.
 */
function unboundReads(ast: Ast, given: Readonly<Record<string, unknown>>, consts: Readonly<Record<string, number>> | undefined): string[] {
  const assigned = new Set<string>();
  for (const st of ast.statements) if (st.kind === 'assign' || st.kind === 'const') assigned.add(st.kind === 'assign' ? st.target : st.name);
  const supplied = (n: string) => Object.hasOwn(given, n) || (consts !== undefined && consts !== null && Object.hasOwn(consts, n));
  return [...readTensors(ast).keys()].filter((n) => !assigned.has(n) && !supplied(n));
}

/** How many lowered plans (one per input-shape signature) a program keeps. */
const PLAN_CACHE_LIMIT = 16;

/** A run without options: its binding names in order, their shapes, and the plan they chose. */
interface LastRun {
  readonly names: readonly string[];
  readonly shapes: readonly (readonly number[])[];
  readonly runner: PlanRunner;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * An einnet program. Create it with `ein`. When made from a string literal its type parameters
 * are the names it may bind (`In`), must bind (`Req`, declared `input`) and assigns (`Out`).
 */
export class Program<In extends string = string, Req extends string = never, Out extends string = string> {
  readonly ast: Ast;
  private readonly checks = new Map<string, CheckReport>();
  private readonly plans = new Map<string, PlanRunner>();
  /**
   * The last run without options. A run binding the same names, in the same order, to valid
   * tensors of the same shapes takes its plan without the checks and cache lookups in between:
   * a layer run in a loop pays for its kernels and little else.
   */
  private last: LastRun | undefined;

  constructor(readonly source: string) {
    this.ast = parseCached(source);
  }

  /**
   * Checks the program for the given bound shapes and returns every tensor's shape (parameters
   * included) and every index range, each with where it came from.
   *
   * @example
   *   ein`Y[b,j:4] = W[I,j] · X[b,I] + B[j]`.check({ X: [2, 3] }).shapes
   *   // { Y: [2,4], W: [3,4], X: [2,3], B: [4] }
   * @throws EinError for any shape or scope error, pointing at the source.
   */
  check(shapes: Readonly<Record<string, readonly number[]>> = {}, options: Omit<CheckOptions, 'shapes'> = {}): CheckReport {
    if (shapes === null || typeof shapes !== 'object') {
      throw new EinError({
        code: 'EIN2023',
        message: `check() was given ${String(shapes)} as shapes`,
        expected: 'an object mapping tensor names to shapes, e.g. { X: [32, 28, 28, 1] }',
      });
    }
    checkOptions(options, CHECK_OPTIONS, 'check');
    return this.checkFor(signature(shapes, options.consts), shapes, options);
  }

  /** `check` for shapes whose signature is `key` (run() computes it once for this and `runner`). */
  private checkFor(key: string, shapes: Readonly<Record<string, readonly number[]>>, options: Omit<CheckOptions, 'shapes'>): CheckReport {
    let report = this.checks.get(key);
    if (report === undefined) {
      const checked = checkProgram(this.ast, { ...options, shapes });
      // Null-prototype records: a tensor may be called `constructor` or `__proto__`.
      const tensorShapes: Record<string, readonly number[]> = Object.create(null);
      for (const [name, t] of checked.tensors) tensorShapes[name] = t.shape;
      const ranges: Record<string, ReadonlyMap<string, IndexRange>> = Object.create(null);
      for (const s of checked.statements) ranges[s.target] = s.ranges;
      report = { shapes: tensorShapes, tensors: checked.tensors, ranges, inputs: checked.inputs, params: checked.params, outputs: checked.outputs, checked };
      this.checks.set(key, report);
    }
    return report;
  }

  /**
   * Runs the program on tfjs. `bindings` maps every input and parameter to a float32 tf.Tensor;
   * the result maps every assigned tensor (intermediates too) to a new tf.Tensor that the caller
   * owns. Nothing else stays allocated but the plan's constants (released by `dispose()`).
   * Differentiable with tf.grad / tf.variableGrads on every backend.
   *
   * @example
   *   const { Y } = ein`Y[b,j] = W[I,j] · X[b,I]`.run({ X, W });
   * @throws EinError for missing, mistyped or mis-shaped bindings.
   */
  run(bindings: Bindings<In, Req, tf.Tensor>, options?: RunOptions): Record<Out, tf.Tensor> {
    const repeat = options === undefined ? this.sameAsLast(bindings) : undefined;
    if (repeat !== undefined) return repeat.runner.run(bindings as Record<string, tf.Tensor>) as Record<Out, tf.Tensor>;
    return this.runChecked(bindings, options === undefined ? {} : options);
  }

  /** `run` for bindings checked from scratch: their shapes, the plan for them, then the run. */
  private runChecked(bindings: Bindings<In, Req, tf.Tensor>, options: RunOptions): Record<Out, tf.Tensor> {
    checkRunOptions(options);
    const shapes = boundShapes(bindings);
    const key = signature(shapes, options.consts);
    let report: CheckReport;
    try {
      report = this.checkFor(key, shapes, { consts: options.consts });
    } catch (e) {
      // A shape error is often only the symptom of a missing binding: say that instead. A const
      // without a value (EIN2015) or with a bad one (EIN2023) is its own error.
      const missing = unboundReads(this.ast, shapes, options.consts);
      if (!(e instanceof EinError) || e.code === 'EIN2015' || e.code === 'EIN2023' || missing.length === 0) throw e;
      throw new EinError({
        code: 'EIN3003',
        message: `missing binding${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
        hint: `pass ${missing.length > 1 ? 'them' : 'it'} to run(); without ${missing.length > 1 ? 'them' : 'it'} the shapes do not follow (${e.summary})`,
      });
    }
    requireAllBound(report.checked, bindings);
    const wanted = options.outputs === undefined ? undefined : wantedOutputs(options.outputs, report.outputs);
    const runner = this.runner(key, report);
    if (Object.keys(options).length === 0) {
      const names = Object.keys(bindings);
      this.last = { names, shapes: names.map((n) => shapes[n]), runner };
    }
    const result = runner.run(bindings as Record<string, tf.Tensor>, wanted) as Record<Out, tf.Tensor>;
    if (options.validate) {
      try {
        validateAgainstReference(this as Program, bindings as Record<string, tf.Tensor>, result, options);
      } catch (e) {
        tf.dispose(Object.values(result));
        throw e;
      }
    }
    return result;
  }

  /**
   * `run`, with `validate` read asynchronously: the bindings and outputs are read by
   * `await t.data()` before the comparison with the reference evaluator. Use it in a page on
   * webgpu, where a synchronous read blocks on the GPU (and, on software WebGPU, returns zeros).
   * Without `validate` it is `run`.
   *
   * @example
   *   const { Y } = await p.runAsync({ X, W }, { validate: true });
   * @throws EinError as `run`; EIN3008 when an output differs from the reference.
   */
  async runAsync(bindings: Bindings<In, Req, tf.Tensor>, options: RunOptions = {}): Promise<Record<Out, tf.Tensor>> {
    checkRunOptions(options);
    const result = this.run(bindings, { ...options, validate: false });
    if (!options.validate) return result;
    const outputs = Object.values(result) as tf.Tensor[];
    try {
      // Once read, a tensor's values are cached on the host: the synchronous reads below use them.
      await Promise.all([...Object.values(bindings as Record<string, tf.Tensor>), ...outputs].map((t) => t.data()));
      validateAgainstReference(this as Program, bindings as Record<string, tf.Tensor>, result, options);
    } catch (e) {
      for (const t of outputs) t.dispose();
      throw e;
    }
    return result;
  }

  /**
   * For each statement: the route chosen, the tfjs ops with their shapes and arguments, and why
   * a faster route was not taken. Shapes are those of the bound tensors given. Where the active
   * backend needs a step run another way (webgl, webgpu), a `note:` line after it says how.
   */
  explain(shapes: Readonly<Record<string, readonly number[]>> = {}, options: Omit<CheckOptions, 'shapes'> = {}): string {
    checkOptions(options, CHECK_OPTIONS, 'explain');
    const report = this.check(shapes, options);
    const plan = this.runner(signature(shapes, options.consts), report).plan;
    return explainPlan(plan, (k) => backendNote(plan, k));
  }

  /**
   * The gradient of every statement written in the notation by the transpose rule (last
   * statement first), then — for the given shapes — the gradient programs the plan runs for its
   * convolutions, which are derived the same way and lowered by the same planner.
   *
   * @example
   *   ein`Y[b,j:4] = W[I,j] · X[b,I]`.backward({ X: [2, 3] })
   *   // dW[I,j] += dY[b,j] · X[b,I]
   *   // dX[b,I] += dY[b,j] · W[I,j]
   * Limitations: needs the bound shapes, like `check`, since the equations follow the checked
   * program (its implicit sums and index ranges).
   */
  backward(shapes: Readonly<Record<string, readonly number[]>>, options: Omit<CheckOptions, 'shapes'> = {}): string {
    checkOptions(options, CHECK_OPTIONS, 'backward');
    const report = this.check(shapes, options);
    return backwardText(report.checked, this.runner(signature(shapes, options.consts), report).plan);
  }

  /**
   * Python source defining `class Program(torch.nn.Module)` (or `options.className`) that computes
   * what `run` computes, for the bound shapes `options.shapes`. `forward(**tensors)` takes the bound
   * tensors by their einnet names, in einnet's layout (channels last, filters [kh, kw, in, out]),
   * and returns a dict of every assigned tensor by name; autograd gives the gradients. The file
   * needs only `torch`. Each step of the lowered plan (`explain()`) is one line under a comment
   * holding its statement: convolutions as F.conv2d/F.conv3d, pooling as F.max_pool2d/F.avg_pool2d,
   * contractions as matmul, boundary modes as F.pad, gathers as index_select.
   *
   * @example
   *   const py = ein`Y[b,j:4] = relu(W[I,j]·X[b,I] + B[j])`.toPyTorch({ shapes: { X: [2, 3] } });
   *   // exec it in Python, then Program()(X=x, W=w, B=b)["Y"]
   * @throws EinError EIN7001 for a bad option; the check's errors for shapes that do not fit.
   */
  toPyTorch(options: PyTorchOptions = {}): string {
    checkOptions(options, PYTORCH_OPTIONS, 'toPyTorch', 'EIN7001');
    const { shapes = {}, consts, className = 'Program' } = options;
    if (typeof className !== 'string' || !isPythonIdentifier(className)) {
      throw new EinError({
        code: 'EIN7001',
        message: `toPyTorch: className ${JSON.stringify(className)} is not a Python identifier`,
        expected: 'a name such as Program or LeNet5 (letters, digits, _; not a Python keyword)',
      });
    }
    if (shapes === null || typeof shapes !== 'object' || Array.isArray(shapes)) {
      throw new EinError({ code: 'EIN7001', message: `toPyTorch: shapes is ${String(shapes)}`, expected: 'an object mapping bound tensor names to shapes' });
    }
    const report = this.check(shapes, { consts });
    const plan = this.runner(signature(shapes, consts), report).plan;
    const boundShapes = new Map([...report.inputs, ...report.params].map((n) => [n, report.shapes[n]] as const));
    return planToModule(plan, { className, boundShapes, statements: report.checked.statements });
  }

  /** Releases the tfjs constants of every cached plan. The program stays usable. */
  dispose(): void {
    for (const r of this.plans.values()) r.dispose();
    this.plans.clear();
    this.last = undefined;
  }

  /** The last run without options, when `bindings` binds the same names in the same order to float32 tensors of its shapes. */
  private sameAsLast(bindings: unknown): LastRun | undefined {
    const last = this.last;
    if (last === undefined || bindings === null || typeof bindings !== 'object') return undefined;
    // Every enumerable name, inherited ones too, which the long way rejects (as any other name).
    let i = 0;
    for (const name in bindings) {
      const t = (bindings as Record<string, unknown>)[name];
      if (
        name !== last.names[i] ||
        !Object.hasOwn(bindings, name) ||
        !(t instanceof Tensor) ||
        t.isDisposed ||
        t.dtype !== 'float32' ||
        !sameShape(t.shape, last.shapes[i])
      ) {
        return undefined;
      }
      i++;
    }
    return i === last.names.length ? last : undefined;
  }

  /** The plan runner of the shapes and consts whose signature is `key`, lowered from `report` the first time. */
  private runner(key: string, report: CheckReport): PlanRunner {
    let runner = this.plans.get(key);
    if (runner === undefined) {
      runner = new PlanRunner(lowerProgram(report.checked), compilePlan);
      if (this.plans.size >= PLAN_CACHE_LIMIT) {
        const [oldKey, old] = this.plans.entries().next().value!;
        if (this.last?.runner === old) this.last = undefined;
        old.dispose();
        this.plans.delete(oldKey);
      }
      this.plans.set(key, runner);
    }
    return runner;
  }

  /** The program in canonical notation (`·` for products, one statement per line). */
  toString(): string {
    return printProgram(this.ast);
  }

  /** The program typeset in the usual notation, for KaTeX/MathJax (`aligned` environment). */
  toLatex(): string {
    return programToLatex(this.ast);
  }

  /**
   * Evaluates the program with the reference nested-loop evaluator, in float64. `values` holds
   * every input and parameter (ndarrays, tf.Tensors, numbers or nested arrays); the result holds
   * every assigned tensor as an ndarray.
   *
   * Limitations: slow by design (it defines the meaning; it is not how programs run).
   */
  evaluateReference(values: Readonly<Record<string, ReferenceValue>>, options: Omit<CheckOptions, 'shapes'> = {}): Record<string, NdArray<Float64Array>> {
    if (values === null || typeof values !== 'object') {
      throw new EinError({ code: 'EIN2023', message: `evaluateReference() was given ${String(values)}`, expected: 'an object mapping tensor names to values' });
    }
    checkOptions(options, CHECK_OPTIONS, 'evaluateReference');
    const dense = new Map<string, DenseTensor>();
    for (const [name, v] of Object.entries(values)) dense.set(name, toDense(name, v));
    const shapes: Record<string, readonly number[]> = Object.create(null);
    for (const [name, t] of dense) shapes[name] = t.shape;
    let checked: CheckedProgram;
    try {
      ({ checked } = this.check(shapes, options));
    } catch (e) {
      // As in `run`: a shape that cannot be inferred is often only a missing value.
      const missing = unboundReads(this.ast, values, options.consts);
      if (!(e instanceof EinError) || e.code === 'EIN2015' || e.code === 'EIN2023' || missing.length === 0) throw e;
      throw new EinError({
        code: 'EIN3003',
        message: `evaluateReference: no value for ${missing.join(', ')}`,
        hint: `pass ${missing.length > 1 ? 'them' : 'it'} in the values; without ${missing.length > 1 ? 'them' : 'it'} the shapes do not follow (${e.summary})`,
      });
    }
    // fromEntries defines own keys, so an output named `__proto__` is kept.
    return Object.fromEntries([...evaluateChecked(checked, dense)].map(([name, t]) => [name, toNdarray(t)]));
  }
}

function validateAgainstReference(
  program: Program,
  bindings: Readonly<Record<string, tf.Tensor>>,
  outputs: Readonly<Record<string, tf.Tensor>>,
  options: RunOptions,
): void {
  const reference = program.evaluateReference(bindings, { consts: options.consts });
  const tol = options.tolerance ?? 1e-3;
  for (const [name, ref] of Object.entries(reference)) {
    if (!Object.hasOwn(outputs, name)) continue;
    const got = outputs[name].dataSync();
    const want = ref.data;
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    for (let k = 0; k < want.length; k++) {
      if (!(Math.abs(got[k] - want[k]) <= tol * scale)) {
        throw new EinError({
          code: 'EIN3008',
          message: `lowered ${name} differs from the reference at flat index ${k}: ${got[k]} vs ${want[k]}`,
          hint: 'this is a bug in einnet lowering; please report the program and shapes',
        });
      }
    }
  }
}

/**
 * Parses an einnet program, as a tagged template or from a string.
 *
 * @example
 *   const p = ein`Y[b,j] = W[I,j] · X[b,I] + B[j]`;
 *   const q = ein('L2[b,x,y,j] = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]');
 * Interpolated values (`${k}`) are inserted as text, so numbers can parameterise a program.
 * @throws EinError (or EinErrors listing several) for syntax errors, and for unknown functions and
 *   initializers (names that need no shapes).
 */
export function ein<S extends string>(source: S): Program<BindableNames<S>, RequiredNames<S>, AssignedNames<S>>;
export function ein(strings: TemplateStringsArray, ...values: unknown[]): Program;
export function ein(first: string | TemplateStringsArray, ...values: unknown[]): Program<string, never, string> {
  if (typeof first === 'string') return new Program(first);
  if (first === null || typeof first !== 'object' || !Array.isArray((first as TemplateStringsArray).raw)) {
    throw new EinError({ code: 'EIN1002', message: `ein() was given ${typeof first}`, expected: 'a program text: ein`...` or ein("...")' });
  }
  let text = first[0];
  values.forEach((v, k) => {
    text += String(v) + first[k + 1];
  });
  return new Program(text);
}
