/**
 * A lowered plan as the source of a `torch.nn.Module`: constants become buffers in `__init__`,
 * each needed step one line of `forward` (steps.ts), under a comment holding the einnet statement
 * it implements. Variables are named after the tensors they hold; other steps are `tK`, step %K
 * of `p.explain()`. Steps nothing returned depends on are left out.
 */
import type { Plan, Step } from '../../lower/plan';
import { Identifiers, pyFloat, pyString, pyTuple } from './python';
import { stepExpression } from './steps';

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
  /** The program's source, quoted at the top of the file. */
  readonly source: string;
  /** Shapes of the bound tensors, in the docstring. */
  readonly boundShapes: ReadonlyMap<string, readonly number[]>;
}

/** Python source of a module computing `plan`. */
export function planToModule(plan: Plan, text: ModuleText): string {
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
  const expressions = new Map<number, string>();
  steps.forEach((s, k) => {
    uses.set(k, new Set());
    if (HELD.has(s.op)) return;
    expressions.set(
      k,
      stepExpression(s, {
        ref: (j) => ref(s.inputs[j], k),
        shape: (j) => steps[s.inputs[j]].shape,
        literal: (j) => literalOf(steps, s.inputs[j]),
      }),
    );
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

  const body: string[] = [];
  steps.forEach((s, k) => {
    if (s.op === 'input' && needed.has(k)) body.push(`${names.get(k)} = tensors[${pyString(s.name)}]`);
  });
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
    ...text.source.split('\n').map((line) => `# ${line}`.trimEnd()),
    '#',
    "# Generated by einnet's Program.toPyTorch(). Tensors are in einnet's layout (channels last).",
    'import torch',
    'import torch.nn.functional as F',
    '',
    '',
    `class ${text.className}(torch.nn.Module):`,
    indent(docstring(text, [...plan.outputs.keys()]), 1),
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
