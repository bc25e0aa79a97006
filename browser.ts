/**
 * einnet in a web page: the API of index.ts minus what needs Node (the native oneDNN addon, the
 * file-system dataset loaders, checkpoints on disk, the notebook display and its Chromium export).
 * scripts/build-browser.mjs bundles this file into dist/browser/einnet.mjs. Backends: webgpu,
 * webgl, wasm, cpu (backends/select-browser.ts). `tf` is the tfjs instance einnet computes with:
 * use it (not another copy of tfjs) for the tensors you pass in. See docs/browser.md.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
// The language: parse → check → lower → run.
export { ein, Program } from './dsl';
export type { CheckReport, RunOptions, CheckedProgram, TensorInfo, IndexRange, Provenance } from './dsl';
export { EinError, EinErrors, DIAGNOSTIC_CODES } from './core/diagnostics';
export type { Span, ExtentSource, DiagnosticCode } from './core/diagnostics';
// Backends of a page.
export { useBackend, activeBackend, availableBackends, setSharedSavedTensors, setWasmLocation, BACKEND_ORDER } from './backends/select-browser';
export type { BackendName, BackendInfo, AdapterInfo } from './backends/select-browser';
// Data held in memory.
export { ImageSet, forEachBatch, bytesToFloat } from './datasets/image-set';
export type { PixelScale, TensorDataset, Batch, BatchOptions, ImageSetInit } from './datasets/image-set';
export { seededRandom, permutation } from './core/random';
export type { Random, SeedOrRandom } from './core/random';
export { shuffle, trainValidationSplit } from './datasets/splits';
export { parseIdx, idxImageSetFromBytes, type IdxArray, type IdxType, type IdxPairOptions } from './datasets/idx-parse';
export { channelMeanStd, normalizeChannels, augmentBatch, randomCropWithPadding, randomHorizontalFlip } from './datasets/transforms';
// Plots as data (Plotly figures: pass them to Plotly.newPlot in the page).
export { subplotGrid, describeFigure } from './viz/figure';
export type { Figure, Trace, GridCell } from './viz/figure';
export { heatmap, activationGrid, filterGrid } from './viz/grids';
export { occlusionMap } from './viz/occlusion';
export { receptiveFields, pathCounts, receptiveFieldFigure } from './viz/receptive-field';
// Models and training (checkpoints are files: Node only).
export { Model, describeModel, withoutStatements, type ModelOptions, type ApplyOptions, type RunningStatSpec, type ModelShape } from './models/model';
export { NetBuilder, axisNames, type Block, type Fragment, type TensorRef, type BuildOptions } from './models/builder';
export * from './models/blocks';
export { fansOf, initialValues, initialTensor, parameterRandom, type Fans } from './models/init';
export { softmaxCrossEntropy, meanSquaredError, accuracy, correctCount, lossByName, type LossFn } from './models/losses';
export { sgd, adam, optimizerFromConfig, type Optimizer, type SgdOptions, type AdamOptions } from './models/optimizers';
export { constant, stepDecay, cosine, linear, type Schedule } from './models/schedules';
export { trainStep, trainStepAsync, evaluate, fit, formatHistory, type DataSource, type FitOptions, type History, type Evaluation } from './models/train';
export { summary, type Summary, type SummaryRow, type SummaryOptions } from './models/summary';
export * from './models/architectures';
