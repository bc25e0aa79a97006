/** AlexNet and VGG-16, built from blocks. Too large to train here: `describeModel(vgg16Spec())` checks shapes without allocating. */

export interface ArchOptions {
  readonly classes?: number;
  readonly seed?: number;
  /** Example batch size (default 1). */
  readonly batch?: number;
}
import { NetBuilder } from '../builder';
import { conv, dense, dropout, maxPool } from '../blocks';
import { Model, type ModelOptions } from '../model';
import { rejectUnknownOptions } from '../errors';

const ARCH_OPTIONS = ['classes', 'seed', 'batch'];

/**
 * AlexNet (Krizhevsky et al. 2012) with the usual layer shapes (one tower, no local response normalization): input 227×227×3,
 * conv 11 stride 4 → 55×55×96, pool → 27×27×96, conv 5 → 27×27×256, pool → 13×13×256,
 * 3 × conv 3 → 13×13×384/384/256, pool → 6×6×256, FC 4096, 4096, 1000. 62,378,344 parameters.
 */
export function alexnet(options: ArchOptions = {}): Model {
  return new Model(alexnetSpec(options));
}

/** AlexNet's programs without parameters (see `describeModel`). */
export function alexnetSpec(options: ArchOptions = {}): ModelOptions {
  rejectUnknownOptions('EIN4001', 'alexnet', options, ARCH_OPTIONS);
  const net = new NetBuilder({ X: [options.batch ?? 1, 227, 227, 3] });
  let h = net.input('X');
  h = net.add('L1', conv({ out: 96, size: 11, stride: 4, padding: 'valid', activation: 'relu' }), h);
  h = net.add('L2', maxPool({ size: 3, stride: 2 }), h);
  h = net.add('L3', conv({ out: 256, size: 5, padding: 2, activation: 'relu' }), h);
  h = net.add('L4', maxPool({ size: 3, stride: 2 }), h);
  h = net.add('L5', conv({ out: 384, size: 3, padding: 1, activation: 'relu' }), h);
  h = net.add('L6', conv({ out: 384, size: 3, padding: 1, activation: 'relu' }), h);
  h = net.add('L7', conv({ out: 256, size: 3, padding: 1, activation: 'relu' }), h);
  h = net.add('L8', maxPool({ size: 3, stride: 2 }), h);
  h = net.add('L9', dense({ out: 4096, activation: 'relu' }), h);
  h = net.add('D9', dropout(0.5), h);
  h = net.add('L10', dense({ out: 4096, activation: 'relu' }), h);
  h = net.add('D10', dropout(0.5), h);
  h = net.add('L11', dense({ out: options.classes ?? 1000 }), h);
  return net.spec({ seed: options.seed });
}

/** VGG-16 (configuration D): 13 3×3 convolutions in 5 stages, 3 FC layers. 138,357,544 parameters. */
export function vgg16(options: ArchOptions = {}): Model {
  return new Model(vgg16Spec(options));
}

/** VGG-16's programs without parameters (see `describeModel`). */
export function vgg16Spec(options: ArchOptions = {}): ModelOptions {
  rejectUnknownOptions('EIN4001', 'vgg16', options, ARCH_OPTIONS);
  const net = new NetBuilder({ X: [options.batch ?? 1, 224, 224, 3] });
  let h = net.input('X');
  const stages = [
    [64, 64],
    [128, 128],
    [256, 256, 256],
    [512, 512, 512],
    [512, 512, 512],
  ];
  stages.forEach((widths, s) => {
    widths.forEach((w, k) => {
      h = net.add(`conv${s + 1}_${k + 1}`, conv({ out: w, size: 3, activation: 'relu' }), h);
    });
    h = net.add(`pool${s + 1}`, maxPool({ size: 2 }), h);
  });
  h = net.add('fc6', dense({ out: 4096, activation: 'relu' }), h);
  h = net.add('fc7', dense({ out: 4096, activation: 'relu' }), h);
  h = net.add('fc8', dense({ out: options.classes ?? 1000 }), h);
  return net.spec({ seed: options.seed });
}
