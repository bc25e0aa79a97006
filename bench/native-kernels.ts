/**
 * Per-kernel throughput of einnet's oneDNN backend against tfjs' wasm and cpu backends:
 * 3x3 convolution, NHWC 32x32x32x64 -> 64 channels, batch 32, stride 1, 'same' — forward,
 * backward to the input and backward to the filter — in GFLOP/s, with ratios, and against the
 * machine's peak (theoretical from the clock and AVX width, and practical from a large oneDNN
 * GEMM). On the native backend this layer runs on oneDNN's Winograd kernels where the CPU has
 * them (AVX-512); the kernel-only rows give the direct algorithm and Winograd. Then one training
 * step of LeNet-5 and ResNet-20 on native, wasm and PyTorch (bench/native-training.ts).
 *
 *   npm run bench:native                 # every backend that loads here
 *   EINNET_BENCH_CPU=0 npm run bench:native   # skip tfjs' pure-JS backend
 *   EINNET_BENCH_KERNELS=0 npm run bench:native   # only the training steps
 *
 * tfjs' pure-JS cpu backend runs each pass once, in a child process that is stopped after 10 s
 * (its Conv2DBackpropFilter takes minutes on this shape). Times are the best of several runs:
 * on a shared machine the minimum is the least disturbed measurement.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { findAddon, loadAddon, registerNativeBackend, setNativeThreads } from '../backends/native';
import { convParams, geometry2D } from '../backends/native/conv';
import { trainingSteps } from './native-training';

const N = 32;
const H = 32;
const W = 32;
const C = 64;
const OC = 64;
const K = 3;
/** Multiply-adds x 2 of one pass; forward and both backward passes have the same count. */
const CONV_FLOP = 2 * N * H * W * OC * K * K * C;

type Pass = 'forward' | 'backward-input' | 'backward-filter';
const PASSES: Pass[] = ['forward', 'backward-input', 'backward-filter'];

interface Operands {
  x: tf.Tensor4D;
  w: tf.Tensor4D;
  dy: tf.Tensor4D;
}

function makeOperands(): Operands {
  return {
    x: tf.randomUniform([N, H, W, C], -1, 1, 'float32', 1) as tf.Tensor4D,
    w: tf.randomUniform([K, K, C, OC], -1, 1, 'float32', 2) as tf.Tensor4D,
    dy: tf.randomUniform([N, H, W, OC], -1, 1, 'float32', 3) as tf.Tensor4D,
  };
}

function runPass(pass: Pass, o: Operands): tf.Tensor {
  switch (pass) {
    case 'forward':
      return tf.conv2d(o.x, o.w, 1, 'same');
    case 'backward-input':
      return tf.conv2dTranspose(o.dy, o.w, [N, H, W, C], 1, 'same');
    case 'backward-filter':
      return tf.engine().runKernel(
        tf.Conv2DBackpropFilter,
        { x: o.x, dy: o.dy },
        {
          strides: [1, 1],
          pad: 'same',
          dataFormat: 'NHWC',
          filterShape: [K, K, C, OC],
        },
      ) as tf.Tensor;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Milliseconds of `reps` runs after `warmup` runs. Results are not read back: every backend here
 * (native, wasm, cpu) computes synchronously, and a read would hand the very output array to the
 * caller on native, which then cannot reuse it (every run would pay fresh pages).
 */
function time(pass: Pass, o: Operands, warmup: number, reps: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t0 = performance.now();
    const y = runPass(pass, o);
    const ms = performance.now() - t0;
    y.dispose();
    if (i >= warmup) times.push(ms);
  }
  return times;
}

interface Row {
  backend: string;
  pass: Pass;
  ms: number;
  gflops: number;
}

function printRow(label: string, pass: Pass, ms: number, note: string): void {
  process.stdout.write(
    `  ${label.padEnd(10)} ${pass.padEnd(16)} ${ms.toFixed(1).padStart(9)} ms ${(CONV_FLOP / ms / 1e6).toFixed(1).padStart(7)} GFLOP/s   (${note})\n`,
  );
}

async function measureBackend(label: string, tfjsName: string, warmup: number, reps: number): Promise<Row[]> {
  await tf.setBackend(tfjsName);
  await tf.ready();
  const o = makeOperands();
  const rows: Row[] = [];
  for (const pass of PASSES) {
    if (pass === 'backward-filter' && tf.getKernel(tf.Conv2DBackpropFilter, tfjsName) === undefined) {
      process.stdout.write(`  ${label.padEnd(16)} ${pass.padEnd(16)}  (tfjs ${tfjsName} has no Conv2DBackpropFilter kernel)\n`);
      continue;
    }
    const times = time(pass, o, warmup, reps);
    const ms = Math.min(...times);
    rows.push({ backend: label, pass, ms, gflops: CONV_FLOP / ms / 1e6 });
    printRow(label, pass, ms, `median ${median(times).toFixed(1)} ms of ${times.length}`);
  }
  tf.dispose([o.x, o.w, o.dy]);
  return rows;
}

/**
 * The oneDNN kernels alone: the addon called directly on warm, preallocated arrays. The tfjs-level
 * rows above also pay for the output's allocation (fresh pages until V8 recycles buffers), which
 * on this virtual machine costs 2-15 ms for 8 MB. `algorithm`: this layer takes Winograd by
 * default (3x3, stride 1, 64 channels), whose GFLOP/s count the direct algorithm's operations —
 * an effective rate that can exceed the machine's peak; 'direct' forbids Winograd.
 */
function kernelOnly(threads: number, algorithm: 'direct' | 'Winograd'): Row[] {
  const addon = loadAddon();
  addon.setThreads(threads);
  const wasWinograd = addon.setWinograd(algorithm === 'Winograd');
  const info = tf.backend_util.computeConv2DInfo([N, H, W, C], [K, K, C, OC], 1, 1, 'same');
  const params = convParams(geometry2D(info, false));
  const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const x = fill(N * H * W * C);
  const w = fill(K * K * C * OC);
  const y = fill(N * H * W * OC);
  const dx = fill(N * H * W * C);
  const dw = fill(K * K * C * OC);
  const run: Record<Pass, () => void> = {
    forward: () => addon.convForward(params, x, w, null, y, 0, 0),
    'backward-input': () => addon.convBackwardData(params, y, w, dx),
    'backward-filter': () => addon.convBackwardWeights(params, x, y, dw),
  };
  const label = kernelLabel(threads, algorithm);
  const winogradBefore = addon.info().winogradPrimitives;
  const measured: { pass: Pass; times: number[] }[] = [];
  for (const pass of PASSES) {
    const times: number[] = [];
    for (let i = 0; i < 18; i++) {
      const t0 = performance.now();
      run[pass]();
      if (i >= 3) times.push(performance.now() - t0);
    }
    measured.push({ pass, times });
  }
  addon.setWinograd(wasWinograd);
  if (algorithm === 'Winograd' && addon.info().winogradPrimitives === winogradBefore) {
    process.stdout.write(`  ${label.padEnd(10)} (oneDNN has no Winograd kernels for this CPU: the direct ones run)\n`);
    return [];
  }
  return measured.map(({ pass, times }) => {
    const ms = Math.min(...times);
    printRow(label, pass, ms, `kernel only; median ${median(times).toFixed(1)} ms of ${times.length}`);
    return { backend: label, pass, ms, gflops: CONV_FLOP / ms / 1e6 };
  });
}

function kernelLabel(threads: number, algorithm: 'direct' | 'Winograd'): string {
  return `oneDNN ${threads}T${algorithm === 'Winograd' ? ' W' : ''}`;
}

/** GFLOP/s of a 2048^3 single-precision GEMM on oneDNN (the native backend's BatchMatMul), best of 8. */
function gemmGflops(): number {
  const n = 2048;
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 4);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 5);
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    if (i > 0) times.push(performance.now() - t0);
    c.dispose();
  }
  tf.dispose([a, b]);
  return (2 * n * n * n) / Math.min(...times) / 1e6;
}

/**
 * Theoretical single-precision peak: cores x clock x FLOP per cycle, assuming two FMA pipes of
 * the widest vector the CPU advertises (AVX-512: 16 lanes, AVX2: 8) — 64 or 32 FLOP/cycle/core —
 * except on AMD's Zen 4 (family 25 with AVX-512), which runs 512-bit instructions on 256-bit
 * pipes (32 FLOP/cycle/core).
 * The clock is /proc/cpuinfo's "cpu MHz": a virtual machine reports its nominal clock, and the
 * CPU may boost above it, so measured throughput can exceed this figure.
 */
function theoreticalPeak(threads: number): { gflops: number; assumption: string } {
  let mhz = 0;
  let avx512 = false;
  let avx2 = false;
  let zen4 = false;
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(info)?.[1] ?? 0);
    avx512 = /\bavx512f\b/.test(info);
    avx2 = /\bavx2\b/.test(info);
    zen4 = avx512 && /vendor_id\s*:\s*AuthenticAMD/.test(info) && /cpu family\s*:\s*25\b/.test(info);
  } catch {
    /* not Linux */
  }
  if (mhz === 0) mhz = (os.cpus()[0]?.speed ?? 0) || 2500;
  const lanes = avx512 && !zen4 ? 16 : avx2 ? 8 : 4;
  const perCycle = 2 /* FMA pipes */ * lanes * 2; /* multiply + add */
  const gflops = threads * (mhz / 1000) * perCycle;
  return {
    gflops,
    assumption:
      `${threads} core(s) x ${(mhz / 1000).toFixed(2)} GHz x ${perCycle} FLOP/cycle ` +
      `(2 FMA pipes x ${lanes} float lanes${zen4 ? ', AVX-512 on 256-bit pipes (Zen 4)' : avx512 ? ', AVX-512' : avx2 ? ', AVX2' : ''})`,
  };
}

/** Element-wise kernels on the conv's output size (2.1M floats): the training step's glue. */
async function elementwise(native: boolean): Promise<void> {
  console.log(`\nElement-wise on ${N}x${H}x${W}x${OC} (${((N * H * W * OC) / 1e6).toFixed(1)}M floats), best of 10, ms:`);
  const ops: [string, (x: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['relu', (x) => tf.relu(x)],
    ['sigmoid', (x) => tf.sigmoid(x)],
    ['add bias', (x, b) => tf.add(x, b)],
  ];
  const backends = [...(native ? ['einnet-native'] : []), 'wasm', 'cpu'];
  console.log(`  ${''.padEnd(10)} ${backends.map((b) => b.padStart(14)).join('')}`);
  const results: Record<string, number[]> = {};
  for (const backend of backends) {
    await tf.setBackend(backend);
    const x = tf.randomUniform([N, H, W, OC], -1, 1, 'float32', 6);
    const b = tf.randomUniform([OC], -1, 1, 'float32', 7);
    for (const [name, f] of ops) {
      const times: number[] = [];
      for (let i = 0; i < 12; i++) {
        const t0 = performance.now();
        const y = f(x, b); // synchronous on these backends; not read back (see time())
        if (i >= 2) times.push(performance.now() - t0);
        y.dispose();
      }
      (results[name] ??= []).push(Math.min(...times));
    }
    tf.dispose([x, b]);
  }
  for (const [name] of ops) console.log(`  ${name.padEnd(10)} ${results[name].map((t) => t.toFixed(2).padStart(14)).join('')}`);
}

const CPU_LIMIT_MS = 10_000;

/** Each pass on tfjs' cpu backend in its own process, stopped after CPU_LIMIT_MS (plus start-up). */
function measureCpuInChildren(): Row[] {
  const rows: Row[] = [];
  for (const pass of PASSES) {
    const run = spawnSync(process.execPath, [...process.execArgv, __filename, '--cpu-pass', pass], {
      encoding: 'utf8',
      timeout: CPU_LIMIT_MS + 5_000, // tfjs takes a few seconds to load
      env: { ...process.env, EINNET_BENCH_CHILD: '1' },
    });
    const ms = Number(/^ms (\S+)$/m.exec(run.stdout ?? '')?.[1]);
    if (run.status !== 0 || !Number.isFinite(ms) || ms > CPU_LIMIT_MS) {
      process.stdout.write(`  ${'cpu (JS)'.padEnd(10)} ${pass.padEnd(16)}   skipped: over ${CPU_LIMIT_MS / 1000} s\n`);
      continue;
    }
    rows.push({ backend: 'cpu (JS)', pass, ms, gflops: CONV_FLOP / ms / 1e6 });
    printRow('cpu (JS)', pass, ms, 'one run');
  }
  return rows;
}

/** The child side of measureCpuInChildren: one run of one pass, printed as `ms <time>`. */
async function cpuChild(pass: Pass): Promise<void> {
  await tf.setBackend('cpu');
  const o = makeOperands();
  const [ms] = time(pass, o, 0, 1);
  process.stdout.write(`ms ${ms}\n`);
}

async function main(): Promise<void> {
  const child = process.argv.indexOf('--cpu-pass');
  if (child >= 0) return cpuChild(process.argv[child + 1] as Pass);
  if (process.env.EINNET_BENCH_KERNELS === '0') {
    if (findAddon() !== undefined) await trainingSteps();
    else console.log('  native: addon not built (apt-get install libdnnl-dev && npm run build:native) — skipped');
    return;
  }
  const threads = os.availableParallelism();
  console.log(`einnet native kernels benchmark — conv ${K}x${K}, NHWC ${N}x${H}x${W}x${C} -> ${OC}, stride 1, 'same'`);
  console.log(`  ${(CONV_FLOP / 1e9).toFixed(3)} GFLOP per pass; ${threads} core(s); ${os.cpus()[0]?.model ?? 'unknown CPU'}`);
  // Other work on the machine shows up as slower, noisier runs: say how busy it was.
  console.log(
    `  load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')}\n`,
  );
  const rows: Row[] = [];
  let gemm: number | undefined;
  if (findAddon() !== undefined) {
    registerNativeBackend();
    for (const t of threads > 1 ? [1, threads] : [1]) {
      setNativeThreads(t);
      rows.push(...(await measureBackend(`native ${t}T`, 'einnet-native', 3, 15)));
    }
    for (const t of threads > 1 ? [1, threads] : [1]) rows.push(...kernelOnly(t, 'direct'), ...kernelOnly(t, 'Winograd'));
    await tf.setBackend('einnet-native');
    setNativeThreads(threads);
    gemm = gemmGflops();
  } else {
    console.log('  native: addon not built (apt-get install libdnnl-dev && npm run build:native) — skipped');
  }
  rows.push(...(await measureBackend('wasm', 'wasm', 1, 3)));
  if (process.env.EINNET_BENCH_CPU !== '0') rows.push(...measureCpuInChildren());

  const best = (label: string, pass: Pass) => rows.find((r) => r.backend === label && r.pass === pass);
  const nativeLabel = `native ${threads > 1 ? threads : 1}T`;
  console.log('\nRatios (time of the other backend / native, same pass):');
  for (const pass of PASSES) {
    const n = best(nativeLabel, pass);
    if (n === undefined) continue;
    const parts = rows
      .filter((r) => r.pass === pass && r.backend !== nativeLabel && !r.backend.startsWith('oneDNN'))
      .map((r) => `${r.backend} ${(r.ms / n.ms).toFixed(1)}x`);
    console.log(`  ${pass.padEnd(16)} ${nativeLabel}: ${n.ms.toFixed(1)} ms; ${parts.join(', ')}`);
  }

  const peak = theoreticalPeak(threads);
  console.log("\nAgainst the machine's peak:");
  console.log(`  theoretical: ${peak.gflops.toFixed(0)} GFLOP/s = ${peak.assumption} (nominal clock; boost can exceed it)`);
  if (gemm !== undefined) console.log(`  practical:   ${gemm.toFixed(0)} GFLOP/s = best oneDNN sgemm 2048^3 on ${threads} thread(s)`);
  for (const algorithm of ['direct', 'Winograd'] as const) {
    const label = kernelLabel(threads > 1 ? threads : 1, algorithm);
    if (algorithm === 'Winograd' && best(label, 'forward') !== undefined) {
      console.log("  Winograd (W, einnet's default for this layer; GFLOP/s of the direct algorithm's count, effective):");
    }
    for (const pass of PASSES) {
      const n = best(label, pass);
      if (n === undefined) continue;
      const ofGemm = gemm !== undefined ? `, ${((100 * n.gflops) / gemm).toFixed(0)}% of GEMM` : '';
      console.log(
        `  ${pass.padEnd(16)} ${n.gflops.toFixed(0)} GFLOP/s (kernel only, ${label}) = ${((100 * n.gflops) / peak.gflops).toFixed(0)}% of theoretical${ofGemm}`,
      );
    }
  }
  await elementwise(findAddon() !== undefined);
  if (findAddon() !== undefined) await trainingSteps();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
