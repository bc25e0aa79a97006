/**
 * Plan building blocks. Lowering works on *named values*: a plan step together with the index
 * name of each of its axes, so that broadcasting, transposes and contractions are decided by
 * names, not positions. A value read inside a reduction may carry a validity mask — which terms
 * fell outside a tensor — computed on the host, since it depends on index values only, never on
 * data.
 */
import type { BinaryFn, UnaryFn } from '../check/checked';
import { sizeOf, stridesOf } from '../../core/layout';
import type { ReduceFn, Step, StepOp } from './plan';

/** Host-side 0/1 array over named axes, row-major. */
export interface Mask {
  readonly axes: readonly string[];
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

export interface NamedValue {
  readonly step: number;
  readonly axes: readonly string[];
  readonly shape: readonly number[];
  /** Terms to drop in the enclosing reduction (1 = keep). */
  readonly mask?: Mask;
  /** True when the value is 0 wherever the mask is 0 (a zero-padded read), so a sum may ignore the mask. */
  readonly zeroWhereMasked: boolean;
}

export class PlanBuilder {
  readonly steps: Step[] = [];
  private note = '';
  private readonly inputSteps = new Map<string, number>();
  private readonly scalarSteps = new Map<number, number>();

  /** Sets the note attached to the following steps. */
  setNote(note: string): void {
    this.note = note;
  }

  emit(op: StepOp, inputs: readonly number[], shape: readonly number[]): number {
    this.steps.push({ ...op, inputs, shape, note: this.note } as Step);
    return this.steps.length - 1;
  }

  input(name: string, shape: readonly number[]): number {
    let id = this.inputSteps.get(name);
    if (id === undefined) {
      id = this.emit({ op: 'input', name }, [], shape);
      this.inputSteps.set(name, id);
    }
    return id;
  }

  scalar(value: number): number {
    let id = this.scalarSteps.get(value);
    if (id === undefined) {
      id = this.emit({ op: 'scalar', value }, [], []);
      this.scalarSteps.set(value, id);
    }
    return id;
  }

  constant(values: Float32Array, shape: readonly number[]): number {
    return this.emit({ op: 'constant', values, dtype: 'float32' }, [], shape);
  }

  shapeOf(step: number): readonly number[] {
    return this.steps[step].shape;
  }

  reshape(step: number, shape: readonly number[]): number {
    const old = this.shapeOf(step);
    if (old.length === shape.length && old.every((d, k) => d === shape[k])) return step;
    return this.emit({ op: 'reshape' }, [step], shape);
  }

  transpose(step: number, perm: readonly number[]): number {
    if (perm.every((p, k) => p === k)) return step;
    const old = this.shapeOf(step);
    const shape = perm.map((p) => old[p]);
    // Moving axes of extent 1 around is a reshape, which costs nothing.
    const moved = perm.filter((p) => old[p] !== 1);
    if (moved.every((p, k) => k === 0 || p > moved[k - 1])) return this.reshape(step, shape);
    // Axes that stay neighbours move as one: fewer, larger axes, a faster copy on every backend.
    const groups: number[][] = [];
    for (const p of perm) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[last.length - 1] + 1 === p) last.push(p);
      else groups.push([p]);
    }
    if (groups.length < perm.length) {
      const bySource = [...groups].sort((a, b) => a[0] - b[0]);
      const merged = this.reshape(
        step,
        bySource.map((g) => g.reduce((acc, p) => acc * old[p], 1)),
      );
      const mergedPerm = groups.map((g) => bySource.indexOf(g));
      const t = this.emit(
        { op: 'transpose', perm: mergedPerm },
        [merged],
        mergedPerm.map((p) => this.shapeOf(merged)[p]),
      );
      return this.reshape(t, shape);
    }
    return this.emit({ op: 'transpose', perm }, [step], shape);
  }

  unary(fn: UnaryFn, step: number): number {
    return this.emit({ op: 'unary', fn }, [step], this.shapeOf(step));
  }

  binary(fn: BinaryFn, a: number, b: number): number {
    const sa = this.shapeOf(a);
    const sb = this.shapeOf(b);
    const rank = Math.max(sa.length, sb.length);
    const shape: number[] = [];
    for (let k = 0; k < rank; k++) {
      const da = sa[sa.length - rank + k] ?? 1;
      const db = sb[sb.length - rank + k] ?? 1;
      shape.push(Math.max(da, db));
    }
    return this.emit({ op: 'binary', fn }, [a, b], shape);
  }

  reduce(fn: ReduceFn, step: number, axes: readonly number[]): number {
    if (axes.length === 0) return step;
    const shape = this.shapeOf(step).filter((_, k) => !axes.includes(k));
    return this.emit({ op: 'reduce', fn, axes }, [step], shape);
  }

  slice(step: number, begin: readonly number[], size: readonly number[]): number {
    const old = this.shapeOf(step);
    if (begin.every((b) => b === 0) && size.every((s, k) => s === old[k])) return step;
    return this.emit({ op: 'slice', begin, size }, [step], size);
  }

  pad(step: number, paddings: readonly (readonly [number, number])[], value = 0): number {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return step;
    const shape = this.shapeOf(step).map((d, k) => d + paddings[k][0] + paddings[k][1]);
    return this.emit({ op: 'pad', paddings, value }, [step], shape);
  }

  matMul(a: number, b: number, shape: readonly number[], transposeA = false, transposeB = false): number {
    return this.emit({ op: 'matMul', transposeA, transposeB }, [a, b], shape);
  }

  // -- named values -----------------------------------------------------------------------------

  named(step: number, axes: readonly string[], mask?: Mask, zeroWhereMasked = true): NamedValue {
    return { step, axes, shape: this.shapeOf(step), mask, zeroWhereMasked };
  }

  /** The value with its axes in the order `order` (a permutation of its axes). */
  permute(v: NamedValue, order: readonly string[]): NamedValue {
    const perm = order.map((a) => v.axes.indexOf(a));
    return { ...v, step: this.transpose(v.step, perm), axes: [...order], shape: perm.map((p) => v.shape[p]) };
  }

  /**
   * The value's step arranged to broadcast against `axes`: its own axes in that order, with
   * extent-1 axes where it lacks one.
   */
  broadcastable(v: NamedValue, axes: readonly string[]): number {
    const own = axes.filter((a) => v.axes.includes(a));
    const p = this.permute(v, own);
    const shape = axes.map((a) => (v.axes.includes(a) ? v.shape[v.axes.indexOf(a)] : 1));
    return this.reshape(p.step, shape);
  }

  /** The value materialised over exactly `axes` with `shape` (broadcast where it lacks an axis). */
  expandTo(v: NamedValue, axes: readonly string[], shape: readonly number[]): NamedValue {
    const step = this.broadcastable(v, axes);
    const full = this.shapeOf(step).every((d, k) => d === shape[k]) ? step : this.emit({ op: 'broadcast' }, [step], shape);
    return { ...v, step: full, axes: [...axes], shape: [...shape] };
  }

  /** Sums (or maxes) named axes out of a value. */
  reduceNamed(fn: ReduceFn, v: NamedValue, names: readonly string[]): NamedValue {
    const axes = names.map((n) => v.axes.indexOf(n)).filter((k) => k >= 0);
    if (axes.length === 0) return v;
    const step = this.reduce(fn, v.step, axes);
    return { ...v, step, axes: v.axes.filter((a) => !names.includes(a)), shape: this.shapeOf(step) };
  }

  /** `where(mask, v, fill)`: drops the masked terms; the mask is consumed. */
  applyMask(v: NamedValue, fill: number): NamedValue {
    if (v.mask === undefined) return v;
    const axes = [...v.axes, ...v.mask.axes.filter((a) => !v.axes.includes(a))];
    const shape = axes.map((a) => (v.axes.includes(a) ? v.shape[v.axes.indexOf(a)] : v.mask!.shape[v.mask!.axes.indexOf(a)]));
    const value = this.expandTo({ ...v, mask: undefined }, axes, shape);
    const maskValues = expandMask(v.mask, axes, shape);
    const m = this.emit({ op: 'mask', values: maskValues }, [], shape);
    const f = this.emit(
      { op: 'broadcast' },
      [
        this.reshape(
          this.scalar(fill),
          shape.map(() => 1),
        ),
      ],
      shape,
    );
    const step = this.emit({ op: 'where' }, [m, value.step, f], shape);
    return { step, axes, shape, zeroWhereMasked: true };
  }
}

/** A mask laid out over `axes` (a superset of its own), broadcasting where it lacks one. */
export function expandMask(mask: Mask, axes: readonly string[], shape: readonly number[]): Uint8Array {
  const out = new Uint8Array(sizeOf(shape));
  const srcStrides = stridesOf(mask.shape);
  const strideFor = axes.map((a) => {
    const k = mask.axes.indexOf(a);
    return k < 0 ? 0 : srcStrides[k];
  });
  const idx = new Array<number>(axes.length).fill(0);
  for (let n = 0; n < out.length; n++) {
    let src = 0;
    for (let k = 0; k < axes.length; k++) src += idx[k] * strideFor[k];
    out[n] = mask.data[src];
    for (let k = axes.length - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Logical AND of two masks over the union of their axes. */
export function andMasks(a: Mask | undefined, b: Mask | undefined): Mask | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const axes = [...a.axes, ...b.axes.filter((x) => !a.axes.includes(x))];
  const shape = axes.map((x) => (a.axes.includes(x) ? a.shape[a.axes.indexOf(x)] : b.shape[b.axes.indexOf(x)]));
  const da = expandMask(a, axes, shape);
  const db = expandMask(b, axes, shape);
  for (let n = 0; n < da.length; n++) da[n] &= db[n];
  return simplifyMask({ axes, shape, data: da });
}

/** OR of a mask over some of its axes: is any term left once they are reduced? */
export function anyMask(m: Mask, reduced: readonly string[]): Mask | undefined {
  const keep = m.axes.filter((a) => !reduced.includes(a));
  const shape = keep.map((a) => m.shape[m.axes.indexOf(a)]);
  const out = new Uint8Array(sizeOf(shape));
  const strides = stridesOf(shape);
  const map = m.axes.map((a) => keep.indexOf(a));
  const idx = new Array<number>(m.axes.length).fill(0);
  for (let n = 0; n < m.data.length; n++) {
    if (m.data[n]) {
      let dst = 0;
      for (let k = 0; k < idx.length; k++) if (map[k] >= 0) dst += idx[k] * strides[map[k]];
      out[dst] = 1;
    }
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k] < m.shape[k]) break;
      idx[k] = 0;
    }
  }
  return simplifyMask({ axes: keep, shape, data: out });
}

/** A mask that keeps everything is no mask. */
export function simplifyMask(m: Mask): Mask | undefined {
  return m.data.every((v) => v === 1) ? undefined : m;
}
