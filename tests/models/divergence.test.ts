/**
 * Divergence for every family (src/models/divergence.ts): an AAE and a GAN at `--lr 1e6` end with
 * R0101, both in their first epoch (nothing written, the directory free again) and after a good
 * epoch (that checkpoint kept, byte for byte, and still usable), and a normal learning rate does
 * not count. Before every step had a `divergeAbove`, only non-finite losses stopped a run: an AAE at
 * `--lr 1e6` and an MLP GAN exited 0 with losses of ~1e13 (without the bounds, the R0101
 * expectations below fail with exit 0; checked by removing the `divergeAbove` lines of aae.ts and
 * gan.ts: the four `--lr 1e6` tests failed with `expected +0 to be 1` (exit 0) and the step check
 * with `A: reconstruction: expected false to be true`; the normal-rate tests passed).
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile";
import { adversarialDivergence, elementBaseline, likelihoodDivergence } from "../../src/models/divergence";
import { buildModel } from "../../src/models/registry";
import { initBackend } from "../../src/models/backend";
import {
  TINY_AAE as AAE,
  TINY_GAN as GAN,
  gm,
  hasStack,
  modelJson,
  QUIET_WASM,
  removeDir,
  runFile,
  tempDir,
  writeBinaryIdx,
} from "./run-helpers";

let dir: string;
let data: string;
let aae: string;
let gan: string;

const DCGAN = `model D {
  latent z : Normal[4]
  x : Real(0, 1)[4, 4]
  x = generator(z) by dcgan(base = 4)
  fit adversarial(critic = dcgan(base = 4))
}
`;
const VAE_ADV = `model V {
  latent z : Normal[2]
  x : Bernoulli[4, 4]
  p(x | z) = mlp(hidden = [8])
  q(z | x) = mlp(hidden = [8])
  fit elbo + adversarial(on = z, critic = mlp(hidden = [4]))
}
`;
let dcgan: string;

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
  dir = tempDir("gm-diverge-");
  data = writeBinaryIdx(dir, "train-4x4.idx", 200, 4, 4);
  aae = join(dir, "aae.gm");
  writeFileSync(aae, AAE);
  gan = join(dir, "gan.gm");
  writeFileSync(gan, GAN);
  dcgan = join(dir, "dcgan.gm");
  writeFileSync(dcgan, DCGAN);
});

afterAll(() => removeDir(dir));

const train = (file: string, out: string, ...flags: string[]) =>
  gm(["train", file, "--data", data, "--out", out, "--batch", "50", ...QUIET_WASM, ...flags]);

describe("the bounds", () => {
  it("a likelihood-like loss: 100 × the uninformed baseline of the elements", () => {
    const ir = compileText(AAE, "aae.gm").models[0]!;
    const x = ir.variables.filter((v) => !v.latent);
    // 16 binary pixels: 16 ln 2 nats per image.
    expect(likelihoodDivergence(ir, x)).toBeCloseTo(100 * 16 * Math.LN2, 6);
    expect(elementBaseline({ kind: "categorical", k: 256 })).toBeCloseTo(Math.log(256), 12);
    // A Gaussian's worst case over a Real(0, 10) range is above the uniform density's ln 10.
    expect(elementBaseline({ kind: "real", lo: 0, hi: 10 })).toBeGreaterThan(50);
    // An observed Normal value has no range (no bound but a non-finite loss); a latent one adds 1.
    expect(elementBaseline({ kind: "normal" })).toBe(Infinity);
    expect(elementBaseline({ kind: "normal" }, true)).toBe(1);
    const vae = compileText(VAE_ADV, "v.gm").models[0]!;
    expect(likelihoodDivergence(vae)).toBeCloseTo(100 * (16 * Math.LN2 + 2), 6);
  });

  it("an adversarial loss: softplus of a ±500 logit per term, far above chance (2 ln 2)", () => {
    expect(adversarialDivergence(2)).toBeCloseTo(1000, 6);
    expect(adversarialDivergence(1)).toBeGreaterThan(100 * 2 * Math.LN2);
  });

  it("every gradient step of an AAE, a GAN, a DCGAN and a VAE + adversarial has a finite divergeAbove", () => {
    for (const text of [AAE, GAN, DCGAN, VAE_ADV]) {
      const ir = compileText(text, "m.gm").models[0]!;
      const m = buildModel(ir, { seed: 1 });
      try {
        const steps = m.objective({ lr: 1e-3 }).steps;
        expect(steps.length).toBeGreaterThan(1);
        for (const s of steps) expect(Number.isFinite(s.divergeAbove), `${ir.name}: ${s.name}`).toBe(true);
      } finally {
        m.dispose();
      }
    }
  });
});

describe.each([
  ["AAE", () => aae],
  ["GAN", () => gan],
] as const)("%s at --lr 1e6", (name, file) => {
  it("in epoch 1: exit 1 with R0101, no checkpoint written, the directory free again", async () => {
    const out = join(dir, `first-${name}`);
    const r = await train(file(), out, "--epochs", "2", "--lr", "1e6");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error\[R0101\]: training diverged at epoch 1, batch \d+: the \w+ loss is /m);
    expect(r.stderr).toContain("no checkpoint was written");
    expect(hasStack(r.stderr)).toBe(false);
    expect(existsSync(join(out, "model.json"))).toBe(false);
  });

  it("after a good epoch: R0101 in epoch 2, the epoch-1 checkpoint kept and still samples", async () => {
    const out = join(dir, `later-${name}`);
    const ok = await train(file(), out, "--epochs", "1", "--lr", "1e-3");
    expect(ok.code, ok.stderr).toBe(0);
    const before = runFile(out, "weights");
    const j = modelJson(out);
    j.userDefinedMetadata.gm.settings.lr = 1e6;
    writeFileSync(join(out, "model.json"), JSON.stringify(j));
    const r = await train(file(), out, "--epochs", "3", "--resume");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error\[R0101\]: training diverged at epoch 2, batch \d+/);
    expect(r.stderr).toContain(`the last good checkpoint (epoch 1) is kept in ${out}`);
    expect(runFile(out, "weights").equals(before)).toBe(true);
    expect(modelJson(out).userDefinedMetadata.gm.epoch).toBe(1);
    const s = await gm(["sample", out, "-n", "4", "--format", "csv", "--backend", "wasm"]);
    expect(s.code, s.stderr).toBe(0);
  });
});

describe("a DCGAN at --lr 1e6", () => {
  it("ends with R0101 in epoch 1 (it exited 0 with losses of ~1e13)", async () => {
    const r = await train(dcgan, join(dir, "first-DCGAN"), "--epochs", "2", "--lr", "1e6");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error\[R0101\]: training diverged at epoch 1, batch \d+: the \w+ loss is /m);
  });
});

describe("a normal learning rate is not divergence", () => {
  it.each([
    ["AAE", () => aae],
    ["GAN", () => gan],
  ] as const)("%s at --lr 1e-2 for 3 epochs trains to the end", async (name, file) => {
    const r = await train(file(), join(dir, `ok-${name}`), "--epochs", "3", "--lr", "1e-2");
    expect(r.code, r.stderr).toBe(0);
  });
});
