import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, loadImage, loadSampleImage, readImage, sampleImagePath } from '../../datasets/images';
import { expectEinError } from './expect-error';
import { tempDir } from './formats';

const tmp = tempDir();
afterAll(tmp.cleanup);

describe('committed sample photos', () => {
  it('are the scikit-image files, byte for byte (SHA-256 as in LICENSE.md)', () => {
    const sums = {
      chelsea: '596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb',
      camera: 'b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a',
      coffee: 'cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7',
    } as const;
    for (const [name, sum] of Object.entries(sums)) {
      expect(
        createHash('sha256')
          .update(fs.readFileSync(sampleImagePath(name as keyof typeof sums)))
          .digest('hex'),
      ).toBe(sum);
    }
    expect(fs.readFileSync(path.join(path.dirname(sampleImagePath('camera')), 'LICENSE.md'), 'utf8')).toContain('CC0');
  });

  // Reference pixels and sums read with scikit-image 0.19.3 (skimage.io.imread) on the same files.
  it('decode to the shapes and pixel values scikit-image reads', () => {
    const cat = readImage(sampleImagePath('chelsea'));
    expect([cat.height, cat.width, cat.channels]).toEqual([300, 451, 3]);
    const px = (im: typeof cat, y: number, x: number) => Array.from(im.pixels.subarray((y * im.width + x) * im.channels, (y * im.width + x + 1) * im.channels));
    expect(px(cat, 0, 0)).toEqual([143, 120, 104]);
    expect(px(cat, 100, 200)).toEqual([76, 39, 13]);
    expect(px(cat, 299, 450)).toEqual([162, 138, 128]);
    expect(cat.pixels.reduce((a, b) => a + b, 0)).toBe(46802357);

    const cam = readImage(sampleImagePath('camera'));
    expect([cam.height, cam.width, cam.channels]).toEqual([512, 512, 1]);
    expect([cam.pixels[0], px(cam, 100, 200)[0], cam.pixels[512 * 512 - 1]]).toEqual([200, 54, 149]);
    expect(cam.pixels.reduce((a, b) => a + b, 0)).toBe(33832495);

    const cup = readImage(sampleImagePath('coffee'));
    expect([cup.height, cup.width, cup.channels]).toEqual([400, 600, 3]);
    expect(px(cup, 100, 200)).toEqual([203, 143, 85]);
    expect(cup.pixels.reduce((a, b) => a + b, 0)).toBe(71003487);
  });

  it('loadSampleImage gives [h,w,c] float32 in [0,1] and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const cat = loadSampleImage('chelsea');
    expect(cat.shape).toEqual([300, 451, 3]);
    expect(cat.dtype).toBe('float32');
    const d = cat.dataSync();
    expect(d[0]).toBeCloseTo(143 / 255, 6);
    expect(Math.max(...d.subarray(0, 10000))).toBeLessThanOrEqual(1);
    const grey = loadSampleImage('chelsea', { channels: 1, scale: 'byte' });
    // BT.601 luma of (143, 120, 104): 0.299*143 + 0.587*120 + 0.114*104 = 125.053 → 125.
    expect(grey.shape).toEqual([300, 451, 1]);
    expect(grey.dataSync()[0]).toBe(125);
    const camRgb = loadSampleImage('camera', { channels: 3, scale: 'byte' });
    expect(Array.from(camRgb.dataSync().subarray(0, 3))).toEqual([200, 200, 200]);
    tf.dispose([cat, grey, camRgb]);
    expect(tf.memory().numTensors).toBe(before);
    expectEinError(() => sampleImagePath('lena' as never), 'EIN5010', 'lena', 'chelsea');
  });
});

describe('PNG and JPEG decoding', () => {
  it('PNG grey+alpha and RGBA written by pngjs come back exactly, with their channel counts', () => {
    const png = new PNG({ width: 2, height: 1, colorType: 6 });
    png.data = Buffer.from([10, 20, 30, 40, 50, 60, 70, 80]);
    const rgbaFile = path.join(tmp.dir, 'rgba.png');
    fs.writeFileSync(rgbaFile, PNG.sync.write(png, { colorType: 6 }));
    const rgba = readImage(rgbaFile);
    expect(rgba.channels).toBe(4);
    expect(Array.from(rgba.pixels)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
    expect(Array.from(readImage(rgbaFile, { channels: 3 }).pixels)).toEqual([10, 20, 30, 50, 60, 70]);

    const ga = new PNG({ width: 2, height: 1 });
    ga.data = Buffer.from([9, 9, 9, 200, 250, 250, 250, 100]);
    const gaFile = path.join(tmp.dir, 'ga.png');
    fs.writeFileSync(gaFile, PNG.sync.write(ga, { colorType: 4, inputColorType: 6 }));
    const decoded = readImage(gaFile);
    expect(decoded.channels).toBe(2);
    expect(Array.from(decoded.pixels)).toEqual([9, 200, 250, 100]);
  });

  it('JPEG: flat colour blocks encoded by jpeg-js decode to within a few levels', () => {
    const w = 16,
      h = 8;
    const raw = Buffer.alloc(w * h * 4);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const [r, g, b] = x < 8 ? [200, 30, 30] : [20, 120, 220];
        raw.set([r, g, b, 255], (y * w + x) * 4);
      }
    const file = path.join(tmp.dir, 'blocks.jpg');
    fs.writeFileSync(file, jpeg.encode({ data: raw, width: w, height: h }, 95).data);
    const t = loadImage(file, { scale: 'byte' });
    expect(t.shape).toEqual([8, 16, 3]);
    const a = t.arraySync();
    for (const [x, want] of [
      [3, [200, 30, 30]],
      [12, [20, 120, 220]],
    ] as const) {
      a[4][x].forEach((v, c) => expect(Math.abs(v - want[c])).toBeLessThanOrEqual(4));
    }
    t.dispose();
  });

  it('corrupt, truncated and unknown images are EIN5012 naming the file', () => {
    const good = fs.readFileSync(sampleImagePath('camera'));
    const cut = path.join(tmp.dir, 'cut.png');
    fs.writeFileSync(cut, good.subarray(0, 5000));
    expectEinError(() => readImage(cut), 'EIN5012', cut, 'not a valid PNG');
    const junkJpeg = path.join(tmp.dir, 'junk.jpg');
    fs.writeFileSync(junkJpeg, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0, 1, 2, 3]));
    expectEinError(() => readImage(junkJpeg), 'EIN5012', junkJpeg, 'not a valid JPEG');
    expectEinError(() => decodeImage(Buffer.from('GIF89a....'), { file: 'x.gif' }), 'EIN5012', 'x.gif', 'neither PNG nor JPEG', '47 49 46 38');
    expectEinError(() => decodeImage(good, { channels: 2 as never }), 'EIN5010', 'channels');
    expectEinError(() => readImage(path.join(tmp.dir, 'missing.png')), 'EIN5011', 'missing.png');
  });
});
