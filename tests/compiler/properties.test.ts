/**
 * Properties of the compiler, on random small models generated AS TEXT (so the lexer, parser,
 * AST builder, name resolution, orders, factors, assumptions, counts and `check` lines all run):
 *
 * - `joint`, `chain` (before pruning) and Π k − 1 agree; `independent` is Σ (k − 1); heads may
 *   name several variables (`p(x, y) = chain`), domains are Bernoulli and Categorical(k);
 * - `markov(k)` matches 2^k − 1 + (n − k)·2^k (binary, n ≥ k) and an independent count over the
 *   built graph, Σ (k_i − 1) Π_{parents} k;
 * - `chain` + the Markov `assume` family builds exactly the graph of `markov(k = 1)`, in 1-D and
 *   for 2-D (and 3-D, channels innermost) arrays in every order;
 * - an `assume` never adds an edge: it removes exactly B from A's parents;
 * - orders are permutations and match an independent implementation and hand-computed cases;
 *   `random(seed)` is deterministic; `x[<i]` and `x[<(r, c)]` name exactly the predecessors;
 * - the 28×28 chain has 306,936 edges and 2^784 − 1 parameters.
 *
 * Property runs (fixed, CI-friendly; the whole file takes about 4 s):
 *   joint/chain/independent by heads 150, joint = chain = Π k − 1 100, markov formula 100,
 *   markov graph count 100, Markov assume = markov(k = 1) 1-D 60 and 2-D/3-D 120,
 *   assume never adds an edge 150, orders are permutations 200, predecessor sets 100.
 * `GM_PROPERTY_RUNS=N` replaces every count with N for a longer local search.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { factorization } from "../../src/compiler/notation.js";
import { inverse, visitOrder } from "../../src/compiler/orders.js";
import { paramsReport, reportJson } from "../../src/compiler/report.js";
import type { ModelIR } from "../../src/compiler/ir.js";
import {
  compileClean,
  graphOf,
  onlyModel,
  oracleOrder,
  parentLists,
  refText,
  tableCountFromGraph,
  type PlainOrder,
} from "./helpers.js";

const RUNS = (n: number) => Number(process.env.GM_PROPERTY_RUNS ?? n);

// ---------------------------------------------------------------------------------------------
// Random variables as text

type Dom = { kind: "bernoulli" } | { kind: "categorical"; k: number };
type OrderSpec = { kind: PlainOrder } | { kind: "random"; seed: number } | null;

interface VarSpec {
  name: string;
  dom: Dom;
  shape: number[];
  /** Write the shape through constants (`const x_d1 = 3`). */
  viaConst: boolean;
  order: OrderSpec;
}

const domArb: fc.Arbitrary<Dom> = fc.oneof(
  fc.constant<Dom>({ kind: "bernoulli" }),
  fc.integer({ min: 2, max: 5 }).map((k): Dom => ({ kind: "categorical", k })),
);
const shapeArb = fc.oneof(
  fc.constant<number[]>([]),
  fc.tuple(fc.integer({ min: 1, max: 5 })).map((s) => [...s]),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map((s) => [...s]),
);
const plainOrderArb = fc.constantFrom<PlainOrder>("raster", "column", "snake", "zigzag", "index");
const orderArb: fc.Arbitrary<OrderSpec> = fc.oneof(
  fc.constant(null),
  plainOrderArb.map((kind) => ({ kind })),
  fc.integer({ min: 0, max: 1000 }).map((seed) => ({ kind: "random" as const, seed })),
);

function varsArb(min: number, max: number, dom: fc.Arbitrary<Dom> = domArb, shape = shapeArb): fc.Arbitrary<VarSpec[]> {
  return fc
    .array(fc.record({ dom, shape, viaConst: fc.boolean(), order: orderArb }), { minLength: min, maxLength: max })
    .map((vs) => vs.map((v, i) => ({ ...v, name: `v${i}` })));
}

const k = (d: Dom) => (d.kind === "bernoulli" ? 2 : d.k);
const size = (v: VarSpec) => v.shape.reduce((a, b) => a * b, 1);
const typeText = (d: Dom) => (d.kind === "bernoulli" ? "Bernoulli" : `Categorical(${d.k})`);

/** Declarations (constants, variable, order) of one variable. */
function declare(v: VarSpec): string[] {
  const lines: string[] = [];
  let dims = v.shape.map(String);
  if (v.viaConst && v.shape.length) {
    dims = v.shape.map((_, a) => `${v.name}_d${a}`);
    v.shape.forEach((d, a) => lines.push(`const ${v.name}_d${a} = ${d}`));
  }
  lines.push(`${v.name} : ${typeText(v.dom)}${dims.length ? `[${dims.join(", ")}]` : ""}`);
  if (v.order)
    lines.push(`order ${v.name} ${v.order.kind === "random" ? `random(seed = ${v.order.seed})` : v.order.kind}`);
  return lines;
}

function model(lines: string[], name = "M"): string {
  return `model ${name} {\n${lines.map((l) => `  ${l}`).join("\n")}\n}\n`;
}

/** Π k − 1 over every element of `vs`. */
const jointCount = (vs: VarSpec[]) => vs.reduce((p, v) => p * BigInt(k(v.dom)) ** BigInt(size(v)), 1n) - 1n;
/** Σ (k − 1). */
const indepCount = (vs: VarSpec[]) => vs.reduce((s, v) => s + BigInt(k(v.dom) - 1) * BigInt(size(v)), 0n);

/** Global element id of `flat` in `vs[i]` (variables are numbered in declaration order). */
function offsets(vs: VarSpec[]): number[] {
  const out: number[] = [];
  let o = 0;
  for (const v of vs) {
    out.push(o);
    o += size(v);
  }
  return out;
}

/** The visiting order of a variable, from the oracle (or the compiler's PRNG for `random`). */
function orderOf(v: VarSpec): number[] {
  const o = v.order;
  if (o?.kind === "random") return Array.from(visitOrder(v.shape, "random", o.seed));
  return oracleOrder(v.shape, o?.kind ?? "raster");
}

// ---------------------------------------------------------------------------------------------

describe("parameter counts of the basic forms (LANGUAGE.md §5)", () => {
  it("joint and chain give Π k − 1, independent gives Σ (k − 1), for any grouping of variables into heads", () => {
    const arb = varsArb(1, 4).chain((vs) =>
      fc.record({
        vs: fc.constant(vs),
        group: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: vs.length, maxLength: vs.length }),
        forms: fc.array(fc.constantFrom("joint", "chain", "independent"), { minLength: 3, maxLength: 3 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ vs, group, forms }) => {
        const lines = vs.flatMap(declare);
        let expected = 0n;
        const heads: Array<{ form: string; want: bigint }> = [];
        for (let g = 0; g < 3; g++) {
          const members = vs.filter((_, i) => group[i] === g);
          if (!members.length) continue;
          const form = forms[g];
          lines.push(`p(${members.map((v) => v.name).join(", ")}) = ${form}`);
          const want = form === "independent" ? indepCount(members) : jointCount(members);
          heads.push({ form, want });
          expected += want;
        }
        lines.push(`check params == ${expected}`);
        const ir = onlyModel(model(lines));
        expect(ir.params).toBe(expected);
        // Each factor on its own (factors come in statement order), and against the built graph.
        expect(ir.factors.map((f) => [f.family, f.params])).toEqual(heads.map((h) => [h.form, h.want]));
        // chain and joint build the same complete DAG in the order; both count as the graph says.
        expect(tableCountFromGraph(ir)).toBe(expected);
      }),
      { numRuns: RUNS(150) },
    );
  });

  it("joint, chain and Π k − 1 agree on the same variables, however they are ordered", () => {
    fc.assert(
      fc.property(varsArb(1, 3), (vs) => {
        const head = `p(${vs.map((v) => v.name).join(", ")})`;
        const decl = vs.flatMap(declare);
        const joint = onlyModel(model([...decl, `${head} = joint`]));
        const chain = onlyModel(model([...decl, `${head} = chain`]));
        expect(joint.params).toBe(jointCount(vs));
        expect(chain.params).toBe(jointCount(vs));
        // Both are complete DAGs over the same elements: n(n − 1)/2 edges.
        const n = vs.reduce((a, v) => a + size(v), 0);
        expect(graphOf(joint).edgeCount()).toBe((n * (n - 1)) / 2);
        expect(graphOf(chain).edgeCount()).toBe((n * (n - 1)) / 2);
      }),
      { numRuns: RUNS(100) },
    );
  });

  it("markov(k) over n binary elements has 2^k − 1 + (n − k)·2^k parameters (n ≥ k)", () => {
    const arb = fc.integer({ min: 1, max: 40 }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        k: fc.integer({ min: 1, max: Math.min(n, 12) }),
        twoD: fc.boolean(),
        order: orderArb,
      }),
    );
    fc.assert(
      fc.property(arb, ({ n, k: kk, twoD, order }) => {
        // The same n elements as a vector or as an n×1 / 1×n image: the formula does not care.
        const shape = twoD ? [1, n] : [n];
        const v: VarSpec = { name: "x", dom: { kind: "bernoulli" }, shape, viaConst: true, order };
        const formula = 2n ** BigInt(kk) - 1n + BigInt(n - kk) * 2n ** BigInt(kk);
        const ir = onlyModel(
          model([...declare(v), `p(x) = markov(k = ${kk})`, `check params == 2^${kk} - 1 + (${n} - ${kk}) * 2^${kk}`]),
        );
        expect(ir.params).toBe(formula);
        expect(tableCountFromGraph(ir)).toBe(formula);
      }),
      { numRuns: RUNS(100) },
    );
  });

  it("markov(k) counts Σ (k_i − 1) Π_{parents} k over the built graph, for any domains, heads and orders", () => {
    const arb = fc.record({ vs: varsArb(1, 3), k: fc.integer({ min: 1, max: 6 }) });
    fc.assert(
      fc.property(arb, ({ vs, k: kk }) => {
        const ir = onlyModel(model([...vs.flatMap(declare), `p(${vs.map((v) => v.name).join(", ")}) = markov(${kk})`]));
        expect(ir.params).toBe(tableCountFromGraph(ir));
        // The window follows the visiting order, variable after variable in head order.
        const offs = offsets(vs);
        const seq = vs.flatMap((v, i) => orderOf(v).map((f) => offs[i] + f));
        const parents = parentLists(ir);
        seq.forEach((e, j) => expect(parents[e]).toEqual(seq.slice(Math.max(0, j - kk), j).sort((a, b) => a - b)));
      }),
      { numRuns: RUNS(100) },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("chain + the Markov assumption = markov(k = 1)", () => {
  function sameGraph(a: ModelIR, b: ModelIR): void {
    expect(parentLists(a)).toEqual(parentLists(b));
    expect(a.params).toBe(b.params);
  }

  it("1-D: assume for i in 3..n: x[i] ⊥ x[1..i-2] | x[i-1]", () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 30 }),
      dom: domArb,
      order: fc.oneof(fc.constant(null), plainOrderArb),
    });
    fc.assert(
      fc.property(arb, ({ n, dom, order }) => {
        const decl = [`const n = ${n}`, `x : ${typeText(dom)}[n]`, ...(order ? [`order x ${order}`] : [])];
        const pruned = onlyModel(model([...decl, "p(x) = chain", "assume for i in 3..n: x[i] ⊥ x[1..i-2] | x[i-1]"]));
        const markov = onlyModel(model([...decl, "p(x) = markov(k = 1)"]));
        sameGraph(pruned, markov);
        if (dom.kind === "bernoulli") expect(pruned.params).toBe(BigInt(2 * n - 1));
        // The derivation removes x[1..i-2] from x[i], once per i ≥ 3.
        expect(pruned.derivation.length).toBe(Math.max(0, n - 2));
        if (n >= 3) expect(factorization(pruned)).toBe(factorization(markov));
      }),
      { numRuns: RUNS(60) },
    );
  });

  it("2-D and 3-D in raster, column, snake, zigzag and random order, the assumption written out along the order", () => {
    const arb = fc.record({
      H: fc.integer({ min: 1, max: 4 }),
      W: fc.integer({ min: 1, max: 4 }),
      C: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 })),
      dom: domArb,
      order: fc.oneof(
        plainOrderArb.map((kind): OrderSpec => ({ kind })),
        fc.integer({ min: 0, max: 99 }).map((seed): OrderSpec => ({ kind: "random", seed })),
      ),
      withGiven: fc.boolean(),
    });
    fc.assert(
      fc.property(arb, ({ H, W, C, dom, order, withGiven }) => {
        const v: VarSpec = { name: "x", dom, shape: C ? [H, W, C] : [H, W], viaConst: false, order };
        const seq = orderOf(v);
        const el = (f: number) => refText("x", v.shape, f);
        // Position j ≥ 3 (1-based): x_(j) ⊥ x_(1..j-2) | x_(j-1), each element named explicitly.
        const assumes: string[] = [];
        for (let j = 2; j < seq.length; j++) {
          const before = seq
            .slice(0, j - 1)
            .map(el)
            .join(", ");
          assumes.push(`assume ${el(seq[j])} ⊥ ${before}${withGiven ? ` | ${el(seq[j - 1])}` : ""}`);
        }
        const pruned = onlyModel(model([...declare(v), "p(x) = chain", ...assumes]));
        const markov = onlyModel(model([...declare(v), "p(x) = markov(k = 1)"]));
        sameGraph(pruned, markov);
        // …and it is the chain along `seq`.
        const parents = parentLists(markov);
        seq.forEach((f, j) => expect(parents[f]).toEqual(j ? [seq[j - 1]] : []));
      }),
      { numRuns: RUNS(120) },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("an assume never adds an edge", () => {
  interface Plan {
    x: VarSpec;
    /** A context variable y (`p(x | y) = …`), or none. */
    y: VarSpec | null;
    family: string;
    /** Each assumption: target position in x's order, and choices over its predecessors. */
    assumptions: Array<{ at: number; pick: number[]; given: number[] }>;
  }
  const arb: fc.Arbitrary<Plan> = fc.record({
    x: fc
      .record({ dom: domArb, shape: shapeArb.filter((s) => s.length > 0), viaConst: fc.boolean(), order: orderArb })
      .map((v) => ({ ...v, name: "x" })),
    y: fc.option(
      fc
        .record({
          dom: domArb,
          shape: fc.constantFrom<number[][]>([], [2]),
          viaConst: fc.constant(false),
          order: fc.constant<OrderSpec>(null),
        })
        .map((v): VarSpec => ({ ...v, name: "y" })),
    ),
    family: fc.constantFrom("chain", "markov(k = 1)", "markov(k = 2)", "markov(k = 3)", "logistic"),
    assumptions: fc.array(
      fc.record({
        at: fc.nat(),
        pick: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 12, maxLength: 12 }),
        given: fc.array(fc.nat(), { maxLength: 2 }),
      }),
      { maxLength: 5 },
    ),
  });

  it("every element's parents after the assumptions are its parents before, minus exactly the B's that named it", () => {
    fc.assert(
      fc.property(arb, ({ x, y, family, assumptions }) => {
        const vars = y ? [y, x] : [x];
        const offs = offsets(vars);
        const xOff = offs[vars.length - 1];
        const seq = orderOf(x).map((f) => xOff + f);
        const name = (e: number) => {
          const i = vars.length === 2 && e < xOff ? 0 : vars.length - 1;
          return refText(vars[i].name, vars[i].shape, e - offs[i]);
        };
        const ctx = y ? Array.from({ length: size(y) }, (_, i) => i) : [];
        const base = [
          ...vars.flatMap(declare),
          ...(y ? ["p(y) = independent"] : []),
          `p(x${y ? " | y" : ""}) = ${family}`,
        ];
        const before = parentLists(onlyModel(model(base)));
        // Build valid assumptions: B non-empty among A's predecessors, C among the rest of them.
        const removed = new Map<number, Set<number>>();
        const lines: string[] = [];
        for (const a of assumptions) {
          const pos = a.at % seq.length;
          const preds = [...ctx, ...seq.slice(0, pos)];
          if (preds.length === 0) continue;
          const B = preds.filter((_, i) => a.pick[i % a.pick.length] === 0);
          if (B.length === 0) B.push(preds[pos % preds.length]);
          const rest = preds.filter((p) => !B.includes(p));
          const C = [...new Set(a.given.filter(() => rest.length > 0).map((g) => rest[g % rest.length]))];
          const target = seq[pos];
          lines.push(
            `assume ${name(target)} ⊥ ${B.map(name).join(", ")}${C.length ? ` | ${C.map(name).join(", ")}` : ""}`,
          );
          const set = removed.get(target) ?? new Set<number>();
          B.forEach((b) => set.add(b));
          removed.set(target, set);
        }
        const ir = onlyModel(model([...base, ...lines]));
        const after = parentLists(ir);
        for (let e = 0; e < ir.n; e++) {
          for (const p of after[e]) expect(before[e]).toContain(p);
          const gone = removed.get(e) ?? new Set<number>();
          expect(after[e]).toEqual(before[e].filter((p) => !gone.has(p)));
        }
        // Counts follow the pruned graph.
        if (!family.startsWith("logistic")) expect(ir.params).toBe(tableCountFromGraph(ir));
        else {
          const g = graphOf(ir);
          const xf = ir.factors.find((f) => f.family === "logistic")!;
          const kx = BigInt(k(x.dom) - 1);
          expect(xf.params).toBe(Array.from(xf.targets).reduce((s, t) => s + kx * BigInt(1 + g.parentCount(t)), 0n));
        }
      }),
      { numRuns: RUNS(150) },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("orders (LANGUAGE.md §4)", () => {
  const anyShape = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 });

  it("every order is a permutation, and agrees with an independent implementation", () => {
    fc.assert(
      fc.property(
        anyShape,
        fc.constantFrom<PlainOrder | "random">("raster", "column", "snake", "zigzag", "index", "random"),
        fc.integer(),
        (shape, kind, seed) => {
          const n = shape.reduce((a, b) => a * b, 1);
          const visit = Array.from(visitOrder(shape, kind, seed));
          expect([...visit].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
          const rank = inverse(Int32Array.from(visit));
          visit.forEach((f, p) => expect(rank[f]).toBe(p));
          if (kind !== "random") expect(visit).toEqual(oracleOrder(shape, kind));
          else expect(Array.from(visitOrder(shape, "random", seed))).toEqual(visit);
        },
      ),
      { numRuns: RUNS(200) },
    );
  });

  it("snake, zigzag and column match hand-computed cases (1-based (r, c))", () => {
    const cells = (shape: number[], kind: PlainOrder) =>
      Array.from(visitOrder(shape, kind)).map((f) => refText("", shape, f));
    expect(cells([3, 3], "zigzag")).toEqual([
      "[1, 1]",
      "[1, 2]",
      "[2, 1]",
      "[3, 1]",
      "[2, 2]",
      "[1, 3]",
      "[2, 3]",
      "[3, 2]",
      "[3, 3]",
    ]);
    expect(cells([2, 4], "zigzag")).toEqual([
      "[1, 1]",
      "[1, 2]",
      "[2, 1]",
      "[2, 2]",
      "[1, 3]",
      "[1, 4]",
      "[2, 3]",
      "[2, 4]",
    ]);
    expect(cells([4, 2], "zigzag")).toEqual([
      "[1, 1]",
      "[1, 2]",
      "[2, 1]",
      "[3, 1]",
      "[2, 2]",
      "[3, 2]",
      "[4, 1]",
      "[4, 2]",
    ]);
    expect(cells([3, 3], "snake")).toEqual([
      "[1, 1]",
      "[1, 2]",
      "[1, 3]",
      "[2, 3]",
      "[2, 2]",
      "[2, 1]",
      "[3, 1]",
      "[3, 2]",
      "[3, 3]",
    ]);
    expect(cells([2, 3], "column")).toEqual(["[1, 1]", "[2, 1]", "[1, 2]", "[2, 2]", "[1, 3]", "[2, 3]"]);
    expect(cells([2, 3], "raster")).toEqual(["[1, 1]", "[1, 2]", "[1, 3]", "[2, 1]", "[2, 2]", "[2, 3]"]);
    // Channels stay innermost: a pixel's channels are visited together.
    expect(cells([2, 2, 2], "snake")).toEqual([
      "[1, 1, 1]",
      "[1, 1, 2]",
      "[1, 2, 1]",
      "[1, 2, 2]",
      "[2, 2, 1]",
      "[2, 2, 2]",
      "[2, 1, 1]",
      "[2, 1, 2]",
    ]);
    // 1-D arrays: every order but random is the index order.
    for (const kind of ["column", "snake", "zigzag"] as const)
      expect(Array.from(visitOrder([5], kind))).toEqual([0, 1, 2, 3, 4]);
  });

  it("random(seed) is deterministic across compilations, and the seed matters", () => {
    const text = (seed: number) => model(["x : Bernoulli[4, 5]", `order x random(seed = ${seed})`, "p(x) = chain"]);
    const a = onlyModel(text(7)).variables[0];
    const b = onlyModel(text(7)).variables[0];
    const c = onlyModel(text(8)).variables[0];
    expect(Array.from(a.visit)).toEqual(Array.from(b.visit));
    expect(Array.from(a.visit)).not.toEqual(Array.from(c.visit));
    expect(a.order).toEqual({ kind: "random", seed: 7 });
    // The order reaches the graph: element visit[j] has parents visit[0..j-1].
    const ir = onlyModel(text(7));
    const parents = parentLists(ir);
    const visit = Array.from(a.visit);
    visit.forEach((f, j) => expect(parents[f]).toEqual(visit.slice(0, j).sort((p, q) => p - q)));
  });

  it("x[<i] and x[<(r, c)] name exactly the predecessors in the declared order", () => {
    const arb = fc.record({
      shape: fc.oneof(
        fc.tuple(fc.integer({ min: 1, max: 8 })).map((s) => [...s]),
        fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map((s) => [...s]),
        fc
          .tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }))
          .map((s) => [...s]),
      ),
      order: orderArb,
      prefix: fc.boolean(),
    });
    fc.assert(
      fc.property(arb, ({ shape, order, prefix }) => {
        const v: VarSpec = { name: "x", dom: { kind: "bernoulli" }, shape, viaConst: false, order };
        const seq = orderOf(v);
        const rank = new Map(seq.map((f, j) => [f, j]));
        const loopVars = ["i", "j", "l"].slice(0, shape.length);
        const quant = `for ${loopVars.map((q, a) => `${q} in 1..${shape[a]}`).join(", ")}`;
        // Rank 3: `x[<(i, j)]` (a pixel: every channel of it) or the full `x[<(i, j, l)]`.
        const at = shape.length === 3 && prefix ? loopVars.slice(0, 2) : loopVars;
        const before = at.length === 1 ? `x[<${at[0]}]` : `x[<(${at.join(", ")})]`;
        const ir = onlyModel(model([...declare(v), `${quant}: p(x[${loopVars.join(", ")}] | ${before}) = table`]));
        const parents = parentLists(ir);
        const n = size(v);
        const block = shape.length === 3 && prefix ? shape[2] : 1;
        for (let f = 0; f < n; f++) {
          // The block addressed by the written indices; its earliest element bounds the predecessors.
          const first = Math.floor(f / block) * block;
          const earliest = Math.min(...Array.from({ length: block }, (_, c) => rank.get(first + c)!));
          expect(parents[f]).toEqual(seq.slice(0, earliest).sort((a, b) => a - b));
        }
        expect(ir.params).toBe(tableCountFromGraph(ir));
      }),
      { numRuns: RUNS(100) },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("the 28×28 chain", () => {
  it("has exactly 306,936 edges and 2^784 − 1 parameters, in `gm params` too", () => {
    const r = compileClean(model(["x : Bernoulli[28, 28]", "p(x) = chain", "check params == 2^784 - 1"]));
    const ir = r.models[0];
    expect(graphOf(ir).edgeCount()).toBe(306_936);
    expect(graphOf(ir).edgeCount()).toBe((784 * 783) / 2);
    expect(ir.params).toBe(2n ** 784n - 1n);
    const json = reportJson(paramsReport(ir)) as { name: string; total: string; factors: Array<{ params: string }> };
    expect(json.total).toBe((2n ** 784n - 1n).toString());
    expect(json.factors.map((f) => f.params)).toEqual([(2n ** 784n - 1n).toString()]);
  });
});
