/**
 * A multilayer perceptron: the dense network every neural family of gm shares (MLP conditionals,
 * VAE encoders and decoders, AAE and GAN critics, MLP generators), and its output heads.
 *
 *   h₀ = x                                  x: [B, sizes[0]]
 *   h_l = act(h_{l−1} W_l + b_l)            l = 1 … L − 1 (hidden layers)
 *   out = h_{L−1} W_L + b_L                 [B, sizes[L]] — no activation: the heads read it
 *
 * with W_l of shape [sizes[l−1], sizes[l]] and b_l of shape [sizes[l]], so the network has
 * Σ_l (sizes[l−1]·sizes[l] + sizes[l]) trainable numbers, exactly the compiler's `mlpParams`
 * (src/compiler/count.ts) for the same `NetworkSpec.sizes`.
 *
 * - Activation: ReLU by default (Nair & Hinton 2010); `leaky_relu` (slope 0.2, as in DCGAN
 *   critics), `tanh`, `sigmoid` and `linear` on request.
 * - Initialization (seeded, the project's `Rng`, one stream per layer through `deriveSeed`):
 *   a layer followed by ReLU or leaky ReLU draws W ~ N(0, 2 / fan_in) (He et al., ICCV 2015);
 *   every other layer (the output layer, tanh/sigmoid/linear hidden layers) draws
 *   W ~ N(0, 2 / (fan_in + fan_out)) (Glorot & Bengio, AISTATS 2010). Biases start at 0.
 *   The same seed gives the same weights on every backend and machine.
 * - Variables are named `<prefix>/<l>/w` and `<prefix>/<l>/b` (l = 0 … L − 1, the layer index
 *   from the input), in that order: stable names for checkpoints.
 * - Matrix products are `denseMatMul`: a plain 2-D matmul forward and a lazy gradient made of
 *   explicit transposes and plain matmuls (dh = dy·Wᵀ, dW = hᵀ·dy, with `kernels/matmul.ts`'s
 *   `matMul`), so no transposed or batched matmul ever runs, whether or not the project's kernel
 *   fix is installed (../shared/BACKEND-FACTS.md: on wasm those forms are up to 20× slower).
 *
 * Heads are pure functions of the last layer's output:
 * - Bernoulli: one logit per element; log p(x) = Σ −softplus(−l)·x − softplus(l)·(1 − x)
 *   (the numerically stable form of x log σ(l) + (1 − x) log(1 − σ(l))).
 * - Categorical(k): k logits per element, laid out element-major ([l_{1,0} … l_{1,k−1}, l_{2,0} …]);
 *   log p(x) = Σ_d log softmax(l_d)[x_d].
 * - Gaussian: a mean and a log-variance per element, laid out [means | log-variances] (the first
 *   half of the columns are the means); log N(x; μ, e^{v}) and a reparameterized sample
 *   μ + e^{v/2}·ε, ε ~ N(0, I) (Kingma & Welling, ICLR 2014).
 */
import * as tf from "@tensorflow/tfjs";
import { GmError } from "../../errors";
import { deriveSeed, Rng, tfSeed } from "../../rng";
import { denseMatMulOp } from "../kernels/dense";
import { bernoulliLogProb } from "../ops";

/** Hidden-layer activations an {@link Mlp} can use. */
export type Activation = "relu" | "leaky_relu" | "tanh" | "sigmoid" | "linear";

/** Every activation name, for validating user input. */
export const ACTIVATIONS: readonly Activation[] = ["relu", "leaky_relu", "tanh", "sigmoid", "linear"];

/** Slope of `leaky_relu` for negative inputs (DCGAN's 0.2). */
export const LEAKY_SLOPE = 0.2;

/**
 * Largest number of trainable numbers one MLP may hold (2^28 float32 = 1 GiB): past it the
 * constructor refuses, before allocating anything, with error M0106.
 */
export const MAX_MLP_PARAMS = 2 ** 28;

/** Options of {@link Mlp}. */
export interface MlpOptions {
  /** Hidden-layer activation; default `relu`. The output layer has none. */
  activation?: Activation;
  /** Seed of the initial weights; default 1. */
  seed?: number;
}

/** The trainable count of a dense stack `sizes` (= the compiler's `mlpParams`, as a number). */
export function mlpParamCount(sizes: readonly number[]): number {
  let total = 0;
  for (let i = 0; i + 1 < sizes.length; i++) total += sizes[i] * sizes[i + 1] + sizes[i + 1];
  return total;
}

/**
 * `a · b` for 2-D tensors, differentiable in both, with every product plain: the gradient is
 * dA = dY · transpose(B) and dB = transpose(A) · dY, each an explicit transpose then a plain matmul.
 * The gradient is lazy (kernels/dense.ts): a product whose input needs no gradient (a first layer's
 * data) is never computed, which a `tf.customGrad` could not skip.
 */
export function denseMatMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return denseMatMulOp(a, b);
}

/** Applies a hidden activation on the backend. */
export function activate(h: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  switch (activation) {
    case "relu":
      return tf.relu(h);
    case "leaky_relu":
      return tf.leakyRelu(h, LEAKY_SLOPE);
    case "tanh":
      return tf.tanh(h);
    case "sigmoid":
      return tf.sigmoid(h);
    case "linear":
      return h;
  }
}

/** Applies a hidden activation to one number (the JavaScript forward pass). */
export function activateJs(v: number, activation: Activation): number {
  switch (activation) {
    case "relu":
      return v > 0 ? v : 0;
    case "leaky_relu":
      return v > 0 ? v : LEAKY_SLOPE * v;
    case "tanh":
      return Math.tanh(v);
    case "sigmoid":
      return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    case "linear":
      return v;
  }
}

/**
 * The forward pass of a dense stack for ONE input row, in JavaScript (float64 accumulation), from
 * weights given as arrays: `w[l]` row-major [sizes[l], sizes[l + 1]], `b[l]` [sizes[l + 1]].
 */
export function forwardJs(
  sizes: readonly number[],
  activation: Activation,
  w: readonly ArrayLike<number>[],
  b: readonly ArrayLike<number>[],
  input: ArrayLike<number>,
): Float64Array {
  let h = Float64Array.from(input);
  const L = w.length;
  for (let l = 0; l < L; l++) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const out = Float64Array.from(b[l]);
    const W = w[l];
    for (let i = 0; i < nIn; i++) {
      const hi = h[i];
      if (hi === 0) continue;
      const row = i * nOut;
      for (let j = 0; j < nOut; j++) out[j] += hi * W[row + j];
    }
    if (l < L - 1) for (let j = 0; j < nOut; j++) out[j] = activateJs(out[j], activation);
    h = out;
  }
  return h;
}

/** A dense network `sizes[0] → … → sizes[L]` (see the file's comment for the formula and init). */
export class Mlp {
  /** Layer widths, input first. */
  readonly sizes: readonly number[];
  readonly activation: Activation;
  /** W_l, [sizes[l], sizes[l + 1]], named `<prefix>/<l>/w`. */
  readonly weights: tf.Variable[] = [];
  /** b_l, [sizes[l + 1]], named `<prefix>/<l>/b`. */
  readonly biases: tf.Variable[] = [];
  /** Every trainable variable in a stable order: w0, b0, w1, b1, … */
  readonly variables: tf.Variable[] = [];
  private cache?: { w: Float32Array[]; b: Float32Array[] };

  /**
   * Builds the layers with seeded initial weights. Throws GmError M0106 when the network would
   * hold more than {@link MAX_MLP_PARAMS} numbers (before allocating anything); sizes that are
   * not at least two positive integers are a bug of the caller (the compiler validates them).
   */
  constructor(
    readonly prefix: string,
    sizes: readonly number[],
    opts: MlpOptions = {},
  ) {
    if (sizes.length < 2 || sizes.some((s) => !Number.isSafeInteger(s) || s < 1)) {
      throw new Error(
        `network \`${prefix}\`: layer sizes must be at least two positive integers, got [${sizes.join(", ")}]`,
      );
    }
    const count = mlpParamCount(sizes);
    if (count > MAX_MLP_PARAMS) {
      throw new GmError(
        "M0106",
        `network \`${prefix}\` with layers [${sizes.join(", ")}] needs ${count.toLocaleString("en-US")} parameters (${((count * 4) / 2 ** 30).toFixed(1)} GiB); gm builds at most ${MAX_MLP_PARAMS.toLocaleString("en-US")} (1 GiB) per network`,
        {
          hint: "use smaller hidden layers",
        },
      );
    }
    this.sizes = [...sizes];
    this.activation = opts.activation ?? "relu";
    if (!ACTIVATIONS.includes(this.activation))
      throw new Error(
        `network \`${prefix}\`: unknown activation \`${String(this.activation)}\` (one of ${ACTIVATIONS.join(", ")})`,
      );
    const seed = opts.seed ?? 1;
    const L = sizes.length - 1;
    try {
      for (let l = 0; l < L; l++) {
        const fanIn = sizes[l];
        const fanOut = sizes[l + 1];
        const he = l < L - 1 && (this.activation === "relu" || this.activation === "leaky_relu");
        const std = Math.sqrt(he ? 2 / fanIn : 2 / (fanIn + fanOut));
        const rng = new Rng(deriveSeed(seed, l));
        const values = new Float32Array(fanIn * fanOut);
        for (let i = 0; i < values.length; i++) values[i] = std * rng.normal();
        const w = tf.variable(tf.tensor2d(values, [fanIn, fanOut]), true, `${prefix}/${l}/w`);
        this.weights.push(w);
        this.variables.push(w);
        const b = tf.variable(tf.zeros([fanOut]), true, `${prefix}/${l}/b`);
        this.biases.push(b);
        this.variables.push(b);
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Number of inputs. */
  get inputs(): number {
    return this.sizes[0];
  }

  /** Number of outputs. */
  get outputs(): number {
    return this.sizes[this.sizes.length - 1];
  }

  /** The output layer (no activation) for a batch [B, inputs] → [B, outputs]; differentiable. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    if (x.shape[1] !== this.inputs) {
      throw new Error(`network \`${this.prefix}\` reads ${this.inputs} inputs, got ${x.shape[1]}`);
    }
    return tf.tidy(() => {
      let h: tf.Tensor2D = x;
      const L = this.weights.length;
      for (let l = 0; l < L; l++) {
        // h W_l + b_l: a plain 2-D matmul (no transposes), then the bias.
        h = tf.add(denseMatMul(h, this.weights[l] as tf.Tensor2D), this.biases[l]) as tf.Tensor2D;
        if (l < L - 1) h = activate(h, this.activation);
      }
      return h;
    });
  }

  /** Number of trainable numbers (= `mlpParams(sizes)`). */
  paramCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  /** The weights as JavaScript arrays, read once until {@link invalidate}. */
  private weightsJs(): { w: Float32Array[]; b: Float32Array[] } {
    if (!this.cache) {
      this.cache = {
        w: this.weights.map((v) => v.dataSync() as Float32Array),
        b: this.biases.map((v) => v.dataSync() as Float32Array),
      };
    }
    return this.cache;
  }

  /**
   * The output layer for ONE input row, in JavaScript with float64 accumulation (conditionals and
   * ancestral sampling read it; it agrees with {@link apply} to float32 rounding).
   */
  applyJs(input: ArrayLike<number>): Float64Array {
    const { w, b } = this.weightsJs();
    return forwardJs(this.sizes, this.activation, w, b, input);
  }

  /** Forgets the JavaScript copy of the weights (call after they change). */
  invalidate(): void {
    this.cache = undefined;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.cache = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Heads: pure functions of the output layer

export { bernoulliLogProb };

/**
 * Σ_d log softmax(l_d)[x_d] per example: [B]. `logits` is [B, D·k] laid out element-major
 * (element d's k logits are columns d·k … d·k + k − 1); `x` is [B, D] of integers 0 … k − 1.
 */
export function categoricalLogProb(logits: tf.Tensor2D, x: tf.Tensor2D, k: number): tf.Tensor1D {
  return tf.tidy(() => {
    const [B, D] = x.shape;
    if (logits.shape[1] !== D * k)
      throw new Error(`categorical head: ${logits.shape[1]} logits for ${D} elements of ${k} outcomes`);
    const logp = tf.logSoftmax(logits.reshape([B, D, k]), 2);
    const hot = tf.oneHot(x.toInt(), k);
    return tf.sum(tf.mul(logp, hot), [1, 2]) as tf.Tensor1D;
  });
}

const LOG_2PI = Math.log(2 * Math.PI);

/** Σ_d log N(x_d; μ_d, exp(v_d)) per example: [B] (mean, logVar and x all [B, D]). */
export function gaussianLogProb(mean: tf.Tensor2D, logVar: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const sq = tf.square(tf.sub(x, mean));
    const terms = tf.add(tf.add(logVar, tf.mul(sq, tf.exp(tf.neg(logVar)))), LOG_2PI);
    return tf.mul(tf.sum(terms, 1), -0.5) as tf.Tensor1D;
  });
}

/** Splits a Gaussian head's output [B, 2D] into its means (first D columns) and log-variances. */
export function splitGaussian(out: tf.Tensor2D): { mean: tf.Tensor2D; logVar: tf.Tensor2D } {
  const twoD = out.shape[1];
  if (twoD % 2 !== 0) throw new Error(`gaussian head: ${twoD} outputs is not a mean and a log-variance per element`);
  const [mean, logVar] = tf.split(out, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  return { mean, logVar };
}

/** KL(N(μ, e^v) ‖ N(0, I)) per example, in closed form: ½ Σ (e^v + μ² − 1 − v): [B]. */
export function gaussianKlToStandard(mean: tf.Tensor2D, logVar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const terms = tf.sub(tf.add(tf.exp(logVar), tf.square(mean)), tf.add(logVar, 1));
    return tf.mul(tf.sum(terms, 1), 0.5) as tf.Tensor1D;
  });
}

/**
 * A reparameterized Gaussian sample μ + exp(v/2)·ε: differentiable in `mean` and `logVar`.
 * `noise` is ε itself ([B, D]) or a seed for ε ~ N(0, I).
 */
export function sampleGaussian(mean: tf.Tensor2D, logVar: tf.Tensor2D, noise: tf.Tensor2D | number): tf.Tensor2D {
  return tf.tidy(() => {
    const eps = typeof noise === "number" ? tf.randomNormal(mean.shape, 0, 1, "float32", tfSeed(noise)) : noise;
    return tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tf.Tensor2D;
  });
}

/** 0/1 draws with P(1) = σ(logit), seeded: [B, D] float. */
export function sampleBernoulli(logits: tf.Tensor2D, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const u = tf.randomUniform(logits.shape, 0, 1, "float32", tfSeed(seed));
    return tf.cast(tf.less(u, tf.sigmoid(logits)), "float32") as tf.Tensor2D;
  });
}

/**
 * Draws of a Categorical(k) head (logits [B, D·k], element-major), seeded, by the Gumbel-max
 * trick argmax_o (l_o − log(−log u_o)): [B, D] float values 0 … k − 1.
 */
export function sampleCategorical(logits: tf.Tensor2D, k: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, Dk] = logits.shape;
    const D = Dk / k;
    if (!Number.isInteger(D)) throw new Error(`categorical head: ${Dk} logits is not a multiple of ${k} outcomes`);
    // u in (0, 1): avoid log(0) at either end.
    const u = tf.randomUniform([B, D, k], 1e-7, 1 - 1e-7, "float32", tfSeed(seed));
    const gumbel = tf.neg(tf.log(tf.neg(tf.log(u))));
    return tf.cast(tf.argMax(tf.add(logits.reshape([B, D, k]), gumbel), 2), "float32") as tf.Tensor2D;
  });
}

/** softmax of one element's k logits (from `from`), in JavaScript (float64): probabilities over k outcomes. */
export function softmaxJs(logits: ArrayLike<number>, from = 0, k = logits.length - from): Float64Array {
  let max = -Infinity;
  for (let o = 0; o < k; o++) max = Math.max(max, logits[from + o]);
  const p = new Float64Array(k);
  let s = 0;
  for (let o = 0; o < k; o++) {
    p[o] = Math.exp(logits[from + o] - max);
    s += p[o];
  }
  for (let o = 0; o < k; o++) p[o] /= s;
  return p;
}
