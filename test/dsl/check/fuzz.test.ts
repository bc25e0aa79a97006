/**
 * Fuzzing through the checker: valid programs, randomly mutated, checked against random bound
 * shapes and consts. Whatever the text and the shapes, `parse` + `checkProgram` either succeed —
 * and then every tensor has a shape of positive integers and every index a range ≥ 1 — or throw
 * an EinError with a declared code and, when it has a place, a line, a column and a caret. Small
 * programs that check are also evaluated by the reference evaluator, which must not throw at all.
 * (The parser's own fuzz tests, on random text, are in test/parse/.)
 *
 * EINNET_FUZZ_SEED=<n> replays one fast-check run (a failure prints its seed and the shrunk case);
 * EINNET_FUZZ_RUNS=<n> runs longer than the default 1500.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProgram, type CheckOptions } from '../../../dsl/check/checker';
import type { CheckedProgram } from '../../../dsl/check/checked';
import { DIAGNOSTIC_CODES, EinError } from '../../../core/diagnostics';
import { parse } from '../../../dsl/parse/parser';
import { ein } from '../../../dsl/program';
import { evaluateChecked, type DenseTensor } from '../../../dsl/reference/evaluate';

/** Valid programs covering every construct, each with shapes that check. */
const SEEDS: readonly { readonly src: string; readonly shapes: Record<string, number[]> }[] = [
  {
    src: 'L1[b,x,y,j:2] = relu(W1[Δx:3,Δy:3,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])\nL2[b,x,y,j] = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]',
    shapes: { L0: [1, 7, 7, 2] },
  },
  { src: 'Y[b,j:4] = W[I,j] · X[b,I] + B[j]', shapes: { X: [2, 3] } },
  { src: 'L1[b, x:4, y:4, j:2] = W[Δx:3,Δy:3,I,j] · L0[b, x+Δx-1, y+Δy-1, I]', shapes: { L0: [1, 4, 4, 1] } },
  { src: 'T[b, J1+J2] = A[b,J1] ; B[b,J2]', shapes: { A: [2, 2], B: [2, 3] } },
  { src: 'const G = 2\nY[b,(g:G,j:2)] = W[g,I,j] · X[b,(g,I)]', shapes: { X: [1, 4] } },
  { src: 'U[x,y] = X[x/2, y/2]', shapes: { X: [2, 3] } },
  { src: 'Y[x:4,y:3] = sum[Δx:3,Δy:3] X[reflect(x+Δx-1), clamp(y+Δy-1)]', shapes: { X: [4, 3] } },
  { src: 'T[2*x+Δx] = W[Δx:3] · L[x]', shapes: { L: [3] } },
  { src: 'P[x] = sqrt(sum[Δx:2] square(X[2*x+Δx]))', shapes: { X: [6] } },
  { src: 'const s = 2\nY[x] = max[Δx:s] X[s*x+Δx]', shapes: { X: [7] } },
  { src: 'input X[b:1, x:5, i:1]\nparam W ~ he_normal\nY[b,x,j:2] = W[Δx:3,i,j] · X[b,x+Δx,i]', shapes: {} },
  { src: 's = sum[i] X[i]\nY[i] = X[i] * s', shapes: { X: [3] } },
  { src: 'Y[x:4] = mean[d:3] X[wrap(x+d-1)]', shapes: { X: [4] } },
  { src: 'L[b,x,y,j:2] = σ(W[Δx:2,Δy:2,I,j]·K[b,x+Δx,y+Δy,I] − B[j])', shapes: { K: [1, 3, 3, 2] } },
  { src: 'Y[b,(i,g)] = X[b,(g:2,i)]', shapes: { X: [1, 6] } },
  { src: 'Y[x:4] = max[d:3] X[x+2*d-2]', shapes: { X: [5] } },
  { src: 'param W[i:3, j:2] ~ normal(0, 0.1)\nY[b,j] = W[i,j] X[b,i]', shapes: { X: [2, 3] } },
  { src: 'Z[i] = sum[k] A[i,k]·B[k] + C[i]', shapes: { A: [2, 3], B: [3], C: [2] } },
  { src: 'V[x,y,z,j:2] = W[a:2,c:2,e:2,I,j] · X[x+a,y+c,z+e,I]', shapes: { X: [3, 3, 3, 1] } },
  { src: 'H[i] = max(A[i], 0) - min(A[i], B[i]) / 2 ^ exp(-A[i])', shapes: { A: [3], B: [3] } },
  { src: '# depthwise\nD[x,y,c] = Σ[Δx:2,Δy:2] K[Δx,Δy,c] · X[2*x+Δx, 2*y+Δy, c]   // stride 2', shapes: { X: [5, 5, 2] } },
];

/** Fragments a mutation inserts: tokens, keywords, half constructs, bad numbers. */
const FRAGMENTS = [
  '[',
  ']',
  '(',
  ')',
  ',',
  ':',
  '=',
  ';',
  '+',
  '-',
  '*',
  '/',
  '^',
  '·',
  '⋅',
  '×',
  '−',
  'Σ',
  '∑',
  'sum',
  'max',
  'min',
  'mean',
  '0',
  '1',
  '2',
  '-1',
  '7',
  '0.5',
  '1e400',
  '1e20',
  'x',
  'y',
  'Δx',
  'I',
  'j',
  'b',
  'i',
  'X',
  'Y',
  'W',
  'σ',
  "'",
  '.',
  '#',
  '//',
  'clamp(',
  'wrap(',
  'reflect(',
  'relu(',
  'sqrt(',
  'log(',
  'toString(',
  'max(',
  '(g,',
  '(g,I)',
  'j:0',
  'j:1',
  'j:n',
  'x/0',
  'x/2',
  'y*x',
  '[]',
  '()',
  '\n',
  ' ',
  'const c = 0\n',
  'const c\n',
  'const s = -1\n',
  'input ',
  'param ',
  '~',
  'ones',
  'zeros',
  'uniform(1,2)',
  'input X[]\n',
  'param W[]\n',
  'Y[] = 1\n',
  'Y[i] = X[i]\n',
  'sum[i]',
  'max[Δx:2]',
  ' ; ',
  'J1+J2',
  '2*x+Δx',
  '$',
  '😀',
  '\t',
];
const NAMES = ['x', 'y', 'I', 'j', 'Δx', 'sum', 'W', 'X', 'Y', 'L0', 'constructor', '__proto__', 'toString', 'clamp'];

type Mutation = { readonly op: number; readonly at: number; readonly to: number; readonly pick: number };

/** Applies one mutation; positions are fractions of the current length so that shrinking stays meaningful. */
function mutate(src: string, m: Mutation): string {
  const p = Math.floor(m.at * (src.length + 1));
  const q = Math.floor(m.to * src.length);
  switch (m.op) {
    case 0: // delete a few characters
      return src.slice(0, p) + src.slice(p + 1 + (m.pick % 4));
    case 1: // insert a fragment
      return src.slice(0, p) + FRAGMENTS[m.pick % FRAGMENTS.length] + src.slice(p);
    case 2: // change every number the pick selects
      return src.replace(/\d+/g, (d, off: number) => ((off + m.pick) % 3 === 0 ? String([0, 1, 2, 3, 5, 9, 100, 4096][m.pick % 8]) : d));
    case 3: // append a copy of a slice (repeats statements, duplicates names)
      return `${src}\n${src.slice(Math.min(p, q), Math.max(p, q))}`;
    case 4: // rename one name occurrence
      return src.replace(new RegExp(`[\\p{L}_][\\p{L}\\p{N}_']*`, 'gu'), (w, off: number) =>
        off === nthWordStart(src, m.pick) ? NAMES[m.pick % NAMES.length] : w,
      );
    case 5: // swap two characters
      if (p >= src.length || q >= src.length) return src;
      return (
        src.slice(0, Math.min(p, q)) + src[Math.max(p, q)] + src.slice(Math.min(p, q) + 1, Math.max(p, q)) + src[Math.min(p, q)] + src.slice(Math.max(p, q) + 1)
      );
    default: // delete a whole line
      return src
        .split('\n')
        .filter((_, k, all) => k !== m.pick % all.length)
        .join('\n');
  }
}

function nthWordStart(src: string, n: number): number {
  const starts = [...src.matchAll(/[\p{L}_][\p{L}\p{N}_']*/gu)].map((w) => w.index ?? 0);
  return starts.length ? starts[n % starts.length] : -1;
}

/** A small deterministic generator, seeded by fast-check, for shapes and values. */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Number of indices of the first read of `name` in `src` (0 when it is never indexed). */
function rankOf(src: string, name: string): number {
  const at = src.indexOf(`${name}[`);
  if (at < 0) return 0;
  let depth = 0;
  let commas = 0;
  for (let k = at + name.length; k < src.length; k++) {
    const ch = src[k];
    if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') {
      if (--depth === 0) return src[at + name.length + 1] === ']' ? 0 : commas + 1;
    } else if (ch === ',' && depth === 1) commas++;
  }
  return commas + 1;
}

/** Shapes for a (mutated) program: the seed's good shapes, perturbed, or made up from the text. */
function shapesFor(src: string, good: Record<string, number[]>, r: () => number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  if (r() < 0.5) {
    for (const [n, sh] of Object.entries(good)) out[n] = sh.map((d) => (r() < 0.1 ? Math.max(1, d + Math.floor(r() * 5) - 2) : d));
    return out;
  }
  const names = new Set([...src.matchAll(/([\p{L}_][\p{L}\p{N}_'.]*)\s*\[/gu)].map((m) => m[1]));
  for (const m of src.matchAll(/[\p{L}_][\p{L}\p{N}_'.]*/gu)) if (r() < 0.05) names.add(m[0]);
  for (const n of names) {
    if (r() < 0.25) continue;
    const rank = r() < 0.8 ? rankOf(src, n) : Math.floor(r() * 5);
    const bad = r() < 0.05;
    out[n] = Array.from({ length: rank }, () => (bad ? [0, -1, 1.5, NaN, Infinity][Math.floor(r() * 5)] : 1 + Math.floor(r() * 5)));
  }
  return out;
}

function constsFor(r: () => number): Record<string, number> | undefined {
  if (r() < 0.8) return undefined;
  const pool: Record<string, number> = { s: Math.floor(r() * 4) - 1, G: [1, 2, 3, 2.5][Math.floor(r() * 4)], c: 2, n: 3 };
  if (r() < 0.1) pool.s = NaN;
  return pool;
}

/** The EinError contract: a declared code, and a real place with a caret when it has a span. */
function expectGoodEinError(e: unknown, src: string): void {
  if (!(e instanceof EinError)) throw new Error(`not an EinError for ${JSON.stringify(src)}: ${(e as Error)?.stack ?? String(e)}`);
  expect(Object.keys(DIAGNOSTIC_CODES)).toContain(e.code);
  if (e.span !== undefined) {
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.column).toBeGreaterThanOrEqual(1);
    expect(e.excerpt).toMatch(/\^/);
  }
}

/** What a checked program promises: positive integer shapes and ranges. */
function expectWellFormed(c: CheckedProgram): void {
  for (const t of c.tensors.values()) {
    for (const d of t.shape) expect(Number.isInteger(d) && d >= 1, `${t.name}: [${t.shape}]`).toBe(true);
    expect(t.axisFrom.length).toBe(t.shape.length);
  }
  for (const s of c.statements) {
    for (const r of s.ranges.values()) expect(Number.isInteger(r.extent) && r.extent >= 1, `${s.target} ${r.name}: ${r.extent}`).toBe(true);
  }
}

/** Evaluates a checked program on random values when it is small enough to be quick. */
function evaluateIfSmall(c: CheckedProgram, r: () => number): void {
  const values = new Map<string, DenseTensor>();
  let work = 0;
  for (const t of c.tensors.values()) work += t.shape.reduce((a, b) => a * b, 1);
  for (const s of c.statements) work += [...s.ranges.values()].reduce((a, x) => a * x.extent, 1);
  if (work > 20_000) return;
  for (const name of [...c.inputs, ...c.params]) {
    const shape = c.tensors.get(name)!.shape;
    const size = shape.reduce((a, b) => a * b, 1);
    values.set(name, { shape, data: Float64Array.from({ length: size }, () => Math.round(r() * 8 - 4)) });
  }
  const out = evaluateChecked(c, values);
  for (const s of c.statements) expect(out.get(s.target)!.data.length).toBe(s.shape.reduce((a, b) => a * b, 1));
}

const RUNS = Number(process.env.EINNET_FUZZ_RUNS ?? 1500);
const fuzzParams = { numRuns: RUNS, ...(process.env.EINNET_FUZZ_SEED ? { seed: Number(process.env.EINNET_FUZZ_SEED) } : {}) };

describe('fuzzing parse + check', () => {
  it('every seed program checks with its shapes (the fuzz starts from valid programs)', () => {
    for (const s of SEEDS) expectWellFormed(checkProgram(parse(s.src), { shapes: s.shapes }));
  });

  it('mutated valid programs with random shapes: nothing but EinError, and checked programs are well formed', () => {
    let checked = 0;
    let rejected = 0;
    const mutation = fc.record({
      op: fc.integer({ min: 0, max: 6 }),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      to: fc.double({ min: 0, max: 1, noNaN: true }),
      pick: fc.nat(1000),
    });
    fc.assert(
      fc.property(fc.nat(SEEDS.length - 1), fc.array(mutation, { minLength: 0, maxLength: 5 }), fc.integer(), (seedIndex, mutations, rngSeed) => {
        const seed = SEEDS[seedIndex];
        const src = mutations.reduce(mutate, seed.src);
        const r = xorshift(rngSeed);
        const options: CheckOptions = { shapes: shapesFor(src, seed.shapes, r), consts: constsFor(r) };
        let c: CheckedProgram;
        try {
          c = checkProgram(parse(src), options);
        } catch (e) {
          expectGoodEinError(e, src);
          rejected++;
          return;
        }
        checked++;
        expectWellFormed(c);
        evaluateIfSmall(c, r);
      }),
      fuzzParams,
    );
    // The generator must exercise both outcomes, or the property says little.
    expect(checked).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });

  it('token soup with random shapes: nothing but EinError', () => {
    const soup = fc.array(fc.constantFrom(...FRAGMENTS, ...NAMES), { minLength: 1, maxLength: 30 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(soup, fc.integer(), (src, rngSeed) => {
        const r = xorshift(rngSeed);
        try {
          const c = checkProgram(parse(src), { shapes: shapesFor(src, {}, r), consts: constsFor(r) });
          expectWellFormed(c);
        } catch (e) {
          expectGoodEinError(e, src);
        }
      }),
      { ...fuzzParams, numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('names that are also Object.prototype properties are not functions, initializers or consts', () => {
    // Found while fuzzing: FUNCTIONS['toString'] used to find Object.prototype.toString, and a
    // const named valueOf picked up Object.prototype.valueOf from the consts option.
    const unknownFn = (() => {
      try {
        checkProgram(parse('Y[i:2] = toString(X[i])'));
      } catch (e) {
        return e as EinError;
      }
    })();
    expect(unknownFn?.code).toBe('EIN2002');
    expect(() => checkProgram(parse('param W ~ constructor\nY[i:2] = W[i]'))).toThrow(/unknown initializer 'constructor'/);
    expect(() => checkProgram(parse('const valueOf\nY[i] = X[valueOf*i]'), { shapes: { X: [4] }, consts: {} })).toThrow(/const valueOf has no value/);
  });

  it('5000 nested parentheses give an EinError (the parser limits nesting), not a stack overflow', () => {
    const src = `Y[i] = ${'('.repeat(5000)}X[i]${')'.repeat(5000)}`;
    expect(() => checkProgram(parse(src), { shapes: { X: [2] } })).toThrow(/nests more than/);
    expect(() => parse(`Y[i] = X[${'('.repeat(5000)}i${')'.repeat(5000)}]`)).toThrow(EinError);
  });

  // Known limitation, reported: the checker walks expression trees recursively, and a long chain
  // of + or · is a deep (left-leaning) tree although its text is not nested, so about 3400 chained
  // terms overflow the JS stack and a RangeError escapes instead of an EinError. No real layer
  // comes near that; the fix (an iterative walk, or a limit on chain length in the parser) is the
  // lead's call. Remove `.fails` once this checks or gives an EinError.
  it('a sum of 10000 terms checks or gives an EinError, not a stack overflow', () => {
    const src = `Y[i] = ${Array(10000).fill('X[i]').join(' + ')}`;
    try {
      checkProgram(parse(src), { shapes: { X: [2] } });
    } catch (e) {
      expect(e).toBeInstanceOf(EinError);
    }
  });

  // Known limitation, reported: the checker accepts any extent, and the reference evaluator then
  // allocates the output at once, so a scatter with a huge coefficient makes `new Float64Array`
  // throw a RangeError. The fix (an extent limit — tfjs shapes are int32 — with its own code) is
  // the lead's call. Remove `.fails` once this gives an EinError.
  it('a scatter whose output would have 10^11 elements gives an EinError, not a RangeError', () => {
    let thrown: unknown;
    try {
      ein('T[100000000000*x] = X[x]').evaluateReference({ X: [1, 2] });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(EinError);
  });
});
