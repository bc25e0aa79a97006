/**
 * Checkpoints in the TensorFlow.js weights-manifest format, which tfjs (`tf.io.loadWeights`),
 * the `tensorflowjs` Python package and any JSON reader understand:
 *
 *   <dir>/model.json            { format, generatedBy, weightsManifest: [{ paths, weights: [{name, shape, dtype}] }],
 *                                 userDefinedMetadata: { einnet: { … } } }
 *   <dir>/weights-<sha>.bin     the tensors' bytes, little-endian float32, in manifest order
 *
 * Names are the program's names (`stage2.block1.conv1.W`, `bn.μ`); optimizer slots are
 * `optimizer/<parameter>/<slot>`; the optimizer's name, hyperparameters and step count, and
 * whatever `metadata` the caller adds (epoch, history) are in `userDefinedMetadata.einnet`.
 *
 * **Atomic.** The weights go to a temporary file that is renamed to a name holding its own
 * checksum, then `model.json` is written the same way; its rename is the commit. An interrupted
 * save leaves the previous `model.json` pointing at the previous, complete weights file. Weights
 * files no longer referenced are removed after the commit.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from './model';
import { optimizerFromConfig, type Optimizer } from './optimizers';
import { modelError, shapeText } from './errors';

export const CHECKPOINT_FORMAT = 'einnet-checkpoint';
const OPTIMIZER_PREFIX = 'optimizer/';

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
    try {
      unlinkSync(tmp);
    } catch {
      /* the temporary file may not exist */
    }
    throw modelError('EIN4005', 'save', `cannot write ${path}: ${(e as Error).message}`, 'check the folder, its permissions and the free space; the previous checkpoint is unchanged');
  }
}

/**
 * Saves the model's parameters and running statistics (and the optimizer's state) to `dir`.
 *
 * @example
 *   await saveCheckpoint(model, 'runs/lenet', { optimizer: opt, metadata: { epoch: 3 } });
 */
export async function saveCheckpoint(model: Model, dir: string, options: SaveOptions = {}): Promise<void> {
  const tensors: tf.NamedTensorMap = {};
  for (const [name, v] of model.namedVariables()) tensors[name] = v;
  if (options.optimizer) for (const [name, v] of options.optimizer.state()) tensors[OPTIMIZER_PREFIX + name] = v;
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const bytes = new Uint8Array(data);
  const sha = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const weightsFile = `weights-${sha}.bin`;
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
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw modelError('EIN4005', 'save', `cannot create folder ${dir}: ${(e as Error).message}`);
  }
  writeAtomically(join(dir, weightsFile), bytes);
  writeAtomically(join(dir, 'model.json'), new TextEncoder().encode(JSON.stringify(manifest, null, 1)));
  for (const f of readdirSync(dir)) {
    if (/^weights-[0-9a-f]+\.bin$/.test(f) && f !== weightsFile) {
      try {
        unlinkSync(join(dir, f));
      } catch {
        /* another process may have removed it */
      }
    }
  }
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

function readCheckpointFiles(dir: string): ReadCheckpoint {
  const jsonPath = join(dir, 'model.json');
  let manifest: { weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>; userDefinedMetadata?: { einnet?: EinnetMetadata } };
  try {
    manifest = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `is not readable JSON (${(e as Error).message})`;
    throw modelError('EIN4004', 'load', `${jsonPath} ${why}`, 'point at the folder saveCheckpoint wrote');
  }
  if (!Array.isArray(manifest.weightsManifest)) throw modelError('EIN4004', 'load', `${jsonPath} has no weightsManifest`, 'it is not a tfjs weights manifest');
  const tensors = new Map<string, tf.Tensor>();
  for (const group of manifest.weightsManifest) {
    const parts = group.paths.map((p) => {
      try {
        return readFileSync(join(dir, p));
      } catch (e) {
        throw modelError('EIN4004', 'load', `weights file ${join(dir, p)} cannot be read: ${(e as Error).message}`, 'save the checkpoint again');
      }
    });
    const bytes = Buffer.concat(parts);
    const need = group.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * (w.dtype === 'float32' || w.dtype === 'int32' ? 4 : 1), 0);
    if (bytes.length !== need) throw modelError('EIN4004', 'load', `weights in ${group.paths.join(', ')} hold ${bytes.length} bytes, the manifest describes ${need}`, 'the file is truncated or from another save; save again');
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    for (const [name, t] of Object.entries(tf.io.decodeWeights(buffer, group.weights))) tensors.set(name, t);
  }
  return { tensors, meta: manifest.userDefinedMetadata?.einnet };
}

/**
 * Loads a checkpoint into `model` (and `options.optimizer`). Names and shapes must match; a
 * mismatch is one error listing every missing, unexpected and differently shaped tensor.
 */
export function loadCheckpoint(model: Model, dir: string, options: LoadOptions = {}): LoadReport {
  const { tensors, meta } = readCheckpointFiles(dir);
  try {
    const own = model.namedVariables();
    const saved = new Map([...tensors].filter(([n]) => !n.startsWith(OPTIMIZER_PREFIX)));
    const missing = [...own.keys()].filter((n) => !saved.has(n));
    const unexpected = [...saved.keys()].filter((n) => !own.has(n));
    const mismatched: LoadReport['mismatched'] = [];
    for (const [name, v] of own) {
      const t = saved.get(name);
      if (t !== undefined && (t.shape.length !== v.shape.length || t.shape.some((d, k) => d !== v.shape[k]))) mismatched.push({ name, model: v.shape, checkpoint: t.shape });
    }
    const strict = options.strict ?? true;
    if (strict && (missing.length > 0 || unexpected.length > 0 || mismatched.length > 0)) {
      const lines: string[] = [];
      if (missing.length) lines.push(`missing from the checkpoint (${missing.length}): ${missing.join(', ')}`);
      if (unexpected.length) lines.push(`in the checkpoint but not in the model (${unexpected.length}): ${unexpected.join(', ')}`);
      for (const m of mismatched) lines.push(`${m.name}: model ${shapeText(m.model)}, checkpoint ${shapeText(m.checkpoint)}`);
      throw modelError('EIN4003', 'load', `${dir} does not match the model:\n  ${lines.join('\n  ')}`, 'load into the model the checkpoint was saved from, or pass { strict: false } to load what matches');
    }
    const bad = new Set(mismatched.map((m) => m.name));
    const loaded: string[] = [];
    for (const [name, v] of own) {
      const t = saved.get(name);
      if (t === undefined || bad.has(name)) continue;
      v.assign(t);
      loaded.push(name);
    }
    if (options.optimizer) {
      const saved = meta?.optimizer;
      if (saved === undefined) throw modelError('EIN4003', 'load', `${dir} holds no optimizer state`, 'save with { optimizer } or load without it');
      if (saved.name !== options.optimizer.name) throw modelError('EIN4003', 'load', `${dir} holds ${saved.name} state, the optimizer given is ${options.optimizer.name}`);
      const slots = new Map<string, tf.Tensor>();
      for (const [n, t] of tensors) if (n.startsWith(OPTIMIZER_PREFIX)) slots.set(n.slice(OPTIMIZER_PREFIX.length), t);
      for (const [slot, t] of slots) {
        const param = model.params.get(slot.slice(0, slot.lastIndexOf('/')));
        if (param === undefined || param.shape.join() !== t.shape.join()) throw modelError('EIN4003', 'load', `optimizer slot ${slot} ${shapeText(t.shape)} has no parameter of that shape in the model`);
      }
      options.optimizer.setState(slots);
      options.optimizer.iterations = saved.iterations;
      Object.assign(options.optimizer.hyper, Object.fromEntries(Object.entries(saved.config).filter(([k, v]) => typeof v === 'number' && k in options.optimizer!.hyper)));
    }
    return { loaded, missing, unexpected, mismatched, metadata: meta?.metadata, optimizer: meta?.optimizer };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** The optimizer a checkpoint was saved with, recreated with its state and step count. */
export function loadOptimizer(model: Model, dir: string): Optimizer {
  const { tensors, meta } = readCheckpointFiles(dir);
  for (const t of tensors.values()) t.dispose();
  if (meta?.optimizer === undefined) throw modelError('EIN4004', 'loadOptimizer', `${dir} holds no optimizer state`);
  const opt = optimizerFromConfig(meta.optimizer.name, meta.optimizer.config);
  loadCheckpoint(model, dir, { optimizer: opt, strict: false });
  return opt;
}
