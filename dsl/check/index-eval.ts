/**
 * The value of an index expression for given index values: the arithmetic of LANGUAGE.md §4 and
 * §6 (affine forms, floor division, composites, boundary modes), compiled once into a closure.
 * Shared by the reference evaluator (which defines the meaning) and lowering (which builds
 * selection matrices and masks from it), so the two cannot disagree on what an index reads.
 */
import type { CheckedIndex } from './checked';

/** Index values, one slot per index name. */
export type Env = Int32Array;

/** Index into an axis of extent n, or -1 when out of range. */
export type AxisFn = (env: Env) => number;

export function compileAffine(terms: readonly { index: string; coef: number }[], offset: number, slot: (name: string) => number): (env: Env) => number {
  const slots = terms.map((t) => slot(t.index));
  const coefs = terms.map((t) => t.coef);
  if (slots.length === 1 && coefs[0] === 1) {
    const s0 = slots[0];
    return (env) => env[s0] + offset;
  }
  return (env) => {
    let v = offset;
    for (let k = 0; k < slots.length; k++) v += coefs[k] * env[slots[k]];
    return v;
  };
}

export function compileAxis(ix: CheckedIndex, extent: number, slot: (name: string) => number): AxisFn {
  const inRange = (v: number) => (v >= 0 && v < extent ? v : -1);
  switch (ix.kind) {
    case 'affine': {
      const f = compileAffine(ix.terms, ix.offset, slot);
      return (env) => inRange(f(env));
    }
    case 'floordiv': {
      const f = compileAffine(ix.arg.terms, ix.arg.offset, slot);
      const d = ix.divisor;
      return (env) => inRange(Math.floor(f(env) / d));
    }
    case 'composite': {
      const parts = ix.parts.map((p) => compileAffine(p.terms, p.offset, slot));
      const factors = ix.factors;
      return (env) => {
        let v = 0;
        for (let k = 0; k < parts.length; k++) {
          const pv = parts[k](env);
          if (pv < 0 || pv >= factors[k]) return -1;
          v = v * factors[k] + pv;
        }
        return inRange(v);
      };
    }
    case 'boundary': {
      const inner = ix.arg;
      const f =
        inner.kind === 'affine'
          ? compileAffine(inner.terms, inner.offset, slot)
          : (
              (g, d) => (env: Env) =>
                Math.floor(g(env) / d)
            )(compileAffine(inner.arg.terms, inner.arg.offset, slot), inner.divisor);
      const n = extent;
      switch (ix.mode) {
        case 'clamp':
          return (env) => Math.min(Math.max(f(env), 0), n - 1);
        case 'wrap':
          return (env) => ((f(env) % n) + n) % n;
        case 'reflect': {
          // Mirror without repeating the edge (numpy 'reflect'): -1 → 1, n → n-2.
          const period = 2 * (n - 1);
          return (env) => {
            if (n === 1) return 0;
            const m = ((f(env) % period) + period) % period;
            return m < n ? m : period - m;
          };
        }
      }
    }
  }
}
