/**
 * Passes run over a lowered plan, in order, each returning a new plan (plans are data). A pass
 * that fuses steps adds a note to the statement it changed, so explain() says which fusion
 * happened.
 */
import type { Plan } from '../plan';
import { addReluPass } from './add-relu';
import type { PlanPass } from './rewrite';

export const PASSES: readonly PlanPass[] = [addReluPass];

export function runPasses(plan: Plan): Plan {
  return PASSES.reduce((p, pass) => pass.run(p), plan);
}
