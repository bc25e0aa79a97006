/** PyTorch export and import of models (Node only: files and folders). See docs/pytorch.md. */
export { exportPyTorch, trainingConfig, type PyTorchExportOptions, type PyTorchExport } from './export';
export { importPyTorch, pytorchCheckpointFolder, type PyTorchImportOptions, type PyTorchImport } from './import';
export { torchrunCommand } from './train-source';
export type { TorchDataset, TrainingConfig, TorchOptimizerConfig } from './training-config';
