/**
 * Schedules: a hyperparameter as a function of the epoch (0-based), applied at the start of each
 * epoch by `fit({ schedules: { learningRate: …, momentum: … } })`.
 */
import { modelError, rejectUnknownOptions } from './errors';

export type Schedule = (epoch: number) => number;

/** The same value every epoch. */
export function constant(value: number): Schedule {
  return () => value;
}

/** `initial · gamma^⌊epoch / every⌋` (step decay; ResNet's ×0.1 at fixed epochs with `at`). */
export function stepDecay(initial: number, options: { every?: number; at?: readonly number[]; gamma?: number }): Schedule {
  rejectUnknownOptions('EIN4010', 'stepDecay', options, ['every', 'at', 'gamma']);
  const gamma = options.gamma ?? 0.1;
  if (options.at !== undefined) {
    const at = [...options.at].sort((a, b) => a - b);
    return (epoch) => initial * gamma ** at.filter((e) => epoch >= e).length;
  }
  const every = options.every;
  if (every === undefined || !(every > 0)) throw modelError('EIN4010', 'stepDecay', 'give every: N (epochs) or at: [epochs]');
  return (epoch) => initial * gamma ** Math.floor(epoch / every);
}

/** Cosine annealing from `initial` to `min` over `epochs` (then stays at `min`). */
export function cosine(initial: number, options: { epochs: number; min?: number }): Schedule {
  rejectUnknownOptions('EIN4010', 'cosine', options, ['epochs', 'min']);
  const min = options.min ?? 0;
  if (!(options.epochs > 0)) throw modelError('EIN4010', 'cosine', `epochs must be positive, got ${options.epochs}`);
  return (epoch) => {
    const t = Math.min(epoch / options.epochs, 1);
    return min + 0.5 * (initial - min) * (1 + Math.cos(Math.PI * t));
  };
}

/**
 * A straight line from `start` (epoch 0) to `stop` (epoch `epochs` − 1), then its last value:
 * `np.linspace(start, stop, epochs)[epoch]`, as Lasagne's `AdjustVariable('update_learning_rate',
 * start=0.02, stop=0.0001)` uses it. A one-epoch schedule is `[start]`, as in numpy. Also a
 * warm-up ramp.
 */
export function linear(start: number, stop: number, epochs: number): Schedule {
  if (!(epochs >= 1)) throw modelError('EIN4010', 'linear', `epochs must be at least 1, got ${epochs}`);
  return (epoch) => {
    if (epochs === 1) return start;
    const t = Math.min(epoch, epochs - 1) / (epochs - 1);
    return start * (1 - t) + stop * t; // exact at both ends
  };
}
