/**
 * Numerical references for a VAE's bounds (Burda, Grosse & Salakhutdinov, "Importance Weighted
 * Autoencoders", ICLR 2016): ELBO = IWAE_1 ≤ IWAE_K ≤ log p(x), with
 *
 *   log p(x) = log ∫ N(z; 0, I) p(x | z) dz      by a Riemann sum on a grid (latent dimension d ≤ 2)
 *   IWAE_K(x), ELBO(x)                           means and standard errors of R independent draws
 *   KL(q(z | x) ‖ N(0, I))                        closed form against E_q[log q(z | x) − log p(z)]
 *
 * Used by tests/models/vae.test.ts and `gm verify` (src/models/verify.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { logSumExp } from "../latent";
import type { Vae } from "../vae";

/** A grid over z: `points` values per axis, evenly spaced on [lo, −lo]. */
export interface ZGrid {
  readonly lo: number;
  readonly points: number;
}

/** The tests' grids: 1-D [−12, 12] step 0.004; 2-D [−9, 9]² step 0.05. */
export function defaultGrid(d: number): ZGrid {
  return d === 1 ? { lo: -12, points: 6001 } : { lo: -9, points: 361 };
}

/**
 * log p(z_g) + log p(x | z_g) at every point z_g of the grid (d = 1 or 2; float64 sums of the
 * decoder's float32 terms), first axis fastest, with the grid step.
 */
export function gridLogJoint(vae: Vae, x: Float32Array, d: number, grid: ZGrid = defaultGrid(d)): Float64Array {
  if (d !== 1 && d !== 2) throw new RangeError(`log p(x) on a grid needs a 1- or 2-D code, got ${d}`);
  const m = grid.points;
  const step = (2 * -grid.lo) / (m - 1);
  const G = d === 1 ? m : m * m;
  const z = new Float32Array(G * d);
  const logPrior = new Float64Array(G);
  for (let g = 0; g < G; g++) {
    const a = grid.lo + (g % m) * step;
    const b = grid.lo + Math.floor(g / m) * step;
    z[g * d] = a;
    if (d === 2) z[g * d + 1] = b;
    logPrior[g] = -0.5 * d * Math.log(2 * Math.PI) - 0.5 * (a * a + (d === 2 ? b * b : 0));
  }
  const terms = new Float64Array(G);
  const chunk = Math.max(1, Math.min(20_000, Math.floor(2_000_000 / Math.max(1, x.length))));
  for (let s = 0; s < G; s += chunk) {
    const c = Math.min(chunk, G - s);
    const ll = tf.tidy(() => {
      const zt = tf.tensor2d(z.subarray(s * d, (s + c) * d), [c, d]);
      const xt = tf.tile(tf.tensor2d(x, [1, x.length]), [c, 1]) as tf.Tensor2D;
      return vae.decoders.logProb(zt, xt).dataSync();
    });
    for (let i = 0; i < c; i++) terms[s + i] = logPrior[s + i] + ll[i];
  }
  return terms;
}

/** log p(x) = log ∫ N(z; 0, I) p(x | z) dz by a Riemann sum on `grid` (d = 1 or 2). */
export function logMarginal(vae: Vae, x: Float32Array, d: number, grid: ZGrid = defaultGrid(d)): number {
  const step = (2 * -grid.lo) / (grid.points - 1);
  return logSumExp(gridLogJoint(vae, x, d, grid)) + d * Math.log(step);
}

/**
 * log p(x) on `grid` and on the grid of every other point (twice the step) from the same decoder
 * calls: their difference says whether the grid resolves p(z | x). `grid.points` must be odd.
 */
export function logMarginalTwoSteps(
  vae: Vae,
  x: Float32Array,
  d: number,
  grid: ZGrid,
): { fine: number; coarse: number } {
  const m = grid.points;
  const step = (2 * -grid.lo) / (m - 1);
  const terms = gridLogJoint(vae, x, d, grid);
  const every: number[] = [];
  for (let g = 0; g < terms.length; g++) {
    const a = g % m;
    const b = Math.floor(g / m);
    if (a % 2 === 0 && b % 2 === 0) every.push(terms[g]);
  }
  return {
    fine: logSumExp(terms) + d * Math.log(step),
    coarse: logSumExp(every) + d * Math.log(2 * step),
  };
}

/** A mean and its standard error. */
export type MeanSe = [mean: number, se: number];

/** Mean and standard error of R independent draws of (IWAE_K, ELBO) for one x (through `vae.score`). */
export function draws(vae: Vae, x: Float32Array, K: number, R: number, seed: number): { iwae: MeanSe; elbo: MeanSe } {
  const rows = new Float32Array(R * x.length);
  for (let r = 0; r < R; r++) rows.set(x, r * x.length);
  const s = vae.score(rows, R, { samples: K, seed, batch: R });
  return { iwae: meanSe(s.values), elbo: meanSe(s.extra!.elbo.values) };
}

/** Mean and standard error of the mean of `v` (at least two values). */
export function meanSe(v: ArrayLike<number>): MeanSe {
  let mean = 0;
  for (let i = 0; i < v.length; i++) mean += v[i];
  mean /= v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i] - mean) ** 2;
  return [mean, Math.sqrt(ss / (v.length - 1) / v.length)];
}

/**
 * KL(q(z | x) ‖ N(0, I)) in closed form (`vae.terms`) and its Monte-Carlo estimate
 * E_q[log q(z | x) − log p(z)] from N reparameterized samples z = μ + e^{v/2} ε, evaluated in
 * float64 from the encoder's μ and v by the definition: Σ_j ½ (z_j² − ε_j² − v_j). (Not as
 * log p(x | z) − log w: with a sharp decoder log p(x | z) reaches −1e9 nats, and float32
 * cancellation then moved the estimate by 2 nats.)
 */
export function klCheck(vae: Vae, x: Float32Array, N: number, seed: number): { closed: number; mc: MeanSe } {
  const [closed, mu, lv, eps] = tf.tidy(() => {
    const xt = tf.tensor2d(x, [1, x.length]);
    const noise = vae.noise(N, 1, seed);
    const { mean, logVar } = vae.encoder.apply(xt);
    return [
      vae.terms(xt, noise.slice([0, 0, 0], [1, 1, noise.shape[2]]) as tf.Tensor3D).kl.dataSync()[0],
      mean.dataSync(),
      logVar!.dataSync(),
      noise.dataSync(),
    ] as const;
  });
  const Z = mu.length;
  const mc = new Float64Array(N);
  for (let k = 0; k < N; k++) {
    let s = 0;
    for (let j = 0; j < Z; j++) {
      const e = eps[k * Z + j];
      const z = mu[j] + Math.exp(lv[j] / 2) * e;
      s += 0.5 * (z * z - e * e - lv[j]);
    }
    mc[k] = s;
  }
  return { closed, mc: meanSe(mc) };
}
