/**
 * exportPyTorch and importPyTorch without Python: the files and their contents, the training
 * options written into train.py, the batch-free translation, and the errors (EIN7010–EIN7012).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EinError } from '../../../core/diagnostics';
import { lenet5, resnetCifar } from '../../../models/architectures';
import { adam, sgd } from '../../../models/optimizers';
import { cosine } from '../../../models/schedules';
import { exportPyTorch, importPyTorch, trainingConfig } from '../../../models/export/pytorch';
import { batchFreeModule } from '../../../models/export/pytorch/batch-generic';

const root = mkdtempSync(join(tmpdir(), 'einnet-torch-files-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof EinError) return e.code;
    throw e;
  }
  return undefined;
}

async function asyncCodeOf(f: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await f();
  } catch (e) {
    if (e instanceof EinError) return e.code;
    throw e;
  }
  return undefined;
}

describe('exportPyTorch files', () => {
  it('writes model.py, einnet_checkpoint.py, train.py, README.md and the weights, and leaves no tensor behind', async () => {
    const model = lenet5({ seed: 1 });
    const before = tf.memory().numTensors;
    const out = await exportPyTorch(model, join(root, 'lenet'), { title: 'LeNet-5', epochs: 3, batchSize: 64 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    for (const f of ['model.py', 'einnet_checkpoint.py', 'train.py', 'README.md', 'weights/model.json']) expect(existsSync(join(out.dir, f))).toBe(true);
    expect(out.command).toMatch(/^torchrun --standalone --nproc_per_node=2 \S+\/lenet\/train\.py --data /);
    const modelPy = readFileSync(join(out.dir, 'model.py'), 'utf8');
    expect(modelPy).toContain('class TrainProgram(torch.nn.Module)');
    expect(modelPy).toContain('class EvalProgram(torch.nn.Module)');
    expect(modelPy).toContain('_einnet_batch = tensors["X"].shape[0]');
    expect(modelPy).toContain('"C5.W": [5, 5, 16, 120],');
    const readme = readFileSync(join(out.dir, 'README.md'), 'utf8');
    expect(readme).toContain(out.command);
    expect(readme).toContain('61,706 parameters');
    expect(readme).toContain('--rdzv_endpoint=HOST:PORT');
  });

  it('writes the optimizer as torch.optim and each schedule as one value per epoch', () => {
    const model = resnetCifar({ depth: 8, seed: 1 });
    try {
      const nesterov = sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
      const config = trainingConfig(model, { optimizer: nesterov, schedules: { learningRate: cosine(0.1, { epochs: 4 }) }, epochs: 4 });
      expect(config.dataset).toBe('cifar-10');
      expect(config.optimizer).toEqual({ name: 'SGD', kwargs: { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 5e-4 } });
      expect(config.schedules.lr.map((v) => +v.toFixed(6))).toEqual([0.1, 0.085355, 0.05, 0.014645]);
      const adamw = adam({ learningRate: 0.002, weightDecay: 0.01, decoupled: true });
      expect(trainingConfig(model, { optimizer: adamw }).optimizer).toEqual({
        name: 'AdamW',
        kwargs: { lr: 0.002, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.01 },
      });
      expect(trainingConfig(model, { optimizer: adam() }).optimizer.name).toBe('Adam');
    } finally {
      model.dispose();
    }
  });

  it('EIN7010 for an unknown option, a dataset the model does not fit, a schedule of nothing', async () => {
    const model = lenet5({ seed: 1 });
    try {
      expect(await asyncCodeOf(() => exportPyTorch(model, join(root, 'x'), { epoch: 3 } as never))).toBe('EIN7010');
      expect(codeOf(() => trainingConfig(model, { dataset: 'cifar-10' }))).toBe('EIN7010');
      expect(codeOf(() => trainingConfig(model, { dataset: 'imagenet' as never }))).toBe('EIN7010');
      expect(codeOf(() => trainingConfig(model, { schedules: { beta1: () => 0.9 } }))).toBe('EIN7010');
      expect(codeOf(() => trainingConfig(model, { batchSize: 0 }))).toBe('EIN7010');
    } finally {
      model.dispose();
    }
  });
});

describe('importPyTorch', () => {
  it('EIN7012 when the folder holds no checkpoint or not the epoch asked for; EIN7010 for a bad epoch', () => {
    const model = lenet5({ seed: 1 });
    try {
      const empty = join(root, 'empty');
      mkdirSync(empty, { recursive: true });
      expect(codeOf(() => importPyTorch(model, empty))).toBe('EIN7012');
      expect(codeOf(() => importPyTorch(model, empty, { epoch: 3 }))).toBe('EIN7012');
      expect(codeOf(() => importPyTorch(model, empty, { epoch: 0 }))).toBe('EIN7010');
      writeFileSync(join(empty, 'latest.json'), '{"checkpoint": "../elsewhere"}');
      expect(codeOf(() => importPyTorch(model, empty))).toBe('EIN7012');
    } finally {
      model.dispose();
    }
  });

  it('loads the exported weights folder itself (a checkpoint) back into a model', async () => {
    const a = lenet5({ seed: 1 });
    const b = lenet5({ seed: 2 });
    try {
      await exportPyTorch(a, join(root, 'back'));
      const report = importPyTorch(b, join(root, 'back', 'weights'));
      expect(report.loaded).toHaveLength(10);
      expect(Array.from(b.params.get('C3.W')!.dataSync())).toEqual(Array.from(a.params.get('C3.W')!.dataSync()));
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe('batch-free translation', () => {
  const text = (b: number) =>
    [
      'class P(torch.nn.Module):',
      '    """X [%B,4]"""',
      '    def forward(self, **tensors):',
      '        t1 = X.reshape((%B, 8))',
      '        t2 = t1 * %R',
      '        return {"Y": t2}',
    ]
      .join('\n')
      .replace(/%B/g, String(b))
      .replace(/%R/g, String(1 / (b * 8)));

  it('writes the batch as _einnet_batch (multiples and reciprocals) and as b in the docstring', () => {
    const out = batchFreeModule('program', text, 'tensors["X"]', 0);
    expect(out).toContain('    """X [b,4]"""');
    expect(out).toContain('        _einnet_batch = tensors["X"].shape[0]\n        t1 = X.reshape((_einnet_batch, 8))');
    expect(out).toContain('t2 = t1 * (1.0 / (_einnet_batch * 8))');
  });

  it('EIN7010 when a number changes with the batch in another way', () => {
    expect(codeOf(() => batchFreeModule('program', (b) => `t = torch.zeros(${b + 1})`, 'tensors["X"]', 0))).toBe('EIN7010');
    expect(codeOf(() => batchFreeModule('program', (b) => 'x\n'.repeat(b), 'tensors["X"]', 0))).toBe('EIN7010');
  });
});
