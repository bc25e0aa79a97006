/**
 * Optimizers with named state, so checkpoints can save and restore them and schedules can set any
 * hyperparameter by name (as in the common `AdjustVariable('update_momentum', …)` callback).
 *
 * - `sgd({ learningRate, momentum, nesterov, weightDecay })`, PyTorch's form:
 *   g ← g + wd·w;  v ← μ·v + g;  w ← w − lr·(nesterov ? g + μ·v : v)   (v only when μ > 0)
 * - `adam({ learningRate, beta1, beta2, epsilon, weightDecay, decoupled })`:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  w ← w − lr·m̂/(√v̂ + ε), m̂, v̂ bias-corrected.
 *   weightDecay adds wd·w to g (L2, as torch.optim.Adam) or, with `decoupled: true`, shrinks
 *   w ← w − lr·wd·w (AdamW).
 *
 * State tensors are named `<parameter>/<slot>` (`C1.W/momentum`, `C1.W/m`, `C1.W/v`); the step
 * count is `iterations`.
 */
import * as tf from '@tensorflow/tfjs';
import { adamSteps, sgdSteps, type AdamItem, type SgdItem } from '../ops/update';
import { modelError, rejectUnknownOptions } from './errors';

export interface Optimizer {
  readonly name: 'sgd' | 'adam';
  /** Hyperparameters by name; a schedule may set any of them between steps. */
  readonly hyper: Record<string, number>;
  /** Steps taken so far. */
  iterations: number;
  /** Applies one update. `grads` maps parameter names to gradients. */
  apply(params: ReadonlyMap<string, tf.Variable>, grads: Readonly<Record<string, tf.Tensor>>): void;
  /** The slot tensors by `<parameter>/<slot>` name (views, not copies). */
  state(): Map<string, tf.Variable>;
  /** Replaces slot values (shapes must match their parameters). */
  setState(values: ReadonlyMap<string, tf.Tensor>): void;
  /** Options that recreate this optimizer (for checkpoints). */
  config(): Record<string, number | boolean | string>;
  dispose(): void;
}

function positive(where: string, name: string, v: number, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw modelError('EIN4002', where, `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(v)}`);
  }
  return v;
}

abstract class SlotOptimizer implements Optimizer {
  abstract readonly name: 'sgd' | 'adam';
  iterations = 0;
  protected readonly slots = new Map<string, tf.Variable>();
  constructor(readonly hyper: Record<string, number>) {}

  protected slot(param: string, slot: string, like: tf.Tensor): tf.Variable {
    const key = `${param}/${slot}`;
    let v = this.slots.get(key);
    if (v === undefined) {
      v = tf.variable(tf.zerosLike(like), false);
      this.slots.set(key, v);
    }
    return v;
  }

  abstract apply(params: ReadonlyMap<string, tf.Variable>, grads: Readonly<Record<string, tf.Tensor>>): void;
  abstract config(): Record<string, number | boolean | string>;

  state(): Map<string, tf.Variable> {
    return new Map(this.slots);
  }

  setState(values: ReadonlyMap<string, tf.Tensor>): void {
    for (const [key, value] of values) {
      const old = this.slots.get(key);
      if (old !== undefined) old.assign(value);
      else this.slots.set(key, tf.variable(value.clone(), false));
    }
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}

export interface SgdOptions {
  readonly learningRate: number;
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
}

class Sgd extends SlotOptimizer {
  readonly name = 'sgd' as const;
  readonly nesterov: boolean;
  constructor(options: SgdOptions) {
    rejectUnknownOptions('EIN4002', 'sgd', options, ['learningRate', 'momentum', 'nesterov', 'weightDecay']);
    super({
      learningRate: positive('sgd', 'learningRate', options.learningRate),
      momentum: positive('sgd', 'momentum', options.momentum ?? 0, true),
      weightDecay: positive('sgd', 'weightDecay', options.weightDecay ?? 0, true),
    });
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && this.hyper.momentum === 0) throw modelError('EIN4002', 'sgd', 'nesterov needs a momentum > 0', 'pass momentum: 0.9');
  }

  apply(params: ReadonlyMap<string, tf.Variable>, grads: Readonly<Record<string, tf.Tensor>>): void {
    const { learningRate, momentum, weightDecay } = this.hyper;
    const hyper = { learningRate, momentum, weightDecay, nesterov: this.nesterov };
    tf.tidy(() => {
      const items: (SgdItem & { w: tf.Variable; v?: tf.Variable })[] = [];
      for (const [name, w] of params) {
        const g = grads[name];
        if (g === undefined) continue;
        items.push({ w, g, v: momentum > 0 ? this.slot(name, 'momentum', w) : undefined });
      }
      sgdSteps(items, hyper).forEach((next, i) => {
        const { w, v } = items[i];
        if (v !== undefined) v.assign(next.v!);
        w.assign(next.w);
      });
    });
    this.iterations++;
  }

  config(): Record<string, number | boolean | string> {
    return { ...this.hyper, nesterov: this.nesterov };
  }
}

export interface AdamOptions {
  readonly learningRate?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  readonly weightDecay?: number;
  /** AdamW: decay the weights directly instead of adding wd·w to the gradient. */
  readonly decoupled?: boolean;
}

class Adam extends SlotOptimizer {
  readonly name = 'adam' as const;
  readonly decoupled: boolean;
  constructor(options: AdamOptions) {
    rejectUnknownOptions('EIN4002', 'adam', options, ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', 'decoupled']);
    const beta1 = options.beta1 ?? 0.9;
    const beta2 = options.beta2 ?? 0.999;
    for (const [n, b] of [
      ['beta1', beta1],
      ['beta2', beta2],
    ] as const) {
      if (!(b >= 0 && b < 1)) throw modelError('EIN4002', 'adam', `${n} must be in [0, 1), got ${b}`);
    }
    super({
      learningRate: positive('adam', 'learningRate', options.learningRate ?? 1e-3),
      beta1,
      beta2,
      epsilon: positive('adam', 'epsilon', options.epsilon ?? 1e-8),
      weightDecay: positive('adam', 'weightDecay', options.weightDecay ?? 0, true),
    });
    this.decoupled = options.decoupled ?? false;
  }

  apply(params: ReadonlyMap<string, tf.Variable>, grads: Readonly<Record<string, tf.Tensor>>): void {
    const { learningRate, beta1, beta2, epsilon, weightDecay } = this.hyper;
    const hyper = { learningRate, beta1, beta2, epsilon, weightDecay, decoupled: this.decoupled, step: this.iterations + 1 };
    tf.tidy(() => {
      const items: (AdamItem & { w: tf.Variable; m: tf.Variable; v: tf.Variable })[] = [];
      for (const [name, w] of params) {
        const g = grads[name];
        if (g === undefined) continue;
        items.push({ w, g, m: this.slot(name, 'm', w), v: this.slot(name, 'v', w) });
      }
      adamSteps(items, hyper).forEach((next, i) => {
        const { w, m, v } = items[i];
        m.assign(next.m);
        v.assign(next.v);
        w.assign(next.w);
      });
    });
    this.iterations++;
  }

  config(): Record<string, number | boolean | string> {
    return { ...this.hyper, decoupled: this.decoupled };
  }
}

/**
 * Stochastic gradient descent, with optional (Nesterov) momentum and weight decay.
 *
 * @example
 *   const opt = sgd({ learningRate: 0.02, momentum: 0.9, nesterov: true });
 */
export function sgd(options: SgdOptions): Optimizer {
  rejectUnknownOptions('EIN4002', 'sgd', options, ['learningRate', 'momentum', 'nesterov', 'weightDecay']);
  if (options === undefined || options.learningRate === undefined)
    throw modelError('EIN4002', 'sgd', 'no learningRate given', 'pass sgd({ learningRate: 0.01 })');
  return new Sgd(options);
}

/** Adam (Kingma & Ba), or AdamW with `decoupled: true`. */
export function adam(options: AdamOptions = {}): Optimizer {
  return new Adam(options);
}

/** An optimizer from its `config()` (as stored in a checkpoint). */
export function optimizerFromConfig(name: string, config: Record<string, number | boolean | string>): Optimizer {
  if (name === 'sgd') return sgd(config as unknown as SgdOptions);
  if (name === 'adam') return adam(config as unknown as AdamOptions);
  throw modelError('EIN4002', 'optimizerFromConfig', `unknown optimizer '${name}'`, undefined, "'sgd' or 'adam'");
}
