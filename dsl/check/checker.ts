/**
 * The checker: syntax tree + bound shapes → checked program. It classifies tensors (input,
 * parameter, output), enforces single assignment and read-after-assignment, makes implicit sums
 * explicit (scopes.ts), infers every index range (ranges.ts) and every shape, parameters
 * included, each with where it came from.
 */
import { EinError, lineColumn, type Span } from '../../core/diagnostics';
import { suggest } from '../../core/names';
import type { Assignment, IndexName, Program } from '../parse/ast';
import { forEachExpr, forEachIndexName } from '../parse/walk';
import type {
  CheckedExpr,
  CheckedIndex,
  CheckedProgram,
  CheckedStatement,
  IndexRange,
  InitializerSpec,
  LhsIndex,
  Provenance,
  TensorInfo,
  TensorRole,
} from './checked';
import { indexNamesOf, lhsIndexForm, type IndexContext } from './index-forms';
import { affineSpan, inferRanges, lhsAxisExtent, type Annotation, type KnownShape } from './ranges';
import { convertRhs, type AccessSite } from './scopes';

export interface CheckOptions {
  /** Shapes of bound tensors (inputs, and parameters whose values the caller supplies). */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  /** Values for `const`s: supplies those declared without a value and overrides the others. */
  readonly consts?: Readonly<Record<string, number>>;
}

/** Initializers of LANGUAGE.md §3, with the number of arguments each takes. */
export const INITIALIZERS: Readonly<Record<string, number>> = {
  zeros: 0,
  ones: 0,
  glorot_uniform: 0,
  glorot_normal: 0,
  he_normal: 0,
  he_uniform: 0,
  normal: 2,
  uniform: 2,
};

/** tfjs indexes tensors with int32. */
const MAX_ELEMENTS = 2 ** 31 - 1;

interface TensorState {
  role: TensorRole;
  shape?: readonly number[];
  axisFrom?: readonly Provenance[];
  span: Span;
  init?: InitializerSpec;
  /** Partial shape from an `input`/`param` declaration (undefined entries = not declared). */
  declared?: readonly (number | undefined)[];
  rank?: number;
  rankSpan?: Span;
}

function at(source: string, span: Span): string {
  const { line, column } = lineColumn(source, span.start);
  return `${line}:${column}`;
}

/** Checks a parsed program against bound shapes. Throws `EinError` for the first problem. */
export function checkProgram(ast: Program, options: CheckOptions = {}): CheckedProgram {
  const source = ast.source;
  const consts = resolveConsts(ast, options);
  const ctx: IndexContext = { source, consts };
  const tensors = new Map<string, TensorState>();

  // Single assignment, and where each tensor is assigned.
  const assignedAt = new Map<string, number>();
  const assignments = ast.statements.filter((s): s is Assignment => s.kind === 'assign');
  assignments.forEach((s, k) => {
    const first = assignedAt.get(s.target);
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
    assignedAt.set(s.target, k);
  });

  declareTensors(ast, tensors, assignedAt, source);
  bindShapes(ast, options, tensors, assignedAt, source);

  const statements: CheckedStatement[] = [];
  assignments.forEach((s, k) => statements.push(checkAssignment(s, k, ctx, tensors, assignedAt)));

  // Every tensor now has a shape; assemble the result in order of first appearance.
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

function resolveConsts(ast: Program, options: CheckOptions): Map<string, number> {
  const consts = new Map<string, number>();
  const seen = new Map<string, Span>();
  for (const s of ast.statements) {
    if (s.kind !== 'const') continue;
    if (seen.has(s.name)) {
      throw new EinError({
        code: 'EIN2001',
        message: `const ${s.name} is declared twice`,
        source: ast.source,
        span: s.nameSpan,
        related: { span: seen.get(s.name)!, label: 'first declaration' },
      });
    }
    seen.set(s.name, s.nameSpan);
    // Own properties only: `const constructor` must not pick up Object.prototype.constructor.
    const supplied = options.consts !== undefined && Object.hasOwn(options.consts, s.name) ? options.consts[s.name] : undefined;
    const value = supplied ?? s.value;
    if (value === undefined) {
      throw new EinError({
        code: 'EIN2015',
        message: `const ${s.name} has no value`,
        source: ast.source,
        span: s.span,
        hint: `give it one here (const ${s.name} = 2) or supply it: p.check(shapes, { consts: { ${s.name}: 2 } })`,
      });
    }
    consts.set(s.name, value);
  }
  for (const [name, value] of Object.entries(options.consts ?? {})) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new EinError({ code: 'EIN2023', message: `const ${name} is given ${String(value)}`, expected: 'a finite number' });
    }
    consts.set(name, value);
  }
  return consts;
}

function extentValue(e: IndexName['extent'] & object, consts: ReadonlyMap<string, number>, source: string): number {
  if (e.kind === 'literal') return e.value;
  const v = consts.get(e.name);
  if (v === undefined) {
    throw new EinError({
      code: 'EIN2015',
      message: `unknown constant '${e.name}' used as an extent`,
      source,
      span: e.span,
      expected: 'a positive integer or the name of a const',
      hint: `declare it: const ${e.name} = 16`,
    });
  }
  if (!Number.isInteger(v) || v < 1) {
    throw new EinError({ code: 'EIN2015', message: `const ${e.name} = ${v} is not a positive integer extent`, source, span: e.span });
  }
  return v;
}

function declareTensors(ast: Program, tensors: Map<string, TensorState>, assignedAt: ReadonlyMap<string, number>, source: string): void {
  const consts = new Map<string, number>();
  for (const s of ast.statements) if (s.kind === 'const' && s.value !== undefined) consts.set(s.name, s.value);
  for (const s of ast.statements) {
    if (s.kind !== 'input' && s.kind !== 'param') continue;
    if (tensors.has(s.name)) {
      throw new EinError({ code: 'EIN2020', message: `${s.name} is declared twice`, source, span: s.nameSpan, related: { span: tensors.get(s.name)!.span, label: 'first declaration' } });
    }
    if (assignedAt.has(s.name)) {
      throw new EinError({
        code: 'EIN2020',
        message: `${s.name} is declared ${s.kind === 'input' ? 'an input' : 'a parameter'} but the program assigns it`,
        source,
        span: s.nameSpan,
        hint: `remove the declaration, or rename the assigned tensor`,
      });
    }
    const declared = s.indices?.map((i) => (i.extent ? extentValue(i.extent, consts, source) : undefined));
    let init: InitializerSpec | undefined;
    if (s.kind === 'param' && s.init !== undefined) {
      const arity = Object.hasOwn(INITIALIZERS, s.init.name) ? INITIALIZERS[s.init.name] : undefined;
      if (arity === undefined) {
        const near = suggest(s.init.name, Object.keys(INITIALIZERS));
        throw new EinError({
          code: 'EIN2019',
          message: `unknown initializer '${s.init.name}'`,
          source,
          span: s.init.span,
          expected: `one of ${Object.keys(INITIALIZERS).join(', ')}`,
          hint: near.length ? `did you mean '${near[0]}'?` : undefined,
        });
      }
      if (s.init.args.length !== arity) {
        throw new EinError({
          code: 'EIN2019',
          message: `initializer ${s.init.name} takes ${arity} argument${arity === 1 ? '' : 's'} but got ${s.init.args.length}`,
          source,
          span: s.init.span,
          expected: arity === 0 ? s.init.name : `${s.init.name}(a, b)`,
        });
      }
      init = { name: s.init.name, args: s.init.args };
    }
    tensors.set(s.name, { role: s.kind, span: s.nameSpan, declared, init, rank: declared?.length, rankSpan: s.nameSpan });
  }
}

function bindShapes(
  ast: Program,
  options: CheckOptions,
  tensors: Map<string, TensorState>,
  assignedAt: ReadonlyMap<string, number>,
  source: string,
): void {
  const read = readTensors(ast);
  for (const [name, shape] of Object.entries(options.shapes ?? {})) {
    if (assignedAt.has(name)) {
      throw new EinError({
        code: 'EIN2023',
        message: `${name} is computed by the program and cannot be bound`,
        hint: `bind only inputs and parameters: ${[...read.keys()].filter((n) => !assignedAt.has(n)).join(', ') || '(none)'}`,
      });
    }
    if (!read.has(name) && !tensors.has(name)) {
      const near = suggest(name, [...read.keys()].filter((n) => !assignedAt.has(n)));
      throw new EinError({
        code: 'EIN2023',
        message: `${name} is bound but the program has no tensor of that name`,
        hint: near.length ? `did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : `the program reads: ${[...read.keys()].filter((n) => !assignedAt.has(n)).join(', ')}`,
      });
    }
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new EinError({
        code: 'EIN2023',
        message: `the shape bound for ${name} is ${JSON.stringify(shape)}`,
        expected: 'an array of positive integers, e.g. [32, 28, 28, 1]',
      });
    }
    const state = tensors.get(name) ?? { role: 'input' as TensorRole, span: read.get(name)! };
    const boundFrom = `bound ${name}: [${shape.join(',')}]`;
    if (state.declared !== undefined) {
      if (state.declared.length !== shape.length) {
        throw new EinError({
          code: 'EIN2010',
          message: `${name} is declared with ${state.declared.length} axes but bound with shape [${shape.join(',')}] (${shape.length} axes)`,
          source,
          span: state.span,
        });
      }
      state.declared.forEach((d, k) => {
        if (d !== undefined && d !== shape[k]) {
          throw new EinError({
            code: 'EIN2004',
            message: `${name} axis ${k} is declared ${d} but bound with ${shape[k]}`,
            source,
            span: state.span,
            extents: [
              { what: `${name} axis ${k}`, extent: d, from: `declaration at ${at(source, state.span)}` },
              { what: `${name} axis ${k}`, extent: shape[k], from: boundFrom },
            ],
          });
        }
      });
    }
    state.shape = [...shape];
    state.axisFrom = shape.map(() => ({ from: boundFrom }));
    tensors.set(name, state);
  }
  // Declared with every extent: known without a binding.
  for (const state of tensors.values()) {
    if (state.shape === undefined && state.declared !== undefined && state.declared.every((d) => d !== undefined)) {
      state.shape = state.declared as number[];
      state.axisFrom = state.declared.map(() => ({ from: `declaration at ${at(source, state.span)}`, span: state.span }));
    }
  }
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

function collectAnnotations(s: Assignment, consts: ReadonlyMap<string, number>, source: string): Annotation[] {
  const out: Annotation[] = [];
  const note = (n: IndexName) => {
    if (n.extent) out.push({ name: n.name, extent: extentValue(n.extent, consts, source), span: n.span });
  };
  for (const ix of s.indices) forEachIndexName(ix, note);
  for (const part of s.parts) {
    forEachExpr(part, (e) => {
      if (e.kind === 'access') for (const ix of e.indices) forEachIndexName(ix, note);
      else if (e.kind === 'aggregate') e.indices.forEach(note);
    });
  }
  return out;
}

/** Left-hand index names with the span of their first appearance. */
function lhsNameSpans(s: Assignment): Map<string, Span> {
  const spans = new Map<string, Span>();
  for (const ix of s.indices) {
    forEachIndexName(ix, (n) => {
      if (!spans.has(n.name)) spans.set(n.name, n.span);
    });
  }
  return spans;
}

function checkAssignment(
  s: Assignment,
  statementIndex: number,
  ctx: IndexContext,
  tensors: Map<string, TensorState>,
  assignedAt: ReadonlyMap<string, number>,
): CheckedStatement {
  const { source, consts } = ctx;
  const lhs: LhsIndex[] = s.indices.map((i) => lhsIndexForm(i, ctx, s.parts.length));
  const concatAxes = lhs.map((ix, k) => (ix.kind === 'concat' ? k : -1)).filter((k) => k >= 0);
  if (s.parts.length > 1) {
    const axis = concatAxes.length === 1 ? (lhs[concatAxes[0]] as LhsIndex & { kind: 'concat' }) : undefined;
    if (axis === undefined || axis.parts.length !== s.parts.length) {
      throw new EinError({
        code: 'EIN2016',
        message:
          axis === undefined
            ? `a concatenation of ${s.parts.length} parts needs one left-hand axis written J1+J2+...`
            : `the concatenation axis names ${axis.parts.length} parts but the right-hand side has ${s.parts.length}`,
        source,
        span: s.span,
        expected: `T[b, x, y, J1+J2] = A[b, x, y, J1] ; B[b, x, y, J2]`,
      });
    }
  }
  const concat = concatAxes.length === 1 ? (lhs[concatAxes[0]] as LhsIndex & { kind: 'concat' }) : undefined;

  // Left-hand names: distinct.
  const lhsSpans = lhsNameSpans(s);
  const lhsNames: string[] = [];
  for (const ix of lhs) {
    for (const name of indexNamesOf(ix)) {
      if (lhsNames.includes(name)) {
        throw new EinError({
          code: 'EIN2012',
          message: `left-hand index ${name} is used twice`,
          source,
          span: lhsSpans.get(name) ?? s.targetSpan,
          expected: 'each left-hand index to be a distinct variable',
          hint: `a diagonal is read, not written: write ${s.target}[${name}] = A[${name}, ${name}] instead`,
        });
      }
      if (consts.has(name)) {
        throw new EinError({ code: 'EIN2013', message: `${name} is a const and cannot be a left-hand index`, source, span: lhsSpans.get(name) ?? s.targetSpan });
      }
      lhsNames.push(name);
    }
  }
  const loopIndices = lhsNames.filter((n) => !concat?.parts.includes(n));

  // Right-hand sides, with implicit sums made explicit.
  const scopes = s.parts.map((part, k) => {
    const visible = new Set(loopIndices);
    if (concat) visible.add(concat.parts[k]);
    return convertRhs(part, visible, ctx);
  });
  const accesses: AccessSite[] = scopes.flatMap((r) => r.accesses);

  // Reads: assigned earlier, or inputs/parameters; ranks agree.
  for (const a of accesses) {
    const assigned = assignedAt.get(a.tensor);
    if (consts.has(a.tensor) && a.indices.length > 0) {
      throw new EinError({ code: 'EIN2010', message: `${a.tensor} is a const, not a tensor, and cannot be indexed`, source, span: a.span });
    }
    if (assigned !== undefined && assigned >= statementIndex) {
      throw new EinError({
        code: 'EIN2014',
        message: assigned === statementIndex ? `${a.tensor} reads itself` : `${a.tensor} is read before it is assigned`,
        source,
        span: a.nameSpan,
        hint: assigned === statementIndex ? 'a statement cannot read the tensor it assigns; name the result differently' : 'move its assignment above this statement',
      });
    }
    let state = tensors.get(a.tensor);
    if (state === undefined) {
      state = { role: assigned !== undefined ? 'output' : 'param', span: a.nameSpan };
      tensors.set(a.tensor, state);
    }
    const rank = state.shape?.length ?? state.rank;
    if (rank !== undefined && rank !== a.indices.length) {
      const origin = state.shape !== undefined ? state.axisFrom?.[0]?.from ?? 'its shape' : `its use at ${at(source, state.rankSpan ?? state.span)}`;
      throw new EinError({
        code: 'EIN2010',
        message: `${a.tensor} has ${rank} axes but is read with ${a.indices.length} indices`,
        source,
        span: a.span,
        expected: `${rank} indices${state.shape ? ` (shape [${state.shape.join(',')}], from ${origin})` : ` (as at ${origin})`}`,
      });
    }
    if (state.rank === undefined) {
      state.rank = a.indices.length;
      state.rankSpan = a.span;
    }
  }

  // Ranges.
  const reduced = new Map<string, Span>();
  for (const r of scopes) {
    for (const [name, span] of r.bound) reduced.set(name, span);
    for (const name of r.implicit) reduced.set(name, accesses.find((a) => a.indices.some((ix) => indexNamesOf(ix).includes(name)))?.span ?? s.span);
  }
  for (const name of reduced.keys()) {
    if (consts.has(name)) reduced.delete(name);
  }
  const known = (t: string): KnownShape | undefined => {
    const st = tensors.get(t);
    return st?.shape !== undefined ? { shape: st.shape, axisFrom: st.axisFrom! } : undefined;
  };
  const ranges = inferRanges({
    source,
    lhs: lhsNames,
    reduced,
    annotations: collectAnnotations(s, consts, source),
    accesses,
    known,
    lhsSpans,
  });
  const extentOf = (name: string) => ranges.get(name)!.extent;

  // Parameters (and declared-but-unbound inputs) read here for the first time get their shapes.
  inferReadShapes(accesses, tensors, ranges, source);

  // Output shape.
  const shape = lhs.map((ix) => lhsAxisExtent(ix, extentOf));
  const scatter = lhs.some((ix) => ix.kind === 'affine' && (ix.terms.length !== 1 || ix.terms[0].coef !== 1 || ix.offset !== 0));
  lhs.forEach((ix, k) => {
    if (ix.kind === 'affine' && affineSpan(ix, extentOf).max < 0) {
      throw new EinError({
        code: 'EIN2007',
        message: `left-hand axis ${k} of ${s.target} never takes a value ≥ 0`,
        source,
        span: s.indices[k].span,
      });
    }
  });
  const size = shape.reduce((a, d) => a * d, 1);
  if (size > MAX_ELEMENTS) {
    throw new EinError({
      code: 'EIN2024',
      message: `${s.target} would have shape [${shape.join(',')}]: ${size.toExponential(2)} elements, more than a tensor can hold (${MAX_ELEMENTS})`,
      source,
      span: s.targetSpan,
      hint: 'check the coefficients and extents of its indices',
    });
  }
  const target = tensors.get(s.target) ?? { role: 'output' as TensorRole, span: s.targetSpan };
  target.role = 'output';
  target.span = target.span.start < s.targetSpan.start ? target.span : s.targetSpan;
  target.shape = shape;
  target.axisFrom = lhs.map((ix, k) => ({ from: lhsAxisOrigin(ix, ranges, s, k, source), span: s.indices[k].span }));
  tensors.set(s.target, target);

  // Composite factors are the ranges of their parts.
  const fill = (ix: CheckedIndex): CheckedIndex =>
    ix.kind === 'composite' ? { ...ix, factors: ix.parts.map((p) => extentOf(p.terms[0].index)) } : ix;
  const fillExpr = (e: CheckedExpr): CheckedExpr => {
    switch (e.kind) {
      case 'access':
        return { ...e, indices: e.indices.map(fill) };
      case 'unary':
        return { ...e, arg: fillExpr(e.arg) };
      case 'binary':
        return { ...e, left: fillExpr(e.left), right: fillExpr(e.right) };
      case 'reduce':
        return { ...e, body: fillExpr(e.body) };
      case 'const':
        return e;
    }
  };
  const filledLhs = lhs.map((ix) => (ix.kind === 'composite' ? (fill(ix) as LhsIndex) : ix));
  return {
    target: s.target,
    span: s.span,
    lhs: filledLhs,
    parts: scopes.map((r) => fillExpr(r.expr)),
    ranges,
    loopIndices,
    scatter,
    shape,
  };
}

function lhsAxisOrigin(ix: LhsIndex, ranges: ReadonlyMap<string, IndexRange>, s: Assignment, k: number, source: string): string {
  const text = source.slice(s.indices[k].span.start, s.indices[k].span.end);
  if (ix.kind === 'affine' && ix.terms.length === 1 && ix.terms[0].coef === 1 && ix.offset === 0) {
    return `range of ${text}: ${ranges.get(ix.terms[0].index)!.from}`;
  }
  return `${text} over the ranges of its indices`;
}

/** Shapes of tensors read without a known shape (parameters), from the indices that read them. */
function inferReadShapes(accesses: readonly AccessSite[], tensors: Map<string, TensorState>, ranges: ReadonlyMap<string, IndexRange>, source: string): void {
  const extentOf = (name: string) => ranges.get(name)!.extent;
  for (const a of accesses) {
    const st = tensors.get(a.tensor)!;
    if (st.shape !== undefined) continue;
    const shape: number[] = [];
    const axisFrom: Provenance[] = [];
    a.indices.forEach((ix, k) => {
      const text = source.slice(a.axisSpans[k].start, a.axisSpans[k].end);
      let extent: number;
      switch (ix.kind) {
        case 'affine':
          extent = affineSpan(ix, extentOf).max + 1;
          break;
        case 'floordiv':
          extent = Math.floor(affineSpan(ix.arg, extentOf).max / ix.divisor) + 1;
          break;
        case 'composite':
          extent = ix.parts.reduce((acc, p) => acc * extentOf(p.terms[0].index), 1);
          break;
        case 'boundary':
          throw new EinError({
            code: 'EIN2006',
            message: `${a.tensor} is a parameter of unknown shape read through ${ix.mode}(...), which needs its extent`,
            source,
            span: a.axisSpans[k],
            hint: `declare its shape: param ${a.tensor}[...] with extents, or bind it`,
          });
      }
      const declared = st.declared?.[k];
      if (declared !== undefined && declared < extent) {
        throw new EinError({
          code: 'EIN2004',
          message: `${a.tensor} axis ${k} is declared ${declared} but read up to index ${extent - 1}`,
          source,
          span: a.axisSpans[k],
        });
      }
      const e = declared ?? extent;
      if (extent < 1) {
        throw new EinError({ code: 'EIN2007', message: `${a.tensor} axis ${k} is never read at an index ≥ 0`, source, span: a.axisSpans[k] });
      }
      shape.push(e);
      const bare = ix.kind === 'affine' && ix.terms.length === 1 && ix.terms[0].coef === 1 && ix.offset === 0;
      axisFrom.push({
        from: declared !== undefined ? `declaration of ${a.tensor}` : bare ? `range of ${text}: ${ranges.get(ix.terms[0].index)!.from}` : `largest value of ${text} + 1${' at ' + at(source, a.axisSpans[k])}`,
        span: a.axisSpans[k],
      });
    });
    st.shape = shape;
    st.axisFrom = axisFrom;
  }
}
