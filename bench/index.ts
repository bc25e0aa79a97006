/**
 * `npm run bench`: layers lowered from the notation vs the same layers hand-written in tfjs, side
 * by side in one run on the same backend, printing absolute times and the ratio DSL / hand.
 * Target: ratio ≤ 1.0 wherever tfjs can run the layer at all.
 *
 * The two contenders alternate call by call (DSL, hand, hand, DSL, …), each call timed alone, so
 * that whatever else the machine does lands on both alike, and each pair of calls runs at a
 * random stack depth (`DEPTHS`, below). A sample holds enough calls of each to last at least
 * EINNET_BENCH_SAMPLE_MS (default 25 ms); a case takes as many samples as fill
 * EINNET_BENCH_CASE_S (default 4 s), at least 21. The ratio printed is the median of the samples'
 * ratios with its 95 % confidence interval, and the verdict that interval gives: faster (all of
 * it below 1), slower (all above) or same; times printed are medians per call.
 *
 *   EINNET_BENCH_BACKENDS=wasm,native npm run bench     (default: every available but cpu, whose convolutions take seconds)
 *   EINNET_BENCH_CASE_S=60                               (seconds per case: a narrower interval)
 *   EINNET_BENCH_REPEATS=21                              (samples per case, instead of the seconds)
 *   EINNET_BENCH_CASES=pool,dense                        (only cases whose name holds one of these)
 *   EINNET_BENCH_SAMPLE_MS=25                            (shortest sample; short cases repeat within one)
 */
import * as tf from '@tensorflow/tfjs';
import { availableBackends, ein, useBackend, type BackendName } from '../index';
import { benchCases } from './cases';

const fixedRepeats = process.env.EINNET_BENCH_REPEATS === undefined ? undefined : Number(process.env.EINNET_BENCH_REPEATS);
const only = process.env.EINNET_BENCH_CASES?.split(',').map((s) => s.trim());
const sampleMs = Number(process.env.EINNET_BENCH_SAMPLE_MS ?? 25);
/** How long a case samples when EINNET_BENCH_REPEATS does not say how many samples, in ms. */
const caseMs = 1000 * Number(process.env.EINNET_BENCH_CASE_S ?? 4);

/** The q-quantile of `xs` (0.5: the median), by the nearest rank. */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Wall time per call of `calls` calls of `f` in a row, in ms; DSL and hand runs are interleaved by the caller. */
function time(f: () => void, calls: number): number {
  const t0 = performance.now();
  for (let k = 0; k < calls; k++) f();
  return (performance.now() - t0) / calls;
}

/** Calls `f` below `depth` more stack frames. */
function atDepth(depth: number, f: () => void): void {
  if (depth === 0) f();
  else atDepth(depth - 1, f);
}

/**
 * How many stack depths a pair of calls is spread over (a few pages of stack). tfjs-wasm's kernels
 * run faster or slower with where the machine stack stands when they are called: a 64×1024 by
 * 1024×1024 product took 5.4 ms, or 6.6 ms at every eighth depth of its caller, and the same
 * closure called twice in alternation read 0.80 against itself, run after run. A contender always
 * called from one place carries the luck of its place; each pair of calls here goes to a depth
 * drawn anew, the same for both calls, and the same closure against itself reads 0.99.
 */
const DEPTHS = 512;

/**
 * Ms per call of `a` and of `b` over `calls` calls of each, interleaved a b b a a b b a …, each
 * call timed alone, each pair at a random stack depth (`DEPTHS`).
 */
function timeInterleaved(a: () => void, b: () => void, calls: number): [number, number] {
  let ta = 0;
  let tb = 0;
  for (let k = 0; k < calls; k++) {
    const aFirst = k % 2 === 0;
    const depth = Math.floor(Math.random() * DEPTHS);
    const t0 = performance.now();
    atDepth(depth, aFirst ? a : b);
    const t1 = performance.now();
    atDepth(depth, aFirst ? b : a);
    const t2 = performance.now();
    ta += aFirst ? t1 - t0 : t2 - t1;
    tb += aFirst ? t2 - t1 : t1 - t0;
  }
  return [ta / calls, tb / calls];
}

/**
 * The calls of each contender in a sample (enough for `sampleMs`) and the samples of a case (as
 * many as fill `caseMs`, at least 21), from one timed call of `f`; `contenders` run in each sample.
 */
function sampling(f: () => void, contenders: number): { calls: number; samples: number } {
  const callMs = Math.max(time(f, 1), 1e-3);
  const calls = Math.max(1, Math.ceil(sampleMs / callMs));
  const samples = fixedRepeats ?? Math.max(21, Math.round(caseMs / (calls * callMs * contenders)));
  return { calls, samples };
}

/**
 * The median of `xs` with its 95 % confidence interval: the order statistics n/2 ∓ 0.98·√n, which
 * hold the median with 95 % probability whatever the distribution of independent samples.
 */
function medianWithInterval(xs: readonly number[]): { median: number; low: number; high: number } {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const half = 0.98 * Math.sqrt(n);
  return { median: s[Math.floor(n / 2)], low: s[Math.max(0, Math.floor(n / 2 - half))], high: s[Math.min(n - 1, Math.ceil(n / 2 + half))] };
}

/** What a ratio's interval says about the DSL: faster or slower when all of it is on one side of 1. */
function verdict(low: number, high: number): string {
  return high < 1 ? 'faster' : low > 1 ? 'slower' : 'same';
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
  const method = `samples of ≥ ${sampleMs} ms of calls alternating one by one, after 2 warm-ups`;
  console.log(`einnet benchmark: DSL-lowered vs hand-written tfjs, ${method}; medians, 95 % intervals`);
  for (const backend of backends) {
    const info = await useBackend(backend);
    console.log(`\nbackend ${info.name} (${info.provider})`);
    console.log(`${'case'.padEnd(52)} ${'DSL ms'.padStart(9)} ${'hand ms'.padStart(9)} ${'DSL/hand'.padStart(9)}  interval   verdict`);
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
      const { calls, samples } = sampling(dsl, typeof hand === 'string' ? 1 : 2);
      for (let k = 0; k < samples; k++) {
        if (typeof hand === 'string') {
          dslTimes.push(time(dsl, calls));
          continue;
        }
        // Which contender goes first alternates between samples too: a long case's sample is one call of each.
        const [d, h] = k % 2 === 0 ? timeInterleaved(dsl, hand, calls) : timeInterleaved(hand, dsl, calls).reverse();
        dslTimes.push(d);
        handTimes.push(h);
        ratios.push(d / h);
      }
      const d = quantile(dslTimes, 0.5);
      if (typeof hand === 'string') {
        console.log(`${c.name.padEnd(52)} ${d.toFixed(1).padStart(9)} ${'—'.padStart(9)} ${'—'.padStart(9)}  (${hand})`);
      } else {
        const h = quantile(handTimes, 0.5);
        const { median, low, high } = medianWithInterval(ratios);
        const ratio = `${median.toFixed(2).padStart(9)}  ${low.toFixed(3)}–${high.toFixed(3)}`;
        console.log(`${c.name.padEnd(52)} ${d.toFixed(1).padStart(9)} ${h.toFixed(1).padStart(9)} ${ratio}  ${verdict(low, high)}`);
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
