/**
 * The model IR: what the compiler hands to every later stage (counts, queries, pictures,
 * TensorFlow.js networks). One node per scalar random variable ("element": `x[3, 7]`), a
 * factor per group of elements that share a parameterization, and the networks that are
 * not factors of p (encoders, critics).
 *
 * Groups stay compact: a factor stores its targets in order and describes their parents by a
 * structure (`none`, `prefix`, `window`, `joint`) instead of listing edges, so a 28×28 chain
 * (306,936 edges) is one Int32Array of 784 elements, and `joint` over 784 elements is one factor.
 */
import type { Span } from "../dsl/ast";

/** The outcome space of one element. */
export type Domain =
  | { readonly kind: "bernoulli" }
  | { readonly kind: "categorical"; readonly k: number }
  | { readonly kind: "normal" }
  | { readonly kind: "real"; readonly lo: number; readonly hi: number };

/** Number of outcomes of a discrete domain; null for continuous ones. */
export function outcomes(d: Domain): number | null {
  return d.kind === "bernoulli" ? 2 : d.kind === "categorical" ? d.k : null;
}

/** The name of a domain as written in `.gm`. */
export function domainName(d: Domain): string {
  switch (d.kind) {
    case "bernoulli":
      return "Bernoulli";
    case "categorical":
      return `Categorical(${d.k})`;
    case "normal":
      return "Normal";
    case "real":
      return `Real(${d.lo}, ${d.hi})`;
  }
}

/** The orders of LANGUAGE.md §4. */
export type OrderKind = "raster" | "column" | "snake" | "zigzag" | "index" | "random";

/** A declared random variable (an array of elements). */
export interface VariableIR {
  readonly name: string;
  readonly latent: boolean;
  readonly domain: Domain;
  /** Shape; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** The shape as written (`n`, `28`), for notation that keeps the user's symbols. */
  readonly shapeText: readonly string[];
  /** Number of elements (product of the shape). */
  readonly size: number;
  /** Global id of the first element; elements are numbered row-major, variables in declaration order. */
  readonly offset: number;
  readonly order: { readonly kind: OrderKind; readonly seed?: number };
  /** Flat indices (0-based, row-major) in visiting order. */
  readonly visit: Int32Array;
  /** `rank[flat]` = position of that element in the visiting order. */
  readonly rank: Int32Array;
  readonly span: Span;
}

/** How the targets of a factor depend on one another (on top of the shared `context`). */
export type FactorStructure =
  /** targets independent given the context */
  | { readonly kind: "none" }
  /** target i depends on targets 0..i-1 (the chain rule) */
  | { readonly kind: "prefix" }
  /** target i depends on targets i-k..i-1 */
  | { readonly kind: "window"; readonly k: number }
  /** one table over every outcome of the targets (drawn as a prefix: a complete DAG) */
  | { readonly kind: "joint" }
  /**
   * the Row LSTM's receptive field over an image whose targets are in raster order (width,
   * channels; reach = layers): see receptive.ts
   */
  | { readonly kind: "cone"; readonly width: number; readonly channels: number; readonly reach: number }
  /** per-target parent lists (after `assume` pruned some edges); include context elements */
  | { readonly kind: "explicit"; readonly parents: readonly Int32Array[] };

/** Family names a factor can have. */
export type FamilyName =
  | "joint"
  | "independent"
  | "chain"
  | "markov"
  | "logistic"
  | "nade"
  | "pixelrnn"
  | "table"
  | "mlp"
  | "normal"
  | "uniform"
  | "mixture"
  | "implicit";

/** One factor group of p: a family applied to some target elements given a context. */
export interface FactorIR {
  readonly id: number;
  readonly family: FamilyName;
  /** Normalized family arguments (e.g. `{ k: 1 }`, `{ hidden: [512, 256] }`). */
  readonly args: Readonly<Record<string, unknown>>;
  /** Elements this factor gives distributions for, in the factor's order. */
  readonly targets: Int32Array;
  /** Conditioning elements shared by every target (`p(x | z)`: the elements of z). */
  readonly context: Int32Array;
  readonly structure: FactorStructure;
  /** Trainable parameters of this factor. */
  readonly params: bigint;
  /** A closed form for `params` in the lecture's notation, when the family has one. */
  readonly closedForm?: string;
  /** Text of the statement, e.g. `p(x) = markov(k = 1)`. */
  readonly source: string;
  readonly span: Span;
  /** The network this factor builds, when it is one (NADE, MLP, PixelRNN, generator). */
  readonly network?: NetworkSpec;
}

/** A network that is not a factor of p: the encoder q(z | x) or a critic. */
export interface AuxNetworkIR {
  readonly role: "posterior" | "critic";
  /** Elements the network reads. */
  readonly inputs: Int32Array;
  /** Elements it produces a distribution or a code for (posterior), empty for a critic. */
  readonly outputs: Int32Array;
  readonly network: NetworkSpec;
  readonly params: bigint;
  readonly source: string;
  readonly span: Span;
}

/** Layer-level description of a network, enough to build it and count it exactly. */
export type NetworkSpec =
  | { readonly kind: "mlp"; readonly sizes: readonly number[]; readonly output: string }
  /**
   * `conditions`: inputs of the conditions of `p(x | y) = nade(…)` (one-hot width of y; 0 or absent when
   * unconditional)
   */
  | { readonly kind: "nade"; readonly d: number; readonly hidden: number; readonly conditions?: number }
  | {
      readonly kind: "pixelrnn";
      readonly variant: "row_lstm" | "diagonal_bilstm";
      readonly height: number;
      readonly width: number;
      readonly channels: number;
      readonly outPerChannel: number;
      readonly hidden: number;
      readonly layers: number;
    }
  | {
      readonly kind: "dcgan-generator";
      readonly zdim: number;
      readonly base: number;
      readonly height: number;
      readonly width: number;
      readonly channels: number;
    }
  | {
      readonly kind: "dcgan-critic";
      readonly base: number;
      readonly height: number;
      readonly width: number;
      readonly channels: number;
    };

/** One step of the derivation of §6: an `assume` removing parents from one element's factor. */
export interface DerivationStep {
  readonly element: number;
  readonly before: Int32Array;
  readonly after: Int32Array;
  /** The assumption as written, e.g. `assume for i in 3..n: x[i] ⊥ x[1..i-2] | x[i-1]`. */
  readonly by: string;
  readonly span: Span;
}

/** An objective of `fit`. */
export interface ObjectiveIR {
  readonly name: "likelihood" | "elbo" | "iwae" | "reconstruction" | "adversarial";
  readonly args: Readonly<Record<string, unknown>>;
  readonly span: Span;
}

/** The `train { }` defaults. */
export interface TrainConfigIR {
  readonly data?: DataSourceIR;
  readonly split?: readonly [number, number];
  readonly epochs?: number;
  readonly batch?: number;
  readonly lr?: number;
  readonly seed?: number;
  /** `critic_steps = k`: an adversarial model's critic steps per generator step (default 1). */
  readonly criticSteps?: number;
}

/** A data source expression (`mnist(binarize = 0.5)`, `idx("a.gz")`, `images("dir", size = [28, 28])`). */
export interface DataSourceIR {
  readonly source: "mnist" | "fashion_mnist" | "idx" | "images" | "csv";
  readonly path?: string;
  readonly labels?: string;
  readonly binarize?: number | "stochastic";
  readonly size?: readonly number[];
  readonly seed?: number;
  /** Keep only the examples whose label is not listed (`mnist(exclude = [3])`). */
  readonly exclude?: readonly number[];
  /** Keep only the examples whose label is listed (`mnist(only = [3])`). */
  readonly only?: readonly number[];
}

/** The compiled model. */
export interface ModelIR {
  readonly name: string;
  readonly span: Span;
  readonly variables: readonly VariableIR[];
  /** Total number of elements. */
  readonly n: number;
  readonly factors: readonly FactorIR[];
  /** `factorOf[element]`: index into `factors`. */
  readonly factorOf: Int32Array;
  /** `positionOf[element]`: position of the element among its factor's targets. */
  readonly positionOf: Int32Array;
  readonly networks: readonly AuxNetworkIR[];
  readonly objectives: readonly ObjectiveIR[];
  readonly train: TrainConfigIR;
  readonly derivation: readonly DerivationStep[];
  /** Sum of every factor's and network's parameters. */
  readonly params: bigint;
  /** The model's constants (`const n = 16`), for queries written against the file. */
  readonly constants: ReadonlyMap<string, bigint | number>;
  /** Kind of model: explicit density, latent-variable (VAE/AAE) or implicit (GAN). */
  readonly kind: "explicit" | "latent" | "implicit";
}
