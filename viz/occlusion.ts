/**
 * Occlusion sensitivity (Zeiler & Fergus 2014, lecture seed 001): slide a grey square over the
 * image and record the probability of one class for every position. Where the probability
 * drops, the network looks.
 */
import * as tf from '@tensorflow/tfjs';
import { EinError } from '../core/diagnostics';
import { subplotGrid, type Figure, type Trace } from './figure';

/** Options for `occlusionMap`. */
export interface OcclusionOptions {
  /** The class whose probability is recorded (default: the class predicted for the whole image). */
  readonly classIndex?: number;
  /** Side of the square patch in pixels (default: a sixth of the shorter side, at least 1). */
  readonly patch?: number;
  /** Step between patch positions (default: half the patch, at least 1). */
  readonly stride?: number;
  /** Value written into the patch, or 'mean' for the image's mean (default 0.5: grey for images in 0…1). */
  readonly fill?: number | 'mean';
  /** Occluded images per `predict` call (default 32). */
  readonly batchSize?: number;
  readonly title?: string;
}

/** What `occlusionMap` measured, and a figure of it. */
export interface OcclusionResult {
  /** probabilities[r][c]: class probability with the patch's top-left corner at (rows[r], columns[c]). */
  readonly probabilities: number[][];
  readonly rows: number[];
  readonly columns: number[];
  readonly classIndex: number;
  /** The class probability for the unoccluded image. */
  readonly baseline: number;
  readonly patch: number;
  readonly stride: number;
  /** The image beside the probability map, drawn at the patch centres. */
  readonly figure: Figure;
}

/**
 * Runs the occlusion experiment. `predict` maps a batch [n,h,w,c] to class probabilities
 * [n, classes] (apply softmax first if the model returns logits); it is called inside
 * `tf.tidy`, so its intermediate tensors are freed.
 *
 * @example
 *   const { figure, baseline } = occlusionMap(image, (x) => model.predict(x) as tf.Tensor2D, { patch: 6, stride: 2 });
 *   show(figure);
 *
 * Limitations: one image per call; (h−patch)/stride+1 squared forward passes, batched.
 */
export function occlusionMap(image: tf.Tensor, predict: (batch: tf.Tensor4D) => tf.Tensor, options: OcclusionOptions = {}): OcclusionResult {
  if (!(image.rank === 3 || (image.rank === 4 && image.shape[0] === 1))) {
    throw new EinError({
      code: 'EIN6004',
      message: `occlusionMap needs one image [h,w,c] or [1,h,w,c], got shape [${image.shape.join(',')}]`,
      hint: 'pick one example first, e.g. images.slice([k,0,0,0],[1,-1,-1,-1])',
    });
  }
  const [h, w, c] = image.rank === 3 ? image.shape : image.shape.slice(1);
  const patch = options.patch ?? Math.max(1, Math.floor(Math.min(h, w) / 6));
  const stride = options.stride ?? Math.max(1, Math.floor(patch / 2));
  const batchSize = options.batchSize ?? 32;
  for (const [name, v, max] of [
    ['patch', patch, Math.min(h, w)],
    ['stride', stride, Infinity],
    ['batchSize', batchSize, Infinity],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > max) {
      throw new EinError({
        code: 'EIN6005',
        message: `occlusion ${name} is ${v}`,
        expected: `a whole number from 1${Number.isFinite(max) ? ` to ${max} (the image is ${h}×${w})` : ''}`,
      });
    }
  }
  const pixels = Float32Array.from(image.dataSync());
  const fill = options.fill === 'mean' ? pixels.reduce((a: number, b: number) => a + b, 0) / pixels.length : (options.fill ?? 0.5);

  const base = probabilitiesOf(predict, [pixels], [h, w, c]);
  const classes = base.length;
  const classIndex = options.classIndex ?? base.indexOf(Math.max(...base));
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes) {
    throw new EinError({
      code: 'EIN6005',
      message: `classIndex ${classIndex} is not a class: predict returns ${classes} classes`,
      expected: `0 … ${classes - 1}`,
    });
  }
  const rows = steps(h, patch, stride);
  const columns = steps(w, patch, stride);
  const positions = rows.flatMap((y) => columns.map((x) => [y, x] as const));
  const results: number[] = [];
  for (let start = 0; start < positions.length; start += batchSize) {
    const chunk = positions.slice(start, start + batchSize).map(([y0, x0]) => {
      const copy = Float32Array.from(pixels);
      for (let y = y0; y < y0 + patch; y++) copy.fill(fill, (y * w + x0) * c, (y * w + x0 + patch) * c);
      return copy;
    });
    const probs = probabilitiesOf(predict, chunk, [h, w, c]);
    for (let k = 0; k < chunk.length; k++) results.push(probs[k * classes + classIndex]);
  }
  const probabilities = rows.map((_, r) => results.slice(r * columns.length, (r + 1) * columns.length));
  return {
    probabilities,
    rows,
    columns,
    classIndex,
    baseline: base[classIndex],
    patch,
    stride,
    figure: occlusionFigure(pixels, [h, w, c], probabilities, rows, columns, patch, classIndex, base[classIndex], options.title),
  };
}

/** Top-left positions 0, stride, … that keep the patch inside `size`. */
function steps(size: number, patch: number, stride: number): number[] {
  const out: number[] = [];
  for (let p = 0; p + patch <= size; p += stride) out.push(p);
  return out;
}

/** Runs `predict` on images given as flat HWC arrays; returns the flat [n, classes] probabilities. */
function probabilitiesOf(predict: (batch: tf.Tensor4D) => tf.Tensor, images: Float32Array[], [h, w, c]: number[]): number[] {
  return tf.tidy(() => {
    const flat = new Float32Array(images.length * h * w * c);
    images.forEach((img, k) => flat.set(img, k * h * w * c));
    const out = predict(tf.tensor4d(flat, [images.length, h, w, c]));
    if (!isTensor(out) || out.rank !== 2 || out.shape[0] !== images.length) {
      throw new EinError({
        code: 'EIN6004',
        message: `predict must return probabilities [${images.length}, classes] for a batch of ${images.length}, got ${isTensor(out) ? `shape [${out.shape.join(',')}]` : typeof out}`,
        hint: 'return model.predict(batch) as a rank-2 tensor (apply tf.softmax to logits)',
      });
    }
    return Array.from(out.dataSync());
  });
}

function occlusionFigure(
  pixels: ArrayLike<number>,
  [h, w, c]: number[],
  probabilities: number[][],
  rows: number[],
  columns: number[],
  patch: number,
  classIndex: number,
  baseline: number,
  title: string | undefined,
): Figure {
  const { axes } = subplotGrid(2, 2, 0.12, { showgrid: false, zeroline: false });
  const at = (y: number, x: number, ch: number) => pixels[(y * w + x) * c + ch];
  let imageTrace: Trace;
  if (c === 3) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < pixels.length; i++) {
      lo = Math.min(lo, pixels[i]);
      hi = Math.max(hi, pixels[i]);
    }
    const span = hi > lo ? hi - lo : 1;
    const z = Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => [0, 1, 2].map((ch) => Math.round(((at(y, x, ch) - lo) / span) * 255))));
    imageTrace = { type: 'image', z, name: 'image', xaxis: 'x', yaxis: 'y' };
  } else {
    const z = Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => at(y, x, 0)));
    imageTrace = { type: 'heatmap', z, colorscale: 'Greys', showscale: false, name: 'image', xaxis: 'x', yaxis: 'y' };
  }
  const centre = (p: number) => p + (patch - 1) / 2;
  const mapTrace: Trace = {
    type: 'heatmap',
    z: probabilities,
    x: columns.map(centre),
    y: rows.map(centre),
    colorscale: 'Jet',
    name: `p(class ${classIndex})`,
    colorbar: { title: { text: `p(${classIndex})` } },
    xaxis: 'x2',
    yaxis: 'y2',
  };
  for (const suffix of ['', '2']) {
    Object.assign(axes[`xaxis${suffix}`] as object, { range: [-0.5, w - 0.5], constrain: 'domain' });
    Object.assign(axes[`yaxis${suffix}`] as object, { range: [h - 0.5, -0.5], scaleanchor: `x${suffix}`, constrain: 'domain' });
  }
  return {
    data: [imageTrace, mapTrace],
    layout: {
      title: { text: title ?? `Occlusion sensitivity: class ${classIndex} (unoccluded p = ${baseline.toPrecision(3)}, patch ${patch})` },
      ...axes,
      width: 820,
      height: 440,
      margin: { l: 40, r: 40, t: 60, b: 40 },
    },
  };
}

/** Duck-typed: a tensor from another copy of tfjs is still a tensor. */
function isTensor(v: unknown): v is tf.Tensor {
  return v !== null && typeof v === 'object' && typeof (v as tf.Tensor).rank === 'number' && typeof (v as tf.Tensor).dataSync === 'function';
}
