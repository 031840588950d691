/**
 * `exclude = [...]` and `only = [...]` on labelled data sources (the anomaly sets of issue 8:
 * train on MNIST without a digit class, test on that class): the compiler binds them, the data
 * layer keeps exactly the examples whose labels pass, both splits keep their order, and a source
 * without labels or with both filters is refused (D0402).
 *
 * Planted bug: `filterLabels` keeping the right rows but the labels of the first rows
 * (`ds.labels.slice(0, kept)`): the first property failed, shrunk to `[[0, 1], [1], false]`.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile";
import type { Dataset } from "../../src/data/dataset";
import { filterLabels, loadData } from "../../src/data/spec";
import { isGmError } from "../../src/errors";

const dataset = (labels: number[]): Dataset => ({
  name: "t",
  x: Float32Array.from(labels.flatMap((y, i) => [i, y])),
  n: labels.length,
  shape: [2],
  labels: Int32Array.from(labels),
  kind: "real",
});

describe("exclude / only", () => {
  it("keeps exactly the examples whose labels pass, in order, with their labels", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
        fc.boolean(),
        (labels, classes, exclude) => {
          const ds = dataset(labels);
          const out = filterLabels(ds, { source: "idx", ...(exclude ? { exclude: classes } : { only: classes }) });
          const kept = labels
            .map((y, i) => [y, i])
            .filter(([y]) => (exclude ? !classes.includes(y) : classes.includes(y)));
          expect(out.n).toBe(kept.length);
          expect(Array.from(out.labels!)).toEqual(kept.map(([y]) => y));
          // each row is the original row (its first value is the original index)
          expect(Array.from({ length: out.n }, (_, j) => out.x[2 * j])).toEqual(kept.map(([, i]) => i));
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });

  it("the compiler binds them and MNIST is filtered in both splits", () => {
    const r = compileText(
      "model M { x : Bernoulli[28, 28]  p(x) = independent  train { data = mnist(binarize = 0.5, exclude = [3, 5]) } }",
      "m.gm",
    );
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const spec = r.models[0].train.data!;
    expect(spec.exclude).toEqual([3, 5]);
    const { train, test } = loadData(spec as never, { shape: [28, 28], domain: { kind: "bernoulli" } });
    for (const ds of [train, test]) expect(Array.from(ds.labels!).some((y) => y === 3 || y === 5)).toBe(false);
    const only = loadData({ source: "mnist", only: [3] }, { shape: [28, 28], domain: { kind: "bernoulli" } });
    expect(only.test.n).toBeGreaterThan(100);
    expect(Array.from(only.test.labels!).every((y) => y === 3)).toBe(true);
  });

  it("refuses both filters at once, bad labels, and data without labels", () => {
    const code = (f: () => unknown) => {
      try {
        f();
        return "none";
      } catch (e) {
        return isGmError(e) ? e.code : String(e);
      }
    };
    expect(
      code(() =>
        loadData({ source: "mnist", only: [1], exclude: [2] }, { shape: [28, 28], domain: { kind: "bernoulli" } }),
      ),
    ).toBe("D0402");
    expect(
      code(() =>
        loadData({ source: "mnist", only: [-1] } as never, { shape: [28, 28], domain: { kind: "bernoulli" } }),
      ),
    ).toBe("D0402");
    const { labels: _drop, ...unlabelled } = dataset([1, 2]);
    expect(code(() => filterLabels(unlabelled as Dataset, { source: "idx", only: [1] }))).toBe("D0402");
    const bad = compileText(
      "model M { x : Bernoulli[2]  p(x) = independent  train { data = mnist(exclude = 3.5) } }",
      "m.gm",
    );
    expect(bad.diagnostics.some((d) => d.severity === "error")).toBe(true);
  });
});
