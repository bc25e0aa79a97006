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
import { fileError, optionError } from './errors';
import { readFileBytes } from './files';
import { ImageSet, type PixelScale, type TensorDataset } from './image-set';
import { locateDataset, type SourceOptions, type Split } from './sources';

export const CIFAR10_CLASSES: readonly string[] = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export const CIFAR100_COARSE_CLASSES: readonly string[] = [
  'aquatic_mammals',
  'fish',
  'flowers',
  'food_containers',
  'fruit_and_vegetables',
  'household_electrical_devices',
  'household_furniture',
  'insects',
  'large_carnivores',
  'large_man-made_outdoor_things',
  'large_natural_outdoor_scenes',
  'large_omnivores_and_herbivores',
  'medium_mammals',
  'non-insect_invertebrates',
  'people',
  'reptiles',
  'small_mammals',
  'trees',
  'vehicles_1',
  'vehicles_2',
];

export const CIFAR100_FINE_CLASSES: readonly string[] = [
  'apple',
  'aquarium_fish',
  'baby',
  'bear',
  'beaver',
  'bed',
  'bee',
  'beetle',
  'bicycle',
  'bottle',
  'bowl',
  'boy',
  'bridge',
  'bus',
  'butterfly',
  'camel',
  'can',
  'castle',
  'caterpillar',
  'cattle',
  'chair',
  'chimpanzee',
  'clock',
  'cloud',
  'cockroach',
  'couch',
  'crab',
  'crocodile',
  'cup',
  'dinosaur',
  'dolphin',
  'elephant',
  'flatfish',
  'forest',
  'fox',
  'girl',
  'hamster',
  'house',
  'kangaroo',
  'keyboard',
  'lamp',
  'lawn_mower',
  'leopard',
  'lion',
  'lizard',
  'lobster',
  'man',
  'maple_tree',
  'motorcycle',
  'mountain',
  'mouse',
  'mushroom',
  'oak_tree',
  'orange',
  'orchid',
  'otter',
  'palm_tree',
  'pear',
  'pickup_truck',
  'pine_tree',
  'plain',
  'plate',
  'poppy',
  'porcupine',
  'possum',
  'rabbit',
  'raccoon',
  'ray',
  'road',
  'rocket',
  'rose',
  'sea',
  'seal',
  'shark',
  'shrew',
  'skunk',
  'skyscraper',
  'snail',
  'snake',
  'spider',
  'squirrel',
  'streetcar',
  'sunflower',
  'sweet_pepper',
  'table',
  'tank',
  'telephone',
  'television',
  'tiger',
  'tractor',
  'train',
  'trout',
  'tulip',
  'turtle',
  'wardrobe',
  'whale',
  'willow_tree',
  'wolf',
  'woman',
  'worm',
];

const SIDE = 32;
const PLANE = SIDE * SIDE;
const PIXEL_BYTES = 3 * PLANE;

/** Which record layout, and for CIFAR-100 which of its two labels to keep. */
export interface CifarFormat {
  readonly variant: 'cifar-10' | 'cifar-100';
  /** CIFAR-100 only: the 100 fine classes (default) or the 20 coarse superclasses. */
  readonly labels?: 'fine' | 'coarse';
}

function recordSize(f: CifarFormat): number {
  return (f.variant === 'cifar-10' ? 1 : 2) + PIXEL_BYTES;
}

/**
 * Reads CIFAR binary batch files into one ImageSet (32x32x3, NHWC), in file order.
 * A file whose size is not a whole number of records, or a label outside the classes, is an error
 * naming the file.
 *
 * @example
 * readCifarBatches(['data_batch_1.bin'], { variant: 'cifar-10' }, CIFAR10_CLASSES, 'cifar-10/part');
 */
export function readCifarBatches(files: readonly string[], format: CifarFormat, classNames: readonly string[], name: string): ImageSet {
  const rec = recordSize(format);
  const contents = files.map((file) => {
    const bytes = readFileBytes(file);
    if (bytes.length === 0 || bytes.length % rec !== 0) {
      const layout = format.variant === 'cifar-10' ? '1 label byte + 3,072 pixel bytes' : '1 coarse label byte + 1 fine label byte + 3,072 pixel bytes';
      throw fileError(
        'EIN5003',
        file,
        `is ${bytes.length} bytes, not a whole number of ${rec}-byte ${format.variant} records (${layout}); ` +
          (bytes.length > 0 ? `the last record is cut off after ${bytes.length % rec} bytes` : 'the file is empty'),
        `the file is truncated or is not a ${format.variant} binary batch: fetch the dataset again`,
      );
    }
    return bytes;
  });
  const count = contents.reduce((n, b) => n + b.length / rec, 0);
  const pixels = new Uint8Array(count * PIXEL_BYTES);
  const labels = new Int32Array(count);
  const labelOffset = format.variant === 'cifar-100' && format.labels !== 'coarse' ? 1 : 0;
  const firstPixel = rec - PIXEL_BYTES;
  let n = 0;
  contents.forEach((bytes, f) => {
    for (let r = 0; r < bytes.length / rec; r++, n++) {
      const base = r * rec;
      const label = bytes[base + labelOffset];
      if (label >= classNames.length) {
        throw fileError(
          'EIN5014',
          files[f],
          `record ${r} has label ${label}, outside 0..${classNames.length - 1}`,
          `the file is damaged or is not a ${format.variant} batch (CIFAR-100 records have 2 label bytes)`,
        );
      }
      labels[n] = label;
      // Planes (R,G,B each 32x32) → interleaved HWC.
      const src = base + firstPixel;
      const dst = n * PIXEL_BYTES;
      for (let p = 0; p < PLANE; p++) {
        pixels[dst + 3 * p] = bytes[src + p];
        pixels[dst + 3 * p + 1] = bytes[src + PLANE + p];
        pixels[dst + 3 * p + 2] = bytes[src + 2 * PLANE + p];
      }
    }
  });
  return new ImageSet({ name, pixels, count, height: SIDE, width: SIDE, channels: 3, labels, classNames });
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
  const split = options.split ?? 'train';
  const found = locateDataset('cifar-10', split, options);
  const classes = namesFile(found.dir, 'batches.meta.txt', CIFAR10_CLASSES);
  return readCifarBatches(found.files, { variant: 'cifar-10' }, classes, `cifar-10/${split}`);
}

/** CIFAR-10 as tensors: images [N,32,32,3] float32 in [0,1] (or [0,255]), labels [N] int32. */
export function loadCifar10(options: CifarLoadOptions & { scale?: PixelScale } = {}): TensorDataset {
  return openCifar10(options).toTensors({ scale: options.scale });
}

/**
 * CIFAR-100 as an ImageSet (32x32x3), labelled with the 100 fine classes or, with
 * `labels: 'coarse'`, the 20 superclasses.
 */
export function openCifar100(options: CifarLoadOptions & { labels?: 'fine' | 'coarse' } = {}): ImageSet {
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
  return openCifar100(options).toTensors({ scale: options.scale });
}
