/** DenseNet-BC for CIFAR (Huang et al. 2017). */
import { NetBuilder } from '../builder';
import { batchNorm, conv, dense, denseLayer, denseTransition, globalAvgPool } from '../blocks';
import { Model, type ModelOptions } from '../model';
import { modelError, rejectUnknownOptions } from '../errors';

/**
 * DenseNet-BC: 3×3 conv to 2k channels, three dense blocks of (depth − 4)/6 bottleneck layers
 * with transitions (compression 0.5) between, BN-ReLU, global pool, FC.
 * DenseNet-BC-100 with k = 12: 769,162 parameters.
 */
export interface DenseNetOptions {
  readonly depth?: number;
  readonly growth?: number;
  readonly classes?: number;
  readonly seed?: number;
  readonly batch?: number;
}

export function densenetBC(options: DenseNetOptions = {}): Model {
  return new Model(densenetBCSpec(options));
}

/** DenseNet-BC's programs without parameters. */
export function densenetBCSpec(options: DenseNetOptions = {}): ModelOptions {
  rejectUnknownOptions('EIN4001', 'densenetBC', options, ['depth', 'growth', 'classes', 'seed', 'batch']);
  const depth = options.depth ?? 100;
  const k = options.growth ?? 12;
  const n = (depth - 4) / 6;
  if (!Number.isInteger(n) || n < 1) throw modelError('EIN4001', 'densenetBC', `depth ${depth} is not 6n + 4`, 'use 40, 100, 190, 250');
  const net = new NetBuilder({ X: [options.batch ?? 1, 32, 32, 3] });
  let h = net.add('stem', conv({ out: 2 * k, size: 3, bias: false }), net.input('X'));
  for (let b = 1; b <= 3; b++) {
    for (let l = 1; l <= n; l++) h = net.add(`block${b}.layer${l}`, denseLayer({ growth: k }), h);
    if (b < 3) h = net.add(`trans${b}`, denseTransition({ compression: 0.5 }), h);
  }
  h = net.add('final', batchNorm({ activation: 'relu' }), h);
  h = net.add('pool', globalAvgPool(), h);
  h = net.add('fc', dense({ out: options.classes ?? 10 }), h);
  return net.spec({ seed: options.seed });
}
