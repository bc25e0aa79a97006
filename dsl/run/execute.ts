/**
 * Replays a plan with tfjs. Constants (selection matrices, masks, scalars) are created on the
 * first run and kept with the plan; everything else lives inside one `tf.tidy`, so a run leaves
 * exactly its outputs allocated. Every op used has a gradient on every backend, so the outputs are
 * differentiable with `tf.grad` / `tf.variableGrads`.
 */
import * as tf from '@tensorflow/tfjs';
import type { BinaryFn, UnaryFn } from '../check/checked';
import type { Plan, Step } from '../lower/plan';
import { convForward } from '../../kernels/conv';
import { maxPoolBackward, poolForward } from '../../kernels/pool';

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

/** One output of a run; the others (intermediates of a derived program) are disposed. */
function pick(outputs: Map<string, tf.Tensor>, name: string): tf.Tensor {
  for (const [n, t] of outputs) if (n !== name) t.dispose();
  return outputs.get(name)!;
}

/** A plan bound to the tfjs constants it needs. Dispose it to release them. */
export class PlanRunner {
  private readonly constants = new Map<number, tf.Tensor>();
  /** Runners of the derived gradient plans of conv steps, built on the first gradient. */
  private readonly gradients = new Map<number, { filter: PlanRunner; input: PlanRunner }>();
  private disposed = false;

  constructor(readonly plan: Plan) {}

  /** Runs the plan; `bindings` holds every input and parameter. Returns every assigned tensor. */
  run(bindings: ReadonlyMap<string, tf.Tensor>): Map<string, tf.Tensor> {
    if (this.disposed) throw new Error('PlanRunner used after dispose()');
    // tf.tidy keeps what it returns only when that is a plain object or array of tensors.
    const kept = tf.tidy(() => {
      const values: tf.Tensor[] = [];
      const steps = this.plan.steps;
      for (let k = 0; k < steps.length; k++) values.push(this.evaluate(steps[k], k, values, bindings));
      const out: Record<string, tf.Tensor> = {};
      for (const [name, step] of this.plan.outputs) out[name] = values[step];
      return out;
    });
    return new Map(Object.entries(kept));
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
   * A conv step with its gradient from the derived programs (routes/conv-backward.ts) rather
   * than tfjs' own, which is missing on wasm (Conv2DBackpropFilter, depthwise backprops) and
   * everywhere for dilation > 1.
   */
  private conv(s: Step & { op: 'conv' }, k: number, image: tf.Tensor, filter: tf.Tensor): tf.Tensor {
    const withGradient = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x, w]);
      return {
        value: convForward(s, x, w),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [sx, sw] = saved;
          const g = this.gradientRunners(k, s);
          const dyt = Array.isArray(dy) ? dy[0] : dy;
          const dw = pick(g.filter.run(new Map([['X', sx], ['dY', dyt]])), 'dW');
          const dx = pick(g.input.run(new Map([['W', sw], ['dY', dyt]])), 'dX');
          return [dx, dw];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return (withGradient as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor)(image, filter);
  }

  /** tf.maxPool with a gradient that is right on every backend (kernels/pool.ts says why). */
  private maxPool(s: Step & { op: 'pool' }, input: tf.Tensor): tf.Tensor {
    const withGradient = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      const y = poolForward(s, x);
      save([x, y]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
          maxPoolBackward(saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D, (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor4D, s.window, s.strides),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return (withGradient as (x: tf.Tensor) => tf.Tensor)(input);
  }

  private gradientRunners(k: number, s: Step & { op: 'conv' }): { filter: PlanRunner; input: PlanRunner } {
    let g = this.gradients.get(k);
    if (g === undefined) {
      const plans = s.backward.plans();
      g = { filter: new PlanRunner(plans.filter), input: new PlanRunner(plans.input) };
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

  private evaluate(s: Step, k: number, values: readonly tf.Tensor[], bindings: ReadonlyMap<string, tf.Tensor>): tf.Tensor {
    const x = (j: number) => values[s.inputs[j]];
    switch (s.op) {
      case 'input':
        return bindings.get(s.name)!;
      case 'constant':
        return this.constant(k, () => tf.tensor(s.values, [...s.shape], 'float32'));
      case 'mask':
        return this.constant(k, () => tf.tensor(s.values, [...s.shape], 'bool'));
      case 'scalar':
        return this.constant(k, () => tf.scalar(s.value));
      case 'transpose':
        return tf.transpose(x(0), [...s.perm]);
      case 'reshape':
        return tf.reshape(x(0), [...s.shape]);
      case 'slice':
        return tf.slice(x(0), [...s.begin], [...s.size]);
      case 'pad':
        return tf.pad(x(0), s.paddings.map((p) => [p[0], p[1]] as [number, number]), s.value);
      case 'matMul':
        return tf.matMul(x(0) as tf.Tensor2D, x(1) as tf.Tensor2D, s.transposeA, s.transposeB);
      case 'unary':
        return UNARY[s.fn](x(0));
      case 'binary':
        return BINARY[s.fn](x(0), x(1));
      case 'where':
        return tf.where(x(0), x(1), x(2));
      case 'reduce':
        return s.fn === 'sum' ? tf.sum(x(0), [...s.axes]) : s.fn === 'max' ? tf.max(x(0), [...s.axes]) : tf.min(x(0), [...s.axes]);
      case 'broadcast':
        return tf.broadcastTo(x(0), [...s.shape]);
      case 'concat':
        return tf.concat(s.inputs.map((i) => values[i]), s.axis);
      case 'clone':
        return tf.clone(x(0));
      case 'reverse':
        return tf.reverse(x(0), [...s.axes]);
      case 'conv':
        return this.conv(s, k, x(0), x(1));
      case 'pool':
        return s.fn === 'max' ? this.maxPool(s, x(0)) : poolForward(s, x(0));
    }
  }
}
