/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * number `00 00 <type> <ndims>`, then `ndims` big-endian uint32 sizes, then the values,
 * big-endian, row-major. We check the magic, the type and that the file holds exactly the
 * values its header promises — a short file is an error, never a short dataset.
 */
import { checkOptions } from '../core/options';
import { gunzipHead, gunzipIfNeeded, isGzip, readFileBytes, type GunzipLimit } from './files';
import type { ImageSet } from './image-set';
import { IDX_TYPES, checkIdxImages, checkIdxLabels, idxImageSet, parseIdx, type IdxArray, type IdxPairOptions } from './idx-parse';

export { parseIdx, idxImageSetFromBytes } from './idx-parse';
export type { IdxArray, IdxType, IdxPairOptions } from './idx-parse';

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

/**
 * An ImageSet from an IDX image file ([N,H,W] or [N,H,W,C] uint8) and its IDX label file ([N]
 * uint8): counts must agree and every label must name a class.
 *
 * @example
 * readIdxImageSet('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', { name: 'fashion/test', classNames });
 */
export function readIdxImageSet(imagesFile: string, labelsFile: string, options: IdxPairOptions): ImageSet {
  checkOptions(options, ['name', 'classNames', 'limit'], 'readIdxImageSet');
  const images = checkIdxImages(readIdx(imagesFile), imagesFile);
  return idxImageSet(images, checkIdxLabels(readIdx(labelsFile), labelsFile), imagesFile, labelsFile, options);
}
