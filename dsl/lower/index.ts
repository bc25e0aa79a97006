/**
 * Lowering: checked program → plan. Statements are lowered in order through the route registry
 * (routes/index.ts); each reads the steps of the inputs, parameters and earlier outputs it uses.
 * The passes (passes/index.ts) then run over the plan. Shapes are fixed here, so a plan serves
 * one input-shape signature (the caller caches plans by it).
 */
import type { CheckedProgram } from '../check/checked';
import { PlanBuilder } from './builder';
import type { ExprContext } from './context';
import { lowerExpr } from './expr';
import { runPasses } from './passes';
import type { Plan, StatementPlan } from './plan';
import { STATEMENT_ROUTES } from './routes';
import { lowerStatement } from './statement';

export function lowerProgram(program: CheckedProgram): Plan {
  const b = new PlanBuilder();
  const outputs = new Map<string, number>();
  const tensorSteps = new Set<number>();
  const statements: StatementPlan[] = [];
  const claims = STATEMENT_ROUTES.map((route) => ({ route, matches: route.matches(program), shared: new Map<unknown, number>() }));
  const tensor = (name: string) => {
    const assigned = outputs.get(name);
    if (assigned !== undefined) return { step: assigned, shape: b.shapeOf(assigned) };
    const step = b.input(name, program.tensors.get(name)!.shape);
    tensorSteps.add(step);
    return { step, shape: b.shapeOf(step) };
  };
  program.statements.forEach((s, k) => {
    const source = program.source.slice(s.span.start, s.span.end);
    b.setNote(s.target);
    const firstStep = b.steps.length;
    const routes: string[] = [];
    const order = s.lhs.flatMap((ix) =>
      ix.kind === 'concat' ? [...ix.parts] : ix.kind === 'composite' ? ix.parts.map((p) => p.terms[0].index) : ix.terms.map((t) => t.index),
    );
    const claim = claims.find((c) => c.matches.has(k));
    let step: number;
    if (claim !== undefined) {
      step = claim.route.lower({ builder: b, tensor, routes }, claim.matches.get(k), k, claim.shared);
    } else {
      const ctx: ExprContext = { builder: b, ranges: s.ranges, tensor, tensorSteps, routes, order, lower: (e, where) => lowerExpr(ctx, e, where) };
      step = lowerStatement(ctx, s);
    }
    outputs.set(s.target, step);
    tensorSteps.add(step);
    statements.push({ target: s.target, source, routes, firstStep, lastStep: b.steps.length - 1 });
  });
  return runPasses({ steps: b.steps, outputs, statements });
}
