/**
 * Real-valued data (src/data/csv.ts, float IDX in idx.ts, `real` datasets in spec.ts):
 * - CSV: header + rows parse exactly (property: any matrix of finite floats written as CSV reads
 *   back equal); malformed files are D0501 with line and column;
 * - `Real(lo, hi)` targets take float data as it is, and a value outside [lo, hi] is D0406 naming
 *   its CSV line; byte images are still mapped from [0, 1] to [lo, hi];
 * - IDX type 0x0d (32-bit big-endian floats) reads as a `real` dataset, values exact.
 * Planted by hand and removed: rows counted from 0 in D0406 (the message said line 2 for the
 * third line: the test failed); `toRange` applied to float data (the as-is values moved: failed).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../src/data/csv.js";
import { loadIdxImages } from "../../src/data/idx.js";
import { loadData } from "../../src/data/spec.js";
import { cleanup, expectDataError, tmpDir } from "./helpers.js";

let dir: string;
beforeAll(() => {
  dir = tmpDir("gm-real-");
});
afterAll(() => cleanup(dir));

function write(name: string, text: string | Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

/** An IDX file of 32-bit big-endian floats. */
function floatIdx(dims: number[], values: number[]): Buffer {
  const buf = Buffer.alloc(4 + 4 * dims.length + 4 * values.length);
  buf[2] = 0x0d;
  buf[3] = dims.length;
  dims.forEach((s, i) => buf.writeUInt32BE(s, 4 + 4 * i));
  values.forEach((v, i) => buf.writeFloatBE(v, 4 + 4 * dims.length + 4 * i));
  return buf;
}

/** A Real(lo, hi) variable of the given shape. */
const target = (lo: number, hi: number, shape = [2]) => ({ shape, domain: { kind: "real" as const, lo, hi } });

describe("CSV", () => {
  it("reads back any matrix of finite float32 values written with a header", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5 })
          .chain((cols) =>
            fc.array(
              fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: cols, maxLength: cols }),
              { minLength: 1, maxLength: 20 },
            ),
          ),
        fc.boolean(),
        (rows, crlf) => {
          const nl = crlf ? "\r\n" : "\n";
          const text =
            [
              rows[0].map((_, j) => `c${j}`).join(","),
              ...rows.map((r) => r.map((v) => (Object.is(v, -0) ? "-0" : String(v))).join(", ")),
            ].join(nl) +
            nl +
            nl;
          const ds = parseCsv(text, "t.csv");
          expect(ds.n).toBe(rows.length);
          expect(ds.shape).toEqual([rows[0].length]);
          expect(ds.kind).toBe("real");
          expect(Array.from(ds.x)).toEqual(rows.flat().map((v) => Math.fround(v)));
        },
      ),
      { numRuns: 50 },
    );
  });

  it("names the line and column of a malformed file (D0501)", () => {
    expect(expectDataError(() => parseCsv("x,y\n1,2\n3,abc\n", "p.csv"), "D0501").message).toBe(
      'p.csv: line 3: column 2 ("y"): "abc" is not a number',
    );
    expect(expectDataError(() => parseCsv("x,y\n1,2,3\n", "p.csv"), "D0501").message).toBe(
      "p.csv: line 2: 3 values, but the header names 2 columns",
    );
    expect(expectDataError(() => parseCsv("x,y\n1,\n", "p.csv"), "D0501").message).toMatch(
      /column 2 \("y"\): an empty cell is not a number/,
    );
    expect(expectDataError(() => parseCsv("1,2\n3,4\n", "p.csv"), "D0501").message).toMatch(/starts with a header row/);
    expect(expectDataError(() => parseCsv("x,y\n", "p.csv"), "D0501").message).toMatch(/no rows of numbers/);
    expect(expectDataError(() => parseCsv("", "p.csv"), "D0501").message).toMatch(/empty CSV file/);
  });
});

describe("Real(lo, hi) targets", () => {
  it("take CSV values as they are, shaped like the variable", () => {
    const rows = Array.from({ length: 10 }, (_, i) => [i / 10 - 2, 3 - i / 5]);
    const p = write("pts.csv", `a,b\n${rows.map((r) => r.join(",")).join("\n")}\n`);
    const { train, test } = loadData({ source: "csv", path: p }, target(-3, 3));
    expect(train.n + test.n).toBe(10);
    const seen = new Set([...train.x, ...test.x].map((v) => v.toFixed(4)));
    for (const v of rows.flat()) expect(seen.has(Math.fround(v).toFixed(4))).toBe(true);
    // a [2, 1] variable takes the two columns too
    expect(loadData({ source: "csv", path: p }, target(-3, 3, [2, 1])).train.shape).toEqual([2, 1]);
  });

  it("refuse a value outside [lo, hi], naming its CSV line (D0406)", () => {
    const p = write("out.csv", "a,b\n0.5,0.2\n0.1,7.5\n0,0\n");
    const e = expectDataError(() => loadData({ source: "csv", path: p }, target(-3, 3)), "D0406");
    expect(e.message).toBe(
      `${p}: line 3 (example 2), column 2 ("b"): 7.5 is not in the model's domain: Real(-3, 3) takes values in [-3, 3]`,
    );
  });

  it("still map byte images from [0, 1] to [lo, hi]", () => {
    const { train } = loadData({ source: "mnist" }, target(-1, 1, [28, 28]));
    expect(Math.min(...train.x.subarray(0, 784 * 20))).toBeCloseTo(-1, 5);
    expect(Math.max(...train.x.subarray(0, 784 * 20))).toBeCloseTo(1, 5);
  });
});

describe("IDX 32-bit floats (type 0x0d)", () => {
  it("read as a real dataset, values exact, and checked against Real(lo, hi)", () => {
    const values = [0.25, -1.5, 3.75, 100, -0.125, 2, 7.5, -3];
    const p = write("f.idx", floatIdx([2, 2, 2], values));
    const ds = loadIdxImages(p);
    expect(ds.kind).toBe("real");
    expect(ds.shape).toEqual([2, 2]);
    expect(Array.from(ds.x)).toEqual(values);
    expectDataError(() => loadData({ source: "idx", path: p }, target(-5, 5, [2, 2])), "D0406");
    const { train, test } = loadData({ source: "idx", path: p }, target(-5, 200, [2, 2]), [0.5, 0.5]);
    expect([...train.x, ...test.x].sort((a, b) => a - b)).toEqual([...values].sort((a, b) => a - b));
  });

  it("a truncated float file is D0103 counting 4 bytes per element", () => {
    const p = write("t.idx", floatIdx([2, 2], [1, 2, 3, 4]).subarray(0, 20));
    expect(expectDataError(() => loadIdxImages(p), "D0103").message).toMatch(
      /2 × 2 × 4 = 16 bytes of data but the file has only 8/,
    );
  });
});
