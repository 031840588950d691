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
import { Vae } from "./vae";
import { AdversarialVae } from "./vae-adversarial";

/** Builds the network of a latent-variable model. */
export function buildLatentModel(ir: ModelIR, seed: number): GenerativeModel {
  const names = new Set(ir.objectives.map((o) => o.name));
  const variational = names.has("elbo") || names.has("iwae");
  if (!variational) return new Aae(ir, seed);
  return ir.networks.some((n) => n.role === "critic") ? new AdversarialVae(ir, seed) : new Vae(ir, seed);
}
