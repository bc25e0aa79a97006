/**
 * A CIFAR-shaped stand-in for machines without CIFAR: real images reshaped to 32x32x3.
 *
 * This is NOT CIFAR. Fashion-MNIST (or MNIST) digits/clothes are grey 28x28 pictures on a black
 * background; we pad them with 2 black pixels on each side to 32x32 and copy the grey value into
 * the R, G and B channels. A network built for CIFAR runs on them unchanged, and accuracy
 * numbers are real numbers — for Fashion-MNIST, not for CIFAR; a notebook that uses this must
 * say so.
 */
import { optionError } from './errors';
import { ImageSet, type PixelScale, type TensorDataset } from './image-set';
import { LOAD_OPTIONS, openFashionMnist, openMnist, type LoadOptions } from './mnist';
import { checkOptions } from '../core/options';

/**
 * `set` zero-padded (centred) to `size`×`size` and, when grey, repeated to 3 channels.
 *
 * @example
 * padToCifarShape(openMnist({ limit: 10 })).height; // 32
 * Limitations: images larger than `size`, or with other than 1 or 3 channels, are refused.
 */
export function padToCifarShape(set: ImageSet, size = 32, name = `${set.name} as 32x32x3`): ImageSet {
  if (set.height > size || set.width > size) {
    throw optionError('padToCifarShape', `images are ${set.height}x${set.width}, larger than ${size}x${size}`, 'pad only smaller images');
  }
  if (set.channels !== 1 && set.channels !== 3) {
    throw optionError('padToCifarShape', `images have ${set.channels} channels; only 1 (grey) or 3 (RGB) can become RGB`);
  }
  const top = Math.floor((size - set.height) / 2);
  const left = Math.floor((size - set.width) / 2);
  const out = new Uint8Array(set.count * size * size * 3);
  const inSize = set.imageSize;
  for (let n = 0; n < set.count; n++) {
    const src = n * inSize;
    const dst = n * size * size * 3;
    for (let y = 0; y < set.height; y++) {
      for (let x = 0; x < set.width; x++) {
        const o = dst + ((y + top) * size + (x + left)) * 3;
        if (set.channels === 1) {
          const v = set.pixels[src + y * set.width + x];
          out[o] = v;
          out[o + 1] = v;
          out[o + 2] = v;
        } else {
          const i = src + (y * set.width + x) * 3;
          out[o] = set.pixels[i];
          out[o + 1] = set.pixels[i + 1];
          out[o + 2] = set.pixels[i + 2];
        }
      }
    }
  }
  return new ImageSet({ name, pixels: out, count: set.count, height: size, width: size, channels: 3, labels: set.labels, classNames: set.classNames });
}

/**
 * Fashion-MNIST (NOT CIFAR) in CIFAR's shape: 32x32x3 uint8, 10 clothing classes, 60,000 train /
 * 10,000 test — for CIFAR-shaped notebooks on machines without CIFAR. See the file comment;
 * say in the notebook that the data is Fashion-MNIST.
 *
 * @example
 * const train = openFashionMnistAsCifar({ split: 'train' }); // [60000, 32, 32, 3]
 */
export function openFashionMnistAsCifar(options: LoadOptions = {}): ImageSet {
  checkOptions(options, LOAD_OPTIONS, 'openFashionMnistAsCifar');
  return padToCifarShape(openFashionMnist(options), 32, `fashion-mnist/${options.split ?? 'train'} padded to 32x32x3 (not CIFAR)`);
}

/** As openFashionMnistAsCifar, but MNIST digits (always available offline). NOT CIFAR. */
export function openMnistAsCifar(options: LoadOptions = {}): ImageSet {
  checkOptions(options, LOAD_OPTIONS, 'openMnistAsCifar');
  return padToCifarShape(openMnist(options), 32, `mnist/${options.split ?? 'train'} padded to 32x32x3 (not CIFAR)`);
}

/** Fashion-MNIST padded to [N,32,32,3] float32 tensors (NOT CIFAR; see openFashionMnistAsCifar). */
export function loadFashionMnistAsCifar(options: LoadOptions & { scale?: PixelScale } = {}): TensorDataset {
  checkOptions(options, [...LOAD_OPTIONS, 'scale'], 'loadFashionMnistAsCifar');
  const { scale, ...rest } = options;
  return openFashionMnistAsCifar(rest).toTensors({ scale });
}
