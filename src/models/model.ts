/**
 * One interface for every family (IR → network).
 *
 *   explicit   log p(x) exactly                      tables, independent, Markov, logistic,
 *                                                   NADE, MLP conditionals, PixelRNN,
 *                                                   discrete-latent mixtures (Σ_c summed out)
 *   latent     a bound or estimate of log p(x),      VAE (ELBO, IWAE), AAE (no likelihood:
 *              plus `encode`                         reconstruction error as its score)
 *   implicit   samples only                         GAN (`score` absent; the CLI says why)
 *
 * Data: every model reads a [batch, dim] float tensor whose columns are its *observed*
 * elements in element order (observed variables in declaration order, each row-major);
 * categorical values are integers 0..k−1, `Real(lo, hi)` values are floats in [lo, hi].
 * Latent elements are never data columns.
 *
 * Training is an {@link Objective}: a list of {@link TrainStep}s, each with its own loss,
 * variables, optimizer (and optimizer state in the checkpoint) and cadence. The trainer
 * (`fit.ts`) knows nothing about any family: it runs the steps. Today's explicit families are
 * one-step objectives (`nll`), or closed form (tables).
 *
 * `buildModel(ir)` (registry.ts) dispatches on `ir.kind` to the family's builder.
 */
import type * as tf from "@tensorflow/tfjs";
import type { ModelIR, VariableIR } from "../compiler/ir";

/** What a score is: exact log p(x), a lower bound (ELBO), or an importance-weighted estimate. */
export type ScoreKind = "exact" | "bound" | "estimate" | "reconstruction";

/** Options of {@link GenerativeModel.score}. */
export interface ScoreOptions {
  /** Importance samples K for an IWAE estimate (latent models). Default 1000. */
  samples?: number;
  /** Seed of the noise a stochastic score draws. */
  seed?: number;
  /** Examples per backend call. */
  batch?: number;
}

/** Per-example scores of a batch of data, with what they are. */
export interface ScoreResult {
  /**
   * Per-example log-likelihood in nats (higher is more likely): exact, a bound or an estimate
   * according to `kind`. For `kind: "reconstruction"` (AAE) it is minus the reconstruction
   * error, so "higher is more normal" holds for every model (anomaly detection relies on it).
   */
  readonly values: Float64Array;
  readonly kind: ScoreKind;
  /** A second, named per-example figure where the model has one (a VAE's ELBO beside its IWAE estimate). */
  readonly extra?: Readonly<Record<string, { values: Float64Array; kind: ScoreKind }>>;
}

/** Optimizer settings of one step (Adam). Unset fields come from the run's settings. */
export interface OptimizerSpec {
  lr?: number;
  beta1?: number;
  beta2?: number;
}

/** Context a step's loss gets: the batch index (for seeded noise) and the run's seed. */
export interface StepContext {
  /** Global step counter (batches since the run started, across epochs and resumes). */
  readonly step: number;
  /** The run's seed; derive noise from (seed, step) so a resumed run draws the same noise. */
  readonly seed: number;
}

/**
 * One step of an objective: a loss and the variables it updates, with its own optimizer.
 * Per batch the trainer runs every step whose cadence allows it, in list order.
 */
export interface TrainStep {
  /**
   * Stable name: the metric name on curves and the optimizer's name in the checkpoint (`nll`, `critic`, `generator`,
   * `reconstruction`).
   */
  readonly name: string;
  /** Mean loss over the batch, differentiable in `variables`. */
  loss(x: tf.Tensor2D, ctx: StepContext): tf.Scalar;
  /** The variables this step updates (and no others). */
  readonly variables: tf.Variable[];
  readonly optimizer?: OptimizerSpec;
  /** Runs on batches whose index is a multiple of `every` (default 1): a generator step every k critic steps. */
  readonly every?: number;
  /** A loss above this (or not finite) is divergence. Default: only non-finite losses. */
  readonly divergeAbove?: number;
}

/** How a model is trained. */
export interface Objective {
  /** Gradient steps; empty when the model is fitted in closed form only. */
  readonly steps: readonly TrainStep[];
  /**
   * Closed-form fit on the whole training set (tables; EM for a discrete-latent mixture of
   * tables), run once before any gradient step. Returns a sentence for the log.
   */
  fitClosedForm?(x: Float32Array, n: number, options: { smoothing: number }): string;
  /**
   * Held-out metrics after each epoch, by name (e.g. `{ nll: 88.1 }` or
   * `{ elbo: -95.2, reconstruction: 70.3 }`); `primary` names the one the summary reports.
   */
  evaluate(x: Float32Array, n: number): Record<string, number>;
  /** The metric of `evaluate` that the summary and divergence check use (e.g. `nll`). */
  readonly primary: string;
  /** Called after each step (e.g. to drop cached weights). */
  afterStep?(): void;
}

/** Every family's network, as the rest of gm sees it. */
export interface GenerativeModel {
  readonly kind: "explicit" | "latent" | "implicit";
  readonly ir: ModelIR;
  /** The observed variables the data fills, in declaration order. */
  readonly observed: readonly VariableIR[];
  /** Number of data columns: Σ size of the observed variables. */
  readonly dim: number;
  /** Every trainable variable, in a stable order, named `<prefix>/<stable name>` (see `checkpointName`). */
  readonly variables: tf.Variable[];
  /** Non-trainable state saved in checkpoints (batch-norm running statistics); may be empty. */
  readonly state: tf.Variable[];
  /** Number of trainable parameters; equals the compiler's `ir.params`. */
  paramCount(): number;
  /** How to train it; `criticSteps` (a GAN's critic steps per generator step) overrides the train block's. */
  objective(settings: { lr: number; criticSteps?: number }): Objective;
  /** `n` samples of the observed elements, n × dim row-major, drawn on the backend in batches. */
  sample(n: number, seed: number): Float32Array;
  /** Per-example scores; absent for implicit models (a GAN has no likelihood). */
  score?(x: Float32Array, n: number, options?: ScoreOptions): ScoreResult;
  /** Codes of the data (latent models: the encoder's mean; a mixture: the posterior over c), n × codeDim. */
  encode?(x: Float32Array, n: number): { codes: Float32Array; dim: number };
  /** Decodes codes to observed means (2-D latent manifolds), n × dim. */
  decode?(z: Float32Array, n: number): Float32Array;
  /** Forgets values cached from the variables (after they change). */
  invalidate(): void;
  dispose(): void;
}
