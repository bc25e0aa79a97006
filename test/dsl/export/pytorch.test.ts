/**
 * `Program.toPyTorch` against einnet itself: the exported module, run by PyTorch (float32, one
 * Python process for the file, torch_server.py), gives every output and the gradients of
 * sum(last²) w.r.t. every bound tensor that `Program.run` and `tf.grads` give on the cpu backend.
 * Tolerance: 1e-4 forward, 1e-3 for gradients, relative to max(1, largest |value|) of each tensor
 * (both sides are float32; they differ in summation order). Skipped, with the reason in the
 * suite's name, where no Python can `import torch` (core/python.ts says which are tried).
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython } from '../../../core/python';
import { ein, type Program } from '../../../dsl';
import { densenetBCSpec, lenet5Source, resnetCifarSpec, SOFTMAX_CROSS_ENTROPY_SOURCE } from '../../../models';
import { CASES } from '../lower/cases';
import {
  lastOutputGradients,
  makeLeaves,
  mismatches,
  outputMismatches,
  programOf,
  seededRandom,
  toTensors,
  useBackend,
  type Leaves,
  type ReadOutput,
} from '../lower/harness';
import { randomProgramArb } from '../lower/random-programs';
import { TorchServer } from './torch-runner';

const python = findTorchPython();

/** Every difference between the exported module under PyTorch and `p.run` / `tf.grads` on cpu. */
async function exportMismatches(server: TorchServer, p: Program, leaves: Leaves, consts?: Readonly<Record<string, number>>): Promise<string[]> {
  const output = leaves.outputs[leaves.outputs.length - 1];
  const source = p.toPyTorch({ shapes: leaves.shapes, consts });
  const want: Record<string, { shape: number[]; data: Float64Array }> = {};
  const bound = toTensors(leaves);
  const got = p.run(bound, { consts });
  for (const [name, t] of Object.entries(got)) want[name] = { shape: t.shape, data: Float64Array.from(t.dataSync()) };
  for (const t of [...Object.values(got), ...Object.values(bound)]) t.dispose();
  const gradients = lastOutputGradients(p, leaves, output, consts).map((g) => {
    const data = g.dataSync();
    g.dispose();
    return data;
  });
  const tensors = Object.fromEntries(leaves.names.map((n) => [n, { shape: leaves.shapes[n], data: leaves.values[n] }]));
  const answer = await server.run(source, 'Program', tensors, output);
  const read: Record<string, ReadOutput> = answer.outputs;
  const problems = outputMismatches(want, read, 1e-4);
  leaves.names.forEach((n, k) => problems.push(...mismatches(`d/d${n}`, answer.gradients[n].data, gradients[k], 1e-3)));
  return problems.length === 0 ? [] : [...problems, source];
}

/** Leaves of a program whose bound shapes are given in full. */
function leavesFor(p: Program, shapes: Readonly<Record<string, readonly number[]>>, seed: number): Leaves {
  return makeLeaves(p, { shapes }, seededRandom(seed));
}

describe.skipIf(python === undefined)('toPyTorch: the exported module equals einnet on cpu (needs a Python with torch, skipped without)', () => {
  let server: TorchServer;
  beforeAll(async () => {
    await useBackend('cpu');
    server = new TorchServer(python!);
  });
  afterAll(() => server?.close());

  describe('the models’ constructs', () => {
    it('LeNet-5 (padded 5×5 convs, bias, tanh, mean pooling, dense)', async () => {
      const p = ein(lenet5Source());
      expect(await exportMismatches(server, p, leavesFor(p, { X: [2, 28, 28, 1] }, 1))).toEqual([]);
    });

    it('LeNet-5 with relu and max pooling', async () => {
      const p = ein(lenet5Source({ activation: 'relu', pooling: 'max' }));
      expect(await exportMismatches(server, p, leavesFor(p, { X: [2, 28, 28, 1] }, 2))).toEqual([]);
    });

    it('ResNet-20 (batch statistics, residual adds, strided convs, zero-padded shortcuts, global average pool)', async () => {
      const spec = resnetCifarSpec({ depth: 20, input: [8, 8, 3], batch: 2 });
      const p = typeof spec.program === 'string' ? ein(spec.program) : spec.program;
      expect(await exportMismatches(server, p, leavesFor(p, spec.inputs, 3))).toEqual([]);
    }, 120_000);

    it('DenseNet-BC (concatenation, 1×1 bottlenecks, transitions)', async () => {
      const spec = densenetBCSpec({ depth: 10, growth: 4, batch: 1 });
      const p = typeof spec.program === 'string' ? ein(spec.program) : spec.program;
      expect(await exportMismatches(server, p, leavesFor(p, spec.inputs, 4))).toEqual([]);
    }, 120_000);

    it('softmax cross-entropy', async () => {
      const p = ein(SOFTMAX_CROSS_ENTROPY_SOURCE);
      expect(await exportMismatches(server, p, leavesFor(p, { Z: [4, 10], Y: [4, 10] }, 5))).toEqual([]);
    });
  });

  describe('the differential cases', () => {
    CASES.forEach((c, n) => {
      it(c.name, async () => {
        const p = programOf(c);
        const leaves = makeLeaves(p, c, seededRandom(3000 + n));
        expect(await exportMismatches(server, p, leaves, c.consts)).toEqual([]);
      });
    });
  });

  it('random programs: outputs and gradients (100 programs)', async () => {
    const programs = fc.sample(randomProgramArb(), { seed: 20260402, numRuns: 100 });
    for (const [n, rp] of programs.entries()) {
      const p = ein(rp.src);
      const leaves = leavesFor(p, rp.leafShapes, 9000 + n);
      expect(await exportMismatches(server, p, leaves), `${rp.src}\nbound shapes: ${JSON.stringify(rp.leafShapes)}`).toEqual([]);
      p.dispose();
    }
  }, 120_000);

  it('leaves no tfjs tensors behind', () => {
    const before = tf.memory().numTensors;
    const c = CASES[0];
    const p = programOf(c);
    p.toPyTorch({ shapes: c.shapes });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('toPyTorch options', () => {
  const p = ein`Y[b,j:4] = W[I,j]·X[b,I]`;

  it('names the class className and reads einnet names with dots and Greek letters as string keys', () => {
    const q = ein`bn.μ[j] = mean[b] conv.X[b,j]`;
    const source = q.toPyTorch({ shapes: { 'conv.X': [3, 2] }, className: 'Stats' });
    expect(source).toContain('class Stats(torch.nn.Module):');
    expect(source).toContain('conv_X = tensors["conv.X"]');
    expect(source).toContain('return {"bn.μ": bn_μ}');
  });

  it.each([
    [{ className: 'class' }, /className "class" is not a Python identifier/],
    [{ className: 'My Net' }, /className "My Net" is not a Python identifier/],
    [{ shapes: [2, 3] }, /shapes is 2,3/],
    [{ classname: 'Net' }, /unknown option 'classname'/],
  ])('rejects %j with EIN7001', (options, message) => {
    expect(() => p.toPyTorch(options as never)).toThrow(expect.objectContaining({ code: 'EIN7001', message: expect.stringMatching(message) }));
  });
});
