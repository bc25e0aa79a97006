/**
 * Test helpers that write the real on-disk formats byte by byte from their specifications —
 * independent of the loaders under test: IDX (big-endian header), CIFAR binary records, ustar.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'einnet-data-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** IDX bytes: 00 00 <type> <ndims>, big-endian uint32 dims, then the body. */
export function idxBytes(dims: number[], body: Uint8Array, typeCode = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = typeCode;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(body)]);
}

/** n images of h×w whose pixel (i, y, x) is (i*31 + y*7 + x) mod 256, and labels i mod classes. */
export function syntheticImages(n: number, h: number, w: number, classes = 10): { pixels: Uint8Array; labels: Uint8Array } {
  const pixels = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) pixels[(i * h + y) * w + x] = (i * 31 + y * 7 + x) % 256;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % classes);
  return { pixels, labels };
}

/** Writes an MNIST-style pair (`<prefix>-images-idx3-ubyte[.gz]`, `<prefix>-labels-idx1-ubyte[.gz]`). */
export function writeIdxPair(dir: string, prefix: 'train' | 't10k', n: number, gzip: boolean, h = 28, w = 28): { pixels: Uint8Array; labels: Uint8Array } {
  const data = syntheticImages(n, h, w);
  const ext = gzip ? '.gz' : '';
  const enc = (b: Buffer) => (gzip ? zlib.gzipSync(b) : b);
  fs.writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte${ext}`), enc(idxBytes([n, h, w], data.pixels)));
  fs.writeFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte${ext}`), enc(idxBytes([n], data.labels)));
  return data;
}

/**
 * One CIFAR record: label byte(s), then R plane, G plane, B plane (1,024 bytes each, row-major).
 * Pixel (y, x) of channel c is `pixel(y, x, c)`.
 */
export function cifarRecord(labels: number[], pixel: (y: number, x: number, c: number) => number): Buffer {
  const b = Buffer.alloc(labels.length + 3072);
  labels.forEach((l, i) => (b[i] = l));
  for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) b[labels.length + c * 1024 + y * 32 + x] = pixel(y, x, c);
  return b;
}

/** The test pattern for record r: distinct per record, channel, row and column. */
export const cifarPixel = (r: number) => (y: number, x: number, c: number) => (r * 13 + c * 80 + y * 3 + x) % 256;

/** A ustar header block for a regular file ('0') or folder ('5'). */
function tarHeader(name: string, size: number, type: '0' | '5'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const v of h) sum += v;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** A tar archive (ustar) of the given files; folders are added for their parents. */
export function tarBytes(files: Array<{ name: string; data: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  const dirs = new Set<string>();
  for (const f of files) {
    const parent = path.posix.dirname(f.name);
    if (parent !== '.' && !dirs.has(parent)) {
      dirs.add(parent);
      parts.push(tarHeader(parent + '/', 0, '5'));
    }
    parts.push(tarHeader(f.name, f.data.length, '0'), f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
