/**
 * Training in the page: LeNet-5, or the user's program with a classifier head, on the MNIST subset
 * shipped with the page. One step at a time with einnet's public pieces (Model.forward, the loss,
 * an optimizer), reading the loss asynchronously (a synchronous read returns zeros on WebGPU
 * without a GPU) and yielding to the page between steps, so that the stop button is seen at the
 * next batch.
 */
import { EinError, Model, ein, idxImageSetFromBytes, lenet5, permutation, softmaxCrossEntropy, tf, type ImageSet, type Optimizer } from '../browser';

export interface Mnist {
  readonly train: ImageSet;
  readonly test: ImageSet;
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot load ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The MNIST subset built into the page (data/). */
export async function loadMnist(): Promise<Mnist> {
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    ['train-images', 'train-labels', 'test-images', 'test-labels'].map((f) => fetchBytes(`data/mnist-${f}.idx`)),
  );
  return {
    train: idxImageSetFromBytes(trainImages, trainLabels, { name: 'mnist/train', classNames: DIGITS }),
    test: idxImageSetFromBytes(testImages, testLabels, { name: 'mnist/test', classNames: DIGITS }),
  };
}

/** LeNet-5 as the lecture's table gives it (28×28 input padded by 2). */
export function lenetModel(batch: number): Model {
  return lenet5({ batch, seed: 0 });
}

/**
 * The user's program with a dense classifier head on its last tensor: the first tensor of the
 * shapes field is the image input, bound to [batch, 28, 28, 1].
 */
export function programWithHead(source: string, shapes: Readonly<Record<string, readonly number[]>>, batch: number): Model {
  const input = Object.keys(shapes)[0];
  if (input === undefined) {
    throw new EinError({ code: 'EIN6021', message: 'the shapes field names no input', hint: 'name the image input first, e.g. L0: [1, 28, 28, 1]' });
  }
  const program = ein(source);
  const inputs = { [input]: [batch, 28, 28, 1] };
  const report = program.check(inputs);
  const statements = program.ast.statements.filter((s) => s.kind === 'assign');
  const last = statements[statements.length - 1];
  if (last === undefined || last.kind !== 'assign') throw new EinError({ code: 'EIN6021', message: 'the program assigns no tensor', hint: 'write a layer' });
  const features = report.shapes[last.target];
  const axes = features.slice(1).map((_, k) => `A${k + 1}`);
  const head = `Head[b, k:10] = Head.W[${[...axes, 'k'].join(', ')}] · ${last.target}[${['b', ...axes].join(', ')}] + Head.B[k]`;
  return new Model({ program: `${source}\n${head}`, inputs, output: 'Head', seed: 0 });
}

export interface StepInfo {
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  /** Fraction of the batch classified right. */
  readonly batchAccuracy: number;
}

export interface TrainOptions {
  readonly steps: number;
  readonly batchSize: number;
  readonly signal: AbortSignal;
  readonly onStep: (info: StepInfo) => void | Promise<void>;
}

/** One step: forward in training mode, loss, gradients, update. Returns the loss and correct count. */
async function step(model: Model, optimizer: Optimizer, x: tf.Tensor, y: tf.Tensor): Promise<{ loss: number; correct: number }> {
  const input = model.inputNames[0];
  const byVar = new Map<string, string>();
  for (const [name, v] of model.params) byVar.set(v.name, name);
  const stats: Record<string, tf.Tensor> = {};
  let scores: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const outs = model.forward({ [input]: x }, { training: true });
    for (const name of model.stats.keys()) stats[name] = tf.keep(outs[name]);
    scores = tf.keep(outs[model.output]);
    return softmaxCrossEntropy(outs[model.output], y);
  }, model.trainableVariables);
  try {
    const named: Record<string, tf.Tensor> = {};
    for (const [varName, g] of Object.entries(grads)) named[byVar.get(varName)!] = g;
    optimizer.apply(model.params, named);
    model.updateRunningStats(stats);
    const right = tf.tidy(() => scores!.argMax(1).equal(y.cast('int32')).cast('float32').sum());
    const [loss, correct] = await Promise.all([value.data(), right.data()]);
    right.dispose();
    return { loss: loss[0], correct: correct[0] };
  } finally {
    tf.dispose([value, ...Object.values(grads), ...Object.values(stats)]);
    scores?.dispose();
  }
}

/** Trains for `steps` batches or until `signal` aborts (checked before each batch). Returns the steps done. */
export async function train(model: Model, optimizer: Optimizer, data: ImageSet, options: TrainOptions): Promise<number> {
  let order = permutation(data.count, 1);
  let at = 0;
  for (let k = 1; k <= options.steps; k++) {
    // Let the page paint and see a click on Stop.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (options.signal.aborted) return k - 1;
    if (at + options.batchSize > data.count) {
      order = permutation(data.count, 1 + k);
      at = 0;
    }
    const batch = data.tensorsAt(order.subarray(at, at + options.batchSize));
    at += options.batchSize;
    try {
      const { loss, correct } = await step(model, optimizer, batch.images, batch.labels);
      await options.onStep({ step: k, steps: options.steps, loss, batchAccuracy: correct / options.batchSize });
    } finally {
      batch.dispose();
    }
  }
  return options.steps;
}

/** Predicted classes of every test image (evaluation mode), in batches of 100. */
export async function predict(model: Model, data: ImageSet): Promise<Int32Array> {
  const out = new Int32Array(data.count);
  const input = model.inputNames[0];
  for (let start = 0; start < data.count; start += 100) {
    const end = Math.min(data.count, start + 100);
    const batch = data.tensorsAt(Array.from({ length: end - start }, (_, i) => start + i));
    try {
      const labels = tf.tidy(() => model.apply({ [input]: batch.images }).argMax(1));
      out.set((await labels.data()) as Int32Array, start);
      labels.dispose();
    } finally {
      batch.dispose();
    }
  }
  return out;
}

/** Every tensor of the model for one image (evaluation mode), read back: activations by name. */
export async function activationsOf(model: Model, data: ImageSet, index: number): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
  const batch = data.tensorsAt([index]);
  const result: Record<string, { shape: number[]; data: Float32Array }> = {};
  try {
    const outs = model.forward({ [model.inputNames[0]]: batch.images });
    try {
      for (const [name, t] of Object.entries(outs)) result[name] = { shape: t.shape, data: (await t.data()) as Float32Array };
    } finally {
      tf.dispose(Object.values(outs));
    }
    result[model.inputNames[0]] = { shape: batch.images.shape, data: (await batch.images.data()) as Float32Array };
  } finally {
    batch.dispose();
  }
  return result;
}
