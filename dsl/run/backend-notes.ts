/**
 * explain()'s notes on the active backend: after each step that the ops run another way there
 * (backends/capabilities.ts, backendWorkaround), a `note:` line saying how. Nothing on cpu and
 * native, where every step runs as listed.
 */
import { backendWorkaround } from '../../backends/capabilities';
import type { Plan } from '../lower/plan';

/** How the active backend runs step `k` of `plan` another way, if it does. */
export function backendNote(plan: Plan, k: number): string | undefined {
  const s = plan.steps[k];
  const inputRank = (i: number) => plan.steps[s.inputs[i]]?.shape.length ?? 0;
  if (s.op === 'where') return backendWorkaround('where', s.shape.length);
  if (s.op === 'transpose') return backendWorkaround('transpose', s.shape.length);
  if (s.op === 'pad') return backendWorkaround('pad', s.shape.length);
  if (s.op === 'matMul') return backendWorkaround('matMul', s.shape.length);
  if (s.op === 'conv' && s.rank === 3 && s.padding.some(([a, b]) => a > 0 || b > 0)) return backendWorkaround('conv3d', inputRank(0));
  return undefined;
}
