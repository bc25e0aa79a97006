/**
 * Shared machinery for the lowering tests: the truth is always the reference evaluator
 * (`Program.evaluateReference`, nested loops in float64), the thing under test is `Program.run`
 * on a tfjs backend.
 *
 * - `useBackend('cpu' | 'wasm' | 'native')` switches the process-global tfjs backend (and silences
 *   the cpu backend's one-time "use tfjs-node" banner, which is noise in test output); `BACKENDS`
 *   lists the ones every per-backend suite runs on (native when its addon is built);
 * - `makeLeaves` draws seeded random values for every input and parameter of a program, as float64
 *   arrays holding float32-representable numbers, so that tfjs and the reference see identical data;
 * - `forwardMismatches` runs both and lists every output element outside tolerance;
 * - `gradientMismatches` compares `tf.grads` of `sum(last²)` through `p.run` with central finite
 *   differences of the reference in float64.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { seededRandom as libraryRandom } from '../../../core/random';
import { ein, type Program } from '../../../dsl/program';
import { findAddon } from '../../../backends/native/addon';

export type BackendName = 'cpu' | 'wasm' | 'native';

/**
 * einnet's oneDNN backend (backends/native) joins the per-backend suites when its addon is built
 * (npm install on a machine with oneDNN); elsewhere they run on cpu and wasm only.
 */
export const NATIVE_BUILT = findAddon() !== undefined;
export const BACKENDS: readonly BackendName[] = NATIVE_BUILT ? ['cpu', 'wasm', 'native'] : ['cpu', 'wasm'];

/** Switches tfjs to `name` and waits until it is ready. */
export async function useBackend(name: BackendName): Promise<void> {
  if (name === 'native') {
    const native = await import('../../../backends/native');
    native.registerNativeBackend();
    // Test programs are tiny and vitest runs two files at once on two cores: one OpenMP thread.
    native.setNativeThreads(1);
  }
  await tf.setBackend(name === 'native' ? 'einnet-native' : name);
  await tf.ready();
  // The cpu backend prints a multi-line "install tfjs-node" banner on its first tensor; it says
  // nothing about the code under test.
  const b = tf.backend() as unknown as { firstUse?: boolean };
  if (typeof b.firstUse === 'boolean') b.firstUse = false;
}

/** A seeded generator, uniform in [0, 1): the library's own (mulberry32). */
export function seededRandom(seed: number): () => number {
  return libraryRandom(seed).next;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** One differential test case: a program and the shapes of the tensors the caller binds. */
export interface Case {
  readonly name: string;
  readonly src: string;
  /** Shapes of bound inputs; parameters not listed here get the shapes the checker infers. */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly consts?: Readonly<Record<string, number>>;
  /** Tensors drawn from [0.5, 2] instead of [-1, 1] (for log, sqrt, fractional powers). */
  readonly positive?: readonly string[];
}

/** Values of every input and parameter: float64 arrays of float32-representable numbers. */
export interface Leaves {
  readonly names: readonly string[];
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly values: Record<string, Float64Array>;
  /** The outputs in statement order. */
  readonly outputs: readonly string[];
}

export function makeLeaves(p: Program, c: Pick<Case, 'shapes' | 'consts' | 'positive'>, rand: () => number): Leaves {
  const report = p.check(c.shapes, { consts: c.consts });
  const names = [...report.inputs, ...report.params];
  const shapes: Record<string, readonly number[]> = {};
  const values: Record<string, Float64Array> = {};
  for (const name of names) {
    const shape = report.shapes[name];
    shapes[name] = shape;
    const data = new Float64Array(sizeOf(shape));
    const positive = c.positive?.includes(name) ?? false;
    for (let k = 0; k < data.length; k++) data[k] = Math.fround(positive ? 0.5 + 1.5 * rand() : 2 * rand() - 1);
    values[name] = data;
  }
  return { names, shapes, values, outputs: report.outputs };
}

/** The leaves as float32 tf.Tensors (the caller disposes them). */
export function toTensors(leaves: Leaves): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const n of leaves.names) out[n] = tf.tensor(Float32Array.from(leaves.values[n]), [...leaves.shapes[n]], 'float32');
  return out;
}

/** Reference evaluation of every output, in float64. */
export function reference(
  p: Program,
  leaves: Leaves,
  values = leaves.values,
  consts?: Readonly<Record<string, number>>,
): Record<string, { shape: number[]; data: Float64Array }> {
  const dense: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const n of leaves.names) dense[n] = { shape: [...leaves.shapes[n]], data: values[n] };
  const out = p.evaluateReference(dense, { consts });
  const result: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const [name, nd] of Object.entries(out)) result[name] = { shape: [...nd.shape], data: nd.data };
  return result;
}

/**
 * Elements where `got` and `want` differ by more than `rtol·|want| + atol`, with atol =
 * rtol·max(1, max|want|) (float32 sums lose precision relative to the largest term, not to each
 * element). Returns human-readable lines, empty when all agree.
 */
export function mismatches(label: string, got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, limit = 5, atol = 0): string[] {
  if (got.length !== want.length) return [`${label}: ${got.length} elements, expected ${want.length}`];
  let scale = 1;
  for (let k = 0; k < want.length; k++) scale = Math.max(scale, Math.abs(want[k]));
  const out: string[] = [];
  let count = 0;
  for (let k = 0; k < want.length; k++) {
    const ok = Math.abs(got[k] - want[k]) <= rtol * Math.abs(want[k]) + rtol * scale + atol;
    if (!ok) {
      count++;
      if (out.length < limit) out.push(`${label}[flat ${k}]: got ${got[k]}, want ${want[k]}`);
    }
  }
  if (count > limit) out.push(`${label}: … ${count - limit} more`);
  return out;
}

/** An output of `p.run` as plain values, however they were read from its tensor. */
export interface ReadOutput {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** Every difference between the outputs of `p.run` and the reference's: names, shapes, values. */
export function outputMismatches(want: Record<string, { shape: number[]; data: Float64Array }>, got: Record<string, ReadOutput>, rtol: number): string[] {
  const problems: string[] = [];
  const names = Object.keys(want).sort();
  if (JSON.stringify(Object.keys(got).sort()) !== JSON.stringify(names)) {
    problems.push(`outputs ${Object.keys(got).sort().join(',')}, expected ${names.join(',')}`);
  }
  for (const name of names) {
    const g = got[name];
    if (g === undefined) continue;
    if (JSON.stringify(g.shape) !== JSON.stringify(want[name].shape)) {
      problems.push(`${name}: shape [${g.shape}], expected [${want[name].shape}]`);
      continue;
    }
    problems.push(...mismatches(name, g.data, want[name].data, rtol));
  }
  return problems;
}

/**
 * Runs `p` on the current backend and compares every output (intermediates included) with the
 * reference: shapes and values. Disposes everything it creates.
 */
export function forwardMismatches(p: Program, leaves: Leaves, rtol = 1e-4, consts?: Readonly<Record<string, number>>): string[] {
  const want = reference(p, leaves, leaves.values, consts);
  const bound = toTensors(leaves);
  try {
    const got = p.run(bound, { consts });
    const read: Record<string, ReadOutput> = {};
    try {
      for (const [name, t] of Object.entries(got)) read[name] = { shape: t.shape, data: t.dataSync() };
    } finally {
      for (const t of Object.values(got)) t.dispose();
    }
    return outputMismatches(want, read, rtol);
  } finally {
    for (const t of Object.values(bound)) t.dispose();
  }
}

/** `sum(out²)` of output `name`, from the reference, in float64. */
export function referenceLoss(
  p: Program,
  leaves: Leaves,
  values: Record<string, Float64Array>,
  name: string,
  consts?: Readonly<Record<string, number>>,
): number {
  const out = reference(p, leaves, values, consts)[name].data;
  let s = 0;
  for (const v of out) s += v * v;
  return s;
}

export interface GradientOptions {
  /** Relative tolerance (of max(1, max|fd|) per tensor). */
  readonly rtol?: number;
  /** Finite-difference step. */
  readonly h?: number;
  /** At most this many coordinates per tensor are checked (chosen at random when there are more). */
  readonly coordinates?: number;
  readonly consts?: Readonly<Record<string, number>>;
  /** The output whose sum of squares is the loss (default: the last one). */
  readonly output?: string;
  /**
   * Skip coordinates where the loss has a kink within ±h (relu at 0, a near-tie in a max):
   * there the one-sided differences disagree and no finite difference is the derivative. For
   * random programs, whose data cannot be chosen to stay away from kinks.
   */
  readonly skipKinks?: boolean;
}

/** `tf.grads` of `sum(output²)` through `p.run`, w.r.t. every leaf, in `leaves.names` order. */
export function lastOutputGradients(p: Program, leaves: Leaves, output: string, consts?: Readonly<Record<string, number>>): tf.Tensor[] {
  const bound = toTensors(leaves);
  const xs = leaves.names.map((n) => bound[n]);
  try {
    return tf.grads((...args: tf.Tensor[]) => {
      const bindings: Record<string, tf.Tensor> = {};
      leaves.names.forEach((n, k) => (bindings[n] = args[k]));
      const out = p.run(bindings, { consts });
      // Every other output enters with weight 0, so that every leaf is connected to the loss
      // (tf.grads refuses a leaf that does not reach it) and its gradient is exactly 0.
      const others = Object.keys(out).filter((n) => n !== output);
      const loss = tf.sum(tf.square(out[output]));
      return others.length === 0 ? loss : tf.add(loss, tf.mul(0, tf.addN(others.map((n) => tf.sum(out[n])))));
    })(xs);
  } finally {
    for (const t of xs) t.dispose();
  }
}

/**
 * `tf.grads` of `sum(out²)` (out = the last output) through `p.run`, w.r.t. every input and
 * parameter, against central differences of the reference evaluator in float64.
 */
export function gradientMismatches(p: Program, leaves: Leaves, rand: () => number, options: GradientOptions = {}): string[] {
  const output = options.output ?? leaves.outputs[leaves.outputs.length - 1];
  const values = lastOutputGradients(p, leaves, output, options.consts).map((g) => {
    const data = g.dataSync();
    g.dispose();
    return data;
  });
  return gradientValueMismatches(p, leaves, values, rand, options);
}

/**
 * Gradient values (one array per leaf, in `leaves.names` order, of `sum(out²)`) against central
 * differences of the reference evaluator in float64, at `coordinates` random places per leaf.
 */
export function gradientValueMismatches(
  p: Program,
  leaves: Leaves,
  values: readonly ArrayLike<number>[],
  rand: () => number,
  options: GradientOptions = {},
): string[] {
  const { rtol = 2e-3, h = 1e-4, coordinates = 48, consts } = options;
  const output = options.output ?? leaves.outputs[leaves.outputs.length - 1];
  const problems: string[] = [];
  const center = referenceLoss(p, leaves, leaves.values, output, consts);
  // Round-off of the float64 loss, magnified by 1/h: with a huge loss (exp of exp…) the finite
  // difference itself is noise at this level, and no comparison below it means anything.
  const noise = (1e-13 * Math.abs(center)) / h;
  leaves.names.forEach((name, k) => {
    const g = values[k];
    const n = g.length;
    const candidates = n <= coordinates ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: coordinates }, () => Math.floor(rand() * n));
    const picks: number[] = [];
    const fd: number[] = [];
    const got: number[] = [];
    for (const i of candidates) {
      const plus = { ...leaves.values, [name]: Float64Array.from(leaves.values[name]) };
      const minus = { ...leaves.values, [name]: Float64Array.from(leaves.values[name]) };
      plus[name][i] += h;
      minus[name][i] -= h;
      const up = referenceLoss(p, leaves, plus, output, consts);
      const down = referenceLoss(p, leaves, minus, output, consts);
      if (options.skipKinks) {
        const right = (up - center) / h;
        const left = (center - down) / h;
        if (Math.abs(right - left) > rtol * Math.max(1, Math.abs(right), Math.abs(left))) continue;
      }
      picks.push(i);
      fd.push((up - down) / (2 * h));
      got.push(g[i]);
    }
    problems.push(...mismatches(`d/d${name}`, got, fd, rtol, 5, noise).map((line) => line.replace(/\[flat (\d+)\]/, (_, j) => `[flat ${picks[Number(j)]}]`)));
  });
  return problems;
}

/** Parses a case's program (the parse is cached by source text). */
export function programOf(c: Pick<Case, 'src'>): Program {
  return ein(c.src);
}
