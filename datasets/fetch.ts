/**
 * The only code in einnet that touches the network, run only by the explicit
 * `npm run fetch-data -- <name>`: downloads a catalog entry into the cache folder that the
 * loaders search (sources.ts).
 *
 * Safety: each file streams into a temporary `.part` file beside its destination while its
 * SHA-256 is computed; only when every byte arrived and the checksum matches is it renamed to its
 * real name (rename is atomic on one file system). A failed, cut or corrupted download therefore
 * never leaves a file the loaders would pick up. Archives extract into a temporary folder that is
 * renamed into place the same way.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { EinError } from '../core/diagnostics';
import { checkOptions } from '../core/options';
import { processAlive } from '../core/processes';
import { describeIoError, fileError, optionError } from './errors';
import { DATASET_CATALOG, type CatalogEntry, type RemoteFile } from './catalog';
import { defaultCacheDir } from './sources';
import { extractTarGz } from './tar';

/** Progress of one file: bytes so far and the total when the server says it. */
export interface DownloadProgress {
  readonly file: string;
  readonly url: string;
  readonly received: number;
  readonly total?: number;
}

export interface FetchOptions {
  /** Cache root (default `$EINNET_DATA_DIR`, else `~/.cache/einnet/datasets`). */
  readonly cacheDir?: string;
  /** Replaces the built-in catalog (tests point it at a local server). */
  readonly catalog?: Readonly<Record<string, CatalogEntry>>;
  /** Give up on a connection silent for this long (default 60 s). */
  readonly timeoutMs?: number;
  /** Download again even when verified files are present. */
  readonly force?: boolean;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** One line per step, e.g. `console.error`. */
  readonly log?: (line: string) => void;
}

export interface FetchResult {
  /** The dataset's cache folder, which the loaders search. */
  readonly dir: string;
  /** Files downloaded now. */
  readonly downloaded: readonly string[];
  /** Files already present and verified. */
  readonly present: readonly string[];
}

const MAX_REDIRECTS = 5;

/** A temporary download or extraction older than this is stale even if its pid is in use (pids are reused). */
const STALE_TEMP_MS = 6 * 3600_000;
/** `<file>.part-<pid>-<rand>` (downloads) and `.extract-<pid>-<rand>` (archive extraction). */
const TEMP_NAME = /(?:\.part|^\.extract)-(\d+)-[0-9a-z]+$/;

/**
 * Removes the temporary files and folders of downloads and extractions that were killed: those
 * whose process is gone, or older than STALE_TEMP_MS. A running fetch's files are left alone.
 */
function removeStaleTemporaries(dir: string, log?: (line: string) => void): void {
  for (const name of fs.readdirSync(dir)) {
    const pid = TEMP_NAME.exec(name)?.[1];
    if (pid === undefined) continue;
    const file = path.join(dir, name);
    try {
      if (processAlive(Number(pid)) && Date.now() - fs.statSync(file).mtimeMs < STALE_TEMP_MS) continue;
      fs.rmSync(file, { recursive: true, force: true });
      log?.(`removed ${name}, left by an interrupted fetch`);
    } catch {
      /* removed meanwhile by another fetch */
    }
  }
}

/** Throws EIN5010 unless `name` is a path inside `dir` (a catalog must not write elsewhere). */
function checkInsideFolder(dir: string, name: unknown, what: string): void {
  const root = path.resolve(dir);
  const target = typeof name === 'string' && name !== '' ? path.resolve(root, name) : root;
  const rel = path.relative(root, target);
  if (typeof name !== 'string' || path.isAbsolute(name) || rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    const message = `${what} ${JSON.stringify(name)} is not a name inside the cache folder ${root}`;
    throw optionError('fetch-data', message, 'catalog names must be relative, without ".."');
  }
}

/** SHA-256 of a file on disk, streamed. */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** GET `url`, following redirects; resolves with a 200 response or rejects with EIN5008. */
function request(url: string, label: string, timeoutMs: number, redirects = 0): Promise<{ res: http.IncomingMessage; req: http.ClientRequest; url: string }> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(fileError('EIN5008', label, `bad URL ${JSON.stringify(url)}`));
      return;
    }
    const lib = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : undefined;
    if (lib === undefined) {
      reject(fileError('EIN5008', label, `unsupported URL scheme in ${url}`, 'use http:// or https://'));
      return;
    }
    const req = lib.get(parsed, { headers: { 'user-agent': 'einnet-fetch-data' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location !== undefined) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(fileError('EIN5008', label, `too many redirects from ${url}`));
          return;
        }
        request(new URL(res.headers.location, url).toString(), label, timeoutMs, redirects + 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(fileError('EIN5008', label, `HTTP ${status} ${res.statusMessage ?? ''} from ${url}`.trimEnd(), 'check the URL or try again later'));
        return;
      }
      resolve({ res, req, url });
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => reject(fileError('EIN5008', label, `cannot connect to ${url}: ${(err as Error).message}`, 'check the network connection')));
  });
}

/**
 * Downloads `url` to `dest`: streamed into `<dest>.part-…`, verified against `sha256`, then
 * renamed. On any failure the temporary file is removed and `dest` is untouched.
 * Errors: EIN5008 (cannot connect, HTTP error), EIN5007 (connection dropped or fewer bytes than
 * announced), EIN5006 (checksum mismatch).
 *
 * @example
 * await downloadFile('https://example.org/a.gz', '/tmp/a.gz', '3aede38d…');
 */
export async function downloadFile(url: string, dest: string, sha256: string, options: Pick<FetchOptions, 'timeoutMs' | 'onProgress'> = {}): Promise<void> {
  const label = path.basename(dest);
  const tmp = `${dest}.part-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const { res, req } = await request(url, label, options.timeoutMs ?? 60_000);
  const announced = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
  const hash = createHash('sha256');
  let received = 0;
  let out: fs.WriteStream | undefined;
  try {
    out = fs.createWriteStream(tmp, { flags: 'wx' });
    const file = out;
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (e: Error) => {
        if (!failed) {
          failed = true;
          reject(e);
        }
      };
      const cut = (why: string) =>
        fileError(
          'EIN5007',
          label,
          `download from ${url} stopped after ${received} of ${announced ?? 'an unknown number of'} bytes (${why})`,
          'nothing was kept; run fetch-data again',
        );
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        received += chunk.length;
        options.onProgress?.({ file: label, url, received, total: announced });
        if (!file.write(chunk)) {
          res.pause();
          file.once('drain', () => res.resume());
        }
      });
      res.on('aborted', () => fail(cut('connection closed by the server')));
      res.on('error', (e) => fail(cut(e.message)));
      req.on('error', (e) => fail(cut(e.message)));
      file.on('error', (e) => fail(fileError('EIN5011', tmp, `cannot write: ${describeIoError(e)}`, 'check free space and permissions of the cache folder')));
      res.on('close', () => {
        if (!res.complete) fail(cut('connection closed by the server'));
      });
      res.on('end', () => {
        if (!res.complete) fail(cut('connection closed by the server'));
        else file.end();
      });
      // Resolve once the file is closed, so the rename sees every byte on disk.
      file.on('close', () => {
        if (!failed) resolve();
      });
    });
    if (announced !== undefined && received !== announced) {
      throw fileError(
        'EIN5007',
        label,
        `download from ${url} has ${received} bytes, the server announced ${announced}`,
        'nothing was kept; run fetch-data again',
      );
    }
    const got = hash.digest('hex');
    if (got !== sha256.toLowerCase()) {
      throw fileError(
        'EIN5006',
        label,
        `SHA-256 of the download from ${url} is ${got}, expected ${sha256.toLowerCase()} (${received} bytes received)`,
        'the file was damaged in transit or changed at the source; nothing was kept — run fetch-data again, and report it if it persists',
      );
    }
    fs.renameSync(tmp, dest);
  } catch (err) {
    req.destroy();
    throw err;
  } finally {
    if (out !== undefined && !out.closed) out.destroy();
    fs.rmSync(tmp, { force: true });
  }
}

/** Tries each URL of `file` in turn; rethrows the only error, or sums up several. */
async function downloadFromAny(file: RemoteFile, dest: string, options: FetchOptions): Promise<void> {
  const errors: EinError[] = [];
  for (const url of file.urls) {
    try {
      options.log?.(`downloading ${url}`);
      await downloadFile(url, dest, file.sha256, options);
      return;
    } catch (err) {
      if (!(err instanceof EinError)) throw err;
      errors.push(err);
      options.log?.(`  failed: ${err.summary}`);
    }
  }
  if (errors.length === 1) throw errors[0];
  const last = errors[errors.length - 1];
  throw new EinError({
    code: last.code,
    message: `${file.name}: no source worked:\n` + errors.map((e) => `  ${e.summary}`).join('\n'),
    hint: last.hint,
  });
}

/**
 * Downloads dataset `name` (see DATASET_CATALOG: mnist, fashion-mnist, cifar-10, cifar-100) into
 * `<cacheDir>/<name>`, verifying every file's SHA-256. Files already there and verified are kept;
 * archives are extracted and removed. Safe to re-run after an interruption.
 *
 * @example
 * const { dir } = await fetchDataset('fashion-mnist'); // then openFashionMnist() finds it
 * Limitations: needs network access; never called by the loaders.
 */
export async function fetchDataset(name: string, options: FetchOptions = {}): Promise<FetchResult> {
  checkOptions(options, ['cacheDir', 'catalog', 'timeoutMs', 'force', 'onProgress', 'log'], 'fetchDataset');
  const catalog = options.catalog ?? DATASET_CATALOG;
  const entry = Object.prototype.hasOwnProperty.call(catalog, name) ? catalog[name] : undefined;
  if (entry === undefined) {
    throw optionError('fetch-data', `unknown dataset ${JSON.stringify(name)}`, `use one of: ${Object.keys(catalog).join(', ')}`, 'EIN5009');
  }
  const cacheRoot = options.cacheDir ?? defaultCacheDir();
  checkInsideFolder(cacheRoot, entry.name, 'dataset folder');
  const dir = path.join(cacheRoot, entry.name);
  for (const file of entry.files) checkInsideFolder(dir, file.name, 'file name');
  if (entry.archive !== undefined) checkInsideFolder(dir, entry.archive.extractsTo, 'archive folder');
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw fileError('EIN5011', dir, `cannot create the cache folder: ${describeIoError(err)}`, 'set EINNET_DATA_DIR to a writable folder');
  }
  removeStaleTemporaries(dir, options.log);
  const downloaded: string[] = [];
  const present: string[] = [];
  if (entry.archive !== undefined && !options.force && fs.existsSync(path.join(dir, entry.archive.extractsTo))) {
    options.log?.(`${entry.title}: already in ${dir}`);
    return { dir, downloaded, present: [entry.archive.extractsTo] };
  }
  for (const file of entry.files) {
    const dest = path.join(dir, file.name);
    if (!options.force && fs.existsSync(dest)) {
      if ((await sha256OfFile(dest)) === file.sha256.toLowerCase()) {
        options.log?.(`${file.name}: present and verified`);
        present.push(file.name);
        continue;
      }
      options.log?.(`${file.name}: present but its checksum does not match; downloading again`);
    }
    await downloadFromAny(file, dest, options);
    downloaded.push(file.name);
  }
  if (entry.archive !== undefined) {
    for (const file of entry.files) {
      const archive = path.join(dir, file.name);
      const tmpDir = path.join(dir, `.extract-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
      try {
        options.log?.(`extracting ${file.name}`);
        await extractTarGz(archive, tmpDir);
        const made = path.join(tmpDir, entry.archive.extractsTo);
        if (!fs.existsSync(made)) {
          throw fileError('EIN5013', archive, `does not contain the folder ${entry.archive.extractsTo}`, 'the archive is not the expected dataset');
        }
        fs.rmSync(path.join(dir, entry.archive.extractsTo), { recursive: true, force: true });
        fs.renameSync(made, path.join(dir, entry.archive.extractsTo));
      } finally {
        fs.rmSync(tmpDir, { recursive: true, force: true });
      }
      fs.rmSync(archive, { force: true });
    }
  }
  options.log?.(`${entry.title}: ready in ${dir}`);
  return { dir, downloaded, present };
}
