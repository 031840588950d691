/**
 * The adversarially regularized VAE (src/models/vae-adversarial.ts): `fit elbo + adversarial(on
 * = z, critic = mlp(..))` and `fit iwae(k = K) + adversarial(…)` on tiny random models written as
 * `.gm` text (1–2 latent dimensions, 3–16 binary pixels, one hidden layer of 3–6 units).
 *
 * 1. The trainable parameter count equals the compiler's (decoder + encoder + critic), for
 *    random sizes, with `elbo` and with `iwae(k)`; the model is a VAE (`instanceof Vae`).
 * 2. Each of the three steps changes only the variables of its phase, as the AAE paper defines
 *    them: the `elbo`/`iwae` step only encoder and decoder, the critic step only the critic's, the
 *    encoder-as-generator step only the encoder's — run as the trainer runs it (Adam on the
 *    step's list, lr 0.05), every model variable compared before and after against the phase's
 *    networks (not against the step's own list); and every network of the phase is in the step.
 * 3. It scores as a VAE (kind "estimate", an ELBO beside it, ELBO ≤ IWAE on average), encodes
 *    with the encoder's mean, and `evaluate` reports the VAE's metrics plus `critic` and `mmd`;
 *    the trainer's loop (Fitter: an Adam per step, named `elbo`, `critic`, `generator`) lowers
 *    −ELBO on four repeated images in 400 batches.
 * 4. A mixture prior with `elbo + adversarial` is refused by the compiler with the same
 *    diagnostic (E0603) as `fit elbo` alone.
 *
 * Planted bugs (each made in src, run, seen to fail, then removed):
 * - the generator step's list including the decoder (in `CodeCritic.steps`, src/models/aae.ts:
 *   `[...m.encoder.net.variables, ...decoders.variables]`): property 2 failed at once,
 *   shrunk to d = 1, n = 3, "step generator lists gm20/decoder1/0/w". (Its gradient there is 0,
 *   so Adam would not move the decoder: the list itself is what the property checks for that.)
 * - the critic step's list including the encoder (`[...this.net.variables,
 *   ...m.encoder.net.variables]`), with the list check switched off (its loop over `[]`) so that
 *   only the before/after comparison could see it: property 2 failed, "step critic changed gm22/encoder/0/w".
 * - the ELBO step without the decoder (`const variables = [...this.encoder.net.variables]` in
 *   `Vae.objective`): property 2 failed, "step elbo does not update the decoder".
 */
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile";
import { initBackend } from "../../src/models/backend";
import { buildLatentModel } from "../../src/models/latent-model";
import { Vae } from "../../src/models/vae";
import type { EpochRecord } from "../../src/models/checkpoint";
import { Fitter } from "../../src/models/fit";
import type { StepContext, TrainStep } from "../../src/models/model";
import { AdversarialVae } from "../../src/models/vae-adversarial";
import { Rng } from "../../src/rng";
import { compileFirst as compile } from "./gen";

const RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 15);

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
});

interface Tiny {
  d: number;
  n: number;
  h: number;
  /** 0: `elbo`; K ≥ 2: `iwae(k = K)`. */
  k: number;
  seed: number;
}

const arb: fc.Arbitrary<Tiny> = fc.record({
  d: fc.integer({ min: 1, max: 2 }),
  n: fc.integer({ min: 3, max: 16 }),
  h: fc.integer({ min: 3, max: 6 }),
  k: fc.constantFrom(0, 2, 3),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

function text(t: Tiny, prior = "normal"): string {
  return `model V {
    latent z : Normal[${t.d}]
    x : Bernoulli[${t.n}]
    p(z) = ${prior}
    p(x | z) = mlp(hidden = [${t.h}])
    q(z | x) = mlp(hidden = [${t.h}])
    fit ${t.k ? `iwae(k = ${t.k})` : "elbo"} + adversarial(on = z, critic = mlp(hidden = [${t.h}]))
  }`;
}

function build(t: Tiny): AdversarialVae {
  const m = buildLatentModel(compile(text(t)), t.seed);
  expect(m).toBeInstanceOf(AdversarialVae);
  return m as AdversarialVae;
}

function randomData(rng: Rng, rows: number, n: number): tf.Tensor2D {
  return tf.tensor2d(
    Float32Array.from({ length: rows * n }, () => rng.int(2)),
    [rows, n],
  );
}

describe("VAE + adversarial: network", () => {
  it("counts as the compiler does (decoder + encoder + critic) and is a VAE", () => {
    fc.assert(
      fc.property(arb, (t) => {
        const ir = compile(text(t));
        const m = buildLatentModel(ir, t.seed) as AdversarialVae;
        try {
          expect(m).toBeInstanceOf(Vae);
          expect(m).toBeInstanceOf(AdversarialVae);
          expect(BigInt(m.paramCount())).toBe(ir.params);
          const total = m.variables.reduce((s, v) => s + v.size, 0);
          expect(total).toBe(m.paramCount());
          // the critic is counted: without it the compiler's count is smaller by exactly its size
          expect(m.adversary.net.paramCount()).toBe((t.d + 1) * t.h + (t.h + 1));
          expect(m.trainSamples).toBe(t.k || 1);
          return true;
        } finally {
          m.dispose();
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * The variables of `m` that one Adam update (lr 0.05) of `step` on x changes, as the trainer runs
 * it; every variable is put back afterwards, so that each step starts from the same weights.
 */
function changedBy(m: AdversarialVae, step: TrainStep, x: tf.Tensor2D, ctx: StepContext): tf.Variable[] {
  const saved = m.variables.map((v) => tf.clone(v));
  const opt = tf.train.adam(0.05);
  try {
    tf.tidy(() => void opt.minimize(() => step.loss(x, ctx), false, step.variables));
    m.invalidate();
    const moved = m.variables.filter((v, j) => tf.tidy(() => tf.any(tf.notEqual(v, saved[j])).dataSync()[0] === 1));
    return moved;
  } finally {
    opt.dispose();
    m.variables.forEach((v, j) => v.assign(saved[j]));
    tf.dispose(saved);
    m.invalidate();
  }
}

describe("VAE + adversarial: steps", () => {
  it("each step changes only the variables of its phase", () => {
    fc.assert(
      fc.property(arb, (t) => {
        const m = build(t);
        const x = randomData(new Rng(t.seed), 8, t.n);
        try {
          const nets = {
            encoder: m.encoder.net.variables,
            decoder: m.decoders.variables,
            critic: m.adversary.net.variables,
          };
          const vaeStep = t.k ? "iwae" : "elbo";
          // the AAE paper's phases: which networks each step trains
          const phases: Record<string, (keyof typeof nets)[]> = {
            [vaeStep]: ["encoder", "decoder"],
            critic: ["critic"],
            generator: ["encoder"],
          };
          const obj = m.objective({ lr: 0.05 });
          expect(obj.steps.map((s) => s.name)).toEqual([vaeStep, "critic", "generator"]);
          expect(obj.primary).toBe(vaeStep);
          for (const [i, step] of obj.steps.entries()) {
            const allowed = new Set(phases[step.name].flatMap((net) => nets[net]));
            // every network of the phase is in the step, and the step lists nothing else
            for (const net of phases[step.name])
              if (nets[net].some((v) => !step.variables.includes(v)))
                throw new Error(`step ${step.name} does not update the ${net}`);
            for (const v of step.variables) if (!allowed.has(v)) throw new Error(`step ${step.name} lists ${v.name}`);
            // and, run, it moves nothing outside the phase
            for (const v of changedBy(m, step, x, { step: i, seed: t.seed }))
              if (!allowed.has(v)) throw new Error(`step ${step.name} changed ${v.name}`);
          }
          return true;
        } finally {
          x.dispose();
          m.dispose();
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("VAE + adversarial: scores and training", () => {
  const t: Tiny = { d: 2, n: 6, h: 6, k: 0, seed: 3 };
  const imgs = [
    [1, 1, 1, 0, 0, 0],
    [0, 0, 0, 1, 1, 1],
    [1, 0, 1, 0, 1, 0],
    [0, 1, 0, 1, 0, 1],
  ];
  const data = Float32Array.from(Array.from({ length: 16 }, (_, i) => imgs[i % 4]).flat());
  const mean = (v: Float64Array) => v.reduce((a, b) => a + b, 0) / v.length;

  it("scores as a VAE, encodes with the mean, and training its three steps lowers −ELBO", async () => {
    const m = build(t);
    try {
      const s0 = m.score(data, 16, { samples: 64, seed: 2 });
      expect(s0.kind).toBe("estimate");
      expect(s0.extra?.elbo.kind).toBe("bound");
      expect(mean(s0.extra!.elbo.values)).toBeLessThanOrEqual(mean(s0.values) + 1e-3);
      const obj = m.objective({ lr: 0.01 });
      const e0 = obj.evaluate(data, 16);
      for (const k of ["elbo", "kl", "reconstruction", "critic", "mmd"]) expect(Number.isFinite(e0[k]), k).toBe(true);
      // the trainer's own loop (src/models/fit.ts): one Adam per step, 100 epochs of 4 batches
      const records: EpochRecord[] = [];
      const fitter = new Fitter({
        objective: obj,
        train: { x: data, n: 16 },
        test: { x: data, n: 16 },
        dim: 6,
        epochs: 100,
        batch: 4,
        lr: 0.01,
        seed: 1,
        onEpochEnd: (r) => void records.push(r),
      });
      expect(await fitter.run()).toEqual({ status: "done" });
      expect([...fitter.optimizers.keys()]).toEqual(["elbo", "critic", "generator"]);
      fitter.dispose();
      for (const k of ["elbo", "critic", "generator"]) expect(Number.isFinite(records[99].train[k]), k).toBe(true);
      m.invalidate();
      const e1 = obj.evaluate(data, 16);
      expect(e1.elbo).toBeLessThan(e0.elbo - 0.5);
      // the held-out critic loss is the one a fresh critic step would see on mean codes
      expect(e1.critic).toBeGreaterThan(0);
      const { codes, dim } = m.encode(data, 16);
      expect(dim).toBe(2);
      const mu = tf.tidy(() => m.encoder.apply(tf.tensor2d(data, [16, 6])).mean.dataSync());
      expect(Array.from(codes)).toEqual(Array.from(mu));
      const before = tf.memory().numTensors;
      m.score(data, 16, { samples: 8 });
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      m.dispose();
    }
  });

  it("a mixture prior is refused at compile time as for `fit elbo` alone (E0603)", () => {
    const prior = "mixture(k = 3, radius = 2)";
    const codes = (src: string) => compileText(src, "v.gm").diagnostics.map((d) => d.code);
    const plain = text(t, prior).replace(/ \+ adversarial\(.*\)\)/, "");
    expect(plain).toMatch(/fit elbo\n/);
    expect(codes(plain)).toContain("E0603");
    expect(codes(text(t, prior))).toEqual(codes(plain));
  });
});

describe("latent models: which sums of objectives are built", () => {
  const model = (fit: string) =>
    compile(
      `model A {\n  latent z : Normal[2]\n  x : Bernoulli[4]\n  p(x | z) = mlp(hidden = [4])\n  q(z | x) = mlp(hidden = [4])\n  fit ${fit}\n}\n`,
    );

  it("refuses a sum it would train only part of (M0103), naming the sum", () => {
    for (const fit of ["elbo + reconstruction", "elbo + iwae(k = 3)", "iwae(k = 2) + reconstruction"]) {
      expect(() => buildLatentModel(model(fit), 1), fit).toThrow(
        expect.objectContaining({ code: "M0103", message: expect.stringMatching(/a sum gm does not build/) }),
      );
    }
  });

  it("builds each sum it lists", () => {
    for (const [fit, kind] of [
      ["elbo", Vae],
      ["iwae(k = 2)", Vae],
      ["elbo + adversarial(on = z, critic = mlp(hidden = [4]))", AdversarialVae],
      ["reconstruction", Object],
    ] as const) {
      const m = buildLatentModel(model(fit), 1);
      try {
        expect(m, fit).toBeInstanceOf(kind);
      } finally {
        m.dispose();
      }
    }
  });
});
