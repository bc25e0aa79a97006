/**
 * The reference evaluator: the meaning of a checked program, by nested loops (LANGUAGE.md §8).
 * Deliberately simple and in float64; lowering is tested against it. Each expression is compiled
 * once into closures over an integer environment (one slot per index) so that the loops stay
 * plain but not painfully slow.
 *
 * Out-of-range reads (§6): inside a reduction the term is dropped (adds nothing to a sum, is
 * ignored by max/min, still counts in mean's divisor); outside any reduction the read gives 0.
 */
import ndarray, { type NdArray } from 'ndarray';
import { EinError } from '../../core/diagnostics';
import type { CheckedExpr, CheckedProgram, CheckedStatement, LhsIndex } from '../check/checked';
import { BINARY_MEANING, UNARY_MEANING } from '../check/functions';
import { compileAxis, type AxisFn, type Env } from '../check/index-eval';
import { stridesOf } from '../../core/layout';

/** A dense row-major float64 tensor. */
export interface DenseTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** `undefined` marks a term dropped because a read fell out of range. */
type Value = number | undefined;
type Compiled = (env: Env) => Value;

interface Frame {
  readonly values: ReadonlyMap<string, DenseTensor>;
  readonly slot: (name: string) => number;
  readonly extent: (name: string) => number;
}

function compileExpr(e: CheckedExpr, f: Frame, inReduction: boolean): Compiled {
  switch (e.kind) {
    case 'const': {
      const v = e.value;
      return () => v;
    }
    case 'access': {
      const t = f.values.get(e.tensor)!;
      const strides = stridesOf(t.shape);
      const axes = e.indices.map((ix, k) => compileAxis(ix, t.shape[k], f.slot));
      const data = t.data;
      const outside: Value = inReduction ? undefined : 0;
      return (env) => {
        let offset = 0;
        for (let k = 0; k < axes.length; k++) {
          const i = axes[k](env);
          if (i < 0) return outside;
          offset += i * strides[k];
        }
        return data[offset];
      };
    }
    case 'unary': {
      const arg = compileExpr(e.arg, f, inReduction);
      const fn = UNARY_MEANING[e.fn];
      return (env) => {
        const v = arg(env);
        return v === undefined ? undefined : fn(v);
      };
    }
    case 'binary': {
      const l = compileExpr(e.left, f, inReduction);
      const r = compileExpr(e.right, f, inReduction);
      const fn = BINARY_MEANING[e.fn];
      return (env) => {
        const a = l(env);
        if (a === undefined) return undefined;
        const b = r(env);
        return b === undefined ? undefined : fn(a, b);
      };
    }
    case 'reduce': {
      const body = compileExpr(e.body, f, true);
      const slots = e.indices.map(f.slot);
      const extents = e.indices.map(f.extent);
      const count = extents.reduce((a, b) => a * b, 1);
      const op = e.op;
      const empty: Value = inReduction ? undefined : 0;
      return (env) => {
        let acc = op === 'max' ? -Infinity : op === 'min' ? Infinity : 0;
        let any = false;
        forEachIndex(slots, extents, env, () => {
          const v = body(env);
          if (v === undefined) return;
          any = true;
          if (op === 'max') acc = v > acc ? v : acc;
          else if (op === 'min') acc = v < acc ? v : acc;
          else acc += v;
        });
        if (op === 'mean') return acc / count;
        if (op === 'sum') return acc;
        return any ? acc : empty;
      };
    }
  }
}

/** Runs `body` for every combination of the given slots over [0, extent). */
function forEachIndex(slots: readonly number[], extents: readonly number[], env: Env, body: () => void): void {
  const n = slots.length;
  if (extents.some((e) => e <= 0)) return;
  for (let k = 0; k < n; k++) env[slots[k]] = 0;
  for (;;) {
    body();
    let k = n - 1;
    while (k >= 0) {
      env[slots[k]]++;
      if (env[slots[k]] < extents[k]) break;
      env[slots[k]] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

function evaluateStatement(s: CheckedStatement, values: ReadonlyMap<string, DenseTensor>): DenseTensor {
  const names = [...s.ranges.keys()];
  const slotOf = new Map(names.map((n, k) => [n, k]));
  const frame: Frame = { values, slot: (n) => slotOf.get(n)!, extent: (n) => s.ranges.get(n)!.extent };
  const size = s.shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(size);
  const strides = stridesOf(s.shape);
  const env = new Int32Array(names.length);

  s.parts.forEach((part, partIndex) => {
    const value = compileExpr(part, frame, false);
    const loops = [...s.loopIndices];
    const concatAxis = s.lhs.findIndex((ix) => ix.kind === 'concat');
    let concatOffset = 0;
    if (concatAxis >= 0) {
      const parts = (s.lhs[concatAxis] as LhsIndex & { kind: 'concat' }).parts;
      loops.push(parts[partIndex]);
      for (let k = 0; k < partIndex; k++) concatOffset += frame.extent(parts[k]);
    }
    const position = s.lhs.map((ix, k): AxisFn => {
      if (ix.kind === 'concat') {
        const slot = frame.slot(ix.parts[partIndex]);
        return (e) => e[slot] + concatOffset;
      }
      return compileAxis(ix, s.shape[k], frame.slot);
    });
    forEachIndex(loops.map(frame.slot), loops.map(frame.extent), env, () => {
      let offset = 0;
      for (let k = 0; k < position.length; k++) {
        const i = position[k](env);
        if (i < 0) return; // a scatter write outside the output is dropped
        offset += i * strides[k];
      }
      const v = value(env);
      out[offset] += v ?? 0;
    });
  });
  return { shape: s.shape, data: out };
}

/** Anything the evaluator accepts as a tensor value. */
export type ReferenceValue = NdArray | number | readonly unknown[] | { shape: readonly number[]; dataSync(): ArrayLike<number> } | DenseTensor;

/** Converts a value to a dense float64 tensor, or throws EinError naming `name`. */
export function toDense(name: string, value: ReferenceValue): DenseTensor {
  if (typeof value === 'number') return { shape: [], data: Float64Array.of(value) };
  if (Array.isArray(value)) {
    const shape: number[] = [];
    let level: unknown = value;
    while (Array.isArray(level)) {
      shape.push(level.length);
      level = level[0];
    }
    const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
    let n = 0;
    const fill = (v: unknown, depth: number) => {
      if (depth === shape.length) {
        if (typeof v !== 'number') throw badValue(name, `holds ${typeof v} where a number was expected`);
        data[n++] = v;
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[depth]) throw badValue(name, 'is a ragged nested array (rows of different lengths)');
      for (const x of v) fill(x, depth + 1);
    };
    fill(value, 0);
    return { shape, data };
  }
  if (value !== null && typeof value === 'object') {
    const v = value as Partial<NdArray> & { dataSync?: () => ArrayLike<number>; data?: unknown };
    if (typeof v.dataSync === 'function' && Array.isArray(v.shape)) {
      return { shape: [...v.shape], data: Float64Array.from(v.dataSync()) };
    }
    if (Array.isArray(v.shape) && typeof v.get === 'function' && v.stride !== undefined) {
      const nd = value as NdArray;
      const shape = [...nd.shape];
      const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
      const idx = new Array<number>(shape.length).fill(0);
      for (let n = 0; n < data.length; n++) {
        data[n] = nd.get(...idx);
        for (let k = shape.length - 1; k >= 0; k--) {
          if (++idx[k] < shape[k]) break;
          idx[k] = 0;
        }
      }
      return { shape, data };
    }
    if (Array.isArray(v.shape) && v.data instanceof Float64Array) return value as DenseTensor;
  }
  throw badValue(name, `is a ${value === null ? 'null' : typeof value}`);
}

function badValue(name: string, what: string): EinError {
  return new EinError({
    code: 'EIN2023',
    message: `the value bound for ${name} ${what}`,
    expected: 'an ndarray, a tf.Tensor, a number, or a nested array of numbers',
  });
}

/**
 * Evaluates every statement of a checked program on dense values (inputs and parameters) and
 * returns every assigned tensor. `values` must hold every input and parameter the program reads.
 */
export function evaluateChecked(program: CheckedProgram, values: ReadonlyMap<string, DenseTensor>): Map<string, DenseTensor> {
  const all = new Map(values);
  for (const name of [...program.inputs, ...program.params]) {
    if (!all.has(name)) {
      const info = program.tensors.get(name)!;
      throw new EinError({
        code: 'EIN3003',
        message: `no value for ${info.role === 'param' ? 'parameter' : 'input'} ${name}`,
        hint: `pass ${name} with shape [${info.shape.join(',')}]`,
      });
    }
  }
  const outputs = new Map<string, DenseTensor>();
  for (const s of program.statements) {
    const result = evaluateStatement(s, all);
    all.set(s.target, result);
    outputs.set(s.target, result);
  }
  return outputs;
}

/** A dense tensor as a scijs ndarray (sharing its data). */
export function toNdarray(t: DenseTensor): NdArray<Float64Array> {
  return ndarray(t.data, [...t.shape]);
}
