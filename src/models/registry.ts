/**
 * What gm can build, as static maps (no registration at run time, nothing a test can patch):
 *
 * - `buildModel(ir)` dispatches on `ir.kind` to the builder of that kind of model (`BUILDERS`):
 *   explicit → `ExplicitModel` (or the mixture that sums discrete latents out); latent → VAE, AAE
 *   (latent-model.ts); implicit → GAN (gan.ts).
 * - Inside an explicit model, factor family → how to build its module and how many parameters
 *   the compiler says it has: the family table of ./families.ts, re-exported here.
 *
 * A new factor family is one file plus one line in families.ts; a new kind of model, one line here.
 */
import type { ModelIR } from "../compiler/ir";
import { ExplicitModel } from "./explicit";
import { buildGan } from "./gan";
import { checkFits } from "./memory";
import { buildLatentModel } from "./latent-model";
import { DiscreteLatentModel, hasDiscreteLatents } from "./mixture";
import type { GenerativeModel } from "./model";
import { ModelError } from "./types";

export { builtFamilies, familyEntry, type FamilyEntry } from "./families";

/** Options of {@link buildModel}. */
export interface BuildModelOptions {
  /** Seed of the initial weights (default 1). */
  seed?: number;
  /** Examples per backend call, for the memory estimate (default: the train block's batch, else 100). */
  batch?: number;
  /** The running backend, for the memory limit (default: wasm's). */
  backend?: string;
}

/** How to build one kind of model; `null` while that kind is not built, with the reason. */
type Builder = ((ir: ModelIR, seed: number) => GenerativeModel) | { notBuilt: string; hint: string };

/** Model kind → builder. The latent and implicit family files replace their entry here when they land. */
const BUILDERS: Readonly<Record<ModelIR["kind"], Builder>> = Object.freeze({
  explicit: (ir: ModelIR, seed: number) =>
    hasDiscreteLatents(ir) ? new DiscreteLatentModel(ir, seed) : new ExplicitModel(ir, seed),
  latent: (ir: ModelIR, seed: number) => buildLatentModel(ir, seed),
  implicit: (ir: ModelIR, seed: number) => buildGan(ir, seed),
});

/** Whether gm builds models of this kind (checked before anything reads data). */
export function checkBuildable(ir: ModelIR): void {
  const b = BUILDERS[ir.kind];
  if (typeof b !== "function") throw new ModelError(`model ${ir.name} ${b.notBuilt}`, "M0103", b.hint);
}

/**
 * Builds the network of any model: checks that its kind is built and that it fits in memory
 * (before allocating anything), then calls the kind's builder. The built model's trainable
 * count equals the compiler's (checked here: a mismatch is a bug in gm).
 */
export function buildModel(ir: ModelIR, options: BuildModelOptions = {}): GenerativeModel {
  checkBuildable(ir);
  checkFits(ir, { batch: options.batch ?? ir.train.batch ?? 100, backend: options.backend ?? "wasm" });
  const model = (BUILDERS[ir.kind] as (ir: ModelIR, seed: number) => GenerativeModel)(ir, options.seed ?? 1);
  const count = model.paramCount();
  if (BigInt(count) !== ir.params) {
    model.dispose();
    throw new Error(`built ${count} trainable parameters but the compiler counts ${ir.params} for model ${ir.name}`);
  }
  return model;
}
