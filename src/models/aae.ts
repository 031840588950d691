/**
 * The adversarial autoencoder (Makhzani, Shlens, Jaitly, Goodfellow & Frey, "Adversarial
 * Autoencoders", ICLR workshop 2016, arXiv:1511.05644).
 *
 *   encoder  z = f(x)  (`deterministic`)  or  z = μ(x) + e^{v(x)/2} ε  (Gaussian, reparameterized)
 *   decoder  p(x | z) = Π_f p(x_f | z)                        ./latent.ts, one mlp per factor
 *   critic   D(z) ∈ ℝ, a logit: "z was drawn from the prior p(z)" vs "z is a code of data"
 *
 * Trained in the paper's three alternating phases, one step each, every batch, each with its own
 * Adam optimizer and touching only its own variables:
 *
 *   reconstruction  min_{enc, dec}  E_x[−log p(x | z = enc(x))]
 *   critic          min_{D}         E_{z~p(z)}[softplus(−D(z))] + E_x[softplus(D(enc(x)))]
 *   generator       min_{enc}       E_x[softplus(−D(enc(x)))]          (the non-saturating form)
 *
 * softplus(−l) = −log σ(l), so the critic's loss is the binary cross-entropy of telling prior
 * samples (label 1) from codes (label 0). Any prior that can be sampled works: `normal`,
 * `mixture(k, radius, scale)`, `uniform(lo, hi)`. Without `adversarial(…)` in `fit` the model is
 * a plain autoencoder (the reconstruction step only).
 *
 * An AAE has no likelihood: `score()` returns minus the reconstruction error,
 * log p(x | z = enc(x)) with the encoder's mean (kind "reconstruction"; higher is more normal,
 * as every score). `evaluate` reports, in nats per example, `reconstruction` (−log p(x | ẑ)),
 * the critic's loss `critic`, and `mmd`: the squared MMD between 500 held-out codes and 500
 * prior samples (./eval/twosample.ts; near 0 when the codes match the prior).
 */
import * as tf from "@tensorflow/tfjs";
import type { AuxNetworkIR, ModelIR } from "../compiler/ir";
import { deriveSeed } from "../rng";
import { mmd2 } from "./eval/twosample";
import { Decoders, EncoderDecoderModel, Encoder, checkWidth, takeColumns } from "./latent";
import { newInstancePrefix } from "./lookup";
import type { GenerativeModel, Objective, ScoreOptions, ScoreResult, StepContext, TrainStep } from "./model";
import { Mlp, sampleGaussian } from "./networks/mlp";
import { ModelError } from "./types";

/** An AAE (or, without a critic, a plain autoencoder) built from a latent-variable model's IR. */
export class Aae extends EncoderDecoderModel implements GenerativeModel {
  readonly decoders: Decoders;
  readonly encoder: Encoder;
  /** The critic on z, absent for a plain autoencoder. */
  readonly critic?: Mlp;
  /** Code positions the critic reads (`adversarial(on = z, …)`). */
  readonly criticInputs: Int32Array;

  constructor(ir: ModelIR, seed = 1) {
    super(ir);
    const prefix = newInstancePrefix();
    this.decoders = new Decoders(ir, this.layout, prefix, seed);
    const built: { dispose(): void }[] = [this.decoders];
    try {
      this.encoder = new Encoder(ir, this.layout, prefix, seed);
      built.push(this.encoder);
      const critics = ir.networks.filter((n) => n.role === "critic");
      if (critics.length > 1)
        throw new ModelError(
          `model ${ir.name} has ${critics.length} critics; gm builds an AAE with one \`adversarial(on = z, …)\``,
          "M0103",
        );
      const c: AuxNetworkIR | undefined = critics[0];
      this.criticInputs = c ? Int32Array.from(c.inputs, (e) => this.layout.zpos[e]) : new Int32Array(0);
      if (c) {
        if (c.network.kind !== "mlp")
          throw new ModelError(`\`${c.source}\`: the critic on a code is an \`mlp(hidden = [...])\``, "M0103");
        if (this.criticInputs.some((p) => p < 0))
          throw new ModelError(
            `\`${c.source}\`: an AAE's critic reads latent variables (\`adversarial(on = z, …)\`)`,
            "M0103",
          );
        this.critic = new Mlp(`${prefix}/critic`, c.network.sizes, {
          seed: deriveSeed(seed, 9),
          activation: "leaky_relu",
        });
      }
    } catch (e) {
      for (const b of built) b.dispose();
      throw e;
    }
  }

  get variables(): tf.Variable[] {
    return [...this.decoders.variables, ...this.encoder.net.variables, ...(this.critic?.variables ?? [])];
  }

  paramCount(): number {
    return this.decoders.paramCount() + this.encoder.net.paramCount() + (this.critic?.paramCount() ?? 0);
  }

  /** Codes of x ([B, dim]): the deterministic code, or a reparameterized draw of q with noise `seed`. */
  codes(x: tf.Tensor2D, seed: number | undefined): tf.Tensor2D {
    return tf.tidy(() => {
      const { mean, logVar } = this.encoder.apply(x);
      if (!logVar || seed === undefined) return mean;
      return sampleGaussian(mean, logVar, seed);
    });
  }

  /** Mean of −log p(x | z = codes(x)) over the batch. */
  reconstructionLoss(x: tf.Tensor2D, seed: number | undefined): tf.Scalar {
    return tf.tidy(() => tf.neg(tf.mean(this.decoders.logProb(this.codes(x, seed), x))) as tf.Scalar);
  }

  /** The critic's logits for codes z ([N, zdim]): [N]. */
  criticLogits(z: tf.Tensor2D): tf.Tensor1D {
    if (!this.critic) throw new ModelError(`model ${this.ir.name} has no critic`, "M0103");
    return tf.tidy(() => this.critic!.apply(takeColumns(z, this.criticInputs)).reshape([-1]) as tf.Tensor1D);
  }

  /** The critic's binary cross-entropy: prior samples (label 1) vs codes of x (label 0). */
  criticLoss(x: tf.Tensor2D, priorSeed: number, noiseSeed: number | undefined): tf.Scalar {
    return tf.tidy(() => {
      const B = x.shape[0];
      const zp = tf.tensor2d(this.prior.sample(B, priorSeed), [B, this.layout.zdim]);
      const real = tf.mean(tf.softplus(tf.neg(this.criticLogits(zp))));
      const fake = tf.mean(tf.softplus(this.criticLogits(this.codes(x, noiseSeed))));
      return tf.add(real, fake) as tf.Scalar;
    });
  }

  /** The encoder as generator: −log σ(D(enc(x))), the non-saturating loss. */
  generatorLoss(x: tf.Tensor2D, noiseSeed: number | undefined): tf.Scalar {
    return tf.tidy(() => tf.mean(tf.softplus(tf.neg(this.criticLogits(this.codes(x, noiseSeed))))) as tf.Scalar);
  }

  objective(_settings: { lr: number }): Objective {
    const noise = (ctx: StepContext, stream: number) =>
      this.encoder.gaussian ? deriveSeed(deriveSeed(ctx.seed, ctx.step), stream) : undefined;
    const steps: TrainStep[] = [
      {
        name: "reconstruction",
        variables: [...this.encoder.net.variables, ...this.decoders.variables],
        loss: (x, ctx) => this.reconstructionLoss(x, noise(ctx, 1)),
      },
    ];
    if (this.critic) {
      steps.push(
        {
          name: "critic",
          variables: [...this.critic.variables],
          loss: (x, ctx) => this.criticLoss(x, deriveSeed(deriveSeed(ctx.seed, ctx.step), 4), noise(ctx, 2)),
        },
        {
          name: "generator",
          variables: [...this.encoder.net.variables],
          loss: (x, ctx) => this.generatorLoss(x, noise(ctx, 3)),
        },
      );
    }
    return {
      steps,
      evaluate: (x, n) => this.evaluate(x, n),
      primary: "reconstruction",
      afterStep: () => this.invalidate(),
    };
  }

  /** Held-out metrics: reconstruction (nats per example), the critic's loss, MMD² codes vs prior. */
  evaluate(x: Float32Array, n: number): Record<string, number> {
    checkWidth(this.ir, x, n, this.dim);
    let rec = 0;
    let critic = 0;
    const batch = 1000;
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      const [r, c] = tf.tidy(() => {
        const xt = tf.tensor2d(x.subarray(start * this.dim, (start + m) * this.dim), [m, this.dim]);
        const r = this.reconstructionLoss(xt, undefined).dataSync()[0];
        const c = this.critic ? this.criticLoss(xt, deriveSeed(777, start), undefined).dataSync()[0] : 0;
        return [r, c];
      });
      rec += r * m;
      critic += c * m;
    }
    const out: Record<string, number> = { reconstruction: rec / n };
    if (this.critic) out.critic = critic / n;
    const k = Math.min(500, n);
    if (k >= 2) {
      const codes = this.encoder.encode(x.subarray(0, k * this.dim), k, this.dim);
      out.mmd = mmd2(codes, k, this.prior.sample(k, 4242), k, this.layout.zdim);
    }
    return out;
  }

  /** Minus the reconstruction error, log p(x | z = μ(x)) per example (kind "reconstruction"). */
  score(x: Float32Array, n: number, options: ScoreOptions = {}): ScoreResult {
    checkWidth(this.ir, x, n, this.dim);
    const values = new Float64Array(n);
    const batch = options.batch ?? 1000;
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      const v = tf.tidy(() => {
        const xt = tf.tensor2d(x.subarray(start * this.dim, (start + m) * this.dim), [m, this.dim]);
        return this.decoders.logProb(this.codes(xt, undefined), xt).dataSync();
      });
      for (let i = 0; i < m; i++) values[start + i] = v[i];
    }
    return { values, kind: "reconstruction" };
  }

  /** The decoders and the encoder, then the critic. */
  override invalidate(): void {
    super.invalidate();
    this.critic?.invalidate();
  }

  /** The decoders and the encoder, then the critic. */
  override dispose(): void {
    super.dispose();
    this.critic?.dispose();
  }
}

/** Builds an AAE (registry entry for latent models fitted with `reconstruction` / `adversarial`). */
export function buildAae(ir: ModelIR, seed: number): Aae {
  return new Aae(ir, seed);
}
