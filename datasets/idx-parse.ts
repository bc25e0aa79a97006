/**
 * The IDX format without Node: parsing bytes (datasets/idx.ts reads them from files) and the
 * ImageSet of an image and a label array, with the same checks and EIN5xxx errors everywhere.
 * In a page: `idxImageSetFromBytes` with the bytes of uncompressed files (fetch them, or
 * decompress .gz with the browser's DecompressionStream first).
 */
import { hexHead, isGzip } from './bytes';
import { fileError } from './errors';
import { ImageSet } from './image-set';

/** IDX type codes and their element types. */
export const IDX_TYPES = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
} as const;

export type IdxType = (typeof IDX_TYPES)[keyof typeof IDX_TYPES]['name'];

/** One IDX array: its sizes, element type and values (host byte order). */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly type: IdxType;
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

function describeContents(bytes: Uint8Array): string {
  if (isGzip(bytes)) return 'gzip data';
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return 'a PNG image';
  if (bytes[0] === 0x3c) return 'text starting with "<" (an HTML error page?)';
  return `bytes ${hexHead(bytes)}`;
}

/**
 * Parses IDX bytes (already decompressed). `file` names the source in errors.
 *
 * @example
 * parseIdx(readFileSync('train-labels-idx1-ubyte'), 'train-labels…').dims; // [60000]
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || !(bytes[2] in IDX_TYPES) || bytes[3] === 0) {
    throw fileError(
      'EIN5002',
      file,
      `is not an IDX file: it starts with ${describeContents(bytes)}, an IDX file starts with 00 00 <type> <ndims> (e.g. 00 00 08 03 for images)`,
      'point the loader at the MNIST/Fashion-MNIST *-idx3-ubyte / *-idx1-ubyte files, or fetch the dataset again',
    );
  }
  const type = IDX_TYPES[bytes[2] as keyof typeof IDX_TYPES];
  const ndims = bytes[3];
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) {
    throw fileError('EIN5003', file, `is truncated inside its header (${bytes.length} bytes, the header alone needs ${headerSize})`, 'fetch the dataset again');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerSize + count * type.bytes;
  if (bytes.length !== expected) {
    const what =
      bytes.length < expected
        ? `is truncated: its header promises [${dims.join(', ')}] ${type.name} values (${expected} bytes) but the file has ${bytes.length} bytes`
        : `has ${bytes.length - expected} unexpected bytes after the [${dims.join(', ')}] ${type.name} values its header promises`;
    throw fileError('EIN5003', file, what, 'the file is damaged: fetch the dataset again');
  }
  const body = bytes.subarray(headerSize);
  let data: IdxArray['data'];
  switch (type.name) {
    case 'uint8':
      data = body;
      break;
    case 'int8':
      data = new Int8Array(body.buffer, body.byteOffset, body.length);
      break;
    default: {
      // Multi-byte values are big-endian; read them one by one into host order.
      const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
      if (type.name === 'int16') data = Int16Array.from({ length: count }, (_, i) => v.getInt16(2 * i, false));
      else if (type.name === 'int32') data = Int32Array.from({ length: count }, (_, i) => v.getInt32(4 * i, false));
      else if (type.name === 'float32') data = Float32Array.from({ length: count }, (_, i) => v.getFloat32(4 * i, false));
      else data = Float64Array.from({ length: count }, (_, i) => v.getFloat64(8 * i, false));
    }
  }
  return { dims, type: type.name, data };
}

export interface IdxPairOptions {
  /** Dataset/split name for messages and the set, e.g. `mnist/train`. */
  readonly name: string;
  readonly classNames: readonly string[];
  /** Keep only the first `limit` images (the files are still checked whole). */
  readonly limit?: number;
}

/** `images` when it is an IDX image array ([N,H,W] or [N,H,W,C] uint8); EIN5002 otherwise. */
export function checkIdxImages(images: IdxArray, imagesFile: string): IdxArray {
  if (images.type !== 'uint8' || (images.dims.length !== 3 && images.dims.length !== 4)) {
    throw fileError(
      'EIN5002',
      imagesFile,
      `is an IDX file of [${images.dims.join(', ')}] ${images.type}, not an image file ([count, height, width] uint8, magic 00 00 08 03)`,
      'did you swap the image and label files?',
    );
  }
  return images;
}

/** `labels` when it is an IDX label array ([N] uint8); EIN5002 otherwise. */
export function checkIdxLabels(labels: IdxArray, labelsFile: string): IdxArray {
  if (labels.type !== 'uint8' || labels.dims.length !== 1) {
    throw fileError(
      'EIN5002',
      labelsFile,
      `is an IDX file of [${labels.dims.join(', ')}] ${labels.type}, not a label file ([count] uint8, magic 00 00 08 01)`,
      'did you swap the image and label files?',
    );
  }
  return labels;
}

/** The ImageSet of checked IDX images and labels: counts must agree, every label must name a class. */
export function idxImageSet(images: IdxArray, labels: IdxArray, imagesFile: string, labelsFile: string, options: IdxPairOptions): ImageSet {
  const [n, h, w, c = 1] = images.dims;
  if (n === 0 || h * w * c === 0) {
    const what = n === 0 ? 'holds no images (its header announces a count of 0)' : `holds images of size ${h}x${w}x${c}, which have no pixels`;
    throw fileError('EIN5020', imagesFile, what, 'the file is damaged or not a dataset file: fetch the dataset again');
  }
  if (labels.dims[0] !== n) {
    throw fileError(
      'EIN5005',
      labelsFile,
      `has ${labels.dims[0]} labels but ${imagesFile} has ${n} images`,
      'the two files come from different datasets or splits: use the matching pair (train-* with train-*, t10k-* with t10k-*)',
    );
  }
  const classes = options.classNames.length;
  const labelBytes = labels.data as Uint8Array;
  for (let i = 0; i < n; i++) {
    if (labelBytes[i] >= classes) {
      throw fileError(
        'EIN5014',
        labelsFile,
        `label ${labelBytes[i]} at index ${i} is outside 0..${classes - 1}`,
        'the label file is damaged or belongs to another dataset',
      );
    }
  }
  const keep = options.limit === undefined ? n : Math.min(n, options.limit);
  const size = h * w * c;
  // Copy when limiting, so the full decompressed buffer can be freed.
  const pixels = keep === n ? (images.data as Uint8Array) : (images.data as Uint8Array).slice(0, keep * size);
  return new ImageSet({
    name: options.name,
    pixels,
    count: keep,
    height: h,
    width: w,
    channels: c,
    labels: Int32Array.from(labelBytes.subarray(0, keep)),
    classNames: options.classNames,
  });
}

/**
 * An ImageSet from the bytes of an IDX image file and its label file (uncompressed), with the
 * checks and errors of readIdxImageSet; `imagesName` and `labelsName` name them in errors.
 *
 * @example
 *   const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
 *   idxImageSetFromBytes(await bytes('t10k-images-idx3-ubyte'), await bytes('t10k-labels-idx1-ubyte'), { name: 'mnist/test', classNames });
 */
export function idxImageSetFromBytes(
  images: Uint8Array | ArrayBuffer,
  labels: Uint8Array | ArrayBuffer,
  options: IdxPairOptions & { imagesName?: string; labelsName?: string },
): ImageSet {
  const imagesName = options.imagesName ?? `${options.name} images`;
  const labelsName = options.labelsName ?? `${options.name} labels`;
  const checkedImages = checkIdxImages(parseIdx(new Uint8Array(images), imagesName), imagesName);
  const checkedLabels = checkIdxLabels(parseIdx(new Uint8Array(labels), labelsName), labelsName);
  return idxImageSet(checkedImages, checkedLabels, imagesName, labelsName, options);
}
