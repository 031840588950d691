/**
 * Discrete latent variables summed out exactly: a Bayesian network of tables over observed
 * elements x and latent discrete elements c (`latent c : Categorical(k)`, no encoder), whose
 * density is the marginal
 *
 *   p(x) = Σ_c p(c) p(x | c) = Σ_c Π_t p(v_t | pa(v_t))          (every table, c fixed to each value)
 *
 * — with `p(c) = table` and `for i in 1..n: p(x[i] | c) = table` the mixture of Bernoullis
 * (Everitt & Hand 1981; the binarized-MNIST baseline of Larochelle & Murray 2011). The sum runs
 * over every joint value of the latent elements (at most MAX_CONFIGS), so log p(x) is exact.
 *
 * Training: expectation–maximization in closed form (Dempster, Laird & Rubin 1977):
 *   E-step  r_n(c) = p(c | x_n) = exp(log p(x_n, c) − log p(x_n))
 *   M-step  θ_{t,row,o} ∝ α + Σ_n Σ_c r_n(c) [v_t = o, pa(v_t) = row under (x_n, c)]
 * i.e. the maximum a posteriori tables under a symmetric Dirichlet(1 + α) prior (α: the run's
 * Laplace smoothing), so every iteration raises Σ_n log p(x_n) + α Σ log θ (monotone; tested).
 * Symmetric tables are a fixed point of EM, so the first M-step uses seeded random
 * responsibilities. EM stops when the mean log-likelihood gains less than 1e-4 nats per example
 * or after MAX_EM_ITERATIONS.
 *
 * Tables store, per row, k − 1 logits with outcome 0 as the reference, as ./table.ts does, so
 * the parameter count is the compiler's. `encode()` returns the posterior p(c | x) over the
 * joint latent values; `sample()` is ancestral (latent elements included, then dropped).
 * Conditionals other than tables under a discrete latent (mlp, logistic) are not built yet.
 */
import * as tf from "@tensorflow/tfjs";
import { ElementGraph } from "../compiler/graph";
import { outcomes, type ModelIR, type VariableIR } from "../compiler/ir";
import { deriveSeed, Rng } from "../rng";
import { checkWidth, latentLayout, logSumExp, type LatentLayout } from "./latent";
import { newInstancePrefix } from "./lookup";
import type { GenerativeModel, Objective, ScoreResult } from "./model";
import { ModelError } from "./types";

/** Largest number of joint latent values summed over. */
export const MAX_CONFIGS = 4096;

/** EM's iteration cap. */
export const MAX_EM_ITERATIONS = 50;

/** Table families (fitted in closed form). */
const TABLE_FAMILIES = new Set(["joint", "independent", "table", "chain", "markov"]);

/** One conditional table over elements (observed or latent). */
interface Table {
  targets: number[];
  targetK: number[];
  K: number;
  parents: number[];
  parentK: number[];
  rows: number;
  paramOffset: number;
  probOffset: number;
  /** Whether a latent element is among its targets or parents (its entry changes with c). */
  latent: boolean;
}

/** A model with discrete latent variables summed out exactly (kind "explicit"). */
export class DiscreteLatentModel implements GenerativeModel {
  readonly kind = "explicit" as const;
  readonly layout: LatentLayout;
  readonly observed: readonly VariableIR[];
  readonly dim: number;
  readonly state: tf.Variable[] = [];
  readonly variables: tf.Variable[];
  /** Latent element ids, and their outcome counts. */
  readonly latentElements: number[];
  readonly latentK: number[];
  /** Number of joint latent values. */
  readonly configs: number;
  private readonly tables: Table[] = [];
  /** Tables in an order where every parent is drawn before its child. */
  private readonly sampleOrder: Table[];
  private readonly theta: tf.Variable;
  private logp: Float64Array;
  /**
   * The fast path: tables with one observed target whose parents are all latent (a mixture's
   * pixels). `fastColumn[j]` is the target's data column, `fastBase[c·F + j]` the first entry
   * of its row when the latent elements take joint value c.
   */
  private readonly fastColumn: Int32Array;
  private readonly fastBase: Int32Array;
  /** The other tables that involve a latent element (entry computed from a full row). */
  private readonly slowLatent: Table[];
  /** Mean training log-likelihood after each EM iteration (for tests and the log). */
  history: number[] = [];

  constructor(
    readonly ir: ModelIR,
    readonly seed = 1,
  ) {
    this.layout = latentLayout(ir);
    this.observed = this.layout.observed;
    this.dim = this.layout.dim;
    this.latentElements = [];
    this.latentK = [];
    for (const v of this.layout.latent) {
      const k = outcomes(v.domain);
      if (k === null)
        throw new ModelError(
          `model ${ir.name}: \`${v.name}\` is a continuous latent variable; only discrete ones are summed out`,
          "M0103",
        );
      for (let i = 0; i < v.size; i++) {
        this.latentElements.push(v.offset + i);
        this.latentK.push(k);
      }
    }
    const configs = this.latentK.reduce((a, k) => a * k, 1);
    if (configs > MAX_CONFIGS) {
      throw new ModelError(
        `model ${ir.name}: summing out its latent variables means ${configs.toLocaleString("en-US")} joint values; gm sums at most ${MAX_CONFIGS.toLocaleString("en-US")}`,
        "M0101",
        "use fewer or smaller discrete latent variables",
      );
    }
    this.configs = configs;
    const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
    const kOf = (e: number) => outcomes(ir.variables.find((v) => e >= v.offset && e < v.offset + v.size)!.domain) ?? 0;
    const isLatent = (e: number) => this.layout.zpos[e] >= 0;
    let params = 0;
    let probs = 0;
    for (const f of ir.factors) {
      if (!TABLE_FAMILIES.has(f.family)) {
        throw new ModelError(
          `\`${f.source}\`: under a discrete latent variable gm builds tables (fitted by EM); \`${f.family}\` conditionals are not built yet`,
          "M0103",
          "write the conditionals as `table`",
        );
      }
      const push = (targets: number[], parents: number[]) => {
        const targetK = targets.map(kOf);
        const parentK = parents.map(kOf);
        const K = targetK.reduce((a, b) => a * b, 1);
        const rows = parentK.reduce((a, b) => a * b, 1);
        if (!Number.isSafeInteger(rows * K) || rows * K > 64 * 1024 * 1024)
          throw new ModelError(
            `\`${f.source}\` needs ${rows * K} table entries; gm stores at most 67,108,864`,
            "M0101",
          );
        this.tables.push({
          targets,
          targetK,
          K,
          parents,
          parentK,
          rows,
          paramOffset: params,
          probOffset: probs,
          latent: [...targets, ...parents].some(isLatent),
        });
        params += rows * (K - 1);
        probs += rows * K;
      };
      if (f.family === "joint") push(Array.from(f.targets), Array.from(f.context));
      else for (const t of f.targets) push([t], Array.from(g.parents(t)));
    }
    this.sampleOrder = topological(this.tables);
    const fast = this.tables.filter(
      (t) => t.latent && t.targets.length === 1 && !isLatent(t.targets[0]) && t.parents.every(isLatent),
    );
    this.slowLatent = this.tables.filter((t) => t.latent && !fast.includes(t));
    this.fastColumn = Int32Array.from(fast, (t) => this.layout.column[t.targets[0]]);
    this.fastBase = new Int32Array(configs * fast.length);
    const row = new Float64Array(ir.n);
    for (let c = 0; c < configs; c++) {
      this.setConfig(c, row);
      fast.forEach((t, j) => (this.fastBase[c * fast.length + j] = this.rowBase(t, row)));
    }
    this.theta = tf.variable(tf.zeros([params]), false, `${newInstancePrefix()}/mixture/theta`);
    this.variables = [this.theta];
    this.logp = new Float64Array(probs);
    this.refresh();
  }

  paramCount(): number {
    return this.theta.size;
  }

  /** Recomputes the normalized log-probabilities from the logits (after EM or a checkpoint load). */
  private refresh(): void {
    const theta = this.theta.dataSync();
    for (const t of this.tables) {
      for (let r = 0; r < t.rows; r++) {
        const p = t.paramOffset + r * (t.K - 1);
        const logits = [0, ...Array.from({ length: t.K - 1 }, (_, o) => theta[p + o])];
        const lse = logSumExp(logits);
        for (let o = 0; o < t.K; o++) this.logp[t.probOffset + r * t.K + o] = logits[o] - lse;
      }
    }
  }

  /** Fills a full row (every element) from data row `i` of `x`. */
  private fullRow(x: Float32Array, i: number, row: Float64Array): void {
    const { column } = this.layout;
    for (let e = 0; e < row.length; e++) if (column[e] >= 0) row[e] = x[i * this.dim + column[e]];
  }

  /** Writes joint latent value `c` (mixed radix over the latent elements) into a full row. */
  private setConfig(c: number, row: Float64Array): void {
    for (let j = this.latentElements.length - 1; j >= 0; j--) {
      row[this.latentElements[j]] = c % this.latentK[j];
      c = Math.floor(c / this.latentK[j]);
    }
  }

  /** The index (into `logp` / counts) of the first entry of table t's row for the parents in a full row. */
  private rowBase(t: Table, row: Float64Array): number {
    let r = 0;
    for (let j = 0; j < t.parents.length; j++) r = r * t.parentK[j] + row[t.parents[j]];
    return t.probOffset + r * t.K;
  }

  /** The entry index (into `logp` / counts) of table t for a full row. */
  private entry(t: Table, row: Float64Array): number {
    let o = 0;
    for (let j = 0; j < t.targets.length; j++) o = o * t.targetK[j] + row[t.targets[j]];
    return this.rowBase(t, row) + o;
  }

  /**
   * log p(x_i, c) for every joint latent value c of data row i, into `out` (length `configs`);
   * returns log p(x_i) = log Σ_c exp(out[c]).
   */
  private joint(x: Float32Array, i: number, row: Float64Array, out: Float64Array): number {
    this.fullRow(x, i, row);
    let fixed = 0;
    for (const t of this.tables) if (!t.latent) fixed += this.logp[this.entry(t, row)];
    const F = this.fastColumn.length;
    const xi = i * this.dim;
    for (let c = 0; c < this.configs; c++) {
      this.setConfig(c, row);
      let s = fixed;
      const base = c * F;
      for (let j = 0; j < F; j++) s += this.logp[this.fastBase[base + j] + x[xi + this.fastColumn[j]]];
      for (const t of this.slowLatent) s += this.logp[this.entry(t, row)];
      out[c] = s;
    }
    return logSumExp(out);
  }

  /** Exact log p(x) per example. */
  logLikelihoods(x: Float32Array, n: number): Float64Array {
    checkWidth(this.ir, x, n, this.dim);
    const row = new Float64Array(this.ir.n);
    const lj = new Float64Array(this.configs);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.joint(x, i, row, lj);
    return out;
  }

  score(x: Float32Array, n: number): ScoreResult {
    return { values: this.logLikelihoods(x, n), kind: "exact" };
  }

  /** The posterior p(c | x) over the joint latent values: n × configs. */
  encode(x: Float32Array, n: number): { codes: Float32Array; dim: number } {
    checkWidth(this.ir, x, n, this.dim);
    const row = new Float64Array(this.ir.n);
    const lj = new Float64Array(this.configs);
    const codes = new Float32Array(n * this.configs);
    for (let i = 0; i < n; i++) {
      const lp = this.joint(x, i, row, lj);
      for (let c = 0; c < this.configs; c++) codes[i * this.configs + c] = Math.exp(lj[c] - lp);
    }
    return { codes, dim: this.configs };
  }

  /**
   * One EM iteration on n rows: the E-step with the current tables (returns the mean
   * log-likelihood under them), then the M-step. `responsibilities` replaces the E-step's
   * (the seeded random start).
   */
  emStep(x: Float32Array, n: number, smoothing: number, responsibilities?: Float64Array): number {
    const counts = new Float64Array(this.logp.length);
    const row = new Float64Array(this.ir.n);
    const lj = new Float64Array(this.configs);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const lp = this.joint(x, i, row, lj);
      total += lp;
      for (const t of this.tables) if (!t.latent) counts[this.entry(t, row)] += 1;
      for (let c = 0; c < this.configs; c++) {
        const r = responsibilities ? responsibilities[i * this.configs + c] : Math.exp(lj[c] - lp);
        if (r === 0) continue;
        this.setConfig(c, row);
        const F = this.fastColumn.length;
        for (let j = 0; j < F; j++) counts[this.fastBase[c * F + j] + x[i * this.dim + this.fastColumn[j]]] += r;
        for (const t of this.slowLatent) counts[this.entry(t, row)] += r;
      }
    }
    const theta = new Float32Array(this.theta.size);
    for (const t of this.tables) {
      for (let r = 0; r < t.rows; r++) {
        const q = t.probOffset + r * t.K;
        const ref = Math.log(counts[q] + smoothing);
        for (let o = 1; o < t.K; o++)
          theta[t.paramOffset + r * (t.K - 1) + o - 1] = Math.log(counts[q + o] + smoothing) - ref;
      }
    }
    this.theta.assign(tf.tensor1d(theta));
    this.refresh();
    return total / n;
  }

  /** The MAP objective EM raises: mean log-likelihood + (α / n) Σ over every table entry of log θ. */
  penalizedObjective(x: Float32Array, n: number, smoothing: number): number {
    const ll = this.logLikelihoods(x, n).reduce((a, b) => a + b, 0);
    let prior = 0;
    for (const v of this.logp) prior += v;
    return (ll + smoothing * prior) / n;
  }

  /** EM from seeded random responsibilities until the gain is below `tol` nats per example. */
  fitEm(
    x: Float32Array,
    n: number,
    smoothing: number,
    options: { maxIterations?: number; tol?: number; onIteration?: (i: number, ll: number) => void } = {},
  ): number {
    checkWidth(this.ir, x, n, this.dim);
    if (n === 0) throw new ModelError(`model ${this.ir.name}: EM needs training examples`, "M0104");
    const rng = new Rng(deriveSeed(this.seed, 31));
    const start = new Float64Array(n * this.configs);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < this.configs; c++) s += start[i * this.configs + c] = rng.uniform() + 1e-3;
      for (let c = 0; c < this.configs; c++) start[i * this.configs + c] /= s;
    }
    this.emStep(x, n, smoothing, start);
    this.history = [];
    const max = options.maxIterations ?? MAX_EM_ITERATIONS;
    const tol = options.tol ?? 1e-4;
    let iterations = 0;
    for (let it = 0; it < max; it++) {
      const ll = this.emStep(x, n, smoothing);
      iterations++;
      this.history.push(ll);
      options.onIteration?.(it + 1, ll);
      if (it > 0 && ll - this.history[it - 1] < tol) break;
    }
    return iterations;
  }

  objective(_settings: { lr: number }): Objective {
    return {
      steps: [],
      primary: "nll",
      fitClosedForm: (x, n, { smoothing }) => {
        const iterations = this.fitEm(x, n, smoothing);
        const last = this.history[this.history.length - 1];
        return `fitted ${this.tables.length} tables by EM over ${this.configs} latent values in ${iterations} iterations (train NLL ${(-last).toFixed(2)} nats before the last M-step; Laplace smoothing α = ${smoothing})`;
      },
      evaluate: (x, n) => {
        const v = this.logLikelihoods(x, n);
        return { nll: -v.reduce((a, b) => a + b, 0) / Math.max(n, 1) };
      },
    };
  }

  /** Ancestral samples of the observed elements (latent ones drawn, then dropped). */
  sample(n: number, seed: number): Float32Array {
    const rng = new Rng(seed);
    const out = new Float32Array(n * this.dim);
    const row = new Float64Array(this.ir.n);
    for (let i = 0; i < n; i++) {
      for (const t of this.sampleOrder) {
        const base = this.rowBase(t, row);
        const u = rng.uniform();
        let acc = 0;
        let o = t.K - 1;
        for (let j = 0; j < t.K; j++) {
          acc += Math.exp(this.logp[base + j]);
          if (u < acc) {
            o = j;
            break;
          }
        }
        for (let j = t.targets.length - 1; j >= 0; j--) {
          row[t.targets[j]] = o % t.targetK[j];
          o = Math.floor(o / t.targetK[j]);
        }
      }
      for (let e = 0; e < this.ir.n; e++)
        if (this.layout.column[e] >= 0) out[i * this.dim + this.layout.column[e]] = row[e];
    }
    return out;
  }

  invalidate(): void {
    this.refresh();
  }

  dispose(): void {
    this.theta.dispose();
  }
}

/** Orders tables so that each one's parents are targets of earlier tables. */
function topological(tables: Table[]): Table[] {
  const owner = new Map<number, Table>();
  for (const t of tables) for (const e of t.targets) owner.set(e, t);
  const done = new Set<Table>();
  const out: Table[] = [];
  const visit = (t: Table, depth: number) => {
    if (done.has(t)) return;
    if (depth > tables.length) throw new ModelError("the tables depend on each other in a cycle", "M0105");
    for (const p of t.parents) {
      const o = owner.get(p);
      if (o && o !== t) visit(o, depth + 1);
    }
    done.add(t);
    out.push(t);
  };
  for (const t of tables) visit(t, 0);
  return out;
}

/** True when `ir` is explicit but has latent (discrete) variables to sum out. */
export function hasDiscreteLatents(ir: ModelIR): boolean {
  return ir.kind === "explicit" && ir.variables.some((v) => v.latent);
}

/** Builds the model of an explicit IR with discrete latent variables. */
export function buildDiscreteLatentModel(ir: ModelIR, seed: number): DiscreteLatentModel {
  return new DiscreteLatentModel(ir, seed);
}
