/**
 * Options objects: every public function that takes one rejects a key it does not know, so that
 * a misspelling (`{ validat: true }`) is an error with a "did you mean" instead of being ignored.
 * The code is EIN3006 unless the caller's module has its own option code (models: EIN4001,
 * EIN4002, EIN4008, EIN4010).
 */
import { EinError, type DiagnosticCode } from './diagnostics';
import { suggest } from './names';

/**
 * Throws an EinError when `given` is not an options object (undefined passes: the defaults) or
 * holds a key not in `known`. `where` names the function, e.g. `run` or `openMnist`.
 */
export function checkOptions(given: unknown, known: readonly string[], where: string, code: DiagnosticCode = 'EIN3006'): void {
  if (given === undefined) return;
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    const what = given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given;
    throw new EinError({
      code,
      message: `${where}: the options are ${what}`,
      expected: `an object with any of ${known.join(', ')}`,
      hint: 'pass {} or leave the options out',
    });
  }
  for (const key of Object.keys(given)) {
    if (known.includes(key)) continue;
    const near = suggest(key, known, 1)[0];
    throw new EinError({
      code,
      message: `${where}: unknown option '${key}'`,
      expected: known.length > 0 ? `one of ${known.join(', ')}` : 'no options',
      hint: near !== undefined ? `did you mean '${near}'?` : `remove '${key}'`,
    });
  }
}
