/**
 * Training benchmark, on the backend `EINNET_BACKEND` names (default wasm):
 *
 * 1. One training step (forward, backward, SGD update) of LeNet-5 at batch 64 and ResNet-20 at
 *    batch 32: einnet's time, and the ratio to the same network written with tfjs-layers
 *    (target ≤ 1.0). Median of several steps after warm-up. tfjs' wasm backend has no
 *    Conv2DBackpropFilter kernel, so tfjs-layers cannot train these nets on wasm (einnet derives
 *    its conv gradients in the notation and can); the ratio is also measured on the cpu backend.
 * 2. Memory: tf.memory().numTensors before and after 1000 LeNet-5 training steps (must be equal).
 * 3. ResNet-20 on real images (Fashion-MNIST padded to 32×32×3): 150 steps, loss and accuracy.
 * 4. Accuracy: LeNet-5, 3 epochs on the 60,000 MNIST / Fashion-MNIST training images, accuracy
 *    on the 10,000 test images (targets ≥ 98.5% and ≥ 88%), with the time it took.
 *
 *   npm run bench:train                  # everything (about 15 minutes on 2 cores)
 *   EINNET_BACKEND=native npm run bench:train
 *   npm run bench:train -- --quick       # fewer steps, 1 epoch on 5,000 images
 *   npm run bench:train -- --only=steps|memory|resnet|accuracy [--no-cpu]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { openFashionMnist, openMnist } from '../datasets/mnist';
import type { ImageSet } from '../datasets/image-set';
import { lenet5, resnetCifar } from '../models/architectures';
import { adam, sgd } from '../models/optimizers';
import { linear } from '../models/schedules';
import { evaluate, fit, formatHistory, trainStep } from '../models/train';
import { openFashionMnistAsCifar } from '../datasets/cifar-fallback';
import type { Model } from '../models/model';
import { backendFromEnvironment, setSharedSavedTensors, useBackend } from '../backends/select';
import { handModels } from './hand-models';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const want = (part: string) => only === undefined || only === part;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median milliseconds of `step()` over `runs` calls after `warm` unmeasured ones. */
function timeSteps(step: () => void, warm: number, runs: number): number {
  for (let k = 0; k < warm; k++) step();
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  return median(times);
}

// ---------------------------------------------------------------------------------------------
// The same networks in tfjs-layers.

const { lenetLayers, resnet20Layers } = handModels(tf);

function layersStep(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, opt: tf.Optimizer): () => void {
  return () => {
    const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
    loss!.dataSync();
    loss!.dispose();
  };
}

function einnetStep(model: Model, x: tf.Tensor, labels: tf.Tensor): () => void {
  const opt = sgd({ learningRate: 0.01, momentum: 0.9 });
  return () => void trainStep(model, opt, x, labels);
}

/** Median ms of a tfjs-layers step, or why it cannot run on this backend. */
function tryLayers(step: () => void, warm: number, runs: number): number | string {
  try {
    return timeSteps(step, warm, runs);
  } catch (e) {
    return (e as Error).message;
  }
}

function ratioText(ein: number, layers: number | string): string {
  return typeof layers === 'number' ? `tfjs-layers ${layers.toFixed(1)} ms   ratio ${(ein / layers).toFixed(2)}` : `tfjs-layers cannot train here: ${layers}`;
}

async function benchSteps(backend: string): Promise<void> {
  await tf.setBackend(backend);
  console.log(`\n## One training step (forward + backward + SGD), ${backend} backend, median ms`);
  const runs = quick ? 5 : backend === 'cpu' ? 5 : 20;
  const rows: string[] = [];
  {
    const x = tf.randomNormal([64, 28, 28, 1], 0, 1, 'float32', 1);
    const labels = tf.tensor1d(
      Array.from({ length: 64 }, (_, k) => k % 10),
      'int32',
    );
    const oneHot = tf.oneHot(labels, 10).cast('float32');
    const ein = lenet5({ seed: 1 });
    const tEin = timeSteps(einnetStep(ein, x, labels), 3, runs);
    const lay = lenetLayers();
    const tLay = tryLayers(layersStep(lay, x, oneHot, tf.train.sgd(0.01)), 3, runs);
    rows.push(`LeNet-5   batch 64   einnet ${tEin.toFixed(1)} ms   ${ratioText(tEin, tLay)}`);
    ein.dispose();
    lay.dispose();
    tf.dispose([x, labels, oneHot]);
  }
  if (backend === 'cpu') {
    // tfjs' pure-JS convolution backprop makes a ResNet-20 step take minutes on cpu.
    for (const r of rows) console.log(r);
    console.log('ResNet-20 batch 32   skipped on cpu (tfjs-layers takes minutes per step here)');
    return;
  }
  {
    const x = tf.randomNormal([32, 32, 32, 3], 0, 1, 'float32', 2);
    const labels = tf.tensor1d(
      Array.from({ length: 32 }, (_, k) => k % 10),
      'int32',
    );
    const oneHot = tf.oneHot(labels, 10).cast('float32');
    const ein = resnetCifar({ depth: 20, seed: 1 });
    const resRuns = backend === 'cpu' ? 2 : Math.max(3, runs / 4);
    const tEin = timeSteps(einnetStep(ein, x, labels), 1, resRuns);
    const lay = resnet20Layers();
    const tLay = tryLayers(layersStep(lay, x, oneHot, tf.train.sgd(0.01)), 1, resRuns);
    rows.push(
      `ResNet-20 batch 32   einnet ${tEin.toFixed(1)} ms   ${ratioText(tEin, tLay)}   ` +
        `(params: einnet ${ein.parameterCount}, layers ${lay.countParams()} incl. running stats)`,
    );
    ein.dispose();
    lay.dispose();
    tf.dispose([x, labels, oneHot]);
  }
  for (const r of rows) console.log(r);
}

async function benchMemory(): Promise<void> {
  const steps = quick ? 100 : 1000;
  console.log(`\n## Memory: numTensors across ${steps} LeNet-5 training steps (batch 64)`);
  const x = tf.randomNormal([64, 28, 28, 1], 0, 1, 'float32', 3);
  const labels = tf.tensor1d(
    Array.from({ length: 64 }, (_, k) => k % 10),
    'int32',
  );
  const model = lenet5({ seed: 1 });
  const opt = sgd({ learningRate: 0.01, momentum: 0.9 });
  trainStep(model, opt, x, labels);
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  for (let k = 0; k < steps; k++) trainStep(model, opt, x, labels);
  const after = tf.memory().numTensors;
  console.log(
    `numTensors before ${before}, after ${after}: ${before === after ? 'unchanged' : `CHANGED by ${after - before}`} ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  model.dispose();
  opt.dispose();
  tf.dispose([x, labels]);
}

async function benchAccuracy(name: string, open: (split: 'train' | 'test') => ImageSet, target: number): Promise<void> {
  let train = open('train');
  let test = open('test');
  const epochs = quick ? 1 : 3;
  if (quick) {
    train = train.slice(0, 5000);
    test = test.slice(0, 2000);
  }
  console.log(`\n## LeNet-5 on ${name}: ${epochs} epoch(s) on ${train.count} images, accuracy on ${test.count} test images`);
  const model = lenet5({ seed: 1, activation: 'relu', pooling: 'max' });
  const t0 = performance.now();
  // Adam with the learning rate ramped down linearly (np.linspace-style, like the common AdjustVariable callback): 2e-3 → 2e-4.
  const history = await fit(model, train, {
    epochs,
    batchSize: 64,
    optimizer: adam({ learningRate: 2e-3 }),
    schedules: { learningRate: linear(2e-3, 2e-4, epochs) },
    validation: test,
    shuffle: 1,
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(formatHistory(history));
  const acc = history.epochs[history.epochs.length - 1].accuracy!;
  console.log(
    `${name}: test accuracy ${(100 * acc).toFixed(2)}% (target ${(100 * target).toFixed(1)}%: ${acc >= target ? 'met' : 'NOT met'}) in ${seconds.toFixed(1)} s`,
  );
  model.dispose();
}

/** ResNet-20 on real images (Fashion-MNIST padded to 32×32×3 — not CIFAR): does the loss fall? */
async function benchResnetRealData(): Promise<void> {
  const steps = quick ? 20 : 150;
  const train = openFashionMnistAsCifar({ split: 'train' }).slice(0, steps * 32);
  console.log(`\n## ResNet-20 on Fashion-MNIST padded to 32×32×3 (not CIFAR): ${steps} steps of batch 32, SGD momentum 0.9`);
  const model = resnetCifar({ depth: 20, seed: 1 });
  const losses: number[] = [];
  const t0 = performance.now();
  await fit(model, train, {
    epochs: 1,
    batchSize: 32,
    optimizer: sgd({ learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4 }),
    onBatchEnd: (b) => void losses.push(b.loss),
  });
  const seconds = (performance.now() - t0) / 1000;
  const k = Math.max(1, Math.floor(steps / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const test = openFashionMnistAsCifar({ split: 'test' }).slice(0, 1000);
  const acc = (await evaluate(model, test)).accuracy!;
  console.log(
    `mean loss of the first ${k} steps ${mean(losses.slice(0, k)).toFixed(4)}, of the last ${k} steps ${mean(losses.slice(-k)).toFixed(4)}; ` +
      `accuracy on 1,000 test images ${(100 * acc).toFixed(2)}%; ${seconds.toFixed(1)} s (${((1000 * seconds) / steps).toFixed(0)} ms/step)`,
  );
  model.dispose();
}

async function main(): Promise<void> {
  // This benchmark switches backends with tf.setBackend, which installs nothing: share saved
  // tensors as useBackend does, for einnet and tfjs-layers alike.
  setSharedSavedTensors(true);
  await useBackend(backendFromEnvironment() ?? 'wasm');
  await tf.ready();
  const backend = tf.getBackend();
  console.log(`# einnet training benchmark — backend ${backend}${quick ? ' (quick)' : ''}`);
  if (want('steps')) {
    // tfjs' wasm backend has no Conv2DBackpropFilter kernel, so tfjs-layers cannot train a conv
    // net there; the cpu backend gives the like-for-like ratio.
    await benchSteps(backend);
    if (!args.includes('--no-cpu') && backend !== 'cpu') await benchSteps('cpu');
    await tf.setBackend(backend);
  }
  if (want('memory')) await benchMemory();
  if (want('resnet')) await benchResnetRealData();
  if (want('accuracy')) {
    await benchAccuracy('MNIST', (split) => openMnist({ split }), 0.985);
    await benchAccuracy('Fashion-MNIST', (split) => openFashionMnist({ split }), 0.88);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
