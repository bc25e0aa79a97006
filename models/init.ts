/**
 * Parameter initialization: the initializers of LANGUAGE.md §3, with fan-in and fan-out read
 * from the parameter's role in the checked program rather than from a layer kind.
 *
 * ## The fan rule
 * Take the first statement that reads parameter P and look at each axis of P (each part of a
 * composite axis `(g, j)` separately), whose index is i with extent n:
 *
 * - i is **reduced** in the statement (summed away): the axis feeds each output → fan_in ×= n.
 *   If i also appears in another tensor's access *shifted together with an output index*
 *   (`x + Δx`: a window axis), it also spreads each input over n outputs → fan_out ×= n.
 * - i is a **left-hand** (output) index that no non-parameter tensor of the statement reads: each
 *   input reaches n outputs through it → fan_out ×= n.
 * - i is a left-hand index that the input also carries (depthwise `j`, batch-norm `γ[j]`): the
 *   axis pairs inputs with outputs one to one → neither.
 *
 * So a convolution `W[Δx,Δy,I,j] · L[b,x+Δx,y+Δy,I]` has fan_in = kx·ky·I and fan_out = kx·ky·j
 * (Glorot's and Keras' convention), a dense `W[i,k] · X[b,i]` has fan_in = i, fan_out = k, and a
 * depthwise `W[Δx,Δy,j] · L[b,x+Δx,y+Δy,j]` has fan_in = fan_out = kx·ky. A parameter read
 * outside any product gets fan_in = fan_out = 1.
 *
 * ## Formulas
 * glorot_uniform U(±√(6/(fi+fo))); glorot_normal N(0, √(2/(fi+fo))); he_uniform U(±√(6/fi));
 * he_normal N(0, √(2/fi)); normal(m, s) N(m, s); uniform(a, b) U(a, b); zeros; ones. Normals are
 * plain (not truncated), as in the Glorot and He papers and PyTorch.
 *
 * Numbers are drawn on the host from a Mulberry32 stream seeded by (model seed, parameter name),
 * so they are the same on every backend and machine, and adding a parameter leaves the others'
 * values unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { CheckedExpr, CheckedIndex, CheckedProgram, CheckedStatement, InitializerSpec } from '../dsl/check/checked';
import { seededRandom, type Random } from '../core/random';
import { modelError } from './errors';
import { readsOf } from '../dsl/check/reads';

/** Fan-in and fan-out of a parameter, and why (for `explainInit`). */
export interface Fans {
  readonly fanIn: number;
  readonly fanOut: number;
  /** The statement whose use decided the fans, or undefined when the parameter is unused. */
  readonly statement?: string;
}

/** The affine parts of one axis expression: one for a plain axis, one per part of a composite. */
function affineParts(ix: CheckedIndex): Array<{ terms: ReadonlyArray<{ index: string; coef: number }>; extent?: number }> {
  switch (ix.kind) {
    case 'affine':
      return [{ terms: ix.terms }];
    case 'composite':
      return ix.parts.map((p, k) => ({ terms: p.terms, extent: ix.factors[k] }));
    case 'floordiv':
      return [{ terms: ix.arg.terms }];
    case 'boundary':
      return affineParts(ix.arg.kind === 'affine' ? ix.arg : { kind: 'floordiv', arg: ix.arg.arg, divisor: ix.arg.divisor });
  }
}

/**
 * Fan-in and fan-out of parameter `name` from its first use in `checked` (see the module comment
 * for the rule).
 *
 * @example
 *   fansOf(ein`Y[b,x:8,y:8,j:16] = W[Δx:3,Δy:3,I,j]·X[b,x+Δx-1,y+Δy-1,I]`.check({X:[1,8,8,4]}).checked, 'W')
 *   // { fanIn: 36, fanOut: 144, statement: 'Y' }
 */
export function fansOf(checked: CheckedProgram, name: string): Fans {
  const params = new Set(checked.params);
  for (const st of checked.statements) {
    const accesses: Array<Extract<CheckedExpr, { kind: 'access' }>> = [];
    for (const part of st.parts) readsOf(part, accesses);
    const own = accesses.find((a) => a.tensor === name);
    if (own === undefined) continue;
    const others = accesses.filter((a) => a.tensor !== name && !params.has(a.tensor));
    let fanIn = 1;
    let fanOut = 1;
    for (const ix of own.indices) {
      for (const part of affineParts(ix)) {
        if (part.terms.length !== 1) continue;
        const index = part.terms[0].index;
        const range = st.ranges.get(index);
        if (range === undefined) continue;
        const n = part.extent ?? range.extent;
        if (range.role === 'reduced') {
          fanIn *= n;
          if (isWindowIndex(index, others, st)) fanOut *= n;
        } else if (!others.some((a) => a.indices.some((oi) => affineParts(oi).some((p) => p.terms.some((t) => t.index === index))))) {
          fanOut *= n;
        }
      }
    }
    return { fanIn, fanOut, statement: st.target };
  }
  return { fanIn: 1, fanOut: 1 };
}

/** True when `index` is shifted together with a left-hand index somewhere (`x + Δx`). */
function isWindowIndex(index: string, others: ReadonlyArray<Extract<CheckedExpr, { kind: 'access' }>>, st: CheckedStatement): boolean {
  for (const a of others) {
    for (const ix of a.indices) {
      for (const p of affineParts(ix)) {
        if (p.terms.some((t) => t.index === index) && p.terms.some((t) => t.index !== index && st.ranges.get(t.index)?.role === 'lhs')) return true;
      }
    }
  }
  return false;
}

/** FNV-1a of a string: a stable 32-bit number per parameter name. */
function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The generator for one parameter: independent of the other parameters' names and order. */
export function parameterRandom(seed: number, name: string): Random {
  return seededRandom((hashName(name) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0);
}

function fillUniform(out: Float32Array, rng: Random, a: number, b: number): void {
  for (let k = 0; k < out.length; k++) out[k] = a + (b - a) * rng.next();
}

function fillNormal(out: Float32Array, rng: Random, mean: number, std: number): void {
  for (let k = 0; k < out.length; k += 2) {
    // Box–Muller; 1 - next() is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const t = 2 * Math.PI * rng.next();
    out[k] = mean + std * r * Math.cos(t);
    if (k + 1 < out.length) out[k + 1] = mean + std * r * Math.sin(t);
  }
}

/** The initial values of a parameter as a Float32Array (host memory; no tensor). */
export function initialValues(spec: InitializerSpec, shape: readonly number[], fans: Fans, rng: Random, where = 'initializer'): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const { fanIn, fanOut } = fans;
  const args = spec.args;
  switch (spec.name) {
    case 'zeros':
      return out;
    case 'ones':
      return out.fill(1);
    case 'glorot_uniform': {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      fillUniform(out, rng, -limit, limit);
      return out;
    }
    case 'glorot_normal':
      fillNormal(out, rng, 0, Math.sqrt(2 / (fanIn + fanOut)));
      return out;
    case 'he_uniform': {
      const limit = Math.sqrt(6 / fanIn);
      fillUniform(out, rng, -limit, limit);
      return out;
    }
    case 'he_normal':
      fillNormal(out, rng, 0, Math.sqrt(2 / fanIn));
      return out;
    case 'normal': {
      const [m = 0, s = 1] = args;
      if (!(s >= 0)) throw modelError('EIN4011', where, `normal(${args.join(', ')}) has a negative standard deviation`, 'write normal(mean, std) with std ≥ 0');
      fillNormal(out, rng, m, s);
      return out;
    }
    case 'uniform': {
      const [a = -1, b = 1] = args;
      if (!(b >= a))
        throw modelError('EIN4011', where, `uniform(${args.join(', ')}) has its upper bound below its lower bound`, 'write uniform(low, high) with low ≤ high');
      fillUniform(out, rng, a, b);
      return out;
    }
    default:
      throw modelError(
        'EIN4011',
        where,
        `unknown initializer ${spec.name}`,
        'use zeros, ones, glorot_uniform, glorot_normal, he_normal, he_uniform, normal(m, s) or uniform(a, b)',
      );
  }
}

/**
 * The initial tensor of parameter `name` of a checked program: its declared (or default)
 * initializer, fans from its role, numbers from `seed`.
 */
export function initialTensor(checked: CheckedProgram, name: string, seed: number): tf.Tensor {
  const info = checked.tensors.get(name);
  if (info === undefined) throw modelError('EIN4001', 'initialTensor', `the program has no tensor ${name}`);
  const spec = info.init ?? { name: info.shape.length <= 1 ? 'zeros' : 'glorot_uniform', args: [] };
  const values = initialValues(spec, info.shape, fansOf(checked, name), parameterRandom(seed, name), `parameter ${name}`);
  return tf.tensor(values, [...info.shape], 'float32');
}
