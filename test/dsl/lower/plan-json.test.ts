/**
 * Plans are data: every case of the differential suite lowers to a plan that goes through
 * planToJSON → JSON.stringify → JSON.parse → planFromJSON to an equal plan, and the plan read
 * back runs, on cpu, to exactly the outputs and gradients of the original. Conv steps carry
 * their gradient programs as text; the runner compiles them through the compile function it is
 * given, which the dilated cases exercise (cpu has no gradient for dilated convolutions).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lowerProgram } from '../../../dsl/lower';
import type { Plan } from '../../../dsl/lower/plan';
import { planFromJSON, planToJSON } from '../../../dsl/lower/serialize';
import { compilePlan } from '../../../dsl/program';
import { PlanRunner, type CompilePlan } from '../../../dsl/run/execute';
import { CASES } from './cases';
import { makeLeaves, programOf, seededRandom, toTensors, useBackend, type Case } from './harness';

function roundTrip(plan: Plan): Plan {
  return planFromJSON(JSON.parse(JSON.stringify(planToJSON(plan))));
}

function lowered(c: Case): Plan {
  return lowerProgram(programOf(c).check(c.shapes, { consts: c.consts }).checked);
}

/** Every output's values, and the gradient of sum(last output²) w.r.t. every bound tensor. */
function outputsAndGradients(plan: Plan, compile: CompilePlan, c: Case, seed: number): { outputs: Record<string, Float32Array>; grads: Float32Array[] } {
  const p = programOf(c);
  const leaves = makeLeaves(p, c, seededRandom(seed));
  const bound = toTensors(leaves);
  const runner = new PlanRunner(plan, compile);
  const xs = leaves.names.map((n) => bound[n]);
  const last = leaves.outputs[leaves.outputs.length - 1];
  try {
    const run = runner.run(bound);
    const outputs: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(run)) {
      outputs[name] = (t.dataSync() as Float32Array).slice();
      t.dispose();
    }
    const grads = tf.grads((...args: tf.Tensor[]) => {
      const values = runner.run(Object.fromEntries(leaves.names.map((n, k) => [n, args[k]] as const)));
      // Every other output with weight 0, so that every leaf reaches the loss.
      const others = Object.keys(values)
        .filter((n) => n !== last)
        .map((n) => tf.sum(values[n]));
      const loss = tf.sum(tf.square(values[last]));
      return others.length === 0 ? loss : tf.add(loss, tf.mul(0, tf.addN(others)));
    })(xs);
    const values = grads.map((g) => {
      const data = (g.dataSync() as Float32Array).slice();
      g.dispose();
      return data;
    });
    return { outputs, grads: values };
  } finally {
    runner.dispose();
    for (const t of xs) t.dispose();
  }
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('plans through JSON', () => {
  CASES.forEach((c, n) => {
    it(`${c.name}: equal after the round trip, same outputs and gradients on cpu`, () => {
      const plan = lowered(c);
      const back = roundTrip(plan);
      expect(back).toEqual(plan);
      const compiled: string[] = [];
      const counting: CompilePlan = (source, shapes) => {
        compiled.push(source);
        return compilePlan(source, shapes);
      };
      const before = tf.memory().numTensors;
      const want = outputsAndGradients(plan, compilePlan, c, n);
      const got = outputsAndGradients(back, counting, c, n);
      expect(tf.memory().numTensors).toBe(before);
      expect(Object.keys(got.outputs)).toEqual(Object.keys(want.outputs));
      for (const name of Object.keys(want.outputs)) expect(got.outputs[name], name).toEqual(want.outputs[name]);
      expect(got.grads).toEqual(want.grads);
      // A dilated convolution has no tfjs gradient: the derived programs the step carries were compiled.
      const dilated = back.steps.some((s) => s.op === 'conv' && s.dilations.some((d) => d > 1));
      if (dilated) expect(compiled.length).toBeGreaterThan(0);
    });
  });

  it('numbers JSON cannot write are tagged: a max pool padded with -Infinity', () => {
    const c: Case = { name: '', src: 'Y[b,x:3,y:3,c] = max[Δx:3,Δy:3] X[b,2*x+Δx-1,2*y+Δy-1,c]', shapes: { X: [1, 5, 5, 2] } };
    const plan = lowered(c);
    const text = JSON.stringify(planToJSON(plan));
    expect(text).toContain('{"$number":"-Infinity"}');
    const pad = roundTrip(plan).steps.find((s) => s.op === 'pad');
    expect(pad?.op === 'pad' && pad.value).toBe(-Infinity);
  });

  it('a value that is not a plan is refused with a message, not a TypeError', () => {
    expect(() => planFromJSON({ format: 'other' })).toThrow(/not an einnet plan/);
    const json = planToJSON(lowered(CASES[0]));
    expect(() => planFromJSON({ ...json, steps: [{ op: 'reshape', inputs: [3], shape: [2] }] })).toThrow(/step 0/);
  });
});
