/**
 * Index-range inference for one statement (LANGUAGE.md §6), in the manner of Tullio.jl: first
 * collect what each index is constrained to — annotations `i:N`, bare use as an axis of a tensor
 * whose shape is known, composite factors — then resolve, and give the left-hand indices still
 * open the largest "valid" range for which every read stays in bounds. Conflicts name both
 * sources.
 */
import { EinError, lineColumn, type ExtentSource, type Span } from '../../core/diagnostics';
import type { AffineIndex, CheckedIndex, IndexRange, LhsIndex, Provenance } from './checked';
import { bareIndex } from './index-forms';
import type { AccessSite } from './scopes';

export interface KnownShape {
  readonly shape: readonly number[];
  readonly axisFrom: readonly Provenance[];
}

export interface Annotation {
  readonly name: string;
  readonly extent: number;
  readonly span: Span;
}

export interface RangeProblem {
  readonly source: string;
  /** Left-hand indices (concatenation part indices included), in order. */
  readonly lhs: readonly string[];
  /** Reduced indices: aggregator-bound and implicit, with a span to point at. */
  readonly reduced: ReadonlyMap<string, Span>;
  readonly annotations: readonly Annotation[];
  readonly accesses: readonly AccessSite[];
  readonly known: (tensor: string) => KnownShape | undefined;
  readonly lhsSpans: ReadonlyMap<string, Span>;
}

function place(source: string, span: Span | undefined): string {
  if (span === undefined) return '';
  const { line, column } = lineColumn(source, span.start);
  return ` at ${line}:${column}`;
}

/** Resolves the range of every index of a statement, or throws the first conflict found. */
export function inferRanges(p: RangeProblem): Map<string, IndexRange> {
  const ranges = new Map<string, IndexRange>();
  const role = (name: string): 'lhs' | 'reduced' => (p.lhs.includes(name) ? 'lhs' : 'reduced');

  const set = (name: string, extent: number, from: string, span: Span | undefined) => {
    const old = ranges.get(name);
    if (old === undefined) {
      ranges.set(name, { name, extent, from, span, role: role(name) });
      return;
    }
    if (old.extent === extent) return;
    throw new EinError({
      code: 'EIN2004',
      message: `index ${name} has two different ranges: ${old.extent} and ${extent}`,
      source: p.source,
      span: span ?? old.span,
      related: old.span !== undefined && span !== undefined ? { span: old.span, label: `where ${name} got ${old.extent}` } : undefined,
      extents: [
        { what: `index ${name}`, extent: old.extent, from: old.from },
        { what: `index ${name}`, extent, from },
      ],
      hint: `make the two agree, or use two different index names`,
    });
  };

  const axisText = (a: AccessSite, k: number) => p.source.slice(a.axisSpans[k].start, a.axisSpans[k].end);
  const axisOrigin = (a: AccessSite, shape: KnownShape, k: number) =>
    `${a.tensor} axis ${k} (${shape.axisFrom[k]?.from ?? 'known shape'})${place(p.source, a.nameSpan)}`;

  // 1. Annotations.
  for (const a of p.annotations) set(a.name, a.extent, `annotation ${a.name}:${a.extent}${place(p.source, a.span)}`, a.span);

  // 2. Bare use as an axis of a tensor whose shape is known.
  for (const a of p.accesses) {
    const shape = p.known(a.tensor);
    if (shape === undefined) continue;
    a.indices.forEach((ix, k) => {
      const name = bareIndex(ix);
      if (name !== undefined) set(name, shape.shape[k], axisOrigin(a, shape, k), a.axisSpans[k]);
    });
  }

  // 3. Composite factors: (g, I) on an axis of extent N, repeated until nothing changes.
  for (let changed = true; changed;) {
    changed = false;
    for (const a of p.accesses) {
      const shape = p.known(a.tensor);
      if (shape === undefined) continue;
      a.indices.forEach((ix, k) => {
        if (ix.kind !== 'composite') return;
        const names = ix.parts.map((part) => part.terms[0].index);
        const n = shape.shape[k];
        const unknown = names.filter((nm) => !ranges.has(nm));
        const knownProduct = names.filter((nm) => ranges.has(nm)).reduce((acc, nm) => acc * ranges.get(nm)!.extent, 1);
        const involved = (): ExtentSource[] => [
          { what: `${a.tensor} axis ${k}`, extent: n, from: shape.axisFrom[k]?.from ?? 'known shape' },
          ...names.filter((nm) => ranges.has(nm)).map((nm) => ({ what: `index ${nm}`, extent: ranges.get(nm)!.extent, from: ranges.get(nm)!.from })),
        ];
        if (unknown.length === 1) {
          if (n % knownProduct !== 0) {
            throw new EinError({
              code: 'EIN2005',
              message: `composite ${axisText(a, k)} on an axis of extent ${n}: the known factor ${knownProduct} does not divide ${n}`,
              source: p.source,
              span: a.axisSpans[k],
              extents: involved(),
              hint: `choose factors whose product is ${n}`,
            });
          }
          set(
            unknown[0],
            n / knownProduct,
            `${a.tensor} axis ${k} (${n}) / ${knownProduct} in ${axisText(a, k)}${place(p.source, a.axisSpans[k])}`,
            a.axisSpans[k],
          );
          changed = true;
        } else if (unknown.length === 0 && knownProduct !== n) {
          throw new EinError({
            code: 'EIN2005',
            message: `composite ${axisText(a, k)}: its factors multiply to ${knownProduct}, but the axis has extent ${n}`,
            source: p.source,
            span: a.axisSpans[k],
            extents: involved(),
            hint: `choose factors whose product is ${n}`,
          });
        }
      });
    }
  }

  // 4. Reduced indices must all be known now (only annotations, bare reads and composites give
  //    them ranges), and before valid ranges, which depend on them.
  for (const [name, span] of p.reduced) {
    if (!ranges.has(name)) {
      throw new EinError({
        code: 'EIN2006',
        message: `the range of reduced index ${name} cannot be inferred`,
        source: p.source,
        span,
        expected: `${name} used plainly as an axis of a tensor whose shape is known, or an extent`,
        hint: `give it an extent where it is reduced or read, e.g. [${name}:3]`,
      });
    }
  }
  // 5. Left-hand indices still open: the largest valid range.
  const open = () => p.lhs.filter((n) => !ranges.has(n));
  for (let pass = 0; open().length > 0; pass++) {
    let progress = false;
    for (const name of open()) {
      const result = validRange(name, p, ranges, pass > 0);
      if (result === 'wait') continue;
      if (result === 'none') continue;
      progress = true;
      if (result.extent <= 0) {
        throw new EinError({
          code: 'EIN2007',
          message: `index ${name} has an empty valid range: no value of ${name} keeps every read in bounds`,
          source: p.source,
          span: p.lhsSpans.get(name),
          extents: result.involved,
          hint: `declare the extent you want, e.g. ${name}:N on the left-hand side; reads that fall outside then count as zero padding`,
        });
      }
      set(name, result.extent, result.from, result.span);
    }
    if (!progress && pass > 0) break;
  }
  for (const name of open()) {
    throw new EinError({
      code: 'EIN2021',
      message: `the range of left-hand index ${name} cannot be inferred`,
      source: p.source,
      span: p.lhsSpans.get(name),
      expected: `${name} used plainly as an axis of a tensor whose shape is known, or an extent`,
      hint: `declare it, e.g. ${name}:16, or bind the tensors it indexes`,
    });
  }

  return ranges;
}

type ValidResult = 'wait' | 'none' | { extent: number; from: string; span: Span; involved: ExtentSource[] };

/**
 * The largest n such that every read of a known-shape tensor whose index uses `name` stays in
 * bounds for name ∈ [0, n) and every value of the other indices. 'wait' when a read also uses an
 * index still open (unless `partial`, which resolves from the reads that are complete).
 */
function validRange(name: string, p: RangeProblem, ranges: ReadonlyMap<string, IndexRange>, partial: boolean): ValidResult {
  let best: { extent: number; from: string; span: Span; involved: ExtentSource[] } | undefined;
  let waiting = false;
  for (const a of p.accesses) {
    const shape = p.known(a.tensor);
    if (shape === undefined) continue;
    a.indices.forEach((ix, k) => {
      const c = affineBound(ix, shape.shape[k]);
      if (c === undefined) return;
      const coef = c.affine.terms.find((t) => t.index === name)?.coef;
      if (coef === undefined) return;
      const others = c.affine.terms.filter((t) => t.index !== name);
      if (others.some((t) => !ranges.has(t.index))) {
        waiting = true;
        return;
      }
      let lo = c.affine.offset;
      let hi = c.affine.offset;
      for (const t of others) {
        const span = t.coef * (ranges.get(t.index)!.extent - 1);
        lo += Math.min(0, span);
        hi += Math.max(0, span);
      }
      const limit = c.limit; // reads must stay in [0, limit)
      let n: number;
      if (coef > 0) n = lo < 0 ? 0 : Math.floor((limit - 1 - hi) / coef) + 1;
      else n = hi > limit - 1 ? 0 : Math.floor(lo / -coef) + 1;
      const text = p.source.slice(a.axisSpans[k].start, a.axisSpans[k].end);
      const involved: ExtentSource[] = [
        { what: `${a.tensor} axis ${k}`, extent: shape.shape[k], from: shape.axisFrom[k]?.from ?? 'known shape' },
        ...others.map((t) => ({ what: `index ${t.index}`, extent: ranges.get(t.index)!.extent, from: ranges.get(t.index)!.from })),
      ];
      if (best === undefined || n < best.extent) {
        best = {
          extent: Math.max(n, 0),
          from: `valid range of ${text} in ${a.tensor} axis ${k} (extent ${shape.shape[k]})${place(p.source, a.axisSpans[k])}`,
          span: a.axisSpans[k],
          involved,
        };
      }
    });
  }
  if (waiting && !partial) return 'wait';
  return best ?? (waiting ? 'wait' : 'none');
}

/** An index as an affine form that must stay in [0, limit), or undefined when it never leaves bounds. */
function affineBound(ix: CheckedIndex, extent: number): { affine: AffineIndex; limit: number } | undefined {
  if (ix.kind === 'affine') return { affine: ix, limit: extent };
  // floor(a / d) ∈ [0, N) ⟺ a ∈ [0, d·N)
  if (ix.kind === 'floordiv') return { affine: ix.arg, limit: ix.divisor * extent };
  return undefined; // boundary modes read in bounds by construction; composites are factored
}

/** Smallest and largest value of an affine form over the given ranges. */
export function affineSpan(a: AffineIndex, extentOf: (name: string) => number): { min: number; max: number } {
  let min = a.offset;
  let max = a.offset;
  for (const t of a.terms) {
    const s = t.coef * (extentOf(t.index) - 1);
    min += Math.min(0, s);
    max += Math.max(0, s);
  }
  return { min, max };
}

/** The extent a left-hand axis gives the output. */
export function lhsAxisExtent(ix: LhsIndex, extentOf: (name: string) => number): number {
  switch (ix.kind) {
    case 'affine':
      return affineSpan(ix, extentOf).max + 1;
    case 'composite':
      return ix.parts.reduce((acc, part) => acc * extentOf(part.terms[0].index), 1);
    case 'concat':
      return ix.parts.reduce((acc, name) => acc + extentOf(name), 0);
  }
}
