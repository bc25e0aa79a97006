/**
 * Page side of test/browser/gpu-*.test.ts, bundled by scripts/build-browser.mjs --tests into
 * dist/browser/tests/gpu.mjs. einnet is the built bundle (`../../../browser` becomes
 * `../einnet.mjs`); the truths it is compared with come from the Node suites' modules, bundled in:
 * the random-program generator and the reference evaluator (test/dsl/lower), the worked tables
 * (test/dsl/reference/worked-tables.ts). Every value is read with `await data()`.
 */
import fc from 'fast-check';
import {
  accuracyAsync,
  activationGrid,
  channelMeanStdAsync,
  cifarImageSetFromBytes,
  correctCountAsync,
  ein,
  idxImageSetFromBytes,
  lenet5,
  sgd,
  tf,
  trainStepAsync,
  useBackend,
  type BackendName,
  type ImageSet,
} from '../../../browser';
import { gradientValueMismatches, outputMismatches, programOf, reference, seededRandom, type Leaves, type ReadOutput } from '../../dsl/lower/harness';
import { BACKWARD_OPTIONS, FC_SEED, leavesOf, randomProgramArb } from '../../dsl/lower/random-programs';
import { WORKED_TABLES, tableMismatches } from '../../dsl/reference/worked-tables';

type Program = ReturnType<typeof ein>;

function errorText(e: unknown): string {
  return e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message.split('\n')[0]}` : String(e);
}

function tensorsOf(leaves: Leaves): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const n of leaves.names) out[n] = tf.tensor(Float32Array.from(leaves.values[n]), [...leaves.shapes[n]]);
  return out;
}

async function readAll(ts: Record<string, tf.Tensor>): Promise<Record<string, ReadOutput>> {
  const read: Record<string, ReadOutput> = {};
  for (const [name, t] of Object.entries(ts)) read[name] = { shape: t.shape, data: await t.data() };
  return read;
}

/** tf.grads of sum(last²) through `p.run` (other outputs with weight 0), as lastOutputGradients. */
async function gradientValues(p: Program, leaves: Leaves, output: string): Promise<Float32Array[]> {
  const bound = tensorsOf(leaves);
  const xs = leaves.names.map((n) => bound[n]);
  try {
    const grads = tf.grads((...args: tf.Tensor[]) => {
      const bindings: Record<string, tf.Tensor> = {};
      leaves.names.forEach((n, k) => (bindings[n] = args[k]));
      const out = p.run(bindings);
      const others = Object.keys(out).filter((n) => n !== output);
      const loss = tf.sum(tf.square(out[output]));
      return others.length === 0 ? loss : tf.add(loss, tf.mul(0, tf.addN(others.map((n) => tf.sum(out[n])))));
    })(xs);
    const values: Float32Array[] = [];
    for (const g of grads) values.push((await g.data()) as Float32Array);
    tf.dispose(grads);
    return values;
  } finally {
    tf.dispose(xs);
  }
}

export interface SuiteResult {
  readonly backend: string;
  readonly count: number;
  /** `<program>: <problem>` lines, empty when every program agrees. */
  readonly problems: string[];
  readonly ms: number;
}

/**
 * The first `forward` and `backward` programs of the Node property suite's seeded streams
 * (random-programs.test.ts: fast-check seeds FC_SEED and FC_SEED + 1, the same leaves), run by the
 * bundle on `backend` and compared with the reference evaluator: outputs at rtol 1e-4, gradients
 * against central differences with the Node suite's options.
 */
export async function randomPrograms(backend: BackendName, forward: number, backward: number): Promise<SuiteResult> {
  await useBackend(backend);
  const start = performance.now();
  const problems: string[] = [];
  const before = tf.memory().numTensors;
  const forwardPrograms = fc.sample(randomProgramArb(), { seed: FC_SEED, numRuns: forward });
  for (let n = 0; n < forwardPrograms.length; n++) {
    const rp = forwardPrograms[n];
    const leaves = leavesOf(rp, n);
    try {
      const p = ein(rp.src);
      const want = reference(programOf(rp), leaves);
      const bound = tensorsOf(leaves);
      const got = p.run(bound);
      const read = await readAll(got);
      tf.dispose([...Object.values(bound), ...Object.values(got)]);
      for (const line of outputMismatches(want, read, 1e-4)) problems.push(`forward ${rp.src.replace(/\n/g, ' ⏎ ')}: ${line}`);
      p.dispose();
    } catch (e) {
      problems.push(`forward ${rp.src}: threw ${errorText(e)}`);
    }
  }
  const backwardPrograms = fc.sample(randomProgramArb(), { seed: FC_SEED + 1, numRuns: backward });
  for (let k = 0; k < backwardPrograms.length; k++) {
    const rp = backwardPrograms[k];
    const n = k + 1;
    const leaves = leavesOf(rp, 7919 * n);
    try {
      const p = ein(rp.src);
      const values = await gradientValues(p, leaves, leaves.outputs[leaves.outputs.length - 1]);
      const lines = gradientValueMismatches(programOf(rp), leaves, values, seededRandom(n), BACKWARD_OPTIONS);
      for (const line of lines) problems.push(`backward ${rp.src.replace(/\n/g, ' ⏎ ')}: ${line}`);
      p.dispose();
    } catch (e) {
      problems.push(`backward ${rp.src}: threw ${errorText(e)}`);
    }
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) problems.push(`${leaked} tensors left behind`);
  return { backend: tf.getBackend(), count: forwardPrograms.length + backwardPrograms.length, problems, ms: Math.round(performance.now() - start) };
}

/** Every worked table (worked-tables.ts) computed by the bundle on `backend`, rtol 1e-6 of the table. */
export async function workedTables(backend: BackendName): Promise<SuiteResult> {
  await useBackend(backend);
  const start = performance.now();
  const problems: string[] = [];
  for (const t of WORKED_TABLES) {
    try {
      const p = ein(t.src);
      const bound: Record<string, tf.Tensor> = {};
      for (const [name, v] of Object.entries(t.inputs)) bound[name] = tf.tensor(v as number[]);
      const out = p.run(bound);
      const got = await out[t.output].data();
      tf.dispose([...Object.values(bound), ...Object.values(out)]);
      p.dispose();
      for (const line of tableMismatches(t, got, 1e-6)) problems.push(`${t.name}: ${line}`);
    } catch (e) {
      problems.push(`${t.name}: threw ${errorText(e)}`);
    }
  }
  return { backend: tf.getBackend(), count: WORKED_TABLES.length, problems, ms: Math.round(performance.now() - start) };
}

/**
 * einnet's asynchronous reads on `backend`: run's validation (runAsync), accuracy and the correct
 * count, channel statistics of a tensor, and a plot helper given a tensor already read.
 */
export async function asyncReads(backend: BackendName): Promise<Record<string, unknown>> {
  await useBackend(backend);
  const before = tf.memory().numTensors;
  const p = ein('Y[b,j] = relu(W[I,j] · X[b,I] + B[j])');
  const rand = seededRandom(5);
  const fill = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rand() - 1),
      shape,
    );
  const X = fill([4, 6]);
  const W = fill([6, 3]);
  const B = fill([3]);
  let validated: string;
  try {
    const { Y } = await p.runAsync({ X, W, B }, { validate: true });
    validated = `ok ${Y.shape.join('x')}`;
    Y.dispose();
  } catch (e) {
    validated = errorText(e);
  }
  const scores = tf.tensor2d([
    [0.1, 0.9, 0],
    [0.8, 0.1, 0.1],
    [0.2, 0.3, 0.5],
    [0.6, 0.3, 0.1],
  ]);
  const labels = tf.tensor1d([1, 0, 2, 2], 'int32');
  const accuracy = await accuracyAsync(scores, labels);
  const correct = await correctCountAsync(scores, labels);
  const images = tf.tensor4d([0, 10, 2, 20, 4, 30, 6, 40], [1, 2, 2, 2]);
  const stats = await channelMeanStdAsync(images);
  const maps = tf.tensor4d(
    Float32Array.from({ length: 2 * 3 * 3 * 2 }, (_, i) => i / 4),
    [2, 3, 3, 2],
  );
  // The plot helpers read their tensor synchronously: read it first, and they use those values.
  await maps.data();
  const figure = activationGrid(maps, { example: 1 });
  const z = figure.data.map((trace) => (trace as { z?: unknown }).z);
  tf.dispose([X, W, B, scores, labels, images, maps]);
  p.dispose();
  return { backend: tf.getBackend(), validated, accuracy, correct, stats, z, leaked: tf.memory().numTensors - before };
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code ?? errorText(e);
  }
}

/** A batch of `set` on the active backend: the sum of its pixels (in [0,1]) and its labels, read asynchronously. */
async function onBackend(set: ImageSet, indices: number[]): Promise<{ sum: number; labels: number[] }> {
  const batch = set.tensorsAt(indices);
  const sum = tf.sum(batch.images);
  const result = { sum: (await sum.data())[0], labels: Array.from(await batch.labels.data()) };
  tf.dispose([sum, batch.images, batch.labels]);
  return result;
}

/**
 * MNIST (IDX) and CIFAR-10 (binary) in the page, from URLs and from ArrayBuffers, with the Node
 * loaders' checks: a CIFAR file cut mid-record (EIN5003), a label outside the classes (EIN5014), an
 * IDX image and label file swapped (EIN5002).
 */
export async function datasets(backend: BackendName, urls: { mnistImages: string; mnistLabels: string; cifar: string }): Promise<Record<string, unknown>> {
  await useBackend(backend);
  const digits = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  const [images, labels, cifarBytes] = await Promise.all([fetchBytes(urls.mnistImages), fetchBytes(urls.mnistLabels), fetchBytes(urls.cifar)]);
  const mnist = idxImageSetFromBytes(images, labels, { name: 'mnist/test', classNames: digits });
  const mnistAgain = idxImageSetFromBytes(new Uint8Array(images), new Uint8Array(labels), { name: 'mnist/test', classNames: digits });
  const cifar = cifarImageSetFromBytes([cifarBytes], { name: 'cifar-10/sample' });
  const cut = new Uint8Array(cifarBytes).slice(0, 3073 + 100);
  const badLabel = new Uint8Array(cifarBytes).slice();
  badLabel[3073] = 12;
  return {
    backend: tf.getBackend(),
    mnist: { count: mnist.count, shape: [mnist.height, mnist.width, mnist.channels], first: Array.from(mnist.labels.slice(0, 10)) },
    mnistBatch: await onBackend(mnist, [0, 1, 2, 3]),
    sameFromUint8Array: mnistAgain.count === mnist.count && mnistAgain.pixels.every((v, i) => v === mnist.pixels[i]),
    cifar: { count: cifar.count, shape: [cifar.height, cifar.width, cifar.channels], labels: Array.from(cifar.labels), classes: cifar.classNames.length },
    // Pixel (y=1, x=2), channels 0..2 of record 1, in HWC order.
    cifarPixel: Array.from(cifar.image(1).slice((1 * 32 + 2) * 3, (1 * 32 + 2) * 3 + 3)),
    cifarBatch: await onBackend(cifar, [0, 1, 2]),
    cifarCut: codeOf(() => cifarImageSetFromBytes([cut])),
    cifarBadLabel: codeOf(() => cifarImageSetFromBytes([badLabel])),
    idxSwapped: codeOf(() => idxImageSetFromBytes(labels, images, { name: 'mnist/test', classNames: digits })),
  };
}

export interface TrainingRun {
  readonly backend: string;
  readonly adapter: unknown;
  readonly cpu: number[];
  readonly gpu: number[];
  readonly tensors: number[];
  readonly ms: number;
}

/**
 * LeNet-5 on real MNIST images (the t10k file): the first `compare` steps on the cpu backend, then
 * `steps` on `backend` from the same seed with the same batches (SGD with `sgdOptions`, batch
 * `batch`), by `trainStepAsync`; `tensors` is tf.memory().numTensors after step 1
 * and after the last.
 */
export async function lenetMnist(
  backend: BackendName,
  urls: { images: string; labels: string },
  steps: number,
  compare: number,
  batch: number,
  sgdOptions: { learningRate: number; momentum?: number },
): Promise<TrainingRun> {
  const digits = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  const [images, labels] = await Promise.all([fetchBytes(urls.images), fetchBytes(urls.labels)]);
  const mnist = idxImageSetFromBytes(images, labels, { name: 'mnist/t10k', classNames: digits });
  const batchAt = (k: number) =>
    mnist.tensorsAt(
      Array.from({ length: batch }, (_, i) => (k * batch + i) % mnist.count),
      { oneHot: true },
    );
  const run = async (name: BackendName, count: number, onStep?: (k: number) => void) => {
    await useBackend(name);
    const model = lenet5({ seed: 7, batch });
    const optimizer = sgd(sgdOptions);
    const losses: number[] = [];
    try {
      for (let k = 0; k < count; k++) {
        const b = batchAt(k);
        try {
          losses.push(await trainStepAsync(model, optimizer, b.images, b.labels));
        } finally {
          tf.dispose([b.images, b.labels]);
        }
        onStep?.(k);
      }
    } finally {
      model.dispose();
      optimizer.dispose();
    }
    return losses;
  };
  const cpu = await run('cpu', compare);
  const info = await useBackend(backend);
  const tensors: number[] = [];
  const start = performance.now();
  const gpu = await run(backend, steps, (k) => {
    if (k === 0 || k === steps - 1) tensors.push(tf.memory().numTensors);
  });
  return { backend: info.name, adapter: info.adapter ?? null, cpu, gpu, tensors, ms: Math.round(performance.now() - start) };
}
