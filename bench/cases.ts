/**
 * The cases of `npm run bench` (bench/index.ts) and `npm run bench:browser` (bench/browser.ts):
 * layers lowered from the notation next to the same layers hand-written in tfjs. Each contender
 * computes the layer once and returns its result; the caller reads it (synchronously in Node,
 * with `await data()` in a page) and disposes it. `tf` and `ein` are the caller's: Node's einnet,
 * or the browser bundle's.
 */
import type * as tfjs from '@tensorflow/tfjs';

type Tf = typeof tfjs;
type Tensor = tfjs.Tensor;

/** The part of einnet's `ein` the cases use. */
export type Ein = (source: string) => { run(bindings: Record<string, Tensor>): Record<string, Tensor> };

export interface BenchCase {
  readonly name: string;
  readonly dsl: () => Tensor | Tensor[];
  /** The hand-written layer, or why tfjs cannot run it on the active backend. */
  readonly hand: (() => Tensor | Tensor[]) | string;
}

/** The cases on the active backend, with their inputs; `dispose` frees the inputs. */
export function benchCases(tf: Tf, ein: Ein): { cases: BenchCase[]; dispose(): void } {
  const X = tf.randomNormal([32, 32, 32, 64], 0, 1, 'float32', 1);
  const W = tf.randomNormal([3, 3, 64, 64], 0, 0.05, 'float32', 2);
  const conv = ein('Y[b,x:32,y:32,j:64] = W[Δx:3,Δy:3,i,j] · X[b,x+Δx-1,y+Δy-1,i]');
  const D = tf.randomNormal([64, 1024], 0, 1, 'float32', 3);
  const M = tf.randomNormal([1024, 1024], 0, 0.03, 'float32', 4);
  const dense = ein('Y[b,j] = W[i,j] · X[b,i]');
  const pool = ein('Y[b,x,y,c] = max[Δx:3,Δy:3] X[b,2*x+Δx,2*y+Δy,c]');
  const convGrad = (run: (x: Tensor, w: Tensor) => Tensor) => () => tf.grads((x: Tensor, w: Tensor) => tf.sum(run(x, w)))([X, W]);
  const cases: BenchCase[] = [
    {
      name: '3x3 conv 32x32x64→64, batch 32, forward',
      dsl: () => conv.run({ X, W }).Y,
      hand: () => tf.conv2d(X as tfjs.Tensor4D, W as tfjs.Tensor4D, 1, 'same'),
    },
    {
      name: '3x3 conv 32x32x64→64, batch 32, forward+backward',
      dsl: convGrad((x, w) => conv.run({ X: x, W: w }).Y),
      hand:
        tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined
          ? `tfjs cannot: no Conv2DBackpropFilter kernel on ${tf.getBackend()}`
          : convGrad((x, w) => tf.conv2d(x as tfjs.Tensor4D, w as tfjs.Tensor4D, 1, 'same')),
    },
    {
      name: 'dense 1024→1024, batch 64, forward',
      dsl: () => dense.run({ X: D, W: M }).Y,
      hand: () => tf.matMul(D, M),
    },
    {
      name: 'dense 1024→1024, batch 64, forward+backward',
      dsl: () => tf.grads((x: Tensor, w: Tensor) => tf.sum(dense.run({ X: x, W: w }).Y))([D, M]),
      hand: () => tf.grads((x: Tensor, w: Tensor) => tf.sum(tf.matMul(x, w)))([D, M]),
    },
    {
      name: '3x3/2 max pool 32x32x64, batch 32, forward',
      dsl: () => pool.run({ X }).Y,
      hand: () => tf.maxPool(X as tfjs.Tensor4D, 3, 2, 'valid'),
    },
    {
      name: '3x3/2 max pool 32x32x64, batch 32, forward+backward',
      dsl: () => tf.grad((x: Tensor) => tf.sum(tf.square(pool.run({ X: x }).Y)))(X),
      hand: () => tf.grad((x: Tensor) => tf.sum(tf.square(tf.maxPool(x as tfjs.Tensor4D, 3, 2, 'valid'))))(X),
    },
  ];
  return { cases, dispose: () => tf.dispose([X, W, D, M]) };
}
