/**
 * The built `gm factor` (plain, `--steps`, `--latex`) in child processes, as users run it, on the
 * models it got wrong or could not finish: `mlp` conditionals under `for` printed as `p(x[2..5])`
 * (their conditions dropped), and a 200×200 chain took 12.8 s (1000×1000 ran past 30 s) because
 * the printer walked every edge. Timeouts are generous (60 s per command): these tests check the
 * output, never the time; tests/compiler/notation.test.ts counts the parent walks (none).
 *
 * "Built": the CLI bundle of `npm run build` (tsup.config.ts's options, its `cli/main` entry),
 * written to node_modules/.cache so that a concurrent `npm run build` never trips over it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, runGmSync } from "./build-cli";

const root = resolve(import.meta.dirname, "../..");
const outDir = join(root, "node_modules", ".cache", "gm-factor-test");
const GM = join(outDir, "cli", "main.js");
let dir: string;

/** Runs the built gm to the end (killed after 60 s). */
const gm = (args: string[]) => runGmSync(GM, args, dir);

const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(async () => {
  await buildCli(outDir);
  dir = mkdtempSync(join(tmpdir(), "gm-factor-"));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("gm factor (built, child process)", () => {
  const MLP_FOR =
    "model M {\n  x : Bernoulli[5]\n  p(x[1]) = table\n  for i in 2..5: p(x[i] | x[i-1]) = mlp(hidden = [4])\n}\n";

  it("mlp conditionals under `for` print their conditions, in every form", () => {
    const f = write("mlp-for.gm", MLP_FOR);
    const plain = gm(["factor", f]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe("model M\np(x) = p(x₁) ∏_{i=2}^{5} p(x_i | x_{i−1})\n");
    const latex = gm(["factor", "--latex", f]);
    expect(latex.stdout).toBe("p(x) = p(x_{1}) \\prod_{i=2}^{5} p(x_{i} \\mid x_{i-1})\n");
    const steps = gm(["factor", "--steps", f]);
    expect(steps.stdout).toBe(
      "model M\n  (no assumption removed a parent)\n  result:\n  p(x) = p(x₁) ∏_{i=2}^{5} p(x_i | x_{i−1})\n",
    );
  }, 90_000);

  it("a VAE prints its encoder's line after the factorization", () => {
    const f = write(
      "vae.gm",
      "model V {\n  latent z : Normal[4]\n  x : Bernoulli[3, 3]\n  p(x | z) = mlp(hidden = [8])\n  q(z | x) = mlp(hidden = [8])\n  fit elbo\n}\n",
    );
    const r = gm(["factor", f]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "model V\np(z, x) = ∏_{i=1}^{4} p(z_i) · ∏_{r=1}^{3} ∏_{c=1}^{3} p(x_{r,c} | z)\nq(z | x) = ∏_{i=1}^{4} q(z_i | x)\n",
    );
  }, 90_000);

  const big: Array<[string, string]> = [
    ["chain", "∏_{j=1}^{1000000} p(x_{(j)} | x_{(<j)})"],
    ["markov(k = 1)", "p(x_{(1)}) ∏_{j=2}^{1000000} p(x_{(j)} | x_{(j−1)})"],
    ["independent", "∏_{r=1}^{1000} ∏_{c=1}^{1000} p(x_{r,c})"],
    ["joint", "p(x)   (one table over every outcome: no factorization)"],
  ];
  it.each(big)(
    "p(x) = %s over 1000×1000: plain, --steps and --latex print a closed form",
    (family, closed) => {
      const f = write(
        `big-${family.replace(/\W/g, "")}.gm`,
        `model M {\n  x : Bernoulli[1000, 1000]\n  p(x) = ${family}\n}\n`,
      );
      const plain = gm(["factor", f]);
      expect(plain.signal).toBeNull();
      expect(plain.code).toBe(0);
      expect(plain.stdout.split("\n")[1].startsWith(`p(x) = ${closed}`)).toBe(true);
      const steps = gm(["factor", "--steps", f]);
      expect(steps.code).toBe(0);
      expect(steps.stdout).toContain(`  p(x) = ${closed}`);
      const latex = gm(["factor", "--latex", f]);
      expect(latex.code).toBe(0);
      expect(latex.stdout.length).toBeLessThan(200);
      expect(latex.stdout).toMatch(/^p\(x\) = /);
    },
    180_000,
  );
});
