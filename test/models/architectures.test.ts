/**
 * Architectures: output shape and parameter count of each, against published figures and
 * independent per-layer formulas (never through the checker that built them). The large ones are
 * only checked (`describeModel`: no tensor is allocated).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeModel } from '../../models/model';
import { NetBuilder } from '../../models/builder';
import { channelShuffle, depthwiseSeparable, shuffleUnit } from '../../models/blocks';
import { alexnetSpec, densenetBCSpec, lenet5, resnet50Spec, resnetCifarSpec, vgg16Spec } from '../../models/architectures';
import { failure, useWasm, values } from './helpers';

beforeAll(useWasm);

/** conv k×k from c to d channels, without bias. */
const conv = (k: number, c: number, d: number) => k * k * c * d;
const bn = (c: number) => 2 * c;

describe('LeNet-5 (seed 002 table)', () => {
  it('28×28 input → C1 28×28×6 … Out 10, 61,706 parameters, and runs', () => {
    const m = lenet5({ seed: 3 });
    try {
      const s = m.check({ X: [2, 28, 28, 1] }).shapes;
      expect([s.C1, s.S2, s.C3, s.S4, s.C5, s.F6, s.Out]).toEqual([
        [2, 28, 28, 6],
        [2, 14, 14, 6],
        [2, 10, 10, 16],
        [2, 5, 5, 16],
        [2, 120],
        [2, 84],
        [2, 10],
      ]);
      // C1 5·5·1·6+6, C3 5·5·6·16+16, C5 5·5·16·120+120, F6 120·84+84, Out 84·10+10
      expect(m.parameterCount).toBe(156 + 2416 + 48120 + 10164 + 850);
      const y = m.apply({ X: tf.zeros([2, 28, 28, 1]) });
      expect(y.shape).toEqual([2, 10]);
      y.dispose();
    } finally {
      m.dispose();
    }
  });
  it('the original 32×32 input gives the same network', () => {
    const m = lenet5({ size: 32 });
    expect(m.check().shapes.C1).toEqual([1, 28, 28, 6]);
    expect(m.parameterCount).toBe(61706);
    m.dispose();
  });
});

describe('AlexNet (seed 003 shapes)', () => {
  it('55×55×96, 27×27×96, 27×27×256, 13×13×256, 13×13×384 ×2, 13×13×256, 6×6×256, 4096, 4096, 1000', () => {
    const d = describeModel(alexnetSpec());
    const s = d.shapes;
    expect([s.L1, s.L2, s.L3, s.L4, s.L5, s.L6, s.L7, s.L8, s.L9, s.L10, s.L11]).toEqual([
      [1, 55, 55, 96],
      [1, 27, 27, 96],
      [1, 27, 27, 256],
      [1, 13, 13, 256],
      [1, 13, 13, 384],
      [1, 13, 13, 384],
      [1, 13, 13, 256],
      [1, 6, 6, 256],
      [1, 4096],
      [1, 4096],
      [1, 1000],
    ]);
    const expected =
      conv(11, 3, 96) +
      96 +
      conv(5, 96, 256) +
      256 +
      conv(3, 256, 384) +
      384 +
      conv(3, 384, 384) +
      384 +
      conv(3, 384, 256) +
      256 +
      6 * 6 * 256 * 4096 +
      4096 +
      4096 * 4096 +
      4096 +
      4096 * 1000 +
      1000;
    expect(d.parameterCount).toBe(expected);
    expect(d.parameterCount).toBe(62_378_344);
  });
});

describe('VGG-16', () => {
  it('224×224×3 → 7×7×512 → 1000 with 138,357,544 parameters (≈138M)', () => {
    const d = describeModel(vgg16Spec());
    expect(d.shapes.pool5).toEqual([1, 7, 7, 512]);
    expect(d.outputShape).toEqual([1, 1000]);
    expect(d.parameterCount).toBe(138_357_544);
  });
});

describe('CIFAR ResNets (zero-padded shortcuts, seed 003 spatial reduction)', () => {
  /** Independent count: 3×3 convs without bias, BN γβ, FC. */
  function cifarResNetParams(n: number): number {
    let p = conv(3, 3, 16) + bn(16);
    let c = 16;
    for (const w of [16, 32, 64]) {
      for (let k = 0; k < n; k++) {
        p += conv(3, c, w) + bn(w) + conv(3, w, w) + bn(w);
        c = w;
      }
    }
    return p + 64 * 10 + 10;
  }
  it('ResNet-20: 32×32×3 → 10, 269,722 parameters (≈0.27M)', () => {
    const d = describeModel(resnetCifarSpec({ depth: 20 }));
    expect(d.outputShape).toEqual([1, 10]);
    expect(d.shapes['stage2.block1']).toEqual([1, 16, 16, 32]);
    expect(d.shapes['stage3.block3']).toEqual([1, 8, 8, 64]);
    expect(d.parameterCount).toBe(cifarResNetParams(3));
    expect(d.parameterCount).toBe(269_722);
  });
  it('ResNet-56: 853,018 parameters (≈0.85M), written by the same loop', () => {
    const d = describeModel(resnetCifarSpec({ depth: 56 }));
    expect(d.parameterCount).toBe(cifarResNetParams(9));
    expect(d.parameterCount).toBe(853_018);
    expect(d.shapes['stage3.block9']).toEqual([1, 8, 8, 64]);
  });
  it('rejects a depth that is not 6n + 2 (EIN4001)', () => {
    expect(failure(() => resnetCifarSpec({ depth: 21 })).code).toBe('EIN4001');
  });
});

describe('ResNet-50 (bottlenecks, projection shortcuts)', () => {
  it('224×224×3 → 7×7×2048 → 1000 with 25,557,032 parameters (≈25.6M)', () => {
    const d = describeModel(resnet50Spec());
    expect(d.shapes['stage1.block3']).toEqual([1, 56, 56, 256]);
    expect(d.shapes['stage4.block3']).toEqual([1, 7, 7, 2048]);
    expect(d.outputShape).toEqual([1, 1000]);
    expect(d.parameterCount).toBe(25_557_032);
  });
});

describe('DenseNet-BC-100, k = 12', () => {
  function densenetParams(n: number, k: number): number {
    let c = 2 * k;
    let p = conv(3, 3, c);
    for (let b = 0; b < 3; b++) {
      for (let l = 0; l < n; l++) {
        p += bn(c) + conv(1, c, 4 * k) + bn(4 * k) + conv(3, 4 * k, k);
        c += k;
      }
      if (b < 2) {
        const out = Math.floor(c / 2);
        p += bn(c) + conv(1, c, out);
        c = out;
      }
    }
    return p + bn(c) + c * 10 + 10;
  }
  it('32×32×3 → 10 with 769,162 parameters (≈0.8M), 342 channels before the classifier', () => {
    const d = describeModel(densenetBCSpec());
    expect(d.outputShape).toEqual([1, 10]);
    expect(d.shapes['block3.layer16']).toEqual([1, 8, 8, 342]);
    expect(d.shapes.trans1).toEqual([1, 16, 16, 108]);
    expect(d.parameterCount).toBe(densenetParams(16, 12));
    expect(d.parameterCount).toBe(769_162);
  });
});

describe('MobileNet depthwise-separable block', () => {
  it('3×3 depthwise + BN + 1×1 to 64 + BN: 288 + 64 + 2,048 + 128 parameters; stride 2 halves', () => {
    const net = new NetBuilder({ X: [1, 16, 16, 32] });
    const y = net.add('ds', depthwiseSeparable({ out: 64, stride: 2 }), net.input('X'));
    expect(y.shape).toEqual([1, 8, 8, 64]);
    const d = describeModel(net.spec());
    expect(d.parameterCount).toBe(3 * 3 * 32 + bn(32) + 32 * 64 + bn(64));
  });
});

describe('ShuffleNet unit with channel shuffle', () => {
  it('channel shuffle (g = 3, 6 channels) puts channel order 0,2,4,1,3,5', () => {
    const net = new NetBuilder({ X: [1, 1, 1, 6] });
    net.add('sh', channelShuffle(3), net.input('X'));
    const m = net.build();
    const y = m.apply({ X: tf.tensor4d([0, 1, 2, 3, 4, 5], [1, 1, 1, 6]) });
    expect(values(y)).toEqual([0, 2, 4, 1, 3, 5]);
    y.dispose();
    m.dispose();
  });
  it('240 channels, g = 3: shape kept, 10,860 parameters, and it runs in both modes', () => {
    const net = new NetBuilder({ X: [2, 8, 8, 240] });
    const y = net.add('unit', shuffleUnit({ groups: 3 }), net.input('X'));
    expect(y.shape).toEqual([2, 8, 8, 240]);
    // gconv1: 3 groups of 80→20; dw 3×3 on 60; gconv2: 3 groups of 20→80; four BNs.
    const expected = 3 * 80 * 20 + bn(60) + 9 * 60 + bn(60) + 3 * 20 * 80 + bn(240);
    const m = net.build({ seed: 1 });
    try {
      expect(m.parameterCount).toBe(expected);
      expect(m.parameterCount).toBe(10_860);
      const x = tf.randomNormal([2, 8, 8, 240], 0, 1, 'float32', 1);
      const a = m.apply({ X: x }, { training: true });
      const b = m.apply({ X: x });
      expect(a.shape).toEqual([2, 8, 8, 240]);
      expect(Math.min(...values(a))).toBeGreaterThanOrEqual(0);
      tf.dispose([x, a, b]);
    } finally {
      m.dispose();
    }
  });
});
