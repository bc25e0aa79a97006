/**
 * `npm run bench:fit`: einnet's `fit` against the plain PyTorch loop, side by side — the loop users
 * actually run, evaluation included:
 *
 * - LeNet-5 (relu, max pooling) on MNIST, Adam 2e-3, batch 64: one epoch of 300 steps over 19,200
 *   training images, then the accuracy on 2,000 test images;
 * - ResNet-20 on CIFAR-10 when it is on the machine, else Fashion-MNIST padded to 32×32×3 (a
 *   stand-in, NOT CIFAR), SGD 0.05 with momentum 0.9 and weight decay 5e-4, batch 32: 100 steps over
 *   3,200 images, then the accuracy on 1,000 test images.
 *
 * Each contender is a server process that keeps its data (this file with `--serve`, and
 * bench/torch_fit.py with the very bytes einnet trains on); each request trains a fresh model from
 * scratch and reports milliseconds per step (the whole run — batches, steps, evaluation — divided
 * by the steps), the time and the accuracy. The servers alternate rounds, each with a round of
 * warm-up first that is not counted, so that both see the same machine. Prints the median per
 * step of each, the ratio (target einnet ≤ 1.0× PyTorch) and the accuracies.
 *
 * `--against=DIR` adds another einnet checkout's `fit` (DIR/bench/fit.ts, e.g. the main branch) as
 * a third contender in the same alternating rounds, and prints this checkout's time over that one's
 * per round; `--without-torch` leaves PyTorch out. Each result also shows the server process's CPU
 * time per step (from /proc, on Linux), which the machine's load disturbs less than wall time.
 *
 *   npm run bench:fit                          # native backend (or EINNET_BACKEND), 5 rounds
 *   npm run bench:fit -- --rounds=3 --only=lenet5
 *   EINNET_BACKEND=wasm npm run bench:fit -- --only=lenet5 --against=/path/to/main --without-torch
 *   npm run bench:fit -- --breakdown [--cpu]    # where a LeNet-5 fit step's time goes (--cpu: CPU time)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { LineServer } from './line-server';
import * as tf from '@tensorflow/tfjs';
import { backendFromEnvironment, useBackend } from '../backends/select';
import { defaultThreads, setNativeThreads, threadsFromEnvironment } from '../backends/native';
import { openMnist } from '../datasets/mnist';
import { openCifar10 } from '../datasets/cifar';
import { openFashionMnistAsCifar } from '../datasets/cifar-fallback';
import type { ImageSet } from '../datasets/image-set';
import { lenet5, resnetCifar } from '../models/architectures';
import { adam, sgd } from '../models/optimizers';
import { evaluate, fit } from '../models/train';
import { applyGradients, computeGradients, disposeComputed } from '../models/training/step';
import { batchesOf } from '../models/training/batches';
import { softmaxCrossEntropy } from '../models/losses';

type Net = 'lenet5' | 'resnet20';

interface RunResult {
  readonly ms_per_step: number;
  readonly accuracy: number;
  readonly seconds: number;
  readonly steps: number;
  /** The server process's CPU time per step (all threads), where /proc tells it; added by the driver. */
  readonly cpu_ms_per_step?: number;
}

/** The data of a network: training and test images, and what they are. */
function dataOf(net: Net): { train: ImageSet; test: ImageSet; what: string } {
  if (net === 'lenet5') return { train: openMnist({ split: 'train' }).slice(0, 300 * 64), test: openMnist({ split: 'test' }).slice(0, 2000), what: 'MNIST' };
  try {
    return { train: openCifar10({ split: 'train' }).slice(0, 100 * 32), test: openCifar10({ split: 'test' }).slice(0, 1000), what: 'CIFAR-10' };
  } catch {
    return {
      train: openFashionMnistAsCifar({ split: 'train' }).slice(0, 100 * 32),
      test: openFashionMnistAsCifar({ split: 'test' }).slice(0, 1000),
      what: 'Fashion-MNIST padded to 32x32x3 (CIFAR-10 is not on this machine)',
    };
  }
}

/** One einnet run: a fresh model, `fit` for one epoch with the test set as validation. */
async function einnetRun(net: Net, data: { train: ImageSet; test: ImageSet }, seed: number): Promise<RunResult> {
  const model = net === 'lenet5' ? lenet5({ seed, activation: 'relu', pooling: 'max' }) : resnetCifar({ depth: 20, seed });
  const optimizer = net === 'lenet5' ? adam({ learningRate: 2e-3 }) : sgd({ learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const history = await fit(model, data.train, {
    epochs: 1,
    batchSize: net === 'lenet5' ? 64 : 32,
    optimizer,
    validation: data.test,
    shuffle: seed,
    progress: false,
  });
  const seconds = (performance.now() - t0) / 1000;
  const steps = history.epochs[0].batches;
  optimizer.dispose();
  model.dispose();
  if (tf.memory().numTensors > before) throw new Error(`fit left ${tf.memory().numTensors - before} tensors behind`);
  return { ms_per_step: (1000 * seconds) / steps, accuracy: history.epochs[0].accuracy!, seconds, steps };
}

async function serve(): Promise<void> {
  const info = await useBackend(backendFromEnvironment() ?? 'native');
  const threads = threadsFromEnvironment() ?? defaultThreads();
  if (info.name === 'native') setNativeThreads(threads);
  console.log(JSON.stringify({ einnet: info.name }));
  const data = new Map<Net, { train: ImageSet; test: ImageSet }>();
  let seed = 1;
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const net = line.trim() as Net;
    if (net !== 'lenet5' && net !== 'resnet20') break;
    if (!data.has(net)) data.set(net, dataOf(net));
    console.log(JSON.stringify(await einnetRun(net, data.get(net)!, seed++)));
  }
}

/** Writes the bytes of each network's data for PyTorch: `<net>-<split>-{x.u8,y.i32,shape.json}`. */
function writeData(dir: string, nets: readonly Net[]): Map<Net, string> {
  const what = new Map<Net, string>();
  for (const net of nets) {
    const d = dataOf(net);
    what.set(net, d.what);
    for (const [split, set] of [
      ['train', d.train],
      ['test', d.test],
    ] as const) {
      const base = path.join(dir, `${net}-${split}`);
      writeFileSync(`${base}-x.u8`, set.pixels);
      writeFileSync(`${base}-y.i32`, new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength));
      writeFileSync(`${base}-shape.json`, JSON.stringify([set.count, set.height, set.width, set.channels]));
    }
  }
  return what;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // Five: an einnet process's first counted round is still slower than its later ones (docs/performance.md).
  const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? '') || 5;
  const only = args.find((a) => a.startsWith('--only='))?.slice(7);
  const nets = (['lenet5', 'resnet20'] as const).filter((n) => only === undefined || only === n);
  const against = args.find((a) => a.startsWith('--against='))?.slice(10);
  const withTorch = !args.includes('--without-torch');
  const threads = threadsFromEnvironment() ?? defaultThreads();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'einnet-bench-fit-'));
  try {
    const what = writeData(dir, nets);
    const einnet = await LineServer.start([[process.execPath, ...process.execArgv, __filename, '--serve']]);
    if (typeof einnet === 'string') throw new Error(`einnet's server did not start: ${einnet}`);
    const script = path.join(__dirname, 'torch_fit.py');
    const pythons = [process.env.EINNET_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => p !== undefined && p !== '');
    const torch = withTorch ? await LineServer.start(pythons.map((p) => [p, script, String(threads), dir])) : 'left out (--without-torch)';
    const other =
      against === undefined
        ? undefined
        : await LineServer.start([[process.execPath, ...process.execArgv, path.join(path.resolve(against), 'bench', 'fit.ts'), '--serve']]);
    if (typeof other === 'string') throw new Error(`the einnet server of ${against} did not start: ${other}`);
    const load = os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ');
    console.log(`# fit against a plain PyTorch loop — einnet on ${einnet.hello.einnet}, ${threads} thread(s), ${rounds} alternating rounds; load ${load}`);
    if (typeof torch === 'string') console.log(`PyTorch skipped: ${torch}`);
    else console.log(`PyTorch ${torch.hello.torch} on ${threads} thread(s)`);
    if (other !== undefined) console.log(`against the einnet of ${against} on ${other.hello.einnet}`);
    for (const net of nets) {
      const servers = [einnet, ...(typeof torch === 'string' ? [] : [torch]), ...(other === undefined ? [] : [other])];
      const names = ['einnet', ...(typeof torch === 'string' ? [] : ['PyTorch']), ...(other === undefined ? [] : ['against'])];
      for (const s of servers) await s.request<RunResult>(net); // warm-up, not counted
      const results = servers.map((): RunResult[] => []);
      for (let r = 0; r < rounds; r++) {
        for (let j = 0; j < servers.length; j++) {
          const k = (r + j) % servers.length;
          await new Promise((resolve) => setTimeout(resolve, 50)); // let the other's threads stop spinning
          const cpu0 = servers[k].cpuMs();
          const result = await servers[k].request<RunResult>(net);
          const cpu1 = servers[k].cpuMs();
          results[k].push(cpu0 === undefined || cpu1 === undefined ? result : { ...result, cpu_ms_per_step: (cpu1 - cpu0) / result.steps });
        }
      }
      const label = net === 'lenet5' ? 'LeNet-5, Adam, batch 64' : 'ResNet-20, SGD momentum + wd, batch 32';
      console.log(`\n## ${label}: ${results[0][0].steps} steps on ${what.get(net)}, then evaluation`);
      const row = (name: string, rs: RunResult[]) =>
        `  ${name.padEnd(8)} ${median(rs.map((x) => x.ms_per_step))
          .toFixed(2)
          .padStart(7)} ms/step   rounds ${rs.map((x) => x.ms_per_step.toFixed(2)).join(' ')}` +
        (rs[0].cpu_ms_per_step === undefined ? '' : `   CPU ms/step ${rs.map((x) => x.cpu_ms_per_step!.toFixed(1)).join(' ')}`) +
        `   accuracy ${rs.map((x) => (100 * x.accuracy).toFixed(1) + '%').join(' ')}`;
      names.forEach((name, k) => console.log(row(name, results[k])));
      const ratio = (name: string, k: number, target: string) => {
        const ratios = results[0].map((x, r) => x.ms_per_step / results[k][r].ms_per_step);
        console.log(
          `  einnet/${name} ${(median(results[0].map((x) => x.ms_per_step)) / median(results[k].map((x) => x.ms_per_step))).toFixed(2)}x ` +
            `(per round ${ratios.map((x) => x.toFixed(2)).join(' ')}${target})`,
        );
      };
      if (names.includes('PyTorch')) ratio('PyTorch', names.indexOf('PyTorch'), '; target ≤ 1.0x');
      if (names.includes('against')) {
        const k = names.indexOf('against');
        ratio('against', k, '');
        if (results[0][0].cpu_ms_per_step !== undefined && results[k][0].cpu_ms_per_step !== undefined) {
          const cpuRatios = results[0].map((x, r) => x.cpu_ms_per_step! / results[k][r].cpu_ms_per_step!);
          console.log(`  einnet/against in CPU time: per round ${cpuRatios.map((x) => x.toFixed(2)).join(' ')}`);
        }
      }
    }
    einnet.close();
    if (typeof torch !== 'string') torch.close();
    other?.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `--breakdown`: where a LeNet-5 fit step's time goes, in this process — batch assembly, forward +
 * backward, the optimizer update, the evaluation, and what the loop adds around them.
 */
async function breakdown(): Promise<void> {
  const info = await useBackend(backendFromEnvironment() ?? 'native');
  const threads = threadsFromEnvironment() ?? defaultThreads();
  if (info.name === 'native') setNativeThreads(threads);
  const { train, test } = dataOf('lenet5');
  // --cpu: the process's CPU time (all threads), which the machine's load disturbs less.
  const cpu = process.argv.includes('--cpu');
  const clock = cpu
    ? () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      }
    : () => performance.now();
  const time = async (f: () => unknown): Promise<number> => {
    const t0 = clock();
    await f();
    return clock() - t0;
  };
  console.log(
    `# LeNet-5 fit step breakdown on ${info.name}, ${threads} thread(s), ${cpu ? 'CPU ' : ''}ms per step (300 steps); ` + `load ${os.loadavg()[0].toFixed(1)}`,
  );
  for (let round = 0; round < 3; round++) {
    const model = lenet5({ seed: 1, activation: 'relu', pooling: 'max' });
    const optimizer = adam({ learningRate: 2e-3 });
    const input = model.inputNames[0];
    let tBatch = 0;
    let tGrad = 0;
    let tApply = 0;
    const tLoop = await time(() => {
      for (const b of batchesOf(train, 64, false)) {
        const t0 = clock();
        const c = computeGradients(model, b.x, b.y, { input, lossFn: softmaxCrossEntropy, keepOutputs: false, countCorrect: false });
        const t1 = clock();
        applyGradients(model, optimizer, c);
        const t2 = clock();
        disposeComputed(c);
        b.dispose();
        tGrad += t1 - t0;
        tApply += t2 - t1;
      }
    });
    tBatch = await time(() => {
      for (const b of batchesOf(train, 64, false)) b.dispose();
    });
    const tEval = await time(() => evaluate(model, test));
    const tFit = await time(() => fit(model, train, { epochs: 1, batchSize: 64, optimizer, validation: test, progress: false }));
    console.log(
      `  round ${round + 1}: batches ${(tBatch / 300).toFixed(2)}  forward+backward ${(tGrad / 300).toFixed(2)}  update ${(tApply / 300).toFixed(2)}  ` +
        `bare loop ${(tLoop / 300).toFixed(2)}  evaluation (2,000) ${(tEval / 300).toFixed(2)}  fit with evaluation ${(tFit / 300).toFixed(2)}`,
    );
    optimizer.dispose();
    model.dispose();
  }
}

if (process.argv.includes('--breakdown')) {
  breakdown().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
} else if (process.argv.includes('--serve')) {
  serve().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
} else {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
