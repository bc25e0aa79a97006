/**
 * Plans to and from JSON. A plan is data (plan.ts); JSON lacks some of its kinds of value,
 * which are tagged: Float32Array, Int32Array and Uint8Array constants (`{ $float32: [...] }`,
 * `{ $int32: [...] }`, `{ $uint8: [...] }`) and numbers JSON cannot write — ±Infinity, NaN, -0 (`{ $number: "-Infinity" }`).
 * The outputs Map becomes a list of [name, step] pairs.
 *
 * @example
 *   const text = JSON.stringify(planToJSON(plan));
 *   const same = planFromJSON(JSON.parse(text)); // equal to plan, runs the same
 */
import type { Plan, StatementPlan, Step } from './plan';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface PlanJSON {
  readonly format: 'einnet-plan';
  readonly version: 1;
  readonly steps: readonly JsonValue[];
  readonly outputs: readonly (readonly [string, number])[];
  readonly statements: readonly JsonValue[];
}

const SPECIAL = ['Infinity', '-Infinity', 'NaN', '-0'] as const;

function encodeNumber(x: number): JsonValue {
  if (Number.isFinite(x) && !Object.is(x, -0)) return x;
  return { $number: Object.is(x, -0) ? '-0' : String(x) };
}

function encode(value: unknown): JsonValue {
  if (value instanceof Float32Array) return { $float32: Array.from(value, encodeNumber) };
  if (value instanceof Int32Array) return { $int32: Array.from(value) };
  if (value instanceof Uint8Array) return { $uint8: Array.from(value) };
  if (typeof value === 'number') return encodeNumber(value);
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return value.map(encode);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encode(v);
    return out;
  }
  throw new Error(`planToJSON: a plan holds only data, not ${typeof value}`);
}

function decodeNumber(x: unknown): number {
  if (typeof x === 'number') return x;
  const tag = (x as { $number?: unknown } | null)?.$number;
  if (typeof tag === 'string' && (SPECIAL as readonly string[]).includes(tag)) return tag === '-0' ? -0 : Number(tag);
  throw new Error(`planFromJSON: ${JSON.stringify(x)} is not a number`);
}

function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (typeof value !== 'object' || value === null) return value;
  const keys = Object.keys(value);
  const v = value as Record<string, unknown>;
  if (keys.length === 1 && keys[0] === '$number') return decodeNumber(v);
  if (keys.length === 1 && keys[0] === '$float32' && Array.isArray(v.$float32)) return Float32Array.from(v.$float32, decodeNumber);
  if (keys.length === 1 && keys[0] === '$int32' && Array.isArray(v.$int32)) return Int32Array.from(v.$int32 as number[]);
  if (keys.length === 1 && keys[0] === '$uint8' && Array.isArray(v.$uint8)) return Uint8Array.from(v.$uint8 as number[]);
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = decode(v[k]);
  return out;
}

export function planToJSON(plan: Plan): PlanJSON {
  return {
    format: 'einnet-plan',
    version: 1,
    steps: plan.steps.map(encode),
    outputs: [...plan.outputs],
    statements: plan.statements.map(encode),
  };
}

const isIndex = (x: unknown, below: number) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < below;

/**
 * The plan `json` describes (a value made by planToJSON, possibly through JSON.stringify and
 * JSON.parse). Checks the structure a runner relies on: every step has an op, a shape and inputs
 * that are earlier steps; outputs and statements name steps that exist.
 * @throws Error naming what is wrong, for anything else.
 */
export function planFromJSON(json: unknown): Plan {
  const j = json as Partial<PlanJSON> | null;
  if (j === null || typeof j !== 'object' || j.format !== 'einnet-plan' || j.version !== 1) {
    throw new Error('planFromJSON: not an einnet plan (format "einnet-plan", version 1)');
  }
  if (!Array.isArray(j.steps) || !Array.isArray(j.outputs) || !Array.isArray(j.statements)) {
    throw new Error('planFromJSON: steps, outputs and statements must be lists');
  }
  const steps = j.steps.map((raw, k) => {
    const s = decode(raw) as Step;
    const shapeOk = Array.isArray(s?.shape) && s.shape.every((d) => Number.isInteger(d) && d >= 0);
    if (typeof s?.op !== 'string' || !shapeOk || !Array.isArray(s.inputs) || !s.inputs.every((i) => isIndex(i, k))) {
      throw new Error(`planFromJSON: step ${k} needs an op, a shape and inputs that are earlier steps`);
    }
    return s;
  });
  const outputs = new Map<string, number>();
  for (const entry of j.outputs) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !isIndex(entry[1], steps.length)) {
      throw new Error(`planFromJSON: output ${JSON.stringify(entry)} is not a [name, step] pair`);
    }
    outputs.set(entry[0], entry[1]);
  }
  const statements = j.statements.map((raw, k) => {
    const st = decode(raw) as StatementPlan;
    if (typeof st?.target !== 'string' || !isIndex(st.firstStep, steps.length + 1) || !isIndex(st.lastStep + 1, steps.length + 1)) {
      throw new Error(`planFromJSON: statement ${k} needs a target and a step range`);
    }
    return st;
  });
  return { steps, outputs, statements };
}
