/**
 * Models and training: parameters from inferred shapes, batch norm and dropout in the notation,
 * reusable blocks, losses, optimizers, schedules, `fit`, checkpoints, `summary` and the
 * architectures. See docs/models.md.
 */
export { Model, describeModel, withoutStatements, type ModelOptions, type ApplyOptions, type RunningStatSpec, type ModelShape } from './model';
export { NetBuilder, axisNames, type Block, type Fragment, type TensorRef, type BuildOptions } from './builder';
export * from './blocks';
export { fansOf, initialValues, initialTensor, parameterRandom, type Fans } from './init';
export {
  softmaxCrossEntropy,
  meanSquaredError,
  accuracy,
  accuracyAsync,
  correctCount,
  correctCountAsync,
  lossByName,
  SOFTMAX_CROSS_ENTROPY_SOURCE,
  MSE_SOURCE,
  type LossFn,
} from './losses';
export { sgd, adam, optimizerFromConfig, type Optimizer, type SgdOptions, type AdamOptions } from './optimizers';
export { constant, stepDecay, cosine, linear, type Schedule } from './schedules';
export {
  trainStep,
  trainStepAsync,
  evaluate,
  fit,
  formatHistory,
  type DataSource,
  type FitOptions,
  type History,
  type EpochRecord,
  type BatchInfo,
  type Evaluation,
  type EvaluateOptions,
  type StepOptions,
  type StopPoint,
  type FitCallbacks,
} from './train';
export {
  saveCheckpoint,
  loadCheckpoint,
  loadOptimizer,
  CHECKPOINT_FORMAT,
  type SaveOptions,
  type LoadOptions as CheckpointLoadOptions,
  type LoadReport,
} from './checkpoint';
export { summary, type Summary, type SummaryRow, type SummaryOptions } from './summary';
export { modelBundle } from './display';
export * from './architectures';
export * from './export/pytorch';
