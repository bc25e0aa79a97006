/**
 * `summary()`: one row per statement (or per group of statements) with the activation shape and
 * size, the parameters first read there, the multiply-adds and the receptive field and jump —
 * all computed from the checked program (index expressions and ranges), not from layer kinds.
 *
 * - **Multiply-adds** (per example): walking the statement's expression with a multiplier that
 *   starts at the number of output elements (batch excluded) and is multiplied by the reduced
 *   ranges at each aggregation (implicit Σ included), each `·` counts the multiplier. A
 *   convolution `W[Δx,Δy,I,j] · L[b,x+Δx,y+Δy,I]` gives kx·ky·x·y·I·j, seed 000's count; terms
 *   that fall into zero padding are counted too (as the usual formulas do).
 * - **Receptive field and jump**, per spatial axis of the inputs (rank ≥ 3 inputs: axes between
 *   the batch axis 0 and the channel axis): for an output index x read as `s·x + Σ d·Δ + c` on an
 *   axis carrying input axis a, rf = rf_in + Σ |d|·(extent(Δ) − 1) · jump_in and jump =
 *   s · jump_in. An axis read by reduced indices only (a dense layer over x, y) is consumed:
 *   rf grows by its whole range and jump no longer applies. The largest value over the tensors a
 *   statement reads is kept.
 */
import type { CheckedExpr, CheckedIndex, CheckedProgram, CheckedStatement, AffineIndex } from '../dsl/check/checked';
import { Program } from '../dsl/program';
import { Model } from './model';
import { modelError } from './errors';
import { readsOf } from '../dsl/check/reads';

export interface SummaryRow {
  /** Tensor name, or group name. */
  readonly name: string;
  /** Activation shape without the batch axis. */
  readonly shape: readonly number[];
  readonly size: number;
  readonly params: number;
  readonly paramNames: readonly string[];
  /** Multiplications per example (see the module comment). */
  readonly multiplyAdds: number;
  /** Receptive field per input spatial axis (undefined when the tensor has none). */
  readonly receptiveField?: readonly number[];
  /** Jump (input pixels between neighbouring outputs) per spatial axis; undefined once consumed. */
  readonly jump?: ReadonlyArray<number | undefined>;
}

export interface Summary {
  readonly rows: readonly SummaryRow[];
  readonly totalParams: number;
  readonly totalMultiplyAdds: number;
  /** A text table, numbers with thousands separators (the seed 004 layout). */
  toString(): string;
}

export interface SummaryOptions {
  /** Batch axis of the inputs (default 0). */
  readonly batchAxis?: number;
  /**
   * One row per statement (default), per name prefix of `n` dotted parts (`2`: `stage1.block1`),
   * or per the group a function names. A group shows its last tensor's shape and receptive field
   * and the sums of its parameters and multiply-adds.
   */
  readonly group?: 'statement' | number | ((tensor: string) => string);
  /** Names to leave out of the parameter counts (dropout masks, running statistics). */
  readonly exclude?: readonly string[];
}

interface Spatial {
  /** Per input spatial axis: rf, jump (undefined once consumed), and which axis of this tensor carries it. */
  readonly rf: number[];
  readonly jump: Array<number | undefined>;
  readonly carrier: Array<number | undefined>;
}

function affineOf(ix: CheckedIndex): AffineIndex | undefined {
  switch (ix.kind) {
    case 'affine':
      return ix;
    case 'floordiv':
      return ix.arg;
    case 'boundary':
      return ix.arg.kind === 'affine' ? ix.arg : ix.arg.arg;
    default:
      return undefined;
  }
}

function divisorOf(ix: CheckedIndex): number {
  if (ix.kind === 'floordiv') return ix.divisor;
  if (ix.kind === 'boundary' && ix.arg.kind === 'floordiv') return ix.arg.divisor;
  return 1;
}

function multiplications(e: CheckedExpr, mult: number, st: CheckedStatement): number {
  switch (e.kind) {
    case 'unary':
      return multiplications(e.arg, mult, st);
    case 'binary':
      return (e.fn === 'mul' ? mult : 0) + multiplications(e.left, mult, st) + multiplications(e.right, mult, st);
    case 'reduce': {
      const m = e.indices.reduce((a, i) => a * (st.ranges.get(i)?.extent ?? 1), mult);
      return multiplications(e.body, m, st);
    }
    default:
      return 0;
  }
}

/** Per-statement facts: batch index, spatial propagation, multiply-adds, params. */
function analyse(checked: CheckedProgram, batchAxis: number, exclude: ReadonlySet<string>) {
  const batched = new Map<string, number>(); // tensor → its batch axis
  const spatial = new Map<string, Spatial>();
  const inputs = checked.inputs.filter((n) => !exclude.has(n));
  const dims = inputs.length > 0 ? Math.max(0, checked.tensors.get(inputs[0])!.shape.length - 2) : 0;
  for (const name of inputs) {
    const shape = checked.tensors.get(name)!.shape;
    batched.set(name, batchAxis);
    if (shape.length >= 3) spatial.set(name, { rf: Array(dims).fill(1), jump: Array(dims).fill(1), carrier: Array.from({ length: dims }, (_, k) => k + 1) });
  }
  const params = new Set(checked.params.filter((p) => !exclude.has(p)));
  const counted = new Set<string>();
  const facts = checked.statements.map((st) => {
    const found: Array<Extract<CheckedExpr, { kind: 'access' }>> = [];
    st.parts.forEach((p) => readsOf(p, found));
    // The batch index: the left-hand index read bare on the batch axis of a batched tensor.
    let batchIndex: string | undefined;
    for (const a of found) {
      const axis = batched.get(a.tensor);
      if (axis === undefined) continue;
      const af = affineOf(a.indices[axis]);
      if (af && af.terms.length === 1 && af.terms[0].coef === 1 && st.ranges.get(af.terms[0].index)?.role === 'lhs') batchIndex = af.terms[0].index;
    }
    const lhsAxis = (index: string) => st.lhs.findIndex((l) => l.kind === 'affine' && l.terms.length === 1 && l.terms[0].index === index);
    let batchPos = -1;
    if (batchIndex !== undefined) {
      batchPos = lhsAxis(batchIndex);
      if (batchPos >= 0) batched.set(st.target, batchPos);
    }
    // Multiply-adds per example.
    const outSize = st.loopIndices.filter((i) => i !== batchIndex).reduce((a, i) => a * (st.ranges.get(i)?.extent ?? 1), 1);
    const macs = st.parts.reduce((n, p) => n + multiplications(p, outSize, st), 0);
    // Receptive field and jump.
    let sp: Spatial | undefined;
    if (!st.scatter) {
      for (const a of found) {
        const src = spatial.get(a.tensor);
        if (src === undefined) continue;
        const cand: Spatial = { rf: [], jump: [], carrier: [] };
        for (let d = 0; d < dims; d++) {
          const axis = src.carrier[d];
          if (axis === undefined) {
            cand.rf.push(src.rf[d]);
            cand.jump.push(undefined);
            cand.carrier.push(undefined);
            continue;
          }
          const ix = a.indices[axis];
          const af = affineOf(ix);
          let grow = 0;
          let lhsTerm: { index: string; coef: number } | undefined;
          for (const t of af?.terms ?? []) {
            const r = st.ranges.get(t.index);
            if (r === undefined) continue;
            if (r.role === 'reduced') grow += Math.abs(t.coef) * (r.extent - 1);
            else lhsTerm = t;
          }
          const jin = src.jump[d] ?? 1;
          cand.rf.push(src.rf[d] + grow * jin);
          if (lhsTerm !== undefined && lhsAxis(lhsTerm.index) >= 0) {
            cand.jump.push(src.jump[d] === undefined ? undefined : (src.jump[d]! * Math.abs(lhsTerm.coef)) / divisorOf(ix));
            cand.carrier.push(lhsAxis(lhsTerm.index));
          } else {
            cand.jump.push(undefined);
            cand.carrier.push(undefined);
          }
        }
        if (sp === undefined || cand.rf.reduce((x, y) => x + y, 0) > sp.rf.reduce((x, y) => x + y, 0)) sp = cand;
      }
    }
    if (sp !== undefined) spatial.set(st.target, sp);
    const own = found.map((a) => a.tensor).filter((t) => params.has(t) && !counted.has(t));
    const paramNames = [...new Set(own)];
    paramNames.forEach((p) => counted.add(p));
    const shape = checked.tensors.get(st.target)!.shape.filter((_, k) => k !== batchPos);
    return {
      name: st.target,
      shape,
      size: shape.reduce((a, b) => a * b, 1),
      params: paramNames.reduce((n, p) => n + checked.tensors.get(p)!.shape.reduce((a, b) => a * b, 1), 0),
      paramNames,
      multiplyAdds: macs,
      receptiveField: sp?.rf,
      jump: sp?.jump,
    } satisfies SummaryRow;
  });
  const inputRows: SummaryRow[] = inputs.map((name) => {
    const shape = checked.tensors.get(name)!.shape.filter((_, k) => k !== batchAxis);
    const sp = spatial.get(name);
    return { name, shape, size: shape.reduce((a, b) => a * b, 1), params: 0, paramNames: [], multiplyAdds: 0, receptiveField: sp?.rf, jump: sp?.jump };
  });
  return [...inputRows, ...facts];
}

function groupRows(rows: readonly SummaryRow[], key: (name: string) => string): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const r of rows) {
    const k = key(r.name);
    const last = out[out.length - 1];
    if (last !== undefined && last.name === k) {
      out[out.length - 1] = {
        ...r,
        name: k,
        params: last.params + r.params,
        paramNames: [...last.paramNames, ...r.paramNames],
        multiplyAdds: last.multiplyAdds + r.multiplyAdds,
        receptiveField: r.receptiveField ?? last.receptiveField,
        jump: r.receptiveField ? r.jump : last.jump,
      };
    } else out.push({ ...r, name: k });
  }
  return out;
}

const num = (n: number) => n.toLocaleString('en-US');

function axesText(v: ReadonlyArray<number | undefined> | undefined): string {
  if (v === undefined || v.length === 0) return '-';
  if (v.every((x) => x === v[0])) return v[0] === undefined ? '-' : String(v[0]);
  return v.map((x) => (x === undefined ? '-' : String(x))).join('×');
}

/**
 * The per-layer table of a model or program for given input shapes (batch axis included).
 *
 * @example
 *   console.log(summary(lenet5(), { X: [1, 28, 28, 1] }).toString());
 * Limitations: receptive fields are not tracked through scatter (transposed-convolution)
 * statements; groups of statements report their last tensor's receptive field.
 */
export function summary(target: Model | Program, shapes?: Readonly<Record<string, readonly number[]>>, options: SummaryOptions = {}): Summary {
  let program: Program;
  let bound: Record<string, readonly number[]>;
  const exclude = new Set(options.exclude ?? []);
  if (target instanceof Model) {
    program = target.evalProgram;
    bound = { ...(shapes ?? target.inputShapes) };
    for (const [name, v] of target.stats) bound[name] = v.shape;
    for (const name of [...target.stats.keys(), ...target.dropoutRates.keys()]) exclude.add(name);
  } else if (target instanceof Program) {
    program = target;
    if (shapes === undefined) throw modelError('EIN4001', 'summary', 'no input shapes given', 'pass summary(program, { X: [1, 32, 32, 3] })');
    bound = { ...shapes };
  } else {
    throw modelError('EIN4001', 'summary', `expected a Model or an ein Program, got ${typeof target}`);
  }
  const checked = program.check(bound).checked;
  let rows = analyse(checked, options.batchAxis ?? 0, exclude);
  const g = options.group ?? 'statement';
  if (typeof g === 'number') rows = groupRows(rows, (n) => n.split('.').slice(0, g).join('.'));
  else if (typeof g === 'function') rows = groupRows(rows, g);
  const totalParams = rows.reduce((n, r) => n + r.params, 0);
  const totalMultiplyAdds = rows.reduce((n, r) => n + r.multiplyAdds, 0);
  return {
    rows,
    totalParams,
    totalMultiplyAdds,
    toString() {
      const table = [['layer', 'activation shape', 'size', 'params', 'mult-adds', 'rf', 'jump']];
      for (const r of rows)
        table.push([r.name, `(${r.shape.join(', ')})`, num(r.size), num(r.params), num(r.multiplyAdds), axesText(r.receptiveField), axesText(r.jump)]);
      table.push(['total', '', '', num(totalParams), num(totalMultiplyAdds), '', '']);
      const widths = table[0].map((_, c) => Math.max(...table.map((row) => [...row[c]].length)));
      return table.map((row) => row.map((cell, c) => (c === 0 || c === 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
    },
  };
}
