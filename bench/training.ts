/**
 * Training benchmark (issue 5), on the wasm backend:
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
import { setSharedSavedTensors } from '../backends/select';

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

function lenetLayers(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'tanh' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'tanh' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 120, kernelSize: 5, activation: 'tanh' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 84, activation: 'tanh' }));
  m.add(tf.layers.dense({ units: 10 }));
  return m;
}

/** ResNet option A shortcut: every second pixel, channels zero-padded to twice the width. */
class ZeroPadShortcut extends tf.layers.Layer {
  static className = 'ZeroPadShortcut';
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = s as tf.Shape;
    return [shape[0], Math.ceil(shape[1]! / 2), Math.ceil(shape[2]! / 2), 2 * shape[3]!];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [n, h, w, c] = x.shape;
      // Every second pixel via reshape + slice (tfjs has no gradient for strided slices); h, w even.
      const s = x
        .reshape([n, h / 2, 2, w / 2, 2, c])
        .slice([0, 0, 0, 0, 0, 0], [n, h / 2, 1, w / 2, 1, c])
        .reshape([n, h / 2, w / 2, c]);
      return tf.concat([s, tf.zerosLike(s)], 3);
    });
  }
}

function resnet20Layers(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3] });
  const convBn = (x: tf.SymbolicTensor, filters: number, stride: number, relu: boolean) => {
    let h = tf.layers
      .conv2d({ filters, kernelSize: 3, strides: stride, padding: 'same', useBias: false, kernelInitializer: 'heNormal' })
      .apply(x) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(h) as tf.SymbolicTensor;
    return relu ? (tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor) : h;
  };
  let h = convBn(input, 16, 1, true);
  [16, 32, 64].forEach((w, s) => {
    for (let k = 0; k < 3; k++) {
      const stride = s > 0 && k === 0 ? 2 : 1;
      const r = convBn(convBn(h, w, stride, true), w, 1, false);
      const short = stride === 1 ? h : (new ZeroPadShortcut({}).apply(h) as tf.SymbolicTensor);
      h = tf.layers.activation({ activation: 'relu' }).apply(tf.layers.add().apply([r, short])) as tf.SymbolicTensor;
    }
  });
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10 }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

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
  await tf.setBackend('wasm');
  await tf.ready();
  console.log(`# einnet training benchmark — backend ${tf.getBackend()}${quick ? ' (quick)' : ''}`);
  if (want('steps')) {
    // tfjs' wasm backend has no Conv2DBackpropFilter kernel, so tfjs-layers cannot train a conv
    // net there; the cpu backend gives the like-for-like ratio.
    await benchSteps('wasm');
    if (!args.includes('--no-cpu')) await benchSteps('cpu');
    await tf.setBackend('wasm');
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
