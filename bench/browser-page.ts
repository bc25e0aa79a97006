/**
 * Page side of `npm run bench:browser` (bench/browser.ts), bundled by scripts/build-browser.mjs
 * --tests into tests/bench.mjs; einnet is the built bundle. The `npm run bench` cases
 * (bench/cases.ts) and one training step of LeNet-5 and ResNet-20, each einnet against the same
 * work hand-written in tfjs (einnet's step is `trainStepAsync`), alternating the two, every
 * result read with `await data()`.
 */
import { ein, lenet5, resnetCifar, sgd, tf, trainStepAsync, useBackend, type BackendName, type Model } from '../browser';
import { benchCases } from './cases';
import { handModels } from './hand-models';

export interface BenchRow {
  readonly name: string;
  readonly dsl: number;
  /** Median ms of the hand-written contender, or why tfjs cannot run it. */
  readonly hand: number | string;
}

export interface BenchReport {
  readonly backend: string;
  readonly adapter: Record<string, string | undefined> | null;
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

/** Medians of `repeats` alternating runs of the two contenders, after 2 warm-ups each. */
async function compare(name: string, dsl: Work, hand: Work | string, repeats: number): Promise<BenchRow> {
  const d: number[] = [];
  const h: number[] = [];
  for (let k = 0; k < 2 + repeats; k++) {
    const a = await timed(dsl);
    const b = typeof hand === 'string' ? 0 : await timed(hand);
    if (k >= 2) {
      d.push(a);
      h.push(b);
    }
  }
  return { name, dsl: median(d), hand: typeof hand === 'string' ? hand : median(h) };
}

/** einnet's training step as a page calls it: trainStepAsync (the loss read with await data()). */
function einnetStep(model: Model, x: tf.Tensor, y: tf.Tensor): Work {
  const optimizer = sgd({ learningRate: 0.01, momentum: 0.9 });
  return () => trainStepAsync(model, optimizer, x, y);
}

function layersStep(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): Work {
  const optimizer = tf.train.momentum(0.01, 0.9);
  return () => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
}

/** Every case on `backend`; `only` keeps the cases whose name contains it. */
export async function runBench(backend: BackendName, repeats: number, only?: string | null): Promise<BenchReport> {
  const info = await useBackend(backend);
  const rows: BenchRow[] = [];
  const want = (name: string) => only === undefined || only === null || name.includes(only);
  const { cases, dispose } = benchCases(tf, ein);
  for (const c of cases) if (want(c.name)) rows.push(await compare(c.name, c.dsl, c.hand, repeats));
  dispose();
  const { lenetLayers, resnet20Layers } = handModels(tf);
  const nets: [string, () => Model, () => tf.LayersModel, number[], number][] = [
    ['LeNet-5 training step, batch 64', () => lenet5({ batch: 64, seed: 1 }), lenetLayers, [64, 28, 28, 1], 64],
    ['ResNet-20 training step, batch 32', () => resnetCifar({ depth: 20, batch: 32, seed: 1 }), resnet20Layers, [32, 32, 32, 3], 32],
  ];
  for (const [name, makeModel, makeLayers, shape, n] of nets) {
    if (!want(name)) continue;
    const x = tf.randomUniform(shape, 0, 1, 'float32', 5);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: n }, (_, i) => i % 10),
        'int32',
      ),
      10,
    );
    const model = makeModel();
    const layers = makeLayers();
    rows.push(await compare(name, einnetStep(model, x, y), layersStep(layers, x, y), repeats));
    model.dispose();
    layers.dispose();
    tf.dispose([x, y]);
  }
  return { backend: info.name, adapter: (info.adapter as Record<string, string | undefined> | undefined) ?? null, rows, tensorsLeft: tf.memory().numTensors };
}
