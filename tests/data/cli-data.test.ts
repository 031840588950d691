/**
 * Data in and out through the built `gm` in child processes, on the tester's cases (the bundle of
 * tests/cli/build-cli.ts, written to node_modules/.cache/gm-data-cli-test):
 *
 * - `split = [0.9, 0.1]` on a 4-row CSV: `gm train` exits 1 with D0407 naming the sizes and the
 *   split (before: exit 0, "held-out NLL 0.00 nats", then `gm score --json` gave n 0, nll 0);
 * - Categorical(4) CSV `1,2`: trained tables keep the values (before: read as 3,3, so the trained
 *   table put all its mass on 3 and `gm sample --format csv` wrote only 3s); a value 7 is D0406
 *   naming file, line, column and value;
 * - `gm score RUN --data c.csv --json` scores all 10 rows (before: n 2, its 20 % split);
 * - a labelled model's `gm sample --format csv` (label column first) reads back with
 *   `gm score --data` (before: D0401 "per-example shape [65] … declare the variable with shape [65]");
 * - an idx file of the wrong size: D0401's hint no longer offers `size [H, W]`, which idx() refuses.
 *
 * Run against the tree before the fix (src at 2a9d0a8^), all four failed: "expected +0 to be 1" (train
 * exited 0), "expected 15 to be greater than 120" (15 of 200 samples had x_1 = 1), the labelled
 * read-back "error[D0401]: csv data …", and the idx hint not found.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, runGm } from "../cli/build-cli";
import { removeDir, tempDir } from "../models/run-helpers";
import { writeIdx } from "./helpers";

const root = resolve(import.meta.dirname, "../..");
const outDir = join(root, "node_modules", ".cache", "gm-data-cli-test");
const GM = join(outDir, "cli", "main.js");
let dir: string;

const gm = (args: string[]) => runGm(GM, args, dir);

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

beforeAll(async () => {
  dir = tempDir("gm-data-cli-");
  await buildCli(outDir);
}, 120_000);
afterAll(() => removeDir(dir));

describe("gm and data files", () => {
  it("refuses a split whose held-out part rounds to no example (D0407, exit 1)", async () => {
    write("b2.csv", "x_1,x_2\n1,0\n0,1\n1,1\n0,0\n");
    write(
      "b2.gm",
      'model B2 {\n  x : Bernoulli[2]\n  p(x) = logistic\n  train {\n    data = csv("b2.csv")\n    split = [0.9, 0.1]\n    epochs = 2\n  }\n}\n',
    );
    const r = await gm(["train", "b2.gm", "--out", "b2run", "--backend", "wasm"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "error[D0407]: csv data " +
        join(dir, "b2.csv") +
        ": the split [0.9,0.1] leaves no held-out examples (4 train of 4)",
    );
    expect(r.stderr).toMatch(/hint: use more data \(a test fraction of 0\.1 needs at least 5 examples\)/);
    expect(r.stdout).not.toMatch(/NLL 0\.00/);
  }, 60_000);

  it("reads Categorical CSV values as they are, scores a CSV whole, and refuses a value outside 0..k-1", async () => {
    write("c.csv", `x_1,x_2\n${Array(10).fill("1,2").join("\n")}\n`);
    write("c.gm", 'model C {\n  x : Categorical(4)[2]\n  p(x) = independent\n  train { data = csv("c.csv") }\n}\n');
    const t = await gm(["train", "c.gm", "--out", "crun", "--backend", "wasm"]);
    expect(t.stderr).not.toContain("error[");
    expect(t.code).toBe(0);
    const s = await gm(["sample", "crun", "-n", "200", "--format", "csv", "-o", "cs.csv", "--backend", "wasm"]);
    expect(s.code).toBe(0);
    const rows = readFileSync(join(dir, "cs.csv"), "utf8").trim().split("\n").slice(1);
    // 8 training rows (split [0.8, 0.2]), smoothing 1: x_1 = 1 with probability 9/12; before the fix 15 of 200 were
    const ones = rows.filter((l) => l.split(",")[0] === "1").length;
    expect(ones).toBeGreaterThan(120);
    expect(rows.filter((l) => l.split(",")[1] === "2").length).toBeGreaterThan(120);
    const sc = await gm(["score", "crun", "--data", "c.csv", "--json", "--backend", "wasm"]);
    expect(sc.code).toBe(0);
    const j = JSON.parse(sc.stdout);
    expect(j.n).toBe(10);
    // log p(1, 2) = 2 log(9/12) under the smoothed table
    expect(j.nll_nats).toBeCloseTo(-2 * Math.log(9 / 12), 3);
    // what gm sample wrote reads back as data
    expect((await gm(["score", "crun", "--data", "cs.csv", "--json", "--backend", "wasm"])).code).toBe(0);
    write("c7.csv", "x_1,x_2\n1,2\n0,7\n");
    const bad = await gm(["score", "crun", "--data", "c7.csv", "--backend", "wasm"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      `error[D0406]: ${join(dir, "c7.csv")}: line 3 (example 2), column 2 ("x_2"): 7 is not in the model's domain: Categorical(4) takes whole numbers 0..3`,
    );
  }, 120_000);

  it("reads back the CSV that gm sample writes for a labelled model (label column first)", async () => {
    const n = 60;
    const x = new Uint8Array(n * 4);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3;
      for (let j = 0; j < 4; j++) x[i * 4 + j] = (i + j) % 3 === 0 ? 255 : 0;
    }
    writeIdx(dir, "li.idx", [n, 2, 2], x);
    writeIdx(dir, "ll.idx", [n], y);
    write(
      "l.gm",
      'model L {\n  label : Categorical(3)\n  x : Bernoulli[2, 2]\n  p(label) = table\n  p(x | label) = mlp(hidden = [4])\n  train {\n    data = idx("li.idx", labels = "ll.idx")\n    epochs = 1\n  }\n}\n',
    );
    expect((await gm(["train", "l.gm", "--out", "lrun", "--backend", "wasm"])).code).toBe(0);
    const s = await gm(["sample", "lrun", "-n", "30", "--format", "csv", "-o", "ls.csv", "--backend", "wasm"]);
    expect(s.code).toBe(0);
    expect(readFileSync(join(dir, "ls.csv"), "utf8").split("\n")[0]).toBe("label,x_1_1,x_1_2,x_2_1,x_2_2");
    const sc = await gm(["score", "lrun", "--data", "ls.csv", "--json", "--backend", "wasm"]);
    expect(sc.stderr).not.toContain("error[");
    expect(sc.code).toBe(0);
    expect(JSON.parse(sc.stdout).n).toBe(30);
  }, 120_000);

  it("D0401 on an idx file does not suggest size, which idx() refuses", async () => {
    writeIdx(dir, "five.idx", [20, 5, 5], new Uint8Array(500));
    write("f.gm", 'model F {\n  x : Bernoulli[4, 4]\n  p(x) = logistic\n  train { data = idx("five.idx") }\n}\n');
    const r = await gm(["train", "f.gm", "--out", "frun", "--backend", "wasm"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'hint: declare the variable with shape [5, 5]; idx data is read at its own size (only images("folder", size = [H, W]) resizes)',
    );
  }, 60_000);
});
