/**
 * Counts in output take the singular for one: "the model has 1 parameter", "1 table of 1 row",
 * "1 held-out example of 1 value", "1 sample", "over 1 image" — where gm used to print
 * "1 parameters" and the like. The compiler's messages and report directly; `gm train`,
 * `gm sample` and `gm score` through `main(argv)` on a one-pixel model trained on five 1×1
 * images (4 train, 1 held out).
 *
 * Before `plural` (src/compiler/count.ts) these printed "the model has 1 parameters", "1 tables of
 * up to 1 rows", "1 Gaussians", "model M, 1 parameters", "1 held-out examples of 1 values", "1
 * samples", "over 1 images". Planted: `plural` returning `many` always; six of the seven tests
 * failed ("expected '1 table of 1 rows' to deeply equal [ '1 table of 1 row' ]", "… to match
 * /: 1 sample from M /", …), only the still-plural E0504 passed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile.js";
import { plural } from "../../src/compiler/count.js";
import { paramsReport } from "../../src/compiler/report.js";
import { initBackend } from "../../src/models/backend";
import { writeIdx } from "../data/helpers";
import { gm, QUIET_WASM, removeDir, tempDir, writeModel } from "../models/run-helpers";
import { join } from "node:path";

describe("plural", () => {
  it("is singular for exactly one, plural otherwise", () => {
    expect(plural(1, "row")).toBe("row");
    expect(plural(1n, "row")).toBe("row");
    for (const n of [0, 2, 1.5, -1, 0n, 2n, 10n ** 300n]) expect(plural(n, "row")).toBe("rows");
    expect(plural(1, "batch", "batches")).toBe("batch");
    expect(plural(3, "batch", "batches")).toBe("batches");
  });
});

describe("the compiler's counts", () => {
  it("a failed `check params` on a one-parameter model says 1 parameter", () => {
    const r = compileText("model Coin {\n  x : Bernoulli\n  p(x) = table\n  check params == 2\n}\n");
    const d = r.diagnostics.find((x) => x.code === "E0504");
    expect(d?.message).toContain("the model has 1 parameter, the claim says 2");
  });

  it("a failed `check params` on two parameters still says parameters", () => {
    const r = compileText("model Die {\n  x : Categorical(3)\n  p(x) = table\n  check params == 1\n}\n");
    expect(r.diagnostics.find((x) => x.code === "E0504")?.message).toContain(
      "the model has 2 parameters, the claim says 1",
    );
  });

  it("`gm params` shapes: one table of one row, one Gaussian; several stay plural", () => {
    const r = compileText(
      "model One {\n  x : Bernoulli[1]\n  p(x) = chain\n}\n" +
        "model Two {\n  x : Bernoulli[2]\n  p(x) = chain\n}\n" +
        "model Mix {\n  latent z : Normal[2]\n  x : Bernoulli[4]\n  p(z) = mixture(k = 1)\n  p(x | z) = mlp(hidden = [4])\n  q(z | x) = mlp(hidden = [4], deterministic)\n  fit reconstruction + adversarial(on = z, critic = mlp(hidden = [4]))\n}\n",
    );
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const shapes = r.models.map((m) => paramsReport(m).rows.map((row) => row.shape));
    expect(shapes[0]).toEqual(["1 table of 1 row"]);
    expect(shapes[1]).toEqual(["2 tables of up to 2 rows"]);
    expect(shapes[2]).toContain("fixed mixture of 1 Gaussian, radius 4");
  });
});

describe("gm train, sample and score on a one-pixel model", () => {
  let dir: string;
  let run: string;
  let trained: { code: number; stderr: string };
  beforeAll(async () => {
    await initBackend("wasm", { threads: 1, quiet: true });
    dir = tempDir("gm-plural-");
    const data = writeIdx(dir, "five.idx", [5, 1, 1], [0, 255, 255, 0, 255]);
    const file = writeModel(dir, "coin.gm", "independent", 1, 1);
    run = join(dir, "run");
    trained = await gm(["train", file, "--out", run, "--data", data, "--epochs", "1", ...QUIET_WASM]);
  });
  afterAll(() => removeDir(dir));

  it("gm train: 1 parameter, 1 held-out example of 1 value", () => {
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toContain("model M, 1 parameter, backend");
    expect(trained.stderr).toMatch(/4 train \/ 1 held-out example of 1 value\n/);
  });

  it("gm sample -n 1: 1 sample", async () => {
    const r = await gm(["sample", run, "-n", "1", "--format", "csv", "-o", join(dir, "one.csv"), "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/: 1 sample from M /);
  });

  it("gm score: over 1 image", async () => {
    const r = await gm(["score", run, "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ over 1 image \(/);
  });
});
