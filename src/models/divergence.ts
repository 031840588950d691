/**
 * When a training step's loss means the run has diverged (R0101): every step of every family has a
 * `divergeAbove` (./model.ts `TrainStep`), from one of two bounds. A loss that is not finite always
 * counts.
 *
 * Likelihood-like losses (an NLL, −ELBO, −IWAE_K, an AAE's reconstruction −log p(x | z)), in nats
 * per example: {@link likelihoodDivergence} = 100 × max(1, Σ_elements b(domain)), where b is what
 * an uninformed model pays per element — ln k for k outcomes (the uniform distribution), and for a
 * value in `Real(lo, hi)` the unit-variance Gaussian's worst case over the range,
 * ½ ln 2π + (hi − lo)²/2 (at least 1). An observed `Normal` value has no range to bound its
 * loss by (data of any scale), so such a model's bound is infinite and only a non-finite loss
 * counts. An untrained network starts near this baseline and no sane step goes 100× past it:
 * 64 binary pixels give 44 nats and a bound of 4,436, where an AAE at `--lr 10` reached 2.4e6 nats.
 * For a VAE every latent element adds 1 nat, a margin for the KL term of −ELBO.
 *
 * Adversarial losses (a GAN's or AAE's critic, the generator's non-saturating loss) are means of
 * softplus(±l) of the critic's logits l: softplus(l) ≤ max(l, 0) + ln 2. A float32 logistic σ(l)
 * is exactly 0 or 1 once |l| > 104 (e^−104 is below float32's smallest number), so logits far
 * beyond that carry no probability at all: {@link ADVERSARIAL_LOGIT_BOUND} = 500 per term is
 * generous, and a step whose loss sums `terms` such means diverged above `terms` × softplus(500)
 * ({@link adversarialDivergence}: the critic's real + fake loss, 2 terms, ≈ 1,000 nats; the
 * generator's, 1 term, ≈ 500). An MLP GAN or DCGAN at `--lr 1e6` reached ~1e13.
 */
import type { Domain, ModelIR, VariableIR } from "../compiler/ir";

/** The largest critic logit magnitude a sane adversarial step produces (generously; σ saturates at 104). */
export const ADVERSARIAL_LOGIT_BOUND = 500;

/**
 * What an uninformed model pays for one element of `domain`, in nats (see the file's comment). An
 * observed `Normal` value has no range, so nothing bounds its loss (Infinity: only a non-finite
 * loss counts); a latent one (`latent`) adds 1, a margin for its KL term.
 */
export function elementBaseline(domain: Domain, latent = false): number {
  switch (domain.kind) {
    case "bernoulli":
      return Math.LN2;
    case "categorical":
      return Math.log(Math.max(domain.k, 2));
    case "normal":
      return latent ? 1 : Infinity;
    case "real": {
      const width = domain.hi - domain.lo;
      if (!Number.isFinite(width)) return 1;
      return Math.max(1, 0.5 * Math.log(2 * Math.PI) + (width * width) / 2);
    }
  }
}

/**
 * The `divergeAbove` of a likelihood-like step (NLL, −ELBO, −IWAE, reconstruction) over `variables`
 * (default: every variable of the model): 100 × max(1, Σ element baselines), nats per example.
 */
export function likelihoodDivergence(ir: ModelIR, variables: readonly VariableIR[] = ir.variables): number {
  let uniform = 0;
  for (const v of variables) uniform += v.size * elementBaseline(v.domain, v.latent);
  return 100 * Math.max(uniform, 1);
}

/** The `divergeAbove` of an adversarial step whose loss is a sum of `terms` means of softplus(±logit). */
export function adversarialDivergence(terms: number): number {
  const l = ADVERSARIAL_LOGIT_BOUND;
  return terms * (l + Math.log1p(Math.exp(-l)));
}
