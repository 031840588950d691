/**
 * Linear maps of codes for pictures and baselines (`gm embed`): PCA to a few dimensions (the
 * latent scatter of a code with more than two dimensions) and a seeded Gaussian random
 * projection (the probe's baseline: a linear map to the code's dimension that learned nothing).
 * Plain JavaScript on row-major Float32Arrays: the inputs are n × d with d at most a few hundred.
 */
import { Rng } from "../../rng";

/** Column means of an n × d row-major matrix. */
export function columnMeans(x: Float32Array, n: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m[j] += x[i * d + j];
  for (let j = 0; j < d; j++) m[j] /= n;
  return m;
}

/** The d × d sample covariance (divided by n) of an n × d matrix, row-major. */
export function covariance(x: Float32Array, n: number, d: number): Float64Array {
  const m = columnMeans(x, n, d);
  const c = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j] - m[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < d; b++) c[a * d + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      c[a * d + b] /= n;
      c[b * d + a] = c[a * d + b];
    }
  return c;
}

/**
 * The top `k` eigenvectors of a symmetric positive semi-definite d × d matrix by power iteration
 * with deflation (seeded start), with their eigenvalues, largest first.
 */
export function topEigenvectors(
  c: Float64Array,
  d: number,
  k: number,
  seed = 1,
): { vectors: Float64Array[]; values: number[] } {
  const a = Float64Array.from(c);
  const rng = new Rng(seed);
  const vectors: Float64Array[] = [];
  const values: number[] = [];
  for (let e = 0; e < Math.min(k, d); e++) {
    let v = Float64Array.from({ length: d }, () => rng.normal());
    let lambda = 0;
    for (let it = 0; it < 1000; it++) {
      const w = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += a[i * d + j] * v[j];
        w[i] = s;
      }
      let norm = 0;
      for (let i = 0; i < d; i++) norm += w[i] * w[i];
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      for (let i = 0; i < d; i++) w[i] /= norm;
      let change = 0;
      for (let i = 0; i < d; i++) change = Math.max(change, Math.abs(Math.abs(w[i]) - Math.abs(v[i])));
      v = w;
      lambda = norm;
      if (change < 1e-10) break;
    }
    // Deflate: A ← A − λ v vᵀ.
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] -= lambda * v[i] * v[j];
    vectors.push(v);
    values.push(lambda);
  }
  return { vectors, values };
}

/**
 * Principal components: the n × k coordinates of the centred data on its top-k principal axes
 * (k = 2 for a scatter), with the share of the variance each axis explains. With d ≤ k the
 * columns are returned as they are (a 2-D code is plotted directly), padded with zeros up to k.
 */
export function pca(
  x: Float32Array,
  n: number,
  d: number,
  k = 2,
  seed = 1,
): { coords: Float32Array; explained: number[] } {
  const out = new Float32Array(n * k);
  if (d <= k) {
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * k + j] = x[i * d + j];
    return { coords: out, explained: [] };
  }
  const m = columnMeans(x, n, d);
  const c = covariance(x, n, d);
  let trace = 0;
  for (let j = 0; j < d; j++) trace += c[j * d + j];
  const { vectors, values } = topEigenvectors(c, d, k, seed);
  for (let i = 0; i < n; i++)
    for (let e = 0; e < vectors.length; e++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x[i * d + j] - m[j]) * vectors[e][j];
      out[i * k + e] = s;
    }
  return { coords: out, explained: values.map((v) => (trace > 0 ? v / trace : 0)) };
}

/**
 * A seeded Gaussian random projection R (d × k, entries N(0, 1/k)): returns x·R, n × k. The
 * baseline of the linear probe — the same dimension as the code, but nothing learned.
 */
export function randomProjection(x: Float32Array, n: number, d: number, k: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const scale = 1 / Math.sqrt(k);
  const r = Float64Array.from({ length: d * k }, () => rng.normal() * scale);
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const xij = x[i * d + j];
      if (xij === 0) continue;
      for (let e = 0; e < k; e++) out[i * k + e] += xij * r[j * k + e];
    }
  }
  return out;
}
