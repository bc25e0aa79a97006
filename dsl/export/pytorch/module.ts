/**
 * A lowered plan as the source of a `torch.nn.Module`: constants become buffers in `__init__`,
 * each needed step one line of `forward` (steps.ts), under a comment holding the einnet statement
 * it implements. Variables are named after the tensors they hold; other steps are `tK`, step %K
 * of `p.explain()`. Steps nothing returned depends on are left out.
 */
import type { Plan, Step } from '../../lower/plan';
import { Identifiers, pyFloat, pyString, pyTuple } from './python';
import { statementText } from './statements';
import { stepExpression, type Peek } from './steps';
import type { CheckedExpr, CheckedStatement } from '../../check/checked';

/** Steps that are names or module buffers rather than lines of `forward`. */
const HELD = new Set<Step['op']>(['input', 'constant', 'mask', 'scalar', 'indices']);

/** Python list text of `values`, 16 to a line after the first when there are more. */
function pyList(values: readonly string[]): string {
  if (values.length <= 16) return `[${values.join(', ')}]`;
  const rows: string[] = [];
  for (let k = 0; k < values.length; k += 16) rows.push(`    ${values.slice(k, k + 16).join(', ')},`);
  return `[\n${rows.join('\n')}\n]`;
}

/** The buffer text of a constant-like step. */
function bufferValue(s: Step): string {
  const shaped = (text: string) => (s.shape.length === 1 ? text : `${text}.reshape(${pyTuple(s.shape)})`);
  switch (s.op) {
    case 'constant':
      return shaped(`torch.tensor(${pyList(Array.from(s.values, pyFloat))}, dtype=torch.float32)`);
    case 'mask':
      return shaped(`torch.tensor(${pyList(Array.from(s.values, (v) => (v ? 'True' : 'False')))})`);
    case 'indices':
      return shaped(`torch.tensor(${pyList(Array.from(s.values, String))})`);
    case 'scalar':
      return `torch.tensor(${pyFloat(s.value)})`;
    default:
      throw new Error(`bufferValue: a ${s.op} step is not a constant`);
  }
}

const BUFFER_PREFIX: Partial<Record<Step['op'], string>> = { constant: 'constant', mask: 'mask', indices: 'positions', scalar: 'scalar' };

/** The number a step holds everywhere when it is a scalar, or a scalar reshaped to unit axes. */
function literalOf(steps: readonly Step[], k: number): number | undefined {
  const s = steps[k];
  if (s.op === 'scalar') return s.value;
  if (s.op === 'reshape' && s.shape.every((d) => d === 1)) return literalOf(steps, s.inputs[0]);
  return undefined;
}

/** What the module is called and what it says about itself. */
export interface ModuleText {
  readonly className: string;
  /** The checked statements, one per plan statement: those one PyTorch call says are written so (statements.ts). */
  readonly statements: readonly CheckedStatement[];
  /** Shapes of the bound tensors, in the docstring. */
  readonly boundShapes: ReadonlyMap<string, readonly number[]>;
}

/** Python source of a module computing `plan`. */
export function planToModule(plan: Plan, about: ModuleText): string {
  const steps = plan.steps;
  const ids = new Identifiers(['torch', 'F', 'self', 'tensors']);
  const names = new Map<number, string>();
  steps.forEach((s, k) => {
    if (s.op === 'input') names.set(k, ids.fresh(s.name));
  });
  for (const [name, k] of plan.outputs) if (!names.has(k)) names.set(k, ids.fresh(name));

  const buffers = new Map<number, string>();
  const uses = new Map<number, Set<number>>();
  const ref = (k: number, from: number | undefined): string => {
    if (from !== undefined) uses.get(from)!.add(k);
    const s = steps[k];
    if (BUFFER_PREFIX[s.op] !== undefined) {
      if (!buffers.has(k)) buffers.set(k, `${BUFFER_PREFIX[s.op]}${k}`);
      return `self.${buffers.get(k)}`;
    }
    if (!names.has(k)) names.set(k, ids.fresh(`t${k}`));
    return names.get(k)!;
  };
  const outputSteps = new Set(plan.outputs.values());
  const readers = new Int32Array(steps.length);
  for (const s of steps) for (const j of s.inputs) readers[j]++;
  const torchShapes = new Map<number, readonly number[]>();
  const inputsOf = (k: number, reader: number): Peek => {
    const s = steps[k];
    return {
      step: s,
      only: readers[k] === 1 && !outputSteps.has(k) && !HELD.has(s.op),
      ref: (j) => ref(s.inputs[j], reader),
      shape: (j) => torchShapes.get(s.inputs[j]) ?? steps[s.inputs[j]].shape,
      literal: (j) => literalOf(steps, s.inputs[j]),
      peek: (j) => inputsOf(s.inputs[j], reader),
    };
  };
  const expressions = new Map<number, string>();
  const wholeStatements = statementSteps(plan, about.statements);
  steps.forEach((s, k) => {
    uses.set(k, new Set());
    const whole = wholeStatements.get(k);
    if (whole !== undefined) {
      const st = about.statements[whole.statement];
      const tensor = (name: string) => {
        const j = tensorStep(plan, name, whole.firstStep)!;
        return { text: ref(j, k), shape: steps[j].shape };
      };
      if (whole.output) expressions.set(k, statementText(st, tensor)!);
      return;
    }
    if (HELD.has(s.op)) return;
    const result = stepExpression(s, inputsOf(k, k));
    let text = typeof result === 'string' ? result : result.text;
    if (typeof result !== 'string') {
      // A value of another shape than the plan's is read only by reshapes; else it gets the plan's shape.
      const onlyReshaped = !outputSteps.has(k) && steps.every((r) => r.op === 'reshape' || !r.inputs.includes(k));
      if (onlyReshaped) torchShapes.set(k, result.shape);
      else text = `${text}.reshape(${pyTuple(s.shape)})`;
    }
    // A step that is another value under a new name (a reshape to the shape it has) is that name.
    if (/^[\p{L}\p{N}_.]+$/u.test(text) && !outputSteps.has(k)) names.set(k, text);
    else expressions.set(k, text);
  });
  const returned = [...plan.outputs].map(([name, k]) => `${pyString(name)}: ${ref(k, undefined)}`);

  // Steps the outputs depend on, through the inputs each expression actually reads.
  const needed = new Set<number>();
  const visit = (k: number) => {
    if (needed.has(k)) return;
    needed.add(k);
    for (const j of uses.get(k)!) visit(j);
  };
  for (const k of plan.outputs.values()) visit(k);
  // A returned step that only renames another, read by nothing else, takes over its expression.
  const readBy = new Map<number, number[]>();
  for (const k of needed) for (const j of uses.get(k)!) readBy.set(j, [...(readBy.get(j) ?? []), k]);
  for (const k of outputSteps) {
    const [j] = uses.get(k)!;
    if (uses.get(k)!.size === 1 && expressions.get(k) === names.get(j) && expressions.has(j) && !outputSteps.has(j) && readBy.get(j)!.length === 1) {
      expressions.set(k, expressions.get(j)!);
      uses.set(k, uses.get(j)!);
      expressions.delete(j);
    }
  }

  const body: string[] = [];
  // The bound tensors first, in the order the docstring lists them.
  const order = [...about.boundShapes.keys()];
  const inputs = steps.flatMap((s, k) => (s.op === 'input' && needed.has(k) ? [{ k, name: s.name }] : []));
  inputs.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  for (const { k, name } of inputs) body.push(`${names.get(k)} = tensors[${pyString(name)}]`);
  const statementAt = new Map(plan.statements.map((st) => [st.firstStep, st]));
  steps.forEach((_, k) => {
    const st = statementAt.get(k);
    if (st === undefined && insideStatement(plan, k)) return;
    const lines = (st === undefined ? [k] : range(st.firstStep, st.lastStep)).filter((j) => needed.has(j) && expressions.has(j));
    if (st !== undefined && lines.length > 0) body.push(`# ${st.source.replace(/\s*\n\s*/g, ' ')}`);
    for (const j of lines) body.push(`${names.get(j)} = ${expressions.get(j)}`);
  });
  body.push(`return {${returned.join(', ')}}`);

  const init = [...buffers].filter(([k]) => needed.has(k)).map(([k, name]) => `self.register_buffer("${name}", ${bufferValue(steps[k])}, persistent=False)`);
  return [
    "# Generated by einnet's Program.toPyTorch(): each line of forward() is a step of the lowered plan (tK is step %K of",
    "# p.explain()), under the einnet statement it implements. Tensors are in einnet's layout (channels last).",
    'import torch',
    'import torch.nn.functional as F',
    '',
    '',
    `class ${about.className}(torch.nn.Module):`,
    indent(docstring(about, [...plan.outputs.keys()]), 1),
    ...(init.length === 0 ? [] : ['', indent(['def __init__(self):', indent(['super().__init__()', ...init], 1)], 1)]),
    '',
    indent(['def forward(self, **tensors):', indent(body, 1)], 1),
    '',
  ].join('\n');
}

function docstring(text: ModuleText, outputs: readonly string[]): string[] {
  const bound = [...text.boundShapes].map(([name, shape]) => `${name} ${JSON.stringify(shape)}`).join(', ');
  return [
    '"""An einnet program as a PyTorch module.',
    '',
    `forward(**tensors) takes the bound tensors by name: ${bound}.`,
    `It returns a dict of every tensor the program assigns: ${outputs.join(', ')}.`,
    '"""',
  ];
}

function indent(lines: readonly string[], levels: number): string {
  const pad = '    '.repeat(levels);
  return lines
    .map((l) =>
      l
        .split('\n')
        .map((part) => (part === '' ? part : pad + part))
        .join('\n'),
    )
    .join('\n');
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, k) => first + k);
}

/** True when step k lies inside a statement's range (those are written with their statement). */
function insideStatement(plan: Plan, k: number): boolean {
  return plan.statements.some((st) => k >= st.firstStep && k <= st.lastStep);
}

/**
 * The steps of statements one PyTorch call says (statements.ts), each with its statement and
 * whether it holds the statement's value: the others are not written. Only statements whose
 * other steps nothing outside them reads, and whose reads are plain tensors.
 */
function statementSteps(plan: Plan, statements: readonly CheckedStatement[]): Map<number, { statement: number; output: boolean; firstStep: number }> {
  const found = new Map<number, { statement: number; output: boolean; firstStep: number }>();
  plan.statements.forEach((sp, i) => {
    const st = statements[i];
    const out = plan.outputs.get(sp.target);
    if (st === undefined || st.target !== sp.target || out === undefined || out < sp.firstStep || out > sp.lastStep) return;
    const inside = range(sp.firstStep, sp.lastStep).filter((k) => plan.steps[k].op !== 'input');
    // One step is already one call (a matMul, a pooling): nothing to gain.
    if (inside.length <= 1) return;
    let readOutside = 0;
    plan.steps.forEach((s, r) => {
      if (r < sp.firstStep || r > sp.lastStep) readOutside += s.inputs.filter((j) => j !== out && inside.includes(j)).length;
    });
    if (readOutside > 0 || [...plan.outputs.values()].some((k) => k !== out && inside.includes(k))) return;
    const known = (name: string) => tensorStep(plan, name, sp.firstStep) !== undefined;
    if (!statementReads(st).every(known)) return;
    const tensor = (name: string) => ({ text: name, shape: plan.steps[tensorStep(plan, name, sp.firstStep)!].shape });
    if (statementText(st, tensor) === undefined) return;
    for (const k of inside) found.set(k, { statement: i, output: k === out, firstStep: sp.firstStep });
  });
  return found;
}

/** The step holding tensor `name` for a statement whose steps start at `firstStep`: an earlier statement's value or an input. */
function tensorStep(plan: Plan, name: string, firstStep: number): number | undefined {
  const assigned = plan.outputs.get(name);
  if (assigned !== undefined) return assigned < firstStep ? assigned : undefined;
  const k = plan.steps.findIndex((s) => s.op === 'input' && s.name === name);
  return k >= 0 ? k : undefined;
}

/** The tensors a statement reads. */
function statementReads(st: CheckedStatement): string[] {
  const names: string[] = [];
  const visit = (e: CheckedExpr): void => {
    if (e.kind === 'access') names.push(e.tensor);
    else if (e.kind === 'unary') visit(e.arg);
    else if (e.kind === 'binary') (visit(e.left), visit(e.right));
    else if (e.kind === 'reduce') visit(e.body);
  };
  st.parts.forEach(visit);
  return names;
}
