/**
 * einnet's kernels for tfjs' WebAssembly backend (backends/wasm-kernels.ts), each against a truth
 * written out here in double-precision loops, and the SIMD loops (backends/wasm/kernels.wat)
 * against the JavaScript loops (backends/wasm/loops.ts) on the same inputs: channel counts that
 * are and are not multiples of 4, element counts with and without a tail, overlapping windows,
 * strides, dilations, padding, NaN and ±∞. Also: the committed module is the assembled .wat, a
 * convolution's image and filter gradients through einnet's kernels against loops, and a
 * program's convolution computing its image gradient only where asked for.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSimdLoops } from '../../backends/wasm-kernels';
import { simdLoops } from '../../backends/wasm/simd';
import { KERNELS_WASM_BASE64 } from '../../backends/wasm/kernels-wasm';
import { convFilterGradient, convImageGradient, type ConvParams } from '../../ops/conv';
import { ein } from '../../dsl';
import { seededRandom } from '../../core/random';

const ROOT = join(__dirname, '..', '..');

function randoms(seed: number, n: number, scale = 1): Float32Array {
  const r = seededRandom(seed).next;
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs `f` with the SIMD loops and with the JavaScript loops; returns both results' values. */
function bothLoops(f: () => tf.Tensor[]): [Float32Array[], Float32Array[]] {
  const run = (simd: boolean) => {
    useSimdLoops(simd);
    try {
      return tf.tidy(() => f().map((t) => t.dataSync() as Float32Array));
    } finally {
      useSimdLoops(true);
    }
  };
  return [run(true), run(false)];
}

/** Equal in every bit, except that a NaN equals any NaN (WebAssembly leaves NaN bits open). */
function expectSameBits(a: Float32Array[], b: Float32Array[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => {
    const [u, v] = [new Uint32Array(x.buffer, x.byteOffset, x.length), new Uint32Array(b[i].buffer, b[i].byteOffset, b[i].length)];
    const bad: string[] = [];
    for (let k = 0; k < u.length && bad.length < 5; k++)
      if (u[k] !== v[k] && !(Number.isNaN(x[k]) && Number.isNaN(b[i][k]))) bad.push(`element ${k}: ${x[k]} vs ${b[i][k]}`);
    expect(bad, `output ${i}`).toEqual([]);
  });
}

/** Within tol relative to max(1, |want|) everywhere (NaN where want is NaN); names the first few that are not. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 5; i++) {
    const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : got[i] === want[i] || Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i]));
    if (!ok) bad.push(`element ${i}: ${got[i]} vs ${want[i]}`);
  }
  expect(bad).toEqual([]);
}

/**
 * The windows of a 'valid' 2-D pooling of an NHWC tensor: [oh, ow], and `visit(out, inputs)` for
 * every output element, its flat index and its window's flat input indices in row-major order.
 */
function poolWindows(
  shape: readonly number[],
  window: readonly number[],
  strides: readonly number[],
  visit: (out: number, inputs: number[]) => void,
): [number, number] {
  const [n, h, w, c] = shape;
  const [oh, ow] = [Math.floor((h - window[0]) / strides[0]) + 1, Math.floor((w - window[1]) / strides[1]) + 1];
  for (let b = 0; b < n; b++)
    for (let u = 0; u < oh; u++)
      for (let v = 0; v < ow; v++)
        for (let k = 0; k < c; k++) {
          const inputs: number[] = [];
          for (let i = 0; i < window[0]; i++) for (let j = 0; j < window[1]; j++) inputs.push(((b * h + u * strides[0] + i) * w + v * strides[1] + j) * c + k);
          visit(((b * oh + u) * ow + v) * c + k, inputs);
        }
  return [oh, ow];
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: object = {}) => tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap);

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

afterAll(async () => {
  useSimdLoops(true);
  await tf.setBackend('cpu');
});

describe('the SIMD module', () => {
  it('is the assembly of backends/wasm/kernels.wat', async () => {
    const { generate } = (await import(join(ROOT, 'scripts', 'build-wasm-kernels.mjs'))) as { generate(text: string): Promise<string> };
    const expected = await generate(readFileSync(join(ROOT, 'backends', 'wasm', 'kernels.wat'), 'utf8'));
    expect(readFileSync(join(ROOT, 'backends', 'wasm', 'kernels-wasm.ts'), 'utf8')).toBe(expected);
    expect(KERNELS_WASM_BASE64.length).toBeGreaterThan(0);
  });

  it("loads on Node's wasm backend, so that the tests below compare two implementations", () => {
    expect(simdLoops(tf.backend())).toBeDefined();
  });
});

describe('EinnetReluBiasGrad', () => {
  for (const shape of [
    [64, 28, 28, 6],
    [3, 5, 7, 16],
    [2, 3, 5],
    [7, 1],
    [5, 3],
    [1, 1, 1, 9],
  ]) {
    it(`[${shape}]: dz = dy where y > 0, and the channel sums, as loops in double; SIMD = JavaScript`, () => {
      const n = sizeOf(shape);
      const c = shape[shape.length - 1];
      const y = randoms(n, n);
      const dy = randoms(n + 1, n, 3);
      if (n > 4) [y[0], y[1], y[2], dy[3]] = [NaN, Infinity, -Infinity, NaN];
      const [simd, js] = bothLoops(() => run('EinnetReluBiasGrad', { dy: tf.tensor(dy, shape), y: tf.tensor(y, shape) }) as tf.Tensor[]);
      expectSameBits(simd.slice(0, 1), js.slice(0, 1));
      const dz = Float64Array.from(y, (v, i) => (v > 0 ? dy[i] : 0));
      const sums = new Float64Array(c);
      dz.forEach((v, i) => (sums[i % c] += v));
      for (const got of [simd, js]) {
        expectClose(got[0], dz, 0);
        expectClose(got[1], sums, 1e-6);
      }
    });
  }
});

/**
 * Poolings of NHWC tensors for the pooling kernels: channel counts that take the 16-wide, 4-wide
 * and one-at-a-time paths, alone and together; overlapping and tiling windows.
 */
const POOL_CASES: { shape: number[]; window: [number, number]; strides: [number, number] }[] = [
  { shape: [2, 28, 28, 6], window: [2, 2], strides: [2, 2] },
  { shape: [2, 10, 10, 16], window: [2, 2], strides: [2, 2] },
  { shape: [2, 9, 7, 5], window: [3, 3], strides: [2, 1] },
  { shape: [1, 6, 6, 4], window: [3, 2], strides: [1, 2] },
  { shape: [3, 5, 5, 1], window: [5, 5], strides: [1, 1] },
  { shape: [2, 9, 9, 64], window: [3, 3], strides: [2, 2] },
  { shape: [2, 8, 8, 21], window: [2, 2], strides: [2, 2] },
  { shape: [1, 7, 5, 6], window: [3, 2], strides: [1, 2] },
];

describe('EinnetMaxPoolKeepingNaN', () => {
  for (const { shape, window, strides } of POOL_CASES) {
    it(`[${shape}] window ${window} strides ${strides}: each window's largest value, NaN where it holds one, ±∞ kept; SIMD = JavaScript`, () => {
      const x = randoms(sizeOf(shape) + 1, sizeOf(shape), 3);
      for (let k = 0; k < x.length; k += 37) x[k] = NaN;
      for (let k = 5; k < x.length; k += 53) x[k] = k % 2 === 0 ? Infinity : -Infinity;
      const [simd, js] = bothLoops(() => [run('EinnetMaxPoolKeepingNaN', { x: tf.tensor(x, shape) }, { filterSize: window, strides }) as tf.Tensor]);
      expectSameBits(simd, js);
      const want: number[] = [];
      poolWindows(shape, window, strides, (out, inputs) => {
        want[out] = inputs.reduce((best, p) => (Number.isNaN(x[p]) || Number.isNaN(best) ? NaN : Math.max(best, x[p])), -Infinity);
      });
      const wantF = Float32Array.from(want);
      expect(wantF.some(Number.isNaN)).toBe(true);
      expectSameBits(simd, [wantF]);
    });
  }
});

describe('EinnetFirstMaxPoolGrad', () => {
  for (const { shape, window, strides } of POOL_CASES) {
    it(`[${shape}] window ${window} strides ${strides}: the first maximum of each window gets its dy; SIMD = JavaScript`, () => {
      const want = new Float64Array(sizeOf(shape));
      // Integers with many ties and negative maxima, some NaN and −∞.
      const x = Float32Array.from(randoms(sizeOf(shape), sizeOf(shape), 3), (v) => Math.round(v));
      [x[1], x[5], x[9]] = [NaN, -Infinity, NaN];
      const outputs: [number, number][] = []; // (output, the first maximum of its window)
      const [oh, ow] = poolWindows(shape, window, strides, (out, inputs) => {
        let [best, at] = [-Infinity, inputs[0]];
        for (const p of inputs) if (x[p] > best) [best, at] = [x[p], p];
        outputs.push([out, at]);
      });
      const [n, , , c] = shape;
      const dy = randoms(7, n * oh * ow * c);
      const [simd, js] = bothLoops(() => [
        run('EinnetFirstMaxPoolGrad', { dy: tf.tensor(dy, [n, oh, ow, c]), x: tf.tensor(x, shape) }, { filterSize: window, strides }) as tf.Tensor,
      ]);
      expectSameBits(simd, js);
      for (const [out, at] of outputs) want[at] += dy[out];
      expectClose(simd[0], want, 1e-6);
    });
  }
});

describe('the update kernels', () => {
  const shapes = [[1031], [5, 5, 6, 16], [3]];
  const tensors = (seed: number) => shapes.map((s, i) => tf.tensor(randoms(seed + i, sizeOf(s)), s));
  for (const [label, attrs] of [
    ['adam', { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: false, c1: 0.19, c2: 0.002 }],
    ['adam L2', { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1, decoupled: false, c1: 0.2, c2: 0.01 }],
    ['adamw', { learningRate: 0.02, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, decoupled: true, c1: 0.5, c2: 0.3 }],
  ] as const) {
    it(`${label}: SIMD = JavaScript, in every bit`, () => {
      const [simd, js] = bothLoops(() => {
        const [w, g, m, v] = [tensors(1), tensors(10), tensors(20), tensors(30).map((t) => tf.abs(t))];
        const inputs: tf.NamedTensorMap = {};
        shapes.forEach((_, i) => Object.assign(inputs, { [`w${i}`]: w[i], [`g${i}`]: g[i], [`m${i}`]: m[i], [`v${i}`]: v[i] }));
        return run('EinnetAdamUpdate', inputs, { ...attrs, count: shapes.length }) as tf.Tensor[];
      });
      expectSameBits(simd, js);
    });
  }
  for (const [label, attrs] of [
    ['sgd', { learningRate: 0.1, momentum: 0, weightDecay: 0, nesterov: false }],
    ['sgd momentum + weight decay', { learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: false }],
    ['sgd nesterov', { learningRate: 0.05, momentum: 0.9, weightDecay: 0, nesterov: true }],
  ] as const) {
    it(`${label}: SIMD = JavaScript, in every bit`, () => {
      const [simd, js] = bothLoops(() => {
        const [w, g, v] = [tensors(1), tensors(10), tensors(20)];
        const inputs: tf.NamedTensorMap = {};
        shapes.forEach((_, i) => Object.assign(inputs, { [`w${i}`]: w[i], [`g${i}`]: g[i] }, attrs.momentum > 0 ? { [`v${i}`]: v[i] } : {}));
        return run('EinnetSgdUpdate', inputs, { ...attrs, count: shapes.length }) as tf.Tensor[];
      });
      expectSameBits(simd, js);
    });
  }
  it('moving averages: SIMD = JavaScript, in every bit, and v·m + b·(1 − m)', () => {
    const momenta = [0.9, 0.1, 0.99];
    const [simd, js] = bothLoops(() => {
      const [v, b] = [tensors(1), tensors(10)];
      const inputs: tf.NamedTensorMap = {};
      shapes.forEach((_, i) => Object.assign(inputs, { [`v${i}`]: v[i], [`b${i}`]: b[i] }));
      return run('EinnetMovingAverage', inputs, { momenta }) as tf.Tensor[];
    });
    expectSameBits(simd, js);
    shapes.forEach((s, i) => {
      const [v, b] = [randoms(1 + i, sizeOf(s)), randoms(10 + i, sizeOf(s))];
      expectClose(
        simd[i],
        Float64Array.from(v, (x, k) => x * momenta[i] + b[k] * (1 - momenta[i])),
        1e-6,
      );
    });
  });
});

describe("a convolution's image gradient through einnet's col2im", () => {
  const cases: [string, number[], number[], ConvParams][] = [
    [
      'LeNet C3',
      [64, 14, 14, 6],
      [5, 5, 6, 16],
      {
        rank: 2,
        strides: [1, 1],
        dilations: [1, 1],
        padding: [
          [0, 0],
          [0, 0],
        ],
        depthwise: false,
      },
    ],
    [
      'padded',
      [2, 7, 6, 3],
      [3, 3, 3, 5],
      {
        rank: 2,
        strides: [1, 1],
        dilations: [1, 1],
        padding: [
          [1, 1],
          [2, 0],
        ],
        depthwise: false,
      },
    ],
    [
      'stride 2',
      [2, 9, 8, 4],
      [3, 2, 4, 3],
      {
        rank: 2,
        strides: [2, 2],
        dilations: [1, 1],
        padding: [
          [1, 0],
          [0, 1],
        ],
        depthwise: false,
      },
    ],
    [
      'dilation 2',
      [1, 9, 9, 2],
      [3, 3, 2, 2],
      {
        rank: 2,
        strides: [1, 1],
        dilations: [2, 2],
        padding: [
          [2, 2],
          [2, 2],
        ],
        depthwise: false,
      },
    ],
    [
      'stride 2 and dilation 2',
      [2, 11, 10, 1],
      [2, 3, 1, 6],
      {
        rank: 2,
        strides: [2, 3],
        dilations: [2, 2],
        padding: [
          [0, 1],
          [1, 0],
        ],
        depthwise: false,
      },
    ],
  ];
  for (const [label, imageShape, filterShape, s] of cases) {
    it(`${label}: dX[n, y, x, c] = Σ dZ[n, u, v, o]·W[i, j, c, o] over the windows reading it, in double; SIMD = JavaScript`, () => {
      const [n, h, w, c] = imageShape;
      const [kh, kw, , o] = filterShape;
      const size = (k: number) =>
        Math.floor((imageShape[1 + k] + s.padding[k][0] + s.padding[k][1] - s.dilations[k] * ((k === 0 ? kh : kw) - 1) - 1) / s.strides[k]) + 1;
      const [oh, ow] = [size(0), size(1)];
      const dz = randoms(3, n * oh * ow * o);
      const filter = randoms(4, sizeOf(filterShape));
      const [simd, js] = bothLoops(() => [convImageGradient(s, tf.tensor(dz, [n, oh, ow, o]), tf.tensor(filter, filterShape), imageShape)!]);
      expectClose(simd[0], js[0], 1e-6);
      const want = new Float64Array(sizeOf(imageShape));
      for (let b = 0; b < n; b++)
        for (let u = 0; u < oh; u++)
          for (let v = 0; v < ow; v++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const [y, x] = [u * s.strides[0] + i * s.dilations[0] - s.padding[0][0], v * s.strides[1] + j * s.dilations[1] - s.padding[1][0]];
                if (y < 0 || y >= h || x < 0 || x >= w) continue;
                for (let ch = 0; ch < c; ch++)
                  for (let q = 0; q < o; q++)
                    want[((b * h + y) * w + x) * c + ch] += dz[((b * oh + u) * ow + v) * o + q] * filter[((i * kw + j) * c + ch) * o + q];
              }
      expectClose(simd[0], want, 1e-5);
    });
  }
  it('leaves no tensor behind', () => {
    const s: ConvParams = cases[1][3];
    const [dz, filter] = [tf.ones([2, 7, 6, 5]), tf.ones([3, 3, 3, 5])];
    const before = tf.memory().numTensors;
    convImageGradient(s, dz, filter, [2, 7, 6, 3])!.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([dz, filter]);
  });
});

describe("a convolution's filter gradient through einnet's kernel", () => {
  const cases: [string, number[], number[], ConvParams][] = [
    [
      'LeNet C1',
      [64, 28, 28, 1],
      [5, 5, 1, 6],
      {
        rank: 2,
        strides: [1, 1],
        dilations: [1, 1],
        padding: [
          [2, 2],
          [2, 2],
        ],
        depthwise: false,
      },
    ],
    [
      'LeNet C3',
      [64, 14, 14, 6],
      [5, 5, 6, 16],
      {
        rank: 2,
        strides: [1, 1],
        dilations: [1, 1],
        padding: [
          [0, 0],
          [0, 0],
        ],
        depthwise: false,
      },
    ],
    [
      '37 output channels',
      [2, 7, 6, 3],
      [3, 3, 3, 37],
      {
        rank: 2,
        strides: [1, 1],
        dilations: [1, 1],
        padding: [
          [1, 1],
          [2, 0],
        ],
        depthwise: false,
      },
    ],
    [
      '18 output channels, stride 2',
      [2, 9, 8, 4],
      [3, 2, 4, 18],
      {
        rank: 2,
        strides: [2, 2],
        dilations: [1, 1],
        padding: [
          [1, 0],
          [0, 1],
        ],
        depthwise: false,
      },
    ],
    [
      '5 output channels, dilation 2',
      [1, 9, 9, 2],
      [3, 3, 2, 5],
      {
        rank: 2,
        strides: [1, 1],
        dilations: [2, 2],
        padding: [
          [2, 2],
          [2, 2],
        ],
        depthwise: false,
      },
    ],
    [
      '3 output channels (JavaScript only), stride and dilation',
      [2, 11, 10, 1],
      [2, 3, 1, 3],
      {
        rank: 2,
        strides: [2, 3],
        dilations: [2, 2],
        padding: [
          [0, 1],
          [1, 0],
        ],
        depthwise: false,
      },
    ],
  ];
  for (const [label, imageShape, filterShape, s] of cases) {
    it(`${label}: dW[i, j, c, o] = Σ X[n, y, x, c]·dZ[n, u, v, o] over the windows, in double; SIMD = JavaScript`, () => {
      const [n, h, w, c] = imageShape;
      const [kh, kw, , o] = filterShape;
      const size = (k: number) =>
        Math.floor((imageShape[1 + k] + s.padding[k][0] + s.padding[k][1] - s.dilations[k] * ((k === 0 ? kh : kw) - 1) - 1) / s.strides[k]) + 1;
      const [oh, ow] = [size(0), size(1)];
      const x = randoms(5, sizeOf(imageShape));
      const dz = randoms(6, n * oh * ow * o);
      const [simd, js] = bothLoops(() => [convFilterGradient(s, tf.tensor(x, imageShape), tf.tensor(dz, [n, oh, ow, o]), filterShape)!]);
      const want = new Float64Array(sizeOf(filterShape));
      for (let b = 0; b < n; b++)
        for (let u = 0; u < oh; u++)
          for (let v = 0; v < ow; v++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const [y, xx] = [u * s.strides[0] + i * s.dilations[0] - s.padding[0][0], v * s.strides[1] + j * s.dilations[1] - s.padding[1][0]];
                if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
                for (let ch = 0; ch < c; ch++)
                  for (let q = 0; q < o; q++) want[((i * kw + j) * c + ch) * o + q] += x[((b * h + y) * w + xx) * c + ch] * dz[((b * oh + u) * ow + v) * o + q];
              }
      // The SIMD loop sums in float32, over up to 50,000 terms here.
      expectClose(simd[0], want, 2e-4);
      expectClose(js[0], want, 1e-6);
    });
  }
});

describe("a program's convolution on wasm differentiates only what is asked for", () => {
  const p = ein('Y[b,x:6,y:6,j:3] = relu(W[Δx:3,Δy:3,I,j] · X[b,x+Δx-1,y+Δy-1,I] + B[j])');
  const values = () => ({ X: tf.tensor(randoms(1, 2 * 6 * 6 * 2), [2, 6, 6, 2]), W: tf.variable(tf.tensor(randoms(2, 3 * 3 * 2 * 3), [3, 3, 2, 3])) });

  it('training (variableGrads) skips the data image: no col2im', async () => {
    const { X, W } = values();
    const B = tf.variable(tf.zeros([3]));
    const kernels = (await tf.profile(() => tf.dispose(Object.values(tf.variableGrads(() => tf.sum(p.run({ X, W, B }).Y) as tf.Scalar, [W, B]).grads))))
      .kernels;
    expect(kernels.map((k) => k.name)).not.toContain('EinnetCol2Im');
    expect(kernels.map((k) => k.name)).toContain('EinnetReluBiasGrad');
    tf.dispose([X, W, B]);
  });

  it('tf.grad with respect to the image runs col2im, and second derivatives still work (the derived programs under an outer tape)', async () => {
    const { X, W } = values();
    const B = tf.zeros([3]);
    const loss = (x: tf.Tensor) => tf.sum(tf.square(p.run({ X: x, W, B }).Y));
    const kernels = (await tf.profile(() => tf.grad(loss)(X).dispose())).kernels.map((k) => k.name);
    expect(kernels).toContain('EinnetCol2Im');
    // d/dX of Σ (dloss/dX)², on wasm and on cpu (tfjs' own conv gradients there).
    const second = () =>
      tf.tidy(
        () =>
          tf
            .grad((x: tf.Tensor) => tf.sum(tf.square(tf.grad(loss)(x))))(X)
            .dataSync() as Float32Array,
      );
    const onWasm = second();
    const xs = X.dataSync();
    const ws = W.dataSync();
    await tf.setBackend('cpu');
    try {
      tf.dispose([X, W, B]);
      const [Xc, Wc, Bc] = [tf.tensor(xs, [2, 6, 6, 2]), tf.variable(tf.tensor(ws, [3, 3, 2, 3])), tf.zeros([3])];
      const lossC = (x: tf.Tensor) => tf.sum(tf.square(p.run({ X: x, W: Wc, B: Bc }).Y));
      const onCpu = tf.tidy(
        () =>
          tf
            .grad((x: tf.Tensor) => tf.sum(tf.square(tf.grad(lossC)(x))))(Xc)
            .dataSync() as Float32Array,
      );
      expectClose(onWasm, onCpu, 1e-4);
      tf.dispose([Xc, Wc, Bc]);
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
