/**
 * Page side of test/browser/differential-*.test.ts, bundled by scripts/build-browser.mjs --tests into
 * dist/browser/tests/differential.mjs: every case of test/dsl/lower/cases.ts, forward and
 * gradients, on a browser backend against the reference evaluator, with the same harness (and
 * tolerances) as the Node suites. A second copy of einnet and tfjs, separate from einnet.mjs.
 */
import * as tf from '@tensorflow/tfjs';
import { CASES } from '../../dsl/lower/cases';
import {
  gradientValueMismatches,
  lastOutputGradients,
  makeLeaves,
  outputMismatches,
  programOf,
  reference,
  seededRandom,
  toTensors,
  type Leaves,
  type ReadOutput,
} from '../../dsl/lower/harness';
import type { Program } from '../../../dsl/program';
import { useBackend, type BackendName } from '../../../backends/select-browser';
import { ein } from '../../../dsl/program';

export interface CaseResult {
  readonly name: string;
  readonly backend: string;
  /** Elements outside tolerance (empty when the case passes), or the error thrown. */
  readonly problems: string[];
  readonly ms: number;
}

export function caseNames(): string[] {
  return CASES.map((c) => c.name);
}

/**
 * forwardMismatches and gradientMismatches of test/dsl/lower/harness.ts, with the tfjs values read
 * by `await data()`: tfjs-webgpu's `dataSync` copies through a canvas, which under SwiftShader
 * returns zeros and loses the device. Same comparisons; gradients at 16 coordinates per tensor.
 */
async function forwardMismatches(p: Program, leaves: Leaves, rtol: number, consts?: Readonly<Record<string, number>>): Promise<string[]> {
  const want = reference(p, leaves, leaves.values, consts);
  const bound = toTensors(leaves);
  try {
    const got = p.run(bound, { consts });
    const read: Record<string, ReadOutput> = {};
    try {
      for (const [name, t] of Object.entries(got)) read[name] = { shape: t.shape, data: await t.data() };
    } finally {
      for (const t of Object.values(got)) t.dispose();
    }
    return outputMismatches(want, read, rtol);
  } finally {
    for (const t of Object.values(bound)) t.dispose();
  }
}

async function gradientMismatches(p: Program, leaves: Leaves, rand: () => number, consts?: Readonly<Record<string, number>>): Promise<string[]> {
  const output = leaves.outputs[leaves.outputs.length - 1];
  const values: ArrayLike<number>[] = [];
  for (const g of lastOutputGradients(p, leaves, output, consts)) {
    values.push(await g.data());
    g.dispose();
  }
  return gradientValueMismatches(p, leaves, values, rand, { coordinates: 16, consts });
}

/** Forward (rtol 1e-4) or gradients (rtol 2e-3 vs central differences) of case `n` on `backend`. */
export async function runCase(backend: BackendName, kind: 'forward' | 'gradient', n: number): Promise<CaseResult> {
  await useBackend(backend);
  const c = CASES[n];
  const start = performance.now();
  let problems: string[];
  try {
    const p = programOf(c);
    if (kind === 'forward') {
      problems = await forwardMismatches(p, makeLeaves(p, c, seededRandom(1000 + n)), 1e-4, c.consts);
    } else {
      const rand = seededRandom(2000 + n);
      problems = await gradientMismatches(p, makeLeaves(p, c, rand), rand, c.consts);
    }
  } catch (e) {
    const where = e instanceof Error ? (e.stack ?? '').split('\n').find((l) => / at (Object\.)?[A-Z]\w+ \[as kernelFunc\]/.test(l)) : undefined;
    const kernel = where?.match(/at (?:Object\.)?(\w+) \[as kernelFunc\]/)?.[1];
    problems = [
      `threw ${e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message.split('\n')[0]}` : String(e)}${kernel ? ` (in ${kernel})` : ''}`,
    ];
  }
  return { name: c.name, backend: tf.getBackend(), problems, ms: Math.round(performance.now() - start) };
}

/**
 * Tensors alive before and after `steps` SGD steps of a small conv + dense program on `backend`
 * (the loss through `p.run`, gradients with tf.variableGrads, updates in place).
 */
export async function leakCheck(backend: BackendName, steps: number): Promise<{ before: number; after: number; loss: number[]; ms: number }> {
  await useBackend(backend);
  const p = ein(`
    H[b,x,y,j:4] = relu(W[Δx:3,Δy:3,I,j] · X[b,x+Δx,y+Δy,I] + B[j])
    Y[b,k:3]     = V[x,y,j,k] · H[b,x,y,j]`);
  const rand = seededRandom(3);
  const init = (shape: number[]) =>
    tf.variable(
      tf.tensor(
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rand() - 0.5) * 0.2),
        shape,
      ),
    );
  const W = init([3, 3, 2, 4]);
  const B = init([4]);
  const V = init([6, 6, 4, 3]);
  const X = tf.tensor(
    Float32Array.from({ length: 4 * 8 * 8 * 2 }, () => rand()),
    [4, 8, 8, 2],
  );
  const T = tf.tensor(
    Float32Array.from({ length: 4 * 3 }, () => rand()),
    [4, 3],
  );
  const optimizer = tf.train.sgd(0.05);
  const losses: number[] = [];
  const step = () => {
    const cost = optimizer.minimize(() => tf.mean(tf.square(tf.sub(p.run({ X, W, B, V }).Y, T))) as tf.Scalar, true);
    return cost;
  };
  step()!.dispose();
  const before = tf.memory().numTensors;
  const start = performance.now();
  for (let i = 0; i < steps; i++) {
    const cost = step()!;
    if (i % 50 === 0 || i === steps - 1) losses.push((await cost.data())[0]);
    cost.dispose();
  }
  const ms = Math.round(performance.now() - start);
  const after = tf.memory().numTensors;
  tf.dispose([W, B, V, X, T]);
  optimizer.dispose();
  return { before, after, loss: losses, ms };
}

/** explain() of case `name` on `backend`: with the `note:` lines of the steps it reroutes there. */
export async function explainCase(backend: BackendName, name: string): Promise<string> {
  await useBackend(backend);
  const c = CASES.find((k) => k.name === name)!;
  return programOf(c).explain(c.shapes, { consts: c.consts });
}
