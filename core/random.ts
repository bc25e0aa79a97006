/**
 * Seeded randomness for shuffles, splits and augmentation: the same seed gives the same order
 * on every machine and every run, which `Math.random` cannot.
 *
 * The generator is Mulberry32 (Tommy Ettinger's 32-bit mixer): one 32-bit state, a period of
 * 2^32, fast, and statistically good enough for ordering data. It is not cryptographic.
 */
import { EinError } from './diagnostics';

/** A stateful seeded generator. Pass one object along to get a fresh draw at each use. */
export interface Random {
  /** A float uniformly in [0, 1), with 32 bits of randomness. */
  next(): number;
  /** An integer uniformly in [0, n). */
  int(n: number): number;
  /** The seed this generator started from. */
  readonly seed: number;
}

/**
 * A generator seeded with `seed` (an integer; taken modulo 2^32).
 *
 * @example
 * const rng = seededRandom(42);
 * rng.next();   // 0.6011037519201636, on every machine
 * rng.int(10);  // an integer 0..9
 */
export function seededRandom(seed: number): Random {
  if (!Number.isInteger(seed)) {
    throw new EinError({ code: 'EIN5010', message: `seededRandom: seed must be an integer, got ${String(seed)}`, hint: 'pass a whole number such as 42' });
  }
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (n: number) => Math.floor(next() * n),
  };
}

/** A seed or a generator: a seed starts a new generator, a generator continues its sequence. */
export type SeedOrRandom = number | Random;

/** The generator for `s`: a new one for a seed, `s` itself for a generator. */
export function asRandom(s: SeedOrRandom): Random {
  return typeof s === 'number' ? seededRandom(s) : s;
}

/**
 * A uniformly random permutation of 0..n-1 (Fisher–Yates), deterministic for a given seed.
 *
 * @example
 * permutation(5, 1); // the same 5-element order on every run
 */
export function permutation(n: number, seed: SeedOrRandom): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new EinError({ code: 'EIN5010', message: `permutation: n must be a non-negative integer, got ${n}` });
  const rng = asRandom(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
