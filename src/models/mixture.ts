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
 *
 * Network conditionals (`for i in 1..n: p(x[i] | c) = mlp(hidden = [..])`, `logistic`, …) are the
 * registry's modules, read on full rows (the latent elements set to each joint value c in turn).
 * With any of them the model trains by gradient: one step `nll` = −mean log Σ_c p(x, c) over
 * the networks' weights (Adam), and after each step the tables take an online-EM update from
 * that batch's posteriors (Cappé & Moulines 2009): s ← (1 − ρ_t) s + ρ_t · s_batch,
 * ρ_t = (t + 2)^−0.6, tables = the MAP of N·s + α; `fitClosedForm` starts s with five
 * full-data EM iterations of the tables (networks at their initial weights). s, t, N and α are
 * the model's `state` (saved in checkpoints), so a resumed run updates the tables as an
 * uninterrupted one does, bit for bit (tests/cli/latent-process.test.ts).
 * Divergence (R0101, ./divergence.ts): the `nll` step above 100 × the uniform NLL of every
 * element (latent ones included), or not finite, ends the run; EM in closed form cannot diverge.
 */
import * as tf from "@tensorflow/tfjs";
import { ElementGraph } from "../compiler/graph";
import { outcomes, type ModelIR, type VariableIR } from "../compiler/ir";
import { deriveSeed, Rng } from "../rng";
import { checkWidth, latentLayout, logSumExp, type LatentLayout } from "./latent";
import { likelihoodDivergence } from "./divergence";
import { newInstancePrefix, outcomesOf } from "./lookup";
import type { GenerativeModel, Objective, ScoreResult, TrainStep } from "./model";
import { familyEntry } from "./families";
import { drawTargets, logitsFromCounts, outcomeOf, rowOf, type Table as TableLayout } from "./table";
import { ModelError, type FactorModule } from "./types";

/** Largest number of joint latent values summed over. */
export const MAX_CONFIGS = 4096;

/** EM's iteration cap. */
export const MAX_EM_ITERATIONS = 50;

/** Table families (fitted in closed form). */
const TABLE_FAMILIES = new Set(["joint", "independent", "table", "chain", "markov"]);

/** One conditional table over elements (observed or latent). */
interface Table extends TableLayout {
  /** Whether a latent element is among its targets or parents (its entry changes with c). */
  latent: boolean;
}

/** A model with discrete latent variables summed out exactly (kind "explicit"). */
export class DiscreteLatentModel implements GenerativeModel {
  readonly kind = "explicit" as const;
  readonly layout: LatentLayout;
  readonly observed: readonly VariableIR[];
  readonly dim: number;
  /**
   * With network conditionals: the tables' online-EM state (`emState`), saved in checkpoints so that a
   * resumed run keeps updating the tables as an uninterrupted one does. Empty without networks.
   */
  readonly state: tf.Variable[];
  readonly variables: tf.Variable[];
  /** Latent element ids, and their outcome counts. */
  readonly latentElements: number[];
  readonly latentK: number[];
  /** Number of joint latent values. */
  readonly configs: number;
  private readonly tables: Table[] = [];
  /** Tables and network modules in an order where every parent is drawn before its child. */
  private readonly sampleOrder: (Table | FactorModule)[];
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
  /** Network conditionals (registry modules over full rows), trained by gradient. */
  readonly networks: FactorModule[] = [];
  /** Online-EM state of the tables when networks are present: expected counts per example. */
  private stats?: Float64Array;
  private trainN = 0;
  private smoothing = 1;
  private updates = 0;
  /**
   * [updates, trainN, smoothing, ...stats] as float64 values, each stored exactly as four 16-bit
   * pieces (little-endian) in a float32 variable: written whenever they change, read back by
   * `invalidate()` (after a checkpoint load). trainN = 0: EM has not started the tables yet.
   */
  private readonly emState?: tf.Variable;
  /** The last gradient batch and its posteriors, for the tables' online-EM update. */
  private pending?: { x: Float32Array; n: number; r: Float64Array };

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
    const kOf = (e: number) => outcomesOf(ir, e);
    const isLatent = (e: number) => this.layout.zpos[e] >= 0;
    let params = 0;
    let probs = 0;
    const prefix = newInstancePrefix();
    for (const [i, f] of ir.factors.entries()) {
      if (!TABLE_FAMILIES.has(f.family)) {
        try {
          this.networks.push(familyEntry(f).build(f, ir, g, `${prefix}/f${i}_${f.family}`, seed * 1000 + i));
        } catch (e) {
          for (const m of this.networks) m.dispose();
          throw e;
        }
        continue;
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
    this.sampleOrder = topological(this.tables, this.networks, g);
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
    this.theta = tf.variable(tf.zeros([params]), false, `${prefix}/mixture/theta`);
    this.variables = [this.theta, ...this.networks.flatMap((m) => m.variables)];
    this.logp = new Float64Array(probs);
    if (this.networks.length)
      this.emState = tf.variable(tf.zeros([4 * (3 + probs)]), false, `${prefix}/mixture/online_em`);
    this.state = this.emState ? [this.emState] : [];
    this.refresh();
  }

  paramCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  /**
   * Σ over the network conditionals of log p(targets | parents) for data rows start … start + m − 1
   * with the latent elements set to every joint value c: [configs · m], c-major (null without
   * networks). Built as full rows on the backend.
   */
  private netTerms(x: Float32Array, start: number, m: number): tf.Tensor1D | null {
    if (this.networks.length === 0) return null;
    return tf.tidy(() => {
      const n = this.ir.n;
      const rows = new Float32Array(this.configs * m * n);
      const row = new Float64Array(n);
      for (let c = 0; c < this.configs; c++) {
        this.setConfig(c, row);
        for (let b = 0; b < m; b++) {
          this.fullRow(x, start + b, row);
          rows.set(row, (c * m + b) * n);
        }
      }
      const t = tf.tensor2d(rows, [this.configs * m, n]);
      return this.networks.map((mod) => mod.logProb(t)).reduce((a, b) => tf.add(a, b)) as tf.Tensor1D;
    });
  }

  /** {@link netTerms} read back to JavaScript. */
  private netValues(x: Float32Array, start: number, m: number): Float32Array | undefined {
    const t = this.netTerms(x, start, m);
    if (!t) return undefined;
    const v = t.dataSync() as Float32Array;
    t.dispose();
    return v;
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
  private rowBase(t: Table, row: ArrayLike<number>): number {
    return t.probOffset + rowOf(t, row) * t.K;
  }

  /** The entry index (into `logp` / counts) of table t for a full row. */
  private entry(t: Table, row: ArrayLike<number>): number {
    return this.rowBase(t, row) + outcomeOf(t, row);
  }

  /**
   * log p(x_i, c) for every joint latent value c of data row i, into `out` (length `configs`);
   * returns log p(x_i) = log Σ_c exp(out[c]).
   */
  private joint(
    x: Float32Array,
    i: number,
    row: Float64Array,
    out: Float64Array,
    net?: Float32Array,
    b = 0,
    m = 1,
  ): number {
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
      out[c] = net ? s + net[c * m + b] : s;
    }
    return logSumExp(out);
  }

  /**
   * Calls `fn(i, log p(x_i), lj, row)` for every data row, with lj[c] = log p(x_i, c) (networks
   * evaluated on the backend a chunk of rows at a time) and `row` the full row of x_i.
   */
  private forEachJoint(
    x: Float32Array,
    n: number,
    fn: (i: number, lp: number, lj: Float64Array, row: Float64Array) => void,
  ): void {
    const row = new Float64Array(this.ir.n);
    const lj = new Float64Array(this.configs);
    const chunk = Math.max(1, Math.floor(20_000 / this.configs));
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const net = this.netValues(x, start, m);
      for (let b = 0; b < m; b++) {
        const lp = this.joint(x, start + b, row, lj, net, b, m);
        fn(start + b, lp, lj, row);
      }
    }
  }

  /** Exact log p(x) per example. */
  logLikelihoods(x: Float32Array, n: number): Float64Array {
    checkWidth(this.ir, x, n, this.dim);
    const out = new Float64Array(n);
    this.forEachJoint(x, n, (i, lp) => (out[i] = lp));
    return out;
  }

  score(x: Float32Array, n: number): ScoreResult {
    return { values: this.logLikelihoods(x, n), kind: "exact" };
  }

  /** The posterior p(c | x) over the joint latent values: n × configs. */
  encode(x: Float32Array, n: number): { codes: Float32Array; dim: number } {
    checkWidth(this.ir, x, n, this.dim);
    const codes = new Float32Array(n * this.configs);
    this.forEachJoint(x, n, (i, lp, lj) => {
      for (let c = 0; c < this.configs; c++) codes[i * this.configs + c] = Math.exp(lj[c] - lp);
    });
    return { codes, dim: this.configs };
  }

  /**
   * One EM iteration on n rows: the E-step with the current tables (returns the mean
   * log-likelihood under them), then the M-step. `responsibilities` replaces the E-step's
   * (the seeded random start).
   */
  emStep(x: Float32Array, n: number, smoothing: number, responsibilities?: Float64Array): number {
    const { counts, total } = this.expectedCounts(x, n, responsibilities);
    this.setTables(counts, smoothing);
    return total / n;
  }

  /**
   * The tables' expected counts over n rows (the E-step; `responsibilities` replaces the
   * posterior) and Σ log p(x) under the current model.
   */
  private expectedCounts(
    x: Float32Array,
    n: number,
    responsibilities?: Float64Array,
  ): { counts: Float64Array; total: number } {
    const counts = new Float64Array(this.logp.length);
    let total = 0;
    this.forEachJoint(x, n, (i, lp, lj, row) => {
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
    });
    return { counts, total };
  }

  /** The M-step: tables = the MAP of `counts` + α (logits against outcome 0). */
  private setTables(counts: Float64Array, smoothing: number): void {
    this.theta.assign(tf.tensor1d(logitsFromCounts(this.tables, counts, smoothing, this.theta.size)));
    this.refresh();
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
    const evaluate = (x: Float32Array, n: number) => {
      const v = this.logLikelihoods(x, n);
      return { nll: -v.reduce((a, b) => a + b, 0) / Math.max(n, 1) };
    };
    if (this.networks.length === 0) {
      return {
        steps: [],
        primary: "nll",
        fitClosedForm: (x, n, { smoothing }) => {
          const iterations = this.fitEm(x, n, smoothing);
          const last = this.history[this.history.length - 1];
          return `fitted ${this.tables.length} tables by EM over ${this.configs} latent values in ${iterations} iterations (train NLL ${(-last).toFixed(2)} nats before the last M-step; Laplace smoothing α = ${smoothing})`;
        },
        evaluate,
      };
    }
    const variables = this.networks.filter((m) => m.gradient).flatMap((m) => m.variables);
    const step: TrainStep = {
      name: "nll",
      variables,
      divergeAbove: likelihoodDivergence(this.ir),
      loss: (xt: tf.Tensor2D) => {
        const B = xt.shape[0];
        const x = xt.dataSync() as Float32Array;
        // The tables' part of log p(x, c) (constants here) plus the networks' (differentiable).
        const tables = new Float32Array(this.configs * B);
        const row = new Float64Array(this.ir.n);
        const lj = new Float64Array(this.configs);
        for (let b = 0; b < B; b++) {
          this.joint(x, b, row, lj);
          for (let c = 0; c < this.configs; c++) tables[c * B + b] = lj[c];
        }
        return tf.tidy(() => {
          const total = tf.add(this.netTerms(x, 0, B)!, tf.tensor1d(tables)).reshape([this.configs, B]);
          const lse = tf.logSumExp(total, 0);
          const post = tf.exp(tf.sub(total, lse)).dataSync();
          const r = new Float64Array(B * this.configs);
          for (let b = 0; b < B; b++) for (let c = 0; c < this.configs; c++) r[b * this.configs + c] = post[c * B + b];
          this.pending = { x: Float32Array.from(x), n: B, r };
          return tf.neg(tf.mean(lse)) as tf.Scalar;
        });
      },
    };
    return {
      steps: variables.length ? [step] : [],
      primary: "nll",
      fitClosedForm: (x, n, { smoothing }) => {
        this.trainN = n;
        this.smoothing = smoothing;
        const iterations = this.fitEm(x, n, smoothing, { maxIterations: 5 });
        this.stats = this.expectedCounts(x, n).counts.map((v) => v / n);
        this.saveEmState();
        return `started ${this.tables.length} tables by ${iterations} EM iterations over ${this.configs} latent values; ${this.networks.length} network conditionals train by gradient, the tables by online EM`;
      },
      evaluate,
      afterStep: () => {
        for (const m of this.networks) m.invalidate?.();
        this.onlineEm();
      },
    };
  }

  /** The tables' online-EM update from the last gradient batch's posteriors. */
  private onlineEm(): void {
    const p = this.pending;
    this.pending = undefined;
    if (!p || !this.stats || this.tables.length === 0) return;
    const { counts } = this.expectedCounts(p.x, p.n, p.r);
    const rho = (this.updates++ + 2) ** -0.6;
    for (let i = 0; i < counts.length; i++) this.stats[i] = (1 - rho) * this.stats[i] + (rho * counts[i]) / p.n;
    this.setTables(
      this.stats.map((v) => v * this.trainN),
      this.smoothing,
    );
    this.saveEmState();
  }

  /** Writes the online-EM state into `emState`, exactly (see there). */
  private saveEmState(): void {
    if (!this.emState || !this.stats) return;
    const values = [this.updates, this.trainN, this.smoothing, ...this.stats];
    const bytes = new DataView(new ArrayBuffer(8 * values.length));
    values.forEach((v, i) => bytes.setFloat64(8 * i, v, true));
    const pieces = new Float32Array(4 * values.length);
    for (let i = 0; i < pieces.length; i++) pieces[i] = bytes.getUint16(2 * i, true);
    const t = tf.tensor1d(pieces);
    this.emState.assign(t);
    t.dispose();
  }

  /** Reads the online-EM state back from `emState` (after a checkpoint load); nothing before EM started. */
  private loadEmState(): void {
    if (!this.emState) return;
    const pieces = this.emState.dataSync();
    const bytes = new DataView(new ArrayBuffer(2 * pieces.length));
    for (let i = 0; i < pieces.length; i++) bytes.setUint16(2 * i, pieces[i], true);
    const values = Float64Array.from({ length: pieces.length / 4 }, (_, i) => bytes.getFloat64(8 * i, true));
    if (values[1] <= 0) return;
    this.updates = values[0];
    this.trainN = values[1];
    this.smoothing = values[2];
    this.stats = values.slice(3);
  }

  /** Ancestral samples of the observed elements (latent ones drawn, then dropped). */
  sample(n: number, seed: number): Float32Array {
    const rng = new Rng(seed);
    const out = new Float32Array(n * this.dim);
    const rows = Array.from({ length: n }, () => new Float32Array(this.ir.n));
    for (const unit of this.sampleOrder) {
      if ("factor" in unit) {
        unit.sample(rows, rng);
        continue;
      }
      const t = unit;
      for (const row of rows) {
        drawTargets(t, this.logp, this.rowBase(t, row), rng.uniform(), row);
      }
    }
    rows.forEach((row, i) => {
      for (let e = 0; e < this.ir.n; e++)
        if (this.layout.column[e] >= 0) out[i * this.dim + this.layout.column[e]] = row[e];
    });
    return out;
  }

  invalidate(): void {
    this.refresh();
    this.loadEmState();
    for (const m of this.networks) m.invalidate?.();
  }

  dispose(): void {
    this.theta.dispose();
    this.emState?.dispose();
    for (const m of this.networks) m.dispose();
  }
}

/** Orders tables and modules so that each one's parents are targets of earlier ones. */
function topological(tables: Table[], modules: FactorModule[], g: ElementGraph): (Table | FactorModule)[] {
  type Unit = Table | FactorModule;
  const units: Unit[] = [...tables, ...modules];
  const targetsOf = (u: Unit): number[] => ("factor" in u ? Array.from(u.factor.targets) : u.targets);
  const parentsOf = (u: Unit): number[] =>
    "factor" in u ? targetsOf(u).flatMap((t) => Array.from(g.parents(t))) : u.parents;
  const owner = new Map<number, Unit>();
  for (const u of units) for (const e of targetsOf(u)) owner.set(e, u);
  const done = new Set<Unit>();
  const active = new Set<Unit>();
  const out: Unit[] = [];
  const visit = (u: Unit) => {
    if (done.has(u)) return;
    if (active.has(u)) throw new ModelError("the factors depend on each other in a cycle", "M0105");
    active.add(u);
    for (const p of parentsOf(u)) {
      const o = owner.get(p);
      if (o && o !== u) visit(o);
    }
    active.delete(u);
    done.add(u);
    out.push(u);
  };
  for (const u of units) visit(u);
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
