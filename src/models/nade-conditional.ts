/**
 * `p(x | y) = nade(hidden = H)`: NADE (Larochelle & Murray, AISTATS 2011) whose hidden layer also
 * reads observed discrete conditions y — a class- or context-conditional NADE.
 *
 *   u = enc(y)                      Bernoulli 0/1, Categorical(k) one-hot (networks/inputs.ts)
 *   a_d = c + W_y u + W_{:, <d} x_{<d}   (H)
 *   h_d = σ(a_d)
 *   p(x_d = 1 | x_{<d}, y) = σ(b_d + V_d · h_d)
 *
 * Parameters: NADE's 2DH + D + H plus W_y (H × |u|), the compiler's `nadeParams(D, H, |u|)`.
 *
 * `logProb` runs NADE's fused kernel unchanged (kernels/nade-op.ts) on the augmented sequence
 * (u, x): with W_full = [W_y | W], V_full = [0; V] and b_full = [0; b], the hidden pre-activation
 * of every x_d is exactly a_d above, and each u_j's "conditional" is σ(0) = ½ whatever u_j is
 * (u is 0/1), contributing log ½. So
 *
 *   log p(x | y) = kernel(u, x) + |u| · log 2,
 *
 * and the gradient reaches W_y, W, V, b through the concatenations (the zero blocks are
 * constants). The unconditional `nade` keeps its own module and path (nade.ts).
 * `impl = "cumsum"` computes the reference cumulative-sum form instead, with the W_y u term.
 */
import * as tf from "@tensorflow/tfjs";
import { variableOf } from "../compiler/elements";
import { domainName, type FactorIR, type ModelIR } from "../compiler/ir";
import { type Rng, tfSeed } from "../rng";
import { matMul } from "./kernels/matmul";
import { nadeLogProb } from "./kernels/nade-op";
import { NadeModule } from "./nade";
import { InputEncoding } from "./networks/inputs";
import { bernoulliLogProb, sigmoid } from "./ops";
import { ModelError } from "./types";

const LOG2 = Math.log(2);

/** The conditional NADE factor module. */
export class ConditionalNadeModule extends NadeModule {
  /** W_y, [H, |u|]: how the conditions enter the hidden layer. */
  readonly Wy: tf.Variable;
  readonly inputs: InputEncoding;
  /** |u|, the number of condition inputs. */
  readonly U: number;
  private readonly targetOrder: tf.Tensor1D;
  private cacheY?: { W: Float32Array; c: Float32Array; V: Float32Array; b: Float32Array; Wy: Float32Array };

  constructor(factor: FactorIR, ir: ModelIR, name: string, seed: number) {
    super(factor, name, seed);
    const context = Array.from(factor.context);
    const domains = context.map((e) => variableOf(ir.variables, e).domain);
    const bad = domains.findIndex((d) => d.kind !== "bernoulli" && d.kind !== "categorical");
    if (bad >= 0) {
      super.dispose();
      throw new ModelError(
        `\`${factor.source}\`: nade conditions on discrete elements; \`${variableOf(ir.variables, context[bad]).name}\` is ${domainName(domains[bad])}`,
        "M0103",
      );
    }
    this.inputs = new InputEncoding(context, domains);
    this.U = this.inputs.width;
    const spec = factor.network;
    if (spec?.kind !== "nade" || (spec.conditions ?? 0) !== this.U) {
      super.dispose();
      this.inputs.dispose();
      throw new ModelError(
        `\`${factor.source}\`: the compiler counts ${spec?.kind === "nade" ? (spec.conditions ?? 0) : "no"} condition inputs, the conditions have ${this.U}`,
        "M0103",
      );
    }
    this.Wy = tf.variable(tf.randomNormal([this.H, this.U], 0, 0.01, "float32", tfSeed(seed + 2)), true, `${name}/Wy`);
    this.variables.push(this.Wy);
    this.targetOrder = tf.keep(tf.tensor1d(factor.targets, "int32"));
  }

  override logProb(x: tf.Tensor2D): tf.Tensor1D {
    this.invalidate();
    if (this.impl === "cumsum") return this.logProbCumsum(x);
    const { H, U } = this;
    return tf.tidy(() => {
      const xa = tf.concat([this.inputs.encode(x), tf.gather(x, this.targetOrder, 1)], 1) as tf.Tensor2D;
      const W = tf.concat([this.Wy, this.W], 1);
      const V = tf.concat([tf.zeros([U, H]), this.V], 0);
      const b = tf.concat([tf.zeros([U]), this.b], 0);
      // The u positions contribute log ½ each (their logits are 0): add them back.
      return tf.add(
        nadeLogProb(xa, null, W, this.c, V, b, { kernel: this.impl as "auto" | "wasm" | "js" }),
        U * LOG2,
      ) as tf.Tensor1D;
    });
  }

  /** The reference: NADE's cumulative-sum form with W_y u added to every pre-activation. */
  override logProbCumsum(x: tf.Tensor2D): tf.Tensor1D {
    this.invalidate();
    return tf.tidy(() => {
      const xo = tf.gather(x, this.targetOrder, 1) as tf.Tensor2D;
      const [B, D] = xo.shape;
      const contrib = tf.mul(xo.reshape([B, 1, D]), this.W.reshape([1, this.H, D]));
      const wyu = matMul(this.inputs.encode(x), this.Wy, false, true).reshape([B, this.H, 1]);
      const a = tf.add(tf.add(tf.cumsum(contrib, 2, true), this.c.reshape([1, this.H, 1])), wyu);
      const vt = tf.transpose(this.V).reshape([1, this.H, D]);
      const logits = tf.add(tf.sum(tf.mul(tf.sigmoid(a), vt), 1), this.b) as tf.Tensor2D;
      return bernoulliLogProb(logits, xo);
    });
  }

  private weightsY() {
    if (!this.cacheY) {
      this.cacheY = {
        W: this.W.dataSync() as Float32Array,
        c: this.c.dataSync() as Float32Array,
        V: this.V.dataSync() as Float32Array,
        b: this.b.dataSync() as Float32Array,
        Wy: this.Wy.dataSync() as Float32Array,
      };
    }
    return this.cacheY;
  }

  /** c + W_y u for one row: the pre-activation before any x. */
  private start(row: ArrayLike<number>): Float64Array {
    const { c, Wy } = this.weightsY();
    const u = this.inputs.encodeJs(row);
    const a = Float64Array.from(c);
    for (let h = 0; h < this.H; h++) for (let j = 0; j < this.U; j++) if (u[j] !== 0) a[h] += Wy[h * this.U + j] * u[j];
    return a;
  }

  /** p(x_d = 1 | x_<d, y) for d = position. */
  override conditional(position: number, row: Float32Array): Float64Array {
    const { W, V, b } = this.weightsY();
    const { D, H } = this;
    const t = this.factor.targets;
    const a = this.start(row);
    let logit = b[position];
    for (let h = 0; h < H; h++) {
      let ah = a[h];
      for (let j = 0; j < position; j++) if (row[t[j]] !== 0) ah += W[h * D + j] * row[t[j]];
      logit += V[position * H + h] * sigmoid(ah);
    }
    // σ(−l), not 1 − σ(l), which underflows float64 for a confident logit.
    return Float64Array.from([sigmoid(-logit), sigmoid(logit)]);
  }

  /** Ancestral sampling given each row's conditions: a starts at c + W_y u. */
  override sample(rows: Float32Array[], rng: Rng): void {
    this.invalidate();
    const { W, V, b } = this.weightsY();
    const { D, H } = this;
    const t = this.factor.targets;
    for (const row of rows) {
      const a = this.start(row);
      for (let d = 0; d < D; d++) {
        let logit = b[d];
        for (let k = 0; k < H; k++) logit += V[d * H + k] * sigmoid(a[k]);
        const x = rng.uniform() < sigmoid(logit) ? 1 : 0;
        row[t[d]] = x;
        if (x) for (let k = 0; k < H; k++) a[k] += W[k * D + d];
      }
    }
  }

  override invalidate(): void {
    super.invalidate();
    this.cacheY = undefined;
  }

  override dispose(): void {
    super.dispose();
    this.inputs.dispose();
    this.targetOrder.dispose();
  }
}
