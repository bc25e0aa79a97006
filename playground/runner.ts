/**
 * Running a checked program on the active backend: binds the example's tensors (or seeded random
 * ones) to every input and parameter, runs, reads every output back asynchronously (a synchronous
 * read returns zeros on WebGPU without a GPU) and disposes everything it made.
 */
import { tf, type CheckReport, type Program } from '../browser';
import type { ReadTensor } from './examples';

export interface RunResult {
  readonly outputs: Record<string, ReadTensor>;
  /** Milliseconds from the call of run() to the last output read back. */
  readonly milliseconds: number;
  /** Which bindings came from the example and which were random. */
  readonly bound: Record<string, 'example' | 'random'>;
}

/** Runs `program` for the checked shapes in `report`; `values` are row-major tensors to bind by name. */
export async function runProgram(program: Program, report: CheckReport, values: Readonly<Record<string, readonly number[]>>, seed = 1): Promise<RunResult> {
  const bindings: Record<string, tf.Tensor> = {};
  const bound: Record<string, 'example' | 'random'> = {};
  let outputs: Record<string, tf.Tensor> = {};
  try {
    [...report.inputs, ...report.params].forEach((name, k) => {
      const shape = [...report.shapes[name]];
      const given = values[name];
      const size = shape.reduce((a, b) => a * b, 1);
      if (given !== undefined && given.length === size) {
        bindings[name] = tf.tensor(given as number[], shape, 'float32');
        bound[name] = 'example';
      } else {
        bindings[name] = tf.randomNormal(shape, 0, 1, 'float32', seed + k);
        bound[name] = 'random';
      }
    });
    const t0 = performance.now();
    outputs = program.run(bindings);
    const read: Record<string, ReadTensor> = {};
    for (const [name, t] of Object.entries(outputs)) read[name] = { shape: t.shape, data: (await t.data()) as Float32Array };
    return { outputs: read, milliseconds: performance.now() - t0, bound };
  } finally {
    tf.dispose(Object.values(bindings));
    tf.dispose(Object.values(outputs));
  }
}
