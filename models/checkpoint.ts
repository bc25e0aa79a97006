/**
 * Checkpoints in the TensorFlow.js weights-manifest format, which tfjs (`tf.io.loadWeights`),
 * the `tensorflowjs` Python package and any JSON reader understand:
 *
 *   <dir>/model.json            { format, generatedBy, weightsManifest: [{ paths, weights: [{name, shape, dtype}] }],
 *                                 userDefinedMetadata: { einnet: { … } } }
 *   <dir>/weights-<sha>-<id>.bin   the tensors' bytes, little-endian float32, in manifest order
 *
 * Names are the program's names (`stage2.block1.conv1.W`, `bn.μ`); optimizer slots are
 * `optimizer/<parameter>/<slot>`; the optimizer's name, hyperparameters and step count, and
 * whatever `metadata` the caller adds (epoch, history) are in `userDefinedMetadata.einnet`.
 *
 * **Atomic.** The weights go to a temporary file that is renamed to a name holding the first 16
 * hex digits of its SHA-256 and a random id of this save (no two saves write one name, even of
 * the same bytes), then `model.json` is written the same way; its rename is the commit.
 * An interrupted save leaves the previous `model.json` pointing at the previous, complete weights
 * file. Loading checks the checksum in the name against the bytes.
 *
 * **Concurrent saves** to one folder need no lock: each save is staged, and cleanup never deletes
 * another live writer's files. A lock file would make a killed writer block the folder until its
 * staleness is detected, and two waiters that both find a stale lock can each remove the lock the
 * other just took; staging has no such window. While a save runs, an empty marker file
 * `weights-<sha>-<id>.bin.saving-<pid>-<rand>` announces the weights file it is about to commit. The
 * cleanup after a commit deletes a `weights-*.bin` only when it is neither referenced by
 * `model.json` nor announced by the marker of a live process, and it reads in this order: the
 * weights files, then the markers, then `model.json`. A weights file seen in the first listing was
 * written after its marker was created, and no later save writes that name again; if the marker
 * is gone by the second listing, its writer has already committed, so the `model.json` read
 * afterwards references that file or a newer one, and a newer one's weights were not listed.
 * The last commit wins and its weights are never deleted. Temporary files (`*.tmp-<pid>-<rand>`)
 * and markers of processes that no longer exist (killed saves) are removed by the next save.
 * Process ids are only meaningful on one machine: writers on different hosts sharing a network
 * folder are not supported.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { checkOptions } from '../core/options';
import { processAlive } from '../core/processes';
import type { Model } from './model';
import { optimizerFromConfig, type Optimizer } from './optimizers';
import { modelError, shapeText } from './errors';

export const CHECKPOINT_FORMAT = 'einnet-checkpoint';
const OPTIMIZER_PREFIX = 'optimizer/';
/** A weights file: its SHA-256 prefix (checked on load), then the id of the save that wrote it (absent in older checkpoints). */
const WEIGHTS_FILE = /^weights-([0-9a-f]{16,64})(?:-[0-9a-f]{8})?\.bin$/;
const TEMP_FILE = /\.tmp-(\d+)-[0-9a-f]+$/;
const SAVING_MARKER = /^(weights-[0-9a-f]+(?:-[0-9a-f]{8})?\.bin)\.saving-(\d+)-[0-9a-f]+$/;

export interface SaveOptions {
  /** Also save this optimizer's state and hyperparameters. */
  readonly optimizer?: Optimizer;
  /** JSON-serializable extra data (epoch, history, notes). */
  readonly metadata?: Record<string, unknown>;
}

interface EinnetMetadata {
  readonly version: 1;
  readonly params: string[];
  readonly stats: string[];
  readonly optimizer?: { name: string; config: Record<string, number | boolean | string>; iterations: number };
  readonly metadata?: Record<string, unknown>;
}

/** Writes `bytes` to `path` through a temporary file and a rename (never a half-written `path`). */
function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    removeQuietly(tmp);
    throw modelError(
      'EIN4005',
      'save',
      `cannot write ${path}: ${(e as Error).message}`,
      'check the folder, its permissions and the free space; the previous checkpoint is unchanged',
    );
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already removed (by another writer, or never created) */
  }
}

/** Removes temporary files and save markers whose writer process is gone. */
function removeDeadWritersFiles(dir: string): void {
  for (const f of readdirSync(dir)) {
    const pid = TEMP_FILE.exec(f)?.[1] ?? SAVING_MARKER.exec(f)?.[2];
    if (pid !== undefined && !processAlive(Number(pid))) removeQuietly(join(dir, f));
  }
}

/** The file names `model.json` references now (empty when it is missing or unreadable). */
function referencedFiles(dir: string): Set<string> {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    return new Set((manifest?.weightsManifest ?? []).flatMap((g: { paths?: unknown }) => (Array.isArray(g?.paths) ? g.paths : [])));
  } catch {
    return new Set();
  }
}

/** Deletes weights files no committed or in-progress save needs (the order of the reads matters: see the file comment). */
function removeUnreferencedWeights(dir: string): void {
  const candidates = readdirSync(dir).filter((f) => WEIGHTS_FILE.test(f));
  const announced = new Set<string>();
  for (const f of readdirSync(dir)) {
    const m = SAVING_MARKER.exec(f);
    if (m !== null && processAlive(Number(m[2]))) announced.add(m[1]);
  }
  const referenced = referencedFiles(dir);
  for (const f of candidates) if (!announced.has(f) && !referenced.has(f)) removeQuietly(join(dir, f));
}

/**
 * Saves the model's parameters and running statistics (and the optimizer's state) to `dir`.
 * Several processes may save to the same folder at once: the folder then holds one complete
 * checkpoint, the last one committed.
 *
 * @example
 *   await saveCheckpoint(model, 'runs/lenet', { optimizer: opt, metadata: { epoch: 3 } });
 */
export async function saveCheckpoint(model: Model, dir: string, options: SaveOptions = {}): Promise<void> {
  checkOptions(options, ['optimizer', 'metadata'], 'saveCheckpoint');
  if (model.isDisposed) throw modelError('EIN4009', 'saveCheckpoint', 'the model was disposed', 'save the checkpoint before model.dispose()');
  const tensors: tf.NamedTensorMap = {};
  for (const [name, v] of model.namedVariables()) tensors[name] = v;
  if (options.optimizer) for (const [name, v] of options.optimizer.state()) tensors[OPTIMIZER_PREFIX + name] = v;
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const bytes = new Uint8Array(data);
  const sha = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const weightsFile = `weights-${sha}-${randomBytes(4).toString('hex')}.bin`;
  const meta: EinnetMetadata = {
    version: 1,
    params: [...model.params.keys()],
    stats: [...model.stats.keys()],
    optimizer: options.optimizer ? { name: options.optimizer.name, config: options.optimizer.config(), iterations: options.optimizer.iterations } : undefined,
    metadata: options.metadata,
  };
  const manifest = {
    format: CHECKPOINT_FORMAT,
    generatedBy: 'einnet',
    convertedBy: null,
    weightsManifest: [{ paths: [weightsFile], weights: specs }],
    userDefinedMetadata: { einnet: meta },
  };
  const marker = join(dir, `${weightsFile}.saving-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw modelError('EIN4005', 'save', `cannot create folder ${dir}: ${(e as Error).message}`);
  }
  try {
    closeSync(openSync(marker, 'wx'));
  } catch (e) {
    throw modelError('EIN4005', 'save', `cannot write in ${dir}: ${(e as Error).message}`, 'check the folder, its permissions and the free space');
  }
  try {
    removeDeadWritersFiles(dir);
    writeAtomically(join(dir, weightsFile), bytes);
    writeAtomically(join(dir, 'model.json'), new TextEncoder().encode(JSON.stringify(manifest, null, 1)));
  } finally {
    removeQuietly(marker);
  }
  removeUnreferencedWeights(dir);
}

export interface LoadOptions {
  /** Restore this optimizer's state too (it must be the same kind as the saved one). */
  readonly optimizer?: Optimizer;
  /** false: load the tensors that match and report the rest instead of failing (default true). */
  readonly strict?: boolean;
}

export interface LoadReport {
  readonly loaded: string[];
  readonly missing: string[];
  readonly unexpected: string[];
  readonly mismatched: Array<{ name: string; model: number[]; checkpoint: number[] }>;
  readonly metadata?: Record<string, unknown>;
  /** The saved optimizer (name, hyperparameters, step count), if any. */
  readonly optimizer?: EinnetMetadata['optimizer'];
}

interface ReadCheckpoint {
  readonly tensors: Map<string, tf.Tensor>;
  readonly meta?: EinnetMetadata;
}

interface ManifestGroup {
  readonly paths: string[];
  readonly weights: tf.io.WeightsManifestEntry[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The manifest's weight groups and einnet metadata, every field checked (a damaged or foreign
 * manifest is one EIN4004 saying what is wrong, never a TypeError from deep inside the load).
 */
function parseManifest(manifest: unknown, dir: string, jsonPath: string): { groups: ManifestGroup[]; meta?: EinnetMetadata } {
  const bad = (what: string) => modelError('EIN4004', 'load', `${jsonPath}: ${what}`, 'point at a folder saveCheckpoint wrote, or save the checkpoint again');
  if (!isObject(manifest)) throw bad(`holds ${manifest === null ? 'null' : typeof manifest}, not a JSON object`);
  if (!Array.isArray(manifest.weightsManifest)) throw modelError('EIN4004', 'load', `${jsonPath} has no weightsManifest`, 'it is not a tfjs weights manifest');
  const root = resolve(dir);
  const seen = new Set<string>();
  const groups = manifest.weightsManifest.map((group: unknown, g: number): ManifestGroup => {
    const at = `weightsManifest[${g}]`;
    if (!isObject(group)) throw bad(`${at} is not an object`);
    if (!Array.isArray(group.paths) || group.paths.length === 0) throw bad(`${at}.paths is not a non-empty list of file names`);
    for (const p of group.paths) {
      if (typeof p !== 'string' || p === '') throw bad(`${at}.paths holds ${JSON.stringify(p)}, not a file name`);
      const rel = relative(root, resolve(root, p));
      const outside = isAbsolute(p) || rel === '' || rel.startsWith('..') || isAbsolute(rel);
      if (outside) throw bad(`weights path ${JSON.stringify(p)} is outside the checkpoint folder`);
    }
    if (!Array.isArray(group.weights)) throw bad(`${at}.weights is missing or not a list`);
    for (const w of group.weights as unknown[]) {
      if (!isObject(w) || typeof w.name !== 'string' || w.name === '') throw bad(`${at}.weights holds an entry without a name: ${JSON.stringify(w)}`);
      const shape = w.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw bad(`tensor ${w.name} has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
      }
      if (w.dtype !== 'float32') throw bad(`tensor ${w.name} has dtype ${JSON.stringify(w.dtype)}; einnet checkpoints hold float32 tensors only`);
      if (w.quantization !== undefined) throw bad(`tensor ${w.name} is quantized; einnet reads unquantized float32 weights only`);
      if (seen.has(w.name)) throw bad(`tensor ${w.name} appears twice`);
      seen.add(w.name);
    }
    return { paths: group.paths as string[], weights: group.weights as tf.io.WeightsManifestEntry[] };
  });
  const user = manifest.userDefinedMetadata;
  const meta = isObject(user) ? user.einnet : undefined;
  if (meta === undefined) return { groups };
  if (!isObject(meta)) throw bad('userDefinedMetadata.einnet is not an object');
  const opt = meta.optimizer;
  if (opt !== undefined) {
    if (!isObject(opt) || typeof opt.name !== 'string') throw bad('userDefinedMetadata.einnet.optimizer has no name');
    if (!isObject(opt.config)) throw bad(`userDefinedMetadata.einnet.optimizer.config is ${JSON.stringify(opt.config)}, not an object`);
    if (!Number.isSafeInteger(opt.iterations) || (opt.iterations as number) < 0) {
      throw bad(`userDefinedMetadata.einnet.optimizer.iterations is ${JSON.stringify(opt.iterations)}, not a non-negative integer`);
    }
  }
  if (meta.metadata !== undefined && !isObject(meta.metadata)) throw bad('userDefinedMetadata.einnet.metadata is not an object');
  return { groups, meta: meta as unknown as EinnetMetadata };
}

/** How often a load reads a checkpoint that concurrent saves keep replacing before it gives up. */
const MAX_READ_ATTEMPTS = 100;

/** Thrown inside one read attempt when a weights file vanished (a concurrent save replaced it). */
class WeightsFileGone extends Error {}

function readManifestText(jsonPath: string): string {
  try {
    return readFileSync(jsonPath, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as Error).message})`;
    throw modelError('EIN4004', 'load', `${jsonPath} ${why}`, 'point at the folder saveCheckpoint wrote');
  }
}

/** The bytes of one weights file (WeightsFileGone when it does not exist). */
function readWeightsFile(dir: string, p: string): Buffer {
  try {
    return readFileSync(join(dir, p));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new WeightsFileGone(p);
    throw modelError('EIN4004', 'load', `weights file ${join(dir, p)} cannot be read: ${(e as Error).message}`, 'save the checkpoint again');
  }
}

/** Checks a weights file's bytes against the checksum its name holds (other names are not checked). */
function verifyChecksum(dir: string, p: string, bytes: Buffer): void {
  const named = WEIGHTS_FILE.exec(p.split(/[\\/]/).pop() ?? '')?.[1];
  if (named === undefined) return;
  const actual = createHash('sha256').update(bytes).digest('hex').slice(0, named.length);
  if (actual !== named) {
    throw modelError(
      'EIN4004',
      'load',
      `weights file ${join(dir, p)} is damaged: its SHA-256 begins ${actual}, its name says ${named}`,
      'the bytes changed after the save (disk or copy error); restore the file or save the checkpoint again',
    );
  }
}

function decodeGroups(dir: string, groups: readonly ManifestGroup[], tensors: Map<string, tf.Tensor>): void {
  for (const group of groups) {
    const parts = group.paths.map((p) => readWeightsFile(dir, p));
    const bytes = Buffer.concat(parts);
    const need = group.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
    if (bytes.length !== need) {
      const what = `weights in ${group.paths.join(', ')} hold ${bytes.length} bytes, the manifest describes ${need}`;
      throw modelError('EIN4004', 'load', what, 'the file is truncated or from another save; save again');
    }
    group.paths.forEach((p, k) => verifyChecksum(dir, p, parts[k]));
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    for (const [name, t] of Object.entries(tf.io.decodeWeights(buffer, group.weights))) tensors.set(name, t);
  }
}

function readCheckpointFiles(dir: string): ReadCheckpoint {
  const jsonPath = join(dir, 'model.json');
  // A concurrent save may replace model.json and delete the weights it pointed at between our two
  // reads; then model.json has changed and reading again gives the newer, complete checkpoint.
  // Writers saving without pause can win that race many times in a row; each retry follows a
  // newer commit, so the bound only stops a reader that is starved for good.
  for (let attempt = 0; ; attempt++) {
    const text = readManifestText(jsonPath);
    let manifest: unknown;
    try {
      manifest = JSON.parse(text);
    } catch (e) {
      throw modelError('EIN4004', 'load', `${jsonPath} is not readable JSON (${(e as Error).message})`, 'point at the folder saveCheckpoint wrote');
    }
    const { groups, meta } = parseManifest(manifest, dir, jsonPath);
    const tensors = new Map<string, tf.Tensor>();
    try {
      decodeGroups(dir, groups, tensors);
      return { tensors, meta };
    } catch (e) {
      for (const t of tensors.values()) t.dispose();
      if (!(e instanceof WeightsFileGone)) throw e;
      let now: string | undefined;
      try {
        now = readFileSync(jsonPath, 'utf8');
      } catch {
        now = undefined;
      }
      if (now === text) {
        throw modelError('EIN4004', 'load', `weights file ${join(dir, e.message)} does not exist`, 'the checkpoint is incomplete; save it again');
      }
      if (attempt >= MAX_READ_ATTEMPTS - 1) {
        throw modelError(
          'EIN4004',
          'load',
          `${jsonPath} was replaced ${MAX_READ_ATTEMPTS} times while it was read: other processes save to ${dir} without pause`,
          'load once the saves stop, or save to a folder of its own',
        );
      }
    }
  }
}

/**
 * Loads a checkpoint into `model` (and `options.optimizer`). Names and shapes must match; a
 * mismatch is one error listing every missing, unexpected and differently shaped tensor.
 * All or nothing: everything is checked before the first variable is assigned.
 */
export function loadCheckpoint(model: Model, dir: string, options: LoadOptions = {}): LoadReport {
  checkOptions(options, ['optimizer', 'strict'], 'loadCheckpoint');
  if (model.isDisposed) throw modelError('EIN4009', 'loadCheckpoint', 'the model was disposed', 'load into a model that is not disposed');
  const { tensors, meta } = readCheckpointFiles(dir);
  try {
    const own = model.namedVariables();
    const saved = new Map([...tensors].filter(([n]) => !n.startsWith(OPTIMIZER_PREFIX)));
    const missing = [...own.keys()].filter((n) => !saved.has(n));
    const unexpected = [...saved.keys()].filter((n) => !own.has(n));
    const mismatched: LoadReport['mismatched'] = [];
    for (const [name, v] of own) {
      const t = saved.get(name);
      if (t !== undefined && (t.shape.length !== v.shape.length || t.shape.some((d, k) => d !== v.shape[k])))
        mismatched.push({ name, model: v.shape, checkpoint: t.shape });
    }
    const strict = options.strict ?? true;
    if (strict && (missing.length > 0 || unexpected.length > 0 || mismatched.length > 0)) {
      const lines: string[] = [];
      if (missing.length) lines.push(`missing from the checkpoint (${missing.length}): ${missing.join(', ')}`);
      if (unexpected.length) lines.push(`in the checkpoint but not in the model (${unexpected.length}): ${unexpected.join(', ')}`);
      for (const m of mismatched) lines.push(`${m.name}: model ${shapeText(m.model)}, checkpoint ${shapeText(m.checkpoint)}`);
      throw modelError(
        'EIN4003',
        'load',
        `${dir} does not match the model:\n  ${lines.join('\n  ')}`,
        'load into the model the checkpoint was saved from, or pass { strict: false } to load what matches',
      );
    }
    const slots = options.optimizer ? optimizerSlots(model, dir, tensors, options.optimizer, meta) : undefined;
    const bad = new Set(mismatched.map((m) => m.name));
    const loaded: string[] = [];
    for (const [name, v] of own) {
      const t = saved.get(name);
      if (t === undefined || bad.has(name)) continue;
      v.assign(t);
      loaded.push(name);
    }
    if (options.optimizer && slots && meta?.optimizer) {
      const opt = options.optimizer;
      opt.setState(slots);
      opt.iterations = meta.optimizer.iterations;
      Object.assign(opt.hyper, Object.fromEntries(Object.entries(meta.optimizer.config).filter(([k, v]) => typeof v === 'number' && k in opt.hyper)));
    }
    return { loaded, missing, unexpected, mismatched, metadata: meta?.metadata, optimizer: meta?.optimizer };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** The saved optimizer slots, checked against `optimizer` and the model's parameters (EIN4003). */
function optimizerSlots(
  model: Model,
  dir: string,
  tensors: ReadonlyMap<string, tf.Tensor>,
  optimizer: Optimizer,
  meta?: EinnetMetadata,
): Map<string, tf.Tensor> {
  const saved = meta?.optimizer;
  if (saved === undefined) throw modelError('EIN4003', 'load', `${dir} holds no optimizer state`, 'save with { optimizer } or load without it');
  if (saved.name !== optimizer.name) throw modelError('EIN4003', 'load', `${dir} holds ${saved.name} state, the optimizer given is ${optimizer.name}`);
  const slots = new Map<string, tf.Tensor>();
  for (const [n, t] of tensors) if (n.startsWith(OPTIMIZER_PREFIX)) slots.set(n.slice(OPTIMIZER_PREFIX.length), t);
  for (const [slot, t] of slots) {
    const param = model.params.get(slot.slice(0, slot.lastIndexOf('/')));
    if (param === undefined || param.shape.join() !== t.shape.join()) {
      throw modelError('EIN4003', 'load', `optimizer slot ${slot} ${shapeText(t.shape)} has no parameter of that shape in the model`);
    }
  }
  return slots;
}

/** The optimizer a checkpoint was saved with, recreated with its state and step count. */
export function loadOptimizer(model: Model, dir: string): Optimizer {
  if (model.isDisposed) throw modelError('EIN4009', 'loadOptimizer', 'the model was disposed', 'load into a model that is not disposed');
  const { tensors, meta } = readCheckpointFiles(dir);
  for (const t of tensors.values()) t.dispose();
  if (meta?.optimizer === undefined) throw modelError('EIN4004', 'loadOptimizer', `${dir} holds no optimizer state`);
  const opt = optimizerFromConfig(meta.optimizer.name, meta.optimizer.config);
  try {
    loadCheckpoint(model, dir, { optimizer: opt, strict: false });
  } catch (e) {
    opt.dispose();
    throw e;
  }
  return opt;
}
