/** ResNets: the CIFAR family (ResNet-20/32/44/56/110, zero-padded shortcuts) and ResNet-50. */
import { NetBuilder } from '../builder';
import { convBn, dense, globalAvgPool, maxPool, resnetBasic, resnetBottleneck } from '../blocks';
import { Model, type ModelOptions } from '../model';
import { modelError, rejectUnknownOptions } from '../errors';

export interface CifarResNetOptions {
  /** 6n + 2: 20, 32, 44, 56, 110. */
  readonly depth: number;
  readonly classes?: number;
  readonly seed?: number;
  readonly batch?: number;
  /** Input height/width/channels (default 32×32×3). */
  readonly input?: readonly [number, number, number];
}

/**
 * He et al.'s CIFAR ResNet: 3×3 conv (16), three stages of n basic blocks (16, 32, 64 channels;
 * the first block of stages 2 and 3 has stride 2 and the seed's zero-padded shortcut), global
 * average pool, FC. ResNet-20: 269,722 parameters; ResNet-56: 853,018 (γ, β included; the
 * zero-padded shortcuts have none — 1×1 projection shortcuts with batch norm would add 2,752).
 */
export function resnetCifar(options: CifarResNetOptions): Model {
  return new Model(resnetCifarSpec(options));
}

/** The CIFAR ResNet's programs without parameters. */
export function resnetCifarSpec(options: CifarResNetOptions): ModelOptions {
  rejectUnknownOptions('EIN4001', 'resnetCifar', options, ['depth', 'classes', 'seed', 'batch', 'input']);
  const n = (options.depth - 2) / 6;
  if (!Number.isInteger(n) || n < 1) throw modelError('EIN4001', 'resnetCifar', `depth ${options.depth} is not 6n + 2`, 'use 20, 32, 44, 56 or 110');
  const [h0, w0, c0] = options.input ?? [32, 32, 3];
  const net = new NetBuilder({ X: [options.batch ?? 1, h0, w0, c0] });
  let h = net.add('stem', convBn({ out: 16 }), net.input('X'));
  [16, 32, 64].forEach((width, s) => {
    for (let k = 0; k < n; k++) {
      h = net.add(`stage${s + 1}.block${k + 1}`, resnetBasic({ out: width, stride: s > 0 && k === 0 ? 2 : 1 }), h);
    }
  });
  h = net.add('pool', globalAvgPool(), h);
  h = net.add('fc', dense({ out: options.classes ?? 10 }), h);
  return net.spec({ seed: options.seed });
}

/**
 * ResNet-50 (v1.5: stride on the 3×3): 7×7 conv stride 2, 3×3 max pool stride 2, bottleneck
 * stages [3, 4, 6, 3] of widths 64…512 with projection shortcuts, global pool, FC.
 * 25,557,032 parameters.
 */
export function resnet50(options: { classes?: number; seed?: number; batch?: number } = {}): Model {
  return new Model(resnet50Spec(options));
}

/** ResNet-50's programs without parameters. */
export function resnet50Spec(options: { classes?: number; seed?: number; batch?: number } = {}): ModelOptions {
  rejectUnknownOptions('EIN4001', 'resnet50', options, ['classes', 'seed', 'batch']);
  const net = new NetBuilder({ X: [options.batch ?? 1, 224, 224, 3] });
  let h = net.add('stem', convBn({ out: 64, size: 7, stride: 2 }), net.input('X'));
  h = net.add('stem.pool', maxPool({ size: 3, stride: 2, padding: 'same' }), h);
  const stages: Array<[number, number]> = [
    [3, 64],
    [4, 128],
    [6, 256],
    [3, 512],
  ];
  stages.forEach(([blocks, width], s) => {
    for (let k = 0; k < blocks; k++) {
      h = net.add(`stage${s + 1}.block${k + 1}`, resnetBottleneck({ width, stride: s > 0 && k === 0 ? 2 : 1 }), h);
    }
  });
  h = net.add('pool', globalAvgPool(), h);
  h = net.add('fc', dense({ out: options.classes ?? 1000 }), h);
  return net.spec({ seed: options.seed });
}
