/**
 * Convolution kernels of the native backend against tfjs' CPU backend on random shapes:
 * strides, dilations, 'same' / 'valid' / explicit / numeric padding, NHWC and NCHW, forward and
 * gradient (tf.grads on the native backend runs Conv2DBackpropInput / Filter natively).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadAddon } from '../../../backends/native/addon';
import { setNativeWinograd } from '../../../backends/native/winograd';
import { nativeKernelStats, resetNativeKernelStats } from '../../../backends/native/stats';
import { ADDON_BUILT, SKIP_REASON, activateNative, compareWithCpu, gradients, int, pick, randomInput, rng, type Input } from './compare';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

function expectRanNatively(kernels: string[], label: string): void {
  const s = nativeKernelStats();
  expect(s.fallback, `${label}: fallbacks ${s.reasons.join('; ')}`).toEqual({});
  for (const k of kernels) expect(s.native[k] ?? 0, `${label}: ${k} ran natively`).toBeGreaterThan(0);
}

/** A random 2D convolution: input, filter and attributes tfjs accepts. */
function randomConv2D(seed: number, opts: { gradient: boolean; depthwise: boolean; nhwc?: boolean }) {
  const r = rng(seed);
  const nchw = !opts.depthwise && !opts.nhwc && r() < 0.3;
  const n = int(r, 1, 3);
  const c = int(r, 1, 5);
  const kind = pick(r, ['same', 'valid', 'explicit', 'number'] as const);
  // tfjs sizes numeric padding from the window's height and stride on both axes, so it is only
  // self-consistent for square windows (the test below covers the other case).
  const square = kind === 'number';
  const kh = int(r, 1, 4);
  const kw = square ? kh : int(r, 1, 4);
  // tfjs takes strides > 1 or dilations > 1, not both; its gradients take dilation 1 only.
  const dilated = !opts.gradient && r() < 0.35;
  const s0 = int(r, 1, 3);
  const d0 = int(r, 1, 3);
  const stride: [number, number] = dilated ? [1, 1] : [s0, square ? s0 : int(r, 1, 3)];
  const dilation: [number, number] = dilated ? [d0, square ? d0 : int(r, 1, 3)] : [1, 1];
  const eh = (kh - 1) * dilation[0] + 1;
  const ew = (kw - 1) * dilation[1] + 1;
  let pad: Pad;
  let h: number;
  let w: number;
  if (kind === 'explicit') {
    const p = [int(r, 0, 2), int(r, 0, 2), int(r, 0, 2), int(r, 0, 2)];
    pad = nchw
      ? [
          [0, 0],
          [0, 0],
          [p[0], p[1]],
          [p[2], p[3]],
        ]
      : [
          [0, 0],
          [p[0], p[1]],
          [p[2], p[3]],
          [0, 0],
        ];
    h = Math.max(eh - p[0] - p[1], 1) + int(r, 0, 8);
    w = Math.max(ew - p[2] - p[3], 1) + int(r, 0, 8);
  } else if (kind === 'number') {
    pad = int(r, 0, 2);
    h = Math.max(eh - 2 * pad, 1) + int(r, 0, 8);
    w = Math.max(ew - 2 * pad, 1) + int(r, 0, 8);
  } else {
    pad = kind;
    h = (kind === 'valid' ? eh : 1) + int(r, 0, 8);
    w = (kind === 'valid' ? ew : 1) + int(r, 0, 8);
  }
  const oc = opts.depthwise ? int(r, 1, 3) : int(r, 1, 6); // depthwise: channel multiplier
  const x = randomInput(r, nchw ? [n, c, h, w] : [n, h, w, c]);
  const filter = randomInput(r, [kh, kw, c, oc]);
  const label =
    `seed ${seed}: x [${x.shape}] filter [${filter.shape}] strides ${stride} dilations ${dilation} ` + `pad ${JSON.stringify(pad)} ${nchw ? 'NCHW' : 'NHWC'}`;
  return { x, filter, stride, dilation, pad, format: (nchw ? 'NCHW' : 'NHWC') as 'NHWC' | 'NCHW', label, r };
}

describe.skipIf(!ADDON_BUILT)(`native convolutions vs tfjs cpu${SKIP_REASON}`, () => {
  let tensorsBefore = 0;
  beforeAll(async () => {
    await activateNative();
    tensorsBefore = tf.memory().numTensors;
  });
  beforeEach(() => resetNativeKernelStats());
  afterAll(() => {
    // Every case disposes what it made: no tensor outlives the tests.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('Conv2D forward, 40 random shapes', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const c = randomConv2D(seed, { gradient: false, depthwise: false });
      resetNativeKernelStats();
      await compareWithCpu(c.label, [c.x, c.filter], ([x, f]) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad, c.format, c.dilation));
      expectRanNatively(['Conv2D'], c.label);
    }
  });

  it('Conv2D gradients (Conv2DBackpropInput, Conv2DBackpropFilter), 30 random shapes', async () => {
    for (let seed = 101; seed <= 130; seed++) {
      const c = randomConv2D(seed, { gradient: true, depthwise: false });
      resetNativeKernelStats();
      await compareWithCpu(
        c.label,
        [c.x, c.filter],
        gradients(([x, f]) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad, c.format, c.dilation)),
      );
      expectRanNatively(['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'], c.label);
    }
  });

  it('convolutions with the same shapes but other attributes are planned apart (plan cache)', async () => {
    // backends/native/conv.ts keeps planned geometries by shapes and attributes: each variant,
    // run twice in alternation, must give the CPU backend's answer every time.
    const r = rng(7);
    const x = randomInput(r, [2, 9, 9, 3]);
    const filter = randomInput(r, [3, 3, 3, 4]);
    const variants: [string, [number, number], Pad, [number, number]][] = [
      ['same', [1, 1], 'same', [1, 1]],
      ['valid', [1, 1], 'valid', [1, 1]],
      ['stride 2', [2, 2], 'same', [1, 1]],
      ['dilation 2', [1, 1], 'same', [2, 2]],
      [
        'explicit',
        [1, 1],
        [
          [0, 0],
          [2, 0],
          [0, 1],
          [0, 0],
        ],
        [1, 1],
      ],
      ['numeric 1', [1, 1], 1, [1, 1]],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [name, stride, pad, dilation] of variants) {
        resetNativeKernelStats();
        await compareWithCpu(`${name}, round ${round}`, [x, filter], ([a, f]) => tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, stride, pad, 'NHWC', dilation));
        expectRanNatively(['Conv2D'], name);
      }
    }
  });

  // oneDNN 2.6 has Winograd kernels for AVX-512 only; elsewhere the same convolutions run direct.
  const winogradHere = () => loadAddon().info().cpuIsa.startsWith('avx512');

  it("3x3 stride-1 convs of 32+ channels run on oneDNN's Winograd kernels (nChw16c), forward, fused and gradients; none on its reference loops", async () => {
    // [x shape, filter shape, padding, stride, whether Winograd applies]
    const cases: [number[], number[], Pad, number, boolean][] = [
      [[2, 8, 8, 32], [3, 3, 32, 32], 'same', 1, true],
      [[3, 7, 9, 48], [3, 3, 48, 64], 'same', 1, true],
      [[1, 10, 6, 64], [3, 3, 64, 32], 'valid', 1, true],
      [
        [2, 9, 9, 32],
        [3, 3, 32, 48],
        [
          [0, 0],
          [1, 1],
          [0, 0],
          [0, 0],
        ],
        1,
        true,
      ],
      // Not Winograd: uneven padding (oneDNN's Winograd backward-data pass gets it wrong), 16
      // channels (the blocked direct kernels), 40 channels, too few output rows, a 5x5 window, stride 2.
      [
        [2, 9, 9, 32],
        [3, 3, 32, 48],
        [
          [0, 0],
          [1, 0],
          [0, 1],
          [0, 0],
        ],
        1,
        false,
      ],
      [[2, 8, 8, 16], [3, 3, 16, 16], 'same', 1, false],
      [[2, 8, 8, 40], [3, 3, 40, 32], 'same', 1, false],
      [[2, 3, 8, 32], [3, 3, 32, 32], 'valid', 1, false],
      [[2, 8, 8, 32], [5, 5, 32, 32], 'same', 1, false],
      [[2, 8, 8, 32], [3, 3, 32, 32], 'same', 2, false],
    ];
    const r = rng(31);
    for (const [xShape, fShape, pad, stride, winograd] of cases) {
      const x = randomInput(r, xShape);
      const filter = randomInput(r, fShape);
      const bias = randomInput(r, [fShape[3]]);
      const label = `x [${xShape}] filter [${fShape}] pad ${JSON.stringify(pad)} stride ${stride}`;
      const before = loadAddon().info().winogradPrimitives;
      const referenceBefore = loadAddon().info().referenceConvolutions;
      resetNativeKernelStats();
      const conv = ([a, f]: tf.Tensor[]) => tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, stride, pad);
      await compareWithCpu(`${label} forward`, [x, filter], conv);
      await compareWithCpu(`${label} gradients`, [x, filter], gradients(conv));
      await compareWithCpu(`${label} fused bias + relu`, [x, filter, bias], ([a, f, b]) =>
        tf.fused.conv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: stride, pad, bias: b, activation: 'relu' }),
      );
      expectRanNatively(['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'FusedConv2D'], label);
      // Forward, fused forward, backward-data and backward-weights primitives: four new ones each.
      expect(loadAddon().info().winogradPrimitives - before, `${label}: Winograd primitives made (${loadAddon().info().cpuIsa})`).toBe(
        winograd && winogradHere() ? 4 : 0,
      );
      // None of these may fall to oneDNN's reference loops (16 channels in nChw16c did, on AVX2).
      expect(loadAddon().info().referenceConvolutions - referenceBefore, `${label}: reference primitives (${loadAddon().info().cpuIsa})`).toBe(0);
    }
  });

  it('setNativeWinograd(false) runs the same convolution on the direct kernels (same answer), true brings Winograd back', async () => {
    const r = rng(32);
    const x = randomInput(r, [2, 8, 8, 32]);
    const filter = randomInput(r, [3, 3, 32, 48]);
    const conv = gradients(([a, f]: tf.Tensor[]) => tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'));
    const made = async (label: string) => {
      const before = loadAddon().info().winogradPrimitives;
      await compareWithCpu(label, [x, filter], conv);
      return loadAddon().info().winogradPrimitives - before;
    };
    try {
      expect(setNativeWinograd(false)).toBe(true);
      expect(await made('Winograd forbidden')).toBe(0);
      expect(setNativeWinograd(true)).toBe(false);
      // The change dropped the compiled primitives: the same shapes now get Winograd ones.
      expect(await made('Winograd allowed')).toBe(winogradHere() ? 3 : 0);
    } finally {
      setNativeWinograd(true);
    }
  });

  // einnet's own Winograd F(2x2, 3x3) (src/winograd.h) runs where oneDNN has none: AVX2 with FMA
  // and no AVX-512. With AVX-512 these convolutions are oneDNN's, which the tests above cover.
  const ownWinograd = loadAddon().info().ownWinogradAvailable;

  it.skipIf(!ownWinograd)(
    "3x3 stride-1 convs of 16-256 channels run on einnet's own Winograd (forward, both gradients, fused bias + relu/relu6) where oneDNN has none",
    async () => {
      // [x shape, filter shape, padding, stride, dilation, whether it applies]
      const cases: [number[], number[], Pad, number, number, boolean][] = [
        [[2, 8, 8, 16], [3, 3, 16, 16], 'same', 1, 1, true],
        // Odd sizes (tiles sticking out of the output), several blocks of tiles, both threads.
        [[3, 7, 9, 16], [3, 3, 16, 24], 'same', 1, 1, true],
        [[4, 17, 15, 32], [3, 3, 32, 16], 'same', 1, 1, true],
        [[1, 10, 6, 32], [3, 3, 32, 16], 'valid', 1, 1, true],
        // Uneven padding and padding 2: the input gradient is padded 2 - pad on the near sides.
        [
          [2, 9, 9, 16],
          [3, 3, 16, 24],
          [
            [0, 0],
            [1, 0],
            [0, 2],
            [0, 0],
          ],
          1,
          1,
          true,
        ],
        [
          [2, 5, 5, 64],
          [3, 3, 64, 64],
          [
            [0, 0],
            [2, 2],
            [2, 2],
            [0, 0],
          ],
          1,
          1,
          true,
        ],
        [[1, 1, 1, 16], [3, 3, 16, 16], 'same', 1, 1, true],
        // Padding 3 and 4: the input gradient's windows start inside dy.
        [
          [2, 6, 5, 16],
          [3, 3, 16, 16],
          [
            [0, 0],
            [3, 1],
            [0, 4],
            [0, 0],
          ],
          1,
          1,
          true,
        ],
        // Not taken: 12 channels, 8, more than 256 x 256 channel pairs, stride 2, a 5x5 window, dilation 2.
        [[2, 8, 8, 12], [3, 3, 12, 16], 'same', 1, 1, false],
        [[2, 8, 8, 8], [3, 3, 8, 16], 'same', 1, 1, false],
        [[1, 3, 3, 512], [3, 3, 512, 136], 'same', 1, 1, false],
        [[2, 8, 8, 16], [3, 3, 16, 16], 'same', 2, 1, false],
        [[2, 8, 8, 16], [5, 5, 16, 16], 'same', 1, 1, false],
        [[2, 8, 8, 16], [3, 3, 16, 16], 'same', 1, 2, false],
      ];
      const r = rng(33);
      for (const [xShape, fShape, pad, stride, dilation, applies] of cases) {
        const x = randomInput(r, xShape);
        const filter = randomInput(r, fShape);
        const bias = randomInput(r, [fShape[3]]);
        const label = `x [${xShape}] filter [${fShape}] pad ${JSON.stringify(pad)} stride ${stride} dilation ${dilation}`;
        const before = loadAddon().info().ownWinogradPasses;
        const conv = ([a, f]: tf.Tensor[]) => tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, stride, pad, 'NHWC', dilation);
        const fused =
          (activation: 'relu' | 'relu6') =>
          ([a, f, b]: tf.Tensor[]) =>
            tf.fused.conv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: stride, pad, dilations: dilation, bias: b, activation });
        resetNativeKernelStats();
        await compareWithCpu(`${label} forward`, [x, filter], conv);
        await compareWithCpu(`${label} fused bias + relu6`, [x, filter, bias], fused('relu6'));
        // tfjs differentiates convolutions at dilation 1 only.
        if (dilation === 1) {
          await compareWithCpu(`${label} gradients`, [x, filter], gradients(conv));
          await compareWithCpu(`${label} fused bias + relu, gradients`, [x, filter, bias], gradients(fused('relu')));
        }
        expectRanNatively(['Conv2D', 'FusedConv2D'], label);
        // Forward, relu6, and each gradient's forward, input-gradient and filter-gradient passes.
        expect(loadAddon().info().ownWinogradPasses - before, `${label}: passes on einnet's Winograd`).toBe(applies ? 8 : 0);
      }
    },
  );

  it.skipIf(!ownWinograd)("setNativeWinograd(false) turns einnet's own Winograd off too (same answer from oneDNN's direct kernels)", async () => {
    const r = rng(34);
    const x = randomInput(r, [2, 8, 8, 16]);
    const filter = randomInput(r, [3, 3, 16, 16]);
    const conv = gradients(([a, f]: tf.Tensor[]) => tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'));
    const passes = async (label: string) => {
      const before = loadAddon().info().ownWinogradPasses;
      await compareWithCpu(label, [x, filter], conv);
      return loadAddon().info().ownWinogradPasses - before;
    };
    try {
      setNativeWinograd(false);
      expect(await passes('Winograd forbidden')).toBe(0);
      setNativeWinograd(true);
      expect(await passes('Winograd allowed')).toBe(3);
    } finally {
      setNativeWinograd(true);
    }
  });

  it('FusedConv2D with bias and every activation oneDNN takes, forward and gradient', async () => {
    const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const;
    for (let seed = 201; seed <= 224; seed++) {
      // tfjs' fused conv gradient takes NHWC only.
      const activation = activations[seed % activations.length];
      const c = randomConv2D(seed, { gradient: true, depthwise: false, nhwc: true });
      const oc = c.filter.shape[3];
      const bias: Input = randomInput(c.r, [oc]);
      const label = `${c.label} activation ${activation}`;
      const fused = ([x, f, b]: tf.Tensor[]) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: f as tf.Tensor4D,
          strides: c.stride,
          pad: c.pad,
          dataFormat: c.format,
          dilations: c.dilation,
          bias: b,
          activation,
          leakyreluAlpha: 0.15,
        });
      resetNativeKernelStats();
      await compareWithCpu(label, [c.x, c.filter, bias], fused);
      expectRanNatively(['FusedConv2D'], label);
      if (activation === 'linear' || activation === 'relu') {
        await compareWithCpu(`${label} gradient`, [c.x, c.filter, bias], gradients(fused));
      }
    }
  });

  it('DepthwiseConv2dNative forward, 25 random shapes (channel multipliers, dilations)', async () => {
    for (let seed = 301; seed <= 325; seed++) {
      const c = randomConv2D(seed, { gradient: false, depthwise: true });
      resetNativeKernelStats();
      await compareWithCpu(c.label, [c.x, c.filter], ([x, f]) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation));
      expectRanNatively(['DepthwiseConv2dNative'], c.label);
    }
  });

  it('DepthwiseConv2dNative gradients, 20 random shapes', async () => {
    for (let seed = 401; seed <= 420; seed++) {
      const c = randomConv2D(seed, { gradient: true, depthwise: true });
      // tfjs' depthwise gradient takes 'same' / 'valid' / numeric padding.
      const pad = Array.isArray(c.pad) ? 'same' : c.pad;
      const label = `${c.label} (pad ${pad})`;
      resetNativeKernelStats();
      await compareWithCpu(
        label,
        [c.x, c.filter],
        gradients(([x, f]) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, pad, 'NHWC', c.dilation)),
      );
      expectRanNatively(['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'], label);
    }
  });

  it('FusedDepthwiseConv2D with bias and relu', async () => {
    for (let seed = 451; seed <= 460; seed++) {
      const c = randomConv2D(seed, { gradient: false, depthwise: true });
      const bias = randomInput(c.r, [c.filter.shape[2] * c.filter.shape[3]]);
      resetNativeKernelStats();
      await compareWithCpu(c.label, [c.x, c.filter, bias], ([x, f, b]) =>
        tf.fused.depthwiseConv2d({
          x: x as tf.Tensor4D,
          filter: f as tf.Tensor4D,
          strides: c.stride,
          pad: c.pad as Parameters<typeof tf.fused.depthwiseConv2d>[0]['pad'],
          dilations: c.dilation,
          bias: b,
          activation: 'relu',
        }),
      );
      expectRanNatively(['FusedDepthwiseConv2D'], c.label);
    }
  });

  it('Conv3D forward and gradients, 16 random shapes', async () => {
    for (let seed = 501; seed <= 516; seed++) {
      const r = rng(seed);
      const k = [int(r, 1, 3), int(r, 1, 3), int(r, 1, 3)] as const;
      const gradient = seed % 2 === 0;
      const dilated = !gradient && r() < 0.5;
      const stride: [number, number, number] = dilated ? [1, 1, 1] : [int(r, 1, 2), int(r, 1, 2), int(r, 1, 2)];
      const dilation: [number, number, number] = dilated ? [int(r, 1, 2), int(r, 1, 2), int(r, 1, 2)] : [1, 1, 1];
      const pad = pick(r, ['same', 'valid'] as const);
      const sp = k.map((kk, i) => (kk - 1) * dilation[i] + 1 + int(r, 0, 4));
      const x = randomInput(r, [int(r, 1, 2), ...sp, int(r, 1, 4)]);
      const filter = randomInput(r, [...k, x.shape[4], int(r, 1, 4)]);
      const label = `seed ${seed}: x [${x.shape}] filter [${filter.shape}] strides ${stride} dilations ${dilation} pad ${pad}`;
      const f = ([a, b]: tf.Tensor[]) => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, stride, pad, 'NDHWC', dilation);
      resetNativeKernelStats();
      await compareWithCpu(label, [x, filter], gradient ? gradients(f) : f);
      expectRanNatively(gradient ? ['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2'] : ['Conv3D'], label);
    }
  });

  it("tfjs' rounded output extents (numeric padding, 'ceil' / 'round') run natively with widened end padding", async () => {
    const r = rng(6);
    const x = randomInput(r, [2, 7, 8, 3]);
    const filter = randomInput(r, [3, 3, 3, 4]);
    for (const rounding of ['ceil', 'round', 'floor'] as const) {
      resetNativeKernelStats();
      const out = await compareWithCpu(`rounding ${rounding}`, [x, filter], ([a, b]) =>
        tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 1, 'NHWC', 1, rounding),
      );
      // (8 - 3 + 2) / 2 + 1 = 4.5 columns: ceil and round give 5, floor 4.
      expect(out[0].shape).toEqual([2, 4, rounding === 'floor' ? 4 : 5, 4]);
      expectRanNatively(['Conv2D'], `rounding ${rounding}`);
    }
  });

  it("tfjs' numeric padding with non-square windows or strides gives the CPU backend's answer", async () => {
    // tfjs computes both output extents from the window height and height stride here; where
    // no oneDNN padding reproduces that the CPU kernel runs, otherwise oneDNN with narrowed padding.
    for (let seed = 601; seed <= 612; seed++) {
      const r = rng(seed);
      const x = randomInput(r, [1, int(r, 4, 9), int(r, 4, 9), 2]);
      const filter = randomInput(r, [int(r, 1, 3), int(r, 1, 3), 2, 3]);
      const strides: [number, number] = [int(r, 1, 3), int(r, 1, 3)];
      const pad = int(r, 0, 1);
      await compareWithCpu(`seed ${seed} x [${x.shape}] filter [${filter.shape}] strides ${strides} pad ${pad}`, [x, filter], ([a, b]) =>
        tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad),
      );
    }
  });

  it('falls back to the CPU kernel (same answer) for what oneDNN cannot take, and says why under EINNET_DEBUG', async () => {
    const r = rng(7);
    const x = randomInput(r, [1, 7, 7, 2]);
    const filter = randomInput(r, [3, 3, 2, 3]);
    const writes: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.env.EINNET_DEBUG = '1';
    process.stderr.write = ((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      resetNativeKernelStats();
      // An empty batch: nothing for oneDNN to do, the CPU kernel returns the empty result.
      const empty = { shape: [0, 7, 7, 2], data: new Float32Array(0) };
      await compareWithCpu('empty batch', [empty, filter], ([a, b]) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'));
      // prelu is not a oneDNN post-op.
      const alpha = randomInput(r, [3]);
      await compareWithCpu('prelu', [x, filter, alpha], ([a, b, p]) =>
        tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 1, pad: 'same', activation: 'prelu', preluActivationWeights: p }),
      );
    } finally {
      process.stderr.write = original;
      delete process.env.EINNET_DEBUG;
    }
    const s = nativeKernelStats();
    expect(s.fallback.Conv2D).toBe(1);
    expect(s.fallback.FusedConv2D).toBe(1);
    expect(writes.join('')).toMatch(/einnet-native: Conv2D runs on the tfjs cpu kernel: empty tensor/);
    expect(writes.join('')).toMatch(/einnet-native: FusedConv2D runs on the tfjs cpu kernel: prelu activation/);
  });

  it("user shape errors still get tfjs' own message, not a crash", async () => {
    const r = rng(8);
    const x = randomInput(r, [1, 5, 5, 2]);
    const filter = randomInput(r, [3, 3, 4, 3]); // 4 input channels, x has 2
    await tf.setBackend('einnet-native');
    const xs = [tf.tensor(x.data, x.shape), tf.tensor(filter.data, filter.shape)];
    expect(() => tf.conv2d(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, 1, 'same')).toThrow(/depth of input \(2\) must match input depth for filter 4/);
    tf.dispose(xs);
  });
});
