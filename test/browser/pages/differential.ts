/**
 * Page side of test/browser/differential.test.ts, bundled by scripts/build-browser.mjs --tests into
 * dist/browser/tests/differential.mjs: every case of test/dsl/lower/cases.ts, forward and
 * gradients, on a browser backend against the reference evaluator, with the same harness (and
 * tolerances) as the Node suites. A second copy of einnet and tfjs, separate from einnet.mjs.
 */
import * as tf from '@tensorflow/tfjs';
import { CASES } from '../../dsl/lower/cases';
import { forwardMismatches, gradientMismatches, makeLeaves, programOf, seededRandom } from '../../dsl/lower/harness';
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

/** Forward (rtol 1e-4) or gradients (rtol 2e-3 vs central differences) of case `n` on `backend`. */
export async function runCase(backend: BackendName, kind: 'forward' | 'gradient', n: number): Promise<CaseResult> {
  await useBackend(backend);
  const c = CASES[n];
  const start = performance.now();
  let problems: string[];
  try {
    const p = programOf(c);
    if (kind === 'forward') {
      problems = forwardMismatches(p, makeLeaves(p, c, seededRandom(1000 + n)), 1e-4, c.consts);
    } else {
      const rand = seededRandom(2000 + n);
      problems = gradientMismatches(p, makeLeaves(p, c, rand), rand, { consts: c.consts });
    }
  } catch (e) {
    problems = [`threw ${e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message.split('\n')[0]}` : String(e)}`];
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
  const init = (shape: number[]) => tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rand() - 0.5) * 0.2), shape));
  const W = init([3, 3, 2, 4]);
  const B = init([4]);
  const V = init([6, 6, 4, 3]);
  const X = tf.tensor(Float32Array.from({ length: 4 * 8 * 8 * 2 }, () => rand()), [4, 8, 8, 2]);
  const T = tf.tensor(Float32Array.from({ length: 4 * 3 }, () => rand()), [4, 3]);
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
