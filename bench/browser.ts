/**
 * `npm run bench:browser`: the `npm run bench` cases (bench/cases.ts) and one training step of
 * LeNet-5 and ResNet-20, einnet (the built bundle, dist/browser/einnet.mjs) against the same work
 * hand-written in tfjs, in headless Chromium on webgpu and webgl (bench/browser-page.ts). Prints
 * median ms and the ratio DSL / hand per case; the contenders alternate run by run. Progress (each
 * run's times) goes to stderr, the tables to stdout.
 *
 * On a software GPU (SwiftShader, Chromium's default here) the cases run at smaller sizes
 * (bench/cases.ts SOFTWARE_SIZES, bench/browser-page.ts SOFTWARE_NETS) so the whole run takes
 * minutes, and the report says the times are not GPU times.
 *
 *   npm run bench:browser                                  # SwiftShader: software, small sizes
 *   EINNET_BROWSER_GPU=1 npm run bench:browser             # Chromium on the machine's GPU, full sizes
 *   EINNET_BENCH_FULL=1 npm run bench:browser              # full sizes on SwiftShader too (very slow)
 *   EINNET_BENCH_BACKENDS=webgl EINNET_BENCH_REPEATS=3 EINNET_BENCH_ONLY=LeNet npm run bench:browser
 */
import { SKIP_REASON, USE_GPU, openSession } from '../test/browser/browser';
import type { BenchOptions, BenchReport } from './browser-page';

const repeats = Number(process.env.EINNET_BENCH_REPEATS ?? 5);
const backends = (process.env.EINNET_BENCH_BACKENDS ?? 'webgpu,webgl').split(',').map((s) => s.trim());
const only = process.env.EINNET_BENCH_ONLY;
const full = process.env.EINNET_BENCH_FULL === '1';

async function main(): Promise<void> {
  if (SKIP_REASON !== undefined) throw new Error(`bench:browser needs Chromium: ${SKIP_REASON}`);
  const session = await openSession();
  session.page.on('console', (m) => {
    if (m.type() === 'info') process.stderr.write(`  … ${m.text()}\n`);
  });
  const started = performance.now();
  try {
    console.log(
      `einnet in Chromium (${USE_GPU ? 'EINNET_BROWSER_GPU=1: the GPU' : 'SwiftShader, a software GPU'}): DSL vs hand-written tfjs, ` +
        `median of ${repeats} alternating runs after 2 warm-ups, results read with await data()`,
    );
    for (const backend of backends) {
      const options: BenchOptions = { backend: backend as BenchOptions['backend'], repeats, only, full };
      const report = await session.call<BenchReport>('/tests/bench.mjs', 'runBench', options);
      console.log(`\nbackend ${report.backend}, adapter ${JSON.stringify(report.adapter)}`);
      const s = report.sizes;
      if (report.software) {
        console.log(
          'software GPU (SwiftShader, on the CPU): these are not GPU times, and the ratios say little about a GPU' +
            (full ? '' : '\nsmall sizes for a software GPU (EINNET_BENCH_FULL=1 for the full ones):'),
        );
      }
      console.log(
        `sizes: conv and pool batch ${s.batch} of ${s.side}x${s.side}x${s.channels}, dense ${s.features}→${s.features} batch ${s.denseBatch}, ` +
          `LeNet-5 batch ${s.lenetBatch}, ResNet-20 batch ${s.resnetBatch}`,
      );
      console.log(`${'case'.padEnd(52)} ${'DSL ms'.padStart(9)} ${'hand ms'.padStart(9)} ${'DSL/hand'.padStart(9)}`);
      for (const r of report.rows) {
        const hand = typeof r.hand === 'number' ? r.hand.toFixed(1) : '—';
        const ratio = typeof r.hand === 'number' ? (r.dsl / r.hand).toFixed(2) : '—';
        const why = typeof r.hand === 'string' ? `  (${r.hand})` : '';
        console.log(`${r.name.padEnd(52)} ${r.dsl.toFixed(1).padStart(9)} ${hand.padStart(9)} ${ratio.padStart(9)}${why}`);
      }
      console.log(`tensors alive after the ${report.backend} runs: ${report.tensorsLeft}`);
    }
    console.log(`\nwhole run: ${((performance.now() - started) / 60000).toFixed(1)} min`);
  } finally {
    if (session.errors.length > 0) console.log(`\npage errors:\n${session.errors.join('\n')}`);
    await session.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
