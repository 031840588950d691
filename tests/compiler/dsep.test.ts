/**
 * d-separation against brute force. For random DAGs over at most 7 binary variables, the model
 * is written as `.gm` text (one `p(v | parents) = table` per variable, variables declared in a
 * random order so declaration order is not a topological order), compiled, given random CPTs
 * (seeded; entries drawn in [0.1, 0.9], away from 0 and 1) and enumerated exactly. For random
 * disjoint sets A, B, C, `query` (the code behind `gm query` and `check`) must say independent
 * exactly when p(a, b | c) = p(a | c) p(b | c) for every assignment with p(c) > 0:
 * - independent ⇒ the numbers agree within 1e-9;
 * - dependent ⇒ some assignment differs by more than 1e-6 (random CPTs are faithful with
 *   probability 1; up to three CPT draws are tried before calling it a failure).
 * A copy of the algorithm with colliders ignored (a trail may always pass through a collider)
 * must fail the same property: the test would catch that bug.
 *
 * Property runs: 300 via `query`, 100 via `dSeparated`, and up to 300 for each planted bug
 * (fixed seed 42; they fail at runs 83 and 130). `GM_PROPERTY_RUNS=N` replaces 300.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { dSeparated } from "../../src/compiler/dsep.js";
import type { ElementGraph } from "../../src/compiler/graph.js";
import type { ModelIR } from "../../src/compiler/ir.js";
import { query } from "../../src/compiler/query.js";
import { parseClaim } from "../../src/dsl/parse.js";
import { graphOf, onlyModel, rng } from "./helpers.js";

const RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 300);

/** A DAG: `parents[j]` lists parents of node j (nodes named v0 … v{n-1}); `topo` is a topological order. */
interface Dag {
  n: number;
  parents: number[][];
  /** Declaration order of the variables in the text. */
  declOrder: number[];
  seed: number;
}

/** Random DAG: a random topological order, each earlier node a parent with probability `density`. */
const dagArb: fc.Arbitrary<Dag> = fc
  .record({
    n: fc.integer({ min: 2, max: 7 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    density: fc.constantFrom(0.25, 0.4, 0.6),
    topoKeys: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 7, maxLength: 7 }),
    declKeys: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 7, maxLength: 7 }),
    edgeCoins: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 49, maxLength: 49 }),
  })
  .map(({ n, seed, density, topoKeys, declKeys, edgeCoins }) => {
    const byKey = (keys: number[]) => Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
    const topo = byKey(topoKeys);
    const parents: number[][] = Array.from({ length: n }, () => []);
    for (let j = 0; j < n; j++)
      for (let i = 0; i < j; i++) if (edgeCoins[j * 7 + i] < density) parents[topo[j]].push(topo[i]);
    for (const ps of parents) ps.sort((a, b) => a - b);
    return { n, parents, declOrder: byKey(declKeys), seed };
  });

/** Three disjoint sets over n nodes: A and B non-empty. */
const setsArb = (n: number) =>
  fc
    .array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n })
    .filter((lab) => lab.includes(0) && lab.includes(1))
    .map((lab) => ({ A: idx(lab, 0), B: idx(lab, 1), C: idx(lab, 2) }));
const idx = (lab: number[], v: number) => lab.flatMap((l, i) => (l === v ? [i] : []));

/** The model as `.gm` text. */
function gmText(d: Dag): string {
  const lines = [`model Random {`];
  for (const j of d.declOrder) lines.push(`  v${j} : Bernoulli`);
  for (const j of d.declOrder) {
    const ps = d.parents[j];
    lines.push(`  p(v${j}${ps.length ? ` | ${ps.map((p) => `v${p}`).join(", ")}` : ""}) = table`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** Element id of node j in the compiled model. */
const elementOf = (ir: ModelIR, j: number) => ir.variables.find((v) => v.name === `v${j}`)!.offset;

/** The exact joint over 2^n assignments (bit j of the index = value of node j). */
function joint(d: Dag, cptSeed: number): Float64Array {
  const r = rng(cptSeed);
  // cpt[j][row] = p(v_j = 1 | parents = row), rows indexed by the parents' bits in order.
  const cpt = d.parents.map((ps) => Array.from({ length: 2 ** ps.length }, () => 0.1 + 0.8 * r()));
  const p = new Float64Array(2 ** d.n);
  for (let a = 0; a < p.length; a++) {
    let prob = 1;
    for (let j = 0; j < d.n; j++) {
      let row = 0;
      d.parents[j].forEach((q, b) => {
        row |= ((a >> q) & 1) << b;
      });
      const one = cpt[j][row];
      prob *= (a >> j) & 1 ? one : 1 - one;
    }
    p[a] = prob;
  }
  return p;
}

/** max |p(a, b | c) − p(a | c) p(b | c)| over every assignment with p(c) > 0. */
function maxGap(p: Float64Array, n: number, A: number[], B: number[], C: number[]): number {
  const key = (a: number, set: number[]) => set.reduce((k, j, b) => k | (((a >> j) & 1) << b), 0);
  const pABC = new Map<string, number>();
  const pAC = new Map<string, number>();
  const pBC = new Map<string, number>();
  const pC = new Map<number, number>();
  for (let a = 0; a < 2 ** n; a++) {
    const ka = key(a, A);
    const kb = key(a, B);
    const kc = key(a, C);
    const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + p[a]);
    add(pABC, `${ka}/${kb}/${kc}`);
    add(pAC, `${ka}/${kc}`);
    add(pBC, `${kb}/${kc}`);
    pC.set(kc, (pC.get(kc) ?? 0) + p[a]);
  }
  let gap = 0;
  for (let ka = 0; ka < 2 ** A.length; ka++) {
    for (let kb = 0; kb < 2 ** B.length; kb++) {
      for (let kc = 0; kc < 2 ** C.length; kc++) {
        const c = pC.get(kc) ?? 0;
        if (!(c > 0)) continue;
        const lhs = (pABC.get(`${ka}/${kb}/${kc}`) ?? 0) / c;
        const rhs = ((pAC.get(`${ka}/${kc}`) ?? 0) / c) * ((pBC.get(`${kb}/${kc}`) ?? 0) / c);
        gap = Math.max(gap, Math.abs(lhs - rhs));
      }
    }
  }
  return gap;
}

type Oracle = (ir: ModelIR, g: ElementGraph, A: number[], B: number[], C: number[]) => boolean;

/** `gm query`'s path: the claim as text through the parser, then `query`. */
const viaQuery: Oracle = (ir, _g, A, B, C) => {
  const list = (s: number[]) => s.map((j) => `v${j}`).join(", ");
  const text = `${list(A)} ⊥ ${list(B)}${C.length ? ` | ${list(C)}` : ""}`;
  const parsed = parseClaim(text);
  expect(parsed.diagnostics).toEqual([]);
  const { answer, diagnostics } = query(ir, parsed.claim!);
  expect(diagnostics).toEqual([]);
  return answer!.independent;
};

/** `dSeparated` directly, on element ids. */
const direct: Oracle = (ir, g, A, B, C) => {
  const el = (s: number[]) => s.map((j) => elementOf(ir, j));
  return dSeparated(g, el(A), el(B), el(C)).independent;
};

/** The property: the oracle agrees with the numbers. Throws (an expect failure) when it does not. */
function agrees(oracle: Oracle) {
  return fc.property(
    dagArb.chain((d) => fc.tuple(fc.constant(d), setsArb(d.n))),
    ([d, { A, B, C }]) => {
      const ir = onlyModel(gmText(d));
      const g = graphOf(ir);
      // The compiled graph is the DAG we wrote.
      for (let j = 0; j < d.n; j++)
        expect(Array.from(g.parents(elementOf(ir, j))).sort((a, b) => a - b)).toEqual(
          d.parents[j].map((q) => elementOf(ir, q)).sort((a, b) => a - b),
        );
      const independent = oracle(ir, g, A, B, C);
      if (independent) {
        const gap = maxGap(joint(d, d.seed), d.n, A, B, C);
        expect(gap, `said independent, but p(a, b | c) − p(a | c) p(b | c) reaches ${gap}`).toBeLessThan(1e-9);
      } else {
        let gap = 0;
        for (let draw = 0; draw < 3 && gap <= 1e-6; draw++)
          gap = Math.max(gap, maxGap(joint(d, d.seed + draw * 7919), d.n, A, B, C));
        expect(gap, "said dependent, but three random CPTs factorize").toBeGreaterThan(1e-6);
      }
    },
  );
}

// ---------------------------------------------------------------------------------------------
// The planted bug: dSeparated with colliders ignored (copied from src/compiler/dsep.ts).

const UP = 0;
const DOWN = 1;

/**
 * d-separation with colliders ignored: `open` lets a trail always pass through a collider,
 * observed or not; `closed` never lets it (not even when the collider or a descendant is observed).
 */
function dSeparatedIgnoringColliders(
  mode: "open" | "closed",
  g: ElementGraph,
  x: number[],
  y: number[],
  z: number[],
): boolean {
  const inZ = new Uint8Array(g.n);
  for (const v of z) inZ[v] = 1;
  const inY = new Uint8Array(g.n);
  for (const v of y) inY[v] = 1;
  const visited = new Uint8Array(g.n * 2);
  const queue: number[] = [];
  const push = (v: number, dir: number) => {
    if (!visited[v * 2 + dir]) {
      visited[v * 2 + dir] = 1;
      queue.push(v * 2 + dir);
    }
  };
  for (const v of x) push(v, UP);
  while (queue.length) {
    const s = queue.shift()!;
    const v = s >> 1;
    const dir = s & 1;
    if (!inZ[v] && inY[v]) return false;
    if (dir === UP && !inZ[v]) {
      g.forEachParent(v, (p) => push(p, UP));
      g.forEachChild(v, (c) => push(c, DOWN));
    } else if (dir === DOWN) {
      if (!inZ[v]) g.forEachChild(v, (c) => push(c, DOWN));
      // BUG (planted): the real code turns back up exactly at a collider in Z or with a descendant in Z.
      if (mode === "open") g.forEachParent(v, (p) => push(p, UP));
    }
  }
  return true;
}

describe("d-separation agrees with exact enumeration", () => {
  it("query (the path of `gm query` and `check`): independent ⇔ p(a, b | c) = p(a | c) p(b | c)", () => {
    fc.assert(agrees(viaQuery), { numRuns: RUNS });
  });

  it("dSeparated on element ids gives the same answers", () => {
    fc.assert(agrees(direct), { numRuns: Math.ceil(RUNS / 3) });
  });

  it("classic cases: chain, fork, collider, and a collider opened by a descendant", () => {
    const text = `model V {
  a : Bernoulli
  b : Bernoulli
  c : Bernoulli
  d : Bernoulli
  p(a) = table
  p(b) = table
  p(c | a, b) = table
  p(d | c) = table
}
`;
    const ir = onlyModel(text);
    const ask = (q: string) => query(ir, parseClaim(q).claim!).answer!;
    expect(ask("a ⊥ b").independent).toBe(true);
    expect(ask("a ⊥ b | c").independent).toBe(false);
    expect(ask("a ⊥ b | c").trail).toBe("a → c ← b");
    expect(ask("a ⊥ b | d").independent).toBe(false);
    expect(ask("a ⊥ b | d").trail).toBe("a → c ← b");
    expect(ask("a ⊥ d | c").independent).toBe(true);
    expect(ask("a ⊥ d").trail).toBe("a → c → d");
  });

  for (const [mode, wrong] of [
    ["open", /said dependent/],
    ["closed", /said independent/],
  ] as const) {
    it(`the property catches a d-separation that ignores colliders (always ${mode})`, () => {
      const buggy: Oracle = (ir, g, A, B, C) => {
        const el = (s: number[]) => s.map((j) => elementOf(ir, j));
        return dSeparatedIgnoringColliders(mode, g, el(A), el(B), el(C));
      };
      const out = fc.check(agrees(buggy), { numRuns: RUNS, seed: 42 });
      expect(out.failed).toBe(true);
      // The shrunk counterexample, for the record: GM_SHOW_COUNTEREXAMPLE=1 prints it.
      const [[d, sets]] = out.counterexample as unknown as [[Dag, { A: number[]; B: number[]; C: number[] }]];
      if (process.env.GM_SHOW_COUNTEREXAMPLE) {
        const names = (s: number[]) => `{${s.map((j) => `v${j}`).join(", ")}}`;
        console.log(
          `planted bug (colliders always ${mode}): failed after ${out.numRuns} runs, ${out.numShrinks} shrinks\n${gmText(d)}A = ${names(sets.A)}, B = ${names(sets.B)}, C = ${names(sets.C)}\n${String(out.errorInstance).split("\n")[0]}`,
        );
      }
      expect(String(out.errorInstance)).toMatch(wrong);
    });
  }
});
