/**
 * CIFAR-10 and CIFAR-100 in their binary versions (https://www.cs.toronto.edu/~kriz/cifar.html):
 * files of fixed-size records, each label byte(s) then a 32x32 colour image stored as three
 * planes (1,024 red bytes, 1,024 green, 1,024 blue, rows top to bottom). We reorder the planes
 * to NHWC on reading.
 *   CIFAR-10:  1 label byte + 3,072 pixel bytes = 3,073 bytes a record; 10,000 records a file.
 *   CIFAR-100: coarse label byte + fine label byte + 3,072 pixel bytes = 3,074 bytes a record.
 * No package ships CIFAR; `npm run fetch-data -- cifar-10` downloads it (see sources.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { optionError } from './errors';
import { readFileBytes } from './files';
import { CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES, cifarImageSet, type CifarFormat } from './cifar-parse';
import type { PixelScale, TensorDataset, ImageSet } from './image-set';
import { locateDataset, SOURCE_OPTIONS, type SourceOptions, type Split } from './sources';
import { checkOptions } from '../core/options';

export { CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES, cifarImageSetFromBytes, type CifarFormat } from './cifar-parse';

/**
 * Reads CIFAR binary batch files into one ImageSet (32x32x3, NHWC), in file order.
 * A file whose size is not a whole number of records, or a label outside the classes, is an error
 * naming the file.
 *
 * @example
 * readCifarBatches(['data_batch_1.bin'], { variant: 'cifar-10' }, CIFAR10_CLASSES, 'cifar-10/part');
 */
export function readCifarBatches(files: readonly string[], format: CifarFormat, classNames: readonly string[], name: string): ImageSet {
  return cifarImageSet(
    files.map((file) => ({ file, bytes: readFileBytes(file) })),
    format,
    classNames,
    name,
  );
}

/** Class names from a `*.txt` names file next to the batches, when present and of the right length. */
function namesFile(dir: string, file: string, fallback: readonly string[]): readonly string[] {
  const p = path.join(dir, file);
  if (!fs.existsSync(p)) return fallback;
  const names = fs
    .readFileSync(p, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return names.length === fallback.length ? names : fallback;
}

export interface CifarLoadOptions extends SourceOptions {
  /** 'train' (default, 50,000 images) or 'test' (10,000). */
  readonly split?: Split;
}

/**
 * CIFAR-10 as an ImageSet (uint8, 32x32x3 NHWC, 10 classes). Looks in `path` (the
 * `cifar-10-batches-bin` folder or its parent), then the fetch-data cache. Offline without it,
 * see `openFashionMnistAsCifar`.
 *
 * @example
 * const train = openCifar10({ path: '/data/cifar-10-batches-bin' }); // train.count === 50000
 */
export function openCifar10(options: CifarLoadOptions = {}): ImageSet {
  checkOptions(options, [...SOURCE_OPTIONS, 'split'], 'openCifar10');
  const split = options.split ?? 'train';
  const found = locateDataset('cifar-10', split, options);
  const classes = namesFile(found.dir, 'batches.meta.txt', CIFAR10_CLASSES);
  return readCifarBatches(found.files, { variant: 'cifar-10' }, classes, `cifar-10/${split}`);
}

/** CIFAR-10 as tensors: images [N,32,32,3] float32 in [0,1] (or [0,255]), labels [N] int32. */
export function loadCifar10(options: CifarLoadOptions & { scale?: PixelScale } = {}): TensorDataset {
  checkOptions(options, [...SOURCE_OPTIONS, 'split', 'scale'], 'loadCifar10');
  const { scale, ...rest } = options;
  return openCifar10(rest).toTensors({ scale });
}

/**
 * CIFAR-100 as an ImageSet (32x32x3), labelled with the 100 fine classes or, with
 * `labels: 'coarse'`, the 20 superclasses.
 */
export function openCifar100(options: CifarLoadOptions & { labels?: 'fine' | 'coarse' } = {}): ImageSet {
  checkOptions(options, [...SOURCE_OPTIONS, 'split', 'labels'], 'openCifar100');
  const split = options.split ?? 'train';
  const kind = options.labels ?? 'fine';
  if (kind !== 'fine' && kind !== 'coarse') {
    throw optionError('openCifar100', `labels must be 'fine' or 'coarse', got ${JSON.stringify(kind)}`);
  }
  const found = locateDataset('cifar-100', split, options);
  const classes =
    kind === 'fine'
      ? namesFile(found.dir, 'fine_label_names.txt', CIFAR100_FINE_CLASSES)
      : namesFile(found.dir, 'coarse_label_names.txt', CIFAR100_COARSE_CLASSES);
  return readCifarBatches(found.files, { variant: 'cifar-100', labels: kind }, classes, `cifar-100/${split}`);
}

/** CIFAR-100 as tensors (see openCifar100). */
export function loadCifar100(options: CifarLoadOptions & { labels?: 'fine' | 'coarse'; scale?: PixelScale } = {}): TensorDataset {
  checkOptions(options, [...SOURCE_OPTIONS, 'split', 'labels', 'scale'], 'loadCifar100');
  const { scale, ...rest } = options;
  return openCifar100(rest).toTensors({ scale });
}
