/**
 * The lecture's other two uses of a trained generative model, as functions of a run (the CLI's
 * `gm embed`, `gm anomaly` and `gm sample --manifold` only parse flags and render these):
 *
 * - representation learning: the codes of the data (a VAE's or AAE's encoder mean, a
 *   discrete-latent model's posterior p(c | x)), a linear softmax probe on them beside the same
 *   probe on raw pixels and on a seeded random projection to the code's dimension, and a 2-D
 *   view of the codes (the first two dimensions, or PCA);
 * - anomaly detection: the model's score on a normal and an anomalous set (exact log p(x), the
 *   IWAE estimate, or minus the reconstruction error — higher is more normal), turned into
 *   AUROC, AUPRC and FPR at 95 % TPR with "anomalous" as the positive class;
 * - the decoder's images over a grid of a 2-D latent (the classic VAE manifold picture).
 *
 * Anomalous sets need no download: `noise` (uniform values of the model's domain), `inverted`
 * (the normal set with every value v replaced by max − v), Fashion-MNIST, any data source or
 * path, and `mnist(exclude = [k])` / `mnist(only = [k])` through the data layer.
 */
import type { DataSourceIR } from "../../compiler/ir";
import type { Dataset } from "../../data/dataset";
import { isFileSource } from "../../data/spec";
import { Rng } from "../../rng";
import { Aae } from "../aae";
import { gridPng } from "../images";
import type { ScoreKind } from "../model";
import {
  dataLayout,
  describeData,
  loadModelData,
  loadWholeData,
  requireExamples,
  resolveDataPaths,
  type LoadedRun,
} from "../run";
import { ModelError } from "../types";
import { Vae } from "../vae";
import { detectionSummary, type DetectionSummary } from "./metrics";
import { linearProbe } from "./probe";
import { pca, randomProjection } from "./project";

/** Examples of a run's observed columns, with labels when the data has them. */
export interface Examples {
  readonly x: Float32Array;
  readonly n: number;
  readonly labels?: Int32Array;
  /** The source in words, for output. */
  readonly name: string;
}

/**
 * The train and held-out examples of `data` for the run's model (default: the run's own data).
 * A file or folder given on the command line is scored whole: all of it is `test`.
 */
export function runExamples(
  run: LoadedRun,
  data?: DataSourceIR,
): { train: Examples; test: Examples; source: DataSourceIR } {
  const source = data ? resolveDataPaths(data, process.cwd()) : (run.meta.settings.data as unknown as DataSourceIR);
  const what = describeData(source);
  if (data !== undefined && isFileSource(source)) {
    const all = loadWholeData(run.ir, source);
    return {
      train: { x: new Float32Array(0), n: 0, name: what },
      test: { x: all.x, n: all.n, ...(all.labels ? { labels: all.labels } : {}), name: what },
      source,
    };
  }
  const loaded = loadModelData(run.ir, source, run.meta.settings.split);
  const ex = (d: Dataset, part: string): Examples => ({
    x: d.x,
    n: d.n,
    ...(d.labels ? { labels: d.labels } : {}),
    name: `${what} ${part}`,
  });
  return { train: ex(loaded.train, "train"), test: ex(loaded.test, "held-out"), source };
}

/** The first `limit` examples of a set. */
export function head(e: Examples, dim: number, limit: number | undefined): Examples {
  if (limit === undefined || limit >= e.n) return e;
  return {
    x: e.x.subarray(0, limit * dim),
    n: limit,
    ...(e.labels ? { labels: e.labels.subarray(0, limit) } : {}),
    name: e.name,
  };
}

/** The codes of n examples (n × dim) and what they are. */
export interface Codes {
  readonly codes: Float32Array;
  readonly dim: number;
  /** "encoder mean" (VAE, AAE) or "posterior over c" (discrete latent variables). */
  readonly what: string;
}

/** Codes of examples through the run's model; ModelError M0103 when the model has none. */
export function encodeExamples(run: LoadedRun, e: Examples): Codes {
  const m = run.model;
  if (!m.encode) {
    throw new ModelError(
      `model ${run.ir.name} has no code: \`gm embed\` needs latent variables (a VAE or AAE encoder, or a discrete latent variable summed out)`,
      "M0103",
      "train a model with `latent z : Normal[d]` and `q(z | x) = mlp(...)`, or `latent c : Categorical(k)`",
    );
  }
  const { codes, dim } = m.encode(e.x, e.n);
  return { codes, dim, what: m.kind === "latent" ? "encoder mean" : "posterior over the latent values" };
}

/** Accuracies of the three linear probes (fractions). */
export interface ProbeReport {
  readonly codes: number;
  readonly pixels: number;
  readonly random_projection: number;
  readonly dim: number;
  readonly train: number;
  readonly test: number;
}

/**
 * The linear probe on the codes of the training split, measured on the test split, beside the
 * same probe on raw pixels and on a random projection of the pixels to the code's dimension.
 * Needs labels in both splits (InputError-like ModelError M0104 otherwise).
 */
export function probeRun(
  run: LoadedRun,
  train: Examples,
  test: Examples,
  options: { seed?: number; epochs?: number } = {},
): ProbeReport {
  if (!train.labels || !test.labels || train.n === 0) {
    throw new ModelError(
      `--probe needs labelled training and test examples; ${train.name} has ${train.labels ? "no training split" : "no labels"}`,
      "M0104",
      'use the run\'s own data (mnist has labels), or idx("images.gz", labels = "labels.gz")',
    );
  }
  const dim = run.model.dim;
  const ctr = encodeExamples(run, train);
  const cte = encodeExamples(run, test);
  const seed = options.seed ?? 1;
  const probe = (a: Float32Array, b: Float32Array, d: number) =>
    linearProbe(
      { x: a, y: train.labels!, n: train.n, dim: d },
      { x: b, y: test.labels!, n: test.n, dim: d },
      { seed, ...(options.epochs ? { epochs: options.epochs } : {}) },
    ).test;
  const codes = probe(ctr.codes, cte.codes, ctr.dim);
  const pixels = probe(train.x, test.x, dim);
  const rp = (e: Examples) => randomProjection(e.x, e.n, dim, ctr.dim, seed + 1);
  const random = probe(rp(train), rp(test), ctr.dim);
  return { codes, pixels, random_projection: random, dim: ctr.dim, train: train.n, test: test.n };
}

/** 2-D coordinates of codes for a scatter: the codes themselves when d ≤ 2, else PCA. */
export function scatterCoordinates(c: Codes, n: number): { xy: Float32Array; axes: [string, string] } {
  if (c.dim <= 2) {
    const xy = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < c.dim; j++) xy[2 * i + j] = c.codes[i * c.dim + j];
    return { xy, axes: ["z1", c.dim === 2 ? "z2" : "0"] };
  }
  const { coords, explained } = pca(c.codes, n, c.dim, 2);
  return {
    xy: coords,
    axes: [`PC1 (${(100 * explained[0]).toFixed(0)} %)`, `PC2 (${(100 * explained[1]).toFixed(0)} %)`],
  };
}

/** What a run's score is, in words (for `gm anomaly` and `gm score`). */
export function scoreName(kind: ScoreKind, samples: number): string {
  switch (kind) {
    case "exact":
      return "exact log-likelihood";
    case "bound":
      return "ELBO (a lower bound on log p(x))";
    case "estimate":
      return `IWAE estimate of log p(x), K = ${samples}`;
    case "reconstruction":
      return "minus the reconstruction error (an AAE has no likelihood)";
  }
}

/** An anomalous set by name: `noise`, `inverted`, or null for a data source. */
export function syntheticAnomalies(run: LoadedRun, name: string, normal: Examples, seed = 1): Examples | null {
  const { image, observed } = dataLayout(run.ir);
  const dim = run.model.dim;
  let col = 0;
  for (const v of observed) {
    if (v === image) break;
    col += v.size;
  }
  const d = image.domain;
  const max = d.kind === "bernoulli" ? 1 : d.kind === "categorical" ? d.k - 1 : d.kind === "real" ? d.hi : 1;
  const min = d.kind === "real" ? d.lo : 0;
  if (name === "noise") {
    const rng = new Rng(seed);
    const x = new Float32Array(normal.n * dim);
    x.set(normal.x.subarray(0, normal.n * dim));
    for (let i = 0; i < normal.n; i++)
      for (let j = 0; j < image.size; j++) {
        const u = rng.uniform();
        x[i * dim + col + j] =
          d.kind === "bernoulli"
            ? u < 0.5
              ? 0
              : 1
            : d.kind === "categorical"
              ? Math.floor(u * d.k)
              : min + u * (max - min);
      }
    return { x, n: normal.n, name: "uniform noise" };
  }
  if (name === "inverted") {
    const x = Float32Array.from(normal.x.subarray(0, normal.n * dim));
    for (let i = 0; i < normal.n; i++)
      for (let j = 0; j < image.size; j++) x[i * dim + col + j] = max + min - x[i * dim + col + j];
    return { x, n: normal.n, name: `inverted ${normal.name}` };
  }
  return null;
}

/** The result of `gm anomaly`. */
export interface AnomalyReport extends DetectionSummary {
  readonly score: string;
  readonly kind: ScoreKind;
  readonly n_normal: number;
  readonly n_anomalous: number;
  /** The model's scores (higher = more normal). */
  readonly normal: Float64Array;
  readonly anomalous: Float64Array;
  readonly seconds: number;
}

/** Scores both sets with the run's model and measures how well −score detects the anomalous one. */
export function anomalyRun(
  run: LoadedRun,
  normal: Examples,
  anomalous: Examples,
  options: { samples?: number; seed?: number } = {},
): AnomalyReport {
  const m = run.model;
  if (!m.score) {
    throw new ModelError(
      `model ${run.ir.name} is an implicit model (a generator): it defines no likelihood, so it gives no anomaly score`,
      "M0107",
      "anomaly detection needs a model with a score: explicit, VAE or AAE",
    );
  }
  requireExamples(normal.n, `the normal set (${normal.name})`, true, "--normal SRC");
  requireExamples(anomalous.n, `the anomalous set (${anomalous.name})`, false, "--anomalous SRC");
  const samples = options.samples ?? 100;
  const t0 = performance.now();
  const a = m.score(normal.x, normal.n, { samples, seed: options.seed ?? 1 });
  const b = m.score(anomalous.x, anomalous.n, { samples, seed: (options.seed ?? 1) + 1 });
  const seconds = (performance.now() - t0) / 1000;
  const neg = (v: Float64Array) => Float64Array.from(v, (s) => (Number.isNaN(s) ? Infinity : -s));
  return {
    ...detectionSummary(neg(b.values), neg(a.values)),
    score: scoreName(a.kind, samples),
    kind: a.kind,
    n_normal: normal.n,
    n_anomalous: anomalous.n,
    normal: a.values,
    anomalous: b.values,
    seconds,
  };
}

/**
 * The decoder's means over a `side` × `side` grid of a 2-D latent, rows from z2 = +r down to −r
 * and columns from z1 = −r to +r (r = 2.5: ±2.5 standard deviations of a normal prior), as
 * side² rows of the model's columns, ready for a picture grid.
 */
export function manifoldRun(run: LoadedRun, side: number, radius = 2.5): Float32Array {
  const m = run.model;
  if (!m.decode || !m.encode) {
    throw new ModelError(
      `model ${run.ir.name} has no decoder of a latent code: --manifold draws a VAE's or AAE's decoder over a grid of z`,
      "M0103",
    );
  }
  const zdim = m instanceof Vae || m instanceof Aae ? m.layout.zdim : undefined;
  if (zdim !== 2)
    throw new ModelError(
      `--manifold draws a 2-D latent; model ${run.ir.name} has ${zdim ?? "no"} latent dimensions`,
      "M0103",
      "train a model with `latent z : Normal[2]` (e.g. Vae2D in examples/12-vae.gm)",
    );
  const z = new Float32Array(side * side * 2);
  for (let r = 0; r < side; r++)
    for (let c = 0; c < side; c++) {
      const t = (v: number) => (side === 1 ? 0 : -radius + (2 * radius * v) / (side - 1));
      z[(r * side + c) * 2] = t(c);
      z[(r * side + c) * 2 + 1] = -t(r);
    }
  return m.decode(z, side * side);
}

/** The manifold of {@link manifoldRun} as a PNG grid (side × side tiles, grey levels of the decoder's means). */
export function manifoldPng(run: LoadedRun, side: number): Uint8Array {
  const rows = manifoldRun(run, side);
  const { image, observed } = dataLayout(run.ir);
  let col = 0;
  for (const v of observed) {
    if (v === image) break;
    col += v.size;
  }
  const d = image.domain;
  const [lo, hi] =
    d.kind === "bernoulli"
      ? [0, 1]
      : d.kind === "categorical"
        ? [0, d.k - 1]
        : d.kind === "real"
          ? [d.lo, d.hi]
          : [0, 1];
  return gridPng(
    { ...image, domain: { kind: "real", lo, hi }, offset: col },
    rows,
    side * side,
    run.model.dim,
    image.size > 2000 ? 1 : 2,
  );
}
