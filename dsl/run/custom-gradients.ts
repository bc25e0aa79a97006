/**
 * Gradients of our own for plan steps, on tfjs' custom-gradient machinery: `withGradient` (every
 * input's gradient), `withLazyGradient` (only those tfjs asks for), and `extremum`, a max/min whose
 * gradient goes to one winner.
 */
import * as tf from '@tensorflow/tfjs';
import { transposeAnyRank } from '../../ops/rank';
import { engineInternals, type EngineInternals } from '../../backends/engine-internals';

// Bound once (backends/engine-internals.ts says why).
const { argMax, argMin, customGrad, expandDims, max, min, mul, oneHot, reshape } = tf;

/**
 * `op(inputs…)` with a gradient of our own, through tf.customGrad: `forward` gives the value and
 * the tensors `backward` will need; `backward` returns one gradient per input.
 */
export function withGradient(
  forward: (inputs: tf.Tensor[]) => { value: tf.Tensor; saved: tf.Tensor[] },
  backward: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  inputs: tf.Tensor[],
): tf.Tensor {
  // tfjs calls f(...inputs, save): the save function comes last.
  const f = customGrad(((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const { value, saved } = forward(args as tf.Tensor[]);
    save(saved);
    return { value, gradFunc: (dy: tf.Tensor | tf.Tensor[], kept: tf.Tensor[]) => backward(Array.isArray(dy) ? dy[0] : dy, kept) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f as (...xs: tf.Tensor[]) => tf.Tensor)(...inputs);
}

/**
 * `withGradient` whose `backward` returns one function per input, of which tfjs calls only those
 * of inputs on the path to what is differentiated: tf.customGrad computes every input's gradient,
 * the data image's too in a network's first convolution. Runs on the engine function that
 * tf.customGrad itself calls; without it (another tfjs), every part is computed.
 */
export function withLazyGradient(
  forward: (inputs: tf.Tensor[]) => { value: tf.Tensor; saved: tf.Tensor[] },
  backward: (dy: tf.Tensor, saved: tf.Tensor[]) => (() => tf.Tensor)[],
  inputs: tf.Tensor[],
): tf.Tensor {
  const engine: Partial<EngineInternals> = engineInternals();
  if (typeof engine.runKernelFunc !== 'function') return withGradient(forward, (dy, saved) => backward(dy, saved).map((part) => part()), inputs);
  const named: tf.NamedTensorMap = {};
  inputs.forEach((t, i) => (named[i] = t));
  return engine.runKernelFunc({
    forwardFunc: (_backend, save) => {
      const { value, saved } = forward(inputs);
      save(saved);
      return value;
    },
    // Runs inside the backward pass's tidy, which releases what is made here (and not returned
    // by a part) once every part has run.
    backwardsFunc: (dy, saved) => {
      const parts: Record<string, () => tf.Tensor> = {};
      backward(Array.isArray(dy) ? dy[0] : dy, saved).forEach((part, i) => (parts[i] = part));
      return parts;
    },
    inputs: named,
  });
}

/**
 * max/min over axes with a one-winner gradient: tf.max's own gradient goes to every tied entry,
 * which counts a value read twice (clamp, upsampling, overlapping windows) twice. Here the first
 * winner (tf.argMax/argMin) gets it, as in PyTorch.
 */
export function extremum(fn: 'max' | 'min', input: tf.Tensor, axes: readonly number[]): tf.Tensor {
  const rank = input.shape.length;
  const kept = [...Array(rank).keys()].filter((k) => !axes.includes(k));
  return withGradient(
    ([x]) => ({ value: fn === 'max' ? max(x, [...axes]) : min(x, [...axes]), saved: [x] }),
    (g, [sx]) => {
      const perm = [...kept, ...axes];
      const moved = transposeAnyRank(sx, perm);
      const keptShape = kept.map((k) => sx.shape[k]);
      const K = axes.reduce((a, k) => a * sx.shape[k], 1);
      if (K === 1) return reshape(g, sx.shape);
      const flat = reshape(moved, [...keptShape, K]);
      const winner = fn === 'max' ? argMax(flat, -1) : argMin(flat, -1);
      const spread = mul(oneHot(winner, K), expandDims(reshape(g, keptShape), -1));
      const back = reshape(spread, moved.shape);
      return transposeAnyRank(
        back,
        perm.map((_, k) => perm.indexOf(k)),
      );
    },
    [input],
  );
}
