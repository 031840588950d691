/**
 * `fit elbo + adversarial(on = z, critic = mlp(..))` through the built `gm` in a child process,
 * as users run it: `gm params` counts the critic, `gm train` on tiny binary 4×4 data trains the
 * three steps (exit 0; history.json has `elbo`, `critic` and `generator` every epoch, and the
 * checkpoint an Adam per step), `--resume` continues it in a fresh process with the
 * uninterrupted run's weights and optimizer bytes, `gm score --json`
 * scores it as a VAE (`nll_kind: "estimate"`, an `elbo_nats`), `gm sample` writes a PNG,
 * `gm embed` gives 2-D codes and `gm anomaly` scores with the IWAE estimate.
 *
 * "Built": the CLI bundle of `npm run build` (tsup.config.ts's options, its `cli/main` entry),
 * written to node_modules/.cache/gm-vae-adversarial-test.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "./build-cli";
import { Rng } from "../../src/rng";
import { writeIdx } from "../data/helpers";
import { PNG_SIGNATURE, removeDir, runFile, tempDir } from "../models/run-helpers";

const root = resolve(import.meta.dirname, "../..");
const outDir = join(root, "node_modules", ".cache", "gm-vae-adversarial-test");
const GM = join(outDir, "cli", "main.js");
let dir: string;

const execGm = promisify(execFile);

/** Runs the built gm in a child process; its exit code (0 or the failure's), stdout and stderr. */
async function gm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env, NO_COLOR: "1", GM_WASM_THREADS: "1" };
  try {
    return { code: 0, ...(await execGm(process.execPath, [GM, ...args], { cwd: dir, env })) };
  } catch (e) {
    const failed = e as { code?: unknown; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === "number" ? failed.code : null,
      stdout: failed.stdout ?? "",
      stderr: failed.stderr ?? "",
    };
  }
}

/** 200 binary 4×4 images of two classes (top half on, or bottom half on), as IDX files. */
function writeData(): string {
  const rng = new Rng(5);
  const n = 200;
  const x = new Uint8Array(n * 16);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < 16; j++) x[i * 16 + j] = rng.uniform() < (j < 8 === (i % 2 === 0) ? 0.85 : 0.1) ? 255 : 0;
  writeIdx(dir, "imgs.idx", [n, 4, 4], x);
  return 'idx("imgs.idx", binarize = 0.5)';
}

/** The bytes of one step's optimizer state in a run (`optimizer-STEP-NNNNNN.bin`). */
function optimizerFile(run: string, step: string): Buffer {
  const files = readdirSync(run).filter((f) => new RegExp(`^optimizer-${step}-\\d{6,}\\.bin$`).test(f));
  expect(files, `${run}: optimizer files of step ${step}`).toHaveLength(1);
  return readFileSync(join(run, files[0]));
}

const MODEL = `model M {
  latent z : Normal[2]
  x : Bernoulli[4, 4]
  p(x | z) = mlp(hidden = [8])
  q(z | x) = mlp(hidden = [8])
  fit elbo + adversarial(on = z, critic = mlp(hidden = [8]))
}
`;

beforeAll(async () => {
  dir = tempDir("gm-cli-vae-adv-");
  await buildCli(outDir);
}, 240_000);

afterAll(() => removeDir(dir));

describe("a VAE with a critic on z through the built gm", () => {
  it("counts the critic, trains the three steps, resumes, scores as a VAE, samples and embeds", async () => {
    const data = writeData();
    writeFileSync(join(dir, "va.gm"), MODEL);
    // the compiler's count: decoder 2→8→16, encoder 16→8→4, critic 2→8→1
    const p = await gm(["params", "va.gm", "--json"]);
    expect(p.code, p.stderr).toBe(0);
    const count = 2 * 8 + 8 + 8 * 16 + 16 + (16 * 8 + 8 + 8 * 4 + 4) + (2 * 8 + 8 + 8 + 1);
    expect(p.stdout).toContain(String(count));

    const flags = ["--data", data, "--batch", "20", "--backend", "wasm", "-q", "--lr", "0.01", "--out", "va"];
    const t = await gm(["train", "va.gm", "--epochs", "1", ...flags]);
    expect(t.code, t.stderr).toBe(0);
    const r = await gm(["train", "va.gm", "--epochs", "2", "--resume", ...flags]);
    expect(r.code, r.stderr).toBe(0);
    const history = JSON.parse(readFileSync(join(dir, "va", "history.json"), "utf8")) as {
      epoch: number;
      train: Record<string, number>;
      test: Record<string, number>;
    }[];
    expect(history.map((h) => h.epoch)).toEqual([1, 2]);
    for (const h of history) {
      for (const k of ["elbo", "critic", "generator"]) expect(Number.isFinite(h.train[k]), k).toBe(true);
      for (const k of ["elbo", "kl", "reconstruction", "critic", "mmd"])
        expect(Number.isFinite(h.test[k]), k).toBe(true);
    }

    // each step's Adam is in the checkpoint under the step's name, and restored on --resume:
    // 1 epoch + 1 resumed epoch gives the uninterrupted run's weights and optimizer bytes
    const meta = JSON.parse(readFileSync(join(dir, "va", "model.json"), "utf8")).userDefinedMetadata.gm;
    expect(Object.keys(meta.optimizers).sort()).toEqual(["critic", "elbo", "generator"]);
    const full = await gm(["train", "va.gm", "--epochs", "2", ...flags.slice(0, -1), "va-full"]);
    expect(full.code, full.stderr).toBe(0);
    expect(runFile(join(dir, "va"), "weights").equals(runFile(join(dir, "va-full"), "weights"))).toBe(true);
    for (const step of ["elbo", "critic", "generator"])
      expect(optimizerFile(join(dir, "va"), step).equals(optimizerFile(join(dir, "va-full"), step)), step).toBe(true);

    const s = await gm(["score", "va", "--json", "--samples", "20", "--backend", "wasm"]);
    expect(s.code, s.stderr).toBe(0);
    const j = JSON.parse(s.stdout);
    expect(j.nll_kind).toBe("estimate");
    expect(j.elbo_nats).toBeGreaterThan(0);
    expect(j.nll_nats).toBeGreaterThan(0);
    expect(j.nll_nats).toBeLessThan(j.elbo_nats + 0.1); // IWAE_20 ≥ ELBO, up to noise

    const g = await gm(["sample", "va", "-n", "16", "-o", "grid.png", "--backend", "wasm"]);
    expect(g.code, g.stderr).toBe(0);
    expect(readFileSync(join(dir, "grid.png")).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);

    const e = await gm(["embed", "va", "--data", data, "-o", "codes.csv", "--backend", "wasm"]);
    expect(e.code, e.stderr).toBe(0);
    expect(readFileSync(join(dir, "codes.csv"), "utf8").split("\n")[0]).toBe("z1,z2");

    const a = await gm([
      "anomaly",
      "va",
      "--normal",
      data,
      "--anomalous",
      "noise",
      "--json",
      "--samples",
      "5",
      "--backend",
      "wasm",
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout).score).toMatch(/IWAE estimate/);
  }, 240_000);
});
