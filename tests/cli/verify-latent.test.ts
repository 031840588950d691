/**
 * `gm verify` on latent-variable models, as users run it: the built `gm` (tests/cli/build-cli.ts,
 * the bundle of `npm run build`) in a child process.
 *
 * - a tiny VAE (`fit elbo`, 2-D code: log p(x) integrated on the grid), a tiny `fit iwae(k = 3)`
 *   with a 3-D code (log p(x) not integrated, said so) and a tiny VAE with a critic on z: bounds,
 *   monotone and KL pass, exit 0, and the output says what was checked (K, draws, inputs, grid);
 * - an AAE (no likelihood) and a GAN stay skipped with their reason, exit 0;
 * - a broken VAE fails with exit 1: the source CLI (`node --import tsx src/cli/main.ts`, the same
 *   code as the bundle) with a module imported first that plants a KL of the wrong sign in
 *   `Vae.prototype.terms` (an .mts file: a .ts outside the package would load as CommonJS and patch a
 *   second copy of the module) — bounds and KL print FAILED with their numbers; monotone (which never
 *   reads the KL) passes. Without the planted module the same command exits 0 (checked below), so
 *   the failure is the plant's.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "./build-cli";
import { removeDir, tempDir } from "../models/run-helpers";

const root = resolve(import.meta.dirname, "../..");
const outDir = join(root, "node_modules", ".cache", "gm-verify-latent-test");
const GM = join(outDir, "cli", "main.js");
let dir: string;

const env = { ...process.env, NO_COLOR: "1" };

/** Runs the built gm (or, with `node` flags, the source CLI) and returns exit code and output. */
function run(args: string[], nodeArgs: string[] = [GM]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...nodeArgs, ...args], { cwd: root, env, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const vaeText = (d: number, fit: string) => `model Tiny {
  latent z : Normal[${d}]
  x : Bernoulli[2, 3]
  p(x | z) = mlp(hidden = [5])
  q(z | x) = mlp(hidden = [5])
  fit ${fit}
}
`;

beforeAll(async () => {
  dir = tempDir("gm-cli-verify-latent-");
  await buildCli(outDir);
}, 240_000);

afterAll(() => removeDir(dir));

describe("gm verify on latent models (the built gm)", () => {
  it("a tiny VAE: bounds, monotone and KL pass, exit 0, with what was checked", () => {
    const file = join(dir, "vae.gm");
    writeFileSync(file, vaeText(2, "elbo"));
    const r = run(["verify", file, "--seed", "3", "--backend", "wasm"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("model Tiny");
    expect(r.stdout).toMatch(
      /passed\s+bounds: ELBO ≤ IWAE_16 ≤ log p\(x\) within 4 standard errors, 200 draws each, 3 random inputs; log p\(x\) on a 129 × 129 grid over \[−8, 8\]²/,
    );
    expect(r.stdout).toMatch(/passed\s+monotone: .*K = 1, 4, 16/);
    expect(r.stdout).toMatch(/passed\s+KL: .*from 4000 samples/);
    expect(r.stdout).not.toMatch(/FAILED|skipped/);
    // --runs bounds the inputs
    const one = run(["verify", file, "--runs", "1", "--backend", "wasm"]);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(one.stdout).toContain("1 random input;");
  }, 120_000);

  it("iwae(k) with a 3-D code and a VAE with a critic on z: passes; above d = 2 log p(x) is not integrated, said so", () => {
    const iwae = join(dir, "iwae.gm");
    writeFileSync(iwae, vaeText(3, "iwae(k = 3)"));
    const r = run(["verify", iwae, "--runs", "2", "--backend", "wasm"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /passed\s+bounds: ELBO ≤ IWAE_16 within .*log p\(x\) is not integrated above d = 2 \(d = 3\): ELBO ≤ IWAE_16 only/,
    );
    const adv = join(dir, "adv.gm");
    writeFileSync(adv, vaeText(2, "elbo + adversarial(on = z, critic = mlp(hidden = [4]))"));
    const a = run(["verify", adv, "--runs", "2", "--backend", "wasm"]);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    for (const p of ["bounds", "monotone", "KL"]) expect(a.stdout).toMatch(new RegExp(`passed\\s+${p}:`));
  }, 120_000);

  it("an AAE and a GAN stay skipped with their reason, exit 0", () => {
    const aae = run(["verify", join(root, "examples/13-aae.gm"), "--runs", "1", "--backend", "wasm"]);
    expect(aae.code, aae.stdout + aae.stderr).toBe(0);
    expect(aae.stdout).toMatch(/skipped: .*model Aae is a latent-variable model without a likelihood bound/);
    const gan = run(["verify", join(root, "examples/14-gan.gm"), "--runs", "1", "--backend", "wasm"]);
    expect(gan.code, gan.stdout + gan.stderr).toBe(0);
    expect(gan.stdout).toMatch(/skipped: an implicit model has no density to verify/);
  }, 120_000);

  it("a VAE with a planted KL of the wrong sign: bounds and KL FAILED with their numbers, exit 1", () => {
    const file = join(dir, "vae.gm");
    writeFileSync(file, vaeText(2, "elbo"));
    const plant = join(dir, "plant-kl-sign.mts");
    writeFileSync(
      plant,
      `import { Vae } from ${JSON.stringify(join(root, "src/models/vae.ts"))};
const terms = Vae.prototype.terms;
Vae.prototype.terms = function (x, eps) {
  const t = terms.call(this, x, eps);
  return { ...t, kl: t.kl.neg() };
};
`,
    );
    const source = ["--import", "tsx", join(root, "src/cli/main.ts")];
    const clean = run(["verify", file, "--runs", "1", "--backend", "wasm"], source);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    const r = run(
      ["verify", file, "--runs", "1", "--backend", "wasm"],
      ["--import", "tsx", "--import", plant, ...source.slice(2)],
    );
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAILED\s+bounds: input 1: ELBO -?\d+\.\d+ ± \S+ above IWAE_16 -?\d+\.\d+/);
    expect(r.stdout).toMatch(/FAILED\s+KL: input 1: closed form -\d+\.\d+, Monte Carlo \d+\.\d+/);
    expect(r.stdout).toMatch(/passed\s+monotone:/);
  }, 120_000);
});
