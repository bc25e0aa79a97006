/**
 * Faults of the native backend and of what every backend must agree on: outputs too large for a
 * tensor, NaN through fused activations and max pooling, ties in the max-pool gradient, and
 * `fit({ checkFinite })` stopping a run whose weights are NaN. Every NaN and tie case runs on
 * cpu, wasm and (when the addon is built) native, against literal expected values that are what
 * tfjs' cpu kernels and PyTorch give.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { EinError } from '../../core/diagnostics';
import { ein } from '../../dsl/program';
import { lenet5 } from '../../models/architectures';
import { sgd } from '../../models/optimizers';
import { fit } from '../../models/train';
import { MAX_POOL_KEEPING_NAN } from '../../backends/kernel-names';
import { nativeKernelStats, resetNativeKernelStats } from '../../backends/native/stats';
import { pool as poolForward } from '../../ops/pool';
import { ADDON_BUILT, SKIP_REASON } from '../backends/native/compare';
import { useBackend, type BackendName } from '../dsl/lower/harness';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Runs `body` (TypeScript, top-level await allowed) in a child process on the native backend, so
 * that an abort fails the test instead of killing vitest; returns its exit code and output.
 * `nodeFlags(dir)` gives flags for node, given the child's scratch directory.
 */
function runNativeChild(
  body: string,
  nodeFlags: (dir: string) => string[] = () => [],
): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  // Inside the repository, so that the child resolves @tensorflow/tfjs from its node_modules.
  const dir = fs.mkdtempSync(path.join(__dirname, '.child-'));
  const file = path.join(dir, 'child.mts');
  const native = JSON.stringify(path.join(ROOT, 'backends', 'native', 'index.ts'));
  const addon = JSON.stringify(path.join(ROOT, 'backends', 'native', 'build', 'Release', 'einnet_native.node'));
  fs.writeFileSync(
    file,
    [
      "import * as tf from '@tensorflow/tfjs';",
      `import { registerNativeBackend, setNativeThreads } from ${native};`,
      "import { createRequire } from 'module';",
      `const loadAddon = () => createRequire(import.meta.url)(${addon});`,
      'registerNativeBackend();',
      'setNativeThreads(1);',
      "await tf.setBackend('einnet-native');",
      'void loadAddon;',
      body,
    ].join('\n'),
  );
  try {
    const run = spawnSync(process.execPath, [...nodeFlags(dir), '--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What the child prints for a call that must throw: the error's class, code and message. */
const REPORT = `
function report(label: string, f: () => unknown): void {
  try {
    f();
    console.log(label, 'no error');
  } catch (e) {
    const err = e as Error & { code?: string };
    console.log(label, err.constructor.name, err.code ?? '-', err.message.split('\\n')[0]);
  }
}`;

describe('native outputs too large for a tensor', () => {
  it.skipIf(!ADDON_BUILT)(`native matMul and conv2dTranspose over 2^31 output elements are EIN2024 before allocation, no abort${SKIP_REASON}`, () => {
    // 46341² floats would be 8.6 GB: the check must come before any allocation (the child would
    // otherwise take that memory, and oneDNN's 32-bit offsets would meet it).
    const run = runNativeChild(`${REPORT}
report('matMul', () => tf.matMul(tf.zeros([46341, 1]), tf.zeros([1, 46341])));
const one = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
report('conv2dTranspose', () => tf.conv2dTranspose(one, one, [1, 46341, 46341, 1], 46341, 'valid'));
console.log('rss', process.memoryUsage().rss);`);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => /^(matMul|conv2dTranspose|rss) /.test(l));
    expect(lines[0]).toMatch(/^matMul EinError EIN2024 EIN2024: BatchMatMul's output of shape \[46341,46341\] would hold 2\.15e\+9 elements/);
    expect(lines[1]).toMatch(/^conv2dTranspose EinError EIN2024 EIN2024: Conv2DBackpropInput's output of shape \[1,46341,46341,1\]/);
    expect(Number(lines[2].split(' ')[1])).toBeLessThan(2 ** 31); // nothing near 8.6 GB was touched
  });

  it.skipIf(!ADDON_BUILT)(`the addon's alloc of a block larger than Node's largest Buffer throws and frees the block once, no abort${SKIP_REASON}`, () => {
    // 2^30 + 16 floats is 4 GiB + 64 bytes, one block more than buffer.constants.MAX_LENGTH: Node
    // refuses the ArrayBuffer and runs its finalizer at once. The block must be freed exactly once.
    const run = runNativeChild(`${REPORT}
for (let i = 0; i < 3; i++) report('alloc', () => loadAddon().alloc(2 ** 30 + 16));
const a = loadAddon().alloc(1 << 20);
a.fill(1);
console.log('after', a.length, a[a.length - 1]);`);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => /^(alloc|after) /.test(l));
    expect(lines).toHaveLength(4);
    for (const l of lines.slice(0, 3)) expect(l).toMatch(/^alloc \w*Error ERR_BUFFER_TOO_LARGE Cannot create a Buffer larger than/);
    expect(lines[3]).toBe('after 1048576 1');
  });
});

describe('native kernels under a sampling profiler', () => {
  it.skipIf(!ADDON_BUILT)(`node --cpu-prof: oneDNN's sgemm under V8's SIGPROF samples, no heap corruption${SKIP_REASON}`, () => {
    // A signal handler's frame pushed in the middle of oneDNN's JIT sgemm corrupted the heap
    // (abort: "corrupted size vs. prev_size"); the addon holds asynchronous signals during a call.
    const run = runNativeChild(
      `const a = tf.randomNormal([64, 1024]);
const b = tf.randomNormal([1024, 1024]);
for (let i = 0; i < 20; i++) tf.matMul(a, b).dispose();
console.log('products', 20);`,
      (dir) => ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    );
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('products 20');
  });
});

const BACKENDS: readonly BackendName[] = ['cpu', 'wasm', 'native'];

/**
 * `it` on a backend, skipped with the stated reason when that backend is native and the addon is
 * not built; checks that the body leaves no tensor behind (after `warmUp`, for what tfjs or
 * einnet make once per process).
 */
function onBackend(backend: BackendName, name: string, body: () => Promise<void> | void, warmUp?: () => Promise<void>): void {
  const skip = backend === 'native' && !ADDON_BUILT;
  it.skipIf(skip)(`${name} [${backend}]${backend === 'native' ? SKIP_REASON : ''}`, async () => {
    await useBackend(backend);
    if (warmUp !== undefined) await warmUp();
    const before = tf.memory().numTensors;
    await body();
    expect(tf.memory().numTensors, 'tensors left behind').toBe(before);
  });
}

function values(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

afterAll(async () => {
  await useBackend('cpu');
});

describe.each(BACKENDS)('NaN stays NaN on %s', (backend) => {
  onBackend(backend, 'relu(W·X + B) through ein keeps a NaN input NaN, dense and convolutional', () => {
    const dense = ein('Y[b,j] = relu(W[i,j] · X[b,i] + B[j])');
    const conv = ein('L1[b,x,y,j:4] = relu(W[Δx:3,Δy:3,I,j] · L0[b,x+Δx,y+Δy,I] + B[j])');
    tf.tidy(() => {
      const d = dense.run({ X: tf.fill([2, 8], NaN), W: tf.ones([8, 3]), B: tf.zeros([3]) }).Y;
      expect(Array.from(d.dataSync())).toEqual(new Array(6).fill(NaN));
      const c = conv.run({ L0: tf.fill([1, 6, 6, 2], NaN), W: tf.ones([3, 3, 2, 4]), B: tf.zeros([4]) }).L1;
      expect(Array.from(c.dataSync())).toEqual(new Array(64).fill(NaN));
      // A NaN filter, as in a diverged run: every output is NaN, not relu's 0.
      const f = conv.run({ L0: tf.ones([1, 6, 6, 2]), W: tf.fill([3, 3, 2, 4], NaN), B: tf.zeros([4]) }).L1;
      expect(Array.from(f.dataSync())).toEqual(new Array(64).fill(NaN));
    });
  });

  onBackend(backend, 'dense matMul + relu keeps NaN, fused and unfused; relu6 too', () => {
    tf.tidy(() => {
      const a = tf.tensor2d([
        [NaN, 1],
        [1, 1],
      ]);
      const b = tf.ones([2, 2]);
      expect(values(tf.relu(tf.matMul(a, b)))).toEqual([NaN, NaN, 2, 2]);
      // tfjs-wasm's own fused matMul clamps NaN to 0; einnet never asks for it (ops/ and the
      // lowering emit matMul then relu), so only the cpu kernel and the native one that stands in
      // for it are held to NaN here.
      if (backend !== 'wasm') {
        expect(values(tf.fused.matMul({ a, b, bias: tf.tensor1d([-5, 0]), activation: 'relu' }))).toEqual([NaN, NaN, 0, 2]);
        expect(values(tf.fused.matMul({ a, b, activation: 'relu6' }))).toEqual([NaN, NaN, 2, 2]);
      }
      const x = tf.fill([1, 4, 4, 1], NaN) as tf.Tensor4D;
      const w = tf.ones([2, 2, 1, 2]) as tf.Tensor4D;
      expect(values(tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', activation: 'relu' }))).toEqual(new Array(18).fill(NaN));
    });
  });

  onBackend(backend, "einnet's max pooling gives NaN for a window with one NaN and for one with all NaN", () => {
    tf.tidy(() => {
      // Windows [NaN,1,2,3], [NaN×4], [-1,-2,NaN,-3] and [4,5,6,7]: tfjs' kernels skip NaN.
      const x = tf.tensor4d([NaN, 1, 2, 3, NaN, NaN, NaN, NaN, -1, -2, NaN, -3, 4, 5, 6, 7], [1, 1, 16, 1]);
      const step = { op: 'pool', fn: 'max', window: [1, 4], strides: [1, 4] } as unknown as Parameters<typeof poolForward>[0];
      expect(values(poolForward(step, x))).toEqual([NaN, NaN, NaN, 7]);
      // Through the language, overlapping 2-D windows (the pooling route, not a reshape + max).
      const p = ein('Y[b,x,y,j] = max[Δx:3,Δy:3] X[b,2*x+Δx,2*y+Δy,j]');
      const img = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, NaN, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25], [1, 5, 5, 1]);
      expect(Array.from(p.run({ X: img }).Y.dataSync())).toEqual([NaN, NaN, 23, 25]);
    });
  });

  onBackend(backend, "einnet's max pooling takes ±∞ as a window's maximum and a number beside -∞ padding, never NaN", () => {
    tf.tidy(() => {
      // Windows [+∞,-∞,1,2], [-∞,-∞,-4,-∞], [+∞,3,+∞,-1] and [-∞×4].
      const x = tf.tensor4d(
        [Infinity, -Infinity, 1, 2, -Infinity, -Infinity, -4, -Infinity, Infinity, 3, Infinity, -1, ...new Array(4).fill(-Infinity)],
        [1, 1, 16, 1],
      );
      const step = { op: 'pool', fn: 'max', window: [1, 4], strides: [1, 4] } as unknown as Parameters<typeof poolForward>[0];
      expect(values(poolForward(step, x))).toEqual([Infinity, -4, Infinity, -Infinity]);
      // Through the language with padding 1: the border windows hold -∞ padding and real values.
      const p = ein('Y[b,x:2,y:2,j] = max[Δx:2,Δy:2] X[b,x+Δx-1,y+Δy-1,j]');
      const img = tf.tensor4d([-5, -6, -7, Infinity], [1, 2, 2, 1]);
      expect(Array.from(p.run({ X: img }).Y.dataSync())).toEqual([-5, -5, -5, Infinity]);
    });
  });
});

describe('the native max-pool kernel answers as tfjs cpu does', () => {
  it.skipIf(!ADDON_BUILT)(`tf.maxPool skips NaN and gives -∞ for a window with nothing else, as on cpu${SKIP_REASON}`, async () => {
    await useBackend('native');
    const x = tf.tensor4d([NaN, 1, 2, 3, NaN, NaN, NaN, NaN, -1, -2, NaN, -3, -Infinity, -Infinity, -3.4028234663852886e38, -Infinity], [1, 1, 16, 1]);
    // cpu: [3, -Infinity, -1, -3.4028234663852886e38]; oneDNN alone gave -3.4e38 for the second.
    expect(values(tf.maxPool(x, [1, 4], [1, 4], 'valid'))).toEqual([3, -Infinity, -1, -3.4028234663852886e38]);
    x.dispose();
  });

  it.skipIf(!ADDON_BUILT)(`einnet's max pooling is one pass of its own native kernel, with a native MaxPoolGrad${SKIP_REASON}`, async () => {
    await useBackend('native');
    const p = ein('Y[b,x,y,j] = max[Δx:3,Δy:3] X[b,2*x+Δx,2*y+Δy,j]');
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, NaN, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25], [1, 5, 5, 1]);
    resetNativeKernelStats();
    expect(values(p.run({ X: x }).Y)).toEqual([NaN, NaN, 23, 25]);
    const ran = { ...nativeKernelStats().native };
    expect(ran[MAX_POOL_KEEPING_NAN]).toBe(1);
    // No tfjs max pool beside it: the NaN term is inside the kernel.
    expect(ran.MaxPool).toBeUndefined();
    resetNativeKernelStats();
    const dx = tf.grad((t: tf.Tensor) => p.run({ X: t }).Y.sum())(x);
    // Each window's gradient goes to its largest number (the NaN term has none): 13, 15, 23 and 25.
    expect(values(dx)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
    expect(nativeKernelStats().native.MaxPoolGrad).toBe(1);
    x.dispose();
  });

  it.skipIf(!ADDON_BUILT)(`einnet's native max pooling over 2^24 window reads (its threaded path) matches tf.maxPool but for NaN${SKIP_REASON}`, async () => {
    await useBackend('native');
    const step = { op: 'pool', fn: 'max', window: [3, 3], strides: [1, 1] } as unknown as Parameters<typeof poolForward>[0];
    // [4,130,130,64] with 3x3 windows at stride 1: 4·128·128·64·9 ≈ 37.7M reads; one NaN at [1,50,60,5].
    const data = tf.randomNormal([4, 130, 130, 64], 0, 1, 'float32', 7);
    const values4 = data.dataSync().slice();
    values4[((1 * 130 + 50) * 130 + 60) * 64 + 5] = NaN;
    const x = tf.tensor4d(values4, [4, 130, 130, 64]);
    const expected = tf.maxPool(x, [3, 3], [1, 1], 'valid').dataSync().slice();
    for (let oy = 48; oy <= 50; oy++) for (let ox = 58; ox <= 60; ox++) expected[((1 * 128 + oy) * 128 + ox) * 64 + 5] = NaN;
    resetNativeKernelStats();
    const got = poolForward(step, x);
    expect(nativeKernelStats().native[MAX_POOL_KEEPING_NAN]).toBe(1);
    const y = got.dataSync();
    const differing: number[] = [];
    for (let i = 0; i < expected.length; i++) if (!Object.is(y[i], expected[i])) differing.push(i);
    expect(differing).toEqual([]);
    tf.dispose([data, x, got]);
  });
});

describe.each(BACKENDS)('max-pool gradient ties on %s', (backend) => {
  onBackend(backend, 'a tied maximum sends its gradient to the first element of the window, tiling and overlapping windows', () => {
    // 2x2 windows at stride 2 (a reshape + max route) and 3x3 at stride 2 (the pooling route).
    const x = tf.tensor4d([5, 5, 1, 1, 2, 5, 5, 1, 1, 2, -1, -1, 4, 4, 0, -1, -1, 4, 4, 0, 7, 7, 7, 7, 7], [1, 5, 5, 1]);
    const tiling = ein('Y[b,x,y,j] = max[Δx:2,Δy:2] X[b,2*x+Δx,2*y+Δy,j]');
    const overlapping = ein('Y[b,x,y,j] = max[Δx:3,Δy:3] X[b,2*x+Δx,2*y+Δy,j]');
    const gradOf = (p: typeof tiling) => values(tf.grad((t: tf.Tensor) => p.run({ X: t }).Y.sum())(x));
    // Every 2x2 window is a four-way tie: [5,5;5,5], [1,1;1,1], [-1,-1;-1,-1], [4,4;4,4].
    expect(gradOf(tiling)).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // 3x3 windows: 5 four times at (0,0); 4 four times from (2,2); 7 three times from (4,0) and from (4,2).
    expect(gradOf(overlapping)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
    x.dispose();
  });
});

describe.each(BACKENDS)('fit({ checkFinite }) on %s', (backend) => {
  onBackend(
    backend,
    'a LeNet-5 (relu) whose first filter is NaN stops at the first step with EIN4007',
    async () => {
      const model = lenet5({ activation: 'relu', pooling: 'max', seed: 3 });
      const images = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 5);
      const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
      const filter = model.params.get('C1.W')!;
      const nan = tf.fill(filter.shape, NaN);
      filter.assign(nan);
      nan.dispose();
      let error: unknown;
      try {
        await fit(model, { images, labels }, { epochs: 3, batchSize: 8, optimizer: sgd({ learningRate: 0.01 }), checkFinite: true });
      } catch (e) {
        error = e;
      } finally {
        tf.dispose([images, labels]);
        model.dispose();
      }
      expect(error).toBeInstanceOf(EinError);
      expect((error as EinError).code).toBe('EIN4007');
      expect((error as EinError).message).toMatch(/NaN/);
    },
    fitOnce,
  );
});

/** One step of a healthy fit of the same shapes (the first such fit in a process makes tensors it keeps). */
async function fitOnce(): Promise<void> {
  const model = lenet5({ activation: 'relu', pooling: 'max', seed: 3 });
  const images = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 5);
  const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
  try {
    await fit(model, { images, labels }, { epochs: 1, batchSize: 8, optimizer: sgd({ learningRate: 0.01 }) });
  } finally {
    tf.dispose([images, labels]);
    model.dispose();
  }
}
