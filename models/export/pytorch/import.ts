/**
 * `importPyTorch(model, dir)`: loads a checkpoint that an export's train.py wrote into the einnet
 * model. train.py writes einnet checkpoints, so this finds the folder and calls `loadCheckpoint`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../../model';
import { loadCheckpoint, type LoadReport } from '../../checkpoint';
import { checkOptions } from '../../../core/options';
import { modelError } from '../../errors';

export interface PyTorchImportOptions {
  /** Load this epoch's checkpoint (1-based) instead of the latest. */
  readonly epoch?: number;
}

export interface PyTorchImport extends LoadReport {
  /** The checkpoint folder that was loaded. */
  readonly checkpoint: string;
}

/** The checkpoint folder `dir` names: itself, its latest (or `epoch`) run checkpoint, or its checkpoints/ folder's. */
export function pytorchCheckpointFolder(dir: string, epoch?: number): string {
  const runs = [dir, join(dir, 'checkpoints')];
  if (epoch !== undefined) {
    const name = `epoch-${String(epoch).padStart(4, '0')}`;
    const found = runs.map((r) => join(r, name)).find((f) => existsSync(join(f, 'model.json')));
    if (found !== undefined) return found;
    throw modelError('EIN7012', 'importPyTorch', `no checkpoint of epoch ${epoch} in ${dir} or ${join(dir, 'checkpoints')}`, 'train.py writes one per epoch');
  }
  if (existsSync(join(dir, 'model.json'))) return dir;
  for (const run of runs) {
    const latest = join(run, 'latest.json');
    if (!existsSync(latest)) continue;
    let name: unknown;
    try {
      name = JSON.parse(readFileSync(latest, 'utf8'))?.checkpoint;
    } catch (e) {
      throw modelError('EIN7012', 'importPyTorch', `${latest} is not readable JSON (${(e as Error).message})`);
    }
    if (typeof name !== 'string' || name.includes('/') || name.includes('\\') || name.startsWith('.')) {
      throw modelError('EIN7012', 'importPyTorch', `${latest} names no checkpoint folder`, 'train.py writes {"checkpoint": "epoch-0001", …}');
    }
    return join(run, name);
  }
  throw modelError(
    'EIN7012',
    'importPyTorch',
    `${dir} holds no checkpoint (no model.json, latest.json or checkpoints/latest.json)`,
    'point at the export folder after train.py has finished an epoch, or at its --out folder',
  );
}

/**
 * Loads the latest checkpoint train.py wrote (or that of `options.epoch`) into `model`: parameters
 * and running statistics, all or nothing. The report's metadata holds train.py's epoch record
 * (epoch, step, train and test loss and accuracy).
 *
 * @example
 *   const report = importPyTorch(model, 'resnet20-torch');
 *   console.log(report.metadata?.test_accuracy);
 */
export function importPyTorch(model: Model, dir: string, options: PyTorchImportOptions = {}): PyTorchImport {
  checkOptions(options, ['epoch'], 'importPyTorch', 'EIN7010');
  if (options.epoch !== undefined && !(Number.isInteger(options.epoch) && options.epoch >= 1)) {
    throw modelError('EIN7010', 'importPyTorch', `epoch must be a positive integer, got ${String(options.epoch)}`);
  }
  const checkpoint = pytorchCheckpointFolder(dir, options.epoch);
  return { ...loadCheckpoint(model, checkpoint), checkpoint };
}
