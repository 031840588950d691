/**
 * `assume` over large models (src/compiler/assumptions.ts): deriving a factorization from `assume`
 * costs what its claims name, O(n²) for a 2-D neighbourhood written with ranges. Past its limits
 * the statement is refused with E0407 at once instead of running for minutes (a tester's 200 × 200
 * row assumption compiled for 47 s); within them the pruned graph is the one the claims say.
 */
import { describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile.js";
import { MAX_ASSUME_WORK, MAX_PRUNED_ENTRIES } from "../../src/compiler/assumptions.js";
import { onlyModel } from "./helpers.js";

const causal = (n: number) =>
  `model C {\n  x : Bernoulli[${n}, ${n}]\n  p(x) = chain\n  assume for r in 2..${n}, c in 1..${n}: x[r, c] ⊥ x[1..r-2, *] | x[r-1, *], x[r, 1..c-1]\n}\n`;

describe("assume past its limits: E0407, before the work is done", () => {
  it("a factor whose chain-rule parents number more than the limit", () => {
    const n = 100; // 10,000 elements: 49,995,000 parents
    expect((n * n * (n * n - 1)) / 2).toBeGreaterThan(MAX_PRUNED_ENTRIES);
    const r = compileText(causal(n), "c.gm");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0407"]);
    expect(r.diagnostics[0].message).toContain("49,995,000");
    expect(r.diagnostics[0].hint).toContain("markov(k = …)");
  });

  it("a statement that names more elements than the limit over its instances", () => {
    // 6,000 elements (18 million parents: under the first limit), each claim named three times.
    const text =
      "model C {\n  x : Bernoulli[6000]\n  p(x) = chain\n  assume for i in 3..6000, j in 1..3: x[i] ⊥ x[1..i-2] | x[i-1]\n}\n";
    expect((6000 * 5999) / 2).toBeLessThan(MAX_PRUNED_ENTRIES);
    const r = compileText(text, "w.gm");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0407"]);
    expect(r.diagnostics[0].message).toContain(`more than ${MAX_ASSUME_WORK.toLocaleString("en-US")} elements`);
  });
});

describe("within the limits, the derivation is unchanged", () => {
  it("a 2-D causal neighbourhood over 12 × 12: each pixel keeps the row above and the pixels before it in its row", () => {
    const n = 12;
    const m = onlyModel(causal(n));
    const x = m.variables[0];
    // 2^(number of parents) per binary pixel: the pixels before it in its row, and the row above for r ≥ 2.
    let expected = 0n;
    for (let r = 1; r <= n; r++) for (let c = 1; c <= n; c++) expected += 2n ** BigInt(r === 1 ? c - 1 : n + c - 1);
    expect(x.size).toBe(n * n);
    expect(m.params).toBe(expected);
  });
});
