/**
 * Latent-variable models through the built `gm` in child processes, as users run them: a VAE, an
 * AAE and a mixture of Bernoullis trained on tiny labelled data (240 binary 4×4 images of two
 * classes written as IDX files), then `gm score` (nll_kind, elbo_nats, --samples; the AAE says it
 * has no likelihood), `gm embed` (CSV, JSON, --probe, --plot), `gm anomaly` (noise, inverted,
 * JSON keys), `gm sample --manifold`, `--resume` of a VAE in a fresh process, and the errors a
 * user meets (embed on a model without codes, anomaly without --anomalous, a bad -o).
 *
 * "Built": the CLI bundle of `npm run build` (tsup.config.ts's options, its `cli/main` entry),
 * written to node_modules/.cache/gm-latent-test (as tests/cli/process.test.ts does).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, runGm } from "./build-cli";
import { Rng } from "../../src/rng";
import { writeIdx } from "../data/helpers";
import { hasStack, PNG_SIGNATURE, removeDir, tempDir } from "../models/run-helpers";

const root = resolve(import.meta.dirname, "../..");
const outDir = join(root, "node_modules", ".cache", "gm-latent-test");
const GM = join(outDir, "cli", "main.js");
let dir: string;
let data: string;

const gm = (args: string[]) => runGm(GM, args, dir);

const isPng = (file: string) => readFileSync(file).subarray(0, 8).equals(PNG_SIGNATURE);

/** Two classes of 4×4 images: class 0 mostly on in the top half, class 1 in the bottom half. */
function writeData(): string {
  const rng = new Rng(11);
  const n = 240;
  const x = new Uint8Array(n * 16);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let j = 0; j < 16; j++) {
      const top = j < 8;
      const p = (top ? y[i] === 0 : y[i] === 1) ? 0.85 : 0.1;
      x[i * 16 + j] = rng.uniform() < p ? 255 : 0;
    }
  }
  writeIdx(dir, "imgs.idx", [n, 4, 4], x);
  writeIdx(dir, "lbl.idx", [n], y);
  return 'idx("imgs.idx", labels = "lbl.idx", binarize = 0.5)';
}

function writeGm(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `model M {\n${body}\n}\n`);
  return path;
}

const VAE = `  latent z : Normal[2]
  x : Bernoulli[4, 4]
  p(x | z) = mlp(hidden = [12])
  q(z | x) = mlp(hidden = [12])
  fit elbo`;

const AAE = `  latent z : Normal[2]
  x : Bernoulli[4, 4]
  p(z) = mixture(k = 2, radius = 2)
  p(x | z) = mlp(hidden = [12])
  q(z | x) = mlp(hidden = [12], deterministic)
  fit reconstruction + adversarial(on = z, critic = mlp(hidden = [8]))`;

const MIXTURE = `  latent c : Categorical(2)
  x : Bernoulli[4, 4]
  p(c) = table
  for r in 1..4, s in 1..4: p(x[r, s] | c) = table
  fit likelihood`;

beforeAll(async () => {
  dir = tempDir("gm-cli-latent-");
  data = writeData();
  await buildCli(outDir);
}, 240_000);

afterAll(() => removeDir(dir));

const TRAIN = ["--data", "", "--batch", "20", "--backend", "wasm", "-q", "--lr", "0.01"];
const train = (file: string, out: string, epochs: string, extra: string[] = []) => {
  const flags = TRAIN.slice();
  flags[1] = data;
  return gm(["train", file, "--out", out, "--epochs", epochs, ...flags, ...extra]);
};

describe("a VAE through the built gm", () => {
  beforeAll(async () => {
    const r = await train(writeGm("vae.gm", VAE), "vae", "3");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/held-out elbo [\d.]+/);
  }, 240_000);

  it("scores with the IWAE estimate and the ELBO beside it", async () => {
    const r = await gm(["score", "vae", "--json", "--samples", "50", "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.nll_kind).toBe("estimate");
    expect(j.samples).toBe(50);
    expect(j.n).toBe(48);
    // IWAE_50 ≥ ELBO in expectation: the NLL estimate is below −ELBO (up to noise)
    expect(j.nll_nats).toBeLessThan(j.elbo_nats + 0.05);
    const t = await gm(["score", "vae", "--samples", "20", "--backend", "wasm"]);
    expect(t.stdout).toMatch(/NLL estimate \(IWAE, K = 20\) [\d.]+ nats per image/);
    expect(t.stdout).toMatch(/NLL bound \(−ELBO\) [\d.]+ nats per image/);
    expect(t.stdout).toMatch(/falls towards −log p\(x\) as --samples grows/);
  });

  it("embeds: CSV with z1, z2, label; JSON; a probe beside pixels and a random projection; a scatter", async () => {
    const r = await gm(["embed", "vae", "-o", "codes.csv", "--plot", "latent.png", "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(join(dir, "codes.csv"), "utf8").trim().split("\n");
    expect(lines[0]).toBe("z1,z2,label");
    expect(lines.length).toBe(49);
    expect(lines.slice(1).every((l) => /^-?[\d.e-]+,-?[\d.e-]+,[01]$/.test(l))).toBe(true);
    expect(isPng(join(dir, "latent.png"))).toBe(true);
    const j = await gm(["embed", "vae", "-o", "codes.json", "--probe", "--json", "--backend", "wasm"]);
    expect(j.code, j.stderr).toBe(0);
    const out = JSON.parse(j.stdout);
    for (const k of ["codes", "pixels", "random_projection"]) expect(out.probe[k]).toBeGreaterThanOrEqual(0);
    expect(out.probe.pixels).toBeGreaterThan(0.9); // the two classes are linearly separable in pixels
    const codes = JSON.parse(readFileSync(join(dir, "codes.json"), "utf8"));
    expect(codes.dim).toBe(2);
    expect(codes.codes.length).toBe(48);
    expect(codes.labels.length).toBe(48);
  });

  it("detects noise and inverted images; JSON has the issue's keys", async () => {
    const r = await gm([
      "anomaly",
      "vae",
      "--anomalous",
      "noise",
      "--json",
      "--samples",
      "10",
      "--backend",
      "wasm",
      "--plot",
      "scores.png",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ["score", "auroc", "auprc", "fpr_at_95_tpr", "n_normal", "n_anomalous"])
      expect(j).toHaveProperty(k);
    expect(j.score).toMatch(/IWAE estimate/);
    expect(j.n_normal).toBe(48);
    expect(j.auroc).toBeGreaterThan(0.8);
    expect(isPng(join(dir, "scores.png"))).toBe(true);
    // (inverted images of these two classes look like the other class: no AUROC is claimed)
    const t = await gm(["anomaly", "vae", "--anomalous", "inverted", "--samples", "10", "--backend", "wasm"]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/vs inverted /);
    expect(t.stdout).toMatch(/AUROC [\d.]+ {3}AUPRC [\d.]+ {3}FPR at 95 % TPR [\d.]+/);
  });

  it("draws the decoder over a grid of a 2-D latent", async () => {
    const r = await gm(["sample", "vae", "--manifold", "6", "-o", "manifold.png", "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(0);
    expect(isPng(join(dir, "manifold.png"))).toBe(true);
  });

  it("resumes in a fresh process and continues the epochs", async () => {
    const first = await train(join(dir, "vae.gm"), "vae-resume", "1");
    expect(first.code, first.stderr).toBe(0);
    const again = await train(join(dir, "vae.gm"), "vae-resume", "2", ["--resume"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/epoch 2: /);
    expect(again.stderr).not.toMatch(/epoch 1: /);
  }, 120_000);
});

describe("an AAE and a mixture through the built gm", () => {
  it("an AAE trains its three steps and scores as minus the reconstruction error, saying it has no likelihood", async () => {
    const r = await train(writeGm("aae.gm", AAE), "aae", "2");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/train reconstruction [\d.]+/);
    expect(r.stderr).toMatch(/critic [\d.]+/);
    expect(r.stderr).toMatch(/generator [\d.]+/);
    const s = await gm(["score", "aae", "--json", "--backend", "wasm"]);
    expect(s.code, s.stderr).toBe(0);
    const j = JSON.parse(s.stdout);
    expect(j.nll_nats).toBeNull();
    expect(j.kind).toBe("reconstruction");
    expect(j.reconstruction_nats).toBeGreaterThan(0);
    const t = await gm(["score", "aae", "--backend", "wasm"]);
    expect(t.stdout).toMatch(/an AAE has no likelihood/);
  }, 120_000);

  it("a mixture of Bernoullis trains by EM, scores exactly and embeds its posterior", async () => {
    const r = await train(writeGm("mix.gm", MIXTURE), "mix", "1");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/by EM over 2 latent values/);
    const s = await gm(["score", "mix", "--json", "--backend", "wasm"]);
    const j = JSON.parse(s.stdout);
    expect(j.nll_kind).toBe("exact");
    const e = await gm(["embed", "mix", "--probe", "--json", "--backend", "wasm"]);
    expect(e.code, e.stderr).toBe(0);
    const out = JSON.parse(e.stdout);
    expect(out.dim).toBe(2);
    expect(out.probe.codes).toBeGreaterThan(0.9); // the posterior over c separates the two classes
  }, 120_000);

  it("says what is wrong, with a code and no stack", async () => {
    const nade = writeGm("nade.gm", "  x : Bernoulli[4, 4]\n  p(x) = independent");
    const t = await train(nade, "ind", "1");
    expect(t.code, t.stderr).toBe(0);
    const e = await gm(["embed", "ind", "--probe", "--backend", "wasm"]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/error\[M0103\]: model M has no code/);
    expect(hasStack(e.stderr)).toBe(false);
    // anomaly detection works for explicit models too, with their exact log-likelihood
    const ok = await gm(["anomaly", "ind", "--anomalous", "noise", "--json", "--backend", "wasm"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).score).toBe("exact log-likelihood");
    const a = await gm(["anomaly", "ind"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/needs --anomalous/);
    const o = await gm(["embed", "ind", "-o", "codes.txt"]);
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/\.csv or a \.json/);
    const m = await gm(["sample", "ind", "--manifold", "5", "--backend", "wasm"]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/error\[M0103\]/);
    expect(existsSync(join(dir, "ind", "manifold.png"))).toBe(false);
  }, 120_000);
});
