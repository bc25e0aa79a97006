/**
 * The add+relu fusion: `relu(a + b)` of two same-shape operands, where the sum is read by the
 * relu alone, becomes one addRelu step — one pass forward and one backward instead of two each
 * (a residual block's output).
 */
import type { Plan, Step } from '../plan';
import { rewritePlan, type PlanPass } from './rewrite';

export const ADD_RELU_NOTE = 'residual output: relu(a + b) of same-shape operands as one addRelu step (one pass forward, one backward)';

function fuseAddRelu(plan: Plan): Plan {
  const steps = plan.steps;
  const readers = new Int32Array(steps.length);
  for (const s of steps) for (const j of s.inputs) readers[j]++;
  const outputs = new Set(plan.outputs.values());
  const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, k) => d === b[k]);
  const replaced = new Map<number, Step>();
  const removed = new Map<number, number>();
  const notes: { step: number; note: string }[] = [];
  steps.forEach((relu, r) => {
    const k = r - 1;
    if (relu.op !== 'unary' || relu.fn !== 'relu' || relu.inputs[0] !== k) return;
    const add = steps[k];
    if (add.op !== 'binary' || add.fn !== 'add' || readers[k] !== 1 || outputs.has(k)) return;
    if (!add.inputs.every((j) => sameShape(steps[j].shape, add.shape))) return;
    replaced.set(k, { op: 'addRelu', inputs: add.inputs, shape: add.shape, note: add.note });
    removed.set(r, k);
    notes.push({ step: r, note: ADD_RELU_NOTE });
  });
  return removed.size === 0 ? plan : rewritePlan(plan, { replaced, removed, notes });
}

export const addReluPass: PlanPass = { name: 'add+relu', run: fuseAddRelu };
