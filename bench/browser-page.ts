/**
 * Page side of `npm run bench:browser` (bench/browser.ts), bundled by scripts/build-browser.mjs
 * --tests into tests/bench.mjs; einnet is the built bundle. The `npm run bench` cases
 * (bench/cases.ts) and one training step of LeNet-5 and ResNet-20, each einnet against the same
 * work hand-written in tfjs (einnet's step is `trainStepAsync`), alternating the two, every
 * result read with `await data()`. On a software GPU (SwiftShader) the cases run at smaller sizes.
 */
import { ein, lenet5, resnetCifar, sgd, tf, trainStepAsync, useBackend, type BackendName, type Model } from '../browser';
import { benchCases, FULL_SIZES, SOFTWARE_SIZES, type BenchSizes } from './cases';
import { handModels } from './hand-models';

export interface BenchRow {
  readonly name: string;
  readonly dsl: number;
  /** Median ms of the hand-written contender, or why tfjs cannot run it. */
  readonly hand: number | string;
}

/** The batch of each network's training step. */
export interface NetSizes {
  readonly lenetBatch: number;
  readonly resnetBatch: number;
}

const FULL_NETS: NetSizes = { lenetBatch: 64, resnetBatch: 32 };
/** On a software GPU: LeNet-5 at a quarter of the batch, ResNet-20 at an eighth. */
const SOFTWARE_NETS: NetSizes = { lenetBatch: 16, resnetBatch: 2 };

export interface BenchOptions {
  readonly backend: BackendName;
  readonly repeats: number;
  /** Keeps the cases whose name contains it. */
  readonly only?: string | null;
  /** The full sizes on a software GPU too (on a GPU they are the default). */
  readonly full?: boolean;
}

export interface BenchReport {
  readonly backend: string;
  readonly adapter: Record<string, string | undefined> | null;
  /** Whether the adapter is a software renderer (SwiftShader, llvmpipe). */
  readonly software: boolean;
  readonly sizes: BenchSizes & NetSizes;
  readonly rows: BenchRow[];
  readonly tensorsLeft: number;
}

/** One run of a contender: its result tensors (read and disposed by the timer), or a promise of a number. */
type Work = () => tf.Tensor | tf.Tensor[] | Promise<number> | undefined | null;

async function timed(f: Work): Promise<number> {
  const start = performance.now();
  const out = f();
  if (out instanceof Promise) {
    await out;
    return performance.now() - start;
  }
  const list = out === undefined || out === null ? [] : Array.isArray(out) ? out : [out];
  for (const t of list) await t.data();
  const ms = performance.now() - start;
  tf.dispose(list);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Medians of `repeats` alternating runs of the two contenders, after 2 warm-ups each. Each run is
 * logged with console.info, which bench/browser.ts shows as progress.
 */
async function compare(name: string, dsl: Work, hand: Work | string, repeats: number): Promise<BenchRow> {
  const d: number[] = [];
  const h: number[] = [];
  for (let k = 0; k < 2 + repeats; k++) {
    const a = await timed(dsl);
    const b = typeof hand === 'string' ? 0 : await timed(hand);
    const handMs = typeof hand === 'string' ? '—' : `${b.toFixed(0)} ms`;
    console.info(`${name}: ${k < 2 ? 'warm-up' : 'run'} ${k + 1}/${2 + repeats}, DSL ${a.toFixed(0)} ms, hand ${handMs}`);
    if (k >= 2) {
      d.push(a);
      h.push(b);
    }
  }
  return { name, dsl: median(d), hand: typeof hand === 'string' ? hand : median(h) };
}

/** A contender with state of its own (an optimizer's slots), freed once timed. */
interface Stepper {
  readonly work: Work;
  dispose(): void;
}

/** einnet's training step as a page calls it: trainStepAsync (the loss read with await data()). */
function einnetStep(model: Model, x: tf.Tensor, y: tf.Tensor): Stepper {
  const optimizer = sgd({ learningRate: 0.01, momentum: 0.9 });
  return { work: () => trainStepAsync(model, optimizer, x, y), dispose: () => optimizer.dispose() };
}

function layersStep(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): Stepper {
  const optimizer = tf.train.momentum(0.01, 0.9);
  return {
    work: () => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true),
    dispose: () => {
      optimizer.dispose();
      // tfjs 4.22's MomentumOptimizer.dispose leaves out its SGD base's learning-rate scalar.
      tf.SGDOptimizer.prototype.dispose.call(optimizer);
    },
  };
}

/** Whether the adapter is a software renderer on the CPU (SwiftShader, llvmpipe). */
export function isSoftwareAdapter(adapter: Readonly<Record<string, string | undefined>> | null): boolean {
  return /swiftshader|llvmpipe|software/i.test(JSON.stringify(adapter ?? {}));
}

/**
 * Every case on `backend`; at the full sizes on a GPU, at the small ones (SOFTWARE_SIZES,
 * SOFTWARE_NETS) on a software GPU unless `full`.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const { backend, repeats, only } = options;
  const info = await useBackend(backend);
  const adapter = (info.adapter as Record<string, string | undefined> | undefined) ?? null;
  const software = isSoftwareAdapter(adapter);
  const small = software && options.full !== true;
  const sizes = { ...(small ? SOFTWARE_SIZES : FULL_SIZES), ...(small ? SOFTWARE_NETS : FULL_NETS) };
  const rows: BenchRow[] = [];
  const want = (name: string) => only === undefined || only === null || name.includes(only);
  const { cases, dispose } = benchCases(tf, ein, sizes);
  try {
    for (const c of cases) if (want(c.name)) rows.push(await compare(c.name, c.dsl, c.hand, repeats));
  } finally {
    dispose();
  }
  const { lenetLayers, resnet20Layers } = handModels(tf);
  const { lenetBatch: nl, resnetBatch: nr } = sizes;
  const nets: [string, () => Model, () => tf.LayersModel, number[]][] = [
    [`LeNet-5 training step, batch ${nl}`, () => lenet5({ batch: nl, seed: 1 }), lenetLayers, [nl, 28, 28, 1]],
    [`ResNet-20 training step, batch ${nr}`, () => resnetCifar({ depth: 20, batch: nr, seed: 1 }), resnet20Layers, [nr, 32, 32, 3]],
  ];
  for (const [name, makeModel, makeLayers, shape] of nets) {
    if (!want(name)) continue;
    const n = shape[0];
    const x = tf.randomUniform(shape, 0, 1, 'float32', 5);
    const y = tf.tidy(() =>
      tf.oneHot(
        tf.tensor1d(
          Array.from({ length: n }, (_, i) => i % 10),
          'int32',
        ),
        10,
      ),
    );
    const model = makeModel();
    const layers = makeLayers();
    const dsl = einnetStep(model, x, y);
    const hand = layersStep(layers, x, y);
    try {
      rows.push(await compare(name, dsl.work, hand.work, repeats));
    } finally {
      dsl.dispose();
      hand.dispose();
      model.dispose();
      layers.dispose();
      tf.dispose([x, y]);
    }
  }
  return { backend: info.name, adapter, software, sizes, rows, tensorsLeft: tf.memory().numTensors };
}
