/**
 * Index expressions → normal form: affine combinations `Σ c·i + d`, floor divisions by a
 * constant, composites `(g, I)` of plain indices, and boundary modes. Anything else (a product
 * of two indices, division by an index) is not affine and is rejected here with its place.
 */
import { EinError, type Span } from '../../core/diagnostics';
import type { IndexExpr } from '../parse/ast';
import type { AffineIndex, CheckedIndex, FloorDivIndex, LhsIndex } from './checked';

export interface IndexContext {
  readonly source: string;
  readonly consts: ReadonlyMap<string, number>;
}

type Scalar = AffineIndex | FloorDivIndex;

function constant(value: number): AffineIndex {
  return { kind: 'affine', terms: [], offset: value };
}

function isConstant(a: Scalar): a is AffineIndex {
  return a.kind === 'affine' && a.terms.length === 0;
}

function addAffine(a: AffineIndex, b: AffineIndex, sign: 1 | -1): AffineIndex {
  const coefs = new Map<string, number>();
  for (const t of a.terms) coefs.set(t.index, (coefs.get(t.index) ?? 0) + t.coef);
  for (const t of b.terms) coefs.set(t.index, (coefs.get(t.index) ?? 0) + sign * t.coef);
  const terms = [...coefs].filter(([, c]) => c !== 0).map(([index, coef]) => ({ index, coef }));
  return { kind: 'affine', terms, offset: a.offset + sign * b.offset };
}

function scaleAffine(a: AffineIndex, k: number): AffineIndex {
  if (k === 0) return constant(0);
  return { kind: 'affine', terms: a.terms.map((t) => ({ index: t.index, coef: t.coef * k })), offset: a.offset * k };
}

function notAffine(ctx: IndexContext, span: Span, what: string): never {
  throw new EinError({
    code: 'EIN2009',
    message: `index expression is not affine: ${what}`,
    source: ctx.source,
    span,
    expected: 'an affine index (s*x + d*Δx - p with constant s, d, p), a floor division by a constant (x/2), (g, i), or clamp/wrap/reflect(...)',
  });
}

/**
 * Index arithmetic is exact only below 2⁵³ (a larger literal may not even be the number written),
 * and no tensor axis comes near it: a constant or coefficient beyond it is an error, not a guess.
 */
function exact<T extends Scalar>(form: T, ctx: IndexContext, span: Span): T {
  const affine: AffineIndex = form.kind === 'affine' ? form : form.arg;
  const values = [affine.offset, ...affine.terms.map((t) => t.coef), ...(form.kind === 'floordiv' ? [form.divisor] : [])];
  const bad = values.find((v) => !(Math.abs(v) <= Number.MAX_SAFE_INTEGER));
  if (bad === undefined) return form;
  throw new EinError({
    code: 'EIN2030',
    message:
      `index constant ${bad.toLocaleString('en-US', { useGrouping: false })} is beyond 2^53 (${Number.MAX_SAFE_INTEGER}): ` +
      'index arithmetic would not be exact',
    source: ctx.source,
    span,
    expected: 'index constants and coefficients between -(2^53 - 1) and 2^53 - 1 (a tensor axis has at most 2^31 - 1 elements)',
    hint: 'use a smaller constant; an index that large reads outside every tensor',
  });
}

/** Normal form of a scalar index expression (no composite, no boundary). */
function scalarForm(e: IndexExpr, ctx: IndexContext): Scalar {
  return exact(scalarFormOf(e, ctx), ctx, e.span);
}

function scalarFormOf(e: IndexExpr, ctx: IndexContext): Scalar {
  switch (e.kind) {
    case 'number':
      return constant(e.value);
    case 'name': {
      const c = ctx.consts.get(e.name);
      if (c !== undefined && e.extent === undefined) {
        if (!Number.isInteger(c)) notAffine(ctx, e.span, `constant ${e.name} = ${c} is not an integer`);
        return constant(c);
      }
      return { kind: 'affine', terms: [{ index: e.name, coef: 1 }], offset: 0 };
    }
    case 'paren':
      return scalarForm(e.arg, ctx);
    case 'negate': {
      const a = scalarForm(e.arg, ctx);
      if (a.kind !== 'affine') notAffine(ctx, e.span, 'a floor division cannot be negated');
      return scaleAffine(a, -1);
    }
    case 'binary': {
      const l = scalarForm(e.left, ctx);
      const r = scalarForm(e.right, ctx);
      if (e.op === '+' || e.op === '-') {
        if (l.kind !== 'affine' || r.kind !== 'affine') {
          notAffine(ctx, e.span, `'${e.op}' of a floor division; write the offset inside it, e.g. (x + 2)/2`);
        }
        return addAffine(l, r, e.op === '+' ? 1 : -1);
      }
      if (e.op === '*') {
        if (isConstant(l) && r.kind === 'affine') return scaleAffine(r, l.offset);
        if (isConstant(r) && l.kind === 'affine') return scaleAffine(l, r.offset);
        notAffine(ctx, e.span, 'a product of two indices');
      }
      // '/': floor division by a positive constant
      if (!isConstant(r)) notAffine(ctx, e.span, 'division by an index');
      const d = r.offset;
      if (d <= 0) {
        throw new EinError({
          code: 'EIN2022',
          message: `division of an index by ${d}`,
          source: ctx.source,
          span: e.right.span,
          expected: 'a positive integer divisor',
        });
      }
      if (l.kind === 'floordiv') return { kind: 'floordiv', arg: l.arg, divisor: l.divisor * d };
      if (isConstant(l)) return constant(Math.floor(l.offset / d));
      return d === 1 ? l : { kind: 'floordiv', arg: l, divisor: d };
    }
    case 'composite':
      notAffine(ctx, e.span, 'a composite (g, i) must be a whole axis, not part of an index expression');
    // falls through: notAffine never returns
    case 'boundary':
      notAffine(ctx, e.span, `${e.kind === 'boundary' ? e.mode : 'a boundary'}(...) must be a whole axis, not part of an index expression`);
  }
}

/** Parts of a composite must be plain indices: `(g, I)`. */
function compositeParts(e: IndexExpr & { kind: 'composite' }, ctx: IndexContext): AffineIndex[] {
  return e.parts.map((p) => {
    const inner = p.kind === 'paren' ? p.arg : p;
    if (inner.kind !== 'name' || ctx.consts.has(inner.name)) {
      notAffine(ctx, p.span, 'each part of a composite (g, i) must be a plain index name');
    }
    return { kind: 'affine', terms: [{ index: inner.name, coef: 1 }], offset: 0 };
  });
}

/** Normal form of one right-hand axis index. Composite factors are filled in later (-1 = unknown). */
export function rhsIndexForm(e: IndexExpr, ctx: IndexContext): CheckedIndex {
  if (e.kind === 'paren') return rhsIndexForm(e.arg, ctx);
  if (e.kind === 'composite') {
    const parts = compositeParts(e, ctx);
    return { kind: 'composite', parts, factors: parts.map(() => -1) };
  }
  if (e.kind === 'boundary') return { kind: 'boundary', mode: e.mode, arg: scalarForm(e.arg, ctx) };
  return scalarForm(e, ctx);
}

/** Normal form of one left-hand axis: a plain index, a composite, a concatenation or a scatter. */
export function lhsIndexForm(e: IndexExpr, ctx: IndexContext, concatParts: number): LhsIndex {
  if (e.kind === 'paren') return lhsIndexForm(e.arg, ctx, concatParts);
  if (e.kind === 'composite') {
    const parts = compositeParts(e, ctx);
    return { kind: 'composite', parts, factors: parts.map(() => -1) };
  }
  if (e.kind === 'boundary') {
    throw new EinError({
      code: 'EIN2013',
      message: `${e.mode}(...) on the left-hand side`,
      source: ctx.source,
      span: e.span,
      expected: 'boundary modes only where a tensor is read, on the right-hand side',
    });
  }
  if (concatParts > 1 && e.kind === 'binary' && e.op === '+') {
    const names = concatNames(e);
    if (names !== undefined) return { kind: 'concat', parts: names };
  }
  const f = scalarForm(e, ctx);
  if (f.kind === 'floordiv') {
    throw new EinError({
      code: 'EIN2013',
      message: 'floor division on the left-hand side',
      source: ctx.source,
      span: e.span,
      expected: 'a plain index, (g, i), an affine scatter like 2*x+Δx, or J1+J2 for concatenation',
      hint: 'read the smaller tensor with x/2 on the right-hand side instead',
    });
  }
  if (f.terms.length === 0) {
    throw new EinError({
      code: 'EIN2013',
      message: 'a constant on the left-hand side',
      source: ctx.source,
      span: e.span,
      expected: 'every left-hand axis to use an index',
    });
  }
  return f;
}

/** `J1 + J2 + J3` → ['J1', 'J2', 'J3'], or undefined when it is not a sum of plain names. */
function concatNames(e: IndexExpr): string[] | undefined {
  if (e.kind === 'name') return e.extent === undefined ? [e.name] : [e.name];
  if (e.kind === 'binary' && e.op === '+') {
    const l = concatNames(e.left);
    const r = concatNames(e.right);
    return l && r ? [...l, ...r] : undefined;
  }
  return undefined;
}

/** Index names an index expression uses (constants excluded). */
export function indexNamesOf(i: CheckedIndex | LhsIndex): string[] {
  switch (i.kind) {
    case 'affine':
      return i.terms.map((t) => t.index);
    case 'floordiv':
      return indexNamesOf(i.arg);
    case 'composite':
      return i.parts.flatMap(indexNamesOf);
    case 'boundary':
      return indexNamesOf(i.arg);
    case 'concat':
      return [...i.parts];
  }
}

/** True for an index that is one name with coefficient 1 and no offset. */
export function bareIndex(i: CheckedIndex | LhsIndex): string | undefined {
  return i.kind === 'affine' && i.terms.length === 1 && i.terms[0].coef === 1 && i.offset === 0 ? i.terms[0].index : undefined;
}
