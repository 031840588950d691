/**
 * An explicit-density model: one module per factor of the IR,
 *
 *   log p(x) = Σ_f Σ_{t ∈ targets(f)} log p(x_t | x_pa(t))
 *
 * (a Bayesian network's factorization; Koller & Friedman, *Probabilistic Graphical Models*,
 * 2009, ch. 3), every conditional a table, a logistic regression (FVSBN, Frey 1998), a NADE
 * (Larochelle & Murray, AISTATS 2011) or another registered family. log p(x) is exact; sampling
 * is ancestral, factor by factor in an order where every factor's conditions are drawn before
 * it, each module drawing its own targets in order. Training: tables in closed form (maximum
 * likelihood, Laplace smoothing), the rest by one gradient step `nll` = −mean log p(x).
 * Divergence (R0101, ./divergence.ts): `nll` above 100 × the uniform NLL (Σ ln k over the
 * elements), or not finite, ends the run; the last good checkpoint is kept.
 */
import * as tf from "@tensorflow/tfjs";
import { ElementGraph } from "../compiler/graph";
import { type FamilyName, type ModelIR, type VariableIR } from "../compiler/ir";
import { Rng } from "../data/rng";
import { checkpointName as stableName, newInstancePrefix, outcomesOf } from "./lookup";
import { largestBatch } from "./memory";
import type { GenerativeModel, Objective, ScoreOptions, ScoreResult, TrainStep } from "./model";
import { likelihoodDivergence } from "./divergence";
import { familyEntry, type FamilyEntry } from "./families";
import { ModelError, type ExplicitDensityModel, type FactorModule } from "./types";

/** Options for building a model. */
export interface BuildOptions {
  /** Seed for the initial weights. */
  seed?: number;
  /**
   * Builders to use instead of the registry's for some factor families, for this model only
   * (the tests plant broken families this way; the registry itself is frozen).
   */
  families?: Readonly<Partial<Record<FamilyName, FamilyEntry["build"]>>>;
}

/**
 * Builds the network of an explicit model (prefer `buildModel` in registry.ts, which checks the kind and memory
 * first).
 */
export function buildExplicitModel(ir: ModelIR, opts: BuildOptions = {}): ExplicitModel {
  if (ir.kind !== "explicit") {
    throw new ModelError(
      `model ${ir.name} is not an explicit-density model (it is ${ir.kind})`,
      "M0103",
      "build it with buildModel, which dispatches on the kind",
    );
  }
  return new ExplicitModel(ir, opts.seed ?? 1, opts.families);
}

/** The stable name of a variable inside a checkpoint: its name without the instance prefix. */
export function checkpointName(v: tf.Variable): string {
  return stableName(v);
}

/** log p(x) of every example of `x` (n × dim), in nats, computed in batches of `batch`. */
export function logLikelihoods(
  logProb: (x: tf.Tensor2D) => tf.Tensor1D,
  x: Float32Array,
  n: number,
  dim: number,
  batch = 500,
): Float64Array {
  const out = new Float64Array(n);
  for (let lo = 0; lo < n; lo += batch) {
    const m = Math.min(batch, n - lo);
    const lp = tf.tidy(() => logProb(tf.tensor2d(x.subarray(lo * dim, (lo + m) * dim), [m, dim])));
    out.set(lp.dataSync(), lo);
    lp.dispose();
  }
  return out;
}

/** Mean of −values (the NLL in nats per example when `values` are log-likelihoods). */
export function meanNegative(values: Float64Array): number {
  let s = 0;
  for (const v of values) s -= v;
  return s / Math.max(values.length, 1);
}

/**
 * A mean NLL this far above the uniform distribution's (Σ ln k over the elements) is divergence:
 * an untrained network starts near the uniform NLL, and no sane training step goes 100× past it
 * (./divergence.ts, shared with every family's steps).
 */
export function divergenceThreshold(ir: ModelIR): number {
  return likelihoodDivergence(ir);
}

/** The explicit-density model. */
export class ExplicitModel implements GenerativeModel, ExplicitDensityModel {
  readonly kind = "explicit" as const;
  readonly modules: FactorModule[] = [];
  readonly dim: number;
  readonly observed: readonly VariableIR[];
  readonly state: tf.Variable[] = [];
  /** Modules in an order where each factor's conditions come from earlier modules. */
  readonly sampleOrder: FactorModule[];

  constructor(
    readonly ir: ModelIR,
    seed: number,
    families: BuildOptions["families"] = {},
  ) {
    this.dim = ir.n;
    this.observed = ir.variables.filter((v) => !v.latent);
    const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
    const prefix = newInstancePrefix();
    try {
      ir.factors.forEach((f, i) => {
        const build = families[f.family] ?? familyEntry(f).build;
        this.modules.push(build(f, ir, g, `${prefix}/f${i}_${f.family}`, seed * 1000 + i));
      });
    } catch (e) {
      this.dispose();
      throw e;
    }
    this.sampleOrder = topologicalModules(this.modules, ir);
  }

  get variables(): tf.Variable[] {
    return this.modules.flatMap((m) => m.variables);
  }

  paramCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  logProb(x: tf.Tensor2D): tf.Tensor1D {
    if (x.shape[1] !== this.dim)
      throw new ModelError(
        `data has ${x.shape[1]} values per example; model ${this.ir.name} has ${this.dim} elements`,
        "M0104",
      );
    return tf.tidy(() => this.modules.map((m) => m.logProb(x)).reduce((a, b) => tf.add(a, b)) as tf.Tensor1D);
  }

  /** Exact log p(x) per example. */
  score(x: Float32Array, n: number, options: ScoreOptions = {}): ScoreResult {
    // Examples per backend call: 500, or fewer where the network's activations would not fit.
    const batch = options.batch ?? largestBatch(this.ir, tf.getBackend() ?? "wasm", 500);
    return { values: logLikelihoods((b) => this.logProb(b), x, n, this.dim, batch), kind: "exact" };
  }

  /**
   * Tables are fitted in closed form; the gradient families (logistic, NADE, …) form one step
   * `nll` = −mean log p(x) over every gradient variable. Held-out metric: `nll`.
   */
  objective(_settings: { lr: number }): Objective {
    const closed = this.modules.filter((m) => m.fitClosedForm);
    const gradientVars = this.modules.filter((m) => m.gradient).flatMap((m) => m.variables);
    const steps: TrainStep[] = gradientVars.length
      ? [
          {
            name: "nll",
            loss: (x) => tf.neg(tf.mean(this.logProb(x))) as tf.Scalar,
            variables: gradientVars,
            divergeAbove: divergenceThreshold(this.ir),
          },
        ]
      : [];
    return {
      steps,
      primary: "nll",
      fitClosedForm: closed.length
        ? (x, n, { smoothing }) => {
            for (const m of closed) m.fitClosedForm!(x, n, smoothing);
            return `fitted ${closed.length} table factor${closed.length > 1 ? "s" : ""} in closed form (Laplace smoothing α = ${smoothing})`;
          }
        : undefined,
      evaluate: (x, n) => ({ nll: meanNegative(this.score(x, n).values) }),
      afterStep: () => this.invalidate(),
    };
  }

  /** log p(x) summed over the conditionals of every element, computed in JS (for checks). */
  logProbJs(row: Float32Array): number {
    let total = 0;
    for (const m of this.modules) {
      if (m.factor.family === "joint") {
        const p = m.conditional(0, row);
        let o = 0;
        for (const t of m.factor.targets) o = o * outcomesOf(this.ir, t) + row[t];
        total += Math.log(p[o]);
        continue;
      }
      m.factor.targets.forEach((t, i) => {
        total += Math.log(m.conditional(i, row)[row[t]]);
      });
    }
    return total;
  }

  sample(n: number, seed: number): Float32Array {
    const rng = new Rng(seed);
    const rows = Array.from({ length: n }, () => new Float32Array(this.dim));
    for (const m of this.sampleOrder) m.sample(rows, rng);
    const out = new Float32Array(n * this.dim);
    rows.forEach((r, i) => out.set(r, i * this.dim));
    return out;
  }

  /** Forgets cached weights after the variables change (training steps, loading). */
  invalidate(): void {
    for (const m of this.modules) m.invalidate?.();
  }

  dispose(): void {
    for (const m of this.modules) m.dispose();
  }
}

/** Orders modules so each one's context (and, for explicit parents, every parent) is drawn earlier. */
function topologicalModules(modules: FactorModule[], ir: ModelIR): FactorModule[] {
  const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
  const deps = modules.map((m) => {
    const d = new Set<number>();
    for (const t of m.factor.targets)
      g.forEachParent(t, (p) => {
        const fi = ir.factorOf[p];
        if (fi !== m.factor.id) d.add(fi);
      });
    return d;
  });
  const done = new Set<number>();
  const out: FactorModule[] = [];
  while (out.length < modules.length) {
    const before = out.length;
    modules.forEach((m, i) => {
      if (done.has(i)) return;
      if ([...deps[i]].every((d) => done.has(d))) {
        done.add(i);
        out.push(m);
      }
    });
    if (out.length === before) throw new ModelError("the factors depend on each other in a cycle", "M0105");
  }
  return out;
}
