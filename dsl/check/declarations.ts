/**
 * The checker's first steps, before any assignment: the values of `const`s, the `input` and
 * `param` declarations, and the shapes the caller binds. Each item that fails is recorded in
 * `Failures` and the others are still checked.
 */
import { EinError, type Span } from '../../core/diagnostics';
import { suggest } from '../../core/names';
import type { Program } from '../parse/ast';
import type { InitializerSpec, TensorRole } from './checked';
import { initializerError } from './names';
import { at, extentValue, type Failures, type TensorTable } from './state';

export interface CheckOptions {
  /** Shapes of bound tensors (inputs, and parameters whose values the caller supplies). */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  /** Values for `const`s: supplies those declared without a value and overrides the others. */
  readonly consts?: Readonly<Record<string, number>>;
}

/** The value of every const: declared, or supplied in `options.consts`. */
export function resolveConsts(ast: Program, options: CheckOptions, failures: Failures): Map<string, number> {
  const consts = new Map<string, number>();
  const seen = new Map<string, Span>();
  for (const s of ast.statements) {
    if (s.kind !== 'const') continue;
    failures.attempt([s.name], () => {
      const first = seen.get(s.name);
      if (first !== undefined) {
        throw new EinError({
          code: 'EIN2001',
          message: `const ${s.name} is declared twice`,
          source: ast.source,
          span: s.nameSpan,
          related: { span: first, label: 'first declaration' },
        });
      }
      seen.set(s.name, s.nameSpan);
      // Own properties only: `const constructor` must not pick up Object.prototype.constructor.
      const supplied = options.consts !== undefined && Object.hasOwn(options.consts, s.name) ? options.consts[s.name] : undefined;
      const value = supplied ?? s.value;
      if (value === undefined) {
        throw new EinError({
          code: 'EIN2015',
          message: `const ${s.name} has no value`,
          source: ast.source,
          span: s.span,
          hint: `give it one here (const ${s.name} = 2) or supply it: p.check(shapes, { consts: { ${s.name}: 2 } })`,
        });
      }
      consts.set(s.name, value);
    });
  }
  for (const [name, value] of Object.entries(options.consts ?? {})) {
    failures.attempt([name], () => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new EinError({ code: 'EIN2023', message: `const ${name} is given ${String(value)}`, expected: 'a finite number' });
      }
      consts.set(name, value);
    });
  }
  return consts;
}

/** Enters every `input` and `param` declaration into `tensors`; `consts` are the resolved values. */
export function declareTensors(
  ast: Program,
  consts: ReadonlyMap<string, number>,
  tensors: TensorTable,
  assignedAt: ReadonlyMap<string, number>,
  failures: Failures,
): void {
  const source = ast.source;
  for (const s of ast.statements) {
    if (s.kind !== 'input' && s.kind !== 'param') continue;
    const first = tensors.get(s.name);
    if (first !== undefined) {
      failures.attempt([], () => {
        const related = { span: first.span, label: 'first declaration' };
        throw new EinError({ code: 'EIN2020', message: `${s.name} is declared twice`, source, span: s.nameSpan, related });
      });
      continue;
    }
    // A declaration sized by a const that failed would only repeat that const's error.
    if (s.indices?.some((i) => i.extent?.kind === 'const' && failures.failed.has(i.extent.name))) {
      failures.failed.add(s.name);
      continue;
    }
    failures.attempt([s.name], () => {
      if (assignedAt.has(s.name)) {
        throw new EinError({
          code: 'EIN2020',
          message: `${s.name} is declared ${s.kind === 'input' ? 'an input' : 'a parameter'} but the program assigns it`,
          source,
          span: s.nameSpan,
          hint: `remove the declaration, or rename the assigned tensor`,
        });
      }
      const declared = s.indices?.map((i) => (i.extent ? extentValue(i.extent, consts, source) : undefined));
      let init: InitializerSpec | undefined;
      if (s.kind === 'param' && s.init !== undefined) {
        const error = initializerError(s.init, source);
        if (error !== undefined) throw error;
        init = { name: s.init.name, args: s.init.args };
      }
      tensors.set(s.name, { role: s.kind, span: s.nameSpan, declared, init, rank: declared?.length, rankSpan: s.nameSpan });
    });
  }
}

/** Enters the shapes of `options.shapes` into `tensors`, checking them against declarations. */
export function bindShapes(
  ast: Program,
  options: CheckOptions,
  tensors: TensorTable,
  assignedAt: ReadonlyMap<string, number>,
  read: ReadonlyMap<string, Span>,
  failures: Failures,
): void {
  const source = ast.source;
  const unassigned = () => [...read.keys()].filter((n) => !assignedAt.has(n));
  for (const [name, shape] of Object.entries(options.shapes ?? {})) {
    failures.attempt([name], () => bindShape(name, shape));
  }

  function bindShape(name: string, shape: readonly number[]): void {
    if (assignedAt.has(name)) {
      throw new EinError({
        code: 'EIN2023',
        message: `${name} is computed by the program and cannot be bound`,
        hint: `bind only inputs and parameters: ${unassigned().join(', ') || '(none)'}`,
      });
    }
    if (!read.has(name) && !tensors.has(name)) {
      const near = suggest(name, unassigned());
      throw new EinError({
        code: 'EIN2023',
        message: `${name} is bound but the program has no tensor of that name`,
        hint: near.length ? `did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : `the program reads: ${unassigned().join(', ')}`,
      });
    }
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new EinError({
        code: 'EIN2023',
        message: `the shape bound for ${name} is ${JSON.stringify(shape)}`,
        expected: 'an array of positive integers, e.g. [32, 28, 28, 1]',
      });
    }
    const state = tensors.get(name) ?? { role: 'input' as TensorRole, span: read.get(name)! };
    const boundFrom = `bound ${name}: [${shape.join(',')}]`;
    if (state.declared !== undefined) {
      if (state.declared.length !== shape.length) {
        throw new EinError({
          code: 'EIN2010',
          message: `${name} is declared with ${state.declared.length} axes but bound with shape [${shape.join(',')}] (${shape.length} axes)`,
          source,
          span: state.span,
        });
      }
      state.declared.forEach((d, k) => {
        if (d !== undefined && d !== shape[k]) {
          throw new EinError({
            code: 'EIN2004',
            message: `${name} axis ${k} is declared ${d} but bound with ${shape[k]}`,
            source,
            span: state.span,
            extents: [
              { what: `${name} axis ${k}`, extent: d, from: `declaration at ${at(source, state.span)}` },
              { what: `${name} axis ${k}`, extent: shape[k], from: boundFrom },
            ],
          });
        }
      });
    }
    state.shape = [...shape];
    state.axisFrom = shape.map(() => ({ from: boundFrom }));
    tensors.set(name, state);
  }

  // Declared with every extent: known without a binding.
  for (const state of tensors.values()) {
    if (state.shape === undefined && state.declared !== undefined && state.declared.every((d) => d !== undefined)) {
      state.shape = state.declared as number[];
      state.axisFrom = state.declared.map(() => ({ from: `declaration at ${at(source, state.span)}`, span: state.span }));
    }
  }
}
