/**
 * The checker: syntax tree + bound shapes → checked program. It classifies tensors (input,
 * parameter, output), enforces single assignment and read-after-assignment, makes implicit sums
 * explicit (scopes.ts), infers every index range (ranges.ts) and every shape, parameters
 * included, each with where it came from.
 *
 * It reports every independent error of a program at once: a declaration, binding or statement
 * that fails is recorded and the checker goes on; a statement that uses what failed is skipped.
 */
import { EinError, throwAll, type Span } from '../../core/diagnostics';
import type { Assignment, IndexName, Program } from '../parse/ast';
import { forEachExpr, forEachIndexName } from '../parse/walk';
import { checkAssignment } from './assignment';
import type { CheckedProgram, CheckedStatement, TensorInfo, TensorRole } from './checked';
import { bindShapes, declareTensors, resolveConsts, type CheckOptions } from './declarations';
import type { IndexContext } from './index-forms';
import { at, Failures, type TensorTable } from './state';

export type { CheckOptions } from './declarations';
export { INITIALIZERS } from './names';

/**
 * Checks a parsed program against bound shapes. Throws `EinError` for one problem, `EinErrors`
 * listing every independent problem in source order when there are several.
 */
export function checkProgram(ast: Program, options: CheckOptions = {}): CheckedProgram {
  const source = ast.source;
  const failures = new Failures();
  const consts = resolveConsts(ast, options, failures);
  const ctx: IndexContext = { source, consts };
  const tensors: TensorTable = new Map();

  const assignments = ast.statements.filter((s): s is Assignment => s.kind === 'assign');
  const { assignedAt, duplicates } = singleAssignment(assignments, consts, source, failures);
  declareTensors(ast, consts, tensors, assignedAt, failures);
  bindShapes(ast, options, tensors, assignedAt, readTensors(ast), failures);

  const statements: CheckedStatement[] = [];
  assignments.forEach((s, k) => {
    if (duplicates.has(k)) return;
    const used = namesUsedBy(s);
    if ([s.target, ...used.tensors, ...used.others].some((n) => failures.failed.has(n))) {
      failures.failed.add(s.target);
      return;
    }
    // When this statement fails, so do its target and the tensors it alone would have shaped.
    const unshaped = [...used.tensors].filter((n) => tensors.get(n)?.shape === undefined);
    failures.attempt([s.target, ...unshaped], () => statements.push(checkAssignment(s, k, ctx, tensors, assignedAt)));
  });
  throwAll(failures.errors);
  return assemble(ast, consts, tensors, statements);
}

/**
 * Where each tensor is assigned. A second assignment (or one of a const) is an error; no
 * assignment of that tensor is checked, since which one was meant is unknown.
 */
function singleAssignment(
  assignments: readonly Assignment[],
  consts: ReadonlyMap<string, number>,
  source: string,
  failures: Failures,
): { assignedAt: Map<string, number>; duplicates: Set<number> } {
  const assignedAt = new Map<string, number>();
  const duplicates = new Set<number>();
  assignments.forEach((s, k) => {
    const first = assignedAt.get(s.target);
    const ok = failures.attempt([s.target], () => {
      if (first !== undefined) {
        throw new EinError({
          code: 'EIN2001',
          message: `${s.target} is assigned twice`,
          source,
          span: s.targetSpan,
          related: { span: assignments[first].targetSpan, label: 'first assignment' },
          hint: `each tensor is assigned once; name the second result differently, e.g. ${s.target}'`,
        });
      }
      if (consts.has(s.target)) {
        throw new EinError({ code: 'EIN2001', message: `${s.target} is a const and cannot be assigned`, source, span: s.targetSpan });
      }
    });
    if (ok) assignedAt.set(s.target, k);
    else duplicates.add(k);
  });
  return { assignedAt, duplicates };
}

/** The tensors a statement reads, and the index and const names it mentions. */
function namesUsedBy(s: Assignment): { tensors: Set<string>; others: Set<string> } {
  const tensors = new Set<string>();
  const names = new Set<string>();
  const noteIndex = (n: IndexName) => {
    names.add(n.name);
    if (n.extent?.kind === 'const') names.add(n.extent.name);
  };
  for (const ix of s.indices) forEachIndexName(ix, noteIndex);
  for (const part of s.parts) {
    forEachExpr(part, (e) => {
      if (e.kind === 'access') {
        tensors.add(e.tensor);
        for (const ix of e.indices) forEachIndexName(ix, noteIndex);
      } else if (e.kind === 'nameref') tensors.add(e.name);
      else if (e.kind === 'aggregate') e.indices.forEach(noteIndex);
    });
  }
  return { tensors, others: names };
}

/** Every tensor now has a shape; the result lists them in order of first appearance. */
function assemble(ast: Program, consts: Map<string, number>, tensors: TensorTable, statements: CheckedStatement[]): CheckedProgram {
  const source = ast.source;
  const infos = new Map<string, TensorInfo>();
  const order = [...tensors.entries()].sort((a, b) => a[1].span.start - b[1].span.start);
  for (const [name, t] of order) {
    if (t.shape === undefined) {
      // Declared but never read or assigned: its shape is what the declaration says.
      if (t.declared === undefined || t.declared.some((d) => d === undefined)) continue;
      t.shape = t.declared as number[];
      t.axisFrom = t.declared.map(() => ({ from: `declaration at ${at(source, t.span)}`, span: t.span }));
    }
    const init = t.role === 'param' ? (t.init ?? { name: t.shape.length <= 1 ? 'zeros' : 'glorot_uniform', args: [] }) : undefined;
    infos.set(name, { name, role: t.role, shape: t.shape, axisFrom: t.axisFrom!, span: t.span, init });
  }
  const byRole = (r: TensorRole) => [...infos.values()].filter((t) => t.role === r).map((t) => t.name);
  return { ast, source, consts, tensors: infos, statements, inputs: byRole('input'), params: byRole('param'), outputs: byRole('output') };
}

/** Every tensor the program reads, with its first read. */
export function readTensors(ast: Program): Map<string, Span> {
  const read = new Map<string, Span>();
  const note = (name: string, span: Span) => {
    if (!read.has(name)) read.set(name, span);
  };
  for (const s of ast.statements) {
    if (s.kind !== 'assign') continue;
    for (const part of s.parts) {
      forEachExpr(part, (e) => {
        if (e.kind === 'access') note(e.tensor, e.nameSpan);
        else if (e.kind === 'nameref') note(e.name, e.span);
      });
    }
  }
  return read;
}
