/**
 * The in-memory dataset type and helpers (subsets, batches, splits, value
 * conversions). Everything here works on plain typed arrays.
 */
import { DataError } from "./errors.js";
import { Rng } from "./rng.js";

/**
 * How the values of a {@link Dataset} are to be read.
 * - `binary`: every value is 0 or 1.
 * - `intensity`: real values in `range` (default [0, 1]).
 * - `levels`: integers 0..levels-1 (stored as floats).
 * - `real`: float data (CSV, IDX type 0x0D) taken as it is, never rescaled.
 */
export type DatasetKind = "binary" | "intensity" | "levels" | "real";

/**
 * A dataset of `n` examples, each a tensor of per-example `shape`, stored
 * row-major in `x` (one row of `prod(shape)` values per example).
 */
export interface Dataset {
  /** Human-readable name (e.g. `"mnist"`, `"mnist/train"`, a file name). */
  name: string;
  /** n × d values, row-major, one row per example (d = product of `shape`). */
  x: Float32Array;
  /** Number of examples. */
  n: number;
  /** Per-example shape, e.g. [28, 28] or [32, 32, 3]. */
  shape: number[];
  /** Optional class label per example (length n). */
  labels?: Int32Array;
  /** How to interpret the values (see {@link DatasetKind}). */
  kind: DatasetKind;
  /** Number of levels when `kind` is `"levels"`. */
  levels?: number;
  /**
   * Value range when `kind` is `"intensity"`; absent means [0, 1].
   * Set by {@link toRange}.
   */
  range?: [number, number];
  /** Column names of a CSV file's header (one per value of a row), as read; absent for other sources. */
  columns?: string[];
}

/** One mini-batch produced by {@link batches}. */
export interface Batch {
  /** batch n × d values, row-major. */
  x: Float32Array;
  /** Number of examples in this batch (the last one may be smaller). */
  n: number;
  /** Labels of the examples in this batch, when the dataset has labels. */
  labels?: Int32Array;
  /** Indices of these examples in the source dataset. */
  indices: Int32Array;
}

/** Number of values per example: the product of `shape` (1 for []). */
export function exampleSize(shape: readonly number[]): number {
  let d = 1;
  for (const s of shape) d *= s;
  return d;
}

/** Formats a shape as `[28, 28]` for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function invalid(message: string): never {
  throw new DataError("D0405", message);
}

/** Copies every field except the values; used by the converting helpers. */
function derive(ds: Dataset, x: Float32Array, kind: DatasetKind, extra: Partial<Dataset> = {}): Dataset {
  const out: Dataset = { name: ds.name, x, n: ds.n, shape: ds.shape.slice(), kind };
  if (ds.labels) out.labels = ds.labels.slice();
  return Object.assign(out, extra);
}

/**
 * Returns the values of `ds` mapped to [0, 1]: levels v ↦ v/(levels-1),
 * intensities with a `range` [lo, hi] ↦ (v-lo)/(hi-lo), others unchanged.
 * Always a fresh array.
 */
export function unitValues(ds: Dataset): Float32Array {
  const out = new Float32Array(ds.x.length);
  if (ds.kind === "levels") {
    const top = (ds.levels ?? 2) - 1;
    const s = top > 0 ? 1 / top : 0;
    for (let i = 0; i < out.length; i++) out[i] = ds.x[i] * s;
  } else if (ds.kind === "intensity" && ds.range && (ds.range[0] !== 0 || ds.range[1] !== 1)) {
    const [lo, hi] = ds.range;
    const s = hi > lo ? 1 / (hi - lo) : 0;
    for (let i = 0; i < out.length; i++) out[i] = (ds.x[i] - lo) * s;
  } else {
    out.set(ds.x);
  }
  return out;
}

/**
 * The examples of `ds` at `indices` (in that order; repeats allowed), with
 * their labels. Throws D0405 for an index outside 0..n-1.
 */
export function subset(ds: Dataset, indices: ArrayLike<number>, name: string = ds.name): Dataset {
  const d = exampleSize(ds.shape);
  const m = indices.length;
  const x = new Float32Array(m * d);
  const labels = ds.labels ? new Int32Array(m) : undefined;
  for (let i = 0; i < m; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= ds.n) {
      invalid(`subset: index ${k} is outside 0..${ds.n - 1} of dataset "${ds.name}"`);
    }
    x.set(ds.x.subarray(k * d, (k + 1) * d), i * d);
    if (labels) labels[i] = ds.labels![k];
  }
  const out: Dataset = { name, x, n: m, shape: ds.shape.slice(), kind: ds.kind };
  if (labels) out.labels = labels;
  if (ds.levels !== undefined) out.levels = ds.levels;
  if (ds.range) out.range = [ds.range[0], ds.range[1]];
  return out;
}

/**
 * Iterates over mini-batches of `batchSize` examples (the last batch may be
 * smaller). Without a seed the order is 0..n-1; with a seed the examples are
 * visited in the seeded permutation `new Rng(seed).permutation(n)`, so the
 * same seed always gives the same batches. Use a different seed per epoch
 * (e.g. `deriveSeed(seed, epoch)`) to reshuffle.
 */
export function* batches(ds: Dataset, batchSize: number, seed?: number): Generator<Batch, void, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1) invalid(`batch size must be a positive integer, got ${batchSize}`);
  const d = exampleSize(ds.shape);
  let order: Int32Array;
  if (seed === undefined) {
    order = new Int32Array(ds.n);
    for (let i = 0; i < ds.n; i++) order[i] = i;
  } else {
    order = new Rng(seed).permutation(ds.n);
  }
  for (let start = 0; start < ds.n; start += batchSize) {
    const indices = order.slice(start, Math.min(ds.n, start + batchSize));
    const m = indices.length;
    const x = new Float32Array(m * d);
    const labels = ds.labels ? new Int32Array(m) : undefined;
    for (let i = 0; i < m; i++) {
      const k = indices[i];
      x.set(ds.x.subarray(k * d, (k + 1) * d), i * d);
      if (labels) labels[i] = ds.labels![k];
    }
    const b: Batch = { x, n: m, indices };
    if (labels) b.labels = labels;
    yield b;
  }
}

/**
 * Converts values to integer levels 0..levels-1: a value u in [0, 1] (see
 * {@link unitValues}) becomes round(u·(levels-1)), clamped. For intensities
 * read from bytes (b/255) and levels = 256 this recovers the raw bytes
 * exactly; binary data becomes 0 and levels-1.
 */
export function toLevels(ds: Dataset, levels: number): Dataset {
  if (!Number.isInteger(levels) || levels < 2) invalid(`levels must be an integer ≥ 2, got ${levels}`);
  const u = unitValues(ds);
  const top = levels - 1;
  for (let i = 0; i < u.length; i++) {
    const v = Math.round(u[i] * top);
    u[i] = v < 0 ? 0 : v > top ? top : Number.isNaN(v) ? 0 : v;
  }
  return derive(ds, u, "levels", { levels });
}

/**
 * Scales values linearly to [lo, hi]: a value u in [0, 1] (see
 * {@link unitValues}) becomes lo + u·(hi-lo). The result has kind
 * `"intensity"` and `range` [lo, hi].
 */
export function toRange(ds: Dataset, lo: number, hi: number): Dataset {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    invalid(`range must have finite lo < hi, got [${lo}, ${hi}]`);
  }
  const u = unitValues(ds);
  const w = hi - lo;
  for (let i = 0; i < u.length; i++) u[i] = lo + u[i] * w;
  const extra: Partial<Dataset> = lo === 0 && hi === 1 ? {} : { range: [lo, hi] };
  return derive(ds, u, "intensity", extra);
}

/** Sizes of the two parts of a split (see {@link splitCounts}). */
export interface SplitCounts {
  /** Number of training examples. */
  train: number;
  /** Number of test examples. */
  test: number;
}

/**
 * How many of `n` examples go to train and test for a split ratio [a, b]
 * (both ≥ 0, not both 0).
 * - If a + b ≤ 1 the parts are fractions of n: test = round(n·b),
 *   train = min(round(n·a), n - test); examples in neither part are unused.
 * - If a + b > 1 the ratio is normalised (e.g. [80, 20] or [4, 1]):
 *   train = round(n·a/(a+b)), test = n - train.
 * Throws D0403 for a malformed ratio.
 */
export function splitCounts(n: number, ratio: readonly [number, number] | readonly number[]): SplitCounts {
  if (ratio.length !== 2) {
    throw new DataError("D0403", `split ratio must have two parts [train, test], got [${ratio.join(", ")}]`);
  }
  const [a, b] = ratio;
  if (!Number.isFinite(a) || !Number.isFinite(b) || a < 0 || b < 0 || a + b <= 0) {
    throw new DataError("D0403", `split ratio must be two non-negative numbers, not both 0, got [${a}, ${b}]`, {
      hint: "use e.g. [0.8, 0.2]",
    });
  }
  if (a + b <= 1 + 1e-9) {
    const test = Math.min(n, Math.round(n * b));
    const train = Math.min(Math.round(n * a), n - test);
    return { train, test };
  }
  const train = Math.round((n * a) / (a + b));
  return { train, test: n - train };
}

/**
 * The indices of a seeded split of n examples: p = `new Rng(seed).permutation(n)`,
 * train = the first `train` entries of p, test = the last `test` entries
 * (counts from {@link splitCounts}).
 */
export function splitIndices(
  n: number,
  ratio: readonly number[],
  seed: number,
): { train: Int32Array; test: Int32Array } {
  const counts = splitCounts(n, ratio);
  const p = new Rng(seed).permutation(n);
  return { train: p.slice(0, counts.train), test: p.slice(n - counts.test) };
}

/** Result of {@link splitDataset}: the two parts and the indices they came from. */
export interface SplitResult {
  /** Training part. */
  train: Dataset;
  /** Test part. */
  test: Dataset;
  /** Source indices of the training examples, in order. */
  trainIndices: Int32Array;
  /** Source indices of the test examples, in order. */
  testIndices: Int32Array;
}

/**
 * Splits `ds` by a fixed seeded permutation p = `new Rng(seed).permutation(n)`:
 * train is the first `train` entries of p, test the last `test` entries
 * (counts from {@link splitCounts}). The same dataset, ratio and seed always
 * give the same split.
 */
export function splitDataset(ds: Dataset, ratio: readonly number[], seed: number): SplitResult {
  const { train: trainIndices, test: testIndices } = splitIndices(ds.n, ratio, seed);
  return {
    train: subset(ds, trainIndices, `${ds.name}/train`),
    test: subset(ds, testIndices, `${ds.name}/test`),
    trainIndices,
    testIndices,
  };
}
