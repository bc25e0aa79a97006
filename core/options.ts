/**
 * Options objects: every public function that takes one rejects a key it does not know, so that
 * a misspelling (`{ validat: true }`) is an error with a "did you mean" instead of being ignored.
 * The code is EIN3006 unless the caller's module has its own option code (models: EIN4001,
 * EIN4002, EIN4008, EIN4010).
 */
import { EinError, type DiagnosticCode } from './diagnostics';

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
    const near = closest(key, known);
    throw new EinError({
      code,
      message: `${where}: unknown option '${key}'`,
      expected: known.length > 0 ? `one of ${known.join(', ')}` : 'no options',
      hint: near !== undefined ? `did you mean '${near}'?` : `remove '${key}'`,
    });
  }
}

/** The known name nearest to `key` (case-insensitive), if it is within a third of its length. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Levenshtein distance (insertions, deletions and substitutions each cost 1). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
