/**
 * Training: one step (`trainStep`, `trainStepAsync`), evaluation (`evaluate`) and the epoch loop
 * (`fit`). The parts live in models/training/; this module is their public face.
 */
export { trainStep, trainStepAsync, type StepOptions } from './training/step';
export { evaluate, type Evaluation, type EvaluateOptions } from './training/evaluate';
export { fit, type FitOptions, type FitCallbacks, type BatchInfo, type CallbackResult } from './training/fit';
export { formatHistory, type History, type EpochRecord, type StopPoint } from './training/history';
export type { DataSource } from './training/batches';
export { progressMode, type ProgressMode } from './training/progress';
