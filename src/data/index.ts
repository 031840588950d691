/**
 * Public API of the data layer: datasets for training generative models.
 * Plain typed arrays only; no TensorFlow.js.
 */
export { DataError, DATA_ERROR_CODES, isDataError } from "./errors.js";
export type { DataErrorCode, DataErrorOptions } from "./errors.js";
export { Rng, hashSeed, deriveSeed, permutation } from "./rng.js";
export {
  exampleSize,
  formatShape,
  unitValues,
  subset,
  batches,
  toLevels,
  toRange,
  splitCounts,
  splitIndices,
  splitDataset,
} from "./dataset.js";
export type { Dataset, DatasetKind, Batch, SplitCounts, SplitResult } from "./dataset.js";
export { binarize } from "./binarize.js";
export type { BinarizeOptions } from "./binarize.js";
export { IDX_TYPES, IDX_UBYTE, parseIdx, readIdx, readIdxLabels, loadIdxImages, encodeIdx } from "./idx.js";
export type { IdxArray, IdxRole } from "./idx.js";
export {
  IMAGE_EXTENSIONS,
  MAX_JPEG_MEGAPIXELS,
  decodeImage,
  jpegOrientation,
  applyOrientation,
  readImage,
  imageChannels,
  imageToArray,
  listImageFiles,
  loadImageFolder,
} from "./images.js";
export type { RgbaImage } from "./images.js";
export { axisWeights, resizeRows, resizeImage, resizeDataset } from "./resize.js";
export type { AxisWeights } from "./resize.js";
export {
  MNIST_SPLIT_SEED,
  MNIST_DEFAULT_RATIO,
  MNIST_SHAPE,
  mnistDigitsDir,
  loadMnist,
  mnistSplitIndices,
  mnistSplit,
  FASHION_MNIST_DIR,
  FASHION_MNIST_FILES,
  FASHION_MNIST_CLASSES,
  loadFashionMnist,
} from "./mnist.js";
export {
  DATA_SOURCES,
  DEFAULT_SPLIT,
  DEFAULT_BINARIZE_THRESHOLD,
  DEFAULT_DATA_SEED,
  DATA_SPLIT_SEED,
  validateSpec,
  shapesCompatible,
  adaptToDomain,
  loadData,
  loadWhole,
  isFileSource,
  filterLabels,
  specFromPath,
} from "./spec.js";
export { parseCsv, loadCsv, elementNames, selectCsvColumns, checkCsvDomain } from "./csv.js";
export type { CsvTarget, CsvDomain } from "./csv.js";
export type { DataSource, DataSpec, TargetDomain, DataTarget } from "./spec.js";
