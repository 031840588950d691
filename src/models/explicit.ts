/**
 * An explicit-density model: one module per factor of the IR. log p(x) is the sum of the
 * modules' log-probabilities; sampling is ancestral, factor by factor in an order where every
 * factor's conditions are drawn before it, each module drawing its own targets in order.
 */
import * as tf from "@tensorflow/tfjs";
import { ElementGraph } from "../compiler/graph";
import type { ModelIR } from "../compiler/ir";
import { Rng } from "../data/rng";
import { familyEntry } from "./registry";
import { ModelError, type ExplicitDensityModel, type FactorModule } from "./types";

/** Options for building a model. */
export interface BuildOptions {
  /** Seed for the initial weights. */
  seed?: number;
}

/** Builds the network of an explicit model. */
export function buildExplicitModel(ir: ModelIR, opts: BuildOptions = {}): ExplicitModel {
  if (ir.kind !== "explicit") {
    throw new ModelError(
      `model ${ir.name} is ${ir.kind === "latent" ? "a latent-variable model" : "an implicit model (a generator)"}; gm 0.1 builds explicit-density models only`,
      "M0103",
      ir.kind === "implicit" ? "a GAN has no likelihood to score; training GANs comes in a later release" : "VAE and AAE training comes in a later release",
    );
  }
  return new ExplicitModel(ir, opts.seed ?? 1);
}

/** Distinguishes the variables of models alive at the same time (TensorFlow.js needs unique names). */
let instances = 0;

/** The stable name of a variable inside a checkpoint: its name without the instance prefix. */
export function checkpointName(v: tf.Variable): string {
  return v.name.replace(/^gm\d+\//, "");
}

/** The explicit-density model. */
export class ExplicitModel implements ExplicitDensityModel {
  readonly kind = "explicit" as const;
  readonly modules: FactorModule[] = [];
  readonly dim: number;
  /** Modules in an order where each factor's conditions come from earlier modules. */
  readonly sampleOrder: FactorModule[];

  constructor(readonly ir: ModelIR, seed: number) {
    this.dim = ir.n;
    const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
    const prefix = `gm${++instances}`;
    try {
      ir.factors.forEach((f, i) => {
        const entry = familyEntry(f);
        this.modules.push(entry.build(f, ir, g, `${prefix}/f${i}_${f.family}`, seed * 1000 + i));
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
    if (x.shape[1] !== this.dim) throw new ModelError(`data has ${x.shape[1]} values per example; model ${this.ir.name} has ${this.dim} elements`, "M0104");
    return tf.tidy(() => this.modules.map((m) => m.logProb(x)).reduce((a, b) => tf.add(a, b)) as tf.Tensor1D);
  }

  /** log p(x) summed over the conditionals of every element, computed in JS (for checks). */
  logProbJs(row: Float32Array): number {
    let total = 0;
    for (const m of this.modules) {
      if (m.factor.family === "joint") {
        const p = m.conditional(0, row);
        let o = 0;
        for (const t of m.factor.targets) o = o * kOf(this.ir, t) + row[t];
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

function kOf(ir: ModelIR, e: number): number {
  const v = ir.variables.find((x) => e >= x.offset && e < x.offset + x.size)!;
  return v.domain.kind === "bernoulli" ? 2 : v.domain.kind === "categorical" ? v.domain.k : 0;
}

/** Orders modules so each one's context (and, for explicit parents, every parent) is drawn earlier. */
function topologicalModules(modules: FactorModule[], ir: ModelIR): FactorModule[] {
  const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
  const deps = modules.map((m) => {
    const d = new Set<number>();
    for (const t of m.factor.targets) g.forEachParent(t, (p) => {
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
