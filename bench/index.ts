/**
 * `npm run bench`: layers lowered from the notation vs the same layers hand-written in tfjs, side
 * by side in one run on the same backend, printing absolute times and the ratio DSL / hand.
 * Target: ratio ≤ 1.0 wherever tfjs can run the layer at all.
 *
 * The two contenders alternate (DSL, hand, hand, DSL, …) so that a change in the machine's load
 * hits both alike; the ratio printed is the median of the ratios of adjacent pairs, which is
 * steadier than the ratio of two medians when other processes share the cores. A sample of a
 * short case runs it several times in a row, so that each sample lasts at least
 * EINNET_BENCH_SAMPLE_MS (default 25 ms): single calls of a 2 ms layer gave ratios 0.15 apart
 * between two runs; times printed are per call.
 *
 *   EINNET_BENCH_BACKENDS=wasm,native npm run bench     (default: every available but cpu)
 *   EINNET_BENCH_REPEATS=21                              (timed pairs per case; medians reported)
 *   EINNET_BENCH_CASES=pool,dense                        (only cases whose name holds one of these)
 *   EINNET_BENCH_SAMPLE_MS=25                            (shortest sample; short cases repeat within one)
 */
import * as tf from '@tensorflow/tfjs';
import { availableBackends, ein, useBackend, type BackendName } from '../index';
import { benchCases } from './cases';

const repeats = Number(process.env.EINNET_BENCH_REPEATS ?? 21);
const only = process.env.EINNET_BENCH_CASES?.split(',').map((s) => s.trim());
const sampleMs = Number(process.env.EINNET_BENCH_SAMPLE_MS ?? 25);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Wall time per call of `calls` calls of `f` in a row, in ms; DSL and hand runs are interleaved by the caller. */
function time(f: () => void, calls: number): number {
  const t0 = performance.now();
  for (let k = 0; k < calls; k++) f();
  return (performance.now() - t0) / calls;
}

/** How many calls of `f` in a row make a sample of at least `sampleMs` (from one timed call). */
function callsPerSample(f: () => void): number {
  return Math.max(1, Math.ceil(sampleMs / Math.max(time(f, 1), 1e-3)));
}

/**
 * Ends a contender's call. The backends this benchmark runs in Node (native, wasm, cpu) compute a
 * kernel before it returns, so nothing is read: a read would hand the native backend's output
 * arrays to the caller, where they escape reuse (backends/native/recycle.ts), and every call
 * would then write fresh pages and feed the garbage collector, whose pauses land on either side.
 */
function finish(t: tf.Tensor | tf.Tensor[]): void {
  tf.dispose(t);
}

async function main(): Promise<void> {
  const wanted = process.env.EINNET_BENCH_BACKENDS?.split(',').map((s) => s.trim() as BackendName);
  const backends = wanted ?? availableBackends().filter((b) => b !== 'cpu');
  console.log(`einnet benchmark: DSL-lowered vs hand-written tfjs, ${repeats} alternating pairs of samples of ≥ ${sampleMs} ms after 2 warm-ups, medians`);
  for (const backend of backends) {
    const info = await useBackend(backend);
    console.log(`\nbackend ${info.name} (${info.provider})`);
    console.log(`${'case'.padEnd(52)} ${'DSL ms'.padStart(9)} ${'hand ms'.padStart(9)} ${'DSL/hand'.padStart(9)}`);
    const { cases, dispose } = benchCases(tf, ein);
    for (const c of cases) {
      if (only !== undefined && !only.some((word) => c.name.includes(word))) continue;
      const dsl = () => finish(c.dsl());
      const hand =
        typeof c.hand === 'string'
          ? c.hand
          : (
              (f) => () =>
                finish(f())
            )(c.hand);
      const dslTimes: number[] = [];
      const handTimes: number[] = [];
      const ratios: number[] = [];
      for (let k = 0; k < 2; k++) {
        dsl();
        if (typeof hand !== 'string') hand();
      }
      const calls = callsPerSample(dsl);
      for (let k = 0; k < repeats; k++) {
        if (typeof hand === 'string') {
          dslTimes.push(time(dsl, calls));
          continue;
        }
        let d: number;
        let h: number;
        if (k % 2 === 0) {
          d = time(dsl, calls);
          h = time(hand, calls);
        } else {
          h = time(hand, calls);
          d = time(dsl, calls);
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
