/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * number `00 00 <type> <ndims>`, then `ndims` big-endian uint32 sizes, then the values,
 * big-endian, row-major. We check the magic, the type and that the file holds exactly the
 * values its header promises — a short file is an error, never a short dataset.
 */
import { checkOptions } from '../core/options';
import { fileError } from './errors';
import { gunzipHead, gunzipIfNeeded, hexHead, isGzip, readFileBytes, type GunzipLimit } from './files';
import { ImageSet } from './image-set';

/** IDX type codes and their element types. */
const IDX_TYPES = {
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

/** The largest IDX header: magic, then up to 255 sizes. */
const MAX_HEADER_BYTES = 4 + 4 * 255;

/** What a valid IDX header at the start of `head` announces (header and values), or undefined when `head` holds none. */
function announcedSize(head: Uint8Array): GunzipLimit | undefined {
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0 || !(head[2] in IDX_TYPES) || head[3] === 0) return undefined;
  const type = IDX_TYPES[head[2] as keyof typeof IDX_TYPES];
  const headerSize = 4 + 4 * head[3];
  if (head.length < headerSize) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims = Array.from({ length: head[3] }, (_, d) => view.getUint32(4 + 4 * d, false));
  const bytes = headerSize + dims.reduce((a, b) => a * b, 1) * type.bytes;
  return { bytes, why: `the size its header announces ([${dims.join(', ')}] ${type.name} values and a ${headerSize}-byte header)` };
}

/**
 * Reads an IDX file, gzip or raw. Gzip data is decompressed no further than the size its IDX
 * header announces (read from the first decompressed bytes), so a small file cannot claim gigabytes.
 */
export function readIdx(file: string): IdxArray {
  const raw = readFileBytes(file);
  if (!isGzip(raw)) return parseIdx(gunzipIfNeeded(raw, file), file);
  const head = gunzipHead(raw, file, MAX_HEADER_BYTES);
  const limit = announcedSize(head);
  // No valid header: parsing the head reports what is wrong with it.
  if (limit === undefined) return parseIdx(head, file);
  return parseIdx(gunzipIfNeeded(raw, file, limit), file);
}

export interface IdxPairOptions {
  /** Dataset/split name for messages and the set, e.g. `mnist/train`. */
  readonly name: string;
  readonly classNames: readonly string[];
  /** Keep only the first `limit` images (the files are still checked whole). */
  readonly limit?: number;
}

/**
 * An ImageSet from an IDX image file ([N,H,W] or [N,H,W,C] uint8) and its IDX label file ([N]
 * uint8): counts must agree and every label must name a class.
 *
 * @example
 * readIdxImageSet('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', { name: 'fashion/test', classNames });
 */
export function readIdxImageSet(imagesFile: string, labelsFile: string, options: IdxPairOptions): ImageSet {
  checkOptions(options, ['name', 'classNames', 'limit'], 'readIdxImageSet');
  const images = readIdx(imagesFile);
  if (images.type !== 'uint8' || (images.dims.length !== 3 && images.dims.length !== 4)) {
    throw fileError(
      'EIN5002',
      imagesFile,
      `is an IDX file of [${images.dims.join(', ')}] ${images.type}, not an image file ([count, height, width] uint8, magic 00 00 08 03)`,
      'did you swap the image and label files?',
    );
  }
  const labels = readIdx(labelsFile);
  if (labels.type !== 'uint8' || labels.dims.length !== 1) {
    throw fileError(
      'EIN5002',
      labelsFile,
      `is an IDX file of [${labels.dims.join(', ')}] ${labels.type}, not a label file ([count] uint8, magic 00 00 08 01)`,
      'did you swap the image and label files?',
    );
  }
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
