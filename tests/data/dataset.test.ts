import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  batches,
  exampleSize,
  splitCounts,
  splitDataset,
  subset,
  toLevels,
  toRange,
  unitValues,
  type Dataset,
} from "../../src/data/dataset.js";
import { expectDataError } from "./helpers.js";

/** n examples of shape [2, 3]; example k has values k*10 + j (j = 0..5) scaled by 1/100 and label k. */
function toy(n: number): Dataset {
  const x = new Float32Array(n * 6);
  for (let k = 0; k < n; k++) for (let j = 0; j < 6; j++) x[k * 6 + j] = (k * 10 + j) / 1000;
  return { name: "toy", x, n, shape: [2, 3], labels: Int32Array.from({ length: n }, (_, k) => k), kind: "intensity" };
}

describe("subset", () => {
  it("takes the rows and labels at the given indices, in order", () => {
    const ds = toy(5);
    const s = subset(ds, [3, 0, 3]);
    expect(s.n).toBe(3);
    expect(Array.from(s.labels!)).toEqual([3, 0, 3]);
    expect(Array.from(s.x.subarray(0, 6))).toEqual(Array.from(ds.x.subarray(18, 24)));
    expect(Array.from(s.x.subarray(6, 12))).toEqual(Array.from(ds.x.subarray(0, 6)));
    expect(s.shape).toEqual([2, 3]);
  });
  it("rejects indices out of range", () => {
    expectDataError(() => subset(toy(3), [3]), "D0405");
    expectDataError(() => subset(toy(3), [-1]), "D0405");
  });
});

describe("batches", () => {
  it("without a seed visits 0..n-1 in order with a smaller last batch", () => {
    const bs = [...batches(toy(10), 3)];
    expect(bs.map((b) => b.n)).toEqual([3, 3, 3, 1]);
    expect(bs.flatMap((b) => Array.from(b.labels!))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("with a seed covers every example once, reproducibly, rows matching labels", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 12 }), fc.integer(), (n, size, seed) => {
        const ds = toy(n);
        const a = [...batches(ds, size, seed)];
        const b = [...batches(ds, size, seed)];
        const seen = a.flatMap((bt) => Array.from(bt.indices));
        expect(seen.slice().sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(b.flatMap((bt) => Array.from(bt.indices))).toEqual(seen);
        expect(a.every((bt, i) => bt.n === (i < a.length - 1 ? size : n - size * (a.length - 1)))).toBe(true);
        for (const bt of a) {
          expect(Array.from(bt.labels!)).toEqual(Array.from(bt.indices));
          bt.indices.forEach((k, i) => {
            expect(Array.from(bt.x.subarray(i * 6, i * 6 + 6))).toEqual(Array.from(ds.x.subarray(k * 6, k * 6 + 6)));
          });
        }
      }),
      { numRuns: 60 },
    );
  });

  it("shuffles differently for different seeds", () => {
    const ds = toy(50);
    const a = [...batches(ds, 50, 1)][0].indices;
    const b = [...batches(ds, 50, 2)][0].indices;
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it("rejects a non-positive batch size", () => {
    expectDataError(() => [...batches(toy(3), 0)], "D0405");
    expectDataError(() => [...batches(toy(3), 1.5)], "D0405");
  });
});

describe("toLevels / toRange", () => {
  it("recovers raw bytes from b/255 intensities with 256 levels", () => {
    const bytes = Array.from({ length: 256 }, (_, i) => i);
    const ds: Dataset = {
      name: "b",
      x: Float32Array.from(bytes, (b) => b / 255),
      n: 1,
      shape: [256],
      kind: "intensity",
    };
    const lv = toLevels(ds, 256);
    expect(lv.kind).toBe("levels");
    expect(lv.levels).toBe(256);
    expect(Array.from(lv.x)).toEqual(bytes);
  });

  it("produces integers in 0..k-1 with 0 ↦ 0 and 1 ↦ k-1", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 2, max: 300 }),
        (vals, k) => {
          const ds: Dataset = {
            name: "r",
            x: Float32Array.from([0, 1, ...vals]),
            n: 1,
            shape: [vals.length + 2],
            kind: "intensity",
          };
          const lv = toLevels(ds, k);
          expect(lv.x[0]).toBe(0);
          expect(lv.x[1]).toBe(k - 1);
          for (let i = 0; i < lv.x.length; i++) {
            expect(Number.isInteger(lv.x[i]) && lv.x[i] >= 0 && lv.x[i] < k).toBe(true);
            // nearest level: within half a level of the original value
            expect(Math.abs(lv.x[i] / (k - 1) - ds.x[i])).toBeLessThanOrEqual(0.5 / (k - 1) + 1e-6);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("maps binary data to the extreme levels and rescales levels", () => {
    const bin: Dataset = { name: "b", x: Float32Array.from([0, 1, 1, 0]), n: 2, shape: [2], kind: "binary" };
    expect(Array.from(toLevels(bin, 4).x)).toEqual([0, 3, 3, 0]);
    const lv: Dataset = { name: "l", x: Float32Array.from([0, 1, 2]), n: 1, shape: [3], kind: "levels", levels: 3 };
    expect(Array.from(toLevels(lv, 5).x)).toEqual([0, 2, 4]);
    expectDataError(() => toLevels(bin, 1), "D0405");
  });

  it("scales [0, 1] to [lo, hi] and unitValues inverts it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        (vals, lo, width) => {
          const hi = lo + width;
          const ds: Dataset = { name: "r", x: Float32Array.from(vals), n: 1, shape: [vals.length], kind: "intensity" };
          const r = toRange(ds, lo, hi);
          // Float32 storage: absolute error up to ~2 ulp of the largest magnitude.
          const eps = 2.4e-7 * Math.max(Math.abs(lo), Math.abs(hi)) + 1e-7;
          for (let i = 0; i < vals.length; i++) {
            expect(Math.abs(r.x[i] - (lo + ds.x[i] * width))).toBeLessThanOrEqual(eps);
          }
          const back = unitValues(r);
          for (let i = 0; i < vals.length; i++)
            expect(Math.abs(back[i] - ds.x[i])).toBeLessThanOrEqual((2 * eps) / width + 1e-6);
        },
      ),
      { numRuns: 100 },
    );
    const ds: Dataset = { name: "r", x: Float32Array.from([0, 0.5, 1]), n: 1, shape: [3], kind: "intensity" };
    expect(Array.from(toRange(ds, -1, 1).x)).toEqual([-1, 0, 1]);
    expectDataError(() => toRange(ds, 1, 1), "D0405");
  });

  it("levels map to [0, 1] as v/(levels-1)", () => {
    const lv: Dataset = { name: "l", x: Float32Array.from([0, 2, 4]), n: 1, shape: [3], kind: "levels", levels: 5 };
    expect(Array.from(unitValues(lv))).toEqual([0, 0.5, 1]);
  });
});

describe("splits", () => {
  it("split counts never exceed n and use all examples when the ratio sums to 1", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, a) => {
        const c = splitCounts(n, [a, 1 - a]);
        expect(c.train + c.test).toBe(n);
        expect(Math.abs(c.train - n * a)).toBeLessThanOrEqual(1);
      }),
    );
    expect(splitCounts(10, [0.5, 0.2])).toEqual({ train: 5, test: 2 });
    expect(splitCounts(10, [4, 1])).toEqual({ train: 8, test: 2 });
    expectDataError(() => splitCounts(10, [-1, 2]), "D0403");
    expectDataError(() => splitCounts(10, [0, 0]), "D0403");
    expectDataError(() => splitCounts(10, [0.5]), "D0403");
  });

  it("splitDataset gives disjoint parts, the test part being the tail of the permutation", () => {
    const ds = toy(37);
    const a = splitDataset(ds, [0.7, 0.3], 11);
    const b = splitDataset(ds, [0.5, 0.3], 11);
    const tr = Array.from(a.train.labels!);
    const te = Array.from(a.test.labels!);
    expect(tr.length + te.length).toBe(37);
    expect(new Set([...tr, ...te]).size).toBe(37);
    expect(Array.from(b.test.labels!)).toEqual(te);
    expect(exampleSize(a.train.shape) * a.train.n).toBe(a.train.x.length);
  });
});
