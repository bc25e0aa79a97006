/**
 * einnet datasets: real image data offline, in the standard formats, with clear failures.
 * See docs/datasets.md. Loaders return an ImageSet (uint8 in host memory; `batches()` streams
 * tensors) via `open*`, or tensors directly via `load*` (NHWC float32 in [0,1] by default).
 */
export { ImageSet, forEachBatch, bytesToFloat } from './image-set';
export type { PixelScale, TensorDataset, Batch, BatchOptions, ImageSetInit } from './image-set';
export { openMnist, loadMnist, openFashionMnist, loadFashionMnist, MNIST_CLASSES, FASHION_MNIST_CLASSES } from './mnist';
export type { LoadOptions, TensorLoadOptions } from './mnist';
export {
  openCifar10,
  loadCifar10,
  openCifar100,
  loadCifar100,
  readCifarBatches,
  CIFAR10_CLASSES,
  CIFAR100_FINE_CLASSES,
  CIFAR100_COARSE_CLASSES,
  cifarImageSetFromBytes,
} from './cifar';
export type { CifarFormat, CifarLoadOptions } from './cifar';
export type { CifarBytesOptions } from './cifar-parse';
export { padToCifarShape, openFashionMnistAsCifar, openMnistAsCifar, loadFashionMnistAsCifar } from './cifar-fallback';
export { readIdx, parseIdx, readIdxImageSet, idxImageSetFromBytes } from './idx';
export type { IdxArray, IdxType, IdxPairOptions } from './idx';
export { decodeImage, readImage, imageToTensor, loadImage, loadSampleImage, sampleImagePath, SAMPLE_IMAGES } from './images';
export type { DecodedImage, DecodeOptions, ChannelChoice, SampleImageName } from './images';
export { locateDataset, defaultCacheDir, LAYOUTS } from './sources';
export type { DatasetName, Split, SourceKind, SourceOptions, LocatedDataset, DatasetLayout } from './sources';
export { fetchDataset, downloadFile, sha256OfFile } from './fetch';
export type { FetchOptions, FetchResult, DownloadProgress } from './fetch';
export { DATASET_CATALOG } from './catalog';
export type { CatalogEntry, RemoteFile } from './catalog';
export { extractTarGz } from './tar';
export { seededRandom, permutation } from '../core/random';
export type { Random, SeedOrRandom } from '../core/random';
export { shuffle, trainValidationSplit } from './splits';
export type { SplitOptions } from './splits';
export { channelMeanStd, channelMeanStdAsync, normalizeChannels, augmentBatch, randomCropWithPadding, randomHorizontalFlip } from './transforms';
export type { ChannelStats, AugmentOptions } from './transforms';
export { toNdarray, fromNdarray } from './ndarray-bridge';
