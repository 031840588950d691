/**
 * Numerical properties of the built networks, on random small models of every family generated
 * as `.gm` text (tests/models/gen.ts): joint, independent, table (explicit `for` conditionals, in
 * and against declaration order), chain, markov(k), chain + assume, logistic, logistic + assume,
 * nade(hidden = h); Bernoulli and Categorical(3) elements, an optional context `p(x | y)`, 2-D
 * orders. Weights are random (`randomize`, normal with scale 1) unless said otherwise.
 *
 * 1. normalization: Σ_x p(x) = 1 within 1e-5, by exhaustive enumeration;
 * 2. chain rule: each module's conditional equals the one marginalized from the model's own joint
 *    (`chainRuleGap` ≤ 1e-5), and log p(x) from the backend equals the sum of the conditionals
 *    computed in JS (`sumOfConditionalsGap` ≤ 1e-4 nats);
 * 3. assumptions: every parent removed by `assume` leaves the conditional unchanged, both in the
 *    module (`assumptionGap` ≤ 1e-6) and in the enumerated joint (p(x_a | x_before) computed by
 *    summation does not move with the removed parents, ≤ 1e-5) — with random weights AND after
 *    training (closed-form tables, 5 Adam steps at lr 0.05 on random data);
 * 4. sampling: a chi-square test of 2,000 ancestral samples against the exact density, p > 1e-4
 *    (fast-check's seed is fixed for this property, so the run is reproducible);
 * 5. parameter count: `paramCount()` equals the compiler's `ir.params` for every family and every
 *    explicit model of examples/*.gm whose tables fit (others raise M0101 naming a neural family).
 *
 * Each property is also run against a deliberately broken network ("planted bug") and must FAIL:
 * NADE with an inclusive cumulative sum (x_d sees itself), a table whose conditional reads the
 * wrong parent, a logistic that ignores `assume`, a NADE sampler drawing from the previous
 * element's conditional, sampling factors in declaration order, a logistic embedding with the
 * diagonal.
 *
 * numRuns per family (9 families): normalization 30, chain rule 30, sampling 12, parameter count
 * 30; assumptions 40 for each of the two `assume` families (random and trained weights in each
 * run); generator sanity 50; on cpu 10 runs of any family for properties 1, 2 and 5 and 10 for the
 * NADE off-by-one. Planted bugs: at most 20 runs each (fast-check stops at the first failure and
 * shrinks). `GM_PROPERTY_RUNS` overrides every count; `GM_PROPERTY_SEED` the chi-square seed;
 * `GM_SHOW_PLANTED=1` prints fast-check's report for every planted bug.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile";
import type { ModelIR } from "../../src/compiler/ir";
import { Rng } from "../../src/data/rng";
import { initBackend } from "../../src/models/backend";
import { ExplicitModel } from "../../src/models/explicit";
import { LogisticModule } from "../../src/models/logistic";
import { buildModel } from "../../src/models/registry";
import { NadeModule } from "../../src/models/nade";
import { TableModule } from "../../src/models/table";
import { ModelError } from "../../src/models/types";
import type { ElementGraph } from "../../src/compiler/graph";
import type { FactorIR } from "../../src/compiler/ir";
import type { Rng as RngType } from "../../src/data/rng";
import { assumptionGap, elementOutcomes, randomize, samplingChiSquare } from "../../src/models/verify";
import {
  anyModelArb,
  chainRuleOnce,
  compileModel,
  FAMILY_KINDS,
  familyArb,
  graphWith,
  jointIndependenceGap,
  mustFail as failingReport,
  randomData,
  trainBriefly,
  withFamily,
  buildForTest,
  normalization,
  withModel,
  type Check,
  type FamilyKind,
  type ModelPlan,
} from "./gen";

const RUNS = (n: number) => Number(process.env.GM_PROPERTY_RUNS ?? n);
/** The chi-square property runs at this fast-check seed (reproducible p-values). */
const SAMPLING_SEED = Number(process.env.GM_PROPERTY_SEED ?? 20241125);

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
});

// ---------------------------------------------------------------------------------------------
// The properties, as checks that throw

/** The chain rule at the drawn weights (no training). */
const chainRule: Check = (m, _ir, seed) => chainRuleOnce(m, seed);

const assumptionsHold =
  (when: string): Check =>
  (m) => {
    const mod = assumptionGap(m, new Rng(7), 4);
    if (!(mod.gap <= 1e-6)) throw new Error(`${when}: ${mod.where}: the module's conditional moved by ${mod.gap}`);
    const joint = jointIndependenceGap(m);
    if (!(joint.gap <= 1e-5))
      throw new Error(`${when}: ${joint.where}: p(x_a | predecessors) from the joint moved by ${joint.gap}`);
  };

const assumptions: Check = (m, ir, seed) => {
  assumptionsHold("random weights")(m, ir, seed);
  trainBriefly(m, seed);
  assumptionsHold("after training")(m, ir, seed);
};

const SAMPLES = 2000;
const sampling: Check = (m, _ir, seed) => {
  const r = samplingChiSquare(m, SAMPLES, seed);
  if (!(r.pValue > 1e-4))
    throw new Error(`chi-square ${r.stat.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toExponential(2)}`);
};

const paramCount: Check = (m, ir) => {
  if (m.paramCount() !== Number(ir.params))
    throw new Error(`built ${m.paramCount()} trainable parameters, the compiler counts ${ir.params}`);
};

/** The property: build the model of a plan, draw its weights from `seed`, run the check. */
function prop(arb: fc.Arbitrary<ModelPlan>, check: Check, build?: (ir: ModelIR) => ExplicitModel) {
  return fc.property(arb, fc.integer({ min: 0, max: 2 ** 30 }), (plan, seed) => {
    const ir = compileModel(plan.text);
    const m = build ? build(ir) : buildForTest(ir, 1);
    try {
      randomize(m, seed);
      check(m, ir, seed);
    } finally {
      m.dispose();
    }
  });
}

/** Runs a property that must FAIL on a planted bug (20 runs here); returns fast-check's report. */
function mustFail(p: fc.IPropertyWithHooks<[ModelPlan, number]>, numRuns = RUNS(20), seed?: number): string {
  const report = failingReport(p, numRuns, seed);
  expect(report).toMatch(/Property failed after \d+ tests/);
  return report;
}

const familiesWithAssume: FamilyKind[] = ["chain+assume", "logistic+assume"];

// ---------------------------------------------------------------------------------------------
// Planted bugs

/** NADE with an inclusive cumulative sum: h_d reads x_d itself (the off-by-one mask). */
class InclusiveCumsumNade extends NadeModule {
  override logits(xo: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, D] = xo.shape;
      const contrib = tf.mul(xo.reshape([B, 1, D]), this.W.reshape([1, this.H, D]));
      const a = tf.add(tf.cumsum(contrib, 2, false), this.c.reshape([1, this.H, 1]));
      const vt = tf.transpose(this.V).reshape([1, this.H, D]);
      return tf.add(tf.sum(tf.mul(tf.sigmoid(a), vt), 1), this.b) as tf.Tensor2D;
    });
  }
}

/** NADE whose sampler draws x_d from the conditional of x_{d−1}. */
class PreviousConditionalNade extends NadeModule {
  override sample(rows: Float32Array[], rng: RngType): void {
    this.invalidate();
    const t = this.factor.targets;
    for (const row of rows) {
      for (let d = 0; d < this.D; d++) {
        const p1 = this.conditional(Math.max(0, d - 1), row)[1];
        row[t[d]] = rng.uniform() < p1 ? 1 : 0;
      }
    }
  }
}

/** A table whose conditional's row index reads another element in place of its first parent. */
class WrongParentTable extends TableModule {
  private readonly graph: ElementGraph;
  private readonly ks: number[];
  constructor(f: FactorIR, ir: ModelIR, g: ElementGraph, name: string) {
    super(f, ir, g, name);
    this.graph = g;
    this.ks = [];
    for (const v of ir.variables)
      for (let i = 0; i < v.size; i++) this.ks.push(v.domain.kind === "categorical" ? v.domain.k : 2);
  }

  override conditional(position: number, row: Float32Array): Float64Array {
    const target = this.factor.family === "joint" ? -1 : this.factor.targets[position];
    const ps = target < 0 ? Array.from(this.factor.context) : Array.from(this.graph.parents(target));
    if (ps.length === 0) return super.conditional(position, row);
    const p = ps[0];
    const wrong = (p + 1) % row.length;
    const r2 = Float32Array.from(row);
    r2[p] = row[wrong] % this.ks[p];
    return super.conditional(position, r2);
  }
}

/** Parents that `assume` removed from element e. */
function removedParents(ir: ModelIR, e: number): number[] {
  const out: number[] = [];
  for (const s of ir.derivation)
    if (s.element === e) for (const p of s.before) if (!s.after.includes(p) && !out.includes(p)) out.push(p);
  return out;
}

/** A model that samples its factors in declaration order instead of a topological order. */
function declarationOrderSampler(ir: ModelIR): ExplicitModel {
  const m = buildForTest(ir, 1);
  (m as unknown as { sampleOrder: unknown }).sampleOrder = [...m.modules];
  return m;
}

/** Binary chain-like models with at least one parent somewhere. */
const reversedTableArb: fc.Arbitrary<ModelPlan> = fc.integer({ min: 2, max: 8 }).map((n) => ({
  family: "table-for" as const,
  text: `model G {\n  x : Bernoulli[${n}]\n  for i in 1..${n}: p(x[i] | x[i+1]) = table\n}`,
}));

// ---------------------------------------------------------------------------------------------

describe("the generator", () => {
  it("produces models of every family that compile cleanly and build", () => {
    fc.assert(
      fc.property(anyModelArb, (plan) => {
        withModel(plan, (m, ir) => {
          expect(ir.kind).toBe("explicit");
          expect(elementOutcomes(m).reduce((a, b) => a * b, 1)).toBeLessThanOrEqual(4096);
        });
      }),
      { numRuns: RUNS(50) },
    );
  });
});

describe("1. normalization: Σ_x p(x) = 1", () => {
  it.each(FAMILY_KINDS)("%s", (family) => {
    fc.assert(prop(familyArb(family), normalization), { numRuns: RUNS(30) });
  });

  it("FAILS on NADE with an inclusive cumsum (x_d sees itself)", () => {
    const report = withFamily(
      "nade",
      (f, _ir, _g, name, seed) => new InclusiveCumsumNade(f, name, seed),
      () => mustFail(prop(familyArb("nade"), normalization)),
    );
    expect(report).toMatch(/Σ_x p\(x\) = /);
    expect(report).toContain("nade(hidden =");
  });

  it("FAILS on a logistic whose embedding includes the diagonal", () => {
    const report = withFamily(
      "logistic",
      (f, ir, g, name, seed) =>
        new LogisticModule(
          f,
          ir,
          graphWith(g, (e) => [e]),
          name,
          seed,
        ),
      () => mustFail(prop(familyArb("logistic"), normalization)),
    );
    expect(report).toMatch(/Σ_x p\(x\) = /);
  });
});

describe("2. chain rule: conditionals = the marginalized joint, log p = Σ log conditionals", () => {
  it.each(FAMILY_KINDS)("%s", (family) => {
    fc.assert(prop(familyArb(family), chainRule), { numRuns: RUNS(30) });
  });

  it("FAILS on a table whose row index reads the wrong parent", () => {
    const report = withFamily(
      "chain",
      (f, ir, g, name) => new WrongParentTable(f, ir, g, name),
      () => mustFail(prop(familyArb("chain"), chainRule)),
    );
    // Either half of the chain rule may catch it first: the wrong row shows in the conditional only
    // where the two parents' values differ in the rows drawn. (A clean-clone CI run once saw the
    // other half fail first: the search shrank to seed 0, which tfjs took as no seed; see
    // tests/models/seed-zero.test.ts. Now the run is the same every time.)
    expect(report).toMatch(/differs from the marginalized joint|differs from the sum of the conditionals/);
  });

  it("FAILS on NADE with an inclusive cumsum", () => {
    const report = withFamily(
      "nade",
      (f, _ir, _g, name, seed) => new InclusiveCumsumNade(f, name, seed),
      () => mustFail(prop(familyArb("nade"), chainRule)),
    );
    expect(report).toMatch(/differs from the marginalized joint|sum of the conditionals/);
  });
});

describe("3. assume: removed parents do not change the conditional (random and trained weights)", () => {
  it.each(familiesWithAssume)("%s", (family) => {
    fc.assert(prop(familyArb(family), assumptions), { numRuns: RUNS(40) });
  });

  it("the generated models do remove parents", () => {
    fc.assert(
      fc.property(familyArb("chain+assume"), familyArb("logistic+assume"), (a, b) => {
        expect(compileModel(a.text).derivation.length).toBeGreaterThan(0);
        expect(compileModel(b.text).derivation.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS(10) },
    );
  });

  it("FAILS on a logistic that ignores the assumption (keeps the removed weights)", () => {
    const build: Parameters<typeof withFamily>[1] = (f, ir, g, name, seed) =>
      new LogisticModule(
        f,
        ir,
        graphWith(g, (e) => removedParents(ir, e)),
        name,
        seed,
      );
    const report = withFamily("logistic", build, () => mustFail(prop(familyArb("logistic+assume"), assumptions)));
    expect(report).toMatch(/random weights: .*moved by/);
    // Training does not hide it either: check the trained network alone.
    const trainedOnly: Check = (m, ir, seed) => {
      trainBriefly(m, seed);
      assumptionsHold("after training")(m, ir, seed);
    };
    const trained = withFamily("logistic", build, () => mustFail(prop(familyArb("logistic+assume"), trainedOnly)));
    expect(trained).toMatch(/after training: .*moved by/);
  });
});

describe("4. sampling agrees with the density (chi-square, fixed seed)", () => {
  it.each(FAMILY_KINDS)("%s", (family) => {
    fc.assert(prop(familyArb(family), sampling), { numRuns: RUNS(12), seed: SAMPLING_SEED });
  });

  it("FAILS on a NADE sampler that draws from the previous element's conditional", () => {
    const report = withFamily(
      "nade",
      (f, _ir, _g, name, seed) => new PreviousConditionalNade(f, name, seed),
      () =>
        mustFail(
          prop(
            familyArb("nade").filter((p) => !/Bernoulli\[1\]|Bernoulli\[1, 1\]/.test(p.text)),
            sampling,
          ),
          RUNS(20),
          SAMPLING_SEED,
        ),
    );
    expect(report).toMatch(/chi-square .* p = /);
  });

  it("FAILS when factors are sampled in declaration order (x[i] drawn before its parent x[i+1])", () => {
    const report = mustFail(prop(reversedTableArb, sampling, declarationOrderSampler), RUNS(20), SAMPLING_SEED);
    expect(report).toMatch(/chi-square .* p = /);
  });
});

describe("5. trainable parameters = the compiler's count", () => {
  it.each(FAMILY_KINDS)("%s", (family) => {
    fc.assert(prop(familyArb(family), paramCount), { numRuns: RUNS(30) });
  });

  it("FAILS on a logistic whose embedding includes the diagonal", () => {
    const report = withFamily(
      "logistic",
      (f, ir, g, name, seed) =>
        new LogisticModule(
          f,
          ir,
          graphWith(g, (e) => [e]),
          name,
          seed,
        ),
      () => mustFail(prop(familyArb("logistic"), paramCount)),
    );
    expect(report).toMatch(/built \d+ trainable parameters, the compiler counts \d+/);
  });

  it("every explicit model of examples/*.gm: built count = compiler count, or M0101 naming a neural family", () => {
    const dir = join(import.meta.dirname, "../../examples");
    const seen = { built: 0, tooLarge: 0, notBuilt: 0, notExplicit: 0 };
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith(".gm"))
      .sort()) {
      const text = readFileSync(join(dir, file), "utf8");
      const r = compileText(text, file, { checks: false });
      expect(
        r.diagnostics.filter((d) => d.severity === "error"),
        file,
      ).toEqual([]);
      for (const ir of r.models) {
        const where = `${file} model ${ir.name}`;
        if (ir.kind !== "explicit") {
          seen.notExplicit++;
          expectBuildsAsKindOrNotBuilt(ir, where);
          continue;
        }
        let m: ReturnType<typeof buildModel>;
        try {
          // Explicit models with discrete latent variables (mixtures) build their own class.
          m = buildModel(ir, { seed: 1 });
        } catch (e) {
          expect(e, where).toBeInstanceOf(ModelError);
          const err = e as ModelError;
          if (err.code === "M0101") {
            seen.tooLarge++;
            expect(`${err.message}\n${err.hint}`, where).toMatch(/logistic|nade/);
          } else {
            seen.notBuilt++;
            expect(err.code, `${where}: ${err.message}`).toBe("M0103");
            expect(err.message, where).toMatch(/not built/);
          }
          continue;
        }
        try {
          expect(m.paramCount(), where).toBe(Number(ir.params));
          seen.built++;
        } finally {
          m.dispose();
        }
      }
    }
    // Tables (01–09), logistic and NADE (10) build, and so does every later explicit family that
    // has landed (any that has not says "not built", M0103); MnistJoint is too large; the VAE and
    // GAN examples are latent / implicit.
    expect(seen.built).toBeGreaterThanOrEqual(25);
    expect(seen.tooLarge).toBeGreaterThanOrEqual(1);
    expect(seen.notExplicit).toBeGreaterThanOrEqual(1);
  });
});

/**
 * The GenerativeModel interface of an explicit model (what `gm train/score/sample` use): `score`
 * in small batches equals Σ log conditionals per row and says "exact"; the objective's `nll` step
 * is −mean score, and exists iff a gradient family does (tables: closed form only); `evaluate`
 * reports `nll`; the observed variables are all of them; `sample` stays in the domain and is
 * seeded. Planted in src/models/explicit.ts's `logLikelihoods` (then removed): writing each batch
 * at `lo + 1` instead of `lo` — failed at once ("score differs from Σ log conditionals").
 */
const generativeInterface: Check = (m, ir, seed) => {
  const n = 7;
  const x = randomData(m, n, seed);
  const s = m.score(x, n, { batch: 3 });
  if (s.kind !== "exact" || s.values.length !== n)
    throw new Error(`score: kind ${s.kind}, ${s.values.length} values for ${n} rows`);
  for (let i = 0; i < n; i++) {
    const js = m.logProbJs(x.subarray(i * m.dim, (i + 1) * m.dim));
    if (!(Math.abs(s.values[i] - js) <= 1e-3))
      throw new Error(`row ${i}: score differs from Σ log conditionals: ${s.values[i]} vs ${js}`);
  }
  const mean = -s.values.reduce((a, b) => a + b, 0) / n;
  const objective = m.objective({ lr: 0.01 });
  const gradient = m.modules.some((mod) => mod.gradient);
  if (objective.steps.length !== (gradient ? 1 : 0))
    throw new Error(`${objective.steps.length} steps for a model ${gradient ? "with" : "without"} gradient families`);
  if (Boolean(objective.fitClosedForm) !== m.modules.some((mod) => mod.fitClosedForm))
    throw new Error("fitClosedForm present iff a table factor is");
  if (gradient) {
    const loss = tf.tidy(() => objective.steps[0].loss(tf.tensor2d(x, [n, m.dim]), { step: 0, seed }).dataSync()[0]);
    if (objective.steps[0].name !== "nll" || !(Math.abs(loss - mean) <= 1e-3 * Math.max(1, Math.abs(mean))))
      throw new Error(`nll step ${loss} ≠ −mean score ${mean}`);
  }
  const ev = objective.evaluate(x, n);
  if (objective.primary !== "nll" || !(Math.abs(ev.nll - mean) <= 1e-6 * Math.max(1, Math.abs(mean))))
    throw new Error(`evaluate ${JSON.stringify(ev)} ≠ −mean score ${mean}`);
  if (m.observed.length !== ir.variables.length || m.dim !== ir.n)
    throw new Error("observed ≠ every variable of an explicit model");
  const ks = elementOutcomes(m);
  const a = m.sample(5, seed);
  const b = m.sample(5, seed);
  if (a.length !== 5 * m.dim || !a.every((v, i) => v === b[i] && Number.isInteger(v) && v >= 0 && v < ks[i % m.dim]))
    throw new Error("samples out of the domain or not reproducible");
};

/** A non-explicit model either builds as a model of its own kind or is "not built yet" (M0103). */
function expectBuildsAsKindOrNotBuilt(ir: ModelIR, where: string): void {
  let m: ReturnType<typeof buildModel> | undefined;
  try {
    m = buildModel(ir);
  } catch (e) {
    expect(e, where).toBeInstanceOf(ModelError);
    expect((e as ModelError).code, where).toMatch(/^M0103$|^M0106$/);
    return;
  }
  try {
    expect(m.kind, where).toBe(ir.kind);
    expect(m).not.toBeInstanceOf(ExplicitModel);
  } finally {
    m.dispose();
  }
}

describe("6. the GenerativeModel interface: score, objective, evaluate, sample", () => {
  it.each(FAMILY_KINDS)("%s", (family) => {
    fc.assert(prop(familyArb(family), generativeInterface), { numRuns: RUNS(8) });
  });

  it("buildModel dispatches on the kind: explicit builds an ExplicitModel, latent and implicit their own kind (or say they are not built)", () => {
    const ir = compileModel("model E {\n  x : Bernoulli[3]\n  p(x) = logistic\n}\n");
    const m = buildModel(ir);
    expect(m.kind).toBe("explicit");
    expect(m).toBeInstanceOf(ExplicitModel);
    m.dispose();
    const text = readFileSync(join(__dirname, "../../examples/12-vae.gm"), "utf8");
    for (const other of compileText(text, "12-vae.gm", { checks: false }).models) {
      if (other.kind === "explicit") continue;
      expectBuildsAsKindOrNotBuilt(other, other.name);
    }
  });
});

describe("on the cpu backend", () => {
  beforeAll(async () => {
    await initBackend("cpu", { quiet: true });
  });
  afterAll(async () => {
    await initBackend("wasm", { threads: 1, quiet: true });
  });

  it("normalization, chain rule and parameter count hold", () => {
    expect(tf.getBackend()).toBe("cpu");
    const all: Check = (m, ir, seed) => {
      normalization(m, ir, seed);
      chainRule(m, ir, seed);
      paramCount(m, ir, seed);
    };
    fc.assert(prop(anyModelArb, all), { numRuns: RUNS(10) });
  });

  it("the NADE off-by-one is caught on cpu too", () => {
    withFamily(
      "nade",
      (f, _ir, _g, name, seed) => new InclusiveCumsumNade(f, name, seed),
      () => mustFail(prop(familyArb("nade"), normalization), RUNS(10)),
    );
  });
});
