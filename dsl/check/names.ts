/**
 * Name resolution: the mistakes in a program that need no shapes — unknown functions and
 * initializers, and the wrong number of arguments to either. `ein()` reports all of them at once,
 * before any shape is known; the checker would otherwise find them one statement at a time.
 */
import { EinError } from '../../core/diagnostics';
import { suggest } from '../../core/names';
import type { Expr, InitializerSpec, Program } from '../parse/ast';
import { forEachExpr } from '../parse/walk';
import { FUNCTIONS, type FunctionSpec } from './functions';

/** Initializers of docs/language.md §3, with the number of arguments each takes. */
export const INITIALIZERS: ReadonlyMap<string, number> = new Map([
  ['zeros', 0],
  ['ones', 0],
  ['glorot_uniform', 0],
  ['glorot_normal', 0],
  ['he_normal', 0],
  ['he_uniform', 0],
  ['normal', 2],
  ['uniform', 2],
]);

/** The function `name` names, if any (own properties only: `toString(x)` is no function). */
export function functionSpec(name: string): FunctionSpec | undefined {
  return Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
}

/** EIN2002 for a call of an unknown function, EIN2003 for a call with the wrong number of arguments. */
export function callError(e: Expr & { kind: 'call' }, source: string): EinError | undefined {
  const spec = functionSpec(e.fn);
  if (spec === undefined) {
    const near = suggest(e.fn, Object.keys(FUNCTIONS));
    return new EinError({
      code: 'EIN2002',
      message: `unknown function '${e.fn}'`,
      source,
      span: e.nameSpan,
      expected: `one of ${Object.keys(FUNCTIONS).join(', ')}`,
      hint: near.length > 0 ? `did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : 'a tensor read needs square brackets: T[i]',
    });
  }
  if (e.args.length !== spec.arity) {
    return new EinError({
      code: 'EIN2003',
      message: `${e.fn} takes ${spec.arity} argument${spec.arity === 1 ? '' : 's'} but got ${e.args.length}`,
      source,
      span: e.span,
      expected: `${e.fn}(${spec.arity === 1 ? 'x' : 'a, b'})`,
    });
  }
  return undefined;
}

/** EIN2019 for an unknown initializer or one given the wrong number of arguments. */
export function initializerError(init: InitializerSpec, source: string): EinError | undefined {
  const arity = INITIALIZERS.get(init.name);
  if (arity === undefined) {
    const near = suggest(init.name, INITIALIZERS.keys());
    return new EinError({
      code: 'EIN2019',
      message: `unknown initializer '${init.name}'`,
      source,
      span: init.span,
      expected: `one of ${[...INITIALIZERS.keys()].join(', ')}`,
      hint: near.length ? `did you mean '${near[0]}'?` : undefined,
    });
  }
  if (init.args.length !== arity) {
    return new EinError({
      code: 'EIN2019',
      message: `initializer ${init.name} takes ${arity} argument${arity === 1 ? '' : 's'} but got ${init.args.length}`,
      source,
      span: init.span,
      expected: arity === 0 ? init.name : `${init.name}(a, b)`,
    });
  }
  return undefined;
}

/** Every name error of the program, in source order. */
export function nameErrors(ast: Program): EinError[] {
  const errors: EinError[] = [];
  for (const s of ast.statements) {
    if (s.kind === 'param' && s.init !== undefined) {
      const e = initializerError(s.init, ast.source);
      if (e !== undefined) errors.push(e);
    }
    if (s.kind !== 'assign') continue;
    for (const part of s.parts) {
      forEachExpr(part, (e) => {
        if (e.kind !== 'call') return;
        const error = callError(e, ast.source);
        if (error !== undefined) errors.push(error);
      });
    }
  }
  return errors;
}
