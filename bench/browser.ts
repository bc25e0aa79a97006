/**
 * `npm run bench:browser`: the `npm run bench` cases (bench/cases.ts) and one training step of
 * LeNet-5 and ResNet-20, einnet (the built bundle, dist/browser/einnet.mjs) against the same work
 * hand-written in tfjs, in headless Chromium on webgpu and webgl (bench/browser-page.ts). Prints
 * median ms and the ratio DSL / hand per case; the contenders alternate run by run.
 *
 *   npm run bench:browser                                  # SwiftShader: software, not GPU timings
 *   EINNET_BROWSER_GPU=1 npm run bench:browser             # Chromium on the machine's GPU
 *   EINNET_BENCH_BACKENDS=webgl EINNET_BENCH_REPEATS=3 EINNET_BENCH_ONLY=LeNet npm run bench:browser
 */
import { SKIP_REASON, USE_GPU, openSession } from '../test/browser/browser';
import type { BenchReport } from './browser-page';

const repeats = Number(process.env.EINNET_BENCH_REPEATS ?? 5);
const backends = (process.env.EINNET_BENCH_BACKENDS ?? 'webgpu,webgl').split(',').map((s) => s.trim());
const only = process.env.EINNET_BENCH_ONLY;

function isSoftware(adapter: BenchReport['adapter']): boolean {
  return /swiftshader|llvmpipe|software/i.test(JSON.stringify(adapter ?? {}));
}

async function main(): Promise<void> {
  if (SKIP_REASON !== undefined) throw new Error(`bench:browser needs Chromium: ${SKIP_REASON}`);
  const session = await openSession();
  try {
    console.log(
      `einnet in Chromium (${USE_GPU ? 'EINNET_BROWSER_GPU=1: the GPU' : 'SwiftShader'}): DSL vs hand-written tfjs, ` +
        `median of ${repeats} alternating runs after 2 warm-ups, results read with await data()`,
    );
    for (const backend of backends) {
      const report = await session.call<BenchReport>('/tests/bench.mjs', 'runBench', backend, repeats, only);
      console.log(`\nbackend ${report.backend}, adapter ${JSON.stringify(report.adapter)}`);
      if (isSoftware(report.adapter)) console.log('software GPU (SwiftShader): not GPU timings');
      console.log(`${'case'.padEnd(52)} ${'DSL ms'.padStart(9)} ${'hand ms'.padStart(9)} ${'DSL/hand'.padStart(9)}`);
      for (const r of report.rows) {
        const hand = typeof r.hand === 'number' ? r.hand.toFixed(1) : '—';
        const ratio = typeof r.hand === 'number' ? (r.dsl / r.hand).toFixed(2) : '—';
        const why = typeof r.hand === 'string' ? `  (${r.hand})` : '';
        console.log(`${r.name.padEnd(52)} ${r.dsl.toFixed(1).padStart(9)} ${hand.padStart(9)} ${ratio.padStart(9)}${why}`);
      }
      console.log(`tensors alive after the ${report.backend} runs: ${report.tensorsLeft}`);
    }
    if (session.errors.length > 0) console.log(`\npage errors:\n${session.errors.join('\n')}`);
  } finally {
    await session.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
