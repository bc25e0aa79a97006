/**
 * The EinErrors of models and training (EIN4xxx), built in one place so that every message has
 * the same shape: what is wrong, where (the option, tensor, file or step), and how to fix it.
 */
import { EinError, type DiagnosticCode } from '../core/diagnostics';
import { checkOptions } from '../core/options';

/** An EinError for a models/training mistake. `where` names the function or option. */
export function modelError(code: DiagnosticCode, where: string, message: string, hint?: string, expected?: string): EinError {
  return new EinError({ code, message: `${where}: ${message}`, hint, expected });
}

/** Throws EIN4002/EIN4010/… when `options` holds a key not in `allowed` (a typo must not pass silently). */
export function rejectUnknownOptions(code: DiagnosticCode, where: string, options: object | undefined, allowed: readonly string[]): void {
  checkOptions(options, allowed, where, code);
}

/** A product of extents, written the way the messages show shapes: `[3,3,16,32]`. */
export function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}
