/**
 * The DOT that `gm graph` and the playground lay out: every edge of the element graph, and
 * dot's crossing minimization cut to a tenth (`mclimit=0.1`) and polyline edges only where the graph is dense —
 * more than DENSE_EDGES_PER_ELEMENT edges per element — so sparse pictures keep dot's full effort.
 */
import { describe, expect, it } from "vitest";
import { DENSE_EDGES_PER_ELEMENT, toDot } from "../../src/compiler/dot.js";
import { onlyModel } from "./helpers.js";

const edges = (dot: string) => (dot.match(/ -> /g) ?? []).length;

describe("toDot", () => {
  it("draws a complete DAG with every edge and a reduced crossing search", () => {
    const ir = onlyModel("model M {\n  x : Bernoulli[16]\n  p(x) = joint\n}");
    const dot = toDot(ir);
    expect(edges(dot)).toBe((16 * 15) / 2);
    expect(edges(dot)).toBeGreaterThan(DENSE_EDGES_PER_ELEMENT * 16);
    expect(dot).toContain("mclimit=0.1;");
    expect(dot).toContain("splines=polyline;");
  });

  it("leaves a sparse graph to dot's defaults", () => {
    const ir = onlyModel("model M {\n  x : Bernoulli[16]\n  p(x) = markov(k = 2)\n}");
    const dot = toDot(ir);
    expect(edges(dot)).toBe(1 + 2 * 14);
    expect(dot).not.toContain("mclimit");
    expect(dot).not.toContain("splines");
  });
});
