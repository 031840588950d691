/**
 * `p(x | y) = mlp(hidden = [h₁, …, h_m])` in an explicit model: a neural conditional whose
 * conditions y are observed (data columns), as in `for i in 2..n: p(x[i] | x[i-1], x[i-2]) =
 * mlp(hidden = [16])` or a class-conditional `p(x | label) = mlp(hidden = [64])`.
 *
 *   u = enc(y)                       Bernoulli 0/1, Categorical(k) one-hot (k), continuous as is
 *   o = MLP(u)                       networks/mlp.ts: u → h₁ → … → h_m → Σ_t out_t, ReLU hidden
 *   p(x_t = 1 | y) = σ(o_t)          Bernoulli target t: one logit
 *   p(x_t = j | y) = softmax(o_t)_j  Categorical(k) target t: k logits
 *   p(x | y) = Π_t p(x_t | y)        the targets are independent given y (the factor's structure
 *                                    is `none`: every target's parents are exactly y)
 *
 * The conditional of a single element is the multi-layer generalization of the logistic
 * (sigmoid belief network) conditional (Neal 1992; Bengio & Bengio, NIPS 1999, used one MLP per
 * conditional of an autoregressive model). log p is exact; trained by gradient (Adam) with the
 * rest of the model; sampling is ancestral (y is drawn before x by the model's topological
 * order). Trainable numbers: `mlpParams([|u|, h₁, …, h_m, Σ_t out_t])`, the compiler's count.
 *
 * Continuous targets (a Gaussian head) belong to latent-variable decoders; in an explicit model
 * they have no probability table to enumerate or sample from in JS, so they are refused (M0103).
 */
import * as tf from "@tensorflow/tfjs";
import { variableOf } from "../compiler/elements";
import { domainName, outcomes, type FactorIR, type ModelIR } from "../compiler/ir";
import type { Rng } from "../rng";
import { InputEncoding } from "./networks/inputs";
import { bernoulliLogProb, categoricalLogProb, Mlp, softmaxJs } from "./networks/mlp";
import { sigmoid } from "./ops";
import { ModelError, type FactorModule } from "./types";

/** A run of consecutive targets with the same number of outcomes (their outputs are contiguous). */
interface Run {
  /** First target (position in the factor) and number of targets. */
  readonly start: number;
  readonly count: number;
  /** Outcomes per target: 2 (Bernoulli, one logit) or k (Categorical(k), k logits). */
  readonly k: number;
  /** First output column. */
  readonly out: number;
}

/** The MLP-conditional factor module. */
export class MlpConditionalModule implements FactorModule {
  readonly gradient = true;
  readonly variables: tf.Variable[];
  readonly net: Mlp;
  readonly inputs: InputEncoding;
  /** Outcomes of each target (2 for Bernoulli). */
  private readonly ks: number[];
  /** First output column of each target. */
  private readonly outAt: number[];
  private readonly runs: Run[];
  private readonly targetCols: tf.Tensor1D;
  private readonly runCols: tf.Tensor1D[];

  constructor(readonly factor: FactorIR, ir: ModelIR, name: string, seed: number) {
    const spec = factor.network;
    if (!spec || spec.kind !== "mlp") throw new ModelError(`\`${factor.source}\`: the compiler gave no MLP layout for this factor`, "M0103");
    this.ks = Array.from(factor.targets, (e) => {
      const v = variableOf(ir.variables, e);
      const k = outcomes(v.domain);
      if (k === null) {
        throw new ModelError(`\`${factor.source}\`: \`${v.name}\` is ${domainName(v.domain)}; an mlp conditional in an explicit model builds Bernoulli and Categorical targets only`, "M0103", "continuous variables are modelled by a latent-variable decoder (`fit elbo`)");
      }
      return k;
    });
    const context = Array.from(factor.context);
    this.inputs = new InputEncoding(context, context.map((e) => variableOf(ir.variables, e).domain));
    const out = this.ks.reduce((a, k) => a + (k === 2 ? 1 : k), 0);
    if (spec.sizes[0] !== this.inputs.width || spec.sizes[spec.sizes.length - 1] !== out) {
      this.inputs.dispose();
      throw new ModelError(`\`${factor.source}\`: the compiler's layout [${spec.sizes.join(", ")}] does not read ${this.inputs.width} inputs and write ${out} outputs`, "M0103");
    }
    try {
      this.net = new Mlp(name, spec.sizes, { activation: "relu", seed });
    } catch (e) {
      this.inputs.dispose();
      throw e;
    }
    this.variables = this.net.variables;
    this.outAt = [];
    this.runs = [];
    let col = 0;
    this.ks.forEach((k, t) => {
      this.outAt.push(col);
      const last = this.runs[this.runs.length - 1];
      if (last && last.k === k) this.runs[this.runs.length - 1] = { ...last, count: last.count + 1 };
      else this.runs.push({ start: t, count: 1, k, out: col });
      col += k === 2 ? 1 : k;
    });
    this.targetCols = tf.keep(tf.tensor1d(factor.targets, "int32"));
    this.runCols = this.runs.map((r) => tf.keep(tf.tensor1d(factor.targets.subarray(r.start, r.start + r.count), "int32")));
  }

  /** The output layer for a batch of data rows [B, D]: [B, Σ_t out_t]. */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.net.apply(this.inputs.encode(x)));
  }

  logProb(x: tf.Tensor2D): tf.Tensor1D {
    this.net.invalidate();
    return tf.tidy(() => {
      const o = this.logits(x);
      if (this.runs.length === 1) {
        const { k } = this.runs[0];
        const xt = tf.gather(x, this.targetCols, 1) as tf.Tensor2D;
        return k === 2 ? bernoulliLogProb(o, xt) : categoricalLogProb(o, xt, k);
      }
      // Targets with different outcome counts: one head per run of equal ones.
      const [B] = x.shape;
      const parts = this.runs.map((r, i) => {
        const width = r.k === 2 ? r.count : r.count * r.k;
        const oi = tf.slice(o, [0, r.out], [B, width]) as tf.Tensor2D;
        const xi = tf.gather(x, this.runCols[i], 1) as tf.Tensor2D;
        return r.k === 2 ? bernoulliLogProb(oi, xi) : categoricalLogProb(oi, xi, r.k);
      });
      return parts.reduce((a, b) => tf.add(a, b)) as tf.Tensor1D;
    });
  }

  /** Probabilities of target `position` from one row of outputs. */
  private probabilities(o: Float64Array, position: number): Float64Array {
    const k = this.ks[position];
    const at = this.outAt[position];
    if (k === 2) {
      const p1 = sigmoid(o[at]);
      return Float64Array.from([1 - p1, p1]);
    }
    return softmaxJs(o, at, k);
  }

  conditional(position: number, row: Float32Array): Float64Array {
    return this.probabilities(this.net.applyJs(this.inputs.encodeJs(row)), position);
  }

  sample(rows: Float32Array[], rng: Rng): void {
    this.net.invalidate();
    const t = this.factor.targets;
    const u = new Float64Array(this.inputs.width);
    for (const row of rows) {
      // Every target reads the same parents y: one forward pass per row.
      const o = this.net.applyJs(this.inputs.encodeJs(row, u));
      for (let i = 0; i < t.length; i++) {
        const p = this.probabilities(o, i);
        const r = rng.uniform();
        let acc = 0;
        let v = p.length - 1;
        for (let j = 0; j < p.length; j++) {
          acc += p[j];
          if (r < acc) {
            v = j;
            break;
          }
        }
        row[t[i]] = v;
      }
    }
  }

  invalidate(): void {
    this.net.invalidate();
  }

  dispose(): void {
    this.net.dispose();
    this.inputs.dispose();
    this.targetCols.dispose();
    for (const c of this.runCols) c.dispose();
  }
}
