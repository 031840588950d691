/**
 * A two-sample statistic between codes and prior samples (how well an AAE's encoder matches its
 * prior): the squared maximum mean discrepancy with a Gaussian kernel (Gretton et al., "A Kernel
 * Two-Sample Test", JMLR 2012), unbiased estimator
 *
 *   MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(a_i, a_j) + 1/(n(n−1)) Σ_{i≠j} k(b_i, b_j) − 2/(mn) Σ_{i,j} k(a_i, b_j)
 *
 * with k(u, v) = exp(−‖u − v‖² / (2 s²)) and s the median distance between the pooled points
 * (the median heuristic) unless given. 0 in expectation when both samples come from one
 * distribution; it can be slightly negative then.
 */

function sqDist(x: Float32Array, i: number, y: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = x[i * d + k] - y[j * d + k];
    s += t * t;
  }
  return s;
}

/** The median pairwise distance of the pooled samples (over at most 500 points of each). */
export function medianDistance(a: Float32Array, m: number, b: Float32Array, n: number, d: number): number {
  const pts: [Float32Array, number][] = [];
  for (let i = 0; i < Math.min(m, 500); i++) pts.push([a, i]);
  for (let j = 0; j < Math.min(n, 500); j++) pts.push([b, j]);
  const ds: number[] = [];
  for (let p = 0; p < pts.length; p++)
    for (let q = p + 1; q < pts.length; q++) ds.push(Math.sqrt(sqDist(pts[p][0], pts[p][1], pts[q][0], pts[q][1], d)));
  ds.sort((u, v) => u - v);
  return ds.length ? ds[Math.floor(ds.length / 2)] : 1;
}

/** Unbiased MMD² between m points `a` and n points `b` of dimension d (row-major); needs m, n ≥ 2. */
export function mmd2(a: Float32Array, m: number, b: Float32Array, n: number, d: number, bandwidth?: number): number {
  if (m < 2 || n < 2) throw new RangeError("MMD needs at least two points in each sample");
  const s = bandwidth ?? (medianDistance(a, m, b, n, d) || 1);
  const g = 1 / (2 * s * s);
  let aa = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) aa += 2 * Math.exp(-g * sqDist(a, i, a, j, d));
  let bb = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) bb += 2 * Math.exp(-g * sqDist(b, i, b, j, d));
  let ab = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) ab += Math.exp(-g * sqDist(a, i, b, j, d));
  return aa / (m * (m - 1)) + bb / (n * (n - 1)) - (2 * ab) / (m * n);
}
