/**
 * Tensors saved for the backward pass share their data (backends/saved-tensors.ts), installed by
 * `useBackend` and switchable with `setSharedSavedTensors`: gradients stay what calculus says they
 * are — first order, second order (where tfjs' own clone must still run) and after the caller
 * disposes a saved input — no tensor is left behind, and a first-order tape runs no Identity
 * kernel per saved tensor while sharing is on (and does again when it is off).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ein, setSharedSavedTensors, useBackend } from '../../index';
import { BACKENDS } from '../dsl/lower/harness';

const xs = [-1.5, -0.2, 0.3, 0.9, 2.0];

/** Kernel names run by `f`, counted. */
function kernelsRun(f: () => void): Map<string, number> {
  const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
  const original = engine.runKernel;
  const seen = new Map<string, number>();
  engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
    seen.set(name, (seen.get(name) ?? 0) + 1);
    return original.call(this, name, ...rest);
  };
  try {
    f();
  } finally {
    engine.runKernel = original;
  }
  return seen;
}

// f = x² · sin x + exp(x) / (1 + x²); every op saves inputs or outputs.
const f = (t: tf.Tensor) => tf.add(tf.mul(tf.square(t), tf.sin(t)), tf.div(tf.exp(t), tf.add(1, tf.square(t))));
const df = xs.map((v) => 2 * v * Math.sin(v) + v * v * Math.cos(v) + (Math.exp(v) * (1 + v * v) - Math.exp(v) * 2 * v) / (1 + v * v) ** 2);

/** f' at xs, checked against calculus; returns how many Identity kernels the gradient ran. */
function firstOrderIdentities(): number {
  const x = tf.tensor1d(xs);
  let dx: tf.Tensor | undefined;
  const kernels = kernelsRun(() => {
    dx = tf.grad(f)(x);
  });
  Array.from(dx!.dataSync()).forEach((g, k) => expect(g).toBeCloseTo(df[k], 4));
  tf.dispose([x, dx!]);
  return kernels.get('Identity') ?? 0;
}

describe.each(BACKENDS)('saved tensors share their data on %s', (backend) => {
  afterAll(async () => {
    setSharedSavedTensors(true);
    await useBackend('cpu');
  });

  it('useBackend installs the sharing: first-order gradients match calculus, without Identity kernels', async () => {
    await useBackend(backend);
    expect(firstOrderIdentities()).toBe(0);
  });

  it('setSharedSavedTensors(false) brings tfjs clone back, also after useBackend and building a runner; true removes it again', async () => {
    expect(setSharedSavedTensors(false)).toBe(false);
    await useBackend(backend);
    const input = tf.tensor1d(xs);
    tf.dispose([ein('Y[i] = tanh(X[i])').run({ X: input }).Y, input]);
    expect(firstOrderIdentities()).toBeGreaterThan(0);
    expect(setSharedSavedTensors(true)).toBe(true);
    expect(firstOrderIdentities()).toBe(0);
  });

  it('second-order gradients still flow through saved tensors (tfjs clone at depth 2)', async () => {
    await useBackend(backend);
    const x = tf.tensor1d(xs);
    // d²/dx² (x³ · sin x) = 6x sin x + 6x² cos x − x³ sin x
    const d2 = tf.grad(tf.grad((t: tf.Tensor) => tf.mul(tf.pow(t, 3), tf.sin(t))))(x);
    const got = Array.from(d2.dataSync());
    xs.forEach((v, k) => expect(got[k]).toBeCloseTo(6 * v * Math.sin(v) + 6 * v * v * Math.cos(v) - v ** 3 * Math.sin(v), 3));
    tf.dispose([x, d2]);
  });

  it('a saved input the function disposes stays readable by the gradient', async () => {
    await useBackend(backend);
    const x = tf.tensor1d(xs);
    const dx = tf.grad((t: tf.Tensor) => {
      const e = tf.exp(t); // Exp saves its output
      const y = tf.mul(e, t); // Mul saves both inputs
      e.dispose();
      return y;
    })(x);
    const got = Array.from(dx.dataSync());
    xs.forEach((v, k) => expect(got[k]).toBeCloseTo(Math.exp(v) * (1 + v), 4));
    tf.dispose([x, dx]);
  });

  it('repeated gradients leave no tensor behind', async () => {
    await useBackend(backend);
    const w = tf.variable(tf.tensor1d(xs));
    const loss = () => tf.sum(tf.mul(tf.sigmoid(w), tf.tanh(w))) as tf.Scalar;
    tf.dispose(tf.variableGrads(loss).grads);
    const before = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) {
      const { value, grads } = tf.variableGrads(loss);
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });
});
