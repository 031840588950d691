/**
 * The adversarially regularized VAE: `fit elbo + adversarial(on = z, critic = mlp(..))` (or
 * `iwae(k = K) + adversarial(…)`) — a VAE (./vae.ts) whose codes are also pushed towards the
 * prior by a critic on z, as the adversarial autoencoder does (Makhzani, Shlens, Jaitly,
 * Goodfellow & Frey, "Adversarial Autoencoders", arXiv:1511.05644, §2 and its comparison with
 * the VAE: the KL term matches each q(z | x) to p(z), the critic matches the aggregated
 * posterior q(z) = E_x q(z | x) to p(z)).
 *
 *   p(x, z) = N(z; 0, I) · Π_f p(x_f | z),  q(z | x) = N(z; μ(x), diag e^{v(x)})    as the VAE
 *   D(z) ∈ ℝ, a logit: "z was drawn from the prior" vs "z is a code of data"        the AAE's critic
 *
 * Three steps every batch, each with its own Adam and touching only its own variables:
 *
 *   elbo | iwae   min_{enc, dec}  −ELBO(x)  or  −IWAE_K(x)                            (./vae.ts)
 *   critic        min_{D}         E_{z~p(z)}[softplus(−D(z))] + E_x[softplus(D(z̃(x)))]
 *   generator     min_{enc}       E_x[softplus(−D(z̃(x)))]                           (non-saturating)
 *
 * z̃(x) = μ(x) + e^{v(x)/2} ε, the encoder's reparameterized code (one draw per example, noise
 * seeded by (run seed, step), as the AAE's). The critic and its phases are the AAE's
 * ({@link CodeCritic}, ./aae.ts). It is still a VAE: it scores as one (IWAE estimate, ELBO
 * beside it), encodes with the encoder's mean; `evaluate` adds the critic's held-out loss
 * (`critic`) and `mmd` (codes vs prior) to the VAE's metrics.
 *
 * Divergence (R0101, ./divergence.ts): the VAE's step as in ./vae.ts (100 × the uninformed
 * baseline), the critic's and generator's as in ./aae.ts (2 × and 1 × softplus(500) nats).
 */
import type * as tf from "@tensorflow/tfjs";
import type { ModelIR } from "../compiler/ir";
import { deriveSeed } from "../rng";
import { CodeCritic, codesMmd, encoderCodes, type CodeSource } from "./aae";
import type { Objective, StepContext } from "./model";
import { ModelError } from "./types";
import { Vae } from "./vae";

/** A VAE with a critic on its codes, built from `fit elbo | iwae(k) + adversarial(on = z, …)`. */
export class AdversarialVae extends Vae implements CodeSource {
  /** The critic on z and its two phases. */
  readonly adversary: CodeCritic;

  constructor(ir: ModelIR, seed = 1) {
    super(ir, seed);
    try {
      const c = CodeCritic.build(ir, this.layout, this.prefix, seed, "a VAE");
      if (!c) throw new ModelError(`model ${ir.name} has no \`adversarial(on = z, …)\` in \`fit\``, "M0103");
      this.adversary = c;
    } catch (e) {
      super.dispose();
      throw e;
    }
  }

  /** Decoders, encoder, then the critic. */
  override get variables(): tf.Variable[] {
    return [...super.variables, ...this.adversary.net.variables];
  }

  /** Decoders + encoder + critic: the compiler's count. */
  override paramCount(): number {
    return super.paramCount() + this.adversary.net.paramCount();
  }

  /** Codes of x: the encoder's mean, or a reparameterized draw of q with noise `seed`. */
  codes(x: tf.Tensor2D, seed: number | undefined): tf.Tensor2D {
    return encoderCodes(this.encoder, x, seed);
  }

  /** The VAE's step (`elbo` or `iwae`), then the AAE's `critic` and `generator` steps. */
  override objective(settings: { lr: number }): Objective {
    const vae = super.objective(settings);
    const noise = (ctx: StepContext, stream: number) => deriveSeed(deriveSeed(ctx.seed, ctx.step), stream);
    return {
      ...vae,
      steps: [...vae.steps, ...this.adversary.steps(this, noise)],
      evaluate: (x, n) => {
        const out = vae.evaluate(x, n);
        out.critic = this.adversary.evaluate(this, x, n, this.dim);
        const mmd = codesMmd(this, x, n, this.dim);
        if (mmd !== undefined) out.mmd = mmd;
        return out;
      },
    };
  }

  /** The decoders and the encoder, then the critic. */
  override invalidate(): void {
    super.invalidate();
    this.adversary.invalidate();
  }

  /** The decoders and the encoder, then the critic. */
  override dispose(): void {
    super.dispose();
    this.adversary.dispose();
  }
}
