/**
 * A GAN through `gm` as a user runs it: a `Real(-2, 2)[2]` model trained on a CSV of points
 * (`data = csv("points.csv")` resolved beside the .gm file), a sample grid kept per epoch
 * (`samples-epoch-NNN.png`), both losses on the curve, `gm score` explaining that a GAN has no
 * likelihood (and giving its critic's mean score), `gm sample --format csv|json` writing numbers in
 * range that read back as data, and a resumed run continuing the two optimizers.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../src/data/csv";
import { Rng } from "../../src/rng";
import { gm, PNG_SIGNATURE, QUIET_WASM, removeDir, tempDir } from "../models/run-helpers";

let dir: string;
const GAN = `model Points {
  latent z : Normal[2]
  x : Real(-2, 2)[2]
  x = generator(z) by mlp(hidden = [8])
  fit adversarial(critic = mlp(hidden = [8]))

  train {
    data = csv("points.csv")
    epochs = 2
    batch = 32
    lr = 1e-3
    seed = 1
  }
}
`;

beforeAll(() => {
  dir = tempDir("gm-gan-");
  const rng = new Rng(5);
  const rows = Array.from(
    { length: 200 },
    () => `${(rng.normal() * 0.3 + 1).toFixed(4)},${(rng.normal() * 0.3 - 1).toFixed(4)}`,
  );
  writeFileSync(join(dir, "points.csv"), `x,y\n${rows.join("\n")}\n`);
  writeFileSync(join(dir, "points.gm"), GAN);
});
afterAll(() => removeDir(dir));

describe("gm train / sample / score on a GAN", () => {
  it("trains on CSV points, keeping a sample grid per epoch and both losses", async () => {
    const run = join(dir, "run");
    const r = await gm(["train", join(dir, "points.gm"), "--out", run, ...QUIET_WASM]);
    expect(r.code).toBe(0);
    for (const e of ["001", "002"])
      expect(readFileSync(join(run, `samples-epoch-${e}.png`)).subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const history = JSON.parse(readFileSync(join(run, "history.json"), "utf8")) as
      { history?: Array<{ train: Record<string, number> }> } | Array<{ train: Record<string, number> }>;
    const epochs = Array.isArray(history) ? history : history.history!;
    expect(Object.keys(epochs[0].train).sort()).toEqual(["critic", "generator"]);
    expect(
      existsSync(join(run, "optimizer-critic-000002.bin")) && existsSync(join(run, "optimizer-generator-000002.bin")),
    ).toBe(true);
  });

  it("gm score explains that a GAN has no likelihood and gives the critic's mean score instead", async () => {
    const r = await gm(["score", join(dir, "run"), "--backend", "wasm"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/critic mean score \(not a likelihood\)/);
    expect(r.stdout).toMatch(/implicit model: it defines no likelihood/);
  });

  it("gm sample --format csv writes numbers in [-2, 2] that read back as data; json too", async () => {
    const csv = join(dir, "gen.csv");
    const r = await gm(["sample", join(dir, "run"), "-n", "50", "--format", "csv", "-o", csv, "--backend", "wasm"]);
    expect(r.code).toBe(0);
    const ds = parseCsv(readFileSync(csv, "utf8"), csv);
    expect(ds.n).toBe(50);
    expect(ds.shape).toEqual([2]);
    expect(readFileSync(csv, "utf8").split("\n")[0]).toBe("x_1,x_2");
    expect(ds.x.every((v) => v >= -2 && v <= 2)).toBe(true);
    const js = join(dir, "gen.json");
    expect(
      (await gm(["sample", join(dir, "run"), "-n", "3", "--format", "json", "-o", js, "--backend", "wasm"])).code,
    ).toBe(0);
    const parsed = JSON.parse(readFileSync(js, "utf8")) as { columns: string[]; samples: number[][] };
    expect(parsed.columns).toEqual(["x_1", "x_2"]);
    expect(parsed.samples).toHaveLength(3);
    // the same seed gives the same samples in either format
    expect(parsed.samples[0][0]).toBeCloseTo(ds.x[0], 5);
  });

  it("resumes to more epochs with both optimizers", async () => {
    const r = await gm([
      "train",
      join(dir, "points.gm"),
      "--out",
      join(dir, "run"),
      "--resume",
      "--epochs",
      "3",
      ...QUIET_WASM,
    ]);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "run", "samples-epoch-003.png"))).toBe(true);
  });
});
