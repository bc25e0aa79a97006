/**
 * Data errors: every loader, the fetcher and the utilities throw `EinError`s built here, so each
 * message names the file (or option) first and ends with how to fix it.
 */
import { EinError, type DiagnosticCode } from '../core/diagnostics';

/** An error about one file: `<file>: <what is wrong>`, with a fix. */
export function fileError(code: DiagnosticCode, file: string, what: string, hint?: string, expected?: string): EinError {
  return new EinError({ code, message: `${file}: ${what}`, hint, expected });
}

/** An error about a bad argument to a data function: `<function>: <what is wrong>`. */
export function optionError(where: string, what: string, hint?: string, code: DiagnosticCode = 'EIN5010'): EinError {
  return new EinError({ code, message: `${where}: ${what}`, hint });
}

/** Node's I/O error codes, said in words. */
export function describeIoError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'file does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return e?.message ?? String(err);
  }
}
