/**
 * Family name → how to build its network and how many parameters the compiler says it has.
 * `build` receives the factor from the IR; the built module's trainable count must equal
 * `countParams` (tests/models check this for every example).
 */
import type { ElementGraph } from "../compiler/graph";
import type { FactorIR, FamilyName, ModelIR } from "../compiler/ir";
import { LogisticModule } from "./logistic";
import { MlpConditionalModule } from "./mlp-conditional";
import { NadeModule } from "./nade";
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

/** Every family gm can build today. */
export const FAMILIES: Partial<Record<FamilyName, FamilyEntry>> = {
  joint: table,
  independent: table,
  table,
  chain: table,
  markov: table,
  logistic: { build: (f, ir, g, name, seed) => new LogisticModule(f, ir, g, name, seed), countParams: (f) => f.params },
  nade: { build: (f, _ir, _g, name, seed) => new NadeModule(f, name, seed), countParams: (f) => f.params },
  mlp: { build: (f, ir, _g, name, seed) => new MlpConditionalModule(f, ir, name, seed), countParams: (f) => f.params },
};

/** Families the language has but `gm train` does not build yet, with the reason shown to users. */
export const NOT_BUILT: Partial<Record<FamilyName, string>> = {
  pixelrnn: "PixelRNN networks are counted exactly but not built yet",
  implicit: "generators (GANs) are not built yet",
  normal: "latent-variable models are not built yet",
  uniform: "latent-variable models are not built yet",
  mixture: "latent-variable models are not built yet",
};

/** Looks up a family, with a clear error for those not built. */
export function familyEntry(f: FactorIR): FamilyEntry {
  const e = FAMILIES[f.family];
  if (e) return e;
  throw new ModelError(`\`${f.source}\`: ${NOT_BUILT[f.family] ?? `family ${f.family} has no network`}`, "M0103", "gm 0.1 trains tables, independent, markov, logistic and nade models");
}
