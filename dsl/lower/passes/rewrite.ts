/**
 * Rewriting a plan: steps replaced and removed, every reference (step inputs, outputs, statement
 * ranges) renumbered, notes added to statements. What a pass needs to change a plan's data.
 */
import { ELEMENTWISE_NOTE, isLayoutNote } from '../context';
import type { Plan, StatementPlan, Step } from '../plan';

/** A pass over a lowered plan: returns the plan changed, or the same plan. */
export interface PlanPass {
  readonly name: string;
  run(plan: Plan): Plan;
}

export interface PlanEdit {
  /** New contents of some steps (their inputs in the old numbering). */
  readonly replaced: ReadonlyMap<number, Step>;
  /** Steps removed, each with the step its readers read instead (old numbering). */
  readonly removed: ReadonlyMap<number, number>;
  /** Notes for explain(), by a step of the statement they belong to (old numbering). */
  readonly notes: readonly { readonly step: number; readonly note: string }[];
}

/** The plan with `edit` applied. */
export function rewritePlan(plan: Plan, edit: PlanEdit): Plan {
  const renumber = new Int32Array(plan.steps.length);
  let kept = 0;
  for (let k = 0; k < plan.steps.length; k++) renumber[k] = edit.removed.has(k) ? -1 : kept++;
  const to = (k: number): number => {
    let j = k;
    while (renumber[j] < 0) j = edit.removed.get(j)!;
    return renumber[j];
  };
  const steps: Step[] = [];
  plan.steps.forEach((s, k) => {
    if (edit.removed.has(k)) return;
    const step = edit.replaced.get(k) ?? s;
    steps.push({ ...step, inputs: step.inputs.map(to) });
  });
  const outputs = new Map([...plan.outputs].map(([name, k]) => [name, to(k)] as const));
  const statements = plan.statements.map((st): StatementPlan => {
    const routes = [...st.routes];
    for (const { step, note } of edit.notes) if (step >= st.firstStep && step <= st.lastStep) addNote(routes, note);
    return { ...st, routes, firstStep: firstKept(st.firstStep, renumber), lastStep: to(st.lastStep) };
  });
  return { steps, outputs, statements };
}

/** The new number of the first step at or after `k` that is kept. */
function firstKept(k: number, renumber: Int32Array): number {
  let j = k;
  while (j < renumber.length && renumber[j] < 0) j++;
  return j < renumber.length ? renumber[j] : renumber.length;
}

/**
 * A pass's note among a statement's route notes: it takes the place of the plain elementwise
 * note (the statement is no longer only that), else it goes before the left-hand layout notes.
 */
function addNote(routes: string[], note: string): void {
  const plain = routes.indexOf(ELEMENTWISE_NOTE);
  if (plain >= 0) {
    routes[plain] = note;
    return;
  }
  const layout = routes.findIndex(isLayoutNote);
  routes.splice(layout < 0 ? routes.length : layout, 0, note);
}
