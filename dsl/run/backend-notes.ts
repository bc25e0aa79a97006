/**
 * explain()'s notes on the active backend: after each step that the ops run another way there
 * (backends/capabilities.ts, backendWorkaround), a `note:` line saying how. Nothing on cpu, wasm
 * and native, where every step runs as listed.
 */
import { backendWorkaround } from '../../backends/capabilities';
import type { Plan } from '../lower/plan';

const STEP_LINE = /^ {2}%(\d+) = /;

function noteFor(plan: Plan, k: number): string | undefined {
  const s = plan.steps[k];
  const inputRank = (i: number) => plan.steps[s.inputs[i]]?.shape.length ?? 0;
  if (s.op === 'where') return backendWorkaround('where', s.shape.length);
  if (s.op === 'transpose') return backendWorkaround('transpose', s.shape.length);
  if (s.op === 'pad') return backendWorkaround('pad', s.shape.length);
  if (s.op === 'conv' && s.rank === 3 && s.padding.some(([a, b]) => a > 0 || b > 0)) return backendWorkaround('conv3d', inputRank(0));
  return undefined;
}

/** `text` (explainPlan of `plan`) with a note after every step the active backend reroutes. */
export function withBackendNotes(text: string, plan: Plan): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    out.push(line);
    const m = STEP_LINE.exec(line);
    const note = m === null ? undefined : noteFor(plan, Number(m[1]));
    if (note !== undefined) out.push(`  note: ${note}`);
  }
  return out.join('\n');
}
