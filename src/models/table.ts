/**
 * Conditional probability tables: `joint`, `independent`, `table`, `chain` and `markov(k)`
 * (LANGUAGE.md §5) over any DAG the compiler built.
 *
 *   p(x_t | pa(x_t)) = softmax([0, θ_{t,row}])   with row = the parents' joint value
 *
 * Each row stores k − 1 free logits (outcome 0 is the reference), so the trainable count is
 * (k − 1)·Π k_parents per table, exactly the compiler's count. A `joint` factor is one table over
 * the mixed-radix joint outcome of its targets. Tables are fitted in closed form: maximum
 * likelihood with Laplace (add-α) smoothing, θ = log((c_k + α) / (c_0 + α)).
 */
import * as tf from "@tensorflow/tfjs";
import type { FactorIR, ModelIR } from "../compiler/ir";
import type { ElementGraph } from "../compiler/graph";
import { elementName, formatElements } from "../compiler/elements";
import { scientific } from "../compiler/count";
import type { Rng } from "../data/rng";
import { outcomesOf } from "./lookup";
import { ModelError, type FactorModule } from "./types";

/** Largest number of table entries (rows × outcomes) gm stores: 64 Mi floats ≈ 256 MB. */
export const MAX_TABLE_ENTRIES = 64 * 1024 * 1024;

/**
 * One conditional table: outcomes of its targets (mixed radix) by rows of its parents (shared with
 * the discrete-latent model's tables in mixture.ts).
 */
export interface Table {
  /** Element ids of the targets (several for `joint`). */
  targets: number[];
  /** Outcomes per target. */
  targetK: number[];
  /** K = Π targetK. */
  K: number;
  parents: number[];
  parentK: number[];
  rows: number;
  /** Offset of this table's first logit in the parameter vector. */
  paramOffset: number;
  /** Offset of this table's first entry in the log-probability vector (rows × K). */
  probOffset: number;
}

/** Builds the tables of a factor: one per target, or one for a `joint` factor. */
function layout(ir: ModelIR, f: FactorIR, g: ElementGraph): Table[] {
  const k = (e: number) => outcomesOf(ir, e);
  const tables: Table[] = [];
  const push = (targets: number[], parents: number[]) => {
    const targetK = targets.map(k);
    const parentK = parents.map(k);
    const K = targetK.reduce((a, b) => a * b, 1);
    const rowsBig = parentK.reduce((a, b) => a * BigInt(b), 1n);
    const entries = rowsBig * BigInt(K);
    if (entries > BigInt(MAX_TABLE_ENTRIES) || !Number.isSafeInteger(K)) {
      throw new ModelError(
        `the table of ${targets.length > 1 ? formatElements(ir.variables, targets) : elementName(ir.variables, targets[0])} needs ${scientific(entries)} entries (${parents.length} parents); gm stores at most ${MAX_TABLE_ENTRIES.toLocaleString("en-US")}`,
        "M0101",
        `\`${f.source}\` is too large to store as a table: use a neural family, \`p(x) = logistic\` or \`p(x) = nade(hidden = 500)\`, or prune parents with \`assume\``,
      );
    }
    tables.push({ targets, targetK, K, parents, parentK, rows: Number(rowsBig), paramOffset: 0, probOffset: 0 });
  };
  if (f.family === "joint") push(Array.from(f.targets), Array.from(f.context));
  else for (const t of f.targets) push([t], Array.from(g.parents(t)));
  let params = 0;
  let probs = 0;
  let total = 0n;
  for (const t of tables) {
    t.paramOffset = params;
    t.probOffset = probs;
    params += t.rows * (t.K - 1);
    probs += t.rows * t.K;
    total += BigInt(t.rows) * BigInt(t.K);
  }
  if (total > BigInt(MAX_TABLE_ENTRIES)) {
    throw new ModelError(
      `\`${f.source}\` needs ${scientific(total)} table entries in all; gm stores at most ${MAX_TABLE_ENTRIES.toLocaleString("en-US")}`,
      "M0101",
      "use `logistic` or `nade(hidden = …)`, or prune parents with `assume`",
    );
  }
  return tables;
}

/** The row of table t (its parents' joint value, mixed radix) in a full row of elements at `base`. */
/**
 * The maximum a posteriori tables of `counts` + α as packed logits against outcome 0 (the layout
 * of a table module's `theta`): θ[row, o] = log(n[row, o] + α) − log(n[row, 0] + α).
 */
export function logitsFromCounts(
  tables: readonly Table[],
  counts: Float64Array,
  smoothing: number,
  size: number,
): Float32Array {
  const theta = new Float32Array(size);
  for (const t of tables) {
    for (let r = 0; r < t.rows; r++) {
      const q = t.probOffset + r * t.K;
      const ref = Math.log(counts[q] + smoothing);
      for (let o = 1; o < t.K; o++)
        theta[t.paramOffset + r * (t.K - 1) + o - 1] = Math.log(counts[q + o] + smoothing) - ref;
    }
  }
  return theta;
}

export function rowOf(t: Table, row: ArrayLike<number>, base = 0): number {
  let r = 0;
  for (let j = 0; j < t.parents.length; j++) r = r * t.parentK[j] + row[base + t.parents[j]];
  return r;
}

/** The outcome of table t (its targets' joint value, mixed radix) in a full row of elements at `base`. */
export function outcomeOf(t: Table, row: ArrayLike<number>, base = 0): number {
  let o = 0;
  for (let j = 0; j < t.targets.length; j++) o = o * t.targetK[j] + row[base + t.targets[j]];
  return o;
}

/**
 * Draws table t's targets into `row` by inverting the CDF of the entries logp[base .. base + K) at
 * the uniform u (the last outcome when rounding leaves u above the sum), then decoding the
 * mixed-radix outcome into the targets.
 */
export function drawTargets(t: Table, logp: ArrayLike<number>, base: number, u: number, row: Float32Array): void {
  let acc = 0;
  let o = t.K - 1;
  for (let j = 0; j < t.K; j++) {
    acc += Math.exp(logp[base + j]);
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

/** A table factor module. */
export class TableModule implements FactorModule {
  readonly gradient = false;
  readonly variables: tf.Variable[];
  private readonly tables: Table[];
  private readonly theta: tf.Variable;
  /** Normalized log-probabilities, rows × K per table (kept in JS; mirrored on the backend for scoring). */
  private logp: Float32Array;
  private logpTensor?: tf.Tensor1D;

  constructor(
    readonly factor: FactorIR,
    ir: ModelIR,
    g: ElementGraph,
    name: string,
  ) {
    this.tables = layout(ir, factor, g);
    const nParams = this.tables.reduce((a, t) => a + t.rows * (t.K - 1), 0);
    // Uniform tables to start (all logits 0); `fitClosedForm` replaces them.
    this.theta = tf.variable(tf.zeros([nParams]), false, `${name}/theta`);
    this.variables = [this.theta];
    this.logp = new Float32Array(this.tables.reduce((a, t) => a + t.rows * t.K, 0));
    this.refresh();
  }

  /** Recomputes log-probabilities from the logits (after a fit or a checkpoint load). */
  refresh(): void {
    const theta = this.theta.dataSync() as Float32Array;
    for (const t of this.tables) {
      for (let r = 0; r < t.rows; r++) {
        const p = t.paramOffset + r * (t.K - 1);
        let max = 0;
        for (let o = 1; o < t.K; o++) max = Math.max(max, theta[p + o - 1]);
        let sum = Math.exp(-max);
        for (let o = 1; o < t.K; o++) sum += Math.exp(theta[p + o - 1] - max);
        const lse = max + Math.log(sum);
        const q = t.probOffset + r * t.K;
        this.logp[q] = -lse;
        for (let o = 1; o < t.K; o++) this.logp[q + o] = theta[p + o - 1] - lse;
      }
    }
    this.logpTensor?.dispose();
    this.logpTensor = undefined;
  }

  logProb(x: tf.Tensor2D): tf.Tensor1D {
    const [B, D] = x.shape;
    const data = x.dataSync();
    const idx = new Int32Array(B * this.tables.length);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < this.tables.length; i++) {
        const t = this.tables[i];
        idx[b * this.tables.length + i] = t.probOffset + rowOf(t, data, b * D) * t.K + outcomeOf(t, data, b * D);
      }
    }
    if (!this.logpTensor) this.logpTensor = tf.keep(tf.tensor1d(this.logp));
    return tf.tidy(
      () => tf.gather(this.logpTensor!, tf.tensor2d(idx, [B, this.tables.length], "int32")).sum(1) as tf.Tensor1D,
    );
  }

  conditional(position: number, row: Float32Array): Float64Array {
    const t = this.tables[position];
    const r = rowOf(t, row);
    const out = new Float64Array(t.K);
    for (let o = 0; o < t.K; o++) out[o] = Math.exp(this.logp[t.probOffset + r * t.K + o]);
    return out;
  }

  sample(rows: Float32Array[], rng: Rng): void {
    for (const row of rows) {
      for (const t of this.tables) {
        drawTargets(t, this.logp, t.probOffset + rowOf(t, row) * t.K, rng.uniform(), row);
      }
    }
  }

  fitClosedForm(x: Float32Array, n: number, smoothing: number): void {
    const D = x.length / n;
    const counts = new Float64Array(this.logp.length);
    for (let b = 0; b < n; b++) {
      for (const t of this.tables) counts[t.probOffset + rowOf(t, x, b * D) * t.K + outcomeOf(t, x, b * D)]++;
    }
    this.theta.assign(tf.tensor1d(logitsFromCounts(this.tables, counts, smoothing, this.theta.size)));
    this.refresh();
  }

  invalidate(): void {
    this.refresh();
  }

  dispose(): void {
    this.theta.dispose();
    this.logpTensor?.dispose();
  }
}
