/**
 * The compiled graph is the network's, for every autoregressive family: with random weights,
 * the conditional of element i (its logits, so the outcome of x_i itself does not enter) has
 * ∂/∂x_j exactly 0 for every j that is not a parent of i in the compiled graph, and non-zero for
 * some of a few random inputs for every parent j.
 *
 * - logistic (FVSBN), with and without `assume` pruning, random conditions y: logits x·W + b;
 * - NADE: logits of the cumulative-sum form (the fused kernel is held equal to it in its own tests);
 * - MLP conditionals `for i in 3..n: p(x[i] | x[i-1], x[i-2]) = mlp(..)`: one module per element,
 *   differentiated through its log-probability, so j = i (the outcome) is left out there;
 * - PixelRNN: tests/models/pixelrnn.test.ts (both kinds, with its planted mask bugs).
 * Planted bug kept as a test: a NADE whose hidden state includes x_d itself (an inclusive
 * cumulative sum) — "x[d] reads x[d]".
 */
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { variableOf } from "../../src/compiler/elements";
import { ElementGraph } from "../../src/compiler/graph";
import type { ModelIR } from "../../src/compiler/ir";
import { outcomes } from "../../src/compiler/ir";
import { initBackend } from "../../src/models/backend";
import { ExplicitModel } from "../../src/models/explicit";
import { NadeModule } from "../../src/models/nade";
import type { FactorModule } from "../../src/models/types";
import { Rng } from "../../src/rng";
import { compileModel, familyArb } from "./gen";

const RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 10);

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
});

/** For module m: target element → a scalar of x whose dependence on x_j is that element's conditional's. */
type Conditionals = (x: tf.Tensor2D) => Map<number, tf.Scalar>;

/** Per-target logits of a logistic module (its packed weights embedded as in `logProb`). */
function logisticConditionals(m: FactorModule, ir: ModelIR, seed: number): Conditionals {
  const L = m as unknown as {
    w: tf.Variable;
    b: tf.Variable;
    embed: { apply(w: tf.Tensor1D): tf.Tensor2D };
    scaleTensor: tf.Tensor1D;
    k: number;
  };
  const T = m.factor.targets.length;
  // A positive random mix of each target's k − 1 logits, so that no two cancel.
  const rng = new Rng(seed);
  const mix = tf.keep(tf.tensor1d(Float32Array.from({ length: T * (L.k - 1) }, () => 0.5 + rng.uniform())));
  return (x) => {
    const logits = tf.add(tf.matMul(tf.mul(x, L.scaleTensor), L.embed.apply(L.w as unknown as tf.Tensor1D)), L.b);
    const mixed = tf
      .mul(logits, mix)
      .reshape([x.shape[0], T, L.k - 1])
      .sum(2);
    const out = new Map<number, tf.Scalar>();
    m.factor.targets.forEach((t, i) => out.set(t, tf.slice(mixed, [0, i], [1, 1]).sum() as tf.Scalar));
    return out;
  };
}

/** Per-target logits of a NADE module (cumulative-sum form). */
function nadeConditionals(m: NadeModule): Conditionals {
  const order = tf.keep(tf.tensor1d(m.factor.targets, "int32"));
  return (x) => {
    const logits = m.logits(tf.gather(x, order, 1) as tf.Tensor2D);
    const out = new Map<number, tf.Scalar>();
    m.factor.targets.forEach((t, d) => out.set(t, tf.slice(logits, [0, d], [1, 1]).sum() as tf.Scalar));
    return out;
  };
}

/** The conditionals of one module, the targets they cover, and whether x_i's own outcome is mixed in. */
interface Part {
  conds: Conditionals;
  targets: Int32Array;
  skipSelf: boolean;
}

/** Checks the property for the given modules; returns the first violation or null. */
function violation(ir: ModelIR, parts: Part[], inputs: number, seed: number): string | null {
  const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
  const rng = new Rng(seed);
  const seen = new Map<number, Uint8Array>();
  const skip = new Set<number>();
  const ks = Array.from({ length: ir.n }, (_, e) => outcomes(variableOf(ir.variables, e).domain) ?? 2);
  for (let t = 0; t < inputs; t++) {
    const x = tf.tensor2d(
      Float32Array.from(ks, (k) => rng.int(k)),
      [1, ir.n],
    );
    for (const { conds, skipSelf, targets } of parts) {
      for (const e of targets) {
        if (skipSelf) skip.add(e);
        const grad = tf.tidy(() =>
          tf
            .grad((inp: tf.Tensor) => conds(inp as tf.Tensor2D).get(e)!)(x)
            .dataSync(),
        );
        const s = seen.get(e) ?? new Uint8Array(ir.n);
        for (let j = 0; j < ir.n; j++) if (grad[j] !== 0) s[j] = 1;
        seen.set(e, s);
      }
    }
    x.dispose();
  }
  const name = (e: number) => {
    const v = variableOf(ir.variables, e);
    return v.shape.length ? `${v.name}[${e - v.offset + 1}]` : v.name;
  };
  for (const [e, s] of seen) {
    const parents = new Set(g.parents(e));
    for (let j = 0; j < ir.n; j++) {
      if (j === e && skip.has(e)) continue;
      if (!parents.has(j) && s[j]) return `${name(e)} reads ${name(j)}, which is not among its compiled parents`;
      if (parents.has(j) && !s[j]) return `${name(e)} never reads its compiled parent ${name(j)}`;
    }
  }
  return null;
}

function partsOf(m: ExplicitModel, ir: ModelIR, seed: number): Part[] {
  const parts: Part[] = [];
  for (const mod of m.modules) {
    if (mod.factor.family === "logistic")
      parts.push({ conds: logisticConditionals(mod, ir, seed), targets: mod.factor.targets, skipSelf: false });
    else if (mod.factor.family === "nade")
      parts.push({ conds: nadeConditionals(mod as NadeModule), targets: mod.factor.targets, skipSelf: false });
    else if (mod.factor.family === "mlp") {
      const t = mod.factor.targets;
      if (t.length !== 1) continue;
      parts.push({ conds: (x) => new Map([[t[0], mod.logProb(x).sum() as tf.Scalar]]), targets: t, skipSelf: true });
    }
  }
  return parts;
}

describe("∂ conditional(x_i) / ∂ x_j ≠ 0 exactly for the compiled parents j of i", () => {
  for (const family of ["logistic", "logistic+assume", "nade"] as const) {
    it(`${family}: random models and weights`, () => {
      fc.assert(
        fc.property(familyArb(family), fc.integer({ min: 1, max: 10_000 }), (plan, seed) => {
          const ir = compileModel(plan.text);
          const m = new ExplicitModel(ir, seed);
          try {
            // NADE and logistic start with tiny weights; scale them so every path is clearly non-zero.
            for (const v of m.variables) v.assign(tf.mul(v, 50));
            const parts = partsOf(m, ir, seed);
            expect(parts.length).toBeGreaterThan(0);
            const v = violation(ir, parts, 3, seed);
            if (v) throw new Error(v);
          } finally {
            m.dispose();
          }
        }),
        { numRuns: RUNS },
      );
    });
  }

  it("MLP conditionals over the two previous elements (j = i left out)", () => {
    // Each factor a different width, so that none is stacked with another (a stacked group
    // computes its members' log-probabilities as one total).
    for (const [n, seed] of [
      [5, 1],
      [7, 2],
      [4, 3],
    ]) {
      const lines = Array.from(
        { length: n - 2 },
        (_, i) => `  p(x[${i + 3}] | x[${i + 2}], x[${i + 1}]) = mlp(hidden = [${i + 8}])`,
      );
      const ir = compileModel(`model M {\n  x : Bernoulli[${n}]\n  p(x[1..2]) = chain\n${lines.join("\n")}\n}\n`);
      const m = new ExplicitModel(ir, seed);
      try {
        const parts = partsOf(m, ir, seed);
        expect(parts.length).toBe(n - 2);
        expect(violation(ir, parts, 12, seed)).toBeNull();
      } finally {
        m.dispose();
      }
    }
  });

  it("fails on a planted bug: NADE with an inclusive cumulative sum (x_d reads itself)", () => {
    class Inclusive extends NadeModule {
      override logits(xo: tf.Tensor2D): tf.Tensor2D {
        return tf.tidy(() => {
          const [B, D] = xo.shape;
          const contrib = tf.mul(xo.reshape([B, 1, D]), this.W.reshape([1, this.H, D]));
          const h = tf.sigmoid(tf.add(tf.cumsum(contrib, 2, false), this.c.reshape([1, this.H, 1])));
          return tf.add(tf.sum(tf.mul(h, tf.transpose(this.V).reshape([1, this.H, D])), 1), this.b) as tf.Tensor2D;
        });
      }
    }
    const ir = compileModel("model N {\n  x : Bernoulli[4]\n  p(x) = nade(hidden = 3)\n}\n");
    const m = new Inclusive(ir.factors[0], "planted", 3);
    for (const v of m.variables) v.assign(tf.mul(v, 50));
    expect(violation(ir, [{ conds: nadeConditionals(m), targets: m.factor.targets, skipSelf: false }], 2, 3)).toMatch(
      /x\[(\d)\] reads x\[\1\]/,
    );
    m.dispose();
  });
});
