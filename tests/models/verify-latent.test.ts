/**
 * `verifyVae` and `verifyIr` on latent-variable models (src/models/verify.ts): the VAE's three
 * properties — bounds (ELBO ≤ IWAE_K ≤ log p(x), log p(x) on a grid for d ≤ 2), monotone (mean
 * IWAE_K does not decrease in K = 1, 4, 16), KL (closed form = Monte Carlo) — pass on tiny random
 * VAEs (fast-check: 1–3 latent dimensions, 3–8 pixels of Bernoulli, Categorical(3) or Real(0, 1),
 * 3–5 hidden units, weights of scale 0.5–3) and on a VAE with a critic on z; an AAE and a GAN stay
 * skipped with their reason.
 *
 * Planted bugs, as subclasses of `Vae` (kept here as tests: each property must keep failing;
 * the figures are those of the cases below, seed as written):
 * - KL with the wrong sign (`kl` → `−kl` in `terms`): the fast-check property fails on its first
 *   run (shrunk to d = 1, n = 3, scale 0.5: "bounds: input 1: ELBO −2.4452 ± 5.3e-3 above IWAE_16
 *   −2.4774 ± 1.5e-3" and "KL: input 1: closed form −0.0187, Monte Carlo 0.0202 ± 3.0e-3"); on the
 *   fixed d = 2 case bounds fails ("ELBO 80.8692 above IWAE_16 −167.2531") and KL fails ("closed
 *   form −124.5408, Monte Carlo 124.5466 ± 1.8e-2").
 * - the IWAE estimate without its −log K (`score` adds log K to every value): bounds fails with
 *   IWAE_16 above the integrated log p(x) ("IWAE_16 0.4111 ± 4.1e-2 above log p(x) = −2.1955", d = 2;
 *   "IWAE_16 −0.6565 above −3.0889", d = 1); KL passes.
 * - the IWAE estimate as the smallest log-weight instead of their log-mean-exp (`score`
 *   recomputes the values from `terms`): monotone fails ("IWAE_4 −169.1361 below IWAE_1
 *   −168.3139", "IWAE_16 −169.3534 below IWAE_4"); KL passes.
 */
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/models/backend";
import type { ScoreOptions, ScoreResult } from "../../src/models/model";
import { type ImportanceTerms, Vae } from "../../src/models/vae";
import { type PropertyResult, verifyIr, verifyVae } from "../../src/models/verify";
import { Rng } from "../../src/rng";
import { compileFirst as compile, drawTinyVaeWeights } from "./gen";

const RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 15);

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
});

type Domain = "Bernoulli" | "Categorical(3)" | "Real(0, 1)";

interface Tiny {
  d: number;
  n: number;
  h: number;
  scale: number;
  seed: number;
  domain: Domain;
}

const tinyArb = (maxD = 3): fc.Arbitrary<Tiny> =>
  fc.record({
    d: fc.integer({ min: 1, max: maxD }),
    n: fc.integer({ min: 3, max: 8 }),
    h: fc.integer({ min: 3, max: 5 }),
    scale: fc.constantFrom(0.5, 1, 3),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    domain: fc.constantFrom<Domain>("Bernoulli", "Bernoulli", "Categorical(3)", "Real(0, 1)"),
  });

function tinyText(t: Pick<Tiny, "d" | "n" | "h"> & { domain?: Domain }, fit = "elbo"): string {
  return `model T {
    latent z : Normal[${t.d}]
    x : ${t.domain ?? "Bernoulli"}[${t.n}]
    p(x | z) = mlp(hidden = [${t.h}])
    q(z | x) = mlp(hidden = [${t.h}])
    fit ${fit}
  }`;
}

/** KL with the wrong sign. */
class WrongSignKl extends Vae {
  override terms(x: tf.Tensor2D, eps: tf.Tensor3D): ImportanceTerms {
    const t = super.terms(x, eps);
    const kl = tf.neg(t.kl) as tf.Tensor1D;
    t.kl.dispose();
    return { ...t, kl };
  }
}

/** The IWAE estimate without its −log K. */
class IwaeWithoutLogK extends Vae {
  override score(x: Float32Array, n: number, options: ScoreOptions = {}): ScoreResult {
    const r = super.score(x, n, options);
    const K = options.samples ?? 1000;
    return { ...r, values: r.values.map((v) => v + Math.log(K)) };
  }
}

/** The IWAE estimate as the smallest log-weight (decreases in K). */
class IwaeMin extends Vae {
  override score(x: Float32Array, n: number, options: ScoreOptions = {}): ScoreResult {
    const r = super.score(x, n, options);
    const K = options.samples ?? 1000;
    const min = tf.tidy(() => {
      const t = this.terms(tf.tensor2d(x, [n, this.dim]), this.noise(K, n, options.seed ?? 1));
      return tf.min(t.logWeights, 0);
    });
    const values = Float64Array.from(min.dataSync());
    min.dispose();
    return { ...r, values };
  }
}

type VaeClass = new (ir: ReturnType<typeof compile>, seed: number) => Vae;

/** A tiny VAE of class `C` with random weights (normal, `scale`; the encoder's at most 1). */
function withTiny<T>(t: Tiny, C: VaeClass, fn: (vae: Vae) => T): T {
  const vae = new C(compile(tinyText(t)), t.seed);
  try {
    drawTinyVaeWeights(vae, new Rng(t.seed), t.scale);
    return fn(vae);
  } finally {
    vae.dispose();
  }
}

const byName = (rs: PropertyResult[]) => Object.fromEntries(rs.map((r) => [r.name, r]));

/** The fast-check property: every latent property passes on random tiny VAEs of class `C`. */
function allPass(C: VaeClass): fc.IPropertyWithHooks<[Tiny]> {
  return fc.property(tinyArb(), (t) =>
    withTiny(t, C, (vae) => {
      const rs = verifyVae(vae, { seed: t.seed, inputs: 2, draws: 100 });
      const bad = rs.filter((r) => r.status !== "passed");
      if (bad.length) throw new Error(bad.map((r) => `${r.name}: ${r.detail}`).join("\n"));
      return true;
    }),
  );
}

describe("verifyVae", () => {
  it("bounds, monotone and KL pass on random tiny VAEs (1–3 latent dimensions, three pixel domains)", () => {
    fc.assert(allPass(Vae), { numRuns: RUNS });
  });

  it("the same property fails on a VAE whose KL has the wrong sign (planted)", () => {
    const r = fc.check(allPass(WrongSignKl), { numRuns: RUNS, seed: 7 });
    expect(r.failed).toBe(true);
    expect(String(r.errorInstance)).toMatch(/KL: input \d: closed form/);
  });

  it("says what it checked: K, draws, inputs, the grid, and that log p(x) is not integrated above d = 2", () => {
    const base = { n: 5, h: 4, scale: 1, seed: 11, domain: "Bernoulli" as const };
    for (const d of [1, 2, 3]) {
      const rs = withTiny({ ...base, d }, Vae, (vae) =>
        verifyVae(vae, { seed: 3, inputs: 2, draws: 50, gridPoints: d === 1 ? 2001 : 101 }),
      );
      expect(rs.map((r) => r.name)).toEqual(["bounds", "monotone", "KL"]);
      for (const r of rs) expect(r.status, r.detail).toBe("passed");
      const { bounds, monotone, KL } = byName(rs);
      expect(bounds.detail).toContain("IWAE_16");
      expect(bounds.detail).toContain("50 draws each, 2 random inputs");
      if (d === 1) expect(bounds.detail).toContain("log p(x) on a 2001 grid over [−8, 8]");
      if (d === 2) expect(bounds.detail).toContain("log p(x) on a 101 × 101 grid over [−8, 8]²");
      if (d === 3)
        expect(bounds.detail).toContain("log p(x) is not integrated above d = 2 (d = 3): ELBO ≤ IWAE_16 only");
      expect(monotone.detail).toContain("K = 1, 4, 16");
      expect(KL.detail).toContain("from 4000 samples");
    }
  });

  it("planted: KL with the wrong sign fails bounds (ELBO above IWAE) and KL", () => {
    const rs = byName(
      withTiny({ d: 2, n: 6, h: 4, scale: 1, seed: 5, domain: "Bernoulli" }, WrongSignKl, (v) =>
        verifyVae(v, { seed: 1 }),
      ),
    );
    expect(rs.bounds.status).toBe("failed");
    expect(rs.bounds.detail).toMatch(/ELBO -?\d+\.\d+ ± \S+ above IWAE_16/);
    expect(rs.KL.status).toBe("failed");
    expect(rs.KL.detail).toMatch(/closed form -\d+\.\d+, Monte Carlo \d+\.\d+/);
  });

  it("planted: the IWAE estimate without −log K fails bounds (IWAE above the integrated log p(x)), d = 1 and 2", () => {
    for (const d of [1, 2]) {
      const rs = byName(
        withTiny({ d, n: 4, h: 3, scale: 0.5, seed: 9, domain: "Bernoulli" }, IwaeWithoutLogK, (v) =>
          verifyVae(v, { seed: 1 }),
        ),
      );
      expect(rs.bounds.status, rs.bounds.detail).toBe("failed");
      expect(rs.bounds.detail).toMatch(/IWAE_16 -?\d+\.\d+ ± \S+ above log p\(x\) = -\d+\.\d+/);
      expect(rs.KL.status).toBe("passed");
    }
  });

  it("planted: the IWAE estimate as the smallest log-weight fails monotone", () => {
    const rs = byName(
      withTiny({ d: 2, n: 6, h: 4, scale: 1, seed: 5, domain: "Bernoulli" }, IwaeMin, (v) => verifyVae(v, { seed: 1 })),
    );
    expect(rs.monotone.status).toBe("failed");
    expect(rs.monotone.detail).toMatch(/IWAE_4 -?\d+\.\d+ ± \S+ below IWAE_1/);
    expect(rs.KL.status).toBe("passed");
  });
});

describe("verifyIr on latent models", () => {
  it("a VAE and a VAE with a critic on z: the three properties, run count bounds the inputs", () => {
    for (const fit of ["elbo", "iwae(k = 3)", "elbo + adversarial(on = z, critic = mlp(hidden = [4]))"]) {
      const v = verifyIr(compile(tinyText({ d: 2, n: 5, h: 4 }, fit)), { runs: 1, seed: 4 });
      expect(v.skipped).toBeUndefined();
      expect(v.results.map((r) => `${r.name} ${r.status}`)).toEqual(["bounds passed", "monotone passed", "KL passed"]);
      expect(v.results[0].detail).toContain("1 random input;");
    }
  });

  it("an AAE (no likelihood) is skipped with its reason", () => {
    const v = verifyIr(
      compile(`model A {
        latent z : Normal[2]
        x : Bernoulli[4]
        p(x | z) = mlp(hidden = [4])
        q(z | x) = mlp(hidden = [4])
        fit reconstruction + adversarial(on = z, critic = mlp(hidden = [4]))
      }`),
      { runs: 1 },
    );
    expect(v.results).toEqual([]);
    expect(v.skipped).toMatch(/model A is a latent-variable model without a likelihood bound \(an autoencoder or AAE/);
  });
});
