/**
 * The training options of an export, as the plain data `train.py` reads: the dataset, the
 * optimizer in `torch.optim` terms, every schedule written out as one value per epoch, the epoch
 * count and the global batch size.
 *
 * einnet's optimizers have PyTorch's update rules (models/optimizers.ts), so the mapping is one to
 * one: `sgd` → `torch.optim.SGD` (dampening 0), `adam` → `torch.optim.Adam`, and `adam` with
 * `decoupled: true` → `torch.optim.AdamW`. A schedule is a function of the epoch; it is evaluated
 * for each epoch of the run and `train.py` sets the value at the start of that epoch, as `fit` does.
 */
import type { Model } from '../../model';
import type { Optimizer } from '../../optimizers';
import type { Schedule } from '../../schedules';
import { modelError } from '../../errors';

/** The datasets `train.py` reads from their distribution files. */
export type TorchDataset = 'mnist' | 'fashion-mnist' | 'cifar-10' | 'cifar-100';

export const TORCH_DATASETS: readonly TorchDataset[] = ['mnist', 'fashion-mnist', 'cifar-10', 'cifar-100'];

/** Image shape [height, width, channels] and class count of each dataset. */
const DATASET_SHAPES: Readonly<Record<TorchDataset, { image: readonly number[]; classes: number }>> = {
  mnist: { image: [28, 28, 1], classes: 10 },
  'fashion-mnist': { image: [28, 28, 1], classes: 10 },
  'cifar-10': { image: [32, 32, 3], classes: 10 },
  'cifar-100': { image: [32, 32, 3], classes: 100 },
};

/** `torch.optim` settings: the class and its keyword arguments. */
export interface TorchOptimizerConfig {
  readonly name: 'SGD' | 'Adam' | 'AdamW';
  readonly kwargs: Readonly<Record<string, number | boolean | number[]>>;
}

/** What train.py is told (written into train.py as its defaults). */
export interface TrainingConfig {
  /** null: the model fits none of the datasets (model.py works, train.py says so and stops). */
  readonly dataset: TorchDataset | null;
  /** The folder with the dataset's files, when einnet found them on this machine. */
  readonly dataDir?: string;
  readonly epochs: number;
  /** Examples per step over all processes. */
  readonly batchSize: number;
  readonly optimizer: TorchOptimizerConfig;
  /** `torch.optim` hyperparameter name → value for each epoch (index 0 = the first epoch). */
  readonly schedules: Readonly<Record<string, number[]>>;
  /** Random crop after 4-pixel zero padding and random left-right flip, for training batches. */
  readonly augment: boolean;
  readonly seed: number;
  /** The einnet input fed with the images, and the output holding the class scores. */
  readonly input: string;
  readonly output: string;
  readonly classes: number | null;
}

/** An einnet hyperparameter's name in `torch.optim`. */
const TORCH_HYPER: Readonly<Record<string, string>> = {
  learningRate: 'lr',
  momentum: 'momentum',
  weightDecay: 'weight_decay',
  epsilon: 'eps',
  beta1: 'beta1',
  beta2: 'beta2',
};

/** The `torch.optim` optimizer with the same update rule and hyperparameters as `optimizer`. */
export function torchOptimizer(optimizer: Optimizer | undefined): TorchOptimizerConfig {
  if (optimizer === undefined) return { name: 'SGD', kwargs: { lr: 0.01, momentum: 0.9, nesterov: false, weight_decay: 0 } };
  const c = optimizer.config();
  const h = optimizer.hyper;
  if (optimizer.name === 'sgd') {
    return { name: 'SGD', kwargs: { lr: h.learningRate, momentum: h.momentum, nesterov: c.nesterov === true, weight_decay: h.weightDecay } };
  }
  const kwargs = { lr: h.learningRate, betas: [h.beta1, h.beta2], eps: h.epsilon, weight_decay: h.weightDecay };
  return { name: c.decoupled === true ? 'AdamW' : 'Adam', kwargs };
}

/** Each schedule evaluated for epochs 0 … epochs − 1, under its `torch.optim` name. */
export function scheduleTables(schedules: Readonly<Record<string, Schedule>>, optimizer: Optimizer | undefined, epochs: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  const hyper = optimizer?.hyper ?? { learningRate: 0.01, momentum: 0.9, weightDecay: 0 };
  for (const [name, schedule] of Object.entries(schedules)) {
    if (typeof schedule !== 'function' || !(name in hyper)) {
      const known = Object.keys(hyper).join(', ');
      throw modelError('EIN7010', 'exportPyTorch schedules', `the optimizer has no hyperparameter '${name}' to schedule`, undefined, known);
    }
    const values = Array.from({ length: epochs }, (_, e) => schedule(e));
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw modelError('EIN7010', 'exportPyTorch schedules', `the ${name} schedule gives ${values[bad]} at epoch ${bad}`);
    out[TORCH_HYPER[name] ?? name] = values;
  }
  return out;
}

/** Checks that the model reads images of `dataset` and writes one score per class. */
export function checkModelForDataset(model: Model, dataset: TorchDataset): { input: string; classes: number } {
  const { image, classes } = DATASET_SHAPES[dataset];
  if (model.inputNames.length !== 1 || model.batchAxis !== 0) {
    throw modelError(
      'EIN7010',
      'exportPyTorch',
      `train.py feeds one image input on axis 0; the model has inputs ${model.inputNames.join(', ')} (batch axis ${model.batchAxis})`,
      'export a model with one input X[b, height, width, channels]',
    );
  }
  const input = model.inputNames[0];
  const shape = model.inputShapes[input];
  if (shape.length !== 4 || shape.slice(1).some((d, k) => d !== image[k])) {
    throw modelError(
      'EIN7010',
      'exportPyTorch',
      `${dataset} images are [b,${image.join(',')}] (height, width, channels), the model's input ${input} is [${shape.join(',')}]`,
      `build the model for ${image.join('×')} inputs, or choose the dataset it was built for`,
    );
  }
  const out = model.check().shapes[model.output];
  if (out.length !== 2 || out[1] !== classes) {
    throw modelError(
      'EIN7010',
      'exportPyTorch',
      `${dataset} has ${classes} classes; the model's output ${model.output} has shape [${out.join(',')}]`,
      `give the model a [b, ${classes}] output of class scores (logits)`,
    );
  }
  return { input, classes };
}
