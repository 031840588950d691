/**
 * What gm can build, as static maps (no registration at run time, nothing a test can patch):
 *
 * - `buildModel(ir)` dispatches on `ir.kind` to the builder of that kind of model (`BUILDERS`):
 *   explicit → `ExplicitModel`; latent (VAE, AAE) and implicit (GAN) → their family files'
 *   builders once they land; until then a ModelError saying what is and is not built.
 * - Inside an explicit model, factor family → how to build its module and how many parameters
 *   the compiler says it has (`FAMILIES`). The built module's trainable count must equal
 *   `countParams` (tests/models check this for every example).
 *
 * A new family is one file plus one line here.
 */
import type { ElementGraph } from "../compiler/graph";
import type { FactorIR, FamilyName, ModelIR } from "../compiler/ir";
import { ExplicitModel } from "./explicit";
import { LogisticModule } from "./logistic";
import { buildGan } from "./gan";
import { checkFits } from "./memory";
import { buildLatentModel } from "./latent-model";
import { DiscreteLatentModel, hasDiscreteLatents } from "./mixture";
import { buildMlpConditional } from "./mlp-conditional";
import { ConditionalNadeModule } from "./nade-conditional";
import type { GenerativeModel } from "./model";
import { NadeModule } from "./nade";
import { PixelRnnModule } from "./pixelrnn";
import { TableModule } from "./table";
import { ModelError, type FactorModule } from "./types";

/** What a family provides to the model builder. */
export interface FamilyEntry {
  /** Builds the module for one factor. `name` prefixes its variables; `seed` initializes them. */
  build(factor: FactorIR, ir: ModelIR, graph: ElementGraph, name: string, seed: number): FactorModule;
  /** The compiler's exact count for this factor. */
  countParams(factor: FactorIR): bigint;
}

const table: FamilyEntry = {
  build: (f, ir, g, name) => new TableModule(f, ir, g, name),
  countParams: (f) => f.params,
};

/** Every factor family gm can build today (frozen: a family is added here, in the source). */
const FAMILIES: Readonly<Partial<Record<FamilyName, FamilyEntry>>> = Object.freeze({
  joint: table,
  independent: table,
  table,
  chain: table,
  markov: table,
  logistic: { build: (f, ir, g, name, seed) => new LogisticModule(f, ir, g, name, seed), countParams: (f) => f.params },
  nade: {
    build: (f, ir, _g, name, seed) =>
      f.context.length ? new ConditionalNadeModule(f, ir, name, seed) : new NadeModule(f, name, seed),
    countParams: (f) => f.params,
  },
  mlp: { build: (f, ir, _g, name, seed) => buildMlpConditional(f, ir, name, seed), countParams: (f) => f.params },
  pixelrnn: { build: (f, ir, _g, name, seed) => new PixelRnnModule(f, ir, name, seed), countParams: (f) => f.params },
});

/** Families the language has but `gm train` does not build yet, with the reason shown to users. */
const NOT_BUILT: Readonly<Partial<Record<FamilyName, string>>> = Object.freeze({
  implicit: "generators (GANs) are not built yet",
  normal: "latent-variable models are not built yet",
  uniform: "latent-variable models are not built yet",
  mixture: "latent-variable models are not built yet",
});

/** Looks up a family, with a clear error for those not built. */
export function familyEntry(f: FactorIR): FamilyEntry {
  const e = FAMILIES[f.family];
  if (e) return e;
  throw new ModelError(
    `\`${f.source}\`: ${NOT_BUILT[f.family] ?? `family ${f.family} has no network`}`,
    "M0103",
    `gm builds these factor families: ${builtFamilies().join(", ")}`,
  );
}

/** The factor families gm builds, in a stable order. */
export function builtFamilies(): string[] {
  return Object.keys(FAMILIES);
}

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
