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

/**
 * The sizes of the cases: conv and pooling on `batch` images of `side`×`side`×`channels`, dense
 * `features`→`features` on `denseBatch` rows.
 */
export interface BenchSizes {
  readonly batch: number;
  readonly side: number;
  readonly channels: number;
  readonly denseBatch: number;
  readonly features: number;
}

/** The sizes of `npm run bench`, and of `npm run bench:browser` on a GPU. */
export const FULL_SIZES: BenchSizes = { batch: 32, side: 32, channels: 64, denseBatch: 64, features: 1024 };

/**
 * The sizes of `npm run bench:browser` on a software GPU (SwiftShader): the same cases with a
 * sixteenth of the conv and pooling work (batch 8, 16×16) and a quarter of the dense work, so that
 * every case finishes in seconds on the CPU.
 */
export const SOFTWARE_SIZES: BenchSizes = { batch: 8, side: 16, channels: 64, denseBatch: 16, features: 1024 };

/** The cases on the active backend, with their inputs; `dispose` frees the inputs. */
export function benchCases(tf: Tf, ein: Ein, sizes: BenchSizes = FULL_SIZES): { cases: BenchCase[]; dispose(): void } {
  const { batch, side, channels, denseBatch, features } = sizes;
  const X = tf.randomNormal([batch, side, side, channels], 0, 1, 'float32', 1);
  const W = tf.randomNormal([3, 3, channels, channels], 0, 0.05, 'float32', 2);
  const conv = ein(`Y[b,x:${side},y:${side},j:${channels}] = W[Δx:3,Δy:3,i,j] · X[b,x+Δx-1,y+Δy-1,i]`);
  const D = tf.randomNormal([denseBatch, features], 0, 1, 'float32', 3);
  const M = tf.randomNormal([features, features], 0, 0.03, 'float32', 4);
  const dense = ein('Y[b,j] = W[i,j] · X[b,i]');
  const pool = ein('Y[b,x,y,c] = max[Δx:3,Δy:3] X[b,2*x+Δx,2*y+Δy,c]');
  const convGrad = (run: (x: Tensor, w: Tensor) => Tensor) => () => tf.grads((x: Tensor, w: Tensor) => tf.sum(run(x, w)))([X, W]);
  const image = `${side}x${side}x${channels}`;
  const convName = `3x3 conv ${image}→${channels}, batch ${batch}`;
  const denseName = `dense ${features}→${features}, batch ${denseBatch}`;
  const poolName = `3x3/2 max pool ${image}, batch ${batch}`;
  const cases: BenchCase[] = [
    {
      name: `${convName}, forward`,
      dsl: () => conv.run({ X, W }).Y,
      hand: () => tf.conv2d(X as tfjs.Tensor4D, W as tfjs.Tensor4D, 1, 'same'),
    },
    {
      name: `${convName}, forward+backward`,
      dsl: convGrad((x, w) => conv.run({ X: x, W: w }).Y),
      hand:
        tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined
          ? `tfjs cannot: no Conv2DBackpropFilter kernel on ${tf.getBackend()}`
          : convGrad((x, w) => tf.conv2d(x as tfjs.Tensor4D, w as tfjs.Tensor4D, 1, 'same')),
    },
    {
      name: `${denseName}, forward`,
      dsl: () => dense.run({ X: D, W: M }).Y,
      hand: () => tf.matMul(D, M),
    },
    {
      name: `${denseName}, forward+backward`,
      dsl: () => tf.grads((x: Tensor, w: Tensor) => tf.sum(dense.run({ X: x, W: w }).Y))([D, M]),
      hand: () => tf.grads((x: Tensor, w: Tensor) => tf.sum(tf.matMul(x, w)))([D, M]),
    },
    {
      name: `${poolName}, forward`,
      dsl: () => pool.run({ X }).Y,
      hand: () => tf.maxPool(X as tfjs.Tensor4D, 3, 2, 'valid'),
    },
    {
      name: `${poolName}, forward+backward`,
      dsl: () => tf.grad((x: Tensor) => tf.sum(tf.square(pool.run({ X: x }).Y)))(X),
      hand: () => tf.grad((x: Tensor) => tf.sum(tf.square(tf.maxPool(x as tfjs.Tensor4D, 3, 2, 'valid'))))(X),
    },
  ];
  return { cases, dispose: () => tf.dispose([X, W, D, M]) };
}
