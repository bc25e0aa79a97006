/**
 * Python text: number and tuple literals, string literals, and identifiers made from einnet
 * names (which may hold dots, like `conv1.W`, or be Python keywords, like `lambda`).
 */

export const PYTHON_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from global if import in is ' +
    'lambda nonlocal not or pass raise return try while with yield'
  ).split(' '),
);

/** A Python float literal that reads back as exactly `x` (±inf, nan and -0.0 included). */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'float("nan")';
  if (x === Infinity) return 'float("inf")';
  if (x === -Infinity) return 'float("-inf")';
  if (Object.is(x, -0)) return '-0.0';
  const text = String(x);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** `(a, b)` for a shape or axis list; `(a,)` for one element, `()` for none. */
export function pyTuple(xs: readonly number[]): string {
  return xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`;
}

/** A Python string literal (double quotes; JSON escapes are valid Python escapes). */
export function pyString(s: string): string {
  return JSON.stringify(s);
}

/** True when `name` is a Python identifier that is not a keyword. */
export function isPythonIdentifier(name: string): boolean {
  return /^[\p{L}_][\p{L}\p{N}_]*$/u.test(name) && !PYTHON_KEYWORDS.has(name);
}

/**
 * Hands out distinct Python identifiers. Python compares identifiers after NFKC normalization
 * (`µ` is `μ`), so distinctness is checked on the normalized form.
 */
export class Identifiers {
  private readonly taken = new Set<string>();

  constructor(reserved: readonly string[]) {
    for (const r of reserved) this.taken.add(r.normalize('NFKC'));
  }

  /** An unused identifier close to `wanted`: other characters become `_`, then a number is added if needed. */
  fresh(wanted: string): string {
    let base = wanted.normalize('NFKC').replace(/[^\p{L}\p{N}_]/gu, '_');
    if (!/^[\p{L}_]/u.test(base)) base = `_${base}`;
    if (PYTHON_KEYWORDS.has(base)) base = `${base}_`;
    let name = base;
    for (let k = 2; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }
}
