/**
 * The builder of latent-variable models (`ir.kind === "latent"`), the registry's entry for that
 * kind: which family a latent model is follows from its objective —
 *
 *   fit elbo | iwae(k)                          VAE (./vae.ts)
 *   fit reconstruction [+ adversarial(on = z)]  AAE (./aae.ts), or a plain autoencoder
 */
import type { ModelIR } from "../compiler/ir";
import { Aae } from "./aae";
import type { GenerativeModel } from "./model";
import { ModelError } from "./types";
import { Vae } from "./vae";

/** Builds the network of a latent-variable model. */
export function buildLatentModel(ir: ModelIR, seed: number): GenerativeModel {
  const names = new Set(ir.objectives.map((o) => o.name));
  const variational = names.has("elbo") || names.has("iwae");
  if (variational && ir.networks.some((n) => n.role === "critic")) {
    throw new ModelError(
      `model ${ir.name} combines \`${names.has("elbo") ? "elbo" : "iwae"}\` with \`adversarial\`; gm builds a VAE (\`fit elbo\`) or an AAE (\`fit reconstruction + adversarial(…)\`)`,
      "M0103",
      "keep one of the two objectives",
    );
  }
  return variational ? new Vae(ir, seed) : new Aae(ir, seed);
}
