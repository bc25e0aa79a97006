/**
 * Replays a plan with tfjs. Constants (gather indices, masks, scalars) are created on the
 * first run and kept with the plan; everything else lives inside one `tf.tidy`, so a run leaves
 * exactly its outputs allocated. Every op used has a gradient on every backend, so the outputs are
 * differentiable with `tf.grad` / `tf.variableGrads`.
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
import { gradientDepth } from '../../ops/tape';
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

/**
 * A plan bound to the tfjs constants it needs. Dispose it to release them. `compile` turns the
 * gradient programs a conv step carries into plans, on the first gradient through that step.
 */
export class PlanRunner {
  private readonly constants = new Map<number, tf.Tensor>();
  /** Runners of the derived gradient plans of conv steps, compiled on the first gradient. */
  private readonly gradients = new Map<number, { filter: PlanRunner; input: PlanRunner }>();
  /** For each set of returned outputs (by their names, joined), the last reader of each step. */
  private readonly lastUse = new Map<string, Int32Array>();
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
  }

  /**
   * Runs the plan; `bindings` holds every input and parameter as own properties. Returns the
   * assigned tensors named in `wanted` (default: every one) as own properties of a plain object.
   */
  run(bindings: Readonly<Record<string, tf.Tensor>>, wanted?: ReadonlySet<string>): Record<string, tf.Tensor> {
    if (this.disposed) throw new Error('PlanRunner used after dispose()');
    const lastUse = this.lastUses(wanted);
    if (this.secondHalves.size > 0) this.secondHalves.clear();
    // A plan whose steps make nothing but their results needs no scope to sweep up after them:
    // its own bookkeeping frees every intermediate, on the error path too.
    if (this.ownResultsOnly) return this.runSteps(bindings, wanted, lastUse);
    // tf.tidy keeps what it returns only when that is a plain object or array of tensors.
    return tf.tidy(() => this.runSteps(bindings, wanted, lastUse));
  }

  /**
   * The steps in order, then the wanted outputs. Without a gradient tape an intermediate goes as
   * soon as its last reader has run, so a long program never holds all its intermediates at once;
   * with a tape, tfjs needs them until the run ends.
   */
  private runSteps(bindings: Readonly<Record<string, tf.Tensor>>, wanted: ReadonlySet<string> | undefined, lastUse: Int32Array): Record<string, tf.Tensor> {
    const recording = gradientDepth() > 0;
    const steps = this.plan.steps;
    const values: tf.Tensor[] = new Array<tf.Tensor>(steps.length);
    try {
      for (let k = 0; k < steps.length; k++) {
        const s = steps[k];
        values[k] = s.op === 'input' ? bindings[s.name] : this.evaluate(s, k, values);
        if (recording) continue;
        for (let i = 0; i < s.inputs.length; i++) if (lastUse[s.inputs[i]] === k) values[s.inputs[i]].dispose();
        if (lastUse[k] === k) values[k].dispose();
      }
    } catch (e) {
      this.disposeMade(values, undefined);
      throw e;
    }
    if (recording) this.disposeMade(values, lastUse);
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

  /** Disposes the tensors this run made (not bindings, not constants): all, or those `lastUse` does not keep (-1). */
  private disposeMade(values: readonly (tf.Tensor | undefined)[], lastUse: Int32Array | undefined): void {
    const steps = this.plan.steps;
    for (let k = 0; k < values.length; k++) {
      if (values[k] === undefined || KEPT_STEPS.has(steps[k].op) || (lastUse !== undefined && lastUse[k] === -1)) continue;
      values[k]!.dispose();
    }
  }

  /**
   * For each step, the last step reading it (itself when nothing reads it), after which it may go;
   * -1 for steps never freed early: inputs, constants and the outputs returned.
   */
  private lastUses(wanted: ReadonlySet<string> | undefined): Int32Array {
    const key = wanted === undefined ? '' : [...wanted].join('\u0000');
    let last = this.lastUse.get(key);
    if (last === undefined) {
      const steps = this.plan.steps;
      last = new Int32Array(steps.length).map((_, k) => k);
      steps.forEach((s, k) => s.inputs.forEach((j) => (last![j] = k)));
      const returned = new Set([...this.plan.outputs].filter(([name]) => wanted === undefined || wanted.has(name)).map(([, step]) => step));
      steps.forEach((s, k) => {
        if (returned.has(k) || KEPT_STEPS.has(s.op)) last![k] = -1;
      });
      this.lastUse.set(key, last);
    }
    return last;
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
      else if (s.activation === 'relu') dz = tf.mul(dy, tf.cast(tf.greater(y, 0), 'float32'));
      if (s.activation === 'sigmoid') dz = tf.mul(dy, tf.mul(y, tf.sub(1, y)));
      const g = this.gradientRunners(k, s);
      const dx = () => (fused ? convImageGradient(s, dz, w, x.shape) : undefined) ?? pick(g.input.run({ W: w, dY: dz }), 'dX');
      const dw = () => (fused ? convFilterGradient(s, x, dz, w.shape) : undefined) ?? pick(g.filter.run({ X: x, dY: dz }), 'dW');
      if (bias === undefined) return [dx, dw];
      return [dx, dw, () => db ?? tf.sum(dz, [...Array(dz.rank - 1).keys()])];
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
    const backend = tf.backend();
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
      t = tf.keep(make());
      this.constants.set(k, t);
    }
    return t;
  }

  /** The value of step `s` (step `k`, not an input) from the values of the steps before it. */
  private evaluate(s: Exclude<Step, { op: 'input' }>, k: number, values: readonly tf.Tensor[]): tf.Tensor {
    // The first three operands (undefined past a step's own); a step with more reads s.inputs.
    const n = s.inputs.length;
    const first = n > 0 ? values[s.inputs[0]] : undefined!;
    const second = n > 1 ? values[s.inputs[1]] : undefined!;
    const third = n > 2 ? values[s.inputs[2]] : undefined!;
    switch (s.op) {
      case 'constant':
        return this.constant(k, () => tf.tensor(s.values, [...s.shape], 'float32'));
      case 'mask':
        return this.constant(k, () => tf.tensor(s.values, [...s.shape], 'bool'));
      case 'scalar':
        return this.constant(k, () => tf.scalar(s.value));
      case 'indices':
        return this.constant(k, () => tf.tensor1d(s.values, 'int32'));
      case 'gather':
        return gatherAxis(first, second, s.axis, s.shape);
      case 'scatterAdd':
        return scatterAddAxis(first, second, s.axis, s.shape);
      case 'transpose':
        return transposeAnyRank(first, s.perm);
      case 'reshape':
        return tf.reshape(first, [...s.shape]);
      case 'slice':
        return sliceFolded(first, s.begin, s.size);
      case 'pad':
        return padAnyRank(first, s.paddings, s.value);
      case 'matMul':
        return matMul(first, second, s.transposeA, s.transposeB);
      case 'unary':
        return unaryAnyRank(UNARY[s.fn], first);
      case 'binary':
        return binaryAnyRank(BINARY[s.fn], first, second);
      case 'where':
        return whereAnyRank(first, second, third);
      case 'addRelu':
        // Both operands get the same gradient; the second is a clone, since tfjs may dispose the
        // first when it accumulates it with another gradient.
        return withGradient(
          ([a, b]) => {
            const y = addRelu(a, b);
            return { value: y, saved: [y] };
          },
          (dy, [y]) => {
            const g = reluGrad(dy, y);
            return [g, tf.clone(g)];
          },
          [first, second],
        );
      case 'reduce':
        return reduceAnyRank((t, axes) => (s.fn === 'sum' ? tf.sum(t, axes) : extremum(s.fn, t, axes)), first, s.axes);
      case 'broadcast':
        return broadcastAnyRank(first, s.shape);
      case 'concat':
        return tf.concat(
          s.inputs.map((i) => values[i]),
          s.axis,
        );
      case 'clone':
        return tf.clone(first);
      case 'reverse':
        return tf.reverse(first, [...s.axes]);
      case 'boundaryPad':
        return boundaryPad(first, s.axis, s.before, s.after, s.mode);
      case 'conv':
        return this.conv(s, k, first, second, s.bias ? third : undefined);
      case 'pool':
        return pool(s, first);
      case 'batchStats':
        return withGradient(
          ([input]) => {
            const stats = batchStats(input, s.reduced, s.epsilon);
            return { value: stats, saved: [input, stats] };
          },
          (d, [input, stats]) => batchStatsGrad(d, input, stats, s.reduced),
          [first],
        );
      case 'statsHalf': {
        // μ's statement comes first and splits; σ's takes the half kept for it (one SplitV).
        const held = this.secondHalves.get(s.inputs[0]);
        this.secondHalves.delete(s.inputs[0]);
        if (s.index === 1 && held !== undefined) return held;
        const [mu, sigma] = tf.split(first, 2);
        if (s.index === 1) {
          mu.dispose();
          return sigma;
        }
        this.secondHalves.set(s.inputs[0], sigma);
        return mu;
      }
      case 'batchNormalize':
        // Inputs: x, the statistics, then γ and β when present; all but the statistics differentiable.
        return this.batchNormalize(s, second, [first, ...s.inputs.slice(2).map((i) => values[i])]);
      case 'normalize':
        return this.normalize(
          s,
          s.inputs.map((i) => values[i]),
        );
    }
  }
}
