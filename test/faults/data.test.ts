/**
 * Data faults: killed downloads, decompression bombs (IDX gzip and tar.gz), empty sets, and a
 * catalog that names files outside the cache. Each `it` is one fault; the truth is literal
 * expected errors, file listings and bounded memory.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../datasets/catalog';
import { fetchDataset } from '../../datasets/fetch';
import { readIdx, readIdxImageSet } from '../../datasets/idx';
import { extractTarGz } from '../../datasets/tar';
import { fit } from '../../models/train';
import { sgd } from '../../models/optimizers';
import { expectEinError, expectEinErrorAsync } from '../datasets/expect-error';
import { idxBytes, tempDir } from '../datasets/formats';
import { failureAsync, useWasm } from '../models/helpers';
import { checkpointModel } from './fixtures/checkpoint-model';

beforeAll(useWasm);
const tmp = tempDir('einnet-data-faults-');
afterAll(() => tmp.cleanup());

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A pid that surely belongs to no running process: a child that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

/** `mib` MiB of zeros as gzip, cheaply: one member of 1 MiB of zeros repeated (gunzip reads every member). */
function gzipZeros(mib: number, head: Buffer = Buffer.alloc(0)): Buffer {
  const member = zlib.gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  return Buffer.concat([zlib.gzipSync(head), ...Array.from({ length: mib }, () => member)]);
}

/** A catalog entry for one file that is already in the cache (so nothing is downloaded). */
function presentEntry(name: string, fileName: string, body: Buffer): CatalogEntry {
  return { name, title: name, homepage: 'http://127.0.0.1:9/', files: [{ name: fileName, urls: ['http://127.0.0.1:9/x'], sha256: sha(body) }] };
}

describe('data faults: downloads', () => {
  it("temporary files of killed downloads and extractions are removed by the next fetch; a running fetch's are kept", async () => {
    const cache = path.join(tmp.dir, 'cache-parts');
    const dir = path.join(cache, 'toy');
    fs.mkdirSync(dir, { recursive: true });
    const body = Buffer.from('toy data');
    fs.writeFileSync(path.join(dir, 'toy.bin'), body);
    const dead = deadPid();
    const live = process.ppid;
    const stale = [`toy.bin.part-${dead}-k3j4h5g6`, `.extract-${dead}-a1b2c3d4`, `toy.bin.part-${live}-oldoldol`];
    const running = [`toy.bin.part-${live}-n0wn0wn0`, `.extract-${live}-n0wn0wn0`];
    for (const f of [...stale, ...running]) {
      if (f.startsWith('.extract')) {
        fs.mkdirSync(path.join(dir, f, 'cifar-10-batches-bin'), { recursive: true });
        fs.writeFileSync(path.join(dir, f, 'cifar-10-batches-bin', 'data_batch_1.bin'), Buffer.alloc(3073));
      } else fs.writeFileSync(path.join(dir, f), Buffer.alloc(4096));
    }
    // A live pid's file untouched for 7 hours is stale too (pids are reused).
    const weekAgo = new Date(Date.now() - 7 * 3600_000);
    fs.utimesSync(path.join(dir, `toy.bin.part-${live}-oldoldol`), weekAgo, weekAgo);
    const logs: string[] = [];
    const r = await fetchDataset('toy', { cacheDir: cache, catalog: { toy: presentEntry('toy', 'toy.bin', body) }, log: (l) => logs.push(l) });
    expect(r.present).toEqual(['toy.bin']);
    const after = fs.readdirSync(dir);
    for (const f of stale) expect(after, f).not.toContain(f);
    for (const f of running) expect(after, f).toContain(f);
    expect(logs.filter((l) => l.includes('left by an interrupted fetch'))).toHaveLength(3);
  });

  it('catalog names that leave the cache folder (../../etc/x, absolute paths, a dataset named ..) are EIN5010 and write nothing', async () => {
    const cache = path.join(tmp.dir, 'cache-escape');
    fs.mkdirSync(cache);
    const body = Buffer.from('x');
    const outside = path.join(tmp.dir, 'escaped');
    const cases: Array<[CatalogEntry, string]> = [
      [presentEntry('toy', '../../escaped', body), '"../../escaped"'],
      [presentEntry('toy', outside, body), JSON.stringify(outside)],
      [presentEntry('toy', 'a/../../../escaped', body), '"a/../../../escaped"'],
      [presentEntry('..', 'escaped', body), 'dataset folder ".."'],
      [presentEntry(outside, 'x', body), `dataset folder ${JSON.stringify(outside)}`],
      [{ ...presentEntry('toy', 'a.tar.gz', body), archive: { format: 'tar.gz', extractsTo: '../escaped' } }, 'archive folder "../escaped"'],
    ];
    for (const [entry, says] of cases) {
      await expectEinErrorAsync(fetchDataset('toy', { cacheDir: cache, catalog: { toy: entry } }), 'EIN5010', says, 'is not a name inside the cache folder');
    }
    expect(fs.existsSync(outside)).toBe(false);
    expect(fs.readdirSync(cache)).toEqual([]);
  });
});

describe('data faults: decompression bombs', () => {
  it('a gzip IDX file whose header announces 10 images but which inflates to 1 GiB is EIN5003 at the announced size, in bounded memory', () => {
    const file = path.join(tmp.dir, 'bomb-images-idx3-ubyte.gz');
    const bomb = gzipZeros(1024, idxBytes([10, 28, 28], new Uint8Array(0)));
    expect(bomb.length).toBeLessThan(1.2e6);
    fs.writeFileSync(file, bomb);
    const rss = process.memoryUsage().rss;
    const t0 = performance.now();
    expectEinError(() => readIdx(file), 'EIN5003', file, `decompresses to more than ${16 + 10 * 28 * 28} bytes`, '[10, 28, 28] uint8');
    const grew = process.memoryUsage().rss - rss;
    // Decompressing the whole file would take over 1 GiB; stopping at the header's size takes almost nothing.
    expect(grew).toBeLessThan(64 << 20);
    expect(performance.now() - t0).toBeLessThan(2000);
    // The same images, honestly sized, still load.
    const honest = path.join(tmp.dir, 'honest-images-idx3-ubyte.gz');
    fs.writeFileSync(honest, zlib.gzipSync(idxBytes([10, 28, 28], new Uint8Array(7840).fill(3))));
    expect(readIdx(honest).dims).toEqual([10, 28, 28]);
  });

  it('a tar.gz that inflates beyond the limit stops with EIN5013 while streaming, before writing it all', async () => {
    const archive = path.join(tmp.dir, 'bomb.tar.gz');
    const header = Buffer.alloc(512);
    header.write('cifar-10-batches-bin/data_batch_1.bin', 0);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${(256 * 1024 * 1024).toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    const sum = header.reduce((a, b) => a + b, 0);
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    fs.writeFileSync(archive, gzipZeros(256, header));
    const dest = path.join(tmp.dir, 'bomb-out');
    await expectEinErrorAsync(extractTarGz(archive, dest, { maxBytes: 8 << 20 }), 'EIN5013', archive, `decompresses to more than ${8 << 20} bytes`);
    const written = fs.statSync(path.join(dest, 'cifar-10-batches-bin', 'data_batch_1.bin')).size;
    expect(written).toBeLessThanOrEqual(8 << 20);
  });
});

describe('data faults: empty sets', () => {
  it('an IDX image file announcing 0 images is EIN5020 at load, not an empty set', () => {
    const images = path.join(tmp.dir, 'empty-images-idx3-ubyte.gz');
    const labels = path.join(tmp.dir, 'empty-labels-idx1-ubyte.gz');
    fs.writeFileSync(images, zlib.gzipSync(idxBytes([0, 28, 28], new Uint8Array(0))));
    fs.writeFileSync(labels, zlib.gzipSync(idxBytes([0], new Uint8Array(0))));
    const classNames = Array.from({ length: 10 }, (_, i) => String(i));
    expectEinError(() => readIdxImageSet(images, labels, { name: 'empty', classNames }), 'EIN5020', images, 'holds no images');
    const flat = path.join(tmp.dir, 'flat-images-idx3-ubyte');
    fs.writeFileSync(flat, idxBytes([2, 0, 28], new Uint8Array(0)));
    fs.writeFileSync(path.join(tmp.dir, 'two-labels'), idxBytes([2], new Uint8Array(2)));
    expectEinError(() => readIdxImageSet(flat, path.join(tmp.dir, 'two-labels'), { name: 'flat', classNames }), 'EIN5020', 'size 0x28x1');
  });

  it('fit on a dataset with no examples is EIN4010, not a loss of 0', async () => {
    const model = checkpointModel(1);
    const opt = sgd({ learningRate: 0.1 });
    const images = tf.zeros([0, 16]);
    const labels = tf.tensor1d([], 'int32');
    const numTensors = tf.memory().numTensors;
    const e = await failureAsync(() => fit(model, { images, labels }, { epochs: 1, optimizer: opt, progress: false }));
    expect(e.code).toBe('EIN4010');
    expect(e.message).toContain('fit: the training data holds no examples');
    expect(tf.memory().numTensors).toBe(numTensors);
    tf.dispose([images, labels]);
    opt.dispose();
    model.dispose();
  });
});
