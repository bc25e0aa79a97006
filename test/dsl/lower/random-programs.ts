/**
 * A fast-check generator of random well-formed, shape-correct einnet programs with matching
 * bound shapes, for the differential tests of the lowering.
 *
 * fast-check draws a *recipe* — a starting rank and extents, then 1–4 statement kinds, each with a
 * row of small integers — and `buildProgram` interprets it deterministically, tracking the shape
 * of the current tensor so that every statement it writes is in range by construction. Shrinking
 * works on the recipe: integers shrink towards 0, which always picks the simplest option
 * (no stride, no dilation, no padding, first function in each list).
 *
 * Statement kinds, each consuming the current tensor (the previous statement's result):
 *   window   sum/max/min/mean over windows on random axes, with stride, dilation, padding by
 *            offsets + declared extents, an optional weight W[Δ..], functions inside and outside;
 *   conv     channels-last convolution (dense when rank 2), optionally grouped through a composite
 *            (g:G,i), with bias and activation;
 *   contract a product with a fresh tensor sharing random axes, Einstein-summed over a random
 *            subset, kept axes in random order (rank-0 results end the chain);
 *   elementwise  unary function, + − · / or max/min with a broadcast or residual operand, transposed;
 *   concat   concatenation with a fresh tensor along a random axis;
 *   layout   channel shuffle / split / merge through composites, nearest upsampling x/f, clamp /
 *            wrap / reflect padding, or a scatter (transposed conv, affine left-hand side).
 *
 * Constructs with known lowering bugs are kept out (see known-bugs.test.ts): max/min over values
 * that may contain exact duplicates (after upsampling, boundary reads or an overlapping max/min
 * pool, whose neighbouring windows often share their maximum), elementwise max/min
 * with broadcasting, and windows whose intermediates would exceed rank 6 (wrong on wasm).
 * `avoidKnownBugs: false` lets them in.
 */
import fc from 'fast-check';
import { seededRandom, type GradientOptions, type Leaves } from './harness';

export const STEP_KINDS = ['window', 'conv', 'contract', 'elementwise', 'concat', 'layout'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export interface Recipe {
  readonly rank: number;
  readonly dims: readonly number[];
  readonly steps: readonly { readonly kind: StepKind; readonly choices: readonly number[] }[];
}

export interface RandomProgram {
  readonly src: string;
  /** Shapes of every tensor: leaves (all bound) and outputs. */
  readonly leafShapes: Record<string, number[]>;
  readonly outputShapes: Record<string, number[]>;
  readonly recipe: Recipe;
}

const CHOICES = 24;

export const recipeArb: fc.Arbitrary<Recipe> = fc.record({
  rank: fc.integer({ min: 1, max: 4 }),
  dims: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 4, maxLength: 4 }),
  steps: fc.array(fc.record({ kind: fc.constantFrom(...STEP_KINDS), choices: fc.array(fc.nat(60), { minLength: CHOICES, maxLength: CHOICES }) }), {
    minLength: 1,
    maxLength: 4,
  }),
});

/** Functions finite with a finite derivative everywhere (also at a zero-padded read). */
const SAFE_UNARY = ['', 'relu', 'tanh', 'sigmoid', 'σ', 'abs', 'square', 'softplus', 'exp'];
const MULTIPLY = ['·', '*', '⋅', ' '];
/** Larger extents are avoided by layout steps (keeps the reference evaluator fast). */
const MAX_EXTENT = 9;

interface Tensor {
  readonly name: string;
  readonly shape: number[];
}

/** Interprets a recipe (see the module comment). */
export interface BuildOptions {
  /** Keep out constructs whose lowering is known to be wrong today (default true). */
  readonly avoidKnownBugs?: boolean;
  /** Statement kinds allowed (others fall back to `elementwise`). */
  readonly kinds?: readonly StepKind[];
}

export function buildProgram(recipe: Recipe, options: BuildOptions = {}): RandomProgram {
  const avoid = options.avoidKnownBugs ?? true;
  const kinds = options.kinds ?? STEP_KINDS;
  const leafShapes: Record<string, number[]> = {};
  const outputShapes: Record<string, number[]> = {};
  const lines: string[] = [];
  const first: Tensor = { name: 'X0', shape: recipe.dims.slice(0, recipe.rank).map((d) => d) };
  leafShapes.X0 = first.shape;
  let cur = first;
  const all: Tensor[] = [first];
  /** True once the current tensor may hold exact copies of one value (x/2, clamp...). */
  let duplicates = false;
  let leafCount = 0;
  const leaf = (prefix: string, shape: number[]): string => {
    const name = `${prefix}${++leafCount}`;
    leafShapes[name] = shape;
    return name;
  };

  recipe.steps.forEach((step, s) => {
    if (cur.shape.length === 0) return; // a rank-0 result ends the chain
    let at = 0;
    const pick = (n: number) => (n <= 1 ? 0 : step.choices[at++ % CHOICES] % n);
    const target = `T${s + 1}`;
    const r = cur.shape.length;
    const ax = (k: number) => `a${k}`;
    const fn = (body: string) => {
      const f = SAFE_UNARY[pick(SAFE_UNARY.length)];
      return f === '' ? body : `${f}(${body})`;
    };
    const times = () => MULTIPLY[pick(MULTIPLY.length)];
    let line: string;
    let shape: number[];

    /** A windowed read of axis k: index text, declared output extent and kernel size. */
    const window = (k: number, name: string) => {
      const n = cur.shape[k];
      const K = 1 + pick(3);
      const stride = 1 + pick(2);
      const dil = 1 + pick(2);
      const offset = -pick(dil * (K - 1) + 1);
      const m = 1 + pick(Math.max(1, Math.ceil(n / stride)));
      const term = (c: number, v: string) => (c === 1 ? v : `${c}*${v}`);
      const text = `${term(stride, ax(k))} + ${term(dil, name)}${offset < 0 ? ` - ${-offset}` : ''}`;
      return { text, m, K, overlapping: (K - 1) * dil >= stride };
    };

    let kind: StepKind = kinds.includes(step.kind) ? step.kind : 'elementwise';
    if (kind === 'conv' && r < 2) kind = kinds.includes('window') ? 'window' : 'elementwise';
    switch (kind) {
      case 'window': {
        const aggs = avoid && duplicates ? ['sum', 'mean'] : ['sum', 'max', 'min', 'mean'];
        const agg = aggs[pick(aggs.length)];
        const windowed = cur.shape.map(() => pick(2) === 1);
        if (!windowed.some(Boolean)) windowed[r - 1] = true;
        // Window axes add to the rank of the intermediates: keep them at most 6 (wasm limit).
        if (avoid) for (let k = 0, count = 0; k < r; k++) if (windowed[k] && ++count > 6 - r) windowed[k] = false;
        const reads: string[] = [];
        const lhs: string[] = [];
        const red: string[] = [];
        const kernel: number[] = [];
        const deltas: string[] = [];
        shape = [];
        cur.shape.forEach((n, k) => {
          if (!windowed[k]) {
            reads.push(ax(k));
            lhs.push(ax(k));
            shape.push(n);
            return;
          }
          const d = `Δ${k}`;
          const w = window(k, d);
          reads.push(w.text);
          lhs.push(`${ax(k)}:${w.m}`);
          red.push(`${d}:${w.K}`);
          // Overlapping max/min windows often share their maximum: the result holds exact
          // copies of one input value in neighbouring positions.
          if ((agg === 'max' || agg === 'min') && w.overlapping) duplicates = true;
          deltas.push(d);
          kernel.push(w.K);
          shape.push(w.m);
        });
        let body = fn(`${cur.name}[${reads.join(', ')}]`);
        if (agg === 'sum' && pick(2) === 1) body = `${body}${times()}${leaf('W', kernel)}[${deltas.join(',')}]`;
        const word = agg === 'sum' && pick(2) === 1 ? 'Σ' : agg;
        const reduction = `${word}[${red.join(', ')}] ${body}`;
        line = `${target}[${lhs.join(', ')}] = ${pick(2) ? fn(reduction) : reduction}`;
        break;
      }
      case 'conv': {
        const C = cur.shape[r - 1];
        const divisors = [2, 3].filter((g) => C % g === 0);
        const G = divisors.length > 0 && pick(3) === 2 ? divisors[pick(divisors.length)] : 1;
        const J = 1 + pick(3);
        const batch = r >= 3;
        const spatial = cur.shape.slice(batch ? 1 : 0, r - 1).map((_, q) => q + (batch ? 1 : 0));
        const reads: string[] = [];
        const lhs: string[] = [];
        const deltas: string[] = [];
        const kernel: number[] = [];
        shape = [];
        if (batch) {
          reads.push(ax(0));
          lhs.push(ax(0));
          shape.push(cur.shape[0]);
        }
        for (const k of spatial) {
          const d = `Δ${k}`;
          const w = window(k, d);
          reads.push(w.text);
          lhs.push(`${ax(k)}:${w.m}`);
          deltas.push(`${d}:${w.K}`);
          kernel.push(w.K);
          shape.push(w.m);
        }
        reads.push(G > 1 ? `(g:${G},i)` : 'i');
        lhs.push(G > 1 ? '(g,j)' : 'j');
        shape.push(G * J);
        const W = leaf('W', G > 1 ? [...kernel, G, C / G, J] : [...kernel, C, J]);
        const wIdx = [...deltas, ...(G > 1 ? ['g', 'i', 'j'] : ['i', 'j'])];
        let rhs = `${W}[${wIdx.join(',')}]${times()}${cur.name}[${reads.join(', ')}]`;
        if (pick(2) === 1) rhs = `${rhs} + ${G > 1 ? `${leaf('B', [G, J])}[g,j]` : `${leaf('B', [J])}[j]`}`;
        const act = ['', 'relu', 'tanh', 'sigmoid'][pick(4)];
        line = `${target}[${lhs.join(', ')}] = ${act ? `${act}(${rhs})` : rhs}`;
        break;
      }
      case 'contract': {
        const axes = cur.shape.map((_, k) => k);
        let shared = axes.filter(() => pick(2) === 1);
        if (shared.length === 0) shared = [pick(r)];
        const summed = shared.filter(() => pick(2) === 1);
        const kept = axes.filter((k) => !summed.includes(k));
        const fresh = Array.from({ length: Math.min(pick(3), 4 - kept.length) }, (_, q) => ({ name: `n${q}`, extent: 1 + pick(4) }));
        const mAxes = shuffle([...shared.map((k) => ({ name: ax(k), extent: cur.shape[k] })), ...fresh], pick);
        const out = shuffle([...kept.map((k) => ({ name: ax(k), extent: cur.shape[k] })), ...fresh], pick);
        if (out.length === 0 && s < recipe.steps.length - 1 && pick(2) === 0) {
          // Keep the chain going most of the time: keep one summed axis.
          const k = summed.pop()!;
          out.push({ name: ax(k), extent: cur.shape[k] });
        }
        const M = leaf(
          'M',
          mAxes.map((a) => a.extent),
        );
        const product = `${cur.name}[${axes.map(ax).join(',')}]${times()}${M}[${mAxes.map((a) => a.name).join(',')}]`;
        const stillSummed = axes.filter((k) => !out.some((o) => o.name === ax(k)));
        const explicit = stillSummed.length > 0 && pick(3) === 0;
        const lhsText = out.length ? `${target}[${out.map((o) => o.name).join(', ')}]` : target;
        line = `${lhsText} = ${explicit ? `sum[${stillSummed.map(ax).join(',')}] ${product}` : product}`;
        shape = out.map((o) => o.extent);
        break;
      }
      case 'elementwise': {
        const axes = cur.shape.map((_, k) => k);
        const same = all.filter((t) => t !== cur && t.shape.length === r && t.shape.every((d, k) => d === cur.shape[k]));
        const residual = same.length > 0 && pick(2) === 0 ? same[pick(same.length)] : undefined;
        let sub = residual
          ? axes
          : shuffle(
              axes.filter(() => pick(3) > 0),
              pick,
            );
        if (sub.length === 0) sub = [pick(r)];
        const full = sub.length === r;
        const other = residual
          ? `${residual.name}[${axes.map(ax).join(',')}]`
          : `${leaf(
              'V',
              sub.map((k) => cur.shape[k]),
            )}[${sub.map(ax).join(',')}]`;
        const x = fn(`${cur.name}[${axes.map(ax).join(',')}]`);
        const ops = avoid && !full ? 4 : 6;
        const op = pick(ops);
        const rhs = [
          `${x} + ${other}`,
          `${x} - ${other}`,
          `${x}${times()}${other}`,
          `${x} / (1 + square(${other}))`,
          `max(${x}, ${other})`,
          `min(${x}, ${other})`,
        ][op];
        const order = shuffle(axes, pick);
        line = `${target}[${order.map(ax).join(', ')}] = ${rhs}`;
        shape = order.map((k) => cur.shape[k]);
        break;
      }
      case 'concat': {
        const k = pick(r);
        const e = 1 + pick(3);
        const V = leaf(
          'V',
          cur.shape.map((d, q) => (q === k ? e : d)),
        );
        const idx = (part: string) => cur.shape.map((_, q) => (q === k ? part : ax(q))).join(',');
        const lhs = cur.shape.map((_, q) => (q === k ? 'J1+J2' : ax(q))).join(', ');
        const a = `${cur.name}[${idx('J1')}]`;
        const b = fn(`${V}[${idx('J2')}]`);
        const swap = pick(2) === 1;
        line = swap
          ? `${target}[${cur.shape.map((_, q) => (q === k ? 'J1+J2' : ax(q))).join(', ')}] = ${fn(`${V}[${idx('J1')}]`)} ; ${cur.name}[${idx('J2')}]`
          : `${target}[${lhs}] = ${a} ; ${b}`;
        shape = cur.shape.map((d, q) => (q === k ? d + e : d));
        break;
      }
      case 'layout': {
        const k = pick(r);
        const n = cur.shape[k];
        const idx = (text: string) => cur.shape.map((_, q) => (q === k ? text : ax(q))).join(',');
        const lhsWith = (text: string) => cur.shape.map((_, q) => (q === k ? text : ax(q))).join(', ');
        const divisors = [2, 3].filter((g) => n % g === 0 && g < n);
        const options = ['upsample', 'boundary', 'scatter', 'shuffle', 'split', 'merge'];
        let form = options[pick(options.length)];
        const factor = 2 + pick(2);
        if (form === 'upsample' && factor * n > MAX_EXTENT) form = 'boundary';
        if ((form === 'shuffle' || form === 'split') && divisors.length === 0) form = 'boundary';
        if (form === 'split' && r >= 4) form = 'shuffle';
        if (form === 'merge' && (k === r - 1 || n * cur.shape[k + 1] > MAX_EXTENT)) form = 'boundary';
        switch (form) {
          case 'upsample':
            line = `${target}[${lhsWith(`${ax(k)}:${factor * n}`)}] = ${cur.name}[${idx(`${ax(k)}/${factor}`)}]`;
            shape = cur.shape.map((d, q) => (q === k ? factor * n : d));
            duplicates = true;
            break;
          case 'boundary': {
            const mode = ['clamp', 'wrap', 'reflect'][pick(3)];
            const p = 1 + pick(2);
            line = `${target}[${lhsWith(`${ax(k)}:${n + 2 * p}`)}] = ${cur.name}[${idx(`${mode}(${ax(k)}-${p})`)}]`;
            shape = cur.shape.map((d, q) => (q === k ? n + 2 * p : d));
            duplicates = true;
            break;
          }
          case 'scatter': {
            const stride = 1 + pick(2);
            const K = 1 + pick(3);
            const W = leaf('W', [K]);
            const lhs = lhsWith(`${stride === 1 ? '' : `${stride}*`}${ax(k)}+Δ`);
            line = `${target}[${lhs}] = ${W}[Δ]${times()}${cur.name}[${idx(ax(k))}]`;
            shape = cur.shape.map((d, q) => (q === k ? stride * (n - 1) + K : d));
            break;
          }
          case 'shuffle': {
            const G = divisors[pick(divisors.length)];
            line = `${target}[${lhsWith('(i,g)')}] = ${cur.name}[${idx(`(g:${G},i)`)}]`;
            shape = [...cur.shape];
            break;
          }
          case 'split': {
            const G = divisors[pick(divisors.length)];
            line = `${target}[${lhsWith('g, i')}] = ${cur.name}[${idx(`(g:${G},i)`)}]`;
            shape = cur.shape.flatMap((d, q) => (q === k ? [G, d / G] : [d]));
            break;
          }
          default: {
            // merge axes k and k+1 into one composite axis
            const names = cur.shape.map((_, q) => ax(q));
            const lhs = [...names.slice(0, k), `(${names[k]},${names[k + 1]})`, ...names.slice(k + 2)];
            line = `${target}[${lhs.join(', ')}] = ${cur.name}[${names.join(',')}]`;
            shape = [...cur.shape.slice(0, k), n * cur.shape[k + 1], ...cur.shape.slice(k + 2)];
          }
        }
        break;
      }
      default:
        throw new Error(`unknown step kind ${kind}`);
    }
    lines.push(line);
    outputShapes[target] = shape;
    cur = { name: target, shape };
    all.push(cur);
  });
  return { src: lines.join('\n'), leafShapes, outputShapes, recipe };
}

/** A permutation of `items` driven by `pick` (identity when every pick is 0). */
function shuffle<T>(items: readonly T[], pick: (n: number) => number): T[] {
  const out = [...items];
  for (let k = out.length - 1; k > 0; k--) {
    const j = k - pick(k + 1);
    [out[k], out[j]] = [out[j], out[k]];
  }
  return out;
}

/** Random programs (see `buildProgram` for the options). */
export function randomProgramArb(options: BuildOptions = {}): fc.Arbitrary<RandomProgram> {
  return recipeArb.map((r) => buildProgram(r, options));
}

/** The fast-check seed of the random-program suites (fixed, so CI is deterministic). */
export const FC_SEED = 20260401;

/** Values for every leaf of `rp`: float32-representable, uniform in [-1, 1), from `seed`. */
export function leavesOf(rp: RandomProgram, seed: number): Leaves {
  const rand = seededRandom(seed);
  const values: Record<string, Float64Array> = {};
  for (const [name, shape] of Object.entries(rp.leafShapes)) {
    const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
    for (let k = 0; k < data.length; k++) data[k] = Math.fround(2 * rand() - 1);
    values[name] = data;
  }
  return { names: Object.keys(rp.leafShapes), shapes: rp.leafShapes, values, outputs: Object.keys(rp.outputShapes) };
}

/**
 * The gradient check of random programs: h = 1e-6 in float64 is far from round-off and makes
 * kinks (relu at 0, near-ties in a max) rare; coordinates where one still lies within ±h are
 * skipped (one-sided differences disagree there).
 */
export const BACKWARD_OPTIONS: GradientOptions = { coordinates: 4, h: 1e-6, rtol: 2e-3, skipKinks: true };
