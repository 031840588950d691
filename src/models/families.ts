/**
 * The factor families gm builds inside an explicit model, as a static map (no registration at run
 * time, nothing a test can patch): for each family, how to build the module of one factor and how
 * many parameters the compiler says it has. The built module's trainable count must equal
 * `countParams` (tests/models check this for every example).
 *
 * A new family is one file (opening with its formula and paper) plus one line in `FAMILIES`.
 * explicit.ts and mixture.ts build their factors from here; registry.ts re-exports it.
 */
import type { ElementGraph } from "../compiler/graph";
import type { FactorIR, FamilyName, ModelIR } from "../compiler/ir";
import { LogisticModule } from "./logistic";
import { buildMlpConditional } from "./mlp-conditional";
import { ConditionalNadeModule } from "./nade-conditional";
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

/** Families of the language that are not a factor of an explicit density, with the reason shown to users. */
const NOT_BUILT: Readonly<Partial<Record<FamilyName, string>>> = Object.freeze({
  implicit: "a generator is the network of an implicit model (a GAN), not a factor of an explicit density",
  normal: "a prior of a latent variable with an encoder (a VAE or an AAE), not a factor of an explicit density",
  uniform: "a prior of a latent variable with an encoder (a VAE or an AAE), not a factor of an explicit density",
  mixture: "a prior of a latent variable with an encoder (a VAE or an AAE), not a factor of an explicit density",
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
