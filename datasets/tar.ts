/**
 * Streaming extraction of .tar.gz archives (POSIX ustar, with GNU long names and pax paths),
 * enough for the CIFAR archives without a dependency and without holding the archive in memory.
 * Only regular files and folders are written; links and devices are skipped; a path that would
 * leave the destination ('..', absolute) is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { EinError } from '../core/diagnostics';
import { describeIoError, fileError } from './errors';

const BLOCK = 512;

/** Pulls exact byte counts out of an async stream of chunks. */
class ChunkReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.ended) {
      const r = await this.source.next();
      if (r.done) this.ended = true;
      else {
        this.chunks.push(r.value);
        this.buffered += r.value.length;
      }
    }
  }

  /** Up to `max` bytes (fewer only at the end of the stream; empty at the end). */
  async readSome(max: number): Promise<Buffer> {
    await this.fill(1);
    if (this.buffered === 0) return Buffer.alloc(0);
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const take = all.subarray(0, Math.min(max, all.length));
    const rest = all.subarray(take.length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return take;
  }

  /** Exactly `n` bytes, or fewer if the stream ends first. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const b = await this.readSome(n - got);
      if (b.length === 0) break;
      parts.push(b);
      got += b.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

function cstring(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

function octal(b: Buffer, start: number, len: number): number {
  if (b[start] & 0x80) {
    // GNU base-256 for sizes ≥ 8 GiB.
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i];
    return v;
  }
  const s = cstring(b, start, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === octal(h, 148, 8);
}

/** A pax extended header's `path` record, if any. */
function paxPath(data: Buffer): string | undefined {
  let pos = 0;
  let found: string | undefined;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.toString('utf8', pos, space), 10);
    if (!(len > 0)) break;
    const rec = data.toString('utf8', space + 1, pos + len - 1);
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') found = rec.slice(eq + 1);
    pos += len;
  }
  return found;
}

/** The most a dataset archive may decompress to (1 GiB; the CIFAR archives hold under 200 MB). */
export const MAX_TAR_BYTES = 1 << 30;

export interface ExtractOptions {
  /** Stop with EIN5013 once the decompressed archive exceeds this many bytes (default MAX_TAR_BYTES). */
  readonly maxBytes?: number;
}

/** The chunks of `stream`, failing with `tooMuch(max)` as soon as their total exceeds `max` bytes. */
async function* limitedChunks(stream: AsyncIterable<Buffer>, max: number, tooMuch: (max: number) => Error): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > max) throw tooMuch(max);
    yield chunk;
  }
}

/**
 * Extracts the gzip-compressed tar `archive` into `destDir` (created if needed) and returns the
 * relative paths of the files written. Corrupt gzip is EIN5004, a corrupt or truncated tar EIN5013,
 * and so is an archive that decompresses to more than `options.maxBytes` (checked while streaming).
 *
 * @example
 * await extractTarGz('cifar-10-binary.tar.gz', '/tmp/x'); // ['cifar-10-batches-bin/data_batch_1.bin', …]
 */
export async function extractTarGz(archive: string, destDir: string, options: ExtractOptions = {}): Promise<string[]> {
  const root = path.resolve(destDir);
  fs.mkdirSync(root, { recursive: true });
  const gunzip = zlib.createGunzip();
  const input = fs.createReadStream(archive);
  input.on('error', (e) => gunzip.destroy(e));
  input.pipe(gunzip);
  const bad = (what: string) => fileError('EIN5013', archive, what, 'delete the archive and fetch the dataset again');
  const reader = new ChunkReader(
    limitedChunks(gunzip, options.maxBytes ?? MAX_TAR_BYTES, (max) =>
      fileError(
        'EIN5013',
        archive,
        `decompresses to more than ${max} bytes, more than any dataset archive einnet extracts; extraction stopped there`,
        'the archive is damaged or not the dataset (a decompression bomb?): delete it and fetch the dataset again',
      ),
    ),
  );
  const written: string[] = [];
  let longName: string | undefined;
  try {
    for (;;) {
      const header = await reader.read(BLOCK);
      if (header.length === 0) break; // end of stream without the two zero blocks: accepted, as GNU tar does
      if (header.length < BLOCK) throw bad(`archive ends inside a header (${header.length} of 512 bytes)`);
      if (header.every((v) => v === 0)) break; // end-of-archive marker
      if (!checksumOk(header)) throw bad('a header has a wrong checksum (not a tar archive, or corrupt)');
      const type = String.fromCharCode(header[156] || 0x30);
      const size = octal(header, 124, 12);
      const isUstar = header.toString('latin1', 257, 262) === 'ustar';
      const prefix = isUstar ? cstring(header, 345, 155) : '';
      let name = longName ?? (prefix ? `${prefix}/${cstring(header, 0, 100)}` : cstring(header, 0, 100));
      longName = undefined;
      const padded = Math.ceil(size / BLOCK) * BLOCK;

      if (type === 'L' || type === 'x') {
        const data = await reader.read(padded);
        if (data.length < padded) throw bad(`archive ends inside the extended header of ${name}`);
        longName = type === 'L' ? cstring(data, 0, size) : paxPath(data.subarray(0, size));
        continue;
      }
      const rel = path.normalize(name).replace(/^(\.\/)+/, '');
      const target = path.resolve(root, rel);
      if (path.isAbsolute(name) || (target !== root && !target.startsWith(root + path.sep))) {
        throw bad(`entry ${JSON.stringify(name)} would be written outside the destination folder`);
      }
      if (type === '5') {
        fs.mkdirSync(target, { recursive: true });
      }
      const isFile = type === '0' || type === '7';
      let fd: number | undefined;
      if (isFile) {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fd = fs.openSync(target, 'w');
      }
      try {
        let left = padded;
        let data = size;
        while (left > 0) {
          const chunk = await reader.readSome(Math.min(left, 1 << 20));
          if (chunk.length === 0) throw bad(`archive is truncated: it ends inside ${name} (${size - data} of ${size} bytes)`);
          if (fd !== undefined && data > 0) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, data));
          data -= Math.min(chunk.length, data);
          left -= chunk.length;
        }
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
      if (isFile) written.push(rel);
      name = '';
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw fileError(
        'EIN5004',
        archive,
        code === 'Z_BUF_ERROR' ? 'gzip data ends early (truncated archive)' : `gzip data is corrupt (${(err as Error).message})`,
        'delete the archive and fetch the dataset again',
      );
    }
    if (typeof code === 'string' && !(err instanceof EinError)) {
      throw fileError('EIN5011', archive, `cannot extract: ${describeIoError(err)}`, 'check the archive path and that the destination folder is writable');
    }
    throw err;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return written;
}
