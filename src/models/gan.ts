/**
 * The generative adversarial network (Goodfellow et al., "Generative Adversarial Nets",
 * NeurIPS 2014; DCGAN: Radford, Metz & Chintala, ICLR 2016):
 *
 *   z ~ p(z)   (the latent prior: normal by default)         x = range(G(z))
 *   `x = generator(z) by mlp(hidden = [..]) | dcgan(base = b)`
 *   `fit adversarial(critic = mlp(hidden = [..]) | dcgan(base = b))`
 *
 * An implicit model: it samples but has no density, so it has no `score`. Trained by two steps,
 * each with its own Adam (β₁ = 0.5, β₂ = 0.999, the DCGAN paper's; lr from the run):
 *
 *   critic     min_D  E_x[softplus(−D(x))] + E_z[softplus(D(G(z)))]     every batch
 *   generator  min_G  E_z[softplus(−D(G(z)))]                           every k-th batch
 *
 * where softplus(−l) = −log σ(l): the critic is a logistic classifier of real (1) against
 * generated (0), and the generator minimizes the non-saturating loss −log D(G(z)) (the paper's
 * §3 remedy for vanishing gradients early in training) rather than log(1 − D(G(z))).
 *
 * Outputs lie in the domain of x: `Real(lo, hi)` → lo + (hi − lo)·σ(G(z)); Bernoulli → σ(G(z))
 * (a grey level in [0, 1]); `Categorical(k)` → (k − 1)·σ(G(z)); `Normal` → G(z) as is.
 * MLP networks use ReLU (generator) and LeakyReLU 0.2 (critic) hidden layers;
 * DCGAN networks are ./networks/dcgan.ts, with batch-norm running statistics as `state`.
 *
 * Divergence (R0101, ./divergence.ts): `critic` above 2 × softplus(500) ≈ 1,000 nats (two means
 * of softplus of logits; beyond ±500 a logit is no probability in float32) and `generator` above
 * softplus(500) ≈ 500, or any loss not finite, ends the run; the last good checkpoint is kept.
 */
import * as tf from "@tensorflow/tfjs";
import type { AuxNetworkIR, FactorIR, ModelIR, VariableIR } from "../compiler/ir";
import { deriveSeed } from "../rng";
import { adversarialDivergence } from "./divergence";
import { Prior, latentLayout, takeColumns, type LatentLayout } from "./latent";
import { newInstancePrefix } from "./lookup";
import type { GenerativeModel, Objective, StepContext, TrainStep } from "./model";
import { DcganCritic, DcganGenerator } from "./networks/dcgan";
import { Mlp } from "./networks/mlp";
import { ModelError } from "./types";

/** Adam's betas for both steps (DCGAN's). */
export const GAN_BETAS = { beta1: 0.5, beta2: 0.999 } as const;

/** Examples per backend call when sampling or evaluating. */
const BATCH = 500;
/** Held-out examples `evaluate` reads (the losses are noisy estimates either way). */
const EVAL_EXAMPLES = 1000;

/** Options of the GAN. */
export interface GanOptions {
  /**
   * k: critic steps per generator step (the generator runs on every k-th batch). Default: the train block's
   * `critic_steps`, else 1.
   */
  criticSteps?: number;
}

/** A generator: codes → raw outputs [B, dim]. */
interface Generator {
  readonly variables: tf.Variable[];
  readonly state: tf.Variable[];
  apply(z: tf.Tensor2D, training: boolean): tf.Tensor2D;
  paramCount(): number;
  dispose(): void;
}

/** A critic: data → logits [B]. */
interface Critic {
  readonly variables: tf.Variable[];
  readonly state: tf.Variable[];
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor1D;
  paramCount(): number;
  dispose(): void;
}

function mlpGenerator(prefix: string, sizes: readonly number[], seed: number): Generator {
  const net = new Mlp(prefix, sizes, { seed, activation: "relu" });
  return {
    variables: net.variables,
    state: [],
    apply: (z) => net.apply(z),
    paramCount: () => net.paramCount(),
    dispose: () => net.dispose(),
  };
}

function mlpCritic(prefix: string, sizes: readonly number[], seed: number): Critic {
  const net = new Mlp(prefix, sizes, { seed, activation: "leaky_relu" });
  return {
    variables: net.variables,
    state: [],
    apply: (x) => net.apply(x).reshape([-1]) as tf.Tensor1D,
    paramCount: () => net.paramCount(),
    dispose: () => net.dispose(),
  };
}

/** The GAN of an implicit model's IR. */
export class Gan implements GenerativeModel {
  readonly kind = "implicit" as const;
  readonly observed: readonly VariableIR[];
  readonly dim: number;
  readonly layout: LatentLayout;
  readonly prior: Prior;
  readonly generator: Generator;
  readonly critic: Critic;
  /** The image's variable (the generator's target). */
  readonly target: VariableIR;
  /** Positions in z of the generator's inputs. */
  private readonly inputs: Int32Array;
  readonly criticSteps: number;

  constructor(
    readonly ir: ModelIR,
    seed = 1,
    options: GanOptions = {},
  ) {
    this.layout = latentLayout(ir);
    this.observed = this.layout.observed;
    this.dim = this.layout.dim;
    const gens = ir.factors.filter((f) => f.family === "implicit");
    const critics = ir.networks.filter((n) => n.role === "critic");
    if (gens.length !== 1 || this.observed.length !== 1) {
      throw new ModelError(
        `model ${ir.name}: gm builds a GAN with one generated variable \`x = generator(z) by …\` and nothing else observed`,
        "M0103",
      );
    }
    if (critics.length !== 1)
      throw new ModelError(
        `model ${ir.name}: a GAN is trained against one critic, \`fit adversarial(critic = …)\``,
        "M0103",
      );
    const g: FactorIR = gens[0];
    const c: AuxNetworkIR = critics[0];
    this.target = this.observed[0];
    this.inputs = Int32Array.from(g.context, (e) => this.layout.zpos[e]);
    if (this.inputs.some((p) => p < 0))
      throw new ModelError(`\`${g.source}\`: a generator reads latent variables only`, "M0103");
    this.prior = new Prior(ir, this.layout);
    this.criticSteps = options.criticSteps ?? ir.train.criticSteps ?? 1;
    if (!(Number.isInteger(this.criticSteps) && this.criticSteps >= 1))
      throw new ModelError(
        `critic steps per generator step must be a positive integer, got ${this.criticSteps}`,
        "M0103",
      );
    const prefix = newInstancePrefix();
    const gs = g.network!;
    this.generator =
      gs.kind === "mlp"
        ? mlpGenerator(`${prefix}/generator`, gs.sizes, deriveSeed(seed, 1))
        : gs.kind === "dcgan-generator"
          ? new DcganGenerator(`${prefix}/generator`, gs, deriveSeed(seed, 1))
          : unsupported(g.source);
    try {
      const cs = c.network;
      this.critic =
        cs.kind === "mlp"
          ? mlpCritic(`${prefix}/critic`, cs.sizes, deriveSeed(seed, 2))
          : cs.kind === "dcgan-critic"
            ? new DcganCritic(`${prefix}/critic`, cs, deriveSeed(seed, 2))
            : unsupported(c.source);
    } catch (e) {
      this.generator.dispose();
      throw e;
    }
  }

  get variables(): tf.Variable[] {
    return [...this.generator.variables, ...this.critic.variables];
  }

  get state(): tf.Variable[] {
    return [...this.generator.state, ...this.critic.state];
  }

  paramCount(): number {
    return this.generator.paramCount() + this.critic.paramCount();
  }

  /** The range map of the target's domain applied to raw generator outputs. */
  private toDomain(raw: tf.Tensor2D): tf.Tensor2D {
    const d = this.target.domain;
    switch (d.kind) {
      case "real":
        return tf.add(tf.mul(tf.sigmoid(raw), d.hi - d.lo), d.lo) as tf.Tensor2D;
      case "bernoulli":
        return tf.sigmoid(raw) as tf.Tensor2D;
      case "categorical":
        return tf.mul(tf.sigmoid(raw), d.k - 1) as tf.Tensor2D;
      case "normal":
        return raw;
    }
  }

  /** Codes of n draws from the prior [n, zdim], seeded. */
  codes(n: number, seed: number): tf.Tensor2D {
    return tf.tensor2d(this.prior.sample(n, seed), [n, this.layout.zdim]);
  }

  /** G(z) in the domain of x: [B, dim]. `training` uses batch statistics (and moves the running ones). */
  generate(z: tf.Tensor2D, training = false): tf.Tensor2D {
    return tf.tidy(() => this.toDomain(this.generator.apply(takeColumns(z, this.inputs), training)));
  }

  /** The critic's logits D(x) [B] ("real" is positive). */
  criticLogits(x: tf.Tensor2D, training = false): tf.Tensor1D {
    return this.critic.apply(x, training);
  }

  /** The critic's loss: real x labelled 1, G(z) labelled 0 (binary cross-entropy, mean). */
  criticLoss(x: tf.Tensor2D, z: tf.Tensor2D, training = true): tf.Scalar {
    return tf.tidy(() => {
      // Only the critic's variables are differentiated in its step, so G(z) acts as data.
      const fake = this.generate(z, training);
      const real = tf.mean(tf.softplus(tf.neg(this.criticLogits(x, training))));
      return tf.add(real, tf.mean(tf.softplus(this.criticLogits(fake, training)))) as tf.Scalar;
    });
  }

  /** The non-saturating generator loss −log D(G(z)), mean. */
  generatorLoss(z: tf.Tensor2D, training = true): tf.Scalar {
    return tf.tidy(
      () => tf.mean(tf.softplus(tf.neg(this.criticLogits(this.generate(z, training), training)))) as tf.Scalar,
    );
  }

  /** The critic and generator steps; `criticSteps` (the run's setting) overrides {@link Gan.criticSteps}. */
  objective(settings: { lr: number; criticSteps?: number }): Objective {
    const k = settings.criticSteps ?? this.criticSteps;
    if (!(Number.isInteger(k) && k >= 1))
      throw new ModelError(`critic steps per generator step must be a positive integer, got ${k}`, "M0103");
    const noise = (x: tf.Tensor2D, ctx: StepContext, stream: number) =>
      this.codes(x.shape[0], deriveSeed(deriveSeed(ctx.seed, stream), ctx.step));
    const critic: TrainStep = {
      name: "critic",
      variables: this.critic.variables,
      optimizer: { lr: settings.lr, ...GAN_BETAS },
      divergeAbove: adversarialDivergence(2),
      loss: (x, ctx) => tf.tidy(() => this.criticLoss(x, noise(x, ctx, 71))),
    };
    const generator: TrainStep = {
      name: "generator",
      variables: this.generator.variables,
      optimizer: { lr: settings.lr, ...GAN_BETAS },
      divergeAbove: adversarialDivergence(1),
      every: k,
      loss: (x, ctx) => tf.tidy(() => this.generatorLoss(noise(x, ctx, 72))),
    };
    return {
      steps: [critic, generator],
      primary: "critic",
      evaluate: (x, n) => this.evaluate(x, n),
    };
  }

  /** Held-out losses (evaluation mode, nats): `critic` and `generator`, over ≤ 1,000 examples. */
  evaluate(x: Float32Array, n: number): Record<string, number> {
    const m = Math.min(n, EVAL_EXAMPLES);
    let critic = 0;
    let generator = 0;
    for (let s = 0; s < m; s += BATCH) {
      const b = Math.min(BATCH, m - s);
      const [c, g] = tf.tidy(() => {
        const xb = tf.tensor2d(x.subarray(s * this.dim, (s + b) * this.dim), [b, this.dim]);
        const z = this.codes(b, deriveSeed(12345, s));
        return [this.criticLoss(xb, z, false).dataSync()[0], this.generatorLoss(z, false).dataSync()[0]];
      });
      critic += c * b;
      generator += g * b;
    }
    return { critic: critic / m, generator: generator / m };
  }

  sample(n: number, seed: number): Float32Array {
    const out = new Float32Array(n * this.dim);
    for (let s = 0; s < n; s += BATCH) {
      const b = Math.min(BATCH, n - s);
      const v = tf.tidy(() => this.generate(this.codes(b, deriveSeed(seed, s)), false).dataSync());
      out.set(v, s * this.dim);
    }
    return out;
  }

  /** The critic's mean logit on data (not a likelihood: how "real" the critic finds it). */
  criticMean(x: Float32Array, n: number): number {
    let total = 0;
    for (let s = 0; s < n; s += BATCH) {
      const b = Math.min(BATCH, n - s);
      total += tf.tidy(
        () =>
          this.criticLogits(tf.tensor2d(x.subarray(s * this.dim, (s + b) * this.dim), [b, this.dim]))
            .sum()
            .dataSync()[0],
      );
    }
    return total / n;
  }

  invalidate(): void {
    /* nothing cached */
  }

  dispose(): void {
    this.generator.dispose();
    this.critic.dispose();
  }
}

function unsupported(source: string): never {
  throw new ModelError(`\`${source}\`: a GAN's networks are \`mlp(hidden = [..])\` or \`dcgan(base = b)\``, "M0103");
}

/** The registry's builder for implicit models. */
export function buildGan(ir: ModelIR, seed: number): GenerativeModel {
  return new Gan(ir, seed);
}
