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
 *
 * The critic and its two phases ({@link CodeCritic}) are shared with the adversarially
 * regularized VAE (`fit elbo + adversarial(on = z, …)`, ./vae-adversarial.ts).
 *
 * Divergence (R0101, ./divergence.ts): `reconstruction` above 100 × the observed elements'
 * uninformed baseline (64 binary pixels: 100 × 44.4 nats), `critic` above 2 × softplus(500)
 * ≈ 1,000 nats and `generator` above softplus(500) ≈ 500 (logits beyond ±500 are no probability
 * in float32), or any loss not finite, ends the run; the last good checkpoint is kept.
 */
import * as tf from "@tensorflow/tfjs";
import type { AuxNetworkIR, ModelIR } from "../compiler/ir";
import { deriveSeed } from "../rng";
import { adversarialDivergence, likelihoodDivergence } from "./divergence";
import { mmd2 } from "./eval/twosample";
import {
  Decoders,
  EncoderDecoderModel,
  Encoder,
  checkWidth,
  takeColumns,
  type LatentLayout,
  type Prior,
} from "./latent";
import { newInstancePrefix } from "./lookup";
import type { GenerativeModel, Objective, ScoreOptions, ScoreResult, StepContext, TrainStep } from "./model";
import { Mlp, sampleGaussian } from "./networks/mlp";
import { ModelError } from "./types";

/** What a critic on codes needs of its model: the prior, the layout, the encoder and its codes. */
export interface CodeSource {
  readonly ir: ModelIR;
  readonly layout: LatentLayout;
  readonly prior: Prior;
  readonly encoder: Encoder;
  /** Codes of x ([B, zdim]): the encoder's mean, or a reparameterized draw of q with noise `seed`. */
  codes(x: tf.Tensor2D, seed: number | undefined): tf.Tensor2D;
}

/** Codes of x through `encoder`: the deterministic code (or q's mean without a seed), else μ + e^{v/2} ε. */
export function encoderCodes(encoder: Encoder, x: tf.Tensor2D, seed: number | undefined): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, logVar } = encoder.apply(x);
    if (!logVar || seed === undefined) return mean;
    return sampleGaussian(mean, logVar, seed);
  });
}

/** MMD² between the encoder's mean codes of the first ≤ 500 examples and as many prior samples (undefined below 2). */
export function codesMmd(m: CodeSource, x: Float32Array, n: number, dim: number): number | undefined {
  const k = Math.min(500, n);
  if (k < 2) return undefined;
  const codes = m.encoder.encode(x.subarray(0, k * dim), k, dim);
  return mmd2(codes, k, m.prior.sample(k, 4242), k, m.layout.zdim);
}

/**
 * The critic D(z) of `adversarial(on = z, critic = mlp(..))` and the AAE's two adversarial
 * phases on a model's codes (the file's comment): shared by the AAE and the adversarially
 * regularized VAE (./vae-adversarial.ts).
 */
export class CodeCritic {
  private constructor(
    /** The critic's network: the critic's inputs → one logit. */
    readonly net: Mlp,
    /** Code positions the critic reads. */
    readonly inputs: Int32Array,
  ) {}

  /**
   * The critic of `ir`'s `fit` (variables `<prefix>/critic/…`), or undefined when it has none;
   * `family` ("an AAE", "a VAE") names the model in errors.
   */
  static build(
    ir: ModelIR,
    layout: LatentLayout,
    prefix: string,
    seed: number,
    family: string,
  ): CodeCritic | undefined {
    const critics = ir.networks.filter((n) => n.role === "critic");
    if (critics.length > 1)
      throw new ModelError(
        `model ${ir.name} has ${critics.length} critics; gm builds ${family} with one \`adversarial(on = z, …)\``,
        "M0103",
      );
    const c: AuxNetworkIR | undefined = critics[0];
    if (!c) return undefined;
    const inputs = Int32Array.from(c.inputs, (e) => layout.zpos[e]);
    if (c.network.kind !== "mlp")
      throw new ModelError(`\`${c.source}\`: the critic on a code is an \`mlp(hidden = [...])\``, "M0103");
    if (inputs.some((p) => p < 0))
      throw new ModelError(
        `\`${c.source}\`: ${family}'s critic reads latent variables (\`adversarial(on = z, …)\`)`,
        "M0103",
      );
    return new CodeCritic(
      new Mlp(`${prefix}/critic`, c.network.sizes, { seed: deriveSeed(seed, 9), activation: "leaky_relu" }),
      inputs,
    );
  }

  /** The critic's logits for codes z ([N, zdim]): [N]. */
  logits(z: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => this.net.apply(takeColumns(z, this.inputs)).reshape([-1]) as tf.Tensor1D);
  }

  /** The critic's binary cross-entropy: prior samples (label 1) vs codes of x (label 0). */
  loss(m: CodeSource, x: tf.Tensor2D, priorSeed: number, noiseSeed: number | undefined): tf.Scalar {
    return tf.tidy(() => {
      const B = x.shape[0];
      const zp = tf.tensor2d(m.prior.sample(B, priorSeed), [B, m.layout.zdim]);
      const real = tf.mean(tf.softplus(tf.neg(this.logits(zp))));
      const fake = tf.mean(tf.softplus(this.logits(m.codes(x, noiseSeed))));
      return tf.add(real, fake) as tf.Scalar;
    });
  }

  /** The encoder as generator: −log σ(D(enc(x))), the non-saturating loss. */
  generatorLoss(m: CodeSource, x: tf.Tensor2D, noiseSeed: number | undefined): tf.Scalar {
    return tf.tidy(() => tf.mean(tf.softplus(tf.neg(this.logits(m.codes(x, noiseSeed))))) as tf.Scalar);
  }

  /**
   * The two adversarial phases as trainer steps, `critic` (only D's variables) then `generator`
   * (only the encoder's); `noise(ctx, stream)` seeds the codes' reparameterization (undefined: the mean).
   */
  steps(m: CodeSource, noise: (ctx: StepContext, stream: number) => number | undefined): TrainStep[] {
    return [
      {
        name: "critic",
        variables: [...this.net.variables],
        divergeAbove: adversarialDivergence(2),
        loss: (x, ctx) => this.loss(m, x, deriveSeed(deriveSeed(ctx.seed, ctx.step), 4), noise(ctx, 2)),
      },
      {
        name: "generator",
        variables: [...m.encoder.net.variables],
        divergeAbove: adversarialDivergence(1),
        loss: (x, ctx) => this.generatorLoss(m, x, noise(ctx, 3)),
      },
    ];
  }

  /** The critic's held-out loss on the encoder's mean codes (nats per example; prior seeds fixed per chunk). */
  evaluate(m: CodeSource, x: Float32Array, n: number, dim: number): number {
    let critic = 0;
    const batch = 1000;
    for (let start = 0; start < n; start += batch) {
      const size = Math.min(batch, n - start);
      const c = tf.tidy(() => {
        const xt = tf.tensor2d(x.subarray(start * dim, (start + size) * dim), [size, dim]);
        return this.loss(m, xt, deriveSeed(777, start), undefined).dataSync()[0];
      });
      critic += c * size;
    }
    return critic / n;
  }

  /** Drops the critic's cached weights. */
  invalidate(): void {
    this.net.invalidate();
  }

  /** Frees the critic's variables. */
  dispose(): void {
    this.net.dispose();
  }
}

/** An AAE (or, without a critic, a plain autoencoder) built from a latent-variable model's IR. */
export class Aae extends EncoderDecoderModel implements GenerativeModel, CodeSource {
  readonly decoders: Decoders;
  readonly encoder: Encoder;
  /** The critic on z and its phases, absent for a plain autoencoder. */
  readonly adversary?: CodeCritic;

  constructor(ir: ModelIR, seed = 1) {
    super(ir);
    const prefix = newInstancePrefix();
    this.decoders = new Decoders(ir, this.layout, prefix, seed);
    const built: { dispose(): void }[] = [this.decoders];
    try {
      this.encoder = new Encoder(ir, this.layout, prefix, seed);
      built.push(this.encoder);
      this.adversary = CodeCritic.build(ir, this.layout, prefix, seed, "an AAE");
    } catch (e) {
      for (const b of built) b.dispose();
      throw e;
    }
  }

  /** The critic's network on z, absent for a plain autoencoder. */
  get critic(): Mlp | undefined {
    return this.adversary?.net;
  }

  get variables(): tf.Variable[] {
    return [...this.decoders.variables, ...this.encoder.net.variables, ...(this.critic?.variables ?? [])];
  }

  paramCount(): number {
    return this.decoders.paramCount() + this.encoder.net.paramCount() + (this.critic?.paramCount() ?? 0);
  }

  /** Codes of x ([B, dim]): the deterministic code, or a reparameterized draw of q with noise `seed`. */
  codes(x: tf.Tensor2D, seed: number | undefined): tf.Tensor2D {
    return encoderCodes(this.encoder, x, seed);
  }

  /** Mean of −log p(x | z = codes(x)) over the batch. */
  reconstructionLoss(x: tf.Tensor2D, seed: number | undefined): tf.Scalar {
    return tf.tidy(() => tf.neg(tf.mean(this.decoders.logProb(this.codes(x, seed), x))) as tf.Scalar);
  }

  objective(_settings: { lr: number }): Objective {
    const noise = (ctx: StepContext, stream: number) =>
      this.encoder.gaussian ? deriveSeed(deriveSeed(ctx.seed, ctx.step), stream) : undefined;
    const steps: TrainStep[] = [
      {
        name: "reconstruction",
        variables: [...this.encoder.net.variables, ...this.decoders.variables],
        divergeAbove: likelihoodDivergence(
          this.ir,
          this.ir.variables.filter((v) => !v.latent),
        ),
        loss: (x, ctx) => this.reconstructionLoss(x, noise(ctx, 1)),
      },
    ];
    if (this.adversary) steps.push(...this.adversary.steps(this, noise));
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
    const batch = 1000;
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      const r = tf.tidy(() => {
        const xt = tf.tensor2d(x.subarray(start * this.dim, (start + m) * this.dim), [m, this.dim]);
        return this.reconstructionLoss(xt, undefined).dataSync()[0];
      });
      rec += r * m;
    }
    const out: Record<string, number> = { reconstruction: rec / n };
    if (this.adversary) out.critic = this.adversary.evaluate(this, x, n, this.dim);
    const mmd = codesMmd(this, x, n, this.dim);
    if (mmd !== undefined) out.mmd = mmd;
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
    this.adversary?.invalidate();
  }

  /** The decoders and the encoder, then the critic. */
  override dispose(): void {
    super.dispose();
    this.adversary?.dispose();
  }
}

/** Builds an AAE (registry entry for latent models fitted with `reconstruction` / `adversarial`). */
export function buildAae(ir: ModelIR, seed: number): Aae {
  return new Aae(ir, seed);
}
