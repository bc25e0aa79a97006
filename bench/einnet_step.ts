/**
 * einnet's side of the training-step benchmark, as a server process like bench/torch_step.py:
 *
 *   tsx bench/einnet_step.ts BACKEND THREADS --serve
 *
 * prints {"einnet": backend} and then answers each line `lenet5 N` / `resnet20 N` on stdin with {"times": [N step times in ms]}, until `quit` or end of input. The
 * model, data and optimizer persist between requests; the first request of a network runs the
 * warm-up first (V8's optimizing compiler needs a few hundred steps to reach the steady state a
 * training run spends its time in). A step that leaks a tensor ends the server with a message.
 *
 * In its own process einnet's measured steps share neither heap nor threads with the benchmark's
 * other sections, exactly as PyTorch's do not.
 */
import * as readline from 'readline';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../backends/select';
import { setNativeThreads } from '../backends/native';
import { lenet5, resnetCifar } from '../models/architectures';
import type { Model } from '../models/model';
import { sgd, type Optimizer } from '../models/optimizers';
import { trainStep } from '../models/train';

export type Net = 'lenet5' | 'resnet20';

/** Warm-up steps per network on the native backend (about four seconds each). */
const WARMUP: Record<Net, number> = { lenet5: 1000, resnet20: 100 };

/** An einnet network with its data and optimizer; `run(n)` times n training steps. */
export class EinnetStepper {
  private readonly opt: Optimizer = sgd({ learningRate: 0.01, momentum: 0.9 });
  private readonly x: tf.Tensor;
  private readonly labels: tf.Tensor;
  private readonly model: Model;

  constructor(net: Net, warmup: number) {
    const [batch, shape] = net === 'lenet5' ? [64, [28, 28, 1]] : [32, [32, 32, 3]];
    this.x = tf.randomNormal([batch, ...shape], 0, 1, 'float32', 1);
    this.labels = tf.tensor1d(
      Array.from({ length: batch }, (_, k) => k % 10),
      'int32',
    );
    this.model = net === 'lenet5' ? lenet5({ seed: 1 }) : resnetCifar({ depth: 20, seed: 1 });
    for (let k = 0; k < warmup; k++) trainStep(this.model, this.opt, this.x, this.labels);
  }

  run(steps: number): number[] {
    const before = tf.memory().numTensors;
    const times: number[] = [];
    for (let k = 0; k < steps; k++) {
      const t0 = performance.now();
      trainStep(this.model, this.opt, this.x, this.labels);
      times.push(performance.now() - t0);
    }
    if (tf.memory().numTensors !== before) throw new Error(`training steps leaked ${tf.memory().numTensors - before} tensors`);
    return times;
  }

  dispose(): void {
    this.model.dispose();
    this.opt.dispose();
    tf.dispose([this.x, this.labels]);
  }
}

async function serve(backend: BackendName, threads: number): Promise<void> {
  await useBackend(backend);
  if (backend === 'native') setNativeThreads(threads);
  console.log(JSON.stringify({ einnet: backend }));
  const steppers = new Map<Net, EinnetStepper>();
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [name, count] = line.trim().split(/\s+/);
    if (name === undefined || name === '' || name === 'quit') break;
    if (name !== 'lenet5' && name !== 'resnet20') throw new Error(`unknown network '${name}' (lenet5 or resnet20)`);
    let stepper = steppers.get(name);
    if (stepper === undefined) steppers.set(name, (stepper = new EinnetStepper(name, backend === 'native' ? WARMUP[name] : 3)));
    console.log(JSON.stringify({ times: stepper.run(Number(count)) }));
  }
  for (const s of steppers.values()) s.dispose();
}

if (require.main === module) {
  const [backend, threads, mode] = process.argv.slice(2);
  if (mode !== '--serve') {
    process.stderr.write('usage: bench/einnet_step.ts BACKEND THREADS --serve\n');
    process.exit(2);
  }
  serve(backend as BackendName, Number(threads)).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
