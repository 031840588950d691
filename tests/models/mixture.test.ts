/**
 * Discrete latent variables summed out exactly (src/models/mixture.ts), on random small models
 * written as `.gm` text: `latent c : Categorical(k)` (k = 2–3, sometimes a second latent
 * `d : Bernoulli`), x of 2–5 elements, Bernoulli or Categorical(3), each `p(x[i] | c) = table`
 * or, in the "markov" shape, `p(x[i] | x[i-1], c) = table`; tables random (logits N(0, 2²)).
 *
 * 1. The compiler accepts it as an explicit model (`fit likelihood`), counting (k−1) + Σ tables.
 * 2. Normalization: Σ_x p(x) = 1 over every x (exhaustive), within 1e-9.
 * 3. log p(x) and the posterior p(c | x) of `encode` equal a brute-force Σ_c p(c) Π_i p(x_i | c)
 *    computed from the logits (shape `p(c) = table`, `p(x[i] | c) = table`).
 * 4. EM never lowers its MAP objective (mean log-likelihood + α/n Σ log θ), iteration by
 *    iteration, on random data (α = 0.5).
 * 5. Sampling: the frequencies of 20,000 ancestral samples match p(x) cell by cell within five
 *    standard errors.
 * 6. EM on data from a known two-component mixture reaches the true model's held-out NLL within
 *    0.03 nats.
 *
 * Planted bugs (each made in src/models/mixture.ts, run, seen to fail, then removed):
 * - log p(x) as the largest joint term instead of the log-sum-exp over c: property 2 failed,
 *   shrunk to k = 2, n = 2 (Σ p(x) = 0.899).
 * - the M-step crediting each example's responsibility of c to c + 1 (mod k): property 4 failed
 *   (objective −1.5138 → −1.5201 at iteration 1).
 * - sampling the tables in declaration order from a fresh row (latent values 0 until drawn):
 *   property 5 failed for models whose `p(c)` comes after the pixels. (Declaration order while
 *   reusing the previous sample's row is NOT a bug: the stale c is itself a draw from p(c).)
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { ModelIR } from "../../src/compiler/ir";
import { initBackend } from "../../src/models/backend";
import { DiscreteLatentModel } from "../../src/models/mixture";
import { Rng } from "../../src/rng";
import * as tf from "@tensorflow/tfjs";
import { compileFirst } from "./gen";

const RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 30);

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
});

interface Plan {
  k: number;
  n: number;
  domain: "Bernoulli" | "Categorical(3)";
  shape: "independent" | "markov";
  second: boolean;
  priorLast: boolean;
  seed: number;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  k: fc.integer({ min: 2, max: 3 }),
  n: fc.integer({ min: 2, max: 5 }),
  domain: fc.constantFrom("Bernoulli" as const, "Categorical(3)" as const),
  shape: fc.constantFrom("independent" as const, "markov" as const),
  second: fc.boolean(),
  priorLast: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

function text(p: Plan): string {
  const given = p.second ? "c, d" : "c";
  const prior = p.second ? "p(c) = table\n  p(d | c) = table" : "p(c) = table";
  const pixels =
    p.shape === "markov"
      ? `p(x[1] | ${given}) = table\n  for i in 2..${p.n}: p(x[i] | x[i-1], ${given}) = table`
      : `for i in 1..${p.n}: p(x[i] | ${given}) = table`;
  return `model M {
  latent c : Categorical(${p.k})
  ${p.second ? "latent d : Bernoulli" : ""}
  x : ${p.domain}[${p.n}]
  ${p.priorLast ? pixels : prior}
  ${p.priorLast ? prior : pixels}
  fit likelihood
}`;
}

const compile = (src: string): ModelIR => compileFirst(src, "mix.gm");

function withModel<T>(p: Plan, fn: (m: DiscreteLatentModel, ir: ModelIR) => T): T {
  const ir = compile(text(p));
  const m = new DiscreteLatentModel(ir, p.seed);
  try {
    const rng = new Rng(p.seed);
    const v = m.variables[0];
    v.assign(tf.tensor1d(Float32Array.from({ length: v.size }, () => 2 * rng.normal())));
    m.invalidate();
    return fn(m, ir);
  } finally {
    m.dispose();
  }
}

/** Every x of the model's observed elements, n × dim row-major. */
function allRows(p: Plan): { x: Float32Array; n: number } {
  const k = p.domain === "Bernoulli" ? 2 : 3;
  const n = k ** p.n;
  const x = new Float32Array(n * p.n);
  for (let i = 0; i < n; i++) {
    let r = i;
    for (let j = p.n - 1; j >= 0; j--) {
      x[i * p.n + j] = r % k;
      r = Math.floor(r / k);
    }
  }
  return { x, n };
}

describe("discrete latent variables summed out", () => {
  it("compiles as an explicit model and counts as the compiler does", () => {
    fc.assert(
      fc.property(planArb, (p) => {
        const ir = compile(text(p));
        expect(ir.kind).toBe("explicit");
        expect(ir.objectives.map((o) => o.name)).toEqual(["likelihood"]);
        const m = new DiscreteLatentModel(ir, 1);
        try {
          return BigInt(m.paramCount()) === ir.params && m.dim === p.n && m.configs === p.k * (p.second ? 2 : 1);
        } finally {
          m.dispose();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("Σ_x p(x) = 1", () => {
    fc.assert(
      fc.property(planArb, (p) =>
        withModel(p, (m) => {
          const { x, n } = allRows(p);
          const total = m.logLikelihoods(x, n).reduce((a, v) => a + Math.exp(v), 0);
          if (Math.abs(total - 1) > 1e-9) throw new Error(`Σ p(x) = ${total}`);
          return true;
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it("log p(x) and the posterior p(c | x) equal a brute-force sum over the tables", () => {
    // The oracle reads the logits in the layout of table.ts (per table, per parent row, k − 1
    // logits against outcome 0) for the shape p(c) = table, p(x[i] | c) = table.
    const simple = planArb.map((p) => ({ ...p, shape: "independent" as const, second: false }));
    fc.assert(
      fc.property(simple, (p) =>
        withModel(p, (m) => {
          const kx = p.domain === "Bernoulli" ? 2 : 3;
          const theta = m.variables[0].dataSync();
          const soft = (off: number, K: number) => {
            const l = [0, ...Array.from({ length: K - 1 }, (_, o) => theta[off + o])];
            const mx = Math.max(...l);
            const z = l.reduce((a, v) => a + Math.exp(v - mx), 0);
            return l.map((v) => Math.exp(v - mx) / z);
          };
          const pixelBlock = p.n * p.k * (kx - 1);
          const cOff = p.priorLast ? pixelBlock : 0;
          const xOff = p.priorLast ? 0 : p.k - 1;
          const pc = soft(cOff, p.k);
          const { x, n } = allRows(p);
          const logp = m.logLikelihoods(x, n);
          const { codes } = m.encode(x, n);
          for (let i = 0; i < n; i++) {
            const joint = pc.map((q, c) => {
              let v = q;
              for (let j = 0; j < p.n; j++) v *= soft(xOff + (j * p.k + c) * (kx - 1), kx)[x[i * p.n + j]];
              return v;
            });
            const px = joint.reduce((a, b) => a + b, 0);
            if (Math.abs(Math.log(px) - logp[i]) > 1e-6)
              throw new Error(`row ${i}: log p(x) ${logp[i]} vs ${Math.log(px)}`);
            for (let c = 0; c < p.k; c++)
              if (Math.abs(codes[i * p.k + c] - joint[c] / px) > 1e-5)
                throw new Error(`row ${i}: p(c = ${c} | x) ${codes[i * p.k + c]} vs ${joint[c] / px}`);
          }
          return true;
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it("EM never lowers its MAP objective", () => {
    fc.assert(
      fc.property(planArb, (p) =>
        withModel(p, (m) => {
          const rng = new Rng(p.seed + 7);
          const k = p.domain === "Bernoulli" ? 2 : 3;
          const N = 60;
          const x = Float32Array.from({ length: N * p.n }, () => rng.int(k));
          const alpha = 0.5;
          let prev = m.penalizedObjective(x, N, alpha);
          for (let it = 0; it < 8; it++) {
            m.emStep(x, N, alpha);
            const now = m.penalizedObjective(x, N, alpha);
            if (now < prev - 1e-9) throw new Error(`iteration ${it}: objective ${prev} → ${now}`);
            prev = now;
          }
          return true;
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it("ancestral samples have the model's frequencies", () => {
    fc.assert(
      fc.property(
        planArb.filter((p) => (p.domain === "Bernoulli" ? 2 : 3) ** p.n <= 32),
        (p) =>
          withModel(p, (m) => {
            const { x, n } = allRows(p);
            const probs = m.logLikelihoods(x, n).map(Math.exp);
            const N = 20000;
            const s = m.sample(N, p.seed);
            const k = p.domain === "Bernoulli" ? 2 : 3;
            const counts = new Float64Array(n);
            for (let i = 0; i < N; i++) {
              let idx = 0;
              for (let j = 0; j < p.n; j++) idx = idx * k + s[i * p.n + j];
              counts[idx]++;
            }
            for (let i = 0; i < n; i++) {
              const se = Math.sqrt((probs[i] * (1 - probs[i])) / N);
              if (Math.abs(counts[i] / N - probs[i]) > 5 * se + 1e-3)
                throw new Error(`cell ${i}: ${counts[i] / N} vs ${probs[i]}`);
            }
            return true;
          }),
      ),
      { numRuns: RUNS },
    );
  });

  it("EM on a known two-component mixture reaches the true model's held-out NLL", () => {
    const n = 10;
    const truth = [
      Array.from({ length: n }, (_, i) => (i < 5 ? 0.9 : 0.1)),
      Array.from({ length: n }, (_, i) => (i < 5 ? 0.15 : 0.8)),
    ];
    const weights = [0.35, 0.65];
    const rng = new Rng(3);
    const draw = (N: number) => {
      const x = new Float32Array(N * n);
      for (let i = 0; i < N; i++) {
        const c = rng.uniform() < weights[0] ? 0 : 1;
        for (let j = 0; j < n; j++) x[i * n + j] = rng.uniform() < truth[c][j] ? 1 : 0;
      }
      return x;
    };
    const train = draw(4000);
    const test = draw(2000);
    let trueNll = 0;
    for (let i = 0; i < 2000; i++) {
      const terms = [0, 1].map(
        (c) => Math.log(weights[c]) + truth[c].reduce((a, q, j) => a + Math.log(test[i * n + j] ? q : 1 - q), 0),
      );
      const mx = Math.max(...terms);
      trueNll -= mx + Math.log(terms.reduce((a, t) => a + Math.exp(t - mx), 0));
    }
    trueNll /= 2000;
    const ir = compile(
      `model B { latent c : Categorical(2)  x : Bernoulli[${n}]  p(c) = table  for i in 1..${n}: p(x[i] | c) = table }`,
    );
    const m = new DiscreteLatentModel(ir, 1);
    try {
      const obj = m.objective({ lr: 0 });
      const line = obj.fitClosedForm!(train, 4000, { smoothing: 0.01 });
      expect(line).toMatch(/EM over 2 latent values/);
      const nll = obj.evaluate(test, 2000).nll;
      expect(Math.abs(nll - trueNll)).toBeLessThan(0.03);
    } finally {
      m.dispose();
    }
  });
});

/**
 * Network conditionals under a discrete latent variable (`p(x[i] | c) = mlp(hidden = [3])`,
 * optionally chained on x[i-1]): the same normalization, posterior and sampling properties with
 * random network weights, and gradient training (Adam on −log Σ_c p(x, c), tables by online EM)
 * that approaches a known mixture's held-out NLL.
 *
 * Planted bug (made in src/models/mixture.ts, run, seen to fail, then removed): the network
 * terms of every configuration c read from configuration 0's rows (`net[b]` instead of
 * `net[c·m + b]`): the sampling check failed at once (cell 0: 0.375 sampled vs 0.189 scored);
 * normalization alone still held, since every c then reads one normalized conditional.
 * (With `hidden = [3]` the training test stalled 0.31 nats above the truth — a local optimum of
 * the mixture likelihood with too few ReLU units; it uses `hidden = [8]`.)
 */
describe("network conditionals under a discrete latent", () => {
  const netPlan = fc.record({
    k: fc.integer({ min: 2, max: 3 }),
    n: fc.integer({ min: 2, max: 4 }),
    chained: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  });
  const netText = (p: { k: number; n: number; chained: boolean }) => `model N {
  latent c : Categorical(${p.k})
  x : Bernoulli[${p.n}]
  p(c) = table
  ${p.chained ? `p(x[1] | c) = table\n  for i in 2..${p.n}: p(x[i] | x[i-1], c) = mlp(hidden = [3])` : `for i in 1..${p.n}: p(x[i] | c) = mlp(hidden = [3])`}
}`;
  const withNet = <T>(
    p: { k: number; n: number; chained: boolean; seed: number },
    fn: (m: DiscreteLatentModel) => T,
  ): T => {
    const m = new DiscreteLatentModel(compile(netText(p)), p.seed);
    try {
      const rng = new Rng(p.seed);
      for (const v of m.variables)
        v.assign(
          tf.tensor(
            Float32Array.from({ length: v.size }, () => 1.5 * rng.normal()),
            v.shape,
          ),
        );
      m.invalidate();
      return fn(m);
    } finally {
      m.dispose();
    }
  };
  const rowsOf = (n: number) =>
    allRows({ k: 2, n, domain: "Bernoulli", shape: "independent", second: false, priorLast: false, seed: 1 });

  it("counts, normalizes, has a posterior summing to 1, and samples its own frequencies", () => {
    fc.assert(
      fc.property(netPlan, (p) =>
        withNet(p, (m) => {
          const ir = compile(netText(p));
          if (BigInt(m.paramCount()) !== ir.params) throw new Error(`count ${m.paramCount()} vs ${ir.params}`);
          const { x, n } = rowsOf(p.n);
          const logp = m.logLikelihoods(x, n);
          const total = logp.reduce((a, v) => a + Math.exp(v), 0);
          if (Math.abs(total - 1) > 1e-5) throw new Error(`Σ p(x) = ${total}`);
          const { codes, dim } = m.encode(x, n);
          for (let i = 0; i < n; i++) {
            const s = codes.slice(i * dim, (i + 1) * dim).reduce((a, b) => a + b, 0);
            if (Math.abs(s - 1) > 1e-5) throw new Error(`posterior sums to ${s}`);
          }
          const N = 8000;
          const smp = m.sample(N, p.seed);
          const counts = new Float64Array(n);
          for (let i = 0; i < N; i++) {
            let idx = 0;
            for (let j = 0; j < p.n; j++) idx = idx * 2 + smp[i * p.n + j];
            counts[idx]++;
          }
          for (let i = 0; i < n; i++) {
            const q = Math.exp(logp[i]);
            if (Math.abs(counts[i] / N - q) > 5 * Math.sqrt((q * (1 - q)) / N) + 2e-3)
              throw new Error(`cell ${i}: ${counts[i] / N} vs ${q}`);
          }
          return true;
        }),
      ),
      { numRuns: 12 },
    );
  });

  it("trains by gradient (networks) and online EM (tables) towards a known mixture", () => {
    const n = 6;
    const truth = [
      Array.from({ length: n }, (_, i) => (i < 3 ? 0.9 : 0.1)),
      Array.from({ length: n }, (_, i) => (i < 3 ? 0.1 : 0.85)),
    ];
    const rng = new Rng(4);
    const draw = (N: number) => {
      const x = new Float32Array(N * n);
      for (let i = 0; i < N; i++) {
        const c = rng.uniform() < 0.4 ? 0 : 1;
        for (let j = 0; j < n; j++) x[i * n + j] = rng.uniform() < truth[c][j] ? 1 : 0;
      }
      return x;
    };
    const train = draw(2000);
    const test = draw(1000);
    let trueNll = 0;
    for (let i = 0; i < 1000; i++) {
      const terms = [0, 1].map(
        (c) =>
          Math.log(c === 0 ? 0.4 : 0.6) + truth[c].reduce((a, q, j) => a + Math.log(test[i * n + j] ? q : 1 - q), 0),
      );
      const mx = Math.max(...terms);
      trueNll -= mx + Math.log(terms.reduce((a, t) => a + Math.exp(t - mx), 0));
    }
    trueNll /= 1000;
    const m = new DiscreteLatentModel(
      compile(netText({ k: 2, n, chained: false }).replace("hidden = [3]", "hidden = [8]")),
      1,
    );
    try {
      const obj = m.objective({ lr: 0.01 });
      expect(obj.steps.map((s) => s.name)).toEqual(["nll"]);
      obj.fitClosedForm!(train, 2000, { smoothing: 1 });
      const before = obj.evaluate(test, 1000).nll;
      const opt = tf.train.adam(0.02);
      const step = obj.steps[0];
      for (let e = 0; e < 15; e++) {
        for (let b = 0; b + 100 <= 2000; b += 100) {
          const xb = tf.tensor2d(train.subarray(b * n, (b + 100) * n), [100, n]);
          opt.minimize(() => step.loss(xb, { step: e * 20 + b / 100, seed: 1 }), false, step.variables);
          xb.dispose();
          obj.afterStep!();
        }
      }
      opt.dispose();
      const after = obj.evaluate(test, 1000).nll;
      expect(after).toBeLessThan(before);
      expect(after - trueNll).toBeLessThan(0.05);
    } finally {
      m.dispose();
    }
  });
});
