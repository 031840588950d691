/**
 * `gm fid`: a Fréchet distance between a model's samples and held-out images, in the features of
 * a small classifier that gm trains once on the training split (Heusel et al., "GANs Trained by a
 * Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", NeurIPS 2017, computed the
 * same way in Inception-v3 features; this is NOT that ImageNet FID — its numbers are on gm's own
 * scale, comparable across gm's families, not with papers).
 *
 *   FD = ‖μ_a − μ_b‖² + tr(Σ_a) + tr(Σ_b) − 2 tr((Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})
 *
 * over the classifier's penultimate features (Gaussians fitted to each set: mean, unbiased
 * covariance); the matrix square roots come from a Jacobi eigendecomposition in float64.
 *
 * The classifier: an MLP 784 → 256 → 128 → 10 with ReLU (features: the 128 activations of the
 * second hidden layer), trained with Adam (lr 1e-3, batch 100, 10 epochs, seed 1) on the
 * dataset's training split; its held-out accuracy is reported and stored with it. It is cached
 * as `fid-<dataset>-v1.bin` (+ `.json`) under $GM_CACHE_DIR, else ~/.cache/gm, so it trains once.
 *
 * The floor: the same distance between n training images and the held-out images — what a model
 * that reproduced the training data exactly would score.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../../data/atomic";
import type { Dataset } from "../../data/dataset";
import { loadFashionMnist, mnistSplit } from "../../data/mnist";
import { GmError } from "../../errors";
import { deriveSeed, Rng } from "../../rng";
import { initBackend } from "../backend";
import type { VariableIR } from "../../compiler/ir";
import type { GenerativeModel } from "../model";
import { Mlp } from "../networks/mlp";
import { dataLayout, loadRun, type DataLayout, type LoadedRun } from "../run";

/** Layer widths of the feature classifier. */
export const FID_LAYERS = [784, 256, 128, 10] as const;
/** Cache format version (part of the file name). */
const VERSION = "v1";
const EPOCHS = 10;
const BATCH = 100;

/** Datasets gm fid knows (28×28 grey images with 10 classes). */
export type FidDataset = "mnist" | "fashion_mnist";

/** A trained feature classifier. */
export interface FidClassifier {
  readonly net: Mlp;
  /** Held-out accuracy on the dataset's test split. */
  readonly accuracy: number;
  /** The cache file. */
  readonly path: string;
  /** Whether it was trained by this call (false: read from the cache). */
  readonly trained: boolean;
}

/** The cache folder: $GM_CACHE_DIR, else ~/.cache/gm. */
export function fidCacheDir(): string {
  return process.env.GM_CACHE_DIR?.trim() || join(homedir(), ".cache", "gm");
}

function splitOf(dataset: FidDataset): { train: Dataset; test: Dataset } {
  return dataset === "mnist" ? mnistSplit() : loadFashionMnist();
}

/** The classifier for `dataset`, from the cache or trained now (and cached). */
export function fidClassifier(
  dataset: FidDataset,
  cacheDir = fidCacheDir(),
  log?: (line: string) => void,
): FidClassifier {
  const path = join(cacheDir, `fid-${dataset}-${VERSION}.bin`);
  const net = new Mlp("fid", FID_LAYERS, { seed: 1, activation: "relu" });
  if (existsSync(path) && existsSync(`${path}.json`)) {
    const meta = JSON.parse(readFileSync(`${path}.json`, "utf8")) as { accuracy: number; sizes: number[] };
    const bytes = readFileSync(path);
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    if (JSON.stringify(meta.sizes) === JSON.stringify(FID_LAYERS) && all.length === net.paramCount()) {
      let at = 0;
      for (const v of net.variables) {
        v.assign(tf.tensor(all.subarray(at, at + v.size), v.shape));
        at += v.size;
      }
      net.invalidate();
      return { net, accuracy: meta.accuracy, path, trained: false };
    }
    log?.(`${path} does not match this classifier; training a new one`);
  }
  const { train, test } = splitOf(dataset);
  log?.(`training the feature classifier on ${train.n} ${dataset} training images (once; cached in ${cacheDir})`);
  const opt = tf.train.adam(1e-3);
  const x = train.x;
  const labels = train.labels!;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const order = new Rng(deriveSeed(1, epoch)).permutation(train.n);
    for (let s = 0; s < train.n; s += BATCH) {
      const idx = order.subarray(s, Math.min(train.n, s + BATCH));
      const xb = new Float32Array(idx.length * 784);
      const yb = new Int32Array(idx.length);
      idx.forEach((k, i) => {
        xb.set(x.subarray(k * 784, (k + 1) * 784), i * 784);
        yb[i] = labels[k];
      });
      tf.tidy(() => {
        const xt = tf.tensor2d(xb, [idx.length, 784]);
        const yt = tf.oneHot(tf.tensor1d(yb, "int32"), 10);
        opt.minimize(() => tf.losses.softmaxCrossEntropy(yt, net.apply(xt)) as tf.Scalar, false, net.variables);
      });
    }
  }
  opt.dispose();
  net.invalidate();
  const accuracy = classifierAccuracy(net, test);
  const parts = net.variables.map((v) => v.dataSync() as Float32Array);
  const flat = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    flat.set(p, at);
    at += p.length;
  }
  writeFileAtomic(path, new Uint8Array(flat.buffer));
  writeFileAtomic(
    `${path}.json`,
    `${JSON.stringify({ dataset, sizes: FID_LAYERS, epochs: EPOCHS, batch: BATCH, lr: 1e-3, seed: 1, trainN: train.n, testN: test.n, accuracy }, null, 2)}\n`,
  );
  return { net, accuracy, path, trained: true };
}

/** Fraction of `ds` (with labels) the classifier labels right. */
export function classifierAccuracy(net: Mlp, ds: Dataset): number {
  let right = 0;
  for (let s = 0; s < ds.n; s += 1000) {
    const m = Math.min(1000, ds.n - s);
    const pred = tf.tidy(() =>
      tf.argMax(net.apply(tf.tensor2d(ds.x.subarray(s * 784, (s + m) * 784), [m, 784])), 1).dataSync(),
    );
    for (let i = 0; i < m; i++) if (pred[i] === ds.labels![s + i]) right++;
  }
  return right / ds.n;
}

/** Penultimate features (post-ReLU, 128 per image) of n images in [0, 1], n × 128 row-major. */
export function fidFeatures(net: Mlp, x: Float32Array, n: number): Float64Array {
  const d = FID_LAYERS[2];
  const out = new Float64Array(n * d);
  for (let s = 0; s < n; s += 1000) {
    const m = Math.min(1000, n - s);
    const f = tf.tidy(() => {
      let h: tf.Tensor2D = tf.tensor2d(x.subarray(s * 784, (s + m) * 784), [m, 784]);
      for (let l = 0; l < 2; l++)
        h = tf.relu(tf.add(tf.matMul(h, net.weights[l] as tf.Tensor2D), net.biases[l])) as tf.Tensor2D;
      return h.dataSync();
    });
    out.set(f, s * d);
  }
  return out;
}

/** A Gaussian fitted to feature rows: mean and unbiased covariance (d × d, row-major). */
export interface Gaussian {
  readonly mean: Float64Array;
  readonly cov: Float64Array;
  readonly d: number;
}

/** The mean and unbiased covariance of n rows of d features. */
export function gaussianOf(f: Float64Array, n: number, d: number): Gaussian {
  if (n < 2) throw new RangeError(`a Gaussian fit needs at least 2 rows, got ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += f[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = f[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += ca * c[b];
    }
  }
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  return { mean, cov, d };
}

/** Eigenvalues and eigenvectors (columns of V) of a symmetric d × d matrix, by cyclic Jacobi. */
export function symmetricEigen(m: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < d; p++) {
      diag += a[p * d + p] * a[p * d + p];
      for (let q = p + 1; q < d; q++) off += a[p * d + q] * a[p * d + q];
    }
    if (off <= 1e-22 * (diag + 1e-300)) break;
    for (let p = 0; p < d; p++)
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cs = 1 / Math.sqrt(t * t + 1);
        const sn = t * cs;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = cs * akp - sn * akq;
          a[k * d + q] = sn * akp + cs * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = cs * apk - sn * aqk;
          a[q * d + k] = sn * apk + cs * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = cs * vkp - sn * vkq;
          v[k * d + q] = sn * vkp + cs * vkq;
        }
      }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v };
}

/** The PSD square root V diag(√max(λ, 0)) Vᵀ of a symmetric matrix. */
function sqrtPsd(m: Float64Array, d: number): Float64Array {
  const { values, vectors: v } = symmetricEigen(m, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    if (s === 0) continue;
    for (let i = 0; i < d; i++) {
      const vi = v[i * d + k] * s;
      if (vi === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += vi * v[j * d + k];
    }
  }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += aik * b[k * d + j];
    }
  return out;
}

/** The Fréchet distance between two Gaussians (see the file comment); ≥ 0 up to rounding. */
export function frechetDistance(a: Gaussian, b: Gaussian): number {
  const d = a.d;
  let mean = 0;
  for (let j = 0; j < d; j++) mean += (a.mean[j] - b.mean[j]) ** 2;
  let tr = 0;
  for (let j = 0; j < d; j++) tr += a.cov[j * d + j] + b.cov[j * d + j];
  const s = sqrtPsd(a.cov, d);
  const m = matmul(matmul(s, b.cov, d), s, d);
  // symmetrize against rounding before the eigendecomposition
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) {
      const v = (m[i * d + j] + m[j * d + i]) / 2;
      m[i * d + j] = v;
      m[j * d + i] = v;
    }
  const { values } = symmetricEigen(m, d);
  let cross = 0;
  for (const v of values) cross += Math.sqrt(Math.max(v, 0));
  return Math.max(0, mean + tr - 2 * cross);
}

/** `x[28, 28, 3]`: a variable as its declaration shows it. */
function shown(v: VariableIR): string {
  return v.shape.length ? `${v.name}[${v.shape.join(", ")}]` : v.name;
}

/**
 * The variable of a model's samples that gm fid compares, and its first column in a sample row: the one
 * observed variable, or the image beside a scalar label (as the data layout reads them); or why there is
 * none — the samples are not 28×28 grey images (`[28, 28]`, `[784]`, or those with extra 1s).
 */
export function fidImage(model: GenerativeModel): { image: VariableIR; offset: number } | { reason: string } {
  let layout: DataLayout;
  try {
    layout = dataLayout(model.ir);
  } catch {
    return { reason: `it samples ${model.observed.map(shown).join(", ")}, not one 28×28 grey image` };
  }
  const image = layout.image;
  const dims = image.shape.filter((d) => d !== 1);
  const grey28 = image.size === 784 && (dims.join("x") === "28x28" || dims.join("x") === "784");
  if (!grey28) {
    const why = dims.length === 3 && dims[0] === 28 && dims[1] === 28 ? ` (${dims[2]} channels)` : "";
    return { reason: `it samples ${shown(image)}${why}, not a 28×28 grey image` };
  }
  let offset = 0;
  for (const v of layout.observed) {
    if (v === image) break;
    offset += v.size;
  }
  return { image, offset };
}

/** A model's samples (n rows of `model.dim`) as 28×28 intensities in [0, 1]; M0104 when they are not images. */
export function samplesAsImages(model: GenerativeModel, samples: Float32Array, n: number): Float32Array {
  const found = fidImage(model);
  if ("reason" in found) {
    throw new GmError("M0104", `gm fid compares 28×28 grey images; model ${model.ir.name}: ${found.reason}`, {
      hint: "fid needs one observed 28×28 variable, as the MNIST examples have",
    });
  }
  const { image, offset } = found;
  const d = image.domain;
  const out = new Float32Array(n * 784);
  for (let i = 0; i < out.length; i++) {
    const x = samples[Math.floor(i / 784) * model.dim + offset + (i % 784)];
    const u = d.kind === "categorical" ? x / (d.k - 1) : d.kind === "real" ? (x - d.lo) / (d.hi - d.lo) : x;
    out[i] = Math.min(1, Math.max(0, u));
  }
  return out;
}

/** One line of the report. */
export interface FidRow {
  readonly label: string;
  readonly model: string;
  readonly kind: string;
  readonly fid: number;
  readonly n: number;
}

/** A run gm fid left out: its samples are not 28×28 grey images. */
export interface FidSkipped {
  readonly label: string;
  readonly model: string;
  readonly reason: string;
}

/** What `gm fid` prints. */
export interface FidReport {
  readonly dataset: FidDataset;
  readonly classifier: { accuracy: number; path: string; trained: boolean };
  /** n training images against the held-out images. */
  readonly floor: FidRow;
  readonly rows: FidRow[];
  /** Runs left out, each with why (also logged, one line each, as they are found). */
  readonly skipped: FidSkipped[];
}

/** Options of {@link fidRuns}. */
export interface FidOptions {
  dataset?: FidDataset;
  /** Samples per run (and training images for the floor); default 1000. */
  n?: number;
  seed?: number;
  backend?: string;
  cacheDir?: string;
  log?: (line: string) => void;
}

/**
 * The Fréchet distance of each run's samples to the held-out images, with the real-image floor. Runs whose
 * samples are not 28×28 grey images are skipped with a logged line each (before the classifier is read or
 * trained); M0104 when none is left.
 */
export async function fidRuns(dirs: readonly string[], options: FidOptions = {}): Promise<FidReport> {
  const dataset = options.dataset ?? "mnist";
  const n = options.n ?? 1000;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(n) || n < 2) throw new GmError("U0100", `-n must be a whole number ≥ 2, got ${n}`);
  await initBackend((options.backend ?? "auto") as Parameters<typeof initBackend>[0], { quiet: true });
  const kept: LoadedRun[] = [];
  const skipped: FidSkipped[] = [];
  try {
    for (const dir of dirs) {
      const run = await loadRun(dir, { backend: options.backend });
      const found = fidImage(run.model);
      if ("reason" in found) {
        run.model.dispose();
        skipped.push({ label: dir, model: run.ir.name, reason: found.reason });
        options.log?.(`skipped ${dir} (model ${run.ir.name}): ${found.reason}`);
      } else kept.push(run);
    }
  } catch (e) {
    for (const run of kept) run.model.dispose();
    throw e;
  }
  if (kept.length === 0) {
    throw new GmError(
      "M0104",
      dirs.length === 1
        ? `no run left to compare: ${skipped[0].label} (model ${skipped[0].model}): ${skipped[0].reason}`
        : `no run left to compare: none of the ${dirs.length} runs samples 28×28 grey images`,
      { hint: "gm fid compares 28×28 grey images, as the MNIST examples sample" },
    );
  }
  let cls: FidClassifier;
  try {
    cls = fidClassifier(dataset, options.cacheDir ?? fidCacheDir(), options.log);
  } catch (e) {
    for (const run of kept) run.model.dispose();
    throw e;
  }
  try {
    const { train, test } = splitOf(dataset);
    const held = gaussianOf(fidFeatures(cls.net, test.x, test.n), test.n, FID_LAYERS[2]);
    const m = Math.min(n, train.n);
    const idx = new Rng(deriveSeed(seed, 77)).permutation(train.n).subarray(0, m);
    const sub = new Float32Array(m * 784);
    idx.forEach((k, i) => sub.set(train.x.subarray(k * 784, (k + 1) * 784), i * 784));
    const floor: FidRow = {
      label: `${dataset} training images`,
      model: "(real images)",
      kind: "floor",
      n: m,
      fid: frechetDistance(gaussianOf(fidFeatures(cls.net, sub, m), m, FID_LAYERS[2]), held),
    };
    const rows: FidRow[] = [];
    while (kept.length) {
      const run = kept[0];
      try {
        const images = samplesAsImages(run.model, run.model.sample(n, seed), n);
        const g = gaussianOf(fidFeatures(cls.net, images, n), n, FID_LAYERS[2]);
        rows.push({ label: run.dir, model: run.ir.name, kind: run.model.kind, n, fid: frechetDistance(g, held) });
      } finally {
        kept.shift();
        run.model.dispose();
      }
    }
    return {
      dataset,
      classifier: { accuracy: cls.accuracy, path: cls.path, trained: cls.trained },
      floor,
      rows,
      skipped,
    };
  } finally {
    for (const run of kept) run.model.dispose();
    cls.net.dispose();
  }
}
