/**
 * `logistic`: the fully visible sigmoid belief network (FVSBN; Neal 1992, Frey 1998).
 *
 *   p(x_i = 1 | pa(x_i)) = σ(b_i + Σ_{j ∈ pa(i)} w_ij x_j)
 *
 * Categorical elements use k − 1 logits against outcome 0 (softmax regression). Parents are
 * read as one number each: 0/1 for Bernoulli, v / (k − 1) for Categorical(k). With all
 * predecessors as parents and binary pixels that is n(n+1)/2 parameters; `assume` prunes
 * weights away and the count follows. The weights live in one packed vector embedded into a
 * dense matrix, so the trainable count is exactly the compiler's.
 */
import * as tf from "@tensorflow/tfjs";
import type { ElementGraph } from "../compiler/graph";
import type { FactorIR, ModelIR, VariableIR } from "../compiler/ir";
import { outcomes } from "../compiler/ir";
import { variableOf } from "../compiler/elements";
import type { Rng } from "../data/rng";
import { bernoulliLogProb, Embedding } from "./ops";
import { ModelError, type FactorModule } from "./types";
import { tfSeed } from "../rng";

/** Input scale of an element: how a parent's value enters a logistic or network input. */
export function inputScale(v: VariableIR): number {
  const k = outcomes(v.domain);
  return k === null || k === 2 ? 1 : 1 / (k - 1);
}

/** The logistic (FVSBN) factor module. */
export class LogisticModule implements FactorModule {
  readonly gradient = true;
  readonly variables: tf.Variable[];
  private readonly w: tf.Variable;
  private readonly b: tf.Variable;
  private readonly embed: Embedding;
  private readonly k: number;
  private readonly parents: number[][];
  private readonly scale: Float32Array;
  private readonly targetCols: tf.Tensor1D;
  private readonly scaleTensor: tf.Tensor1D;
  private cache?: { w: Float32Array; b: Float32Array };
  /** Offset of each target's weights in the packed vector. */
  private readonly base: number[];

  constructor(
    readonly factor: FactorIR,
    ir: ModelIR,
    g: ElementGraph,
    name: string,
    seed: number,
  ) {
    const t = Array.from(factor.targets);
    const ks = t.map((e) => outcomes(variableOf(ir.variables, e).domain)!);
    if (ks.some((k) => k !== ks[0]))
      throw new ModelError(
        `\`${factor.source}\`: logistic over elements with different numbers of outcomes is not built yet`,
        "M0102",
      );
    this.k = ks[0];
    const O = t.length * (this.k - 1);
    this.parents = t.map((e) => Array.from(g.parents(e)));
    const positions: number[] = [];
    t.forEach((_, i) => {
      for (let o = 0; o < this.k - 1; o++)
        for (const p of this.parents[i]) positions.push(p * O + i * (this.k - 1) + o);
    });
    this.embed = new Embedding(ir.n, O, Int32Array.from(positions));
    this.base = [];
    let acc = 0;
    for (const ps of this.parents) {
      this.base.push(acc);
      acc += ps.length * (this.k - 1);
    }
    this.scale = new Float32Array(ir.n);
    for (const v of ir.variables) for (let j = 0; j < v.size; j++) this.scale[v.offset + j] = inputScale(v);
    this.w = tf.variable(tf.randomNormal([positions.length], 0, 0.01, "float32", tfSeed(seed)), true, `${name}/w`);
    this.b = tf.variable(tf.zeros([O]), true, `${name}/b`);
    this.variables = [this.w, this.b];
    this.targetCols = tf.keep(tf.tensor1d(Int32Array.from(t), "int32"));
    this.scaleTensor = tf.keep(tf.tensor1d(this.scale));
  }

  logProb(x: tf.Tensor2D): tf.Tensor1D {
    this.cache = undefined;
    return tf.tidy(() => {
      const logits = tf.add(
        tf.matMul(tf.mul(x, this.scaleTensor), this.embed.apply(this.w as tf.Tensor1D)),
        this.b,
      ) as tf.Tensor2D;
      const xt = tf.gather(x, this.targetCols, 1) as tf.Tensor2D;
      if (this.k === 2) return bernoulliLogProb(logits, xt);
      const [B] = x.shape;
      const T = this.factor.targets.length;
      const full = tf.concat([tf.zeros([B, T, 1]), logits.reshape([B, T, this.k - 1])], 2);
      const logp = tf.logSoftmax(full, 2);
      return tf.mul(logp, tf.oneHot(xt.toInt(), this.k)).sum([1, 2]) as tf.Tensor1D;
    });
  }

  private weights(): { w: Float32Array; b: Float32Array } {
    if (!this.cache) this.cache = { w: this.w.dataSync() as Float32Array, b: this.b.dataSync() as Float32Array };
    return this.cache;
  }

  /** Logits of target i given a row (k − 1 of them). */
  private logits(i: number, row: Float32Array): Float64Array {
    const { w, b } = this.weights();
    const ps = this.parents[i];
    const out = new Float64Array(this.k - 1);
    // Packed layout: target-major, then output, then parent — the same order as `positions`.
    const base = this.base[i];
    for (let o = 0; o < this.k - 1; o++) {
      let l = b[i * (this.k - 1) + o];
      for (let j = 0; j < ps.length; j++) l += w[base + o * ps.length + j] * row[ps[j]] * this.scale[ps[j]];
      out[o] = l;
    }
    return out;
  }

  conditional(position: number, row: Float32Array): Float64Array {
    const l = this.logits(position, row);
    const max = Math.max(0, ...l);
    const p = new Float64Array(this.k);
    p[0] = Math.exp(-max);
    for (let o = 1; o < this.k; o++) p[o] = Math.exp(l[o - 1] - max);
    const s = p.reduce((a, v) => a + v, 0);
    for (let o = 0; o < this.k; o++) p[o] /= s;
    return p;
  }

  sample(rows: Float32Array[], rng: Rng): void {
    this.cache = undefined;
    const t = this.factor.targets;
    for (const row of rows) {
      for (let i = 0; i < t.length; i++) {
        const p = this.conditional(i, row);
        const u = rng.uniform();
        let acc = 0;
        let o = this.k - 1;
        for (let j = 0; j < this.k; j++) {
          acc += p[j];
          if (u < acc) {
            o = j;
            break;
          }
        }
        row[t[i]] = o;
      }
    }
  }

  invalidate(): void {
    this.cache = undefined;
  }

  dispose(): void {
    this.w.dispose();
    this.b.dispose();
    this.embed.dispose();
    this.targetCols.dispose();
    this.scaleTensor.dispose();
  }
}
