/**
 * train.py of a PyTorch export: a docstring with the torchrun commands, CONFIG (the einnet
 * training options, python/training-config.ts) and the loop (python/train-py.ts).
 */
import type { TrainingConfig } from './training-config';
import { pythonDict } from './python-literal';
import { TRAIN_PY_BODY } from './python/train-py';

/** The command that trains the export on one machine with `processes` processes. */
export function torchrunCommand(dir: string, config: Pick<TrainingConfig, 'dataDir'>, processes = 2): string {
  const data = config.dataDir === undefined ? ' --data DATA_DIR' : ` --data ${shellQuote(config.dataDir)}`;
  return `torchrun --standalone --nproc_per_node=${processes} ${shellQuote(`${dir}/train.py`)}${data}`;
}

/** `s` quoted for a POSIX shell when it holds anything but safe characters. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The complete train.py. */
export function trainPySource(config: TrainingConfig, title: string): string {
  const header = [
    `#!/usr/bin/env python3`,
    `"""Trains ${title} (model.py) with PyTorch DistributedDataParallel, as einnet's fit would.`,
    ``,
    `One machine, two processes (gloo, CPU):`,
    `    torchrun --standalone --nproc_per_node=2 train.py --data DATA_DIR`,
    `N machines, P processes each (the same command on every machine; HOST:PORT a free port on one of them):`,
    `    torchrun --nnodes=N --nproc_per_node=P --rdzv_id=JOB --rdzv_backend=c10d --rdzv_endpoint=HOST:PORT train.py --data DATA_DIR`,
    `GPUs (one per process): add --backend nccl.`,
    ``,
    `Every epoch, rank 0 writes an einnet checkpoint to --out (epoch-NNNN/, latest.json) and logs`,
    `the loss and accuracy as JSON lines to stdout and --out/log.jsonl. einnet reads the checkpoints`,
    `back with importPyTorch(model, folder). --batch-size is the global batch (all processes together).`,
    `"""`,
  ];
  const configText = [
    `# The einnet training options this file was exported with (the command-line flags override them).`,
    `# "schedules": torch.optim hyperparameter -> one value per epoch, set at the start of the epoch.`,
    `CONFIG = ${pythonDict({
      dataset: config.dataset,
      data_dir: config.dataDir ?? null,
      epochs: config.epochs,
      batch_size: config.batchSize,
      optimizer: config.optimizer,
      schedules: config.schedules,
      augment: config.augment,
      seed: config.seed,
      input: config.input,
      output: config.output,
      classes: config.classes,
    })}`,
  ];
  const [imports, rest] = splitImports(TRAIN_PY_BODY.trim());
  return `${header.join('\n')}\n${imports}\n\n${configText.join('\n')}\n\n${rest}\n`;
}

/** The body's import block (up to the first section rule) and the rest. */
function splitImports(body: string): [string, string] {
  const at = body.indexOf('# ----');
  return [body.slice(0, at).trimEnd(), body.slice(at)];
}
