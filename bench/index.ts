/**
 * `npm run bench`: layers lowered from the notation vs the same layers hand-written in tfjs, side
 * by side in one run on the same backend, printing absolute times and the ratio DSL / hand.
 * Target: ratio ≤ 1.0 wherever tfjs can run the layer at all.
 *
 * The two contenders alternate (DSL, hand, hand, DSL, …) so that a change in the machine's load
 * hits both alike; the ratio printed is the median of the ratios of adjacent pairs, which is
 * steadier than the ratio of two medians when other processes share the cores.
 *
 *   EINNET_BENCH_BACKENDS=wasm,native npm run bench     (default: every available but cpu)
 *   EINNET_BENCH_REPEATS=21                              (timed pairs per case; medians reported)
 *   EINNET_BENCH_CASES=pool,dense                        (only cases whose name holds one of these)
 */
import * as tf from '@tensorflow/tfjs';
import { availableBackends, ein, useBackend, type BackendName } from '../index';

interface Case {
  readonly name: string;
  /** Returns a function computing the layer once (and forcing the result). */
  readonly dsl: () => () => void;
  readonly hand: () => (() => void) | string;
}

const repeats = Number(process.env.EINNET_BENCH_REPEATS ?? 21);
const only = process.env.EINNET_BENCH_CASES?.split(',').map((s) => s.trim());

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Wall time of one call of `f` in ms; DSL and hand runs are interleaved by the caller. */
function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function force(t: tf.Tensor | tf.Tensor[]): void {
  for (const x of Array.isArray(t) ? t : [t]) {
    x.dataSync();
    x.dispose();
  }
}

function cases(): Case[] {
  const X = tf.randomNormal([32, 32, 32, 64], 0, 1, 'float32', 1);
  const W = tf.randomNormal([3, 3, 64, 64], 0, 0.05, 'float32', 2);
  const conv = ein('Y[b,x:32,y:32,j:64] = W[Δx:3,Δy:3,i,j] · X[b,x+Δx-1,y+Δy-1,i]');
  const D = tf.randomNormal([64, 1024], 0, 1, 'float32', 3);
  const M = tf.randomNormal([1024, 1024], 0, 0.03, 'float32', 4);
  const dense = ein('Y[b,j] = W[i,j] · X[b,i]');
  const pool = ein('Y[b,x,y,c] = max[Δx:3,Δy:3] X[b,2*x+Δx,2*y+Δy,c]');
  const convGrad = (run: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor) => () => force(tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(run(x, w)))([X, W]));
  return [
    {
      name: '3x3 conv 32x32x64→64, batch 32, forward',
      dsl: () => () => force(conv.run({ X, W }).Y),
      hand: () => () => force(tf.conv2d(X as tf.Tensor4D, W as tf.Tensor4D, 1, 'same')),
    },
    {
      name: '3x3 conv 32x32x64→64, batch 32, forward+backward',
      dsl: () => convGrad((x, w) => conv.run({ X: x, W: w }).Y),
      hand: () =>
        tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined
          ? `tfjs cannot: no Conv2DBackpropFilter kernel on ${tf.getBackend()}`
          : convGrad((x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')),
    },
    {
      name: 'dense 1024→1024, batch 64, forward',
      dsl: () => () => force(dense.run({ X: D, W: M }).Y),
      hand: () => () => force(tf.matMul(D, M)),
    },
    {
      name: 'dense 1024→1024, batch 64, forward+backward',
      dsl: () => () => force(tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(dense.run({ X: x, W: w }).Y))([D, M])),
      hand: () => () => force(tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.matMul(x, w)))([D, M])),
    },
    {
      name: '3x3/2 max pool 32x32x64, batch 32, forward',
      dsl: () => () => force(pool.run({ X }).Y),
      hand: () => () => force(tf.maxPool(X as tf.Tensor4D, 3, 2, 'valid')),
    },
    {
      name: '3x3/2 max pool 32x32x64, batch 32, forward+backward',
      dsl: () => () => force(tf.grad((x: tf.Tensor) => tf.sum(tf.square(pool.run({ X: x }).Y)))(X)),
      hand: () => () => force(tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.maxPool(x as tf.Tensor4D, 3, 2, 'valid'))))(X)),
    },
  ];
}

async function main(): Promise<void> {
  const wanted = process.env.EINNET_BENCH_BACKENDS?.split(',').map((s) => s.trim() as BackendName);
  const backends = wanted ?? availableBackends().filter((b) => b !== 'cpu');
  console.log(`einnet benchmark: DSL-lowered vs hand-written tfjs, ${repeats} alternating pairs after 2 warm-ups, medians`);
  for (const backend of backends) {
    const info = await useBackend(backend);
    console.log(`\nbackend ${info.name} (${info.provider})`);
    console.log(`${'case'.padEnd(52)} ${'DSL ms'.padStart(9)} ${'hand ms'.padStart(9)} ${'DSL/hand'.padStart(9)}`);
    for (const c of cases()) {
      if (only !== undefined && !only.some((word) => c.name.includes(word))) continue;
      const dsl = c.dsl();
      const hand = c.hand();
      const dslTimes: number[] = [];
      const handTimes: number[] = [];
      const ratios: number[] = [];
      for (let k = 0; k < 2; k++) {
        dsl();
        if (typeof hand !== 'string') hand();
      }
      for (let k = 0; k < repeats; k++) {
        if (typeof hand === 'string') {
          dslTimes.push(time(dsl));
          continue;
        }
        let d: number;
        let h: number;
        if (k % 2 === 0) {
          d = time(dsl);
          h = time(hand);
        } else {
          h = time(hand);
          d = time(dsl);
        }
        dslTimes.push(d);
        handTimes.push(h);
        ratios.push(d / h);
      }
      const d = median(dslTimes);
      if (typeof hand === 'string') {
        console.log(`${c.name.padEnd(52)} ${d.toFixed(1).padStart(9)} ${'—'.padStart(9)} ${'—'.padStart(9)}  (${hand})`);
      } else {
        const h = median(handTimes);
        console.log(`${c.name.padEnd(52)} ${d.toFixed(1).padStart(9)} ${h.toFixed(1).padStart(9)} ${median(ratios).toFixed(2).padStart(9)}`);
      }
    }
    console.log(`tensors alive after the ${info.name} runs: ${tf.memory().numTensors}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
