/**
 * Smaller PNGs of plots: a plot has few colours (a colour scale, text, axes), so it is stored as
 * an 8-bit palette image, a third of the size of the RGB image a browser writes.
 *
 * An image of at most 256 colours (alpha included) keeps every pixel exactly. One with more (a
 * photo drawn by an image trace) gets a 256-colour palette by median cut and each pixel the
 * nearest palette colour. The result is kept only when it is smaller than the input.
 */
import { deflateSync } from 'zlib';
import { PNG } from 'pngjs';

/** Colours a palette PNG holds. */
const PALETTE_SIZE = 256;

/** `png` (any PNG pngjs reads) as a palette PNG when that is smaller; else `png` itself. */
export function compactPng(png: Buffer): Buffer {
  const image = PNG.sync.read(png);
  const { width, height, data } = image;
  const pixels = new Uint32Array(width * height);
  const counts = new Map<number, number>();
  for (let p = 0; p < pixels.length; p++) {
    const rgba = ((data[4 * p] << 24) | (data[4 * p + 1] << 16) | (data[4 * p + 2] << 8) | data[4 * p + 3]) >>> 0;
    pixels[p] = rgba;
    counts.set(rgba, (counts.get(rgba) ?? 0) + 1);
  }
  const palette = counts.size <= PALETTE_SIZE ? [...counts.keys()] : medianCut(counts, PALETTE_SIZE);
  const indexOf = new Map<number, number>();
  palette.forEach((c, i) => indexOf.set(c, i));
  const indices = new Uint8Array(pixels.length);
  for (let p = 0; p < pixels.length; p++) {
    let i = indexOf.get(pixels[p]);
    if (i === undefined) {
      i = nearest(palette, pixels[p]);
      indexOf.set(pixels[p], i);
    }
    indices[p] = i;
  }
  const out = encodePalettePng(width, height, indices, palette);
  return out.length < png.length ? out : png;
}

/** Channel `k` (0 red, 1 green, 2 blue, 3 alpha) of a packed RGBA colour. */
function channel(c: number, k: number): number {
  return (c >>> (24 - 8 * k)) & 0xff;
}

/**
 * `size` colours for the weighted colour set `counts`: the box of colours with the widest channel
 * range (weighted by its pixels) is split at its weighted median until there are `size` boxes;
 * each box gives its pixel-weighted mean colour.
 */
function medianCut(counts: Map<number, number>, size: number): number[] {
  type Box = { colours: number[]; weight: number; k: number; span: number };
  const box = (colours: number[]): Box => {
    let weight = 0;
    for (const c of colours) weight += counts.get(c)!;
    let k = 0;
    let span = -1;
    for (let ch = 0; ch < 4; ch++) {
      let lo = 255;
      let hi = 0;
      for (const c of colours) {
        const v = channel(c, ch);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (hi - lo > span) {
        k = ch;
        span = hi - lo;
      }
    }
    return { colours, weight, k, span };
  };
  const boxes = [box([...counts.keys()])];
  while (boxes.length < size) {
    let pick = -1;
    let score = 0;
    boxes.forEach((b, i) => {
      const s = b.colours.length > 1 ? b.span * Math.sqrt(b.weight) : 0;
      if (s > score) {
        score = s;
        pick = i;
      }
    });
    if (pick < 0) break;
    const { colours, weight, k } = boxes[pick];
    colours.sort((a, b) => channel(a, k) - channel(b, k));
    let acc = 0;
    let cut = 1;
    for (let i = 0; i < colours.length - 1; i++) {
      acc += counts.get(colours[i])!;
      cut = i + 1;
      if (acc >= weight / 2) break;
    }
    boxes.splice(pick, 1, box(colours.slice(0, cut)), box(colours.slice(cut)));
  }
  return boxes.map(({ colours, weight }) => {
    const sum = [0, 0, 0, 0];
    for (const c of colours) for (let k = 0; k < 4; k++) sum[k] += channel(c, k) * counts.get(c)!;
    const [r, g, b, a] = sum.map((s) => Math.round(s / weight));
    return ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
  });
}

/** Index of the palette colour nearest `c` (squared distance over the four channels). */
function nearest(palette: number[], c: number): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < palette.length; i++) {
    let d = 0;
    for (let k = 0; k < 4; k++) {
      const e = channel(palette[i], k) - channel(c, k);
      d += e * e;
    }
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(bytes: Buffer): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * An 8-bit palette PNG (colour type 3; tRNS when a colour is not opaque). Every row uses the same
 * filter, none, sub or up, whichever compresses smallest.
 */
function encodePalettePng(width: number, height: number, indices: Uint8Array, palette: number[]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per index
  header[9] = 3; // palette
  const plte = Buffer.alloc(palette.length * 3);
  const alpha = Buffer.alloc(palette.length);
  palette.forEach((c, i) => {
    for (let k = 0; k < 3; k++) plte[3 * i + k] = channel(c, k);
    alpha[i] = channel(c, 3);
  });
  let lastTranslucent = -1;
  alpha.forEach((a, i) => {
    if (a !== 255) lastTranslucent = i;
  });
  let best: Buffer | undefined;
  for (const filter of [0, 1, 2]) {
    const raw = Buffer.alloc(height * (width + 1));
    for (let y = 0; y < height; y++) {
      const row = y * (width + 1);
      raw[row] = filter;
      for (let x = 0; x < width; x++) {
        const v = indices[y * width + x];
        const before = filter === 1 && x > 0 ? indices[y * width + x - 1] : filter === 2 && y > 0 ? indices[(y - 1) * width + x] : 0;
        raw[row + 1 + x] = (v - before) & 0xff;
      }
    }
    const compressed = deflateSync(raw, { level: 9 });
    if (best === undefined || compressed.length < best.length) best = compressed;
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('PLTE', plte),
    ...(lastTranslucent >= 0 ? [chunk('tRNS', alpha.subarray(0, lastTranslucent + 1))] : []),
    chunk('IDAT', best!),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
