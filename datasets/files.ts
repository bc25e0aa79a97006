/**
 * Reading data files whole, gzip or not. Every failure is an EinError naming the file, so a
 * corrupt download says which file to delete rather than "invalid block type".
 */
import * as buffer from 'node:buffer';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { isGzip, hexHead } from './bytes';
import { describeIoError, fileError } from './errors';

/** The bytes of `file`; EIN5011 when it cannot be read. */
export function readFileBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw fileError('EIN5011', file, `cannot read: ${describeIoError(err)}`, 'check the path, or fetch the dataset again');
  }
}

export { isGzip, hexHead };

/** The most one gzip file may decompress to when nothing tells a smaller size (1 GiB, above any dataset file einnet reads). */
export const MAX_GUNZIP_BYTES = 1 << 30;

/** What a decompressed size must not exceed, and why (for the message). */
export interface GunzipLimit {
  readonly bytes: number;
  /** e.g. `the [60000, 28, 28] uint8 values its header announces`. */
  readonly why: string;
}

const DEFAULT_LIMIT: GunzipLimit = { bytes: MAX_GUNZIP_BYTES, why: 'the most einnet reads from one file' };

function gzipFailure(err: unknown, file: string, limit: GunzipLimit): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_BUFFER_TOO_LARGE') {
    return fileError(
      'EIN5003',
      file,
      `gzip data decompresses to more than ${limit.bytes} bytes, ${limit.why}; decompression stopped there`,
      'the file is damaged or is not the dataset file it is named after (a decompression bomb?): delete it and fetch the dataset again',
    );
  }
  const what =
    code === 'Z_BUF_ERROR' ? 'gzip data ends early (the file is truncated, e.g. an interrupted download)' : `gzip data is corrupt (${(err as Error).message})`;
  return fileError('EIN5004', file, what, 'delete the file and fetch the dataset again');
}

/**
 * `bytes` decompressed when they are gzip (detected by content, not name). A file named `.gz`
 * that is not gzip, and a gzip stream that is corrupt or cut short, are EIN5004. Decompression
 * stops as soon as the output exceeds `limit` (EIN5003), so a small file cannot fill the memory.
 */
export function gunzipIfNeeded(bytes: Buffer, file: string, limit: GunzipLimit = DEFAULT_LIMIT): Buffer {
  if (!isGzip(bytes)) {
    if (file.endsWith('.gz')) {
      throw fileError(
        'EIN5004',
        file,
        `is named .gz but is not gzip data (it starts with ${hexHead(bytes)}, gzip starts with 1f 8b)`,
        'the file is damaged or mislabelled: delete it and fetch the dataset again, or remove the .gz suffix if it is an uncompressed file',
      );
    }
    return bytes;
  }
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: Math.max(1, Math.min(limit.bytes, buffer.constants.MAX_LENGTH)) });
  } catch (err) {
    throw gzipFailure(err, file, limit);
  }
}

/**
 * At least the first `want` decompressed bytes of gzip `bytes` (fewer only when the whole stream
 * is shorter), decompressing only a prefix of the input: deflate expands at most 1032:1, so
 * the output of a `k`-byte prefix is bounded whatever the file holds.
 */
export function gunzipHead(bytes: Buffer, file: string, want: number): Buffer {
  for (let k = 1024; ; k *= 8) {
    const prefix = bytes.subarray(0, k);
    let out: Buffer;
    try {
      out = zlib.gunzipSync(prefix, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: 1100 * prefix.length + 1024 });
    } catch (err) {
      throw gzipFailure(err, file, { bytes: 0, why: '' });
    }
    if (out.length >= want || prefix.length === bytes.length) return out;
  }
}

/** The bytes of `file`, decompressed when it is gzip. */
export function readMaybeGzip(file: string): Buffer {
  return gunzipIfNeeded(readFileBytes(file), file);
}
