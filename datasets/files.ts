/**
 * Reading data files whole, gzip or not. Every failure is an EinError naming the file, so a
 * corrupt download says which file to delete rather than "invalid block type".
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { describeIoError, fileError } from './errors';

/** The bytes of `file`; EIN5011 when it cannot be read. */
export function readFileBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw fileError('EIN5011', file, `cannot read: ${describeIoError(err)}`, 'check the path, or fetch the dataset again');
  }
}

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The first bytes of `bytes` in hex, for messages about unexpected contents. */
export function hexHead(bytes: Uint8Array, n = 4): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty)';
}

/**
 * `bytes` decompressed when they are gzip (detected by content, not name). A file named `.gz`
 * that is not gzip, and a gzip stream that is corrupt or cut short, are EIN5004.
 */
export function gunzipIfNeeded(bytes: Buffer, file: string): Buffer {
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
    return zlib.gunzipSync(bytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what =
      code === 'Z_BUF_ERROR'
        ? 'gzip data ends early (the file is truncated, e.g. an interrupted download)'
        : `gzip data is corrupt (${(err as Error).message})`;
    throw fileError('EIN5004', file, what, 'delete the file and fetch the dataset again');
  }
}

/** The bytes of `file`, decompressed when it is gzip. */
export function readMaybeGzip(file: string): Buffer {
  return gunzipIfNeeded(readFileBytes(file), file);
}
