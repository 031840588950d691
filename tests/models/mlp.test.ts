/**
 * MLP conditionals in explicit models (src/models/mlp-conditional.ts), on random small models
 * generated as `.gm` text and built by the model builder:
 *
 * - window: `x : Bernoulli[n]` or `Categorical(3)[n]`, `p(x[1]) = table`, then
 *   `for i in 2..n: p(x[i] | x[i-1], …, x[i-w]) = mlp(hidden = [h])` (w = 1…3; out-of-range
 *   parents dropped), or the same reversed (`x[i+1], …`: a DAG against declaration order), with an
 *   optional extra parent `y` (Bernoulli, Categorical(3) or Categorical(3)[2], read one-hot);
 * - conditional: `p(x | y) = mlp(hidden = [h₁(, h₂)])` and `p(c, x | y)` with mixed Bernoulli and
 *   Categorical(3) targets, y Bernoulli / Categorical(3) / Categorical(4) / arrays of them, and
 *   optionally a second level `p(w | x) = mlp(…)`.
 * At most 12 binary elements' worth of outcomes (≤ 4,096), so every model is enumerated.
 *
 * Properties (src/models/verify.ts where it has them), with random weights (normal, scale 1):
 * 1. normalization: Σ_x p(x) = 1 within 1e-5;
 * 2. chain rule: each module's conditional equals the marginalized joint (≤ 1e-5) and log p from
 *    the backend equals Σ log conditionals in JS (≤ 1e-4 nats), also after 5 Adam steps;
 * 3. locality (what a pruned parent is for the table families): each MLP target's conditional
 *    depends on its parents only — changing any other element leaves the module's conditional
 *    unchanged, and p(x_t | every element drawn before it) summed from the enumerated joint does
 *    not move with the non-parents — with random weights and after training;
 * 4. sampling: chi-square of 2,000 ancestral samples against the exact density, p > 1e-4;
 * 5. count: trainable numbers = the compiler's `ir.params`, per factor and in all.
 *
 * Planted bugs, each making its property FAIL (see the tests): a module that reads its own target
 * (normalization); a one-hot encoding off by one on the backend only (chain rule); a module that
 * reads a non-parent x[i−2] in place of x[i−1] (locality); a sampler that ignores the parents
 * (sampling); a module with an extra trainable temperature (count). Plus the convention: the
 * compiler's old count (a categorical condition as one number) is refused with M0103 by the
 * module rather than built with a different count. `GM_PROPERTY_RUNS` overrides every run count.
 *
 * End to end: `gm train` (the built CLI, `node dist/cli/main.js`, in a child process) fits a 4×4
 * model whose pixels are MLP conditionals of their upper and left neighbours on a tiny IDX file
 * for a few epochs, and its held-out NLL drops.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile";
import { mlpParams } from "../../src/compiler/count";
import { ElementGraph } from "../../src/compiler/graph";
import type { FactorIR, ModelIR } from "../../src/compiler/ir";
import { Rng } from "../../src/rng";
import { initBackend } from "../../src/models/backend";
import { buildExplicitModel, type ExplicitModel } from "../../src/models/explicit";
import { checkpointName } from "../../src/models/lookup";
import { MlpConditionalModule, MlpGroup as MlpGroupClass, type MlpGroup } from "../../src/models/mlp-conditional";
import type { FactorModule } from "../../src/models/types";
import {
  elementOutcomes,
  enumerate,
  logProbs,
  randomize,
  samplingChiSquare,
  samplingOrder,
} from "../../src/models/verify";
import {
  chainRuleOnce,
  chainRuleTrained as chainRule,
  compileModel,
  mustFail,
  normalization,
  trainBriefly,
  type Check,
} from "./gen";
import { removeDir, tempDir, writeBinaryIdx } from "./run-helpers";

const RUNS = (n: number) => Number(process.env.GM_PROPERTY_RUNS ?? n);
const SAMPLING_SEED = Number(process.env.GM_PROPERTY_SEED ?? 20261129);

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
});

// ---------------------------------------------------------------------------------------------
// Generated models

interface Plan {
  readonly kind: "window" | "conditional";
  readonly text: string;
}

interface Y {
  shape: number[];
  k: number;
}
const dom = (k: number) => (k === 2 ? "Bernoulli" : `Categorical(${k})`);
const decl = (name: string, y: Y) => `${name} : ${dom(y.k)}${y.shape.length ? `[${y.shape.join(", ")}]` : ""}`;
const hiddenArb = fc.oneof(
  fc.integer({ min: 1, max: 6 }).map((h) => `[${h}]`),
  fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 })).map(([a, b]) => `[${a}, ${b}]`),
);

/** Windows of MLP conditionals over x, optionally with y as an extra parent of every one. */
const windowArb: fc.Arbitrary<Plan> = fc
  .record({
    k: fc.constantFrom(2, 2, 3),
    n: fc.integer({ min: 2, max: 8 }),
    w: fc.integer({ min: 1, max: 3 }),
    reversed: fc.boolean(),
    y: fc.option(fc.constantFrom<Y>({ shape: [], k: 2 }, { shape: [], k: 3 }, { shape: [2], k: 3 }), { freq: 2 }),
    hidden: hiddenArb,
  })
  .map(({ k, n: n0, w, reversed, y, hidden }) => {
    const n = k === 2 ? n0 : Math.min(n0, 5);
    // x first: its elements come first in every factor's (sorted) context.
    const lines = ["model G {", `  x : ${dom(k)}[${n}]`];
    if (y) lines.push(`  ${decl("y", y)}`, "  p(y) = independent");
    const s = reversed ? "+" : "-";
    const parents = Array.from({ length: w }, (_, d) => `x[i${s}${d + 1}]`);
    if (y) parents.push("y");
    lines.push(reversed ? `  p(x[${n}]) = table` : "  p(x[1]) = table");
    lines.push(
      `  for i in ${reversed ? `1..${n - 1}` : `2..${n}`}: p(x[i] | ${parents.join(", ")}) = mlp(hidden = ${hidden})`,
      "}",
    );
    return { kind: "window" as const, text: lines.join("\n") };
  });

/** `p(x | y) = mlp`, `p(c, x | y) = mlp` (mixed targets), optionally `p(w | x) = mlp`. */
const conditionalArb: fc.Arbitrary<Plan> = fc
  .record({
    y: fc.constantFrom<Y>(
      { shape: [], k: 2 },
      { shape: [], k: 3 },
      { shape: [], k: 4 },
      { shape: [2], k: 2 },
      { shape: [2], k: 3 },
    ),
    yFam: fc.constantFrom("independent", "joint", "chain"),
    nx: fc.integer({ min: 1, max: 6 }),
    nc: fc.integer({ min: 0, max: 2 }),
    cFirst: fc.boolean(),
    nw: fc.integer({ min: 0, max: 2 }),
    hidden: hiddenArb,
    hidden2: hiddenArb,
  })
  .map(({ y, yFam, nx: nx0, nc, cFirst, nw: nw0, hidden, hidden2 }) => {
    const nx = nc > 0 ? Math.min(nx0, 4) : nx0;
    const nw = nc > 0 ? 0 : nw0;
    const lines = ["model G {", `  ${decl("y", y)}`, `  x : Bernoulli[${nx}]`];
    if (nc) lines.push(`  c : Categorical(3)[${nc}]`);
    if (nw) lines.push(`  w : Bernoulli[${nw}]`);
    lines.push(`  p(y) = ${yFam}`);
    const head = nc ? (cFirst ? "c, x" : "x, c") : "x";
    lines.push(`  p(${head} | y) = mlp(hidden = ${hidden})`);
    if (nw) lines.push(`  p(w | x) = mlp(hidden = ${hidden2})`);
    lines.push("}");
    return { kind: "conditional" as const, text: lines.join("\n") };
  });

const anyArb = fc.oneof(windowArb, conditionalArb);

// ---------------------------------------------------------------------------------------------
// Building, and planting broken modules

type Make = (f: FactorIR, ir: ModelIR, name: string, seed: number) => FactorModule;

/** Builds the model; with `make`, every MLP factor's module is replaced by `make`'s (a planted bug). */
function build(ir: ModelIR, make?: Make): ExplicitModel {
  const m = buildExplicitModel(ir, { seed: 1 });
  if (!make) return m;
  const swapped = new Map<FactorModule, FactorModule>();
  m.modules.forEach((mod, i) => {
    if (mod.factor.family !== "mlp") return;
    const planted = make(mod.factor, ir, `planted${i}_${Math.random().toString(36).slice(2)}`, 7 + i);
    swapped.set(mod, planted);
    mod.dispose();
    m.modules[i] = planted;
  });
  const order = m.sampleOrder as FactorModule[];
  order.forEach((mod, i) => {
    order[i] = swapped.get(mod) ?? mod;
  });
  return m;
}

function prop(arb: fc.Arbitrary<Plan>, check: Check, make?: Make) {
  return fc.property(arb, fc.integer({ min: 0, max: 2 ** 30 }), (plan, seed) => {
    const ir = compileModel(plan.text);
    const m = build(ir, make);
    try {
      randomize(m, seed);
      check(m, ir, seed);
    } finally {
      m.dispose();
    }
  });
}

/** A module over `factor` whose first condition is replaced by element `to(factor)`. */
const rewired =
  (to: (f: FactorIR) => number): Make =>
  (f, ir, name, seed) => {
    const context = Int32Array.from(f.context);
    context[0] = to(f);
    return new MlpConditionalModule({ ...f, context }, ir, name, seed);
  };

/** One-hot on the backend compares with level + 1 (JS conditionals and sampling stay right). */
class OffByOneOneHot extends MlpConditionalModule {
  constructor(f: FactorIR, ir: ModelIR, name: string, seed: number) {
    super(f, ir, name, seed);
    const ks = Array.from(f.context, (e) => elementK(ir, e));
    this.inputs.encode = (x: tf.Tensor2D) =>
      tf.tidy(() => {
        const cols: tf.Tensor2D[] = [];
        Array.from(f.context).forEach((e, i) => {
          const v = tf.slice(x, [0, e], [x.shape[0], 1]) as tf.Tensor2D;
          if (ks[i] <= 2) cols.push(v);
          else for (let o = 0; o < ks[i]; o++) cols.push(tf.cast(tf.equal(v, o + 1), "float32") as tf.Tensor2D);
        });
        return tf.concat(cols, 1) as tf.Tensor2D;
      });
  }
}

/** Draws every target as if its parents were all 0. */
class ParentBlindSampler extends MlpConditionalModule {
  override sample(rows: Float32Array[], rng: Rng): void {
    const zero = new Float32Array(rows[0]?.length ?? 0);
    const t = this.factor.targets;
    for (const row of rows) {
      for (let i = 0; i < t.length; i++) {
        const p = this.conditional(i, zero);
        const u = rng.uniform();
        let acc = 0;
        let v = p.length - 1;
        for (let j = 0; j < p.length; j++) {
          acc += p[j];
          if (u < acc) {
            v = j;
            break;
          }
        }
        row[t[i]] = v;
      }
    }
  }
}

/** An MLP conditional with a learned output temperature: one trainable number the compiler does not count. */
class TemperatureMlp extends MlpConditionalModule {
  constructor(f: FactorIR, ir: ModelIR, name: string, seed: number) {
    super(f, ir, name, seed);
    this.variables.push(tf.variable(tf.scalar(1), true, `${name}/temperature`));
  }
}

function elementK(ir: ModelIR, e: number): number {
  const v = ir.variables.find((w) => e >= w.offset && e < w.offset + w.size)!;
  return v.domain.kind === "categorical" ? v.domain.k : 2;
}

// ---------------------------------------------------------------------------------------------
// The properties

/**
 * For every MLP target t: (a) the module's conditional ignores every non-parent (each changed at
 * random, several times); (b) p(x_t | the elements drawn before it), summed from the enumerated
 * joint, is the same for every value of the non-parents among them. Returns the largest change.
 */
function localityGap(m: ExplicitModel, ir: ModelIR, seed: number): { gap: number; where: string } {
  const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
  const ks = elementOutcomes(m);
  const rng = new Rng(seed);
  const X = enumerate(m);
  const lp = logProbs(m, X);
  const D = m.dim;
  const order = samplingOrder(m).flat();
  let worst = 0;
  let where = "";
  const note = (gap: number, w: string) => {
    if (gap > worst) {
      worst = gap;
      where = w;
    }
  };
  for (const mod of m.modules) {
    if (mod.factor.family !== "mlp") continue;
    mod.factor.targets.forEach((t, pos) => {
      const parents = new Set(g.parents(t));
      // (a) the module
      for (let trial = 0; trial < 4; trial++) {
        const row = Float32Array.from({ length: D }, (_, i) => rng.int(ks[i]));
        const a = mod.conditional(pos, row);
        for (let e = 0; e < D; e++) if (!parents.has(e)) row[e] = rng.int(ks[e]);
        const b = mod.conditional(pos, row);
        for (let o = 0; o < a.length; o++)
          note(Math.abs(a[o] - b[o]), `module of element ${t}: conditional moved with a non-parent`);
      }
      // (b) the joint: group the predecessors' values by the parents' values
      const before = order.slice(0, order.indexOf(t));
      const groups = new Map<string, Float64Array>();
      const mass = new Map<string, Float64Array>();
      for (let i = 0; i < lp.length; i++) {
        const key = before.map((e) => X[i * D + e]).join(",");
        let acc = mass.get(key);
        if (!acc) mass.set(key, (acc = new Float64Array(ks[t])));
        acc[X[i * D + t]] += Math.exp(lp[i]);
      }
      for (const [key, acc] of mass) {
        const vals = key === "" ? [] : key.split(",").map(Number);
        const pkey = before.map((e, j) => (parents.has(e) ? vals[j] : "*")).join(",");
        const z = acc.reduce((a, b) => a + b, 0);
        const cond = acc.map((v) => v / z);
        const ref = groups.get(pkey);
        if (!ref) groups.set(pkey, cond);
        else
          for (let o = 0; o < cond.length; o++)
            note(
              Math.abs(ref[o] - cond[o]),
              `element ${t}: p(x_t | predecessors) from the joint moved with a non-parent`,
            );
      }
    });
  }
  return { gap: worst, where };
}

const locality: Check = (m, ir, seed) => {
  const a = localityGap(m, ir, seed);
  if (!(a.gap <= 1e-5)) throw new Error(`random weights: ${a.where} (by ${a.gap})`);
  trainBriefly(m, seed);
  const b = localityGap(m, ir, seed);
  if (!(b.gap <= 1e-5)) throw new Error(`after training: ${b.where} (by ${b.gap})`);
};

const sampling: Check = (m, _ir, seed) => {
  const r = samplingChiSquare(m, 2000, seed);
  if (!(r.pValue > 1e-4))
    throw new Error(`chi-square ${r.stat.toFixed(1)} on ${r.dof} dof, p = ${r.pValue.toExponential(2)}`);
};

const count: Check = (m, ir) => {
  // Per factor; a group of factors stored stacked (mlp-conditional.ts) holds the sum of its members'.
  const seen = new Set<MlpGroup>();
  for (const mod of m.modules) {
    const group = mod instanceof MlpConditionalModule && mod.group?.stacked() ? mod.group : undefined;
    if (group && seen.has(group)) continue;
    const members: FactorModule[] = group ? group.members : [mod];
    if (group) seen.add(group);
    const n = members.reduce((a, x) => a + x.variables.reduce((b, v) => b + v.size, 0), 0);
    const want = members.reduce((a, x) => a + x.factor.params, 0n);
    if (BigInt(n) !== want)
      throw new Error(
        `\`${mod.factor.source}\`${group ? ` (a group of ${members.length})` : ""}: built ${n} trainable numbers, the compiler counts ${want}`,
      );
  }
  if (m.paramCount() !== Number(ir.params))
    throw new Error(`built ${m.paramCount()} trainable parameters, the compiler counts ${ir.params}`);
};

// ---------------------------------------------------------------------------------------------

describe("the generator", () => {
  it("produces enumerable explicit models with MLP conditionals that compile and build", () => {
    fc.assert(
      fc.property(anyArb, (plan) => {
        const ir = compileModel(plan.text);
        expect(ir.kind).toBe("explicit");
        expect(ir.factors.some((f) => f.family === "mlp")).toBe(true);
        const m = build(ir);
        try {
          expect(elementOutcomes(m).reduce((a, b) => a * b, 1)).toBeLessThanOrEqual(4096);
        } finally {
          m.dispose();
        }
      }),
      { numRuns: RUNS(60) },
    );
  });
});

describe("MLP conditionals", () => {
  it.each([
    ["window", windowArb],
    ["conditional", conditionalArb],
  ] as const)("1. normalization (%s)", (_n, arb) => {
    fc.assert(prop(arb, normalization), { numRuns: RUNS(30) });
  });

  it("1. FAILS on a module that reads its own target", () => {
    const report = mustFail(
      prop(
        windowArb,
        normalization,
        rewired((f) => f.targets[0]),
      ),
    );
    expect(report).toMatch(/Σ_x p\(x\) = /);
  });

  it.each([
    ["window", windowArb],
    ["conditional", conditionalArb],
  ] as const)("2. chain rule, random and trained weights (%s)", (_n, arb) => {
    fc.assert(prop(arb, chainRule), { numRuns: RUNS(20) });
  });

  it("2. FAILS on a one-hot off by one on the backend", () => {
    const categoricalY = conditionalArb.filter((p) => /y : Categorical/.test(p.text));
    const report = mustFail(
      prop(categoricalY, chainRule, (f, ir, name, seed) => new OffByOneOneHot(f, ir, name, seed)),
    );
    expect(report).toMatch(/differs from the marginalized joint|sum of the conditionals/);
  });

  it.each([
    ["window", windowArb],
    ["conditional", conditionalArb],
  ] as const)("3. locality: a conditional depends on its parents only (%s)", (_n, arb) => {
    fc.assert(prop(arb, locality), { numRuns: RUNS(15) });
  });

  it("3. FAILS on a module that reads x[i-2] in place of its parent x[i-1]", () => {
    const arb = windowArb.filter(
      (p) =>
        /p\(x\[1\]\) = table/.test(p.text) &&
        /\| x\[i-1\], y\)|\| x\[i-1\]\)/.test(p.text) &&
        !/x : \w+(\(\d\))?\[2\]/.test(p.text),
    );
    // Factor of x[i] (i ≥ 3) reads x[i-2]; x[2] keeps x[1] (x[0] does not exist).
    const report = mustFail(
      prop(
        arb,
        locality,
        rewired((f) => (f.targets[0] >= 2 ? f.targets[0] - 2 : f.context[0])),
      ),
    );
    expect(report).toMatch(/random weights: .*non-parent/);
  });

  it.each([
    ["window", windowArb],
    ["conditional", conditionalArb],
  ] as const)("4. sampling agrees with the density (%s)", (_n, arb) => {
    fc.assert(prop(arb, sampling), { numRuns: RUNS(10), seed: SAMPLING_SEED });
  });

  it("4. FAILS on a sampler that ignores the parents", () => {
    const report = mustFail(
      prop(anyArb, sampling, (f, ir, name, seed) => new ParentBlindSampler(f, ir, name, seed)),
      RUNS(20),
      SAMPLING_SEED,
    );
    expect(report).toMatch(/chi-square .* p = /);
  });

  it.each([
    ["window", windowArb],
    ["conditional", conditionalArb],
  ] as const)("5. trainable count = the compiler's, per factor (%s)", (_n, arb) => {
    fc.assert(prop(arb, count), { numRuns: RUNS(40) });
  });

  it("5. FAILS on a module with an uncounted temperature", () => {
    const report = mustFail(prop(anyArb, count, (f, ir, name, seed) => new TemperatureMlp(f, ir, name, seed)));
    expect(report).toMatch(/built \d+ trainable numbers, the compiler counts \d+/);
  });
});

describe("groups: MLP factors of one layout stored stacked and computed as one batched network", () => {
  /** The same model with every MLP module alone, holding the grouped model's weights. */
  function ungroupedTwin(m: ExplicitModel, ir: ModelIR): ExplicitModel {
    const twin = build(ir, (f, ir2, name, seed) => new MlpConditionalModule(f, ir2, name, seed));
    m.modules.forEach((mod, i) => {
      if (!(mod instanceof MlpConditionalModule)) {
        twin.modules[i].variables.forEach((v, j) => v.assign(mod.variables[j]));
        return;
      }
      const own = twin.modules[i].variables;
      if (mod.group?.stacked()) {
        const { w, b } = mod.group.memberWeightsJs(mod.groupIndex);
        w.forEach((wl, l) => own[2 * l].assign(tf.tensor(wl, own[2 * l].shape)));
        b.forEach((bl, l) => own[2 * l + 1].assign(tf.tensor(bl, own[2 * l + 1].shape)));
      } else mod.variables.forEach((v, j) => own[j].assign(v));
    });
    twin.invalidate();
    return twin;
  }

  const sameAsAlone =
    (order: "model" | "shuffled"): Check =>
    (m, ir, seed) => {
      const twin = ungroupedTwin(m, ir);
      try {
        const rng = new Rng(seed);
        const n = 16;
        const X = Float32Array.from({ length: n * ir.n }, (_, i) => rng.int(elementOutcomes(m)[i % ir.n]));
        const want = logProbs(twin, X);
        let got: Float64Array;
        if (order === "model") got = logProbs(m, X);
        else {
          // Every module once, in a random order, on the same x: the shares still sum to log p.
          const mods = rng.shuffle([...m.modules]);
          got = Float64Array.from(
            tf.tidy(() => {
              const x = tf.tensor2d(X, [n, ir.n]);
              return mods
                .map((mod) => mod.logProb(x))
                .reduce((a, b) => tf.add(a, b))
                .dataSync();
            }),
          );
        }
        for (let r = 0; r < n; r++)
          if (!(Math.abs(got[r] - want[r]) <= 1e-4 * (1 + Math.abs(want[r]))))
            throw new Error(`row ${r}: grouped log p ${got[r]}, each module alone ${want[r]}`);
      } finally {
        twin.dispose();
      }
    };

  it("log p of the grouped model equals every module computed alone, with the same weights", () => {
    fc.assert(prop(windowArb, sameAsAlone("model")), { numRuns: RUNS(20) });
  });

  it("one call of every module on the same x, in any order, sums to log p", () => {
    fc.assert(prop(windowArb, sameAsAlone("shuffled")), { numRuns: RUNS(20) });
  });

  it("both FAIL when every member returns its group's total (the pass forgotten)", () => {
    const logProb = Object.getOwnPropertyDescriptor(MlpGroupClass.prototype, "logProb")!;
    const total = (MlpGroupClass.prototype as unknown as { total: (x: tf.Tensor2D) => tf.Tensor1D }).total;
    Object.defineProperty(MlpGroupClass.prototype, "logProb", {
      ...logProb,
      value(this: unknown, _m: unknown, x: tf.Tensor2D) {
        return total.call(this, x);
      },
    });
    try {
      // Windows over ≥ 3 elements have a group of ≥ 2 members.
      const grouped = windowArb.filter((p) => !/x : \w+(\(\d\))?\[2\]/.test(p.text));
      expect(mustFail(prop(grouped, normalization))).toMatch(/Σ_x p\(x\) = /);
      expect(mustFail(prop(grouped, sameAsAlone("model")))).toMatch(/grouped log p .*, each module alone/);
    } finally {
      Object.defineProperty(MlpGroupClass.prototype, "logProb", logProb);
    }
  });

  it("a window over 28×28 pixels is three groups with 4 variables each, named after their first factor", () => {
    const ir = compileModel(`model W {
  x : Bernoulli[28, 28]
  p(x[1, 1]) = table
  for c in 2..28: p(x[1, c] | x[1, c-1]) = mlp(hidden = [16])
  for r in 2..28, c in 1..28: p(x[r, c] | x[r-1, c], x[r, c-1], x[r-1, c+1]) = mlp(hidden = [16])
}`);
    const m = buildExplicitModel(ir, { seed: 1 });
    try {
      expect(m.paramCount()).toBe(Number(ir.params));
      const names = m.variables.map(checkpointName);
      expect(names.length).toBe(1 + 3 * 4);
      expect(names.filter((n) => /_group27\/0\/w$/.test(n))).toHaveLength(1); // x[1, 2..28]: 1 input
      expect(names.filter((n) => /_group54\/0\/w$/.test(n))).toHaveLength(1); // first and last columns: 2 inputs
      expect(names.filter((n) => /_group702\/0\/w$/.test(n))).toHaveLength(1); // the interior: 3 inputs
    } finally {
      m.dispose();
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

  it("normalization, chain rule (grouped batched matmuls included) and count hold", () => {
    expect(tf.getBackend()).toBe("cpu");
    const all: Check = (m, ir, seed) => {
      normalization(m, ir, seed);
      chainRuleOnce(m, seed, "cpu");
      count(m, ir, seed);
    };
    fc.assert(prop(anyArb, all), { numRuns: RUNS(10) });
  });
});

describe("the input convention the compiler counts with", () => {
  const text = `model L {
  label : Categorical(10)
  s : Bernoulli
  x : Bernoulli[3, 3]
  p(label, s) = independent
  p(x | label, s) = mlp(hidden = [7])
}`;

  it("a Categorical(k) condition is k one-hot inputs, a Bernoulli one", () => {
    const ir = compileModel(text);
    const f = ir.factors.find((g) => g.family === "mlp")!;
    expect(f.network).toEqual({ kind: "mlp", sizes: [10 + 1, 7, 9], output: "per-element" });
    expect(f.params).toBe(mlpParams([11, 7, 9]));
    expect(f.params).toBe(BigInt(11 * 7 + 7 + 7 * 9 + 9));
    const m = build(ir);
    try {
      expect(m.paramCount()).toBe(Number(ir.params));
    } finally {
      m.dispose();
    }
  });

  it("the label changes the conditional only through its own one-hot input", () => {
    const ir = compileModel(text);
    const m = build(ir);
    try {
      randomize(m, 3);
      const mod = m.modules.find((x) => x.factor.family === "mlp") as MlpConditionalModule;
      const row = new Float32Array(ir.n);
      const seen = new Set<string>();
      for (let label = 0; label < 10; label++) {
        row[0] = label;
        seen.add(Array.from(mod.conditional(0, row), (p) => p.toFixed(6)).join());
        // The JS encoding puts a single 1 at the label's column.
        expect(Array.from(mod.inputs.encodeJs(row)).slice(0, 10)).toEqual(
          Array.from({ length: 10 }, (_, o) => (o === label ? 1 : 0)),
        );
      }
      expect(seen.size).toBe(10);
    } finally {
      m.dispose();
    }
  });

  it("a layout counted the old way (a categorical condition as one number) is refused, not built with another count", () => {
    const ir = compileModel(text);
    const factors = ir.factors.map((f) =>
      f.family === "mlp" && f.network?.kind === "mlp"
        ? { ...f, network: { ...f.network, sizes: [f.context.length, ...f.network.sizes.slice(1)] } }
        : f,
    );
    expect(() => buildExplicitModel({ ...ir, factors }, { seed: 1 })).toThrow(/does not read 11 inputs/);
  });

  it("a continuous target is refused with M0103, naming the variable", () => {
    const r = compileText(
      "model R {\n  y : Bernoulli\n  x : Real(0, 1)[2]\n  p(y) = table\n  p(x | y) = mlp(hidden = [4])\n}",
      "r.gm",
      { checks: false },
    );
    expect(r.diagnostics).toEqual([]);
    const ir = r.models[0];
    expect(ir.kind).toBe("explicit");
    let err: unknown;
    try {
      buildExplicitModel(ir, { seed: 1 }).dispose();
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe("M0103");
    expect((err as Error).message).toMatch(
      /`x` is Real\(0, 1\); an mlp conditional in an explicit model builds Bernoulli and Categorical targets only/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// End to end through the built CLI

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const DIST = join(REPO, "dist", "cli", "main.js");

describe("gm train (built CLI) on an MLP-conditional model", () => {
  it.skipIf(!existsSync(DIST))(
    "trains a few epochs on a tiny IDX file and its held-out NLL drops (skipped until `npm run build` made dist/)",
    () => {
      const dir = tempDir("gm-mlp-");
      try {
        const data = writeBinaryIdx(dir, "tiny-idx3-ubyte", 300, 4, 4);
        const file = join(dir, "mlp.gm");
        writeFileSync(
          file,
          [
            "model Neighbours {",
            "  x : Bernoulli[4, 4]",
            "  p(x[1, 1]) = table",
            "  for c in 2..4: p(x[1, c] | x[1, c-1]) = mlp(hidden = [8])",
            "  for r in 2..4, c in 1..4: p(x[r, c] | x[r-1, c], x[r, c-1], x[r-1, c+1]) = mlp(hidden = [8])",
            "}",
            "",
          ].join("\n"),
        );
        const out = join(dir, "run");
        const r = spawnSync(
          process.execPath,
          [
            DIST,
            "train",
            file,
            "--data",
            data,
            "--epochs",
            "4",
            "--batch",
            "20",
            "--lr",
            "0.01",
            "--out",
            out,
            "--backend",
            "wasm",
            "-q",
          ],
          {
            cwd: dir,
            encoding: "utf8",
            timeout: 240_000,
          },
        );
        expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
        const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8")) as unknown;
        const nll = testNlls(history);
        expect(nll.length, JSON.stringify(history)).toBe(4);
        expect(nll.every(Number.isFinite)).toBe(true);
        expect(nll[nll.length - 1]).toBeLessThan(nll[0]);
      } finally {
        removeDir(dir);
      }
    },
    300_000,
  );
});

/** Held-out NLL per epoch from history.json, whichever of the run formats wrote it. */
function testNlls(history: unknown): number[] {
  const epochs = (
    Array.isArray(history)
      ? history
      : ((history as { epochs?: unknown[]; history?: unknown[] }).epochs ??
        (history as { history?: unknown[] }).history ??
        [])
  ) as Array<Record<string, unknown>>;
  return epochs.map((e) => {
    if (typeof e.testNll === "number") return e.testNll;
    const test = e.test as Record<string, number> | undefined;
    if (test && typeof test.nll === "number") return test.nll;
    return Number.NaN;
  });
}
