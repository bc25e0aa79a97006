/**
 * The downloader against a local HTTP server on 127.0.0.1 (random port) serving small files in
 * the real formats. The catalog is injected, so these tests never touch the internet.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../datasets/catalog';
import { openCifar10 } from '../../datasets/cifar';
import { downloadFile, fetchDataset } from '../../datasets/fetch';
import { openFashionMnist } from '../../datasets/mnist';
import { extractTarGz } from '../../datasets/tar';
import { expectEinErrorAsync } from './expect-error';
import { cifarPixel, cifarRecord, idxBytes, syntheticImages, tarBytes, tempDir } from './formats';

type Route = { body: Buffer; mode?: 'ok' | 'drop' | 'chunked-short' } | { status: number } | { redirect: string };

const routes = new Map<string, Route>();
const hits = new Map<string, number>();
let server: http.Server;
let base = '';
const tmp = tempDir();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    const r = routes.get(url);
    if (r === undefined) {
      res.writeHead(404).end('not found');
    } else if ('status' in r) {
      res.writeHead(r.status).end();
    } else if ('redirect' in r) {
      res.writeHead(302, { location: r.redirect }).end();
    } else if (r.mode === 'drop') {
      // Announce the full length, send half, then cut the connection.
      res.writeHead(200, { 'content-length': r.body.length });
      res.write(r.body.subarray(0, r.body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
    } else {
      res.writeHead(200, { 'content-length': r.body.length }).end(r.body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  tmp.cleanup();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function serve(urlPath: string, body: Buffer, mode: 'ok' | 'drop' = 'ok'): { url: string; sha256: string; body: Buffer } {
  routes.set(urlPath, { body, mode });
  return { url: base + urlPath, sha256: sha(body), body };
}

/** A Fashion-MNIST-shaped catalog entry: 4 gzip IDX files of n images each, served at /fm/. */
function fashionEntry(n: number): { entry: CatalogEntry; data: ReturnType<typeof syntheticImages> } {
  const data = syntheticImages(n, 28, 28);
  const files = (['train', 't10k'] as const).flatMap((p) => [
    { name: `${p}-images-idx3-ubyte.gz`, body: zlib.gzipSync(idxBytes([n, 28, 28], data.pixels)) },
    { name: `${p}-labels-idx1-ubyte.gz`, body: zlib.gzipSync(idxBytes([n], data.labels)) },
  ]);
  return {
    data,
    entry: {
      name: 'fashion-mnist',
      title: 'Fashion-MNIST (test server)',
      homepage: base,
      files: files.map((f) => {
        const s = serve(`/fm/${f.name}`, f.body);
        return { name: f.name, urls: [s.url], sha256: s.sha256 };
      }),
    },
  };
}

const listFiles = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

describe('fetchDataset', () => {
  it('downloads every file, verifies it, and the loader then finds the data in the cache', async () => {
    const cache = path.join(tmp.dir, 'cache-ok');
    const { entry, data } = fashionEntry(6);
    const logs: string[] = [];
    const result = await fetchDataset('fashion-mnist', { cacheDir: cache, catalog: { 'fashion-mnist': entry }, log: (l) => logs.push(l) });
    expect(result.dir).toBe(path.join(cache, 'fashion-mnist'));
    expect(result.downloaded).toHaveLength(4);
    expect(listFiles(result.dir)).toEqual([
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
    ]);
    const set = openFashionMnist({ cacheDir: cache, debianDir: null });
    expect(set.count).toBe(6);
    expect(Array.from(set.labels)).toEqual(Array.from(data.labels));
    expect(Array.from(set.pixels)).toEqual(Array.from(data.pixels));

    // A second run verifies what is there and downloads nothing.
    const before = hits.get('/fm/train-images-idx3-ubyte.gz');
    const again = await fetchDataset('fashion-mnist', { cacheDir: cache, catalog: { 'fashion-mnist': entry } });
    expect(again.downloaded).toEqual([]);
    expect(again.present).toHaveLength(4);
    expect(hits.get('/fm/train-images-idx3-ubyte.gz')).toBe(before);

    // A damaged file in the cache is noticed by its checksum and replaced.
    fs.writeFileSync(path.join(result.dir, 'train-labels-idx1-ubyte.gz'), 'garbage');
    const repaired = await fetchDataset('fashion-mnist', { cacheDir: cache, catalog: { 'fashion-mnist': entry } });
    expect(repaired.downloaded).toEqual(['train-labels-idx1-ubyte.gz']);
    expect(openFashionMnist({ cacheDir: cache, debianDir: null }).count).toBe(6);
  });

  it('checksum mismatch: EIN5006 naming the file and both hashes; nothing is left behind', async () => {
    const dest = path.join(tmp.dir, 'mismatch', 'train-images-idx3-ubyte.gz');
    fs.mkdirSync(path.dirname(dest));
    const s = serve('/bad/train-images-idx3-ubyte.gz', zlib.gzipSync(idxBytes([1, 2, 2], new Uint8Array(4))));
    const wrong = '0'.repeat(64);
    await expectEinErrorAsync(downloadFile(s.url, dest, wrong), 'EIN5006', 'train-images-idx3-ubyte.gz', s.sha256, wrong, s.url);
    expect(listFiles(path.dirname(dest))).toEqual([]);
  });

  it('connection dropped mid-file: EIN5007 with the byte counts; no file, no .part left', async () => {
    const cache = path.join(tmp.dir, 'cache-drop');
    const body = Buffer.alloc(200_000, 7);
    const s = serve('/drop/train-images-idx3-ubyte.gz', body, 'drop');
    const entry: CatalogEntry = {
      name: 'fashion-mnist',
      title: 'drop',
      homepage: base,
      files: [{ name: 'train-images-idx3-ubyte.gz', urls: [s.url], sha256: s.sha256 }],
    };
    await expectEinErrorAsync(
      fetchDataset('fashion-mnist', { cacheDir: cache, catalog: { 'fashion-mnist': entry } }),
      'EIN5007',
      'train-images-idx3-ubyte.gz',
      'of 200000 bytes',
      'nothing was kept',
    );
    expect(listFiles(path.join(cache, 'fashion-mnist'))).toEqual([]);
  });

  it('HTTP errors are EIN5008; a redirect is followed; a failing mirror falls through to the next', async () => {
    const dest = path.join(tmp.dir, 'http', 'f.gz');
    fs.mkdirSync(path.dirname(dest));
    routes.set('/gone', { status: 404 });
    await expectEinErrorAsync(downloadFile(`${base}/gone`, dest, '0'.repeat(64)), 'EIN5008', 'HTTP 404', `${base}/gone`);
    const s = serve('/real/f.gz', Buffer.from('hello'));
    routes.set('/moved/f.gz', { redirect: '/real/f.gz' });
    await downloadFile(`${base}/moved/f.gz`, dest, s.sha256);
    expect(fs.readFileSync(dest, 'utf8')).toBe('hello');

    const cache = path.join(tmp.dir, 'cache-mirror');
    const entry: CatalogEntry = { name: 'mnist', title: 'm', homepage: base, files: [{ name: 'f.gz', urls: [`${base}/gone`, s.url], sha256: s.sha256 }] };
    const r = await fetchDataset('mnist', { cacheDir: cache, catalog: { mnist: entry } });
    expect(r.downloaded).toEqual(['f.gz']);

    const allBad: CatalogEntry = {
      name: 'mnist',
      title: 'm',
      homepage: base,
      files: [{ name: 'g.gz', urls: [`${base}/gone`, `${base}/gone2`], sha256: s.sha256 }],
    };
    await expectEinErrorAsync(fetchDataset('mnist', { cacheDir: cache, catalog: { mnist: allBad } }), 'EIN5008', 'g.gz: no source worked', '/gone2');
    await expectEinErrorAsync(downloadFile('http://127.0.0.1:1/x', dest, s.sha256), 'EIN5008', 'cannot connect');
  });

  it('unknown dataset names are EIN5009 listing the known ones', async () => {
    await expectEinErrorAsync(fetchDataset('imagenet', { cacheDir: tmp.dir }), 'EIN5009', 'imagenet', 'mnist, fashion-mnist, cifar-10, cifar-100');
  });

  it('CIFAR archive: downloaded, verified, extracted into place, archive removed, loader reads it', async () => {
    const records = (k: number) => Buffer.concat([0, 1].map((r) => cifarRecord([(k + r) % 10], cifarPixel(2 * k + r))));
    const names = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat('test_batch.bin');
    const tar = tarBytes([
      ...names.map((n, k) => ({ name: `cifar-10-batches-bin/${n}`, data: records(k) })),
      { name: 'cifar-10-batches-bin/batches.meta.txt', data: Buffer.from('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n') },
    ]);
    const s = serve('/c10/cifar-10-binary.tar.gz', zlib.gzipSync(tar));
    const entry: CatalogEntry = {
      name: 'cifar-10',
      title: 'c10',
      homepage: base,
      files: [{ name: 'cifar-10-binary.tar.gz', urls: [s.url], sha256: s.sha256 }],
      archive: { format: 'tar.gz', extractsTo: 'cifar-10-batches-bin' },
    };
    const cache = path.join(tmp.dir, 'cache-c10');
    await fetchDataset('cifar-10', { cacheDir: cache, catalog: { 'cifar-10': entry } });
    expect(listFiles(path.join(cache, 'cifar-10'))).toEqual(['cifar-10-batches-bin']);
    const train = openCifar10({ cacheDir: cache });
    expect(train.count).toBe(10);
    expect(Array.from(train.labels)).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 4, 5]);
    expect(train.image(9)[0]).toBe(cifarPixel(9)(0, 0, 0));
    expect(openCifar10({ cacheDir: cache, split: 'test' }).count).toBe(2);
    const again = await fetchDataset('cifar-10', { cacheDir: cache, catalog: { 'cifar-10': entry } });
    expect(again.downloaded).toEqual([]);
  });
});

describe('extractTarGz', () => {
  it('extracts an archive made by the system tar (real-world format, nested folders)', async () => {
    const src = path.join(tmp.dir, 'tar-src');
    fs.mkdirSync(path.join(src, 'top', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'top', 'a.bin'), Buffer.alloc(1500, 3));
    fs.writeFileSync(path.join(src, 'top', 'sub', 'b.txt'), 'bee');
    const archive = path.join(tmp.dir, 'sys.tar.gz');
    try {
      execFileSync('tar', ['-czf', archive, '-C', src, 'top']);
    } catch {
      return; // no tar binary: the hand-written archives below still cover the format
    }
    const out = path.join(tmp.dir, 'tar-out');
    const written = await extractTarGz(archive, out);
    expect(written.sort()).toEqual(['top/a.bin', 'top/sub/b.txt']);
    expect(fs.readFileSync(path.join(out, 'top', 'a.bin'))).toEqual(Buffer.alloc(1500, 3));
    expect(fs.readFileSync(path.join(out, 'top', 'sub', 'b.txt'), 'utf8')).toBe('bee');
  });

  it('refuses truncated archives, corrupt headers and paths leaving the folder', async () => {
    const tar = tarBytes([{ name: 'x/big.bin', data: Buffer.alloc(5000, 1) }]);
    const cut = path.join(tmp.dir, 'cut.tar.gz');
    fs.writeFileSync(cut, zlib.gzipSync(tar.subarray(0, 2048)));
    await expectEinErrorAsync(extractTarGz(cut, path.join(tmp.dir, 'o1')), 'EIN5013', cut, 'truncated', 'x/big.bin');

    const gzCut = path.join(tmp.dir, 'gzcut.tar.gz');
    const gz = zlib.gzipSync(tar);
    fs.writeFileSync(gzCut, gz.subarray(0, gz.length - 20));
    await expectEinErrorAsync(extractTarGz(gzCut, path.join(tmp.dir, 'o2')), 'EIN5004', gzCut);

    const bad = Buffer.from(tar);
    bad[10] ^= 0xff; // break the header checksum
    const badFile = path.join(tmp.dir, 'bad.tar.gz');
    fs.writeFileSync(badFile, zlib.gzipSync(bad));
    await expectEinErrorAsync(extractTarGz(badFile, path.join(tmp.dir, 'o3')), 'EIN5013', 'checksum');

    const evil = path.join(tmp.dir, 'evil.tar.gz');
    fs.writeFileSync(evil, zlib.gzipSync(tarBytes([{ name: '../escape.txt', data: Buffer.from('x') }])));
    await expectEinErrorAsync(extractTarGz(evil, path.join(tmp.dir, 'o4')), 'EIN5013', 'outside the destination');
    expect(fs.existsSync(path.join(tmp.dir, 'escape.txt'))).toBe(false);
    await expectEinErrorAsync(extractTarGz(path.join(tmp.dir, 'none.tar.gz'), path.join(tmp.dir, 'o5')), 'EIN5011', 'none.tar.gz', 'does not exist');
  });
});

describe('npm run fetch-data (the CLI)', () => {
  const root = path.join(__dirname, '..', '..');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(root, 'scripts', 'fetch-data.ts'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, EINNET_DATA_DIR: path.join(tmp.dir, 'cli-cache') },
    });

  it('lists the catalog, and refuses an unknown name with the EinError message only (exit 1, no stack)', () => {
    const list = run('--list');
    expect(list.status).toBe(0);
    expect(list.stdout).toContain('fashion-mnist');
    expect(list.stdout).toContain('cifar-100');
    const bad = run('svhn');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('EIN5009: fetch-data: unknown dataset "svhn"');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const usage = run();
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain(path.join(tmp.dir, 'cli-cache'));
  });
});
