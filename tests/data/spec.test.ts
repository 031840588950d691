import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadData,
  shapesCompatible,
  specFromPath,
  validateSpec,
  type DataSpec,
  type DataTarget,
} from "../../src/data/spec.js";
import { mnistSplit } from "../../src/data/mnist.js";
import { cleanup, expectDataError, grayPng, pngBytes, tmpDir, writeIdx } from "./helpers.js";

let dir: string;
let images: string; // 20 examples of 3×4 bytes; example k has label k and bytes k*12 + j (j = 0..11)
let labels: string;
let grayFolder: string;
const N = 20;
beforeAll(() => {
  dir = tmpDir("gm-spec-");
  const bytes = Array.from({ length: N * 12 }, (_, i) => i);
  images = writeIdx(dir, "images-idx3-ubyte.gz", [N, 3, 4], bytes, true);
  labels = writeIdx(
    dir,
    "labels-idx1-ubyte",
    [N],
    Array.from({ length: N }, (_, k) => k),
  );
  grayFolder = path.join(dir, "photos");
  fs.mkdirSync(grayFolder);
  for (let i = 0; i < 5; i++)
    fs.writeFileSync(
      path.join(grayFolder, `img${i}.png`),
      grayPng(10 + i, 8, () => 51 * i),
    );
});
afterAll(() => cleanup(dir));

const idx = (): DataSpec => ({ source: "idx", path: images, labels });
const target = (shape: number[], domain: DataTarget["domain"]): DataTarget => ({ shape, domain });

/** The original bytes of example k. */
const bytesOf = (k: number) => Array.from({ length: 12 }, (_, j) => k * 12 + j);

describe("loadData: shapes and split", () => {
  it("splits an idx source 80/20 by a fixed permutation, disjoint and reproducible", () => {
    const a = loadData(idx(), target([3, 4], { kind: "categorical", k: 256 }));
    const b = loadData(idx(), target([3, 4], { kind: "categorical", k: 256 }));
    expect(a.train.n).toBe(16);
    expect(a.test.n).toBe(4);
    const all = [...a.train.labels!, ...a.test.labels!];
    expect(new Set(all).size).toBe(N);
    expect(Array.from(a.train.labels!)).toEqual(Array.from(b.train.labels!));
    expect(Array.from(a.train.labels!)).not.toEqual(Array.from({ length: 16 }, (_, k) => k)); // shuffled
    const half = loadData(idx(), target([3, 4], { kind: "normal" }), [0.5, 0.5]);
    expect([half.train.n, half.test.n]).toEqual([10, 10]);
  });

  it("D0401 when the per-example shape differs, stating both shapes", () => {
    const e = expectDataError(() => loadData(idx(), target([4, 3], { kind: "bernoulli" })), "D0401");
    expect(e.message).toContain("[3, 4]");
    expect(e.message).toContain("[4, 3]");
    expect(e.message).toContain(images);
    const m = expectDataError(() => loadData({ source: "mnist" }, target([784], { kind: "bernoulli" })), "D0401");
    expect(m.message).toContain("[28, 28]");
    expect(m.message).toContain("[784]");
  });

  it("[H, W] data fits an [H, W, 1] variable and takes the variable's shape", () => {
    expect(shapesCompatible([28, 28], [28, 28, 1])).toBe(true);
    expect(shapesCompatible([28, 28, 1], [28, 28])).toBe(true);
    expect(shapesCompatible([28, 28], [28, 28, 3])).toBe(false);
    expect(shapesCompatible([784], [28, 28])).toBe(false);
    const r = loadData(idx(), target([3, 4, 1], { kind: "bernoulli" }));
    expect(r.train.shape).toEqual([3, 4, 1]);
    expect(r.train.x.length).toBe(r.train.n * 12);
  });

  it("size resizes image sources before the shape check", () => {
    const r = loadData({ source: "mnist", size: [14, 14] }, target([14, 14], { kind: "real", lo: 0, hi: 1 }));
    expect(r.train.shape).toEqual([14, 14]);
    expect(r.train.n).toBe(mnistSplit().train.n);
    // the 2×2 area average of the original digits
    const orig = mnistSplit().train;
    const k = 3;
    let s = 0;
    for (const [y, x] of [
      [10, 10],
      [10, 11],
      [11, 10],
      [11, 11],
    ])
      s += orig.x[k * 784 + y * 28 + x];
    expect(r.train.x[k * 196 + 5 * 14 + 5]).toBeCloseTo(s / 4, 5);
  });

  it("the split leaving no training data is D0404; a bad ratio is D0403", () => {
    expectDataError(() => loadData(idx(), target([3, 4], { kind: "normal" }), [0, 1]), "D0404");
    expectDataError(() => loadData(idx(), target([3, 4], { kind: "normal" }), [0.5, -1]), "D0403");
  });

  it("mnist uses the fixed MNIST split", () => {
    const r = loadData({ source: "mnist" }, target([28, 28], { kind: "categorical", k: 256 }));
    const s = mnistSplit();
    expect(r.train.n).toBe(s.train.n);
    expect(r.test.n).toBe(s.test.n);
    expect(Array.from(r.test.labels!)).toEqual(Array.from(s.test.labels!));
  });

  it("fashion_mnist with a folder lacking the files is D0301", () => {
    expectDataError(
      () => loadData({ source: "fashion_mnist", path: dir }, target([28, 28], { kind: "bernoulli" })),
      "D0301",
    );
  });
});

describe("loadData: domains", () => {
  it("Bernoulli: intensities are thresholded at 0.5 by default (value > 0.5 ↦ 1)", () => {
    const r = loadData(idx(), target([3, 4], { kind: "bernoulli" }), [1, 0]);
    expect(r.train.kind).toBe("binary");
    r.train.labels!.forEach((k, i) => {
      const got = Array.from(r.train.x.subarray(i * 12, i * 12 + 12));
      expect(got).toEqual(bytesOf(k).map((b) => (b / 255 > 0.5 ? 1 : 0)));
    });
    // bytes 127 (0.498) → 0 and 128 (0.502) → 1 both occur in this data
    expect(bytesOf(10)).toContain(127);
    expect(bytesOf(10)).toContain(128);
  });

  it("Bernoulli: an explicit threshold and stochastic binarization (seeded)", () => {
    const t = loadData({ ...idx(), binarize: 0.9 }, target([3, 4], { kind: "bernoulli" }), [1, 0]);
    t.train.labels!.forEach((k, i) => {
      expect(Array.from(t.train.x.subarray(i * 12, i * 12 + 12))).toEqual(
        bytesOf(k).map((b) => (b / 255 > 0.9 ? 1 : 0)),
      );
    });
    const s1 = loadData({ ...idx(), binarize: "stochastic", seed: 3 }, target([3, 4], { kind: "bernoulli" }));
    const s2 = loadData({ ...idx(), binarize: "stochastic", seed: 3 }, target([3, 4], { kind: "bernoulli" }));
    const s3 = loadData({ ...idx(), binarize: "stochastic", seed: 4 }, target([3, 4], { kind: "bernoulli" }));
    expect(Array.from(s1.train.x)).toEqual(Array.from(s2.train.x));
    expect(Array.from(s1.test.x)).toEqual(Array.from(s2.test.x));
    expect(Array.from(s1.train.x)).not.toEqual(Array.from(s3.train.x));
    expect(s1.train.x.every((v) => v === 0 || v === 1)).toBe(true);
  });

  it("Categorical(256) gives the raw bytes; Categorical(4) gives levels 0..3", () => {
    const r = loadData(idx(), target([3, 4], { kind: "categorical", k: 256 }));
    expect(r.train.kind).toBe("levels");
    expect(r.train.levels).toBe(256);
    for (const part of [r.train, r.test]) {
      part.labels!.forEach((k, i) => expect(Array.from(part.x.subarray(i * 12, i * 12 + 12))).toEqual(bytesOf(k)));
    }
    const q = loadData(idx(), target([3, 4], { kind: "categorical", k: 4 }));
    q.train.labels!.forEach((k, i) => {
      expect(Array.from(q.train.x.subarray(i * 12, i * 12 + 12))).toEqual(
        bytesOf(k).map((b) => Math.round((b / 255) * 3)),
      );
    });
  });

  it("Real(lo, hi) scales [0, 1] to [lo, hi]; Normal keeps [0, 1]", () => {
    const r = loadData(idx(), target([3, 4], { kind: "real", lo: -1, hi: 1 }), [1, 0]);
    expect(r.train.range).toEqual([-1, 1]);
    r.train.labels!.forEach((k, i) => {
      bytesOf(k).forEach((b, j) => expect(r.train.x[i * 12 + j]).toBeCloseTo(-1 + (2 * b) / 255, 5));
    });
    const n = loadData(idx(), target([3, 4], { kind: "normal" }), [1, 0]);
    n.train.labels!.forEach((k, i) => {
      bytesOf(k).forEach((b, j) => expect(n.train.x[i * 12 + j]).toBeCloseTo(b / 255, 6));
    });
  });

  it("binarize before a non-Bernoulli domain maps 0/1 to the extremes", () => {
    const r = loadData({ ...idx(), binarize: 0.5 }, target([3, 4], { kind: "categorical", k: 4 }), [1, 0]);
    r.train.labels!.forEach((k, i) => {
      expect(Array.from(r.train.x.subarray(i * 12, i * 12 + 12))).toEqual(
        bytesOf(k).map((b) => (b / 255 > 0.5 ? 3 : 0)),
      );
    });
  });

  it("invalid domains are D0402", () => {
    expectDataError(() => loadData(idx(), target([3, 4], { kind: "categorical", k: 1 })), "D0402");
    expectDataError(() => loadData(idx(), target([3, 4], { kind: "real", lo: 1, hi: 0 })), "D0402");
    expectDataError(() => loadData(idx(), target([3, 0], { kind: "normal" })), "D0402");
  });
});

describe("loadData: image folders", () => {
  it("resizes photos of any size to the variable's shape", () => {
    const r = loadData({ source: "images", path: grayFolder }, target([4, 4], { kind: "real", lo: 0, hi: 1 }), [1, 0]);
    expect(r.train.n).toBe(5);
    expect(r.train.shape).toEqual([4, 4]);
    // each constant image stays constant (51·i/255 = 0.2·i); the permuted order is recovered from the value
    const values = [];
    for (let i = 0; i < 5; i++) {
      const row = r.train.x.subarray(i * 16, i * 16 + 16);
      expect(row.every((v) => Math.abs(v - row[0]) < 1e-6)).toBe(true);
      values.push(Math.round(row[0] * 5));
    }
    expect(values.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("RGB targets load 3 channels; size must agree with the variable", () => {
    const rgbDir = path.join(dir, "rgb");
    fs.mkdirSync(rgbDir);
    fs.writeFileSync(
      path.join(rgbDir, "a.png"),
      pngBytes(6, 6, () => [255, 0, 0, 255]),
    );
    fs.writeFileSync(
      path.join(rgbDir, "b.png"),
      pngBytes(6, 6, () => [0, 255, 0, 255]),
    );
    const r = loadData({ source: "images", path: rgbDir }, target([3, 3, 3], { kind: "bernoulli" }), [1, 0]);
    expect(r.train.shape).toEqual([3, 3, 3]);
    const reds = [];
    for (let i = 0; i < 2; i++) reds.push(r.train.x[i * 27]);
    expect(reds.sort()).toEqual([0, 1]);
    const e = expectDataError(
      () => loadData({ source: "images", path: rgbDir, size: [5, 5] }, target([3, 3, 3], { kind: "bernoulli" })),
      "D0401",
    );
    expect(e.message).toContain("[5, 5, 3]");
    expect(e.message).toContain("[3, 3, 3]");
  });

  it("a non-image variable shape is D0401", () => {
    expectDataError(
      () => loadData({ source: "images", path: grayFolder }, target([16], { kind: "bernoulli" })),
      "D0401",
    );
  });
});

describe("specs", () => {
  it("validateSpec rejects malformed specs with D0402", () => {
    const bad: unknown[] = [
      { source: "csv" },
      { source: "parquet", path: "x" },
      { source: "idx" },
      { source: "images", path: "" },
      { source: "mnist", path: "/tmp/x" },
      { source: "mnist", labels: "/tmp/l" },
      { source: "mnist", binarize: 2 },
      { source: "mnist", binarize: "random" },
      { source: "mnist", size: [28] },
      { source: "mnist", size: [28, 0] },
      { source: "mnist", size: [28, 28, 2] },
      { source: "mnist", seed: Number.NaN },
    ];
    for (const s of bad) expectDataError(() => validateSpec(s as DataSpec), "D0402");
    expect(() => validateSpec({ source: "mnist", binarize: "stochastic", seed: 1, size: [28, 28] })).not.toThrow();
  });

  it("specFromPath: a folder is an image folder, a file an IDX file, a missing path D0101", () => {
    expect(specFromPath(grayFolder)).toEqual({ source: "images", path: grayFolder });
    expect(specFromPath(images)).toEqual({ source: "idx", path: images });
    const missing = path.join(dir, "does-not-exist");
    const e = expectDataError(() => specFromPath(missing), "D0101");
    expect(e.message).toContain(missing);
  });
});
