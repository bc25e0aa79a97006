/**
 * Structural equality of syntax trees: two trees are equal when they say the same thing, however
 * it was written. Spans (where a node sits in its source), `spelling` (which multiplication sign
 * was typed), `text` (the digits of a number as typed) and a program's `source` are ignored;
 * so are fields whose value is `undefined`. Everything else — kinds, names, operators, values,
 * extents, `paren` nodes, the difference between an absent and an empty index list — counts.
 *
 * Used by the printer's round-trip property (`parse(print(p))` equals `p`) and by tests that
 * compare Unicode and ASCII spellings of one program.
 */

/** Keys that record where or how something was written, not what it means. */
export const WRITTEN_KEYS: ReadonlySet<string> = new Set(['span', 'nameSpan', 'headSpan', 'targetSpan', 'spelling', 'text', 'source']);

type WrittenKey = 'span' | 'nameSpan' | 'headSpan' | 'targetSpan' | 'spelling' | 'text' | 'source';

/** A syntax tree without spans and spellings: what `stripSpans` returns. */
export type Stripped<T> = T extends readonly (infer U)[]
  ? Stripped<U>[]
  : T extends object
    ? { [K in keyof T as K extends WrittenKey ? never : K]: Stripped<T[K]> }
    : T;

/**
 * A deep copy of a syntax tree (or any part of one) without spans, spellings and `undefined`
 * fields, suitable for `toEqual` and for printing in a test failure.
 *
 * @example stripSpans(parse('Y = 2·x').statements[0])
 *   // { kind: 'assign', target: 'Y', indices: [], parts: [{ kind: 'binary', op: '*', ... }] }
 */
export function stripSpans<T>(node: T): Stripped<T> {
  return strip(node) as Stripped<T>;
}

function strip(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strip);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (WRITTEN_KEYS.has(key) || value === undefined) continue;
    out[key] = strip(value);
  }
  return out;
}

/**
 * Where two syntax trees first differ, as a path and the two values
 * (`statements[0].parts[0].op: '*' vs '/'`), or `undefined` when they are structurally equal.
 * Numbers compare by value (`0.50` and `.5` are equal; `NaN` equals `NaN`; `-0` equals `0`).
 */
export function astDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    return a === b || (Number.isNaN(a) && Number.isNaN(b)) ? undefined : `${path || '(root)'}: ${a} vs ${b}`;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${path || '(root)'}: ${show(a)} vs ${show(b)}`;
    if (a.length !== b.length) return `${path || '(root)'}: ${a.length} elements vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = astDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...meaningfulKeys(a), ...meaningfulKeys(b)]);
    for (const key of keys) {
      const d = astDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return a === b ? undefined : `${path || '(root)'}: ${show(a)} vs ${show(b)}`;
}

function meaningfulKeys(o: object): string[] {
  return Object.entries(o)
    .filter(([k, v]) => !WRITTEN_KEYS.has(k) && v !== undefined)
    .map(([k]) => k);
}

function show(v: unknown): string {
  if (v === undefined) return 'absent';
  const s = JSON.stringify(strip(v));
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

/**
 * True when two syntax trees mean the same program text up to spans and spellings
 * (see `astDifference` for the rules).
 *
 * @example astEqual(parse('Y = a·b'), parse('Y = a * b'))  // true
 */
export function astEqual(a: unknown, b: unknown): boolean {
  return astDifference(a, b) === undefined;
}
