/**
 * The CIFAR-10 and CIFAR-100 binary format from bytes, without the file system: what the Node
 * loaders (cifar.ts) read files with, and what a web page calls on fetched bytes. Each record is
 * the label byte(s) then a 32x32 colour image as three planes (1,024 red bytes, 1,024 green,
 * 1,024 blue, rows top to bottom), reordered to NHWC here.
 */
import { fileError, optionError } from './errors';
import { ImageSet } from './image-set';
import { checkOptions } from '../core/options';

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
 * CIFAR binary batches (their bytes, each with the name errors give it) as one ImageSet
 * (32x32x3, NHWC), in order. Bytes that are not a whole number of records, or a label outside
 * the classes, are an error naming the batch.
 */
export function cifarImageSet(
  batches: readonly { readonly file: string; readonly bytes: Uint8Array }[],
  format: CifarFormat,
  classNames: readonly string[],
  name: string,
): ImageSet {
  const rec = recordSize(format);
  const contents = batches.map(({ file, bytes }) => {
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
          batches[f].file,
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

export interface CifarBytesOptions {
  /** 'cifar-10' (default) or 'cifar-100'. */
  readonly variant?: 'cifar-10' | 'cifar-100';
  /** CIFAR-100 only: the 100 fine classes (default) or the 20 coarse superclasses. */
  readonly labels?: 'fine' | 'coarse';
  /** The ImageSet's name, and the batches' names in errors (`NAME batch K`). Default the variant. */
  readonly name?: string;
  /** Default: the variant's published class names. */
  readonly classNames?: readonly string[];
}

/**
 * CIFAR binary batches given as bytes (e.g. fetched in a page) as one ImageSet, with the checks
 * and errors of the Node loaders: EIN5003 for bytes that are not whole records, EIN5014 for a
 * label outside the classes.
 *
 * @example
 *   const bytes = new Uint8Array(await (await fetch('test_batch.bin')).arrayBuffer());
 *   cifarImageSetFromBytes([bytes], { name: 'cifar-10/test' }).count; // 10000
 */
export function cifarImageSetFromBytes(batches: readonly (Uint8Array | ArrayBuffer)[], options: CifarBytesOptions = {}): ImageSet {
  checkOptions(options, ['variant', 'labels', 'name', 'classNames'], 'cifarImageSetFromBytes');
  const variant = options.variant ?? 'cifar-10';
  if (variant !== 'cifar-10' && variant !== 'cifar-100') {
    throw optionError('cifarImageSetFromBytes', `variant must be 'cifar-10' or 'cifar-100', got ${JSON.stringify(variant)}`);
  }
  const labels = options.labels ?? 'fine';
  if (labels !== 'fine' && labels !== 'coarse') {
    throw optionError('cifarImageSetFromBytes', `labels must be 'fine' or 'coarse', got ${JSON.stringify(labels)}`);
  }
  const name = options.name ?? variant;
  const classNames = options.classNames ?? (variant === 'cifar-10' ? CIFAR10_CLASSES : labels === 'fine' ? CIFAR100_FINE_CLASSES : CIFAR100_COARSE_CLASSES);
  return cifarImageSet(
    batches.map((b, k) => ({ file: `${name} batch ${k}`, bytes: new Uint8Array(b) })),
    { variant, labels },
    classNames,
    name,
  );
}
