/**
 * PNG and JPEG photos as tensors, for the edge-detection and visualisation notebooks, and the
 * three CC0 sample photos committed under datasets/images (see its LICENSE.md).
 * PNG is decoded by `pngjs`, JPEG by `jpeg-js` (both pure JavaScript).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { fileError, optionError } from './errors';
import { hexHead, readFileBytes } from './files';
import { bytesToFloat, type PixelScale } from './image-set';
import { checkOptions } from '../core/options';

/** A decoded image: uint8 HWC bytes. */
export interface DecodedImage {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** height × width × channels bytes, row-major, channels interleaved. */
  readonly pixels: Uint8Array;
}

/**
 * Output channels: 'auto' keeps the file's own (grey 1, grey+alpha 2, RGB 3, RGBA 4; JPEG is
 * always 3), 1 gives luminance, 3 gives RGB (grey repeated, alpha dropped), 4 gives RGBA.
 */
export type ChannelChoice = 'auto' | 1 | 3 | 4;

export interface DecodeOptions {
  readonly channels?: ChannelChoice;
  /** Names the image in errors (default `image`). */
  readonly file?: string;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && PNG_MAGIC.every((v, i) => b[i] === v);
}

function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** RGBA (4 bytes a pixel) → `channels`, where the source really had `own` channels. */
function fromRgba(rgba: Uint8Array, h: number, w: number, own: number, want: ChannelChoice): DecodedImage {
  const channels = want === 'auto' ? own : want;
  const out = new Uint8Array(h * w * channels);
  for (let p = 0; p < h * w; p++) {
    const r = rgba[4 * p];
    const g = rgba[4 * p + 1];
    const b = rgba[4 * p + 2];
    const a = rgba[4 * p + 3];
    const o = p * channels;
    if (channels === 1) {
      // Grey sources have r = g = b; colour ones are converted with ITU-R BT.601 luma (as PIL's 'L').
      out[o] = own <= 2 ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    } else if (channels === 2) {
      out[o] = r;
      out[o + 1] = a;
    } else {
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      if (channels === 4) out[o + 3] = a;
    }
  }
  return { height: h, width: w, channels, pixels: out };
}

/**
 * Decodes PNG or JPEG bytes (recognised by content) to uint8 HWC.
 *
 * @example
 * decodeImage(fs.readFileSync('cat.png')).channels; // 3
 * Limitations: 16-bit PNGs are reduced to 8 bits; CMYK JPEGs are not supported.
 */
export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): DecodedImage {
  checkOptions(options, ['channels', 'file'], 'decodeImage');
  const file = options.file ?? 'image';
  const want = options.channels ?? 'auto';
  if (want !== 'auto' && want !== 1 && want !== 3 && want !== 4) {
    throw optionError('decodeImage', `channels must be 'auto', 1, 3 or 4, got ${JSON.stringify(want)}`);
  }
  if (isPng(bytes)) {
    let png: ReturnType<typeof PNG.sync.read> & { colorType?: number };
    try {
      png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (err) {
      throw fileError('EIN5012', file, `is not a valid PNG: ${(err as Error).message}`, 'the file is damaged: replace it');
    }
    // pngjs always returns RGBA; colorType says what the file held (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA).
    const ct = png.colorType ?? 6;
    const own = ct === 0 ? 1 : ct === 4 ? 2 : ct === 6 || png.alpha ? 4 : 3;
    return fromRgba(png.data, png.height, png.width, own, want);
  }
  if (isJpeg(bytes)) {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    } catch (err) {
      throw fileError('EIN5012', file, `is not a valid JPEG: ${(err as Error).message}`, 'the file is damaged: replace it');
    }
    return fromRgba(img.data, img.height, img.width, 3, want);
  }
  throw fileError('EIN5012', file, `is neither PNG nor JPEG (it starts with ${hexHead(bytes, 8)})`, 'convert it to PNG or JPEG');
}

/** Reads and decodes a PNG or JPEG file to uint8 HWC. */
export function readImage(file: string, options: Omit<DecodeOptions, 'file'> = {}): DecodedImage {
  checkOptions(options, ['channels'], 'readImage');
  return decodeImage(readFileBytes(file), { ...options, file });
}

/**
 * A decoded image as a [height, width, channels] float32 tensor, scaled to [0,1] by default.
 * The caller owns it.
 */
export function imageToTensor(image: DecodedImage, scale: PixelScale = 'unit'): tf.Tensor3D {
  return tf.tensor3d(bytesToFloat(image.pixels, scale), [image.height, image.width, image.channels], 'float32');
}

/**
 * A PNG/JPEG file as a [height, width, channels] float32 tensor in [0,1] (`scale: 'byte'` for
 * [0,255]). Add a batch axis with `expandDims(0)` for NHWC layers. The caller owns the tensor.
 *
 * @example
 * const img = loadImage('photo.jpg', { channels: 1 }); // [h, w, 1]
 */
export function loadImage(file: string, options: { channels?: ChannelChoice; scale?: PixelScale } = {}): tf.Tensor3D {
  checkOptions(options, ['channels', 'scale'], 'loadImage');
  return imageToTensor(readImage(file, { channels: options.channels }), options.scale);
}

/** The committed sample photos (CC0, from scikit-image; see datasets/images/LICENSE.md). */
export const SAMPLE_IMAGES = {
  /** Chelsea the cat, 300x451 RGB; texture and edges in several directions. */
  chelsea: 'chelsea.png',
  /** A photographer with a camera, 512x512 grey. */
  camera: 'camera.png',
  /** A coffee cup, 400x600 RGB; ellipses and varied texture. */
  coffee: 'coffee.png',
} as const;

export type SampleImageName = keyof typeof SAMPLE_IMAGES;

/** The folder of the sample photos, from the source tree or from dist/. */
function sampleDir(): string {
  const candidates = [path.join(__dirname, 'images'), path.join(__dirname, '..', '..', 'datasets', 'images')];
  return candidates.find((d) => fs.existsSync(path.join(d, SAMPLE_IMAGES.chelsea))) ?? candidates[0];
}

/** The path of a committed sample photo. */
export function sampleImagePath(name: SampleImageName): string {
  if (!Object.prototype.hasOwnProperty.call(SAMPLE_IMAGES, name)) {
    throw optionError('sampleImagePath', `no sample image ${JSON.stringify(name)}`, `use one of ${Object.keys(SAMPLE_IMAGES).join(', ')}`);
  }
  return path.join(sampleDir(), SAMPLE_IMAGES[name]);
}

/**
 * A committed sample photo as a [h, w, c] float32 tensor in [0,1]: 'chelsea' (300x451x3),
 * 'camera' (512x512x1), 'coffee' (400x600x3). The caller owns the tensor.
 *
 * @example
 * const cat = loadSampleImage('chelsea'); // shape [300, 451, 3]
 * const grey = loadSampleImage('chelsea', { channels: 1 });
 */
export function loadSampleImage(name: SampleImageName, options: { channels?: ChannelChoice; scale?: PixelScale } = {}): tf.Tensor3D {
  checkOptions(options, ['channels', 'scale'], 'loadSampleImage');
  return loadImage(sampleImagePath(name), options);
}
