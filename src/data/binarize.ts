/**
 * Binarisation of datasets for Bernoulli models.
 */
import { DataError } from "./errors.js";
import { unitValues, type Dataset } from "./dataset.js";
import { Rng } from "./rng.js";

/**
 * How to binarise: a fixed threshold (value > threshold ↦ 1, else 0), or
 * stochastically (value v ↦ 1 with probability v, drawn from a seeded PRNG).
 */
export type BinarizeOptions = { threshold: number } | { stochastic: true; seed: number };

/**
 * Turns `ds` into a `binary` dataset. Values are first mapped to [0, 1]
 * (levels v ↦ v/(levels-1), scaled intensities back to [0, 1]).
 * - `{ threshold: t }`: u > t ↦ 1, otherwise 0 (so t = 0 keeps every non-zero pixel).
 * - `{ stochastic: true, seed }`: u ↦ 1 with probability u (clamped to [0, 1]),
 *   one uniform draw per value in row-major order from `new Rng(seed)`; the
 *   same seed always gives the same result.
 * Already-binary data is returned as a copy for thresholds in [0, 1).
 */
export function binarize(ds: Dataset, options: BinarizeOptions): Dataset {
  const u = unitValues(ds);
  if ("threshold" in options) {
    const t = options.threshold;
    if (!Number.isFinite(t)) throw new DataError("D0402", `binarize threshold must be a finite number, got ${t}`);
    for (let i = 0; i < u.length; i++) u[i] = u[i] > t ? 1 : 0;
  } else if (options.stochastic === true) {
    if (!Number.isFinite(options.seed)) {
      throw new DataError("D0402", `stochastic binarization needs a finite seed, got ${options.seed}`);
    }
    const rng = new Rng(options.seed);
    for (let i = 0; i < u.length; i++) u[i] = rng.uniform() < u[i] ? 1 : 0;
  } else {
    throw new DataError("D0402", "binarize needs { threshold } or { stochastic: true, seed }");
  }
  const out: Dataset = { name: ds.name, x: u, n: ds.n, shape: ds.shape.slice(), kind: "binary" };
  if (ds.labels) out.labels = ds.labels.slice();
  return out;
}
