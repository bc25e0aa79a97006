/**
 * Checking one assignment, as a sequence of phases with explicit inputs and outputs:
 *
 *   leftHandSide   indices on the left → their normal forms, names, loop indices, concat axis
 *   rightHandSides right-hand parts → checked expressions with implicit sums, tensor reads
 *   checkReads     reads → assigned before use, ranks agree (enters new parameters' ranks)
 *   statementRanges → the range of every index (ranges.ts)
 *   inferReadShapes → the shapes of parameters first read here
 *   outputShape    → the target's shape, checked for emptiness and size
 *   fillComposites → composite indices with their factors
 *
 * Only `checkReads`, `inferReadShapes` and `recordTarget` write to the tensor table.
 */
import { EinError, type Span } from '../../core/diagnostics';
import type { Assignment, IndexName } from '../parse/ast';
import { forEachExpr, forEachIndexName } from '../parse/walk';
import type { CheckedExpr, CheckedIndex, CheckedStatement, IndexRange, LhsIndex, Provenance, TensorRole } from './checked';
import { indexNamesOf, lhsIndexForm, type IndexContext } from './index-forms';
import { affineSpan, inferRanges, lhsAxisExtent, type Annotation, type KnownShape } from './ranges';
import { convertRhs, type AccessSite, type ScopeResult } from './scopes';
import { at, extentValue, type TensorTable } from './state';

/** tfjs indexes tensors with int32. */
const MAX_ELEMENTS = 2 ** 31 - 1;

type ConcatIndex = LhsIndex & { kind: 'concat' };

/** What the left-hand side says. */
interface LeftHandSide {
  readonly lhs: readonly LhsIndex[];
  readonly concat?: ConcatIndex;
  /** Every left-hand index name, distinct, in order. */
  readonly names: readonly string[];
  /** Each left-hand name's first appearance. */
  readonly spans: ReadonlyMap<string, Span>;
  /** Left-hand names the statement loops over (all but the concatenation's parts). */
  readonly loopIndices: readonly string[];
}

/** Checks one assignment, the `statementIndex`-th, and records its target in `tensors`. */
export function checkAssignment(
  s: Assignment,
  statementIndex: number,
  ctx: IndexContext,
  tensors: TensorTable,
  assignedAt: ReadonlyMap<string, number>,
): CheckedStatement {
  const left = leftHandSide(s, ctx);
  const scopes = rightHandSides(s, left, ctx);
  const accesses: AccessSite[] = scopes.flatMap((r) => r.accesses);
  checkReads(accesses, statementIndex, ctx, tensors, assignedAt);
  const ranges = statementRanges(s, left, scopes, accesses, ctx, tensors);
  inferReadShapes(accesses, tensors, ranges, ctx.source);
  const { shape, scatter } = outputShape(s, left.lhs, ranges, ctx.source);
  recordTarget(s, left.lhs, shape, ranges, ctx.source, tensors);
  const filled = fillComposites(left.lhs, scopes, ranges);
  return { target: s.target, span: s.span, lhs: filled.lhs, parts: filled.parts, ranges, loopIndices: [...left.loopIndices], scatter, shape };
}

function leftHandSide(s: Assignment, ctx: IndexContext): LeftHandSide {
  const { source, consts } = ctx;
  const lhs: LhsIndex[] = s.indices.map((i) => lhsIndexForm(i, ctx, s.parts.length));
  const concatAxes = lhs.map((ix, k) => (ix.kind === 'concat' ? k : -1)).filter((k) => k >= 0);
  const concat = concatAxes.length === 1 ? (lhs[concatAxes[0]] as ConcatIndex) : undefined;
  if (s.parts.length > 1 && (concat === undefined || concat.parts.length !== s.parts.length)) {
    throw new EinError({
      code: 'EIN2016',
      message:
        concat === undefined
          ? `a concatenation of ${s.parts.length} parts needs one left-hand axis written J1+J2+...`
          : `the concatenation axis names ${concat.parts.length} parts but the right-hand side has ${s.parts.length}`,
      source,
      span: s.span,
      expected: `T[b, x, y, J1+J2] = A[b, x, y, J1] ; B[b, x, y, J2]`,
    });
  }

  // Left-hand names: distinct, and not consts.
  const spans = lhsNameSpans(s);
  const names: string[] = [];
  for (const ix of lhs) {
    for (const name of indexNamesOf(ix)) {
      if (names.includes(name)) {
        throw new EinError({
          code: 'EIN2012',
          message: `left-hand index ${name} is used twice`,
          source,
          span: spans.get(name) ?? s.targetSpan,
          expected: 'each left-hand index to be a distinct variable',
          hint: `a diagonal is read, not written: write ${s.target}[${name}] = A[${name}, ${name}] instead`,
        });
      }
      if (consts.has(name)) {
        throw new EinError({ code: 'EIN2013', message: `${name} is a const and cannot be a left-hand index`, source, span: spans.get(name) ?? s.targetSpan });
      }
      names.push(name);
    }
  }
  const loopIndices = names.filter((n) => !concat?.parts.includes(n));
  return { lhs, concat, names, spans, loopIndices };
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

/** Right-hand sides, with implicit sums made explicit: one per concatenated part. */
function rightHandSides(s: Assignment, left: LeftHandSide, ctx: IndexContext): ScopeResult[] {
  return s.parts.map((part, k) => {
    const visible = new Set(left.loopIndices);
    if (left.concat) visible.add(left.concat.parts[k]);
    return convertRhs(part, visible, ctx);
  });
}

/** Reads: assigned earlier, or inputs/parameters; ranks agree. A tensor seen first here is entered as a parameter. */
function checkReads(
  accesses: readonly AccessSite[],
  statementIndex: number,
  ctx: IndexContext,
  tensors: TensorTable,
  assignedAt: ReadonlyMap<string, number>,
): void {
  const { source, consts } = ctx;
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
        hint:
          assigned === statementIndex
            ? 'a statement cannot read the tensor it assigns; name the result differently'
            : 'move its assignment above this statement',
      });
    }
    let state = tensors.get(a.tensor);
    if (state === undefined) {
      state = { role: assigned !== undefined ? 'output' : 'param', span: a.nameSpan };
      tensors.set(a.tensor, state);
    }
    const rank = state.shape?.length ?? state.rank;
    if (rank !== undefined && rank !== a.indices.length) {
      const origin = state.shape !== undefined ? (state.axisFrom?.[0]?.from ?? 'its shape') : `its use at ${at(source, state.rankSpan ?? state.span)}`;
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

/** The range of every index of the statement, each with its origin. */
function statementRanges(
  s: Assignment,
  left: LeftHandSide,
  scopes: readonly ScopeResult[],
  accesses: readonly AccessSite[],
  ctx: IndexContext,
  tensors: TensorTable,
): Map<string, IndexRange> {
  const { source, consts } = ctx;
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
  return inferRanges({
    source,
    lhs: left.names,
    reduced,
    annotations: collectAnnotations(s, consts, source),
    accesses,
    known,
    lhsSpans: left.spans,
  });
}

/** The target's shape, and whether it is written by a scatter (a left-hand index that is not a bare name). */
function outputShape(s: Assignment, lhs: readonly LhsIndex[], ranges: ReadonlyMap<string, IndexRange>, source: string): { shape: number[]; scatter: boolean } {
  const extentOf = (name: string) => ranges.get(name)!.extent;
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
  return { shape, scatter };
}

/** Enters the target with its shape and where each axis came from. */
function recordTarget(
  s: Assignment,
  lhs: readonly LhsIndex[],
  shape: readonly number[],
  ranges: ReadonlyMap<string, IndexRange>,
  source: string,
  tensors: TensorTable,
): void {
  const target = tensors.get(s.target) ?? { role: 'output' as TensorRole, span: s.targetSpan };
  target.role = 'output';
  target.span = target.span.start < s.targetSpan.start ? target.span : s.targetSpan;
  target.shape = shape;
  target.axisFrom = lhs.map((ix, k) => ({ from: lhsAxisOrigin(ix, ranges, s, k, source), span: s.indices[k].span }));
  tensors.set(s.target, target);
}

function lhsAxisOrigin(ix: LhsIndex, ranges: ReadonlyMap<string, IndexRange>, s: Assignment, k: number, source: string): string {
  const text = source.slice(s.indices[k].span.start, s.indices[k].span.end);
  if (ix.kind === 'affine' && ix.terms.length === 1 && ix.terms[0].coef === 1 && ix.offset === 0) {
    return `range of ${text}: ${ranges.get(ix.terms[0].index)!.from}`;
  }
  return `${text} over the ranges of its indices`;
}

/** Composite factors are the ranges of their parts. */
function fillComposites(
  lhs: readonly LhsIndex[],
  scopes: readonly ScopeResult[],
  ranges: ReadonlyMap<string, IndexRange>,
): { lhs: LhsIndex[]; parts: CheckedExpr[] } {
  const extentOf = (name: string) => ranges.get(name)!.extent;
  const fill = (ix: CheckedIndex): CheckedIndex => (ix.kind === 'composite' ? { ...ix, factors: ix.parts.map((p) => extentOf(p.terms[0].index)) } : ix);
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
  return { lhs: lhs.map((ix) => (ix.kind === 'composite' ? (fill(ix) as LhsIndex) : ix)), parts: scopes.map((r) => fillExpr(r.expr)) };
}

/** Shapes of tensors read without a known shape (parameters), from the indices that read them. */
function inferReadShapes(accesses: readonly AccessSite[], tensors: TensorTable, ranges: ReadonlyMap<string, IndexRange>, source: string): void {
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
        from:
          declared !== undefined
            ? `declaration of ${a.tensor}`
            : bare
              ? `range of ${text}: ${ranges.get(ix.terms[0].index)!.from}`
              : `largest value of ${text} + 1 at ${at(source, a.axisSpans[k])}`,
        span: a.axisSpans[k],
      });
    });
    st.shape = shape;
    st.axisFrom = axisFrom;
  }
}
