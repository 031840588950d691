/**
 * `p(x | y) = nade(hidden = H)` (src/models/nade-conditional.ts) on random small models generated
 * as `.gm` text: y Bernoulli / Categorical(3) / Categorical(4) / Bernoulli[2] / Categorical(3)[2]
 * with `independent`, `joint` or `chain`; x Bernoulli, 1-D or 2-D (≤ 8 elements, any order);
 * H = 1…6. Every model has ≤ 2,304 joint outcomes and is enumerated.
 *
 * Properties (random weights, normal with scale 1), each also run against a planted bug that
 * must make it FAIL:
 * 1. normalization Σ p = 1 (≤ 1e-5) — planted: the fused path without the |u|·log 2 correction;
 * 2. chain rule: conditionals = the marginalized joint, log p = Σ log conditionals, random and
 *    trained — planted: conditionals that leave W_y·u out;
 * 3. the fused kernel path equals the cumulative-sum reference, values and gradients of every
 *    variable (≤ 1e-4 relative) — planted: a reference without the conditions;
 * 4. sampling: chi-square of 2,000 ancestral samples, p > 1e-4 — planted: a sampler that starts
 *    every row's pre-activation at c (ignoring y);
 * 5. count: trainable numbers = the compiler's 2nH + n + H + H·|u| — planted: an IR counted as the
 *    unconditional NADE (the compiler's old formula).
 * The unconditional NADE keeps its own module and path (tests/models/properties.test.ts).
 */
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile";
import { nadeParams } from "../../src/compiler/count";
import type { FactorIR, ModelIR } from "../../src/compiler/ir";
import { Rng } from "../../src/rng";
import { initBackend } from "../../src/models/backend";
import { buildExplicitModel, type ExplicitModel } from "../../src/models/explicit";
import { ConditionalNadeModule } from "../../src/models/nade-conditional";
import { NadeModule } from "../../src/models/nade";
import { sigmoid } from "../../src/models/ops";
import type { FactorModule } from "../../src/models/types";
import { randomize, samplingChiSquare } from "../../src/models/verify";
import { chainRuleTrained as chainRule, compileModel, mustFail, normalization, type Check } from "./gen";

const RUNS = (n: number) => Number(process.env.GM_PROPERTY_RUNS ?? n);
const SAMPLING_SEED = Number(process.env.GM_PROPERTY_SEED ?? 20261129);

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
});

interface Plan {
  readonly text: string;
}

const planArb: fc.Arbitrary<Plan> = fc
  .record({
    y: fc.constantFrom("Bernoulli", "Categorical(3)", "Categorical(4)", "Bernoulli[2]", "Categorical(3)[2]"),
    yFam: fc.constantFrom("independent", "joint", "chain"),
    shape: fc.oneof(
      fc.integer({ min: 1, max: 8 }).map((n) => [n]),
      fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 4 })),
    ),
    order: fc.constantFrom("raster", "column", "snake"),
    h: fc.integer({ min: 1, max: 6 }),
  })
  .map(({ y, yFam, shape, order, h }) => {
    const lines = ["model C {", `  y : ${y}`, `  x : Bernoulli[${shape.join(", ")}]`];
    if (shape.length === 2) lines.push(`  order x ${order}`);
    lines.push(`  p(y) = ${yFam}`, `  p(x | y) = nade(hidden = ${h})`, "}");
    return { text: lines.join("\n") };
  });

type Make = (f: FactorIR, ir: ModelIR, name: string, seed: number) => FactorModule;

/** Builds the model; with `make`, the NADE factor's module is replaced (a planted bug). */
function build(ir: ModelIR, make?: Make): ExplicitModel {
  const m = buildExplicitModel(ir, { seed: 1 });
  if (!make) return m;
  m.modules.forEach((mod, i) => {
    if (mod.factor.family !== "nade") return;
    const planted = make(mod.factor, ir, `planted_${Math.random().toString(36).slice(2)}`, 11);
    const order = m.sampleOrder as FactorModule[];
    order[order.indexOf(mod)] = planted;
    mod.dispose();
    m.modules[i] = planted;
  });
  return m;
}

function prop(check: Check, make?: Make, transform: (ir: ModelIR) => ModelIR = (ir) => ir) {
  return fc.property(planArb, fc.integer({ min: 0, max: 2 ** 30 }), (plan, seed) => {
    const ir = transform(compileModel(plan.text));
    const m = build(ir, make);
    try {
      randomize(m, seed);
      check(m, ir, seed);
    } finally {
      m.dispose();
    }
  });
}

const nadeOf = (m: ExplicitModel) => m.modules.find((x) => x instanceof ConditionalNadeModule) as ConditionalNadeModule;

// ---------------------------------------------------------------------------------------------
// Planted bugs

/** The fused path forgetting that each condition input contributes log ½. */
class NoLog2Nade extends ConditionalNadeModule {
  override logProb(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.sub(super.logProb(x), this.U * Math.log(2)) as tf.Tensor1D);
  }
}

/** Conditionals (and so sampling) that leave W_y·u out: the unconditional NADE's. */
class ConditionBlindConditionals extends ConditionalNadeModule {
  override conditional(position: number, row: Float32Array): Float64Array {
    return NadeModule.prototype.conditional.call(this, position, row);
  }
}

/** A cumulative-sum reference that leaves the conditions out. */
class ReferenceWithoutConditions extends ConditionalNadeModule {
  override logProbCumsum(x: tf.Tensor2D): tf.Tensor1D {
    return NadeModule.prototype.logProbCumsum.call(this, x);
  }
}

/** A sampler whose pre-activation starts at c for every row (y ignored). */
class ConditionBlindSampler extends ConditionalNadeModule {
  override sample(rows: Float32Array[], rng: Rng): void {
    NadeModule.prototype.sample.call(this, rows, rng);
  }
}

/** The IR as the compiler counted before conditions existed: NADE's 2nH + n + H only. */
function countedWithoutConditions(ir: ModelIR): ModelIR {
  let params = 0n;
  const factors = ir.factors.map((f) => {
    const g = f.network?.kind === "nade" ? { ...f, params: nadeParams(f.network.d, f.network.hidden) } : f;
    params += g.params;
    return g;
  });
  return { ...ir, factors, params };
}

// ---------------------------------------------------------------------------------------------
// Properties

/** Values and gradients (of Σ_b w_b log p_b, random w) of the fused path against the reference. */
const fusedEqualsReference: Check = (m, ir, seed) => {
  const mod = nadeOf(m);
  const rng = new Rng(seed);
  const B = 12;
  const X = new Float32Array(B * ir.n);
  for (let i = 0; i < B; i++) {
    for (const v of ir.variables) {
      const k = v.domain.kind === "categorical" ? v.domain.k : 2;
      for (let j = 0; j < v.size; j++) X[i * ir.n + v.offset + j] = rng.int(k);
    }
  }
  const w = Float32Array.from({ length: B }, () => rng.normal());
  const x = tf.tensor2d(X, [B, ir.n]);
  const wt = tf.tensor1d(w);
  const run = (f: (x: tf.Tensor2D) => tf.Tensor1D) => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(x), wt)) as tf.Scalar, mod.variables);
    // A variable the loss does not reach has no entry: its gradient is 0.
    const out = {
      value: value.dataSync()[0],
      grads: mod.variables.map((v) =>
        grads[v.name] ? Array.from(grads[v.name].dataSync()) : new Array<number>(v.size).fill(0),
      ),
    };
    value.dispose();
    tf.dispose(grads);
    return out;
  };
  try {
    const fused = run((t) => mod.logProb(t));
    const ref = run((t) => mod.logProbCumsum(t));
    const lpF = tf.tidy(() => Array.from(mod.logProb(x).dataSync()));
    const lpR = tf.tidy(() => Array.from(mod.logProbCumsum(x).dataSync()));
    lpR.forEach((r, i) => {
      if (!(Math.abs(lpF[i] - r) <= 1e-4 * (1 + Math.abs(r))))
        throw new Error(`row ${i}: fused log p ${lpF[i]}, reference ${r}`);
    });
    if (!(Math.abs(fused.value - ref.value) <= 1e-4 * (1 + Math.abs(ref.value))))
      throw new Error(`fused ${fused.value}, reference ${ref.value}`);
    mod.variables.forEach((v, j) => {
      ref.grads[j].forEach((g, i) => {
        if (!(Math.abs(fused.grads[j][i] - g) <= 1e-4 * (1 + Math.abs(g))))
          throw new Error(`∂/∂${v.name}[${i}]: fused ${fused.grads[j][i]}, reference ${g}`);
      });
    });
  } finally {
    x.dispose();
    wt.dispose();
  }
};

const sampling: Check = (m, _ir, seed) => {
  const r = samplingChiSquare(m, 2000, seed);
  if (!(r.pValue > 1e-4))
    throw new Error(`chi-square ${r.stat.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toExponential(2)}`);
};

const count: Check = (m, ir) => {
  const mod = nadeOf(m);
  const n = mod.variables.reduce((a, v) => a + v.size, 0);
  const f = mod.factor;
  if (BigInt(n) !== f.params)
    throw new Error(`\`${f.source}\`: built ${n} trainable numbers, the compiler counts ${f.params}`);
  if (m.paramCount() !== Number(ir.params))
    throw new Error(`built ${m.paramCount()}, the compiler counts ${ir.params}`);
};

// ---------------------------------------------------------------------------------------------

describe("conditional NADE", () => {
  it("the generator's models compile, condition NADE on y, and count 2nH + n + H + H·|u|", () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        const ir = compileModel(plan.text);
        const f = ir.factors.find((g) => g.family === "nade")!;
        expect(f.context.length).toBeGreaterThan(0);
        const spec = f.network as { d: number; hidden: number; conditions: number };
        const y = ir.variables.find((v) => v.name === "y")!;
        const k = y.domain.kind === "categorical" ? y.domain.k : 1;
        expect(spec.conditions).toBe(y.size * k);
        expect(f.params).toBe(nadeParams(spec.d, spec.hidden) + BigInt(spec.hidden * spec.conditions));
      }),
      { numRuns: RUNS(40) },
    );
  });

  it("1. normalization", () => {
    fc.assert(prop(normalization), { numRuns: RUNS(30) });
  });

  it("1. FAILS without the |u|·log 2 correction", () => {
    expect(mustFail(prop(normalization, (f, ir, n, s) => new NoLog2Nade(f, ir, n, s)))).toMatch(/Σ_x p\(x\) = /);
  });

  it("2. chain rule, random and trained weights", () => {
    fc.assert(prop(chainRule), { numRuns: RUNS(20) });
  });

  it("2. FAILS on conditionals that leave W_y·u out", () => {
    expect(mustFail(prop(chainRule, (f, ir, n, s) => new ConditionBlindConditionals(f, ir, n, s)))).toMatch(
      /differs from the marginalized joint|sum of the conditionals/,
    );
  });

  it("3. the fused kernel equals the cumulative-sum reference (values and gradients)", () => {
    fc.assert(prop(fusedEqualsReference), { numRuns: RUNS(20) });
  });

  it("3. FAILS on a reference without the conditions", () => {
    expect(mustFail(prop(fusedEqualsReference, (f, ir, n, s) => new ReferenceWithoutConditions(f, ir, n, s)))).toMatch(
      /fused log p .*, reference/,
    );
  });

  it("4. sampling agrees with the density", () => {
    fc.assert(prop(sampling), { numRuns: RUNS(10), seed: SAMPLING_SEED });
  });

  it("4. FAILS on a sampler that ignores y", () => {
    expect(
      mustFail(
        prop(sampling, (f, ir, n, s) => new ConditionBlindSampler(f, ir, n, s)),
        RUNS(20),
        SAMPLING_SEED,
      ),
    ).toMatch(/chi-square .* p = /);
  });

  it("5. trainable count = the compiler's", () => {
    fc.assert(prop(count), { numRuns: RUNS(30) });
  });

  it("5. FAILS against the unconditional count", () => {
    expect(mustFail(prop(count, undefined, countedWithoutConditions))).toMatch(
      /built \d+ trainable numbers, the compiler counts \d+/,
    );
  });

  it("a label changes every conditional of x (W_y reaches the hidden layer)", () => {
    const ir = compileModel(
      "model L {\n  y : Categorical(10)\n  x : Bernoulli[3]\n  p(y) = table\n  p(x | y) = nade(hidden = 4)\n}",
    );
    const m = build(ir);
    try {
      randomize(m, 5);
      const mod = nadeOf(m);
      const row = new Float32Array(ir.n);
      for (let d = 0; d < 3; d++) {
        const ps = new Set<string>();
        for (let label = 0; label < 10; label++) {
          row[0] = label;
          ps.add(mod.conditional(d, row)[1].toFixed(8));
        }
        expect(ps.size).toBe(10);
      }
      // The JS conditional for x[1] is σ(b_1 + V_1 · σ(c + W_y e_label)).
      const [c, V, b, Wy] = [mod.c, mod.V, mod.b, mod.Wy].map((v) => v.dataSync());
      row[0] = 7;
      let logit = b[0];
      for (let h = 0; h < 4; h++) logit += V[h] * sigmoid(c[h] + Wy[h * 10 + 7]);
      expect(mod.conditional(0, row)[1]).toBeCloseTo(sigmoid(logit), 6);
    } finally {
      m.dispose();
    }
  });

  it("the compiler refuses continuous conditions (E0411) and still refuses a conditioned pixelrnn (E0412)", () => {
    const a = compileText(
      "model N {\n  latent z : Normal[2]\n  x : Bernoulli[4]\n  p(x | z) = nade(hidden = 8)\n}",
      "n.gm",
    );
    expect(a.diagnostics.map((d) => d.code)).toContain("E0411");
    const b = compileText(
      "model P {\n  y : Bernoulli\n  x : Bernoulli[2, 2]\n  p(y) = table\n  p(x | y) = pixelrnn(kind = row_lstm, hidden = 4, layers = 1)\n}",
      "p.gm",
    );
    expect(b.diagnostics.map((d) => d.code)).toContain("E0412");
  });
});
