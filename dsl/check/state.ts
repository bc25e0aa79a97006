/**
 * What the checker knows about each tensor while it goes through a program, and the record of
 * the errors it has found so far (it reports every independent error, not only the first).
 */
import { EinError, lineColumn, type Span } from '../../core/diagnostics';
import type { IndexName } from '../parse/ast';
import type { InitializerSpec, Provenance, TensorRole } from './checked';

export interface TensorState {
  role: TensorRole;
  shape?: readonly number[];
  axisFrom?: readonly Provenance[];
  span: Span;
  init?: InitializerSpec;
  /** Partial shape from an `input`/`param` declaration (undefined entries = not declared). */
  declared?: readonly (number | undefined)[];
  rank?: number;
  rankSpan?: Span;
}

/** Every tensor of the program by name (a Map: names like `constructor` are names like any other). */
export type TensorTable = Map<string, TensorState>;

/**
 * The errors found so far, and the names whose declaration, binding or assignment failed:
 * a statement that uses a failed name is not checked, since its errors would only echo the first.
 */
export class Failures {
  readonly errors: EinError[] = [];
  readonly failed = new Set<string>();

  /** Runs `step`; an EinError it throws is recorded and marks `names` as failed. */
  attempt(names: readonly string[], step: () => void): boolean {
    try {
      step();
      return true;
    } catch (e) {
      if (!(e instanceof EinError)) throw e;
      this.errors.push(...e.diagnostics);
      for (const n of names) this.failed.add(n);
      return false;
    }
  }
}

/** `line:column` of a span's start, for provenance texts. */
export function at(source: string, span: Span): string {
  const { line, column } = lineColumn(source, span.start);
  return `${line}:${column}`;
}

/** The value of an extent annotation (`j:16`, `j:N`): a positive integer. */
export function extentValue(e: IndexName['extent'] & object, consts: ReadonlyMap<string, number>, source: string): number {
  if (e.kind === 'literal') return e.value;
  const v = consts.get(e.name);
  if (v === undefined) {
    throw new EinError({
      code: 'EIN2015',
      message: `unknown constant '${e.name}' used as an extent`,
      source,
      span: e.span,
      expected: 'a positive integer or the name of a const',
      hint: `declare it: const ${e.name} = 16`,
    });
  }
  if (!Number.isInteger(v) || v < 1) {
    throw new EinError({ code: 'EIN2015', message: `const ${e.name} = ${v} is not a positive integer extent`, source, span: e.span });
  }
  return v;
}
