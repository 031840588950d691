/**
 * The builder of latent-variable models (`ir.kind === "latent"`), the registry's entry for that
 * kind: which family a latent model is follows from its objective —
 *
 *   fit elbo | iwae(k)                          VAE (./vae.ts)
 *   fit elbo | iwae(k) + adversarial(on = z)    VAE with a critic on its codes (./vae-adversarial.ts)
 *   fit reconstruction [+ adversarial(on = z)]  AAE (./aae.ts), or a plain autoencoder
 */
import type { ModelIR } from "../compiler/ir";
import { Aae } from "./aae";
import type { GenerativeModel } from "./model";
import { ModelError } from "./types";
import { Vae } from "./vae";
import { AdversarialVae } from "./vae-adversarial";

/** The sums of objectives gm builds for a latent model (names sorted, joined by ` + `). */
const BUILT = new Set([
  "elbo",
  "iwae",
  "adversarial + elbo",
  "adversarial + iwae",
  "reconstruction",
  "adversarial + reconstruction",
]);

/** Builds the network of a latent-variable model. */
export function buildLatentModel(ir: ModelIR, seed: number): GenerativeModel {
  const names = new Set(ir.objectives.map((o) => o.name));
  // Any other sum (`elbo + reconstruction`, `elbo + iwae`, …) would train one of its terms and
  // silently drop the others: say so instead.
  const sum = [...names].sort().join(" + ");
  if (!BUILT.has(sum))
    throw new ModelError(
      `model ${ir.name} fits \`${ir.objectives.map((o) => o.name).join(" + ")}\`, a sum gm does not build`,
      "M0103",
      "gm builds `elbo` or `iwae(k)` (a VAE), either `+ adversarial(on = z, critic = …)`, and `reconstruction [+ adversarial(on = z, critic = …)]` (an autoencoder, an AAE)",
    );
  const variational = names.has("elbo") || names.has("iwae");
  if (!variational) return new Aae(ir, seed);
  return ir.networks.some((n) => n.role === "critic") ? new AdversarialVae(ir, seed) : new Vae(ir, seed);
}
