/**
 * Data specs: a plain description of where a model's training data comes
 * from, and `loadData`, which loads it and adapts it to the model's variable
 * (shape and domain).
 */
import * as fs from "node:fs";
import { DataError } from "./errors.js";
import { formatShape, splitCounts, splitDataset, toLevels, toRange, type Dataset } from "./dataset.js";
import { binarize } from "./binarize.js";
import { checkCsvDomain, checkRealRange, loadCsv, selectCsvColumns } from "./csv.js";
import { loadIdxImages } from "./idx.js";
import { loadImageFolder } from "./images.js";
import { FASHION_MNIST_DIR, MNIST_SPLIT_SEED, loadFashionMnist, mnistSplit } from "./mnist.js";
import { resizeDataset } from "./resize.js";
import { deriveSeed } from "./rng.js";

/** The kinds of data source. */
export type DataSource = "mnist" | "fashion_mnist" | "idx" | "images" | "csv";

/** All valid {@link DataSource} values. */
export const DATA_SOURCES: readonly DataSource[] = ["mnist", "fashion_mnist", "idx", "images", "csv"];

/**
 * A plain object describing a data source.
 * - `source`: `mnist` (embedded), `fashion_mnist` (IDX files, `path` = their
 *   folder, default {@link FASHION_MNIST_DIR}), `idx` (`path` = images file,
 *   `labels` = optional labels file), `images` (`path` = folder of PNG/JPEG).
 * - `binarize`: a threshold in [0, 1] or `"stochastic"` (seeded by `seed`).
 * - `size`: resize images to [H, W] (or [H, W, C]) before use.
 * - `seed`: seed of stochastic binarisation (default {@link DEFAULT_DATA_SEED}).
 */
export interface DataSpec {
  /** Where the data comes from. */
  source: DataSource;
  /** File or folder, depending on `source`. */
  path?: string;
  /** IDX labels file (source `idx` only). */
  labels?: string;
  /** Binarisation: threshold in [0, 1], or `"stochastic"`. */
  binarize?: number | "stochastic";
  /** Resize every image to this [H, W] or [H, W, C] before use. */
  size?: number[];
  /** Seed of stochastic binarisation. */
  seed?: number;
  /** Drop the examples whose label is listed (needs labels): `mnist(exclude = [3])`. */
  exclude?: number[];
  /** Keep only the examples whose label is listed (needs labels): `mnist(only = [3])`. */
  only?: number[];
}

/** The domain of the model variable the data feeds. */
export type TargetDomain =
  | { kind: "bernoulli" }
  | { kind: "categorical"; k: number }
  | { kind: "real"; lo: number; hi: number }
  | { kind: "normal" };

/** The model variable the data must fit: its per-example shape and domain. */
export interface DataTarget {
  /** Per-example shape of the variable, e.g. [28, 28]. */
  shape: number[];
  /** Domain of the variable. */
  domain: TargetDomain;
  /** The variable's name: a CSV header naming its elements (`x_1`, `x_2_3`, as `gm sample` writes) is read by name. */
  name?: string;
  /** A scalar label variable with `k` outcomes: a CSV file gives the labels in the column of its name. */
  label?: { name: string; k: number };
}

/** Default train/test ratio when the train block gives no `split`. */
export const DEFAULT_SPLIT: readonly [number, number] = [0.8, 0.2];

/** Threshold used to binarise intensities for a Bernoulli target when `binarize` is not given. */
export const DEFAULT_BINARIZE_THRESHOLD = 0.5;

/** Seed of stochastic binarisation when the spec gives no `seed`. */
export const DEFAULT_DATA_SEED = 0;

/**
 * Seed of the fixed permutation that splits `idx` and `images` sources (the
 * same as {@link MNIST_SPLIT_SEED}); not affected by `spec.seed`.
 */
export const DATA_SPLIT_SEED = MNIST_SPLIT_SEED;

function specError(message: string, hint?: string): never {
  throw new DataError("D0402", message, hint === undefined ? {} : { hint });
}

/** Checks a spec's fields and throws D0402 naming the first problem. */
export function validateSpec(spec: DataSpec): void {
  if (spec === null || typeof spec !== "object") specError("data spec must be an object");
  if (!DATA_SOURCES.includes(spec.source)) {
    specError(`unknown data source "${String(spec.source)}"`, `use one of ${DATA_SOURCES.join(", ")}`);
  }
  if (
    (spec.source === "idx" || spec.source === "images" || spec.source === "csv") &&
    (typeof spec.path !== "string" || spec.path === "")
  ) {
    specError(`data source "${spec.source}" needs a path`);
  }
  if (spec.source === "mnist" && spec.path !== undefined) {
    specError('data source "mnist" is embedded and takes no path', 'use idx("…") for MNIST IDX files');
  }
  if (spec.path !== undefined && typeof spec.path !== "string") specError("data path must be a string");
  if (spec.labels !== undefined && (spec.source !== "idx" || typeof spec.labels !== "string")) {
    specError(`a labels file can only be given for an idx source (source is "${spec.source}")`);
  }
  if (spec.binarize !== undefined && spec.binarize !== "stochastic") {
    const t = spec.binarize;
    if (typeof t !== "number" || !Number.isFinite(t) || t < 0 || t > 1) {
      specError(`binarize must be a threshold in [0, 1] or "stochastic", got ${String(t)}`);
    }
  }
  if (spec.seed !== undefined && (typeof spec.seed !== "number" || !Number.isFinite(spec.seed))) {
    specError(`data seed must be a finite number, got ${String(spec.seed)}`);
  }
  for (const key of ["exclude", "only"] as const) {
    const v = spec[key];
    if (v !== undefined && (!Array.isArray(v) || !v.every((c) => Number.isInteger(c) && c >= 0)))
      specError(`${key} must be a list of class labels (whole numbers ≥ 0), got ${JSON.stringify(v)}`);
  }
  if (spec.exclude !== undefined && spec.only !== undefined) specError("give exclude or only, not both");
  if (spec.size !== undefined) {
    const s = spec.size;
    const ok =
      Array.isArray(s) &&
      (s.length === 2 || s.length === 3) &&
      s.every((v) => Number.isInteger(v) && v >= 1) &&
      (s.length === 2 || s[2] === 1 || s[2] === 3);
    if (!ok)
      specError(
        `size must be [height, width] or [height, width, 1|3] with positive integers, got ${JSON.stringify(s)}`,
      );
  }
}

/**
 * Drops trailing size-1 axes beyond the first two, so [28, 28, 1] and
 * [28, 28] compare equal.
 */
function canonicalShape(shape: readonly number[]): number[] {
  const s = shape.slice();
  while (s.length > 2 && s[s.length - 1] === 1) s.pop();
  return s;
}

/**
 * True when data of per-example shape `data` can feed a variable of shape
 * `target`: equal shapes, where a trailing channel axis of size 1 may be
 * omitted on either side ([28, 28] ~ [28, 28, 1]).
 */
export function shapesCompatible(data: readonly number[], target: readonly number[]): boolean {
  const a = canonicalShape(data);
  const b = canonicalShape(target);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function checkTarget(target: DataTarget): void {
  if (!target || !Array.isArray(target.shape) || !target.shape.every((v) => Number.isInteger(v) && v >= 1)) {
    specError(`model variable shape must be a list of positive integers, got ${JSON.stringify(target?.shape)}`);
  }
  const d = target.domain;
  switch (d?.kind) {
    case "bernoulli":
    case "normal":
      return;
    case "categorical":
      if (!Number.isInteger(d.k) || d.k < 2) specError(`Categorical(k) needs an integer k ≥ 2, got ${d.k}`);
      return;
    case "real":
      if (!Number.isFinite(d.lo) || !Number.isFinite(d.hi) || !(d.hi > d.lo)) {
        specError(`Real(lo, hi) needs finite lo < hi, got (${d.lo}, ${d.hi})`);
      }
      return;
    default:
      specError(`unknown model domain ${JSON.stringify(d)}`);
  }
}

function describeSource(spec: DataSpec): string {
  return spec.path !== undefined ? `${spec.source} data ${spec.path}` : `${spec.source} data`;
}

/** How images of another size can be used, for a source (only `images(…, size = [H, W])` resizes in a .gm file). */
function resizeHint(source: DataSource): string {
  return source === "images"
    ? ', or resize the images with images("folder", size = [H, W])'
    : source === "csv"
      ? ""
      : `; ${source} data is read at its own size (only images("folder", size = [H, W]) resizes)`;
}

function checkShape(ds: Dataset, spec: DataSpec, target: DataTarget): void {
  if (!shapesCompatible(ds.shape, target.shape)) {
    const imageLike = ds.shape.length === 2 || ds.shape.length === 3;
    throw new DataError(
      "D0401",
      `${describeSource(spec)} has per-example shape ${formatShape(ds.shape)} but the model variable has shape ${formatShape(target.shape)}`,
      {
        ...(spec.path !== undefined ? { path: spec.path } : {}),
        hint: `declare the variable with shape ${formatShape(ds.shape)}${imageLike ? resizeHint(spec.source) : ""}`,
      },
    );
  }
}

/**
 * Adapts a dataset to a model variable's domain (shape already checked):
 * 1. `spec.binarize` given → binarise first (threshold, or stochastic with `seed`);
 * 2. Bernoulli → binary values (non-binary data: threshold
 *    {@link DEFAULT_BINARIZE_THRESHOLD}, value > 0.5 ↦ 1);
 *    Categorical(k) → integer levels 0..k-1 (round(u·(k-1)); k = 256 gives the raw bytes);
 *    Real(lo, hi) → scaled linearly from [0, 1] to [lo, hi];
 *    Normal → real values in [0, 1], unchanged.
 * The result takes the variable's shape.
 */
export function adaptToDomain(
  ds: Dataset,
  target: DataTarget,
  spec: Pick<DataSpec, "binarize">,
  seed: number,
): Dataset {
  let out = ds;
  if (spec.binarize === "stochastic") out = binarize(out, { stochastic: true, seed });
  else if (typeof spec.binarize === "number") out = binarize(out, { threshold: spec.binarize });
  const d = target.domain;
  switch (d.kind) {
    case "bernoulli":
      if (out.kind !== "binary") out = binarize(out, { threshold: DEFAULT_BINARIZE_THRESHOLD });
      break;
    case "categorical":
      out = toLevels(out, d.k);
      break;
    case "real":
      // Float data is taken as it is (its range was checked on loading); intensities are mapped.
      if (out.kind !== "real") out = toRange(out, d.lo, d.hi);
      break;
    case "normal":
      if (out.kind !== "real") out = toRange(out, 0, 1);
      break;
  }
  if (out === ds) out = { ...ds, x: ds.x.slice(), ...(ds.labels ? { labels: ds.labels.slice() } : {}) };
  out.shape = target.shape.slice();
  out.name = ds.name;
  return out;
}

/** Channels implied by a target shape for image loading (1 unless [H, W, 3]). */
function targetChannels(shape: readonly number[]): number {
  return shape.length === 3 && shape[2] === 3 ? 3 : 1;
}

/** `ds` resized to `spec.size` when it is given (D0401 when the channels differ). */
function resizeTo(ds: Dataset, spec: DataSpec): Dataset {
  if (spec.size === undefined) return ds;
  const want = spec.size.length === 3 ? spec.size[2] : 1;
  const have = ds.shape.length === 3 ? ds.shape[2] : 1;
  if (want !== have) {
    throw new DataError(
      "D0401",
      `${describeSource(spec)} has ${have} channel${have === 1 ? "" : "s"} per pixel but size ${formatShape(spec.size)} asks for ${want}`,
      spec.path !== undefined ? { path: spec.path } : {},
    );
  }
  return resizeDataset(ds, spec.size);
}

/**
 * Every example of a file or folder source (`idx`, `csv`, `images`), in the file's order, shaped
 * like the target and checked against its domain where the values are taken as they are (float
 * IDX data; CSV values, read in the variable's own domain: see `checkCsvDomain`).
 */
function loadFile(spec: DataSpec, target: DataTarget): Dataset {
  switch (spec.source) {
    case "idx": {
      const all = resizeTo(loadIdxImages(spec.path!, spec.labels), spec);
      checkShape(all, spec, target);
      if (all.kind === "real" && target.domain.kind === "real")
        checkRealRange(all, target.domain.lo, target.domain.hi, false);
      return all;
    }
    case "csv": {
      // Columns named after the model's variables are read by name; otherwise one column per element, in order.
      const all = selectCsvColumns(
        loadCsv(spec.path!),
        {
          ...(target.name !== undefined ? { name: target.name } : {}),
          shape: target.shape,
          ...(target.label ? { label: target.label } : {}),
        },
        spec.path!,
      );
      if (all.shape[0] === target.shape.reduce((a, b) => a * b, 1)) all.shape = target.shape.slice();
      checkShape(all, spec, target);
      return checkCsvDomain(all, target.domain, spec.path!, spec.binarize !== undefined);
    }
    case "images": {
      let shape: number[];
      if (spec.size !== undefined) {
        shape =
          spec.size.length === 3
            ? spec.size.slice()
            : targetChannels(target.shape) === 3
              ? [spec.size[0], spec.size[1], 3]
              : spec.size.slice();
      } else {
        shape = target.shape.slice();
        const imageLike =
          (shape.length === 2 || shape.length === 3) && (shape.length === 2 || shape[2] === 1 || shape[2] === 3);
        if (!imageLike) {
          throw new DataError(
            "D0401",
            `images folder ${spec.path} cannot feed a model variable of shape ${formatShape(target.shape)}: images need [H, W], [H, W, 1] or [H, W, 3]`,
            { path: spec.path!, hint: "declare the variable as an image, e.g. [28, 28]" },
          );
        }
      }
      const all = loadImageFolder(spec.path!, shape);
      checkShape(all, spec, target);
      return all;
    }
    default:
      return specError(`data source "${spec.source}" is not a file or folder`);
  }
}

/** True for the sources that name a file or folder (`idx`, `csv`, `images`), which can be read whole. */
export function isFileSource(spec: Pick<DataSpec, "source">): boolean {
  return spec.source === "idx" || spec.source === "csv" || spec.source === "images";
}

/**
 * Every example of a file or folder source (`idx`, `csv`, `images`), unsplit and in the file's
 * order, adapted to `target` as {@link loadData} adapts its test part (stochastic binarisation
 * seeded with `deriveSeed(seed, 1)`): what `gm score --data FILE` scores. No example (after
 * `exclude`/`only`) is D0407; a built-in source is D0402.
 */
export function loadWhole(spec: DataSpec, target: DataTarget): Dataset {
  validateSpec(spec);
  checkTarget(target);
  if (!isFileSource(spec)) specError(`data source "${spec.source}" has no whole file to read; it is read by its split`);
  const all = filterLabels(loadFile(spec, target), spec);
  if (all.n === 0)
    throw new DataError("D0407", `${describeSource(spec)} has no examples to score (after exclude/only)`, {
      ...(spec.path !== undefined ? { path: spec.path } : {}),
      hint: "give data with at least one example of the classes you keep",
    });
  return adaptToDomain(all, target, spec, deriveSeed(spec.seed ?? DEFAULT_DATA_SEED, 1));
}

/**
 * Loads the data described by `spec` and adapts it to the model variable
 * `target`, returning the train and test parts.
 *
 * - Shape: `spec.size` (if given) resizes any image source first. Image
 *   folders are loaded at `spec.size` or else at the target's [H, W] (with
 *   its channels). Other data whose per-example shape differs from the
 *   target's → D0401 stating both shapes ([28, 28] and [28, 28, 1] match).
 * - Split: `mnist` uses its fixed split ({@link mnistSplit}); `fashion_mnist`
 *   uses its own train/test files (`split` ignored); `idx` and `images` use
 *   a permutation seeded with {@link DATA_SPLIT_SEED}: first part train, last
 *   part test (see `splitCounts` for the ratio rules). Default [0.8, 0.2].
 * - Domain: see {@link adaptToDomain}. Stochastic binarisation draws the
 *   train part from `new Rng(deriveSeed(seed, 0))` and the test part from
 *   `new Rng(deriveSeed(seed, 1))` (seed = `spec.seed`, default 0).
 */
export function loadData(
  spec: DataSpec,
  target: DataTarget,
  split: readonly [number, number] | readonly number[] = DEFAULT_SPLIT,
): { train: Dataset; test: Dataset } {
  validateSpec(spec);
  checkTarget(target);
  const seed = spec.seed ?? DEFAULT_DATA_SEED;
  let train: Dataset;
  let test: Dataset;

  const resize = (ds: Dataset): Dataset => resizeTo(ds, spec);

  switch (spec.source) {
    case "mnist": {
      ({ train, test } = mnistSplit(split));
      train = resize(train);
      test = resize(test);
      break;
    }
    case "fashion_mnist": {
      ({ train, test } = loadFashionMnist(spec.path ?? FASHION_MNIST_DIR));
      train = resize(train);
      test = resize(test);
      break;
    }
    case "idx":
    case "csv":
    case "images": {
      ({ train, test } = splitDataset(loadFile(spec, target), split, DATA_SPLIT_SEED));
      break;
    }
  }
  train = filterLabels(train, spec);
  test = filterLabels(test, spec);
  checkShape(train, spec, target);
  if (train.n === 0) {
    throw new DataError(
      "D0404",
      `${describeSource(spec)}: the split ${JSON.stringify(split)} leaves no training examples (${test.n} test)`,
      spec.path !== undefined ? { path: spec.path } : {},
    );
  }
  // A split that asks for a held-out part ([0.9, 0.1]) but rounds it to no example is refused; [1, 0] asks for none.
  if (test.n === 0 && split[1] > 0) {
    const total = train.n + test.n;
    const b = split[0] + split[1] > 1 + 1e-9 ? split[1] / (split[0] + split[1]) : split[1];
    let need = 1;
    while (splitCounts(need, split).test === 0) need++;
    throw new DataError(
      "D0407",
      `${describeSource(spec)}: the split ${JSON.stringify(split)} leaves no held-out examples (${train.n} train of ${total}): a held-out set is what gm train reports and gm score measures`,
      {
        ...(spec.path !== undefined ? { path: spec.path } : {}),
        hint: `use more data (a test fraction of ${+b.toFixed(4)} needs at least ${need} examples) or a larger test fraction, e.g. split = [0.8, 0.2]`,
      },
    );
  }
  return {
    train: adaptToDomain(train, target, spec, deriveSeed(seed, 0)),
    test: adaptToDomain(test, target, spec, deriveSeed(seed, 1)),
  };
}

/**
 * The examples of `ds` whose label passes `spec.exclude` / `spec.only` (unchanged without
 * either). A dataset without labels cannot be filtered: D0402.
 */
export function filterLabels(ds: Dataset, spec: Pick<DataSpec, "exclude" | "only" | "source" | "path">): Dataset {
  if (spec.exclude === undefined && spec.only === undefined) return ds;
  if (!ds.labels) {
    throw new DataError(
      "D0402",
      `${describeSource(spec as DataSpec)} has no labels, so ${spec.exclude ? "exclude" : "only"} = [...] cannot pick examples by class`,
      {
        hint: 'give a labels file: idx("images.gz", labels = "labels.gz")',
        ...(spec.path !== undefined ? { path: spec.path } : {}),
      },
    );
  }
  const keep = (y: number) => (spec.exclude ? !spec.exclude.includes(y) : spec.only!.includes(y));
  const rows: number[] = [];
  for (let i = 0; i < ds.n; i++) if (keep(ds.labels[i])) rows.push(i);
  const d = ds.x.length / Math.max(ds.n, 1);
  const x = new Float32Array(rows.length * d);
  rows.forEach((r, j) => x.set(ds.x.subarray(r * d, (r + 1) * d), j * d));
  return { ...ds, x, n: rows.length, labels: Int32Array.from(rows, (r) => ds.labels![r]) };
}

/**
 * A spec for a bare path: a folder → `images`, a file → `idx` (an images
 * file; no labels are looked for). A missing path → D0101.
 */
export function specFromPath(path: string): DataSpec {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw new DataError("D0101", `data path not found: ${path}`, { path, cause: e });
  }
  if (st.isDirectory()) return { source: "images", path };
  return /\.csv$/i.test(path) ? { source: "csv", path } : { source: "idx", path };
}
