/**
 * `nade(hidden = H)`: the Neural Autoregressive Distribution Estimator (Larochelle & Murray,
 * AISTATS 2011), over Bernoulli elements in the factor's order x_1 … x_D.
 *
 *   a_d = c + W_{:, <d} x_{<d}          (H)       — shared across d: a_{d+1} = a_d + W_{:, d} x_d
 *   h_d = σ(a_d)
 *   p(x_d = 1 | x_{<d}) = σ(b_d + V_d · h_d)
 *
 * Parameters W (H×D), c (H), V (D×H), b (D): 2DH + D + H, the compiler's count.
 * NOTE: W's last column never reaches a conditional (no element follows x_D); the paper's
 * count, and ours, include it.
 *
 * `logProb` is one op with a custom gradient (kernels/nade-op.ts) computed by a fused kernel
 * (kernels/nade.c, wasm SIMD; plain JavaScript where wasm is missing): per example, a running
 * pre-activation a, recomputing σ(a) only after a non-zero x_d (the only places a changes),
 * O(B·D·H) multiply-adds and O(D·H) memory, on every backend. The reference form, `logProbCumsum`, builds the [B, H, D]
 * tensor: the hidden
 * pre-activations for every d are one exclusive cumulative sum along the order (TensorFlow.js's
 * `cumsum` gradient is only right along the last axis, so the cumulative axis is kept last);
 * tf autograd differentiates it. Tests hold the two to the same values and gradients.
 */
import * as tf from "@tensorflow/tfjs";
import type { FactorIR } from "../compiler/ir";
import type { Rng } from "../data/rng";
import { nadeLogProb } from "./kernels/nade-op";
import { bernoulliLogProb, sigmoid } from "./ops";
import type { FactorModule } from "./types";
import { tfSeed } from "../rng";

/**
 * How `logProb` is computed: the fused kernel ("auto": wasm where it loads, else JavaScript;
 * "wasm"; "js") or the cumulative-sum form ("cumsum").
 */
export type NadeImpl = "auto" | "wasm" | "js" | "cumsum";

const NADE_IMPLS: readonly NadeImpl[] = ["auto", "wasm", "js", "cumsum"];

/** The default `impl`: env GM_NADE_KERNEL when it names one, else "auto". */
export function defaultNadeImpl(): NadeImpl {
  const env = (typeof process !== "undefined" ? process.env.GM_NADE_KERNEL : undefined)?.trim() as NadeImpl | undefined;
  return env && NADE_IMPLS.includes(env) ? env : "auto";
}

/** The NADE factor module. */
export class NadeModule implements FactorModule {
  /** How `logProb` is computed (see `NadeImpl`); a subclass that overrides `logits` always gets the cumsum form. */
  impl: NadeImpl = defaultNadeImpl();
  readonly gradient = true;
  readonly variables: tf.Variable[];
  readonly W: tf.Variable; // [H, D]
  readonly c: tf.Variable; // [H]
  readonly V: tf.Variable; // [D, H]
  readonly b: tf.Variable; // [D]
  private readonly order: tf.Tensor1D;
  private readonly orderJs: Int32Array;
  private cache?: { W: Float32Array; c: Float32Array; V: Float32Array; b: Float32Array };
  readonly D: number;
  readonly H: number;

  constructor(
    readonly factor: FactorIR,
    name: string,
    seed: number,
  ) {
    this.D = factor.targets.length;
    this.H = factor.args.hidden as number;
    const { D, H } = this;
    this.W = tf.variable(tf.randomNormal([H, D], 0, 0.01, "float32", tfSeed(seed)), true, `${name}/W`);
    this.c = tf.variable(tf.zeros([H]), true, `${name}/c`);
    this.V = tf.variable(tf.randomNormal([D, H], 0, 0.01, "float32", tfSeed(seed + 1)), true, `${name}/V`);
    this.b = tf.variable(tf.zeros([D]), true, `${name}/b`);
    this.variables = [this.W, this.c, this.V, this.b];
    this.order = tf.keep(tf.tensor1d(factor.targets, "int32"));
    this.orderJs = Int32Array.from(factor.targets);
  }

  /** Logits of every conditional, [B, D], from x in the factor's order. */
  logits(xo: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, D] = xo.shape;
      // [B, H, D]: contribution of x_j to every hidden unit, then an exclusive cumulative sum along j.
      const contrib = tf.mul(xo.reshape([B, 1, D]), this.W.reshape([1, this.H, D]));
      const a = tf.add(tf.cumsum(contrib, 2, true), this.c.reshape([1, this.H, 1]));
      const h = tf.sigmoid(a);
      // logit_d = b_d + Σ_h V[d, h] h[:, h, d]
      const vt = tf.transpose(this.V).reshape([1, this.H, D]);
      return tf.add(tf.sum(tf.mul(h, vt), 1), this.b) as tf.Tensor2D;
    });
  }

  logProb(x: tf.Tensor2D): tf.Tensor1D {
    // A subclass that overrides `logits` (a variant, a planted bug in a test) is computed through it.
    if (this.impl === "cumsum" || this.logits !== NadeModule.prototype.logits) return this.logProbCumsum(x);
    this.cache = undefined;
    return nadeLogProb(x, this.orderJs, this.W, this.c, this.V, this.b, { kernel: this.impl });
  }

  /** log p per example through `logits` (the cumulative-sum form, differentiated by tf autograd): the reference. */
  logProbCumsum(x: tf.Tensor2D): tf.Tensor1D {
    this.cache = undefined;
    return tf.tidy(() => {
      const xo = tf.gather(x, this.order, 1) as tf.Tensor2D;
      return bernoulliLogProb(this.logits(xo), xo);
    });
  }

  private weights() {
    if (!this.cache) {
      this.cache = {
        W: this.W.dataSync() as Float32Array,
        c: this.c.dataSync() as Float32Array,
        V: this.V.dataSync() as Float32Array,
        b: this.b.dataSync() as Float32Array,
      };
    }
    return this.cache;
  }

  /** p(x_d = 1 | x_<d) for d = position, from the row's values. O(position · H). */
  conditional(position: number, row: Float32Array): Float64Array {
    const { W, c, V, b } = this.weights();
    const { D, H } = this;
    const t = this.factor.targets;
    let logit = b[position];
    for (let h = 0; h < H; h++) {
      let a = c[h];
      for (let j = 0; j < position; j++) if (row[t[j]] !== 0) a += W[h * D + j] * row[t[j]];
      logit += V[position * H + h] * sigmoid(a);
    }
    // σ(−l), not 1 − σ(l), which underflows float64 for a confident logit.
    return Float64Array.from([sigmoid(-logit), sigmoid(logit)]);
  }

  /** Ancestral sampling with the running pre-activation a_{d+1} = a_d + W_{:, d} x_d: O(D·H) per row. */
  sample(rows: Float32Array[], rng: Rng): void {
    this.cache = undefined;
    const { W, c, V, b } = this.weights();
    const { D, H } = this;
    const t = this.factor.targets;
    const a = new Float64Array(H);
    const h = new Float64Array(H);
    for (const row of rows) {
      a.set(c);
      for (let d = 0; d < D; d++) {
        let logit = b[d];
        for (let k = 0; k < H; k++) {
          h[k] = sigmoid(a[k]);
          logit += V[d * H + k] * h[k];
        }
        const x = rng.uniform() < sigmoid(logit) ? 1 : 0;
        row[t[d]] = x;
        if (x) for (let k = 0; k < H; k++) a[k] += W[k * D + d];
      }
    }
  }

  invalidate(): void {
    this.cache = undefined;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.order.dispose();
  }
}
