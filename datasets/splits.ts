/**
 * Seeded shuffling and train/validation splitting, for host ImageSets (cheap: bytes are copied
 * once, no tensors) and for TensorDatasets (by `tf.gather`; the inputs stay yours).
 */
import * as tf from '@tensorflow/tfjs';
import { optionError } from './errors';
import { ImageSet, type TensorDataset } from './image-set';
import { permutation, type SeedOrRandom } from '../core/random';

function isImageSet(d: ImageSet | TensorDataset): d is ImageSet {
  return d instanceof ImageSet;
}

/** A TensorDataset of the rows of `d` at `indices` (new tensors; `d` is untouched). */
function gatherRows(d: TensorDataset, indices: Int32Array): TensorDataset {
  const { images, labels } = tf.tidy(() => {
    const idx = tf.tensor1d(indices, 'int32');
    return { images: tf.gather(d.images, idx) as tf.Tensor4D, labels: tf.gather(d.labels, idx) as tf.Tensor1D };
  });
  const labelArray = Int32Array.from(indices, (i) => d.labelArray[i]);
  return {
    images,
    labels,
    labelArray,
    classNames: d.classNames,
    count: indices.length,
    dispose: () => {
      images.dispose();
      labels.dispose();
    },
  };
}

/**
 * `data` in a seeded random order: an ImageSet gives an ImageSet, a TensorDataset gives a new
 * TensorDataset (dispose it; the input is not disposed).
 *
 * @example
 * const shuffled = shuffle(openMnist({ split: 'test' }), 7); // same order on every run
 */
export function shuffle<D extends ImageSet | TensorDataset>(data: D, seed: SeedOrRandom): D {
  const order = permutation(data.count, seed);
  return (isImageSet(data) ? data.subset(order, `${data.name} (shuffled)`) : gatherRows(data, order)) as D;
}

export interface SplitOptions {
  /** Fraction of the examples for validation, in (0, 1). Default 0.1. */
  readonly validationFraction?: number;
  /** Exact number of validation examples (instead of a fraction). */
  readonly validationSize?: number;
  /** Shuffle before splitting with this seed; `false` takes the last examples (default 0). */
  readonly seed?: SeedOrRandom | false;
}

/**
 * Splits `data` into training and validation parts, disjoint and covering all examples.
 * By default a seeded shuffle (seed 0) first, so both parts see every class.
 *
 * @example
 * const { train, validation } = trainValidationSplit(openMnist(), { validationSize: 5000, seed: 1 });
 */
export function trainValidationSplit<D extends ImageSet | TensorDataset>(data: D, options: SplitOptions = {}): { train: D; validation: D } {
  const n = data.count;
  let nVal: number;
  if (options.validationSize !== undefined) {
    nVal = options.validationSize;
    if (!Number.isInteger(nVal) || nVal < 0 || nVal > n) {
      throw optionError('trainValidationSplit', `validationSize must be an integer in 0..${n}, got ${nVal}`);
    }
  } else {
    const f = options.validationFraction ?? 0.1;
    if (!(f > 0 && f < 1)) {
      throw optionError('trainValidationSplit', `validationFraction must be between 0 and 1 (exclusive), got ${f}`, 'e.g. 0.1 for 10%');
    }
    nVal = Math.round(n * f);
  }
  const seed = options.seed ?? 0;
  const order = seed === false ? new Int32Array(n).map((_, i) => i) : permutation(n, seed);
  const trainIdx = order.subarray(0, n - nVal);
  const valIdx = order.subarray(n - nVal);
  if (isImageSet(data)) {
    return {
      train: data.subset(trainIdx, `${data.name} (train part)`) as D,
      validation: data.subset(valIdx, `${data.name} (validation part)`) as D,
    };
  }
  return { train: gatherRows(data, trainIdx) as D, validation: gatherRows(data, valIdx) as D };
}
