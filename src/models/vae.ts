/**
 * The variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014)
 * and its importance-weighted bound (Burda, Grosse & Salakhutdinov, "Importance Weighted
 * Autoencoders", ICLR 2016).
 *
 *   p(x, z) = N(z; 0, I) · Π_f p(x_f | z)                decoders: ./latent.ts (one mlp per factor)
 *   q(z | x) = N(z; μ(x), diag e^{v(x)})                  encoder: an mlp with 2·dim(z) outputs
 *
 *   ELBO(x)   = E_q[log p(x | z)] − KL(q(z | x) ‖ N(0, I))                       ≤ log p(x)
 *   KL        = ½ Σ_j (e^{v_j} + μ_j² − 1 − v_j)                                 (closed form)
 *   IWAE_K(x) = E[log (1/K) Σ_k w_k],  w_k = p(x, z_k) / q(z_k | x),  z_k ~ q     ELBO = IWAE_1 ≤ IWAE_K ≤ log p(x)
 *
 * z_k = μ + e^{v/2} ⊙ ε_k with ε_k ~ N(0, I) (the reparameterization), so every term is
 * differentiable in the encoder and decoder weights. `fit elbo` minimizes −ELBO (one sample per
 * example); `fit iwae(k = K)` minimizes −IWAE_K. The log-mean-exp is shifted by its maximum
 * (tf.logSumExp on the backend, `LogMeanExp` in JavaScript), so log-weights of −1000 nats do not
 * underflow.
 *
 * Scores (`score()`): `values` is the IWAE estimate of log p(x) with K samples (default 1000;
 * kind "estimate": it rises with K towards log p(x)), `extra.elbo` the ELBO (kind "bound"),
 * its reconstruction term averaged over the same K samples and its KL in closed form.
 * Metrics of `evaluate` are in nats per example, lower is better: `elbo` = −ELBO (a bound on the
 * NLL), `kl`, `reconstruction` = −E_q log p(x | z), and for `fit iwae(k)` also `iwae` = −IWAE_k.
 *
 * Divergence (R0101, ./divergence.ts): −ELBO or −IWAE_K above 100 × the uninformed baseline of
 * every element (ln k per discrete value, a Gaussian's worst case over a `Real(lo, hi)` range, 1 per
 * latent element; an observed `Normal` value has no bound), or not finite, ends the run; the last
 * good checkpoint is kept.
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelIR } from "../compiler/ir";
import { deriveSeed, tfSeed } from "../rng";
import { likelihoodDivergence } from "./divergence";
import { Decoders, EncoderDecoderModel, Encoder, LogMeanExp, checkWidth } from "./latent";
import { newInstancePrefix } from "./lookup";
import type { GenerativeModel, Objective, ScoreOptions, ScoreResult, StepContext } from "./model";
import { ModelError } from "./types";

const LOG_2PI = Math.log(2 * Math.PI);

/** Rows (examples × importance samples) per backend call when scoring. */
const SCORE_ROWS = 20_000;

/** The log-weights of K importance samples for a batch, and the ELBO's two terms. */
export interface ImportanceTerms {
  /** log p(x, z_k) − log q(z_k | x): [K, B]. */
  readonly logWeights: tf.Tensor2D;
  /** log p(x | z_k): [K, B]. */
  readonly logLikelihood: tf.Tensor2D;
  /** KL(q(z | x) ‖ p(z)) in closed form: [B]. */
  readonly kl: tf.Tensor1D;
}

/** A VAE built from a latent-variable model's IR (`fit elbo` or `fit iwae(k)`). */
export class Vae extends EncoderDecoderModel implements GenerativeModel {
  readonly decoders: Decoders;
  readonly encoder: Encoder;
  /** Importance samples of the training objective: 1 for `fit elbo`, K for `fit iwae(k = K)`. */
  readonly trainSamples: number;
  /** This instance's variable-name prefix (`gmN`): a subclass names its own networks under it. */
  protected readonly prefix: string;

  constructor(ir: ModelIR, seed = 1) {
    super(ir);
    if (!this.prior.standardNormal) {
      throw new ModelError(
        `model ${ir.name}: the ELBO needs the prior \`normal\` (its KL in closed form)`,
        "M0103",
        "fit it as an AAE: `fit reconstruction + adversarial(on = z, critic = mlp(hidden = [256, 256]))`",
      );
    }
    const iwae = ir.objectives.find((o) => o.name === "iwae");
    this.trainSamples = iwae ? (iwae.args.k as number) : 1;
    this.prefix = newInstancePrefix();
    this.decoders = new Decoders(ir, this.layout, this.prefix, seed);
    try {
      this.encoder = new Encoder(ir, this.layout, this.prefix, seed);
      if (!this.encoder.gaussian) {
        throw new ModelError(
          `model ${ir.name}: the ELBO needs a Gaussian encoder; this one is \`deterministic\``,
          "M0103",
          "drop `deterministic`, or fit `reconstruction + adversarial(on = z, critic = …)` (an AAE)",
        );
      }
    } catch (e) {
      this.decoders.dispose();
      throw e;
    }
  }

  get variables(): tf.Variable[] {
    return [...this.decoders.variables, ...this.encoder.net.variables];
  }

  paramCount(): number {
    return this.decoders.paramCount() + this.encoder.net.paramCount();
  }

  /**
   * The importance terms of data x ([B, dim]) for noise eps ([K, B, zdim]): z_k = μ + e^{v/2} ε_k.
   * log q(z_k | x) = Σ −½ (log 2π + v + ε²) exactly (no subtraction of nearly equal numbers).
   */
  terms(x: tf.Tensor2D, eps: tf.Tensor3D): ImportanceTerms {
    return tf.tidy(() => {
      const [K, B, Z] = eps.shape;
      const { mean, logVar } = this.encoder.apply(x);
      const lv = logVar!;
      const z3 = tf.add(mean.expandDims(0), tf.mul(tf.exp(tf.mul(lv, 0.5)).expandDims(0), eps)) as tf.Tensor3D;
      const z = z3.reshape([K * B, Z]) as tf.Tensor2D;
      const xs = (K === 1 ? x : tf.tile(x, [K, 1])) as tf.Tensor2D;
      const logLikelihood = this.decoders.logProb(z, xs).reshape([K, B]) as tf.Tensor2D;
      const logPrior = tf.mul(tf.sum(tf.add(tf.square(z3), LOG_2PI), 2), -0.5);
      const logQ = tf.mul(tf.sum(tf.add(tf.add(tf.square(eps), lv.expandDims(0)), LOG_2PI), 2), -0.5);
      const logWeights = tf.sub(tf.add(logLikelihood, logPrior), logQ) as tf.Tensor2D;
      const kl = tf.mul(tf.sum(tf.sub(tf.add(tf.exp(lv), tf.square(mean)), tf.add(lv, 1)), 1), 0.5) as tf.Tensor1D;
      return { logWeights, logLikelihood, kl };
    });
  }

  /** −ELBO averaged over the batch, with one reparameterized sample per example (noise eps [1, B, zdim]). */
  negativeElbo(x: tf.Tensor2D, eps: tf.Tensor3D): tf.Scalar {
    return tf.tidy(() => {
      const t = this.terms(x, eps);
      return tf.mean(tf.sub(t.kl, tf.mean(t.logLikelihood, 0))) as tf.Scalar;
    });
  }

  /** −IWAE_K averaged over the batch (noise eps [K, B, zdim]); log-mean-exp shifted by its maximum. */
  negativeIwae(x: tf.Tensor2D, eps: tf.Tensor3D): tf.Scalar {
    return tf.tidy(() => {
      const K = eps.shape[0];
      const t = this.terms(x, eps);
      return tf.neg(tf.mean(tf.sub(tf.logSumExp(t.logWeights, 0), Math.log(K)))) as tf.Scalar;
    });
  }

  /** Standard normal noise [K, B, zdim] for (seed, step). */
  noise(K: number, B: number, seed: number): tf.Tensor3D {
    return tf.randomNormal([K, B, this.layout.zdim], 0, 1, "float32", tfSeed(seed)) as tf.Tensor3D;
  }

  objective(_settings: { lr: number }): Objective {
    const K = this.trainSamples;
    const name = K > 1 || this.ir.objectives.some((o) => o.name === "iwae") ? "iwae" : "elbo";
    // Decoder and encoder only (a subclass's other networks have steps of their own).
    const variables = [...this.decoders.variables, ...this.encoder.net.variables];
    return {
      steps: [
        {
          name,
          variables,
          divergeAbove: likelihoodDivergence(this.ir),
          loss: (x: tf.Tensor2D, ctx: StepContext) =>
            tf.tidy(() => {
              const eps = this.noise(K, x.shape[0], deriveSeed(ctx.seed, ctx.step));
              return name === "iwae" ? this.negativeIwae(x, eps) : this.negativeElbo(x, eps);
            }),
        },
      ],
      evaluate: (x, n) => this.evaluate(x, n, name === "iwae" ? K : 0),
      primary: name,
      afterStep: () => this.invalidate(),
    };
  }

  /** Held-out metrics in nats per example (lower is better), with fixed noise: see the file's comment. */
  evaluate(x: Float32Array, n: number, iwaeK = 0): Record<string, number> {
    checkWidth(this.ir, x, n, this.dim);
    let kl = 0;
    let rec = 0;
    let iwae = 0;
    const batch = Math.max(1, Math.floor(SCORE_ROWS / Math.max(1, iwaeK)));
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      const [r, k, w] = tf.tidy(() => {
        const xt = tf.tensor2d(x.subarray(start * this.dim, (start + m) * this.dim), [m, this.dim]);
        const t = this.terms(xt, this.noise(1, m, deriveSeed(12345, start)));
        const sums = [tf.sum(t.logLikelihood), tf.sum(t.kl)];
        if (iwaeK > 0) {
          const ti = this.terms(xt, this.noise(iwaeK, m, deriveSeed(54321, start)));
          sums.push(tf.sum(tf.sub(tf.logSumExp(ti.logWeights, 0), Math.log(iwaeK))));
        } else sums.push(tf.scalar(0));
        return sums.map((s) => s.dataSync()[0]);
      });
      rec -= r;
      kl += k;
      iwae -= w;
    }
    const elbo = rec + kl;
    const out: Record<string, number> = { elbo: elbo / n, kl: kl / n, reconstruction: rec / n };
    if (iwaeK > 0) out.iwae = iwae / n;
    return out;
  }

  /**
   * Per-example IWAE estimates of log p(x) with K samples (`values`, kind "estimate") and the
   * ELBO (`extra.elbo`, kind "bound"), streamed over chunks of samples.
   */
  score(x: Float32Array, n: number, options: ScoreOptions = {}): ScoreResult {
    checkWidth(this.ir, x, n, this.dim);
    const K = options.samples ?? 1000;
    if (!Number.isInteger(K) || K < 1) throw new ModelError(`--samples must be a whole number ≥ 1, got ${K}`, "M0104");
    const seed = options.seed ?? 1;
    const examples = Math.max(1, Math.min(n, options.batch ?? 100));
    const samplesPerCall = Math.max(1, Math.min(K, Math.floor(SCORE_ROWS / examples)));
    const values = new Float64Array(n);
    const elbo = new Float64Array(n);
    for (let start = 0, chunk = 0; start < n; start += examples) {
      const m = Math.min(examples, n - start);
      const acc = Array.from({ length: m }, () => new LogMeanExp());
      const recon = new Float64Array(m);
      const xt = tf.tensor2d(x.subarray(start * this.dim, (start + m) * this.dim), [m, this.dim]);
      let kl: Float32Array | undefined;
      try {
        for (let done = 0; done < K; done += samplesPerCall, chunk++) {
          const k = Math.min(samplesPerCall, K - done);
          const [lw, ll, klv] = tf.tidy(() => {
            const t = this.terms(xt, this.noise(k, m, deriveSeed(seed, chunk)));
            return [
              t.logWeights.dataSync() as Float32Array,
              t.logLikelihood.dataSync() as Float32Array,
              t.kl.dataSync() as Float32Array,
            ];
          });
          kl ??= klv;
          for (let s = 0; s < k; s++)
            for (let b = 0; b < m; b++) {
              acc[b].add(lw[s * m + b]);
              recon[b] += ll[s * m + b];
            }
        }
      } finally {
        xt.dispose();
      }
      for (let b = 0; b < m; b++) {
        values[start + b] = acc[b].value();
        elbo[start + b] = recon[b] / K - kl![b];
      }
    }
    return { values, kind: "estimate", extra: { elbo: { values: elbo, kind: "bound" } } };
  }
}

/** Builds a VAE (registry entry for latent models fitted with `elbo` or `iwae`). */
export function buildVae(ir: ModelIR, seed: number): Vae {
  return new Vae(ir, seed);
}
