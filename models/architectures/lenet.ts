/**
 * LeNet-5 (LeCun et al. 1998: the published layer table), written as one program in the notation.
 * C3 connects to all six S2 maps (the original's partial connection table is not used), so the
 * network has 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 parameters.
 */
import { ein, type Program } from '../../dsl';
import { Model } from '../model';
import { modelError, rejectUnknownOptions } from '../errors';

export interface LeNetOptions {
  /** Image height/width: 28 (MNIST, C1 pads by 2) or 32 (the original). Default 28. */
  readonly size?: 28 | 32;
  readonly channels?: number;
  readonly classes?: number;
  /** tanh (the table's) or relu. Default tanh. */
  readonly activation?: 'tanh' | 'relu';
  /** mean (the table's average pooling) or max. Default mean. */
  readonly pooling?: 'mean' | 'max';
  readonly seed?: number;
  /** Example batch size for the model's example input shape (default 1). */
  readonly batch?: number;
}

/** The LeNet-5 program text. */
export function lenet5Source(options: LeNetOptions = {}): string {
  rejectUnknownOptions('EIN4001', 'lenet5', options, ['size', 'channels', 'classes', 'activation', 'pooling', 'seed', 'batch']);
  const size = options.size ?? 28;
  if (size !== 28 && size !== 32) throw modelError('EIN4001', 'lenet5', `size must be 28 or 32, got ${String(size)}`);
  const pad = (32 - size) / 2;
  const act = options.activation ?? 'tanh';
  const pool = options.pooling ?? 'mean';
  const shift = pad > 0 ? `-${pad}` : '';
  return [
    `input X[b, x:${size}, y:${size}, i:${options.channels ?? 1}]`,
    `C1[b,x:28,y:28,j:6] = ${act}(C1.W[Δx:5,Δy:5,I,j] · X[b,x+Δx${shift},y+Δy${shift},I] + C1.B[j])`,
    `S2[b,x,y,j] = ${pool}[Δx:2,Δy:2] C1[b,2*x+Δx,2*y+Δy,j]`,
    `C3[b,x,y,j:16] = ${act}(C3.W[Δx:5,Δy:5,I,j] · S2[b,x+Δx,y+Δy,I] + C3.B[j])`,
    `S4[b,x,y,j] = ${pool}[Δx:2,Δy:2] C3[b,2*x+Δx,2*y+Δy,j]`,
    `C5[b,k:120] = ${act}(C5.W[Δx:5,Δy:5,I,k] · S4[b,Δx,Δy,I] + C5.B[k])`,
    `F6[b,k:84] = ${act}(F6.W[i,k] · C5[b,i] + F6.B[k])`,
    `Out[b,k:${options.classes ?? 10}] = Out.W[i,k] · F6[b,i] + Out.B[k]`,
  ].join('\n');
}

export function lenet5Program(options: LeNetOptions = {}): Program {
  return ein(lenet5Source(options));
}

/** LeNet-5 as a Model: input X [b, size, size, channels], output Out (class scores). */
export function lenet5(options: LeNetOptions = {}): Model {
  const size = options.size ?? 28;
  return new Model({
    program: lenet5Source(options),
    inputs: { X: [options.batch ?? 1, size, size, options.channels ?? 1] },
    output: 'Out',
    seed: options.seed,
  });
}
