/**
 * The shared interface of gm's networks (IR → network). Every model reads data as a
 * [batch, D] float tensor whose columns are the model's elements in element order (variables
 * in declaration order, each row-major), categorical values as integers 0..k−1.
 *
 * - `ExplicitDensityModel`: exact `logProb` (nats) and ancestral `sample` — tables,
 *   independent, Markov, logistic (FVSBN), NADE. Built from one `FactorModule` per factor.
 * - Latent-variable and implicit models (VAE, AAE, GAN) come in a later release; `gm score` on
 *   an implicit model is an error that explains why (no likelihood).
 */
import { GmError } from "../errors";
import type * as tf from "@tensorflow/tfjs";
import type { FactorIR, ModelIR } from "../compiler/ir";
import type { Rng } from "../data/rng";

/** One factor of p, as a network: its targets' log-probability given the rest of x. */
export interface FactorModule {
  readonly factor: FactorIR;
  /** Trainable variables, in a stable order (their names are stable across runs). */
  readonly variables: tf.Variable[];
  /** Σ over this factor's targets of log p(target | parents), per example: [B]. */
  logProb(x: tf.Tensor2D): tf.Tensor1D;
  /** Fills this factor's targets of each row (parents already filled), drawing with `rng`. */
  sample(rows: Float32Array[], rng: Rng): void;
  /**
   * The conditional distribution of the target at `position` (within the factor's targets)
   * given the values in `row` (only its parents are read): probabilities over the outcomes.
   * For a `joint` factor the "outcome" is the joint outcome of all its targets (position 0).
   */
  conditional(position: number, row: Float32Array): Float64Array;
  /** Closed-form maximum likelihood (tables); absent for gradient-trained families. */
  fitClosedForm?(x: Float32Array, n: number, smoothing: number): void;
  /** Forgets values cached from the variables (call after they change). */
  invalidate?(): void;
  /** Whether gradient training applies (false for tables fitted in closed form). */
  readonly gradient: boolean;
  dispose(): void;
}

/** A model with an exact density. */
export interface ExplicitDensityModel {
  readonly kind: "explicit";
  readonly ir: ModelIR;
  readonly modules: readonly FactorModule[];
  /** Number of columns of the data (= ir.n). */
  readonly dim: number;
  /** log p(x) per example, in nats: [B]. */
  logProb(x: tf.Tensor2D): tf.Tensor1D;
  /** Ancestral sampling in the model's order; returns n rows of `dim` values. */
  sample(n: number, seed: number): Float32Array;
  /** Every trainable variable. */
  readonly variables: tf.Variable[];
  /** Number of trainable parameters (equals the compiler's count). */
  paramCount(): number;
  dispose(): void;
}

/** Codes of {@link ModelError}; see docs/diagnostics.md, "Runtime errors". */
export const MODEL_ERROR_CODES = {
  /** A table factor needs more entries than gm stores. */
  M0101: "table too large",
  /** `logistic` over elements with different numbers of outcomes. */
  M0102: "logistic over mixed outcome counts",
  /** A family of the language that has no network yet. */
  M0103: "family not built",
  /** The data's width differs from the model's observed elements. */
  M0104: "data width does not match the model",
  /** The factors depend on each other in a cycle (no sampling order). */
  M0105: "cyclic factors",
  /** A network that cannot fit (too many parameters or too much memory), refused before allocating. */
  M0106: "network too large",
  /** `gm score` on an implicit model (a GAN): no likelihood. */
  M0107: "no likelihood to score",
} as const;

/** Raised when a model cannot be built, trained or scored (e.g. a table too large to store): exit 1. */
export class ModelError extends GmError {
  constructor(message: string, code: string, hint?: string) {
    super(code, message, { hint });
    this.name = "ModelError";
  }
}
