/**
 * `exportPyTorch(model, dir)`: a folder a Python user runs without einnet.
 *
 *   model.py              the network as a torch.nn.Module (model-source.ts)
 *   einnet_checkpoint.py  reads and writes einnet checkpoints with torch alone
 *   weights/              the model's parameters and running statistics as an einnet checkpoint
 *   train.py              DistributedDataParallel training with the einnet training options
 *   README.md             the torchrun commands
 *
 * The weights are an einnet checkpoint (a TensorFlow.js weights manifest and one little-endian
 * float32 file, models/checkpoint.ts) rather than a pickle: torch reads it with `torch.frombuffer`,
 * einnet and TensorFlow.js read it without Python, and nothing in it executes code when loaded.
 * train.py writes its checkpoints in the same format, so `importPyTorch` is `loadCheckpoint`.
 *
 * Every file is written to a temporary name and renamed, so an interrupted export leaves each file
 * either as it was or complete. A `checkpoints/` folder of an earlier run is left alone.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { locateDataset } from '../../../datasets/sources';
import { EinError } from '../../../core/diagnostics';
import { checkOptions } from '../../../core/options';
import type { Model } from '../../model';
import type { Optimizer } from '../../optimizers';
import type { Schedule } from '../../schedules';
import { saveCheckpoint } from '../../checkpoint';
import { modelError } from '../../errors';
import { modelPySource } from './model-source';
import { EINNET_CHECKPOINT_PY } from './python/checkpoint-py';
import { readmeSource } from './readme-source';
import { trainPySource, torchrunCommand } from './train-source';
import { checkModelForDataset, scheduleTables, torchOptimizer, TORCH_DATASETS, type TorchDataset, type TrainingConfig } from './training-config';

export interface PyTorchExportOptions {
  /**
   * The data train.py reads. Default: the one the model fits (MNIST for 28×28×1 inputs, CIFAR-10 or
   * CIFAR-100 for 32×32×3 by the class count); a model that fits none is exported for use in Python only.
   */
  readonly dataset?: TorchDataset;
  /** The folder with the dataset's files (default: where einnet finds them on this machine, if it does). */
  readonly dataDir?: string;
  /** The optimizer train.py uses, with its current hyperparameters (default SGD, learning rate 0.01, momentum 0.9). */
  readonly optimizer?: Optimizer;
  /** Hyperparameter name → schedule, as for `fit` (evaluated for each epoch and written into train.py). */
  readonly schedules?: Readonly<Record<string, Schedule>>;
  /** Default 10. */
  readonly epochs?: number;
  /** Examples per step over all processes (default 128). */
  readonly batchSize?: number;
  /** Random crop (4-pixel padding) and left-right flip of the training images (default false). */
  readonly augment?: boolean;
  /** Seed of the example order and the dropout masks (default: the model's seed). */
  readonly seed?: number;
  /** What the README and docstrings call the network (default 'an einnet model'). */
  readonly title?: string;
}

const EXPORT_OPTIONS = ['dataset', 'dataDir', 'optimizer', 'schedules', 'epochs', 'batchSize', 'augment', 'seed', 'title'];

export interface PyTorchExport {
  /** The folder written (absolute). */
  readonly dir: string;
  /** The files written, relative to `dir`. */
  readonly files: string[];
  /** The command that trains the export on this machine with two processes. */
  readonly command: string;
  readonly config: TrainingConfig;
}

function positiveInteger(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw modelError('EIN7010', 'exportPyTorch', `${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** The dataset a model's input and output fit, or null. */
function defaultDataset(model: Model): TorchDataset | null {
  const shape = model.inputShapes[model.inputNames[0]] ?? [];
  const classes = model.check().shapes[model.output]?.[1];
  const guess = shape[1] === 32 && shape[3] === 3 ? (classes === 100 ? 'cifar-100' : 'cifar-10') : 'mnist';
  try {
    checkModelForDataset(model, guess);
    return guess;
  } catch (e) {
    if (e instanceof EinError) return null;
    throw e;
  }
}

/** Where einnet finds the dataset's files on this machine (train and test), if it does. */
function foundDataDir(dataset: TorchDataset): string | undefined {
  try {
    const train = locateDataset(dataset, 'train');
    return locateDataset(dataset, 'test').dir === train.dir ? train.dir : undefined;
  } catch (e) {
    if (e instanceof EinError) return undefined;
    throw e;
  }
}

function writeFileAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, text, 'utf8');
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw modelError('EIN7011', 'exportPyTorch', `cannot write ${path}: ${(e as Error).message}`, 'check the folder, its permissions and the free space');
  }
}

/** The training options as train.py's CONFIG. */
export function trainingConfig(model: Model, options: PyTorchExportOptions = {}): TrainingConfig {
  checkOptions(options, EXPORT_OPTIONS, 'exportPyTorch', 'EIN7010');
  if (options.dataset !== undefined && !TORCH_DATASETS.includes(options.dataset)) {
    const known = TORCH_DATASETS.map((d) => `'${d}'`).join(', ');
    throw modelError('EIN7010', 'exportPyTorch', `unknown dataset ${JSON.stringify(options.dataset)}`, undefined, known);
  }
  const dataset = options.dataset ?? defaultDataset(model);
  const { input, classes } = dataset === null ? { input: model.inputNames[0], classes: null } : checkModelForDataset(model, dataset);
  const epochs = positiveInteger('epochs', options.epochs, 10);
  return {
    dataset,
    dataDir: options.dataDir !== undefined ? resolve(options.dataDir) : dataset === null ? undefined : foundDataDir(dataset),
    epochs,
    batchSize: positiveInteger('batchSize', options.batchSize, 128),
    optimizer: torchOptimizer(options.optimizer),
    schedules: scheduleTables(options.schedules ?? {}, options.optimizer, epochs),
    augment: options.augment ?? false,
    seed: options.seed ?? model.seed,
    input,
    output: model.output,
    classes,
  };
}

/**
 * Writes `model` as a PyTorch package to `dir`: model.py, the weights, train.py and a README.
 *
 * @example
 *   const out = await exportPyTorch(resnetCifar({ depth: 20 }), 'resnet20-torch', { optimizer: sgd({ learningRate: 0.1, momentum: 0.9 }) });
 *   console.log(out.command); // torchrun --standalone --nproc_per_node=2 resnet20-torch/train.py --data …
 */
export async function exportPyTorch(model: Model, dir: string, options: PyTorchExportOptions = {}): Promise<PyTorchExport> {
  if (model.isDisposed) throw modelError('EIN4009', 'exportPyTorch', 'the model was disposed', 'export before model.dispose()');
  const config = trainingConfig(model, options);
  const title = options.title ?? 'an einnet model';
  if (typeof title !== 'string' || /["\\\n]/.test(title)) throw modelError('EIN7010', 'exportPyTorch', 'title must be one line without quotes or backslashes');
  const root = resolve(dir);
  const files: Record<string, string> = {
    'model.py': modelPySource(model, title),
    'einnet_checkpoint.py': EINNET_CHECKPOINT_PY.trimStart(),
    'train.py': trainPySource(config, title),
  };
  const command = torchrunCommand(root, config);
  files['README.md'] = readmeSource(model, config, title, command);
  try {
    mkdirSync(root, { recursive: true });
  } catch (e) {
    throw modelError('EIN7011', 'exportPyTorch', `cannot create folder ${root}: ${(e as Error).message}`);
  }
  for (const [name, text] of Object.entries(files)) writeFileAtomically(join(root, name), text);
  await saveCheckpoint(model, join(root, 'weights'), { metadata: { exportedFor: 'pytorch' } });
  return { dir: root, files: [...Object.keys(files), 'weights/model.json'], command, config };
}
