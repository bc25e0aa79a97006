/**
 * Replays a plan with tfjs. Each step is compiled once to a function of the values before it.
 * Constants (gather indices, masks, scalars) are created on the first run and kept with the plan;
 * the runner frees every other intermediate after its last reader (at the end of a run a tape
 * records, and on an error), and a plan with steps of several ops runs inside a `tf.tidy` too, so
 * a run leaves exactly its outputs allocated. Every op used has a gradient on every backend, so
 * the outputs are differentiable with `tf.grad` / `tf.variableGrads`.
 */
import * as tf from '@tensorflow/tfjs';
import type { BinaryFn, UnaryFn } from '../check/checked';
import type { GradientProgram } from '../derive/conv-backward';
import type { Plan, Step } from '../lower/plan';
import { batchNormalize, batchNormalizeGrad, batchStats, batchStatsGrad, normalizeGiven, normalizeGivenGrads } from '../../ops/batchnorm';
import { convFilterGradient, convForwardFused, convImageGradient } from '../../ops/conv';
import { gatherAxis, scatterAddAxis } from '../../ops/gather';
import { addRelu, reluBiasGrad, reluGrad } from '../../ops/residual';
import { matMul } from '../../ops/matmul';
import { gradientDepth } from '../../backends/engine-internals';
import { pool } from '../../ops/pool';
import { extremum, withGradient, withLazyGradient } from './custom-gradients';
import { hasConvGradient } from '../../backends/capabilities';
import {
  binaryAnyRank,
  boundaryPad,
  broadcastAnyRank,
  padAnyRank,
  reduceAnyRank,
  sliceFolded,
  transposeAnyRank,
  unaryAnyRank,
  whereAnyRank,
} from '../../ops/rank';

// Bound once (backends/engine-internals.ts says why), as are the ops of UNARY and BINARY.
const { cast, clone, concat, greater, keep, mul, reshape, reverse, scalar, split, sub, sum, tensor, tensor1d, tidy, backend: activeBackend } = tf;

const UNARY: Record<UnaryFn, (x: tf.Tensor) => tf.Tensor> = {
  neg: tf.neg,
  relu: tf.relu,
  sigmoid: tf.sigmoid,
  tanh: tf.tanh,
  exp: tf.exp,
  log: tf.log,
  sqrt: tf.sqrt,
  abs: tf.abs,
  square: tf.square,
  softplus: tf.softplus,
};

const BINARY: Record<BinaryFn, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  add: tf.add,
  sub: tf.sub,
  mul: tf.mul,
  div: tf.div,
  pow: tf.pow,
  max: tf.maximum,
  min: tf.minimum,
};

/**
 * Steps whose tensors outlive a run: the bindings, and constants kept with the plan. Every other
 * step's value is a tensor of its own, never one of its operands handed on, so that the runner may
 * dispose it.
 */
const KEPT_STEPS: ReadonlySet<Step['op']> = new Set(['input', 'constant', 'mask', 'scalar', 'indices']);

/**
 * Steps whose evaluation leaves no tensor allocated but its result: one tfjs op or kernel, or a
 * custom gradient (whose forward tfjs runs in a scope of its own). A plan of only these runs
 * without a tf.tidy around it: one scope fewer to open and sweep on every call.
 */
const OWN_RESULT_ONLY: ReadonlySet<Step['op']> = new Set([...KEPT_STEPS, 'conv', 'matMul', 'pool', 'reshape', 'clone', 'reverse', 'concat']);

/** One output of a run; the others (intermediates of a derived program) are disposed. */
function pick(outputs: Record<string, tf.Tensor>, name: string): tf.Tensor {
  for (const n in outputs) if (n !== name) outputs[n].dispose();
  return outputs[name];
}

/**
 * Compiles a program's source text, checked against the given shapes of the tensors it binds,
 * to a plan. The run stage compiles the derived gradient programs of conv steps with it.
 */
export type CompilePlan = (source: string, shapes: Readonly<Record<string, readonly number[]>>) => Plan;

/** One step, compiled: its value from the values of the steps before it and the bindings. */
type StepFn = (values: readonly tf.Tensor[], bindings: Readonly<Record<string, tf.Tensor>>) => tf.Tensor;

/** When a run frees what it made, for one set of returned outputs. */
interface Schedule {
  /** For each step, the steps whose last reader it is (itself when nothing reads it): freed after it ran, when no tape records. */
  readonly freeAfter: readonly (Int32Array | undefined)[];
  /** Steps a recorded run frees at its end: every step made that is not returned. */
  readonly freeAtEnd: Int32Array;
}

/**
 * A plan bound to the tfjs constants it needs. Dispose it to release them. `compile` turns the
 * gradient programs a conv step carries into plans, on the first gradient through that step.
 */
export class PlanRunner {
  private readonly constants = new Map<number, tf.Tensor>();
  /** Runners of the derived gradient plans of conv steps, compiled on the first gradient. */
  private readonly gradients = new Map<number, { filter: PlanRunner; input: PlanRunner }>();
  /** The steps, each compiled once to a function of the values before it. */
  private readonly stepFns: readonly StepFn[];
  /** The steps whose values this runner makes (all but bindings and constants): what an error frees. */
  private readonly made: Int32Array;
  /** The schedule of a run returning every output, and those of runs returning some (by their names, joined). */
  private readonly schedule: Schedule;
  private readonly schedules = new Map<string, Schedule>();
  /** The plan's outputs: the assigned tensors' names, and the steps computing them. */
  private readonly outputs: { readonly names: readonly string[]; readonly steps: readonly number[] };
  /** For conv steps run on `decidedFor`, whether tfjs differentiates them (`tfjsGradient`). */
  private readonly tfjsGradients = new Map<number, boolean>();
  private decidedFor: tf.KernelBackend | undefined;
  /** Second halves of batch statistics split for their first half, by statistics step (one run). */
  private readonly secondHalves = new Map<number, tf.Tensor>();
  private disposed = false;

  /** Whether every step makes nothing but its result (`OWN_RESULT_ONLY`): then no tf.tidy is needed. */
  private readonly ownResultsOnly: boolean;

  constructor(
    readonly plan: Plan,
    private readonly compile: CompilePlan,
  ) {
    this.outputs = { names: [...plan.outputs.keys()], steps: [...plan.outputs.values()] };
    this.ownResultsOnly = plan.steps.every((s) => OWN_RESULT_ONLY.has(s.op));
    this.stepFns = plan.steps.map((s, k) => this.compileStep(s, k));
    this.made = Int32Array.from(plan.steps.keys()).filter((k) => !KEPT_STEPS.has(plan.steps[k].op));
    this.schedule = this.scheduleFor(undefined);
  }

  /**
   * Runs the plan; `bindings` holds every input and parameter as own properties. Returns the
   * assigned tensors named in `wanted` (default: every one) as own properties of a plain object.
   */
  run(bindings: Readonly<Record<string, tf.Tensor>>, wanted?: ReadonlySet<string>): Record<string, tf.Tensor> {
    if (this.disposed) throw new Error('PlanRunner used after dispose()');
    const schedule = wanted === undefined ? this.schedule : this.scheduleFor(wanted);
    if (this.secondHalves.size > 0) this.secondHalves.clear();
    // A plan whose steps make nothing but their results needs no scope to sweep up after them:
    // its own bookkeeping frees every intermediate, on the error path too.
    if (this.ownResultsOnly) return this.runSteps(bindings, wanted, schedule);
    // tf.tidy keeps what it returns only when that is a plain object or array of tensors.
    return tidy(() => this.runSteps(bindings, wanted, schedule));
  }

  /**
   * The steps in order, then the wanted outputs. Without a gradient tape an intermediate goes as
   * soon as its last reader has run, so a long program never holds all its intermediates at once;
   * with a tape, tfjs needs them until the run ends.
   */
  private runSteps(bindings: Readonly<Record<string, tf.Tensor>>, wanted: ReadonlySet<string> | undefined, schedule: Schedule): Record<string, tf.Tensor> {
    const recording = gradientDepth() > 0;
    const fns = this.stepFns;
    const values: tf.Tensor[] = new Array<tf.Tensor>(fns.length);
    try {
      for (let k = 0; k < fns.length; k++) {
        values[k] = fns[k](values, bindings);
        const free = recording ? undefined : schedule.freeAfter[k];
        if (free !== undefined) for (let i = 0; i < free.length; i++) values[free[i]].dispose();
      }
    } catch (e) {
      // Freed early or not, each made value goes (disposing twice is harmless).
      for (const k of this.made) values[k]?.dispose();
      throw e;
    }
    if (recording) for (const k of schedule.freeAtEnd) values[k].dispose();
    const out: Record<string, tf.Tensor> = {};
    const { names, steps: outputSteps } = this.outputs;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (wanted !== undefined && !wanted.has(name)) continue;
      // A tensor may be called `__proto__`: defined, not assigned, it is an own property too.
      if (name === '__proto__') Object.defineProperty(out, name, { value: values[outputSteps[i]], enumerable: true, writable: true, configurable: true });
      else out[name] = values[outputSteps[i]];
    }
    return out;
  }

  /**
   * When a run returning `wanted` (every output when undefined) frees each step it made: after
   * its last reader, or at the end of a recorded run. Bindings, constants and the outputs returned
   * are never freed.
   */
  private scheduleFor(wanted: ReadonlySet<string> | undefined): Schedule {
    const key = wanted === undefined ? '' : [...wanted].join('\u0000');
    let schedule = this.schedules.get(key);
    if (schedule !== undefined) return schedule;
    const steps = this.plan.steps;
    const lastUse = Int32Array.from(steps.keys());
    steps.forEach((s, k) => s.inputs.forEach((j) => (lastUse[j] = k)));
    const returned = new Set([...this.plan.outputs].filter(([name]) => wanted === undefined || wanted.has(name)).map(([, step]) => step));
    const freed = this.made.filter((k) => !returned.has(k));
    const freeAfter: Int32Array[] = [];
    for (const k of freed) freeAfter[lastUse[k]] = Int32Array.of(...(freeAfter[lastUse[k]] ?? []), k);
    schedule = { freeAfter: Array.from(steps, (_, k) => freeAfter[k]), freeAtEnd: freed };
    this.schedules.set(key, schedule);
    return schedule;
  }

  dispose(): void {
    for (const t of this.constants.values()) t.dispose();
    this.constants.clear();
    for (const g of this.gradients.values()) {
      g.filter.dispose();
      g.input.dispose();
    }
    this.gradients.clear();
    this.disposed = true;
  }

  /**
   * A conv step (with its fused bias and activation) and its gradient: tfjs' own where the backend
   * has a right one (`hasConvGradient`: its backprop kernels are faster than convs run backwards),
   * else from the derived programs (dsl/derive/conv-backward.ts).
   */
  private conv(s: Step & { op: 'conv' }, k: number, image: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
    if (this.tfjsGradient(s, k)) return convForwardFused(s, image, filter, bias);
    const backward = (dy: tf.Tensor, [x, w, y]: tf.Tensor[]): (() => tf.Tensor)[] => {
      // Through the activation and the bias (summed over all but the channel axis) here, once;
      // the convolution's own gradients only for the inputs asked for: by einnet's kernels where
      // the backend has them (the image's as a product and col2im), else by the derived gradient
      // programs. einnet's kernels have no gradients of their own: not while an outer tape
      // records this backward pass (a second derivative).
      const fused = gradientDepth() === 0;
      let dz = dy;
      let db: tf.Tensor | undefined;
      if (s.activation === 'relu' && bias !== undefined && fused) [dz, db] = reluBiasGrad(dy, y);
      else if (s.activation === 'relu') dz = mul(dy, cast(greater(y, 0), 'float32'));
      if (s.activation === 'sigmoid') dz = mul(dy, mul(y, sub(1, y)));
      const g = this.gradientRunners(k, s);
      const dx = () => (fused ? convImageGradient(s, dz, w, x.shape) : undefined) ?? pick(g.input.run({ W: w, dY: dz }), 'dX');
      const dw = () => (fused ? convFilterGradient(s, x, dz, w.shape) : undefined) ?? pick(g.filter.run({ X: x, dY: dz }), 'dW');
      if (bias === undefined) return [dx, dw];
      return [dx, dw, () => db ?? sum(dz, [...Array(dz.rank - 1).keys()])];
    };
    return withLazyGradient(
      ([x, w, b]) => {
        const y = convForwardFused(s, x, w, b);
        return { value: y, saved: [x, w, y] };
      },
      backward,
      bias === undefined ? [image, filter] : [image, filter, bias],
    );
  }

  /**
   * Whether the conv step `s` (step `k`) is differentiated by tfjs' registered gradients on the
   * active backend, decided once per backend: tfjs differentiates fused convs only for linear and
   * relu epilogues, and einnet's route needs the backend's backprop kernels.
   */
  private tfjsGradient(s: Step & { op: 'conv' }, k: number): boolean {
    const backend = activeBackend();
    if (backend !== this.decidedFor) {
      this.tfjsGradients.clear();
      this.decidedFor = backend;
    }
    let yes = this.tfjsGradients.get(k);
    if (yes === undefined) {
      yes = hasConvGradient(s) && s.activation !== 'sigmoid';
      this.tfjsGradients.set(k, yes);
    }
    return yes;
  }

  /**
   * The normalization step of the batch-norm route: differentiable in x, γ and β, with the
   * gradient of the whole group (μ and σ depend on x); the statistics are read as constants so
   * that their own gradient is not counted twice.
   */
  private batchNormalize(s: Step & { op: 'batchNormalize' }, stats: tf.Tensor, inputs: tf.Tensor[]): tf.Tensor {
    return withGradient(
      ([x, ...params]) => {
        const gamma = s.scale ? params[0] : undefined;
        const beta = s.offset ? params[params.length - 1] : undefined;
        const y = batchNormalize(x, stats, gamma, beta, s.reduced, s.relu);
        return { value: y, saved: gamma ? [x, y, stats, gamma] : [x, y, stats] };
      },
      (dy, [x, y, kept, gamma]) => {
        const [dx, dscale, doffset] = batchNormalizeGrad(dy, x, y, kept, gamma, s.reduced, s.relu);
        if (!s.scale) dscale.dispose();
        if (!s.offset) doffset.dispose();
        return [dx, ...(s.scale ? [dscale] : []), ...(s.offset ? [doffset] : [])];
      },
      inputs,
    );
  }

  /** The normalization by given μ and σ: inputs x, μ, σ, then γ and β when present, all differentiable. */
  private normalize(s: Step & { op: 'normalize' }, inputs: tf.Tensor[]): tf.Tensor {
    return withLazyGradient(
      ([x, mu, sigma, ...params]) => {
        const gamma = s.scale ? params[0] : undefined;
        const beta = s.offset ? params[params.length - 1] : undefined;
        const y = normalizeGiven(x, mu, sigma, gamma, beta, s.reduced, s.relu);
        return { value: y, saved: gamma ? [x, y, mu, sigma, gamma] : [x, y, mu, sigma] };
      },
      (dy, [x, y, mu, sigma, gamma]) => normalizeGivenGrads(dy, x, y, mu, sigma, gamma, s.reduced, s.relu, s.offset),
      inputs,
    );
  }

  private gradientRunners(k: number, s: Step & { op: 'conv' }): { filter: PlanRunner; input: PlanRunner } {
    let g = this.gradients.get(k);
    if (g === undefined) {
      const runner = (program: GradientProgram) => new PlanRunner(this.compile(program.source, program.shapes), this.compile);
      g = { filter: runner(s.backward.filter), input: runner(s.backward.input) };
      this.gradients.set(k, g);
    }
    return g;
  }

  private constant(k: number, make: () => tf.Tensor): tf.Tensor {
    let t = this.constants.get(k);
    if (t === undefined || t.isDisposed) {
      t = keep(make());
      this.constants.set(k, t);
    }
    return t;
  }

  /** Step `s` (step `k`) compiled: a function of the values of the steps before it and the bindings. */
  private compileStep(s: Step, k: number): StepFn {
    // The first three operands' steps (undefined past a step's own); a step with more reads s.inputs.
    const [a, b, c] = s.inputs;
    switch (s.op) {
      case 'input': {
        const name = s.name;
        return (_, bindings) => bindings[name];
      }
      case 'constant':
        return () => this.constant(k, () => tensor(s.values, [...s.shape], 'float32'));
      case 'mask':
        return () => this.constant(k, () => tensor(s.values, [...s.shape], 'bool'));
      case 'scalar':
        return () => this.constant(k, () => scalar(s.value));
      case 'indices':
        return () => this.constant(k, () => tensor1d(s.values, 'int32'));
      case 'gather':
        return (v) => gatherAxis(v[a], v[b], s.axis, s.shape);
      case 'scatterAdd':
        return (v) => scatterAddAxis(v[a], v[b], s.axis, s.shape);
      case 'transpose':
        return (v) => transposeAnyRank(v[a], s.perm);
      case 'reshape':
        return (v) => reshape(v[a], [...s.shape]);
      case 'slice':
        return (v) => sliceFolded(v[a], s.begin, s.size);
      case 'pad':
        return (v) => padAnyRank(v[a], s.paddings, s.value);
      case 'matMul': {
        const { transposeA, transposeB } = s;
        return (v) => matMul(v[a], v[b], transposeA, transposeB);
      }
      case 'unary': {
        const fn = UNARY[s.fn];
        return (v) => unaryAnyRank(fn, v[a]);
      }
      case 'binary': {
        const fn = BINARY[s.fn];
        return (v) => binaryAnyRank(fn, v[a], v[b]);
      }
      case 'where':
        return (v) => whereAnyRank(v[a], v[b], v[c]);
      case 'addRelu':
        // Both operands get the same gradient; the second is a clone, since tfjs may dispose the
        // first when it accumulates it with another gradient.
        return (v) =>
          withGradient(
            ([x, y]) => {
              const z = addRelu(x, y);
              return { value: z, saved: [z] };
            },
            (dz, [z]) => {
              const g = reluGrad(dz, z);
              return [g, clone(g)];
            },
            [v[a], v[b]],
          );
      case 'reduce': {
        const fn = s.fn;
        const reduce = (t: tf.Tensor, axes: number[]) => (fn === 'sum' ? sum(t, axes) : extremum(fn, t, axes));
        return (v) => reduceAnyRank(reduce, v[a], s.axes);
      }
      case 'broadcast':
        return (v) => broadcastAnyRank(v[a], s.shape);
      case 'concat':
        return (v) =>
          concat(
            s.inputs.map((i) => v[i]),
            s.axis,
          );
      case 'clone':
        return (v) => clone(v[a]);
      case 'reverse':
        return (v) => reverse(v[a], [...s.axes]);
      case 'boundaryPad':
        return (v) => boundaryPad(v[a], s.axis, s.before, s.after, s.mode);
      case 'conv':
        return s.bias ? (v) => this.conv(s, k, v[a], v[b], v[c]) : (v) => this.conv(s, k, v[a], v[b], undefined);
      case 'pool':
        return (v) => pool(s, v[a]);
      case 'batchStats':
        return (v) =>
          withGradient(
            ([input]) => {
              const stats = batchStats(input, s.reduced, s.epsilon);
              return { value: stats, saved: [input, stats] };
            },
            (d, [input, stats]) => batchStatsGrad(d, input, stats, s.reduced),
            [v[a]],
          );
      case 'statsHalf':
        return (v) => {
          // μ's statement comes first and splits; σ's takes the half kept for it (one SplitV).
          const held = this.secondHalves.get(a);
          this.secondHalves.delete(a);
          if (s.index === 1 && held !== undefined) return held;
          const [mu, sigma] = split(v[a], 2);
          if (s.index === 1) {
            mu.dispose();
            return sigma;
          }
          this.secondHalves.set(a, sigma);
          return mu;
        };
      case 'batchNormalize':
        // Inputs: x, the statistics, then γ and β when present; all but the statistics differentiable.
        return (v) =>
          this.batchNormalize(
            s,
            v[b],
            [a, ...s.inputs.slice(2)].map((i) => v[i]),
          );
      case 'normalize':
        return (v) =>
          this.normalize(
            s,
            s.inputs.map((i) => v[i]),
          );
    }
  }
}
