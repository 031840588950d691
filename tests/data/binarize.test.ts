import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { binarize } from "../../src/data/binarize.js";
import type { Dataset } from "../../src/data/dataset.js";
import { Rng } from "../../src/data/rng.js";
import { expectDataError } from "./helpers.js";

function constant(n: number, v: number): Dataset {
  return { name: "c", x: new Float32Array(n).fill(v), n: 1, shape: [n], kind: "intensity" };
}

describe("binarize", () => {
  it("threshold: value > t becomes 1", () => {
    const ds: Dataset = {
      name: "t",
      x: Float32Array.from([0, 0.2, 0.5, 0.50001, 1]),
      n: 1,
      shape: [5],
      kind: "intensity",
      labels: Int32Array.from([4]),
    };
    const b = binarize(ds, { threshold: 0.5 });
    expect(b.kind).toBe("binary");
    expect(Array.from(b.x)).toEqual([0, 0, 0, 1, 1]);
    expect(Array.from(b.labels!)).toEqual([4]);
    expect(Array.from(binarize(ds, { threshold: 0 }).x)).toEqual([0, 1, 1, 1, 1]);
    expectDataError(() => binarize(ds, { threshold: Number.NaN }), "D0402");
  });

  it("threshold works on levels data via v/(levels-1)", () => {
    const ds: Dataset = { name: "l", x: Float32Array.from([0, 1, 2, 3]), n: 1, shape: [4], kind: "levels", levels: 4 };
    expect(Array.from(binarize(ds, { threshold: 0.5 }).x)).toEqual([0, 0, 1, 1]);
  });

  it("stochastic: reproducible with a seed, different across seeds, only 0/1, and 0/1 inputs are kept", () => {
    const x = Float32Array.from({ length: 2000 }, (_, i) => ((i % 11) / 10 > 1 ? 1 : (i % 11) / 10));
    const ds: Dataset = { name: "s", x, n: 2, shape: [1000], kind: "intensity" };
    const a = binarize(ds, { stochastic: true, seed: 7 });
    const b = binarize(ds, { stochastic: true, seed: 7 });
    const c = binarize(ds, { stochastic: true, seed: 8 });
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(Array.from(a.x)).not.toEqual(Array.from(c.x));
    for (let i = 0; i < x.length; i++) {
      expect(a.x[i] === 0 || a.x[i] === 1).toBe(true);
      if (x[i] === 0) expect(a.x[i]).toBe(0);
      if (x[i] === 1) expect(a.x[i]).toBe(1);
    }
  });

  it("stochastic: the mean of constant p data is p (within 5 standard errors)", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (p, seed) => {
        const N = 20_000;
        const pf = Math.fround(p);
        const b = binarize(constant(N, p), { stochastic: true, seed });
        let m = 0;
        for (const v of b.x) m += v;
        m /= N;
        expect(Math.abs(m - pf)).toBeLessThanOrEqual(5 * Math.sqrt((pf * (1 - pf)) / N) + 1e-9);
      }),
      { numRuns: 40 },
    );
  });

  it("stochastic: on varied data the output mean tracks the input mean", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (dataSeed, seed) => {
        // The same seed would replay the very uniforms the data were made of.
        fc.pre(dataSeed !== seed);
        const r = new Rng(dataSeed);
        const N = 20_000;
        const x = Float32Array.from({ length: N }, () => r.uniform() ** 2);
        let inMean = 0;
        let varSum = 0;
        for (const v of x) {
          inMean += v;
          varSum += v * (1 - v);
        }
        const b = binarize({ name: "v", x, n: 1, shape: [N], kind: "intensity" }, { stochastic: true, seed });
        let outMean = 0;
        for (const v of b.x) outMean += v;
        expect(Math.abs(outMean - inMean) / N).toBeLessThanOrEqual((5 * Math.sqrt(varSum)) / N);
      }),
      { numRuns: 20 },
    );
  });
});
