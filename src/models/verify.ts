/**
 * Numerical properties of a built network, checked with random parameters (fast-check draws
 * the seeds and reports a counterexample when one fails). `gm verify` runs them on the user's
 * own model; the test suite runs them on every family, and on planted bugs to show they can fail.
 *
 * - normalization: Σ_x p(x) = 1 by exhaustive enumeration (small models);
 * - chain rule: log p(x) equals the sum of the modules' conditionals, and each conditional
 *   p(x_i | x_<i) equals the one obtained by marginalizing the model's own joint (small models);
 * - assumptions: every parent removed by `assume` really does not change the conditional;
 * - sampling: ancestral samples agree with the density (chi-square, fixed seed).
 *
 * A VAE (any `Vae`, so also the VAE with a critic on z), with random weights (`randomizeVae`,
 * seeded), on a few inputs drawn uniformly from the observed domain (Burda et al., ICLR 2016):
 * - bounds: ELBO ≤ IWAE_K ≤ log p(x), log p(x) by a Riemann sum over z on a grid (d ≤ 2);
 * - monotone: the mean of IWAE_K over draws does not decrease in K (1, 4, 16);
 * - KL: the closed-form KL(q(z | x) ‖ N(0, I)) equals its Monte-Carlo estimate.
 */
import * as tf from "@tensorflow/tfjs";
import fc from "fast-check";
import { elementName } from "../compiler/elements";
import { outcomes } from "../compiler/ir";
import { Rng } from "../data/rng";
import type { ModelIR } from "../compiler/ir";
import { ExplicitModel } from "./explicit";
import type { GenerativeModel } from "./model";
import { buildModel } from "./registry";
import { ModelError } from "./types";
import { deriveSeed, tfSeed } from "../rng";
import { Vae } from "./vae";
import { draws, klCheck, logMarginalTwoSteps, type MeanSe } from "./eval/vae-bounds";

/** Largest number of joint outcomes enumerated exactly. */
export const ENUMERATION_LIMIT = 1 << 16;

/** The result of one property. */
export interface PropertyResult {
  readonly name: string;
  readonly status: "passed" | "failed" | "skipped";
  readonly detail: string;
}

/** Outcomes of every element, in element order. */
export function elementOutcomes(m: ExplicitModel): number[] {
  const ks: number[] = [];
  for (const v of m.ir.variables) {
    const k = outcomes(v.domain) ?? 0;
    for (let i = 0; i < v.size; i++) ks.push(k);
  }
  return ks;
}

/** Number of joint outcomes, or Infinity past the enumeration limit. */
export function jointSize(m: ExplicitModel): number {
  let total = 1;
  for (const k of elementOutcomes(m)) {
    total *= k;
    if (total > ENUMERATION_LIMIT) return Infinity;
  }
  return total;
}

/** Every joint outcome as rows (mixed radix, last element fastest). */
export function enumerate(m: ExplicitModel): Float32Array {
  const ks = elementOutcomes(m);
  const total = jointSize(m);
  const D = ks.length;
  const X = new Float32Array(total * D);
  for (let i = 0; i < total; i++) {
    let r = i;
    for (let j = D - 1; j >= 0; j--) {
      X[i * D + j] = r % ks[j];
      r = Math.floor(r / ks[j]);
    }
  }
  return X;
}

/** Assigns random parameters (seeded): normal with the given scale. */
export function randomize(m: ExplicitModel, seed: number, scale = 1): void {
  m.variables.forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, scale, "float32", tfSeed(seed * 7919 + i))));
  m.invalidate();
}

/** log p of every row, through the backend. */
export function logProbs(m: ExplicitModel, X: Float32Array): Float64Array {
  const n = X.length / m.dim;
  const out = new Float64Array(n);
  for (let lo = 0; lo < n; lo += 4096) {
    const k = Math.min(4096, n - lo);
    const lp = tf.tidy(() => m.logProb(tf.tensor2d(X.subarray(lo * m.dim, (lo + k) * m.dim), [k, m.dim])));
    out.set(lp.dataSync(), lo);
    lp.dispose();
  }
  return out;
}

/** Σ_x p(x) by enumeration. */
export function totalProbability(m: ExplicitModel): number {
  const lp = logProbs(m, enumerate(m));
  let s = 0;
  for (const v of lp) s += Math.exp(v);
  return s;
}

/** Elements in the order ancestral sampling draws them (a topological order). */
export function samplingOrder(m: ExplicitModel): number[][] {
  const order: number[][] = [];
  for (const mod of m.sampleOrder) {
    if (mod.factor.family === "joint") order.push(Array.from(mod.factor.targets));
    else for (const t of mod.factor.targets) order.push([t]);
  }
  return order;
}

/**
 * Chain-rule consistency by enumeration: for random prefixes in sampling order, the module's
 * conditional equals p(x_block | x_before) obtained by summing the model's own joint. Returns the
 * largest absolute difference of probabilities.
 */
export function chainRuleGap(m: ExplicitModel, rng: Rng, prefixes = 8): number {
  const X = enumerate(m);
  const lp = logProbs(m, X);
  const D = m.dim;
  const n = lp.length;
  const ks = elementOutcomes(m);
  const blocks = samplingOrder(m);
  let worst = 0;
  for (let trial = 0; trial < prefixes; trial++) {
    // Draw a full row from the model's joint, then check every block's conditional on its prefix.
    const u = rng.uniform();
    let acc = 0;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      acc += Math.exp(lp[i]);
      if (u < acc) {
        pick = i;
        break;
      }
    }
    const row = X.subarray(pick * D, (pick + 1) * D);
    const before: number[] = [];
    for (const block of blocks) {
      // Marginalize: p(block = b, before = row[before]) for every b.
      const K = block.reduce((a, e) => a * ks[e], 1);
      const mass = new Float64Array(K);
      for (let i = 0; i < n; i++) {
        let match = true;
        for (const e of before)
          if (X[i * D + e] !== row[e]) {
            match = false;
            break;
          }
        if (!match) continue;
        let o = 0;
        for (const e of block) o = o * ks[e] + X[i * D + e];
        mass[o] += Math.exp(lp[i]);
      }
      const z = mass.reduce((a, b) => a + b, 0);
      const mod = m.modules[m.ir.factorOf[block[0]]];
      const position = mod.factor.family === "joint" ? 0 : m.ir.positionOf[block[0]];
      const cond = mod.conditional(position, Float32Array.from(row));
      for (let o = 0; o < K; o++) worst = Math.max(worst, Math.abs(mass[o] / z - cond[o]));
      before.push(...block);
    }
  }
  return worst;
}

/** |log p(x) from the backend − Σ conditionals computed in JS| over random rows (per 100 nats once |log p| > 100). */
export function sumOfConditionalsGap(m: ExplicitModel, rng: Rng, rows = 4): number {
  const D = m.dim;
  const ks = elementOutcomes(m);
  const X = new Float32Array(rows * D);
  for (let i = 0; i < X.length; i++) X[i] = rng.int(ks[i % D]);
  const lp = logProbs(m, X);
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    const js = m.logProbJs(X.subarray(r * D, (r + 1) * D));
    // Past 100 nats the gap is relative (per 100 nats): float32 sums of a large network's
    // hundreds of conditionals carry rounding proportional to the total.
    worst = Math.max(worst, Math.abs(lp[r] - js) / Math.max(1, Math.abs(js) / 100));
  }
  return worst;
}

/**
 * For every parent removed by `assume`, changing its value leaves the conditional unchanged.
 * Returns the largest change seen and where.
 */
export function assumptionGap(m: ExplicitModel, rng: Rng, trials = 4): { gap: number; where?: string } {
  const ks = elementOutcomes(m);
  let worst = 0;
  let where: string | undefined;
  const steps = m.ir.derivation.slice(0, 64);
  for (const s of steps) {
    const removed = Array.from(s.before).filter((p) => !s.after.includes(p));
    const mod = m.modules[m.ir.factorOf[s.element]];
    const position = m.ir.positionOf[s.element];
    for (let t = 0; t < trials; t++) {
      const row = new Float32Array(m.dim);
      for (let i = 0; i < m.dim; i++) row[i] = rng.int(ks[i]);
      const a = mod.conditional(position, row);
      for (const p of removed) row[p] = rng.int(ks[p]);
      const b = mod.conditional(position, row);
      for (let o = 0; o < a.length; o++) {
        const d = Math.abs(a[o] - b[o]);
        if (d > worst) {
          worst = d;
          where = `${elementName(m.ir.variables, s.element)} changed with ${removed.map((p) => elementName(m.ir.variables, p)).join(", ")}`;
        }
      }
    }
  }
  return { gap: worst, where };
}

/** Regularized upper incomplete gamma Q(a, x) (Numerical Recipes' gser/gcf). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnGammaA = lnGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let del = sum;
    let ap = a;
    for (let n = 0; n < 1000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-14) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - lnGammaA);
  }
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-14) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGammaA) * h;
}

function lnGamma(z: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  z -= 1;
  let x = c[0];
  for (let i = 1; i < g + 2; i++) x += c[i] / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

/**
 * Chi-square goodness of fit of `n` samples against the exact distribution (enumerable models):
 * cells with expected count < 5 are pooled. Returns the statistic, degrees of freedom and p-value.
 */
export function samplingChiSquare(
  m: ExplicitModel,
  n: number,
  seed: number,
): { stat: number; dof: number; pValue: number } {
  const X = enumerate(m);
  const lp = logProbs(m, X);
  const ks = elementOutcomes(m);
  const D = m.dim;
  const counts = new Float64Array(lp.length);
  const s = m.sample(n, seed);
  for (let i = 0; i < n; i++) {
    let idx = 0;
    for (let j = 0; j < D; j++) idx = idx * ks[j] + s[i * D + j];
    counts[idx]++;
  }
  let stat = 0;
  let cells = 0;
  let poolE = 0;
  let poolO = 0;
  for (let i = 0; i < lp.length; i++) {
    const e = n * Math.exp(lp[i]);
    if (e < 5) {
      poolE += e;
      poolO += counts[i];
      continue;
    }
    stat += (counts[i] - e) ** 2 / e;
    cells++;
  }
  if (poolE > 0) {
    stat += (poolO - poolE) ** 2 / Math.max(poolE, 1e-12);
    cells++;
  }
  const dof = Math.max(1, cells - 1);
  return { stat, dof, pValue: gammaQ(dof / 2, stat / 2) };
}

/** Options of `verifyModel`. */
export interface VerifyOptions {
  /** Random parameter draws per property. */
  runs?: number;
  /** fast-check seed (reproducible). */
  seed?: number;
  /** Samples for the chi-square test. */
  samples?: number;
}

function runProperty(
  name: string,
  runs: number,
  seed: number,
  check: (s: number) => void,
  detail: string,
): PropertyResult {
  try {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 30 }), (s) => check(s)),
      { numRuns: runs, seed },
    );
    return { name, status: "passed", detail };
  } catch (e) {
    return { name, status: "failed", detail: (e as Error).message };
  }
}

/** Runs every property that applies to `m`. Parameters are overwritten with random ones. */
export function verifyModel(m: ExplicitModel, opts: VerifyOptions = {}): PropertyResult[] {
  const runs = opts.runs ?? 20;
  const seed = opts.seed ?? 42;
  const small = jointSize(m) !== Infinity;
  const out: PropertyResult[] = [];
  if (small) {
    out.push(
      runProperty(
        "normalization",
        runs,
        seed,
        (s) => {
          randomize(m, s);
          const total = totalProbability(m);
          if (Math.abs(total - 1) > 1e-5) throw new Error(`Σ p(x) = ${total} with parameters drawn from seed ${s}`);
        },
        `Σ_x p(x) = 1 within 1e-5 over all ${jointSize(m)} outcomes`,
      ),
    );
    out.push(
      runProperty(
        "chain rule",
        runs,
        seed,
        (s) => {
          randomize(m, s);
          const gap = chainRuleGap(m, new Rng(s));
          if (gap > 1e-5) throw new Error(`a conditional differs from the marginalized joint by ${gap} (seed ${s})`);
        },
        "each conditional equals the marginalized joint within 1e-5",
      ),
    );
  } else {
    out.push({
      name: "normalization",
      status: "skipped",
      detail: `${m.dim} elements: too many outcomes to enumerate (limit ${ENUMERATION_LIMIT}); each conditional is a softmax, normalized by construction`,
    });
  }
  out.push(
    runProperty(
      "sum of conditionals",
      Math.min(runs, small ? runs : 3),
      seed,
      (s) => {
        randomize(m, s);
        const gap = sumOfConditionalsGap(m, new Rng(s), small ? 8 : 2);
        if (gap > 1e-3) throw new Error(`log p(x) differs from the sum of its conditionals by ${gap} nats (seed ${s})`);
      },
      "log p(x) equals Σ_i log p(x_i | parents) within 1e-3 nats (per 100 nats past 100)",
    ),
  );
  if (m.ir.derivation.length) {
    out.push(
      runProperty(
        "assumptions",
        runs,
        seed,
        (s) => {
          randomize(m, s);
          const { gap, where } = assumptionGap(m, new Rng(s));
          if (gap > 1e-6) throw new Error(`${where}: the conditional moved by ${gap} (seed ${s})`);
        },
        `${m.ir.derivation.length} parent(s) removed by assume never change a conditional`,
      ),
    );
  } else out.push({ name: "assumptions", status: "skipped", detail: "no `assume` removed a parent" });
  if (small && jointSize(m) <= 4096) {
    const n = opts.samples ?? 20000;
    randomize(m, seed);
    const r = samplingChiSquare(m, n, seed);
    out.push({
      name: "sampling",
      status: r.pValue > 1e-4 ? "passed" : "failed",
      detail: `chi-square of ${n} samples: ${r.stat.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toExponential(2)} (fails below 1e-4)`,
    });
  } else out.push({ name: "sampling", status: "skipped", detail: "too many outcomes for a chi-square test" });
  return out;
}

/**
 * What `gm verify` checks for one model of a file: builds it through `buildModel` (kind and
 * memory checks first) and runs every property that applies, or says why none do (an implicit
 * model has no density; a kind gm does not build yet). The model is disposed afterwards.
 */
export function verifyIr(
  ir: ModelIR,
  opts: VerifyOptions & { backend?: string } = {},
): { skipped?: string; results: PropertyResult[] } {
  if (ir.kind === "implicit") return { skipped: "an implicit model has no density to verify", results: [] };
  let model: GenerativeModel;
  try {
    model = buildModel(ir, { seed: opts.seed ?? 42, backend: opts.backend });
  } catch (e) {
    if (e instanceof ModelError && e.code === "M0103" && ir.kind !== "explicit")
      return { skipped: `${ir.kind === "latent" ? "latent-variable" : ir.kind} models are not built yet`, results: [] };
    throw e;
  }
  try {
    if (model instanceof Vae) {
      randomizeVae(model, opts.seed ?? 42);
      return { results: verifyVae(model, opts) };
    }
    if (!(model instanceof ExplicitModel))
      return {
        skipped: `gm verify checks the factor networks of explicit densities; model ${ir.name} ${ir.kind === "explicit" ? "sums discrete latent variables out (checked by tests/models/mixture.test.ts)" : `is ${ir.kind === "latent" ? "a latent-variable model without a likelihood bound (an autoencoder or AAE: checked by tests/models/aae.test.ts)" : `${ir.kind} (checked by tests/models/vae.test.ts and aae.test.ts)`}`}`,
        results: [],
      };
    return { results: verifyModel(model, opts) };
  } finally {
    model.dispose();
  }
}

/** Options of `verifyVae`: sizes of the latent checks (defaults bound `gm verify` on a 784-pixel VAE). */
export interface VaeVerifyOptions {
  /** Inputs x checked (default 3, at most `runs`). */
  inputs?: number;
  /** Seed of the inputs and of every draw of noise. */
  seed?: number;
  /** Runs of `gm verify`: at most this many inputs. */
  runs?: number;
  /** Importance samples of the bounds property (default 16). */
  K?: number;
  /** Independent draws of each estimate (default 200). */
  draws?: number;
  /** Grid points per axis for log p(x), odd (default 129 for d = 2, 4001 for d = 1). */
  gridPoints?: number;
  /** Half-width of the grid: [−L, L]^d (default 8). */
  gridHalfWidth?: number;
  /** Monte-Carlo samples of the KL property (default 4000). */
  klSamples?: number;
}

/** The importance-sample counts of the monotone property. */
export const MONOTONE_K = [1, 4, 16] as const;

/** Largest latent dimension whose log p(x) `verifyVae` integrates on a grid. */
export const GRID_MAX_DIM = 2;

/** Largest difference (nats) between the grid's two step sizes with which log p(x) is still compared. */
export const GRID_TOLERANCE = 1;

/** Float32 slack of a comparison of log-likelihoods near `v` nats: 1e-3, per 100 nats past 100. */
function slack(v: number): number {
  return 1e-3 * Math.max(1, Math.abs(v) / 100);
}

/**
 * Random weights for a VAE (seeded): every weight matrix normal with standard deviation
 * gain / √fan-in (fan-in = all axes but the last), every bias normal with standard deviation
 * gain / 2. Logits and the encoder's outputs are then of order `gain` whatever the width — a
 * 784-pixel decoder stays smooth enough in z for the grid — while the code distribution q(z | x)
 * is far from N(0, I) (a KL of a few nats per dimension), which a network's initial weights
 * (zero biases, small kernels: a KL near 0) are not.
 */
export function randomizeVae(vae: Vae, seed: number, gain = 1): void {
  vae.variables.forEach((v, i) => {
    const fanIn = v.shape.length > 1 ? v.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 4;
    v.assign(tf.randomNormal(v.shape, 0, gain / Math.sqrt(fanIn), "float32", tfSeed(deriveSeed(seed, 31 + i))));
  });
  vae.invalidate();
}

/** One row drawn uniformly from the observed domain of `vae` (declaration order of its columns). */
export function randomInput(vae: Vae, rng: Rng): Float32Array {
  const x = new Float32Array(vae.dim);
  let c = 0;
  for (const v of vae.observed)
    for (let i = 0; i < v.size; i++, c++) {
      const d = v.domain;
      x[c] =
        d.kind === "bernoulli"
          ? rng.int(2)
          : d.kind === "categorical"
            ? rng.int(d.k)
            : d.kind === "real"
              ? d.lo + (d.hi - d.lo) * rng.uniform()
              : rng.normal();
    }
  return x;
}

const fmt = (v: number) => v.toFixed(4);
const pm = ([m, se]: MeanSe) => `${fmt(m)} ± ${se.toExponential(1)}`;

/**
 * The VAE's properties on `vae` with its current weights (`verifyIr` draws them first): bounds, monotone, KL, each
 * over `inputs` random inputs; a failure names the input and the numbers. Noise through `seed`.
 */
export function verifyVae(vae: Vae, opts: VaeVerifyOptions = {}): PropertyResult[] {
  const seed = opts.seed ?? 42;
  const inputs = Math.max(1, Math.min(opts.inputs ?? 3, opts.runs ?? Infinity));
  const K = opts.K ?? 16;
  const R = opts.draws ?? 200;
  const N = opts.klSamples ?? 4000;
  const d = vae.layout.zdim;
  const L = opts.gridHalfWidth ?? 8;
  const points = opts.gridPoints ?? (d === 1 ? 4001 : 129);
  const rng = new Rng(deriveSeed(seed, 0x7e5));
  const xs = Array.from({ length: inputs }, () => randomInput(vae, rng));
  const on = `${inputs} random input${inputs > 1 ? "s" : ""}`;
  const out: PropertyResult[] = [];

  // 1. ELBO ≤ IWAE_K ≤ log p(x).
  {
    const fails: string[] = [];
    const unresolved: string[] = [];
    let worstGrid = 0;
    xs.forEach((x, i) => {
      const { iwae, elbo } = draws(vae, x, K, R, deriveSeed(seed, 100 + i));
      if (elbo[0] > iwae[0] + 4 * Math.hypot(elbo[1], iwae[1]) + slack(iwae[0]))
        fails.push(`input ${i + 1}: ELBO ${pm(elbo)} above IWAE_${K} ${pm(iwae)}`);
      if (d > GRID_MAX_DIM) return;
      const { fine, coarse } = logMarginalTwoSteps(vae, x, d, { lo: -L, points });
      const gridError = Math.abs(fine - coarse);
      // The finer sum is the estimate; its difference from the coarser one bounds its error
      // (a Riemann sum of a smooth integrand converges fast) and widens the comparison.
      worstGrid = Math.max(worstGrid, gridError);
      if (gridError > GRID_TOLERANCE) {
        unresolved.push(`input ${i + 1} (${fmt(fine)} vs ${fmt(coarse)} at twice the step)`);
        return;
      }
      if (iwae[0] > fine + 4 * iwae[1] + gridError + slack(fine))
        fails.push(
          `input ${i + 1}: IWAE_${K} ${pm(iwae)} above log p(x) = ${fmt(fine)} (grid error ${gridError.toExponential(1)})`,
        );
    });
    const grid =
      d > GRID_MAX_DIM
        ? `; log p(x) is not integrated above d = ${GRID_MAX_DIM} (d = ${d}): ELBO ≤ IWAE_${K} only`
        : `; log p(x) on a ${d === 1 ? points : `${points} × ${points}`} grid over [−${L}, ${L}]${d === 2 ? "²" : ""} (differs by ${worstGrid.toExponential(1)} nats at twice the step)` +
          (unresolved.length ? ` (not resolved, so ELBO ≤ IWAE_${K} only, for ${unresolved.join(", ")})` : "");
    const what = `ELBO ≤ IWAE_${K}${d > GRID_MAX_DIM ? "" : " ≤ log p(x)"} within 4 standard errors, ${R} draws each, ${on}${grid}`;
    out.push(
      fails.length
        ? { name: "bounds", status: "failed", detail: `${fails.join("; ")} (${what})` }
        : { name: "bounds", status: "passed", detail: what },
    );
  }

  // 2. The mean of IWAE_K does not decrease in K.
  {
    const fails: string[] = [];
    xs.forEach((x, i) => {
      let prev: { K: number; v: MeanSe } | undefined;
      for (const k of MONOTONE_K) {
        const { iwae } = draws(vae, x, k, R, deriveSeed(seed, 200 + 10 * i + k));
        if (prev && iwae[0] < prev.v[0] - 4 * Math.hypot(prev.v[1], iwae[1]) - slack(iwae[0]))
          fails.push(`input ${i + 1}: IWAE_${k} ${pm(iwae)} below IWAE_${prev.K} ${pm(prev.v)}`);
        prev = { K: k, v: iwae };
      }
    });
    const what = `mean IWAE_K over ${R} draws does not decrease in K = ${MONOTONE_K.join(", ")} (4 standard errors), ${on}`;
    out.push(
      fails.length
        ? { name: "monotone", status: "failed", detail: `${fails.join("; ")} (${what})` }
        : { name: "monotone", status: "passed", detail: what },
    );
  }

  // 3. Closed-form KL against Monte Carlo.
  {
    const fails: string[] = [];
    const kls: number[] = [];
    xs.forEach((x, i) => {
      const { closed, mc } = klCheck(vae, x, N, deriveSeed(seed, 300 + i));
      kls.push(closed);
      if (!(Math.abs(closed - mc[0]) <= 5 * mc[1] + slack(closed)))
        fails.push(`input ${i + 1}: closed form ${fmt(closed)}, Monte Carlo ${pm(mc)}`);
    });
    const what = `closed-form KL(q(z|x) ‖ N(0, I)) equals E_q[log q − log p(z)] from ${N} samples within 5 standard errors, ${on} (closed form ${kls.map((k) => k.toFixed(2)).join(", ")} nats)`;
    out.push(
      fails.length
        ? { name: "KL", status: "failed", detail: `${fails.join("; ")} (${what})` }
        : { name: "KL", status: "passed", detail: what },
    );
  }
  return out;
}
