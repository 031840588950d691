/**
 * CSV data read in the model variable's own domain, by column name, and whole; empty held-out sets.
 *
 * - Categorical(k) CSV values are whole numbers 0..k-1 taken as they are (before: read as fractions
 *   in [0, 1] and mapped to round(v·(k−1)), so `1,2` under Categorical(4) became `3,3`: the first
 *   test failed with [3, 3]); Bernoulli takes 0/1; a value outside is D0406 naming file, line,
 *   column and value (before: 7 under Categorical(4) was clamped to 3, no error).
 * - A header naming the model's variables (`label`, `x_1_1`, …, as `gm sample --format csv`
 *   writes it) is read by name, the label column giving the labels (before: D0401 "per-example
 *   shape [5]").
 * - `loadWhole` reads every row of a file in its order (run.ts used 20 % of a CSV).
 * - A split that asks for a held-out part but leaves it empty is D0407 (before: an empty test set,
 *   scored as 0 nats); `[1, 0]` asks for none and is still accepted.
 * - D0401's hint for idx data does not suggest `size`, which only images() takes.
 *
 * Property: any table of values in a variable's domain, written with `gm sample`'s column names
 * in a shuffled column order, with a label column, reads back equal. Planted and removed:
 * (1) the old Categorical mapping (checkCsvDomain returning the CSV as `real`, so toLevels mapped
 * round(v·(k−1))): failed with counterexample [3, "categorical", 1, 1, 2, 1], "expected [ +0, 2 ]
 * to deeply equal [ +0, 1 ]"; (2) columns always taken by position (selectCsvColumns ignoring the
 * header): failed with counterexample [2, "categorical", 1, 1, 1, 0].
 */
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elementNames } from "../../src/data/csv.js";
import { loadData, loadWhole, type DataTarget } from "../../src/data/spec.js";
import { cleanup, expectDataError, tmpDir, writeIdx } from "./helpers.js";

let dir: string;
beforeAll(() => {
  dir = tmpDir("gm-csvdom-");
});
afterAll(() => cleanup(dir));

let count = 0;
function write(text: string, name = `t${count++}.csv`): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

const cat = (k: number, shape = [2]): DataTarget => ({ shape, domain: { kind: "categorical", k }, name: "x" });
const all = (r: { train: { x: Float32Array }; test: { x: Float32Array } }) => [...r.train.x, ...r.test.x];

describe("CSV values in the variable's own domain", () => {
  it("Categorical(k) takes whole numbers 0..k-1 as they are", () => {
    const p = write(`x_1,x_2\n${Array(10).fill("1,2").join("\n")}\n`);
    const r = loadData({ source: "csv", path: p }, cat(4));
    expect(new Set(all(r))).toEqual(new Set([1, 2]));
    expect(r.train.kind).toBe("levels");
    expect(loadWhole({ source: "csv", path: p }, cat(4)).x.slice(0, 2)).toEqual(Float32Array.from([1, 2]));
  });

  it("refuses a Categorical value outside 0..k-1 or not whole, naming file, line, column and value", () => {
    const p = write("x_1,x_2\n1,2\n0,7\n0,0\n1,1\n3,3\n");
    const e = expectDataError(() => loadData({ source: "csv", path: p }, cat(4)), "D0406");
    expect(e.message).toBe(
      `${p}: line 3 (example 2), column 2 ("x_2"): 7 is not in the model's domain: Categorical(4) takes whole numbers 0..3`,
    );
    expect(e.hint).toMatch(/Categorical\(k\): 0\.\.k-1/);
    const q = write("x_1,x_2\n1,0.5\n0,1\n0,0\n1,1\n3,3\n");
    expect(expectDataError(() => loadData({ source: "csv", path: q }, cat(4)), "D0406").message).toMatch(
      /line 2 \(example 1\), column 2 \("x_2"\): 0.5 is not/,
    );
  });

  it("Bernoulli takes 0 or 1; grey values only with an explicit binarize threshold", () => {
    const bern: DataTarget = { shape: [2], domain: { kind: "bernoulli" }, name: "x" };
    const ok = write("x_1,x_2\n1,0\n0,1\n1,1\n0,0\n1,0\n");
    expect(loadWhole({ source: "csv", path: ok }, bern).x).toEqual(Float32Array.from([1, 0, 0, 1, 1, 1, 0, 0, 1, 0]));
    const grey = write("x_1,x_2\n1,0\n0,0.7\n1,1\n0,0\n1,0\n");
    expect(expectDataError(() => loadWhole({ source: "csv", path: grey }, bern), "D0406").message).toMatch(
      /line 3 \(example 2\), column 2 \("x_2"\): 0.7 is not in the model's domain: Bernoulli takes 0 or 1/,
    );
    expect(loadWhole({ source: "csv", path: grey, binarize: 0.5 }, bern).x.slice(2, 4)).toEqual(
      Float32Array.from([0, 1]),
    );
  });

  it("Real(lo, hi) values stay as they are; Normal takes any number", () => {
    const p = write("x_1,x_2\n-2.5,3\n0.125,-7\n");
    expect(loadWhole({ source: "csv", path: p }, { shape: [2], domain: { kind: "normal" } }).x).toEqual(
      Float32Array.from([-2.5, 3, 0.125, -7]),
    );
    expectDataError(
      () => loadWhole({ source: "csv", path: p }, { shape: [2], domain: { kind: "real", lo: -3, hi: 3 } }),
      "D0406",
    );
  });
});

describe("CSV columns by their header names", () => {
  it("reads a label column and the variable's columns by name, in any order", () => {
    // gm sample writes the label first, then x_1_1 … x_2_2; here the x columns are shuffled too.
    const p = write("label,x_2_2,x_1_1,x_1_2,x_2_1,extra\n3,1,0,0,1,9\n7,0,1,1,0,9\n");
    const t: DataTarget = { shape: [2, 2], domain: { kind: "bernoulli" }, name: "x", label: { name: "label", k: 10 } };
    const ds = loadWhole({ source: "csv", path: p }, t);
    expect(Array.from(ds.labels!)).toEqual([3, 7]);
    expect(Array.from(ds.x)).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
    expect(ds.shape).toEqual([2, 2]);
  });

  it("refuses a label outside its outcomes (D0406 naming the column)", () => {
    const p = write("label,x_1,x_2\n3,1,0\n12,0,1\n");
    const t: DataTarget = { shape: [2], domain: { kind: "bernoulli" }, name: "x", label: { name: "label", k: 10 } };
    expect(expectDataError(() => loadWhole({ source: "csv", path: p }, t), "D0406").message).toMatch(
      /line 3 \(example 2\), column 1 \("label"\): 12 is not in the model's domain: whole numbers 0\.\.9/,
    );
  });

  it("a header that does not name the variable is read by position, as before", () => {
    const p = write("a,b\n1,0\n0,1\n");
    expect(loadWhole({ source: "csv", path: p }, cat(2)).x).toEqual(Float32Array.from([1, 0, 0, 1]));
  });

  it("property: values of any domain, written under gm sample's names in any column order, read back equal", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 9 }),
        fc.constantFrom("categorical", "bernoulli", "real"),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        (k, kind, h, w, n, seed) => {
          let s = seed >>> 0;
          const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
          const d = h * w;
          const value = () =>
            kind === "categorical"
              ? Math.floor(rnd() * k)
              : kind === "bernoulli"
                ? rnd() < 0.5
                  ? 0
                  : 1
                : rnd() * 4 - 2;
          const rows = Array.from({ length: n }, () => Array.from({ length: d }, value));
          const labels = Array.from({ length: n }, () => Math.floor(rnd() * 10));
          const names = ["y", ...elementNames("img", [h, w])];
          const order = names.map((_, i) => i).sort(() => rnd() - 0.5);
          const line = (r: number[], y: number) => order.map((j) => (j === 0 ? y : r[j - 1])).join(",");
          const p = write(
            `${order.map((j) => names[j]).join(",")}\n${rows.map((r, i) => line(r, labels[i])).join("\n")}\n`,
          );
          const domain =
            kind === "categorical"
              ? { kind: "categorical" as const, k }
              : kind === "bernoulli"
                ? { kind: "bernoulli" as const }
                : { kind: "real" as const, lo: -2, hi: 2 };
          const ds = loadWhole(
            { source: "csv", path: p },
            { shape: [h, w], domain, name: "img", label: { name: "y", k: 10 } },
          );
          expect(Array.from(ds.x)).toEqual(rows.flat().map((v) => Math.fround(v)));
          expect(Array.from(ds.labels!)).toEqual(labels);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("whole files and empty held-out sets", () => {
  it("loadWhole reads every row of a CSV in file order (loadData's test part was 20 %)", () => {
    const p = write(`x_1,x_2\n${Array.from({ length: 10 }, (_, i) => `${i % 4},${(i + 1) % 4}`).join("\n")}\n`);
    const ds = loadWhole({ source: "csv", path: p }, cat(4));
    expect(ds.n).toBe(10);
    expect(Array.from(ds.x.slice(0, 6))).toEqual([0, 1, 1, 2, 2, 3]);
  });

  it("refuses a split that asks for a held-out part and leaves it empty (D0407), naming sizes and split", () => {
    const p = write("x_1,x_2\n1,0\n0,1\n1,1\n0,0\n");
    const bern: DataTarget = { shape: [2], domain: { kind: "bernoulli" }, name: "x" };
    const e = expectDataError(() => loadData({ source: "csv", path: p }, bern, [0.9, 0.1]), "D0407");
    expect(e.message).toMatch(/the split \[0\.9,0\.1\] leaves no held-out examples \(4 train of 4\)/);
    expect(e.hint).toMatch(/needs at least 5 examples.*larger test fraction/);
    // five rows: round(0.5) = 1 held-out example, accepted
    const q = write("x_1,x_2\n1,0\n0,1\n1,1\n0,0\n1,1\n");
    expect(loadData({ source: "csv", path: q }, bern, [0.9, 0.1]).test.n).toBe(1);
    // [1, 0] asks for no held-out part (library use)
    expect(loadData({ source: "csv", path: p }, bern, [1, 0]).train.n).toBe(4);
  });

  it("refuses a whole file with no example left (D0407)", () => {
    const imgs = writeIdx(dir, "i.idx", [3, 2, 2], [0, 255, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]);
    const labs = writeIdx(dir, "l.idx", [3], [1, 1, 2]);
    const t: DataTarget = { shape: [2, 2], domain: { kind: "bernoulli" } };
    expect(loadWhole({ source: "idx", path: imgs, labels: labs }, t).n).toBe(3);
    expectDataError(() => loadWhole({ source: "idx", path: imgs, labels: labs, only: [5] }, t), "D0407");
  });

  it("D0401's hint for idx data does not suggest size, which only images() takes", () => {
    const imgs = writeIdx(dir, "s.idx", [5, 3, 3], new Uint8Array(45));
    const e = expectDataError(
      () => loadData({ source: "idx", path: imgs }, { shape: [2, 2], domain: { kind: "bernoulli" } }),
      "D0401",
    );
    expect(e.hint).toBe(
      'declare the variable with shape [3, 3]; idx data is read at its own size (only images("folder", size = [H, W]) resizes)',
    );
  });
});
