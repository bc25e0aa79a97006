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
import { benchCases } from './cases';

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

async function main(): Promise<void> {
  const wanted = process.env.EINNET_BENCH_BACKENDS?.split(',').map((s) => s.trim() as BackendName);
  const backends = wanted ?? availableBackends().filter((b) => b !== 'cpu');
  console.log(`einnet benchmark: DSL-lowered vs hand-written tfjs, ${repeats} alternating pairs after 2 warm-ups, medians`);
  for (const backend of backends) {
    const info = await useBackend(backend);
    console.log(`\nbackend ${info.name} (${info.provider})`);
    console.log(`${'case'.padEnd(52)} ${'DSL ms'.padStart(9)} ${'hand ms'.padStart(9)} ${'DSL/hand'.padStart(9)}`);
    const { cases, dispose } = benchCases(tf, ein);
    for (const c of cases) {
      if (only !== undefined && !only.some((word) => c.name.includes(word))) continue;
      const dsl = () => force(c.dsl());
      const hand =
        typeof c.hand === 'string'
          ? c.hand
          : (
              (f) => () =>
                force(f())
            )(c.hand);
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
    dispose();
    console.log(`tensors alive after the ${info.name} runs: ${tf.memory().numTensors}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
