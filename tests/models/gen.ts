/**
 * Random small explicit-density models as `.gm` TEXT (so the whole front end and compiler run),
 * one arbitrary per family, plus what the model tests share: compiling, building, random data,
 * a few training steps, an independence check computed from the enumerated joint, and a way to
 * plant a broken family for the duration of one callback.
 *
 * Sizes: at most 12 binary elements in all (x ≤ 10 plus a context y of ≤ 2), Categorical(3)
 * arrays of ≤ 6 elements — every model has ≤ 4096 joint outcomes, so it can be enumerated.
 */
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";
import { compileText } from "../../src/compiler/compile";
import type { ElementGraph } from "../../src/compiler/graph";
import type { FactorIR, ModelIR } from "../../src/compiler/ir";
import { renderDiagnostic } from "../../src/dsl/diagnostics";
import { buildExplicitModel, ExplicitModel } from "../../src/models/explicit";
import { variableOf } from "../../src/models/lookup";
import { buildModel, type FamilyEntry } from "../../src/models/registry";
import type { FamilyName } from "../../src/compiler/ir";
import type { FactorModule } from "../../src/models/types";
import type { Vae } from "../../src/models/vae";
import {
  chainRuleGap,
  elementOutcomes,
  enumerate,
  logProbs,
  sumOfConditionalsGap,
  totalProbability,
} from "../../src/models/verify";
import { Rng } from "../../src/data/rng";

/** The families the property tests cover. */
export const FAMILY_KINDS = [
  "joint",
  "independent",
  "table-for",
  "chain",
  "markov",
  "chain+assume",
  "logistic",
  "logistic+assume",
  "nade",
] as const;
export type FamilyKind = (typeof FAMILY_KINDS)[number];

/** A generated model: its text and a one-line description for counterexamples. */
export interface ModelPlan {
  readonly family: FamilyKind;
  readonly text: string;
}

/** Compiles `text`, failing (with the diagnostics and the text) unless it is clean. */
export function compileModel(text: string): ModelIR {
  const r = compileText(text, "gen.gm", { checks: false });
  if (r.diagnostics.length) {
    const shown = r.diagnostics.map((d) => renderDiagnostic(d, text)).join("\n\n");
    throw new Error(`expected a clean compile, got:\n${shown}\n--- text ---\n${text}`);
  }
  expect(r.models).toHaveLength(1);
  return r.models[0];
}

/**
 * Compiles `text` as `file` with the compiler's checks on, warnings allowed, and returns its first
 * model; throws the errors (code and message a line) when there are any.
 */
export function compileFirst(text: string, file = "tiny.gm"): ModelIR {
  const r = compileText(text, file);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join("\n"));
  return r.models[0];
}

/** Builds the model of a plan, runs `fn`, and disposes the model whatever happens. */
export function withModel<T>(plan: ModelPlan | string, fn: (m: ExplicitModel, ir: ModelIR) => T, seed = 1): T {
  const ir = compileModel(typeof plan === "string" ? plan : plan.text);
  const m = buildForTest(ir, seed);
  try {
    return fn(m, ir);
  } finally {
    m.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Text

interface VarShape {
  /** `[]` for a scalar. */
  shape: number[];
  k: 2 | 3;
}

const domText = (k: number) => (k === 2 ? "Bernoulli" : `Categorical(${k})`);
const declText = (name: string, v: VarShape) =>
  `${name} : ${domText(v.k)}${v.shape.length ? `[${v.shape.join(", ")}]` : ""}`;
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** `.gm` name of element `flat` (0-based, row-major) of a variable, 1-based as the language writes it. */
export function refName(name: string, shape: readonly number[], flat: number): string {
  if (shape.length === 0) return name;
  const idx: number[] = [];
  let r = flat;
  for (let j = shape.length - 1; j >= 0; j--) {
    idx.unshift((r % shape[j]) + 1);
    r = Math.floor(r / shape[j]);
  }
  return `${name}[${idx.join(", ")}]`;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** x's shape and domain: ≤ 10 binary or ≤ 6 ternary elements, 1-D or 2-D. */
function xArb(binaryOnly: boolean): fc.Arbitrary<VarShape> {
  const k = binaryOnly ? fc.constant<2>(2) : fc.constantFrom<2 | 3>(2, 2, 3);
  return k.chain((kk) => {
    const max = kk === 2 ? 10 : 6;
    const oneD = fc.integer({ min: 1, max }).map((n) => [n]);
    const twoD = fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }))
      .filter(([h, w]) => h * w <= max);
    return fc.oneof(oneD, twoD).map((shape) => ({ shape, k: kk }));
  });
}

/** An optional context variable y (`p(x | y)`), at most 4 outcomes. */
const yArb: fc.Arbitrary<VarShape | null> = fc.option(
  fc.constantFrom<VarShape>({ shape: [], k: 2 }, { shape: [], k: 3 }, { shape: [2], k: 2 }),
  { freq: 2 },
);
const yFamily = fc.constantFrom("independent", "joint", "chain", "table");
const orderArb = fc.option(fc.constantFrom("raster", "column", "snake", "zigzag"), { freq: 2 });

function header(x: VarShape, y: VarShape | null, yFam: string, order: string | null): string[] {
  const lines = ["model G {"];
  if (y) lines.push(`  ${declText("y", y)}`);
  lines.push(`  ${declText("x", x)}`);
  if (order && x.shape.length === 2) lines.push(`  order x ${order}`);
  if (y) lines.push(`  p(y) = ${yFam}`);
  return lines;
}

/** Simple `p(x [| y]) = family` models. */
function simpleArb(
  family: FamilyKind,
  fam: fc.Arbitrary<string>,
  binaryOnly = false,
  context = true,
): fc.Arbitrary<ModelPlan> {
  return fc
    .record({ x: xArb(binaryOnly), y: context ? yArb : fc.constant(null), yFam: yFamily, order: orderArb, fam })
    .map(({ x, y, yFam, order, fam: f }) => {
      const lines = header(x, y, yFam, order);
      lines.push(`  p(x${y ? " | y" : ""}) = ${f}`, "}");
      return { family, text: lines.join("\n") };
    });
}

/**
 * `for i in 1..n: p(x[i] | x[i-d], …) = table` (1-D) or `for r …, c …: p(x[r, c] | x[r-1, c], …)`
 * (2-D): offsets all on one side of the element (raster-earlier, or all raster-later: a DAG drawn
 * against declaration order), out-of-range parents dropped by the compiler, y an optional parent.
 */
const tableForArb: fc.Arbitrary<ModelPlan> = fc
  .record({
    x: xArb(false),
    y: yArb,
    yFam: yFamily,
    later: fc.boolean(),
    pick1: fc.subarray([1, 2, 3], { minLength: 0, maxLength: 2 }),
    pick2: fc.subarray<[number, number]>(
      [
        [-1, 0],
        [0, -1],
        [-1, -1],
        [-1, 1],
      ],
      { minLength: 0, maxLength: 3 },
    ),
    yParent: fc.boolean(),
  })
  .map(({ x, y, yFam, later, pick1, pick2, yParent }) => {
    const lines = header(x, y, yFam, null);
    const s = later ? "+" : "-";
    const sign = (d: number) => (d === 0 ? "" : `${(later ? -d : d) < 0 ? "-" : "+"}${Math.abs(d)}`);
    let head: string;
    let parents: string[];
    if (x.shape.length === 1) {
      head = `for i in 1..${x.shape[0]}: p(x[i]`;
      parents = pick1.map((d) => `x[i${s}${d}]`);
    } else {
      head = `for r in 1..${x.shape[0]}, c in 1..${x.shape[1]}: p(x[r, c]`;
      parents = pick2.map(([dr, dc]) => `x[r${sign(dr)}, c${sign(dc)}]`);
    }
    if (y && yParent) parents.push("y");
    lines.push(`  ${head}${parents.length ? ` | ${parents.join(", ")}` : ""}) = table`, "}");
    return { family: "table-for" as const, text: lines.join("\n") };
  });

/**
 * `chain` or `logistic` with random `assume` lines: each picks a target in x's order, a non-empty
 * B among its predecessors (context first) and a C among the rest. The predecessors come from
 * compiling the model without assumptions first.
 */
function assumeArb(family: "chain+assume" | "logistic+assume"): fc.Arbitrary<ModelPlan> {
  const base = family === "chain+assume" ? "chain" : "logistic";
  return fc
    .record({
      x: xArb(false).filter((v) => sizeOf(v.shape) >= 2),
      y: yArb,
      yFam: yFamily,
      order: orderArb,
      assumptions: fc.array(
        fc.record({
          at: fc.nat(),
          pick: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 12, maxLength: 12 }),
          given: fc.array(fc.nat(), { maxLength: 2 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    })
    .map(({ x, y, yFam, order, assumptions }) => {
      const lines = header(x, y, yFam, order);
      lines.push(`  p(x${y ? " | y" : ""}) = ${base}`);
      const ir = compileModel([...lines, "}"].join("\n"));
      const xv = ir.variables.find((v) => v.name === "x")!;
      const f = ir.factors[ir.factorOf[xv.offset]];
      const seq = Array.from(f.targets);
      const ctx = Array.from(f.context);
      const name = (e: number) => {
        const v = variableOf(ir, e);
        return refName(v.name, v.shape, e - v.offset);
      };
      for (const a of assumptions) {
        const pos = 1 + (a.at % (seq.length - 1));
        const preds = [...ctx, ...seq.slice(0, pos)];
        const B = preds.filter((_, i) => a.pick[i % a.pick.length] === 0);
        if (B.length === 0) B.push(preds[a.at % preds.length]);
        const rest = preds.filter((p) => !B.includes(p));
        const C = [...new Set(a.given.filter(() => rest.length > 0).map((g) => rest[g % rest.length]))];
        lines.push(
          `  assume ${name(seq[pos])} ⊥ ${B.map(name).join(", ")}${C.length ? ` | ${C.map(name).join(", ")}` : ""}`,
        );
      }
      lines.push("}");
      return { family, text: lines.join("\n") };
    });
}

/** The arbitrary of one family. */
export function familyArb(family: FamilyKind): fc.Arbitrary<ModelPlan> {
  switch (family) {
    case "joint":
      return simpleArb(family, fc.constant("joint"));
    case "independent":
      return simpleArb(family, fc.constant("independent"));
    case "table-for":
      return tableForArb;
    case "chain":
      return simpleArb(family, fc.constant("chain"));
    case "markov":
      return simpleArb(
        family,
        fc.integer({ min: 1, max: 3 }).map((k) => `markov(k = ${k})`),
      );
    case "chain+assume":
    case "logistic+assume":
      return assumeArb(family);
    case "logistic":
      return simpleArb(family, fc.constant("logistic"));
    case "nade":
      // NADE reads Bernoulli elements and takes no conditions.
      return simpleArb(
        family,
        fc.integer({ min: 1, max: 6 }).map((h) => `nade(hidden = ${h})`),
        true,
        false,
      );
  }
}

/** Any family. */
export const anyModelArb: fc.Arbitrary<ModelPlan> = fc.oneof(...FAMILY_KINDS.map(familyArb));

// ---------------------------------------------------------------------------------------------
// Data and training

/** `n` rows of uniformly random values of every element. */
export function randomData(m: ExplicitModel, n: number, seed: number): Float32Array {
  const ks = elementOutcomes(m);
  const rng = new Rng(seed);
  const x = new Float32Array(n * m.dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.int(ks[i % m.dim]);
  return x;
}

/** A property's check on a built model with drawn weights: throws, with the numbers, when it fails. */
export type Check = (m: ExplicitModel, ir: ModelIR, seed: number) => void;

/** The joint sums to 1 over every outcome (within 1e-5). */
export const normalization: Check = (m) => {
  const total = totalProbability(m);
  if (!(Math.abs(total - 1) <= 1e-5)) throw new Error(`Σ_x p(x) = ${total}`);
};

/**
 * The chain rule at the current weights: each module's conditional equals the marginalized joint
 * (1e-5), and log p(x) equals the sum of the conditionals (1e-4 nats); `when` prefixes the error.
 */
export function chainRuleOnce(m: ExplicitModel, seed: number, when?: string): void {
  const at = when === undefined ? "" : `${when}: `;
  const gap = chainRuleGap(m, new Rng(seed));
  if (!(gap <= 1e-5)) throw new Error(`${at}a module's conditional differs from the marginalized joint by ${gap}`);
  const sum = sumOfConditionalsGap(m, new Rng(seed + 1), 8);
  if (!(sum <= 1e-4)) throw new Error(`${at}log p(x) differs from the sum of the conditionals by ${sum} nats`);
}

/** The chain rule with random weights, then again after a few training steps. */
export const chainRuleTrained: Check = (m, _ir, seed) => {
  chainRuleOnce(m, seed, "random weights");
  trainBriefly(m, seed);
  chainRuleOnce(m, seed, "after training");
};

/** The fast-check seed of every planted-bug search unless a test gives its own. */
export const PLANTED_SEED = 20261129;

/**
 * Runs a property that must FAIL on a planted bug (GM_PROPERTY_RUNS overrides `numRuns`); returns
 * fast-check's report with the error, printed when GM_SHOW_PLANTED is set.
 */
export function mustFail<Ts extends unknown[]>(
  p: fc.IProperty<Ts>,
  numRuns = Number(process.env.GM_PROPERTY_RUNS ?? 25),
  seed?: number,
): string {
  // A planted bug must be caught every time, not on most runs: the search is seeded (the bug
  // "a table row reads the wrong parent" once slipped through 20 unseeded runs).
  const details = fc.check(p, { numRuns, seed: seed ?? PLANTED_SEED });
  expect(details.failed, "the planted bug went unnoticed").toBe(true);
  const report = `${fc.defaultReportMessage(details) ?? ""}\nGot error: ${(details.errorInstance as Error | undefined)?.message ?? String(details.errorInstance)}`;
  if (process.env.GM_SHOW_PLANTED) console.log(`${expect.getState().currentTestName}\n${report}`);
  return report;
}

/**
 * Trains briefly on random data: tables in closed form, the gradient families by `steps` Adam
 * steps on the mean negative log-likelihood.
 */
export function trainBriefly(m: ExplicitModel, seed: number, steps = 5, lr = 0.05): void {
  const n = 64;
  const data = randomData(m, n, seed);
  for (const mod of m.modules) mod.fitClosedForm?.(data, n, 1);
  const vars = m.modules.filter((mod) => mod.gradient).flatMap((mod) => mod.variables);
  if (vars.length) {
    const opt = tf.train.adam(lr);
    const x = tf.tensor2d(data, [n, m.dim]);
    for (let s = 0; s < steps; s++) {
      const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(m.logProb(x))) as tf.Scalar, vars);
      opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
      value.dispose();
      tf.dispose(grads);
    }
    x.dispose();
    opt.dispose();
  }
  m.invalidate();
}

// ---------------------------------------------------------------------------------------------
// Independence from the enumerated joint

/**
 * For every `assume` step (element a, parents before and after), computes p(x_a | x_before) by
 * summing the model's enumerated joint, and returns the largest change of that conditional when
 * only the removed parents change (the kept ones fixed). Independent of the modules'
 * `conditional`: it reads log p(x) from the backend only.
 */
export function jointIndependenceGap(m: ExplicitModel): { gap: number; where?: string } {
  const X = enumerate(m);
  const lp = logProbs(m, X);
  const ks = elementOutcomes(m);
  const D = m.dim;
  const n = lp.length;
  let worst = 0;
  let where: string | undefined;
  for (const step of m.ir.derivation) {
    const S = Array.from(step.before);
    const keep = new Set(Array.from(step.after));
    const a = step.element;
    const ka = ks[a];
    const rows = S.reduce((acc, e) => acc * ks[e], 1);
    const mass = new Float64Array(rows * ka);
    for (let i = 0; i < n; i++) {
      let key = 0;
      for (const e of S) key = key * ks[e] + X[i * D + e];
      mass[key * ka + X[i * D + a]] += Math.exp(lp[i]);
    }
    const firstOfGroup = new Map<string, Float64Array>();
    for (let key = 0; key < rows; key++) {
      // The values of the kept parents identify the group.
      let r = key;
      const kept: number[] = [];
      for (let j = S.length - 1; j >= 0; j--) {
        const v = r % ks[S[j]];
        r = Math.floor(r / ks[S[j]]);
        if (keep.has(S[j])) kept.push(v);
      }
      let z = 0;
      for (let o = 0; o < ka; o++) z += mass[key * ka + o];
      const cond = Float64Array.from({ length: ka }, (_, o) => mass[key * ka + o] / z);
      const g = kept.join(",");
      const ref = firstOfGroup.get(g);
      if (!ref) {
        firstOfGroup.set(g, cond);
        continue;
      }
      for (let o = 0; o < ka; o++) {
        const d = Math.abs(ref[o] - cond[o]);
        if (d > worst) {
          worst = d;
          where = `${step.by} (element ${a})`;
        }
      }
    }
  }
  return { gap: worst, where };
}

// ---------------------------------------------------------------------------------------------
// Planted bugs

/** Builders planted by {@link withFamily} (test-local: the registry in src is frozen). */
let planted: Partial<Record<FamilyName, FamilyEntry["build"]>> = {};

/** Builds an explicit model with the families planted by the enclosing {@link withFamily}, if any. */
export function buildForTest(ir: ModelIR, seed = 1): ExplicitModel {
  if (Object.keys(planted).length) return buildExplicitModel(ir, { seed, families: planted });
  // What gm itself builds: the registry's dispatch on the kind (memory check included).
  const m = buildModel(ir, { seed });
  if (!(m instanceof ExplicitModel)) throw new Error(`buildModel gave a ${m.kind} model for an explicit IR`);
  return m;
}

/** Builds family `name`'s networks with `build` (a planted bug) for the models built while `fn` runs. */
export function withFamily<T>(name: FamilyName, build: FamilyEntry["build"], fn: () => T): T {
  const saved = planted;
  planted = { ...planted, [name]: build };
  try {
    return fn();
  } finally {
    planted = saved;
  }
}

/** A graph view whose parents are the real ones plus `extra(e)`. */
export function graphWith(g: ElementGraph, extra: (e: number) => number[]): ElementGraph {
  return new Proxy(g, {
    get(target, prop, receiver) {
      if (prop === "parents") return (e: number) => Int32Array.from([...target.parents(e), ...extra(e)]);
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

export type { FactorIR, FactorModule };

/**
 * Draws a tiny VAE's weights from `rng` (normal, `scale`): the decoder gets the drawn scale (sharp
 * decoders: log-weights of −1000 nats), the encoder at most 1, so that q's log-variance stays where
 * exp() is finite in float32. Then `invalidate()`.
 */
export function drawTinyVaeWeights(vae: Vae, rng: Rng, scale: number): void {
  const encoder = new Set(vae.encoder.net.variables);
  for (const v of vae.variables) {
    const s = encoder.has(v) ? Math.min(1, scale) : scale;
    v.assign(
      tf.tensor(
        Float32Array.from({ length: v.size }, () => rng.normal() * s),
        v.shape,
      ),
    );
  }
  vae.invalidate();
}
