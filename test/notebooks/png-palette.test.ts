/**
 * Plot PNGs stored as palette images: decoded by pngjs (an independent decoder), an image of at
 * most 256 colours comes back pixel for pixel, one of more colours within a small error, and the
 * result is never larger than the input.
 */
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { compactPng } from '../../viz/png-palette';

function rgbaPng(width: number, height: number, colour: (x: number, y: number) => [number, number, number, number]): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b, a] = colour(x, y);
      png.data.set([r, g, b, a], 4 * (y * width + x));
    }
  return PNG.sync.write(png);
}

/** PNG colour type (IHDR byte 9: 2 RGB, 3 palette, 6 RGBA). */
function colourType(png: Buffer): number {
  return png[8 + 8 + 9];
}

describe('compactPng', () => {
  it('keeps every pixel of an image of at most 256 colours, transparency included, in a smaller palette PNG', () => {
    // 250 greys in diagonal bands, white margins, a half-transparent red square: 252 colours.
    const input = rgbaPng(300, 200, (x, y) => {
      if (x >= 10 && x < 20 && y >= 10 && y < 20) return [255, 0, 0, 128];
      if (x < 25 || x >= 275) return [255, 255, 255, 255];
      const g = (x * 7 + y * 13) % 250;
      return [g, g, g, 255];
    });
    const output = compactPng(input);
    expect(colourType(output)).toBe(3);
    expect(output.length).toBeLessThan(input.length / 2);
    const a = PNG.sync.read(input);
    const b = PNG.sync.read(output);
    expect([b.width, b.height]).toEqual([300, 200]);
    expect(Buffer.compare(a.data, b.data)).toBe(0);
  });

  it('gives an image of more colours 256 (median cut), each pixel near its own colour', () => {
    // A smooth 3-channel gradient: 128 × 96 pixels, 12,288 colours.
    const input = rgbaPng(128, 96, (x, y) => [2 * x, Math.round(2.6 * y), (x + y) % 256, 255]);
    const output = compactPng(input);
    expect(colourType(output)).toBe(3);
    const a = PNG.sync.read(input).data;
    const b = PNG.sync.read(output).data;
    const colours = new Set<number>();
    let worst = 0;
    let total = 0;
    for (let p = 0; p < a.length; p += 4) {
      colours.add(b.readUInt32BE(p));
      for (let k = 0; k < 4; k++) {
        const e = Math.abs(a[p + k] - b[p + k]);
        worst = Math.max(worst, e);
        total += e;
      }
    }
    expect(colours.size).toBeLessThanOrEqual(256);
    expect(total / a.length).toBeLessThan(4);
    expect(worst).toBeLessThan(40);
  });

  it('returns the input when a palette image would not be smaller', () => {
    // One pixel: the palette and its chunk cost more than the RGBA pixel.
    const input = rgbaPng(1, 1, () => [1, 2, 3, 255]);
    expect(compactPng(input)).toBe(input);
  });
});
