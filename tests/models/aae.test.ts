/**
 * Properties of the AAE (src/models/aae.ts) on tiny random models written as `.gm` text
 * (1–2 latent dimensions, 3–6 binary pixels, priors `normal`, `mixture(k = 3, radius = 2)` and
 * `uniform(-1, 1)`, deterministic or Gaussian encoders):
 *
 * 1. Each of the three steps changes only the variables of its phase, as the paper defines them:
 *    a critic step only the critic's, a generator step only the encoder's, a reconstruction step
 *    only encoder and decoder — checked by running the step as the trainer does (Adam on the
 *    step's list, lr 0.05) and comparing every variable of the model before and after against
 *    the phase's networks (not against the step's own list); and each network of the phase
 *    changes (reconstruction: encoder and decoder; critic: critic; generator: encoder).
 * 2. The prior's density integrates to 1 (grid over [−10, 10]^d) for each prior; mixture samples
 *    have mean ≈ 0 and E‖z‖² ≈ r² + d s² (four standard errors).
 * 3. Parameter counts equal the compiler's for examples/13-aae.gm; `score` is minus the
 *    reconstruction error (kind "reconstruction", ≤ 0 for binary pixels); a few hundred steps
 *    on four repeated images lower the reconstruction error.
 *
 * Planted bugs (each made in src/models/aae.ts, run, seen to fail, then removed):
 * - the generator step listing the critic's variables too (`[...encoder, ...critic]`):
 *   property 1 failed at once ("step generator changed gm7/critic/0/w").
 * - the reconstruction step without the encoder (decoder only): property 1 failed ("step
 *   reconstruction does not update the encoder"). (Adding the critic to the reconstruction step is
 *   NOT caught, and needs not be: its gradient there is 0 and Adam leaves it as it is.)
 * - the mixture's log-density without its −log k (src/models/latent.ts): property 2 failed
 *   ("mixture(k = 3, radius = 2) in 1-D integrates to 2.9999999999999822").
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile";
import { initBackend } from "../../src/models/backend";
import { Aae } from "../../src/models/aae";
import { buildLatentModel } from "../../src/models/latent-model";
import { logSumExp } from "../../src/models/latent";
import { Vae } from "../../src/models/vae";
import { Rng } from "../../src/rng";
import { compileFirst as compile } from "./gen";

const RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 20);

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
});

const PRIORS = ["normal", "mixture(k = 3, radius = 2)", "uniform(-1, 1)"] as const;

interface TinyAae {
  d: number;
  n: number;
  prior: (typeof PRIORS)[number];
  deterministic: boolean;
  seed: number;
}

const arb: fc.Arbitrary<TinyAae> = fc.record({
  d: fc.integer({ min: 1, max: 2 }),
  n: fc.integer({ min: 3, max: 6 }),
  prior: fc.constantFrom(...PRIORS),
  deterministic: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

function text(t: TinyAae): string {
  return `model A {
    latent z : Normal[${t.d}]
    x : Bernoulli[${t.n}]
    p(z) = ${t.prior}
    p(x | z) = mlp(hidden = [4])
    q(z | x) = mlp(hidden = [4]${t.deterministic ? ", deterministic" : ""})
    fit reconstruction + adversarial(on = z, critic = mlp(hidden = [4]))
  }`;
}

describe("AAE steps", () => {
  it("each step changes only the variables of its phase", () => {
    fc.assert(
      fc.property(arb, (t) => {
        const aae = buildLatentModel(compile(text(t)), t.seed) as Aae;
        try {
          expect(aae).toBeInstanceOf(Aae);
          const phase: Record<string, Set<tf.Variable>> = {
            reconstruction: new Set([...aae.encoder.net.variables, ...aae.decoders.variables]),
            critic: new Set(aae.critic!.variables),
            generator: new Set(aae.encoder.net.variables),
          };
          const networks: Record<string, [string, tf.Variable[]][]> = {
            reconstruction: [
              ["encoder", aae.encoder.net.variables],
              ["decoder", aae.decoders.variables],
            ],
            critic: [["critic", aae.critic!.variables]],
            generator: [["encoder", aae.encoder.net.variables]],
          };
          const rng = new Rng(t.seed);
          const x = tf.tensor2d(
            Float32Array.from({ length: 8 * t.n }, () => rng.int(2)),
            [8, t.n],
          );
          const obj = aae.objective({ lr: 0.05 });
          expect(obj.steps.map((s) => s.name)).toEqual(["reconstruction", "critic", "generator"]);
          for (const [i, step] of obj.steps.entries()) {
            const before = aae.variables.map((v) => v.dataSync().slice());
            const opt = tf.train.adam(0.05);
            tf.tidy(() => {
              opt.minimize(() => step.loss(x, { step: i, seed: t.seed }), false, step.variables);
            });
            opt.dispose();
            const changed = new Set(aae.variables.filter((v, j) => v.dataSync().some((w, k) => w !== before[j][k])));
            const expected = phase[step.name];
            for (const v of changed) if (!expected.has(v)) throw new Error(`step ${step.name} changed ${v.name}`);
            // Each network of the phase is one the step updates. (Whether its weights moved is not
            // the test: with a tiny random net every ReLU of the encoder can be dead on 8 examples,
            // and a zero gradient leaves Adam's weights where they were — seed 999984 did that.)
            for (const [net, vars] of networks[step.name])
              if (!vars.every((v) => step.variables.includes(v)))
                throw new Error(`step ${step.name} does not update the ${net}`);
            // restore, so that each step starts from the same weights
            aae.variables.forEach((v, j) => v.assign(tf.tensor(before[j], v.shape)));
          }
          x.dispose();
          return true;
        } finally {
          aae.dispose();
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("AAE priors", () => {
  it("the prior's density integrates to 1", () => {
    fc.assert(
      fc.property(arb, (t) => {
        const aae = new Aae(compile(text(t)), 1);
        try {
          const step = t.d === 1 ? 0.001 : 0.02;
          const m = Math.round(20 / step); // midpoints: no double-counted edge of a uniform
          const terms: number[] = [];
          const z = new Float64Array(t.d);
          for (let g = 0; g < (t.d === 1 ? m : m * m); g++) {
            z[0] = -10 + ((g % m) + 0.5) * step;
            if (t.d === 2) z[1] = -10 + (Math.floor(g / m) + 0.5) * step;
            terms.push(aae.prior.logProb(z));
          }
          const integral = Math.exp(logSumExp(terms) + t.d * Math.log(step));
          if (Math.abs(integral - 1) > 0.01) throw new Error(`${t.prior} in ${t.d}-D integrates to ${integral}`);
          return true;
        } finally {
          aae.dispose();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("mixture samples have the mixture's moments", () => {
    const aae = new Aae(
      compile(text({ d: 2, n: 3, prior: "mixture(k = 3, radius = 2)", deterministic: true, seed: 1 })),
      1,
    );
    try {
      const N = 20000;
      const z = aae.prior.sample(N, 5);
      let m0 = 0,
        m1 = 0,
        sq = 0,
        sq2 = 0;
      for (let i = 0; i < N; i++) {
        m0 += z[2 * i];
        m1 += z[2 * i + 1];
        const r2 = z[2 * i] ** 2 + z[2 * i + 1] ** 2;
        sq += r2;
        sq2 += r2 * r2;
      }
      const se = Math.sqrt(5 / N); // Var(z_j) = r²/2 + 1 = 3
      expect(Math.abs(m0 / N)).toBeLessThan(4 * se);
      expect(Math.abs(m1 / N)).toBeLessThan(4 * se);
      const meanR2 = sq / N;
      const seR2 = Math.sqrt((sq2 / N - meanR2 ** 2) / N);
      expect(Math.abs(meanR2 - (4 + 2))).toBeLessThan(4 * seR2);
    } finally {
      aae.dispose();
    }
  });
});

describe("AAE network", () => {
  it("counts as the compiler does for examples/13-aae.gm, and builds an AAE", () => {
    const r = compileText(readFileSync(join(__dirname, "..", "..", "examples", "13-aae.gm"), "utf8"), "13-aae.gm");
    const m = buildLatentModel(r.models[0], 1);
    try {
      expect(m).toBeInstanceOf(Aae);
      expect(BigInt(m.paramCount())).toBe(r.models[0].params);
    } finally {
      m.dispose();
    }
  });

  it("a VAE file builds a VAE", () => {
    const r = compileText(readFileSync(join(__dirname, "..", "..", "examples", "12-vae.gm"), "utf8"), "12-vae.gm");
    const m = buildLatentModel(r.models[1], 1);
    expect(m).toBeInstanceOf(Vae);
    m.dispose();
  });

  it("scores minus the reconstruction error, which training lowers", () => {
    const aae = new Aae(compile(text({ d: 2, n: 6, prior: "normal", deterministic: true, seed: 1 })), 3);
    try {
      const imgs = [
        [1, 1, 1, 0, 0, 0],
        [0, 0, 0, 1, 1, 1],
        [1, 0, 1, 0, 1, 0],
        [0, 1, 0, 1, 0, 1],
      ];
      const data = Float32Array.from(Array.from({ length: 16 }, (_, i) => imgs[i % 4]).flat());
      const s0 = aae.score(data, 16);
      expect(s0.kind).toBe("reconstruction");
      expect(Array.from(s0.values).every((v) => v <= 0)).toBe(true);
      const obj = aae.objective({ lr: 0.01 });
      const opts = obj.steps.map(() => tf.train.adam(0.01));
      const x = tf.tensor2d(data, [16, 6]);
      for (let s = 0; s < 300; s++)
        obj.steps.forEach((step, i) =>
          tf.tidy(() => {
            opts[i].minimize(() => step.loss(x, { step: s, seed: 1 }), false, step.variables);
          }),
        );
      x.dispose();
      opts.forEach((o) => o.dispose());
      aae.invalidate();
      const mean = (v: Float64Array) => v.reduce((a, b) => a + b, 0) / v.length;
      const s1 = aae.score(data, 16);
      expect(mean(s1.values)).toBeGreaterThan(mean(s0.values) + 1);
      const ev = obj.evaluate(data, 16);
      expect(ev.reconstruction).toBeCloseTo(-mean(s1.values), 3);
      expect(Number.isFinite(ev.mmd)).toBe(true);
      expect(Number.isFinite(ev.critic)).toBe(true);
    } finally {
      aae.dispose();
    }
  });
});
