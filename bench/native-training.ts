/**
 * Training-step section of `npm run bench:native` (issue 7, item 4): one step (forward, backward,
 * SGD with momentum) of LeNet-5 at batch 64 on 28x28x1 and ResNet-20 at batch 32 on 32x32x3,
 * einnet's models on the native backend and on wasm, and the same networks in PyTorch
 * (bench/torch_step.py, same thread count) when `python3 -c 'import torch'` works.
 *
 * Each contender is a server process that keeps its models (bench/einnet_step.ts,
 * bench/torch_step.py), and they run in alternating rounds of 50 (ResNet-20) or 150 (LeNet-5)
 * steps, so that all see the same machine: on a shared 2-core machine the speed of any of them
 * drifts by ±20 % within a minute. A round lasts about two seconds, a stretch of training rather
 * than a burst (V8's collector works in the pauses between an einnet server's rounds, which a
 * training run does not have). Each server gets a round of warm-up that is not counted, and
 * einnet's server warms up further on its first request (V8's optimizing compiler takes some
 * hundred steps to reach the steady state of a training run).
 * Prints the median step time of each over all rounds, with the 25th–75th percentile, and the
 * ratio of the medians; target: einnet-native ≤ 1.0x.
 *
 *   EINNET_BENCH_TRAIN=0        skip this section
 *   EINNET_BENCH_ROUNDS=n       rounds per network (default 6)
 *   EINNET_BENCH_NETS=resnet20  only these networks (comma-separated: lenet5, resnet20)
 *   EINNET_BENCH_WASM=0         skip the einnet-wasm column (a ResNet-20 step takes seconds there)
 */
import * as os from 'os';
import * as path from 'path';
import { LineServer } from './line-server';
import { useBackend, type BackendName } from '../backends/select';
import { defaultThreads, threadsFromEnvironment } from '../backends/native';
import { EinnetStepper, type Net } from './einnet_step';

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** PyTorch's server: `python3` on PATH may be another interpreter (pyenv, venv) than Debian's. */
function torchCommands(threads: number): string[][] {
  const script = path.join(__dirname, 'torch_step.py');
  const pythons = [process.env.EINNET_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => p !== undefined && p !== '');
  return pythons.map((python) => [python, script, String(threads), '--serve']);
}

/** einnet's server on the native backend (this process' Node and loader, e.g. tsx). */
function einnetCommand(threads: number): string[] {
  const script = path.join(__dirname, `einnet_step${path.extname(__filename)}`);
  return [process.execPath, ...process.execArgv, script, 'native', String(threads), '--serve'];
}

/** Median einnet step times on `backend` with `steps` steps (the wasm column). */
async function einnetOnly(backend: BackendName, net: Net, steps: number): Promise<number> {
  await useBackend(backend);
  const s = new EinnetStepper(net, 3);
  const t = quantile(s.run(steps), 0.5);
  s.dispose();
  return t;
}

/** Prints the training-step table. */
export async function trainingSteps(): Promise<void> {
  if (process.env.EINNET_BENCH_TRAIN === '0') return;
  const threads = threadsFromEnvironment() ?? defaultThreads();
  const rounds = Number(process.env.EINNET_BENCH_ROUNDS ?? '') || 6;
  const einnet = await LineServer.start([einnetCommand(threads)]);
  const torch = await LineServer.start(torchCommands(threads));
  console.log(
    `\nTraining step (forward + backward + SGD momentum), ms; ${threads} thread(s); ${rounds} alternating rounds; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')}`,
  );
  if (typeof einnet === 'string') {
    console.log(`  einnet's step server did not start: ${einnet}`);
    if (typeof torch !== 'string') torch.close();
    return;
  }
  const withWasm = process.env.EINNET_BENCH_WASM !== '0';
  console.log(
    `  ${'network'.padEnd(28)} ${'einnet-native (p25–p75)'.padStart(24)} ${'PyTorch (p25–p75)'.padStart(22)}   native/PyTorch` +
      (withWasm ? ` ${'einnet-wasm'.padStart(12)}` : ''),
  );
  // [label, network, steps per round]
  const nets: [string, Net, number][] = [
    ['LeNet-5   batch 64, 28x28x1', 'lenet5', 150],
    ['ResNet-20 batch 32, 32x32x3', 'resnet20', 50],
  ];
  const only = process.env.EINNET_BENCH_NETS?.split(',');
  const chosen = only === undefined ? nets : nets.filter(([, net]) => only.includes(net));
  const cell = (xs: number[]) => `${quantile(xs, 0.5).toFixed(1)} (${quantile(xs, 0.25).toFixed(1)}–${quantile(xs, 0.75).toFixed(1)})`;
  for (const [label, net, perRound] of chosen) {
    const servers = typeof torch === 'string' ? [einnet] : [einnet, torch];
    for (const s of servers) await s.request(`${net} ${perRound}`); // a round of warm-up for each, not counted
    const times = servers.map((): number[] => []);
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first, and let the previous server's OpenMP threads stop spinning
      // (libgomp spins some milliseconds after a parallel region) before the next one starts.
      for (let j = 0; j < servers.length; j++) {
        const k = (r + j) % servers.length;
        await new Promise((resolve) => setTimeout(resolve, 50));
        times[k].push(...(await servers[k].request<{ times: number[] }>(`${net} ${perRound}`)).times);
      }
    }
    const [mine, theirs = []] = times;
    const wasm = withWasm ? ` ${(await einnetOnly('wasm', net, net === 'lenet5' ? 15 : 3)).toFixed(1).padStart(12)}` : '';
    const ratio = theirs.length === 0 ? '—' : `${(quantile(mine, 0.5) / quantile(theirs, 0.5)).toFixed(2)}x`;
    console.log(`  ${label.padEnd(28)} ${cell(mine).padStart(24)} ${(theirs.length ? cell(theirs) : '—').padStart(22)}   ` + `${ratio.padStart(14)}${wasm}`);
  }
  if (typeof torch === 'string') console.log(`  PyTorch: ${torch}`);
  else console.log(`  PyTorch ${torch.hello.torch} on ${threads} thread(s); targets einnet-native ≤ 0.8x PyTorch for LeNet-5, ≤ 0.9x for ResNet-20`);
  for (const s of [einnet, torch]) if (typeof s !== 'string') s.close();
}
