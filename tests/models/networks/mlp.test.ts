/**
 * src/models/networks/mlp.ts: the dense network and its heads (wasm backend).
 *
 * Properties (fast-check), each also run against a planted bug that must make it FAIL:
 * 1. trainable count = the compiler's `mlpParams(sizes)` for random layer sizes
 *    — planted: an MLP that leaves its biases out of `variables`;
 * 2. the backend forward pass equals an independent float64 forward pass written here from the
 *    variables' values (random sizes, activations, weights and inputs), and `applyJs` equals it too
 *    — planted: an MLP that also applies the activation to its output layer;
 * 3. gradients of a loss through `apply` equal central finite differences (float64 reference)
 *    — planted: a forward pass with a custom gradient that drops the bias's gradient;
 * 4. the Bernoulli head equals x·log σ(l) + (1 − x)·log(1 − σ(l)) computed in float64 and stays
 *    finite for |l| up to 200 — planted: the naive log(σ(l)) form (−∞ at l = −200);
 * 5. the Categorical head: each element's k probabilities sum to 1 and equal a float64 softmax of
 *    columns d·k … d·k + k − 1 — planted: reading the logits outcome-major ([k, D]);
 * 6. the Gaussian head equals the float64 density formula — planted: exp(v/2) used as the variance;
 * 7. samplers: reparameterized Gaussian samples have mean μ and variance e^v, Bernoulli and
 *    Categorical draws match their probabilities (chi-square) — planted: exp(v) as the standard
 *    deviation; the Gumbel noise added with the wrong sign.
 * Plus: seeded init (same seed, same weights; He/Glorot scale), stable names, M0106 before any
 * allocation for a network that cannot fit.
 */
import { mustFail as plantedReport } from "../gen";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { mlpParams } from "../../../src/compiler/count";
import { isGmError } from "../../../src/errors";
import { Rng } from "../../../src/rng";
import { initBackend } from "../../../src/models/backend";
import { gammaQ } from "../../../src/models/verify";
import {
  ACTIVATIONS,
  activateJs,
  bernoulliLogProb,
  categoricalLogProb,
  gaussianKlToStandard,
  gaussianLogProb,
  Mlp,
  sampleBernoulli,
  sampleCategorical,
  sampleGaussian,
  softmaxJs,
  splitGaussian,
  type Activation,
} from "../../../src/models/networks/mlp";

const RUNS = (n: number) => Number(process.env.GM_PROPERTY_RUNS ?? n);

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
});

let instance = 0;
const prefix = () => `mlptest${++instance}`;

/** Runs a property that must FAIL on a planted bug (seeded; see tests/models/gen.ts). */
const mustFail = <Ts extends unknown[]>(p: fc.IProperty<Ts>, numRuns = RUNS(30)): string => plantedReport(p, numRuns);

const sizesArb = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 2, maxLength: 5 });
const activationArb = fc.constantFrom<Activation>(...ACTIVATIONS);

function randomValues(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

/** Float64 forward pass from the variables' values, written independently of `applyJs`. */
function reference(net: Mlp, x: Float32Array, B: number): Float64Array {
  const L = net.sizes.length - 1;
  let h = Float64Array.from(x);
  for (let l = 0; l < L; l++) {
    const [nIn, nOut] = [net.sizes[l], net.sizes[l + 1]];
    const W = net.weights[l].dataSync();
    const b = net.biases[l].dataSync();
    const out = new Float64Array(B * nOut);
    for (let r = 0; r < B; r++) {
      for (let j = 0; j < nOut; j++) {
        let s = b[j];
        for (let i = 0; i < nIn; i++) s += h[r * nIn + i] * W[i * nOut + j];
        out[r * nOut + j] = l < L - 1 ? activateJs(s, net.activation) : s;
      }
    }
    h = out;
  }
  return h;
}

function worstRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return worst;
}

// ---------------------------------------------------------------------------------------------
// Planted bugs

/** Leaves its biases out of `variables` (they would never train, nor reach a checkpoint). */
class NoBiasVariablesMlp extends Mlp {
  constructor(p: string, sizes: readonly number[], opts = {}) {
    super(p, sizes, opts);
    this.variables.splice(0, this.variables.length, ...this.weights);
  }
}

/** Applies the hidden activation to the output layer too. */
class ActivatedOutputMlp extends Mlp {
  override apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor2D = x;
      for (let l = 0; l < this.weights.length; l++)
        h = tf.relu(tf.add(tf.matMul(h, this.weights[l]), this.biases[l])) as tf.Tensor2D;
      return h;
    });
  }
}

/** A forward pass whose custom gradient forgets the output bias. */
class LostBiasGradientMlp extends Mlp {
  override apply(x: tf.Tensor2D): tf.Tensor2D {
    const L = this.weights.length;
    const bOut = this.biases[L - 1];
    const f = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
      value: tf.add(inputs[0] as tf.Tensor, 0),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
    }));
    return tf.tidy(() => {
      let h: tf.Tensor2D = x;
      for (let l = 0; l < L; l++) {
        const b = l === L - 1 ? (f(bOut) as tf.Tensor1D) : this.biases[l];
        h = tf.add(tf.matMul(h, this.weights[l]), b) as tf.Tensor2D;
        if (l < L - 1) h = tf.tanh(h);
      }
      return h;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Properties

type MlpClass = new (p: string, sizes: readonly number[], opts?: { activation?: Activation; seed?: number }) => Mlp;

const countProp = (Impl: MlpClass) =>
  fc.property(sizesArb, (sizes) => {
    const net = new Impl(prefix(), sizes);
    try {
      const built = net.variables.reduce((a, v) => a + v.size, 0);
      if (BigInt(built) !== mlpParams(sizes))
        throw new Error(`built ${built} trainable numbers for [${sizes}], the compiler counts ${mlpParams(sizes)}`);
      if (net.paramCount() !== built) throw new Error("paramCount() disagrees with the variables");
    } finally {
      net.dispose();
    }
  });

const forwardProp = (Impl: MlpClass) =>
  fc.property(sizesArb, activationArb, fc.integer({ min: 1, max: 6 }), fc.integer(), (sizes, activation, B, seed) => {
    const net = new Impl(prefix(), sizes, { activation, seed });
    const rng = new Rng(seed);
    // Random biases too (they start at zero).
    for (const b of net.biases) b.assign(tf.tensor1d(randomValues(b.size, rng)));
    net.invalidate();
    const x = randomValues(B * sizes[0], rng, 2);
    try {
      const want = reference(net, x, B);
      const got = tf.tidy(() => net.apply(tf.tensor2d(x, [B, sizes[0]])).dataSync());
      const gap = worstRelative(got, want);
      if (!(gap <= 1e-4)) throw new Error(`apply differs from the float64 forward pass by ${gap} (${activation})`);
      const out = sizes[sizes.length - 1];
      for (let r = 0; r < B; r++) {
        const js = net.applyJs(x.subarray(r * sizes[0], (r + 1) * sizes[0]));
        const g = worstRelative(js, want.subarray(r * out, (r + 1) * out));
        if (!(g <= 1e-5)) throw new Error(`applyJs differs from the float64 forward pass by ${g}`);
      }
    } finally {
      net.dispose();
    }
  });

/** Loss = Σ c ⊙ apply(x) for fixed c: its gradient against central differences of the float64 pass. */
const gradientProp = (Impl: MlpClass) =>
  fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }), fc.integer(), (sizes, seed) => {
    const net = new Impl(prefix(), sizes, { activation: "tanh", seed });
    const rng = new Rng(seed);
    for (const b of net.biases) b.assign(tf.tensor1d(randomValues(b.size, rng)));
    const B = 3;
    const x = randomValues(B * sizes[0], rng);
    const out = sizes[sizes.length - 1];
    const c = randomValues(B * out, rng);
    const lossJs = () => reference(net, x, B).reduce((a, v, i) => a + v * c[i], 0);
    try {
      const xt = tf.tensor2d(x, [B, sizes[0]]);
      const ct = tf.tensor2d(c, [B, out]);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(net.apply(xt), ct)) as tf.Scalar, net.variables);
      xt.dispose();
      ct.dispose();
      for (const v of net.variables) {
        const g = grads[v.name].dataSync();
        const vals = Float32Array.from(v.dataSync());
        // Two coordinates per variable keep the property fast.
        for (const i of [0, vals.length - 1]) {
          const h = 1e-2;
          const orig = vals[i];
          vals[i] = orig + h;
          v.assign(tf.tensor(vals, v.shape));
          const up = lossJs();
          vals[i] = orig - h;
          v.assign(tf.tensor(vals, v.shape));
          const down = lossJs();
          vals[i] = orig;
          v.assign(tf.tensor(vals, v.shape));
          const fd = (up - down) / (2 * h);
          if (!(Math.abs(fd - g[i]) <= 1e-2 * (1 + Math.abs(fd))))
            throw new Error(`d loss / d ${v.name}[${i}] = ${g[i]}, finite differences say ${fd}`);
        }
      }
      tf.dispose(grads);
    } finally {
      net.dispose();
    }
  });

/** float64 log p of a Bernoulli logit. */
const logSigmoid = (l: number) => (l >= 0 ? -Math.log1p(Math.exp(-l)) : l - Math.log1p(Math.exp(l)));

type BernoulliHead = typeof bernoulliLogProb;
const naiveBernoulli: BernoulliHead = (logits, x) =>
  tf.tidy(() => {
    const p = tf.sigmoid(logits);
    return tf.sum(tf.add(tf.mul(x, tf.log(p)), tf.mul(tf.sub(1, x), tf.log(tf.sub(1, p)))), 1) as tf.Tensor1D;
  });

const bernoulliProp = (head: BernoulliHead) =>
  fc.property(
    fc.array(fc.tuple(fc.double({ min: -200, max: 200, noNaN: true }), fc.boolean()), { minLength: 1, maxLength: 8 }),
    (cells) => {
      const l = Float32Array.from(cells, ([v]) => v);
      const x = Float32Array.from(cells, ([, b]) => (b ? 1 : 0));
      const want = cells.reduce((a, [, b], i) => a + (b ? logSigmoid(l[i]) : logSigmoid(-l[i])), 0);
      const got = tf.tidy(() => head(tf.tensor2d(l, [1, l.length]), tf.tensor2d(x, [1, x.length])).dataSync()[0]);
      if (!(Math.abs(got - want) <= 1e-4 * (1 + Math.abs(want))))
        throw new Error(`Bernoulli head gives ${got}, float64 says ${want}`);
    },
  );

type CategoricalHead = typeof categoricalLogProb;
/** Reads element d's outcome o at column o·D + d (outcome-major) instead of d·k + o. */
const outcomeMajorCategorical: CategoricalHead = (logits, x, k) =>
  tf.tidy(() => {
    const [B, D] = x.shape;
    const logp = tf.logSoftmax(tf.transpose(logits.reshape([B, k, D]), [0, 2, 1]), 2);
    return tf.sum(tf.mul(logp, tf.oneHot(x.toInt(), k)), [1, 2]) as tf.Tensor1D;
  });

const categoricalProp = (head: CategoricalHead) =>
  fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 5 }), fc.integer(), (D, k, seed) => {
    const rng = new Rng(seed);
    const l = randomValues(D * k, rng, 3);
    // Every outcome of every element, one row each: row r sets element (r / k | 0) to r % k, others to 0.
    const rows = D * k;
    const x = new Float32Array(rows * D);
    for (let r = 0; r < rows; r++) x[r * D + Math.floor(r / k)] = r % k;
    const L = new Float32Array(rows * D * k);
    for (let r = 0; r < rows; r++) L.set(l, r * D * k);
    const got = tf.tidy(() => head(tf.tensor2d(L, [rows, D * k]), tf.tensor2d(x, [rows, D]), k).dataSync());
    // log p(row) − Σ_{e ≠ d} log p_e(0) = log p_d(o): compare with a float64 softmax of d's block.
    const p = Array.from({ length: D }, (_, d) => softmaxJs(l, d * k, k));
    for (let d = 0; d < D; d++) {
      let total = 0;
      for (let o = 0; o < k; o++) {
        let want = Math.log(p[d][o]);
        for (let e = 0; e < D; e++) if (e !== d) want += Math.log(p[e][0]);
        const g = got[d * k + o];
        if (!(Math.abs(g - want) <= 1e-4 * (1 + Math.abs(want))))
          throw new Error(`element ${d} outcome ${o}: log p ${g}, float64 softmax says ${want}`);
        total += p[d][o];
      }
      if (!(Math.abs(total - 1) <= 1e-9)) throw new Error(`probabilities sum to ${total}`);
    }
  });

type GaussianHead = typeof gaussianLogProb;
const stdAsVarianceGaussian: GaussianHead = (mean, logVar, x) =>
  gaussianLogProb(mean, tf.mul(logVar, 0.5) as tf.Tensor2D, x);

const gaussianProp = (head: GaussianHead) =>
  fc.property(fc.integer({ min: 1, max: 6 }), fc.integer(), (D, seed) => {
    const rng = new Rng(seed);
    const m = randomValues(D, rng, 2);
    const v = randomValues(D, rng, 1.5);
    const x = randomValues(D, rng, 3);
    let want = 0;
    for (let d = 0; d < D; d++) want += -0.5 * (Math.log(2 * Math.PI) + v[d] + (x[d] - m[d]) ** 2 / Math.exp(v[d]));
    const got = tf.tidy(
      () => head(tf.tensor2d(m, [1, D]), tf.tensor2d(v, [1, D]), tf.tensor2d(x, [1, D])).dataSync()[0],
    );
    if (!(Math.abs(got - want) <= 1e-4 * (1 + Math.abs(want))))
      throw new Error(`Gaussian head gives ${got}, the density formula says ${want}`);
  });

type GaussianSampler = typeof sampleGaussian;
const stdAsExpSampler: GaussianSampler = (mean, logVar, noise) =>
  sampleGaussian(mean, tf.mul(logVar, 2) as tf.Tensor2D, noise);

const gaussianSampleProp = (sampler: GaussianSampler) =>
  // v away from 0, where e^v and e^{2v} would be indistinguishable by 20,000 samples.
  fc.property(
    fc.double({ min: -3, max: 3, noNaN: true }),
    fc.oneof(fc.double({ min: -2, max: -0.3, noNaN: true }), fc.double({ min: 0.3, max: 2, noNaN: true })),
    fc.integer({ min: 0, max: 2 ** 30 }),
    (mu, v, seed) => {
      const n = 20000;
      const s = Array.from(
        tf.tidy(() => sampler(tf.fill([n, 1], mu) as tf.Tensor2D, tf.fill([n, 1], v) as tf.Tensor2D, seed).dataSync()),
      );
      const mean = s.reduce((a, b) => a + b, 0) / n;
      const variance = s.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
      const sd = Math.exp(v / 2);
      // 6 standard errors: the mean's is sd/√n, the variance's about e^v·√(2/n).
      if (!(Math.abs(mean - mu) <= (6 * sd) / Math.sqrt(n))) throw new Error(`sample mean ${mean}, want ${mu}`);
      if (!(Math.abs(variance - Math.exp(v)) <= 6 * Math.exp(v) * Math.sqrt(2 / n)))
        throw new Error(`sample variance ${variance}, want ${Math.exp(v)}`);
    },
  );

/** Chi-square p-value of observed counts against probabilities. */
function chiSquareP(counts: number[], probs: ArrayLike<number>, n: number): number {
  let stat = 0;
  for (let o = 0; o < counts.length; o++) stat += (counts[o] - n * probs[o]) ** 2 / (n * probs[o]);
  return gammaQ((counts.length - 1) / 2, stat / 2);
}

type CategoricalSampler = typeof sampleCategorical;
const wrongSignGumbel: CategoricalSampler = (logits, k, seed) =>
  tf.tidy(() => {
    const [B, Dk] = logits.shape;
    const u = tf.randomUniform([B, Dk / k, k], 1e-7, 1 - 1e-7, "float32", seed);
    return tf.cast(
      tf.argMax(tf.add(logits.reshape([B, Dk / k, k]), tf.log(tf.neg(tf.log(u)))), 2),
      "float32",
    ) as tf.Tensor2D;
  });

const categoricalSampleProp = (sampler: CategoricalSampler) =>
  fc.property(fc.integer({ min: 2, max: 5 }), fc.integer(), (k, seed) => {
    const rng = new Rng(seed);
    const l = randomValues(k, rng, 1.5);
    const n = 4000;
    const draws = tf.tidy(() =>
      sampler(tf.tile(tf.tensor2d(l, [1, k]), [n, 1]) as tf.Tensor2D, k, seed & 0xffff).dataSync(),
    );
    const counts = new Array<number>(k).fill(0);
    for (const d of draws) counts[d]++;
    const p = chiSquareP(counts, softmaxJs(l), n);
    if (!(p > 1e-4))
      throw new Error(
        `Categorical draws ${counts} against ${Array.from(softmaxJs(l), (q) => q.toFixed(3))}: chi-square p = ${p}`,
      );
  });

// ---------------------------------------------------------------------------------------------

describe("Mlp", () => {
  it("1. trainable count = the compiler's mlpParams(sizes)", () => {
    fc.assert(countProp(Mlp), { numRuns: RUNS(40) });
  });

  it("1. FAILS on an MLP that leaves its biases out of `variables`", () => {
    expect(mustFail(countProp(NoBiasVariablesMlp))).toMatch(/the compiler counts/);
  });

  it("2. apply and applyJs equal a float64 forward pass (every activation)", () => {
    fc.assert(forwardProp(Mlp), { numRuns: RUNS(40) });
  });

  it("2. FAILS on an MLP that activates its output layer", () => {
    expect(mustFail(forwardProp(ActivatedOutputMlp))).toMatch(/apply differs/);
  });

  it("3. gradients equal finite differences", () => {
    fc.assert(gradientProp(Mlp), { numRuns: RUNS(15) });
  });

  it("3. FAILS on a forward pass that drops the output bias's gradient", () => {
    expect(mustFail(gradientProp(LostBiasGradientMlp), RUNS(15))).toMatch(/finite differences say/);
  });

  it("names its variables <prefix>/<layer>/w|b in a stable order", () => {
    const net = new Mlp("net", [3, 4, 2]);
    try {
      expect(net.variables.map((v) => v.name)).toEqual(["net/0/w", "net/0/b", "net/1/w", "net/1/b"]);
      expect(net.variables.map((v) => v.shape)).toEqual([[3, 4], [4], [4, 2], [2]]);
    } finally {
      net.dispose();
    }
  });

  it("initializes from the seed: same seed, same weights; He scale before ReLU, Glorot at the output", () => {
    const a = new Mlp(prefix(), [400, 300, 200], { seed: 5 });
    const b = new Mlp(prefix(), [400, 300, 200], { seed: 5 });
    const c = new Mlp(prefix(), [400, 300, 200], { seed: 6 });
    try {
      expect(Array.from(a.weights[0].dataSync())).toEqual(Array.from(b.weights[0].dataSync()));
      expect(Array.from(a.weights[1].dataSync())).toEqual(Array.from(b.weights[1].dataSync()));
      expect(a.weights[0].dataSync()[0]).not.toBe(c.weights[0].dataSync()[0]);
      const sd = (v: tf.Variable) => {
        const d = Array.from(v.dataSync());
        return Math.sqrt(d.reduce((s, w) => s + w * w, 0) / d.length);
      };
      expect(sd(a.weights[0])).toBeCloseTo(Math.sqrt(2 / 400), 3);
      expect(sd(a.weights[1])).toBeCloseTo(Math.sqrt(2 / 500), 3);
      expect(Array.from(a.biases[0].dataSync()).every((v) => v === 0)).toBe(true);
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
    }
  });

  it("refuses a network that cannot fit with M0106, before allocating", () => {
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      new Mlp("huge", [784, 100000, 100000, 784]);
    } catch (e) {
      err = e;
    }
    expect(isGmError(err, "M0106")).toBe(true);
    expect((err as Error).message).toMatch(/needs 10,\d{3},\d{3},\d{3} parameters \(\d+\.\d GiB\)/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new Mlp("bad", [3])).toThrow(/at least two positive integers/);
    expect(() => new Mlp("bad", [3, 0, 2])).toThrow(/at least two positive integers/);
  });

  it("refuses an input of the wrong width", () => {
    const net = new Mlp(prefix(), [3, 2]);
    try {
      expect(() => net.apply(tf.zeros([1, 4]) as tf.Tensor2D)).toThrow(/reads 3 inputs, got 4/);
    } finally {
      net.dispose();
    }
  });

  it("leaks no tensors in apply", () => {
    const net = new Mlp(prefix(), [5, 7, 3]);
    const x = tf.ones([2, 5]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    net.apply(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    net.dispose();
  });
});

describe("heads", () => {
  it("4. Bernoulli log-probability is the stable float64 value for |logit| ≤ 200", () => {
    fc.assert(bernoulliProp(bernoulliLogProb), { numRuns: RUNS(100) });
  });

  it("4. FAILS on the naive log σ(l) form", () => {
    expect(mustFail(bernoulliProp(naiveBernoulli), RUNS(100))).toMatch(/Bernoulli head gives/);
  });

  it("5. Categorical log-probability: element-major softmax, normalized", () => {
    fc.assert(categoricalProp(categoricalLogProb), { numRuns: RUNS(40) });
  });

  it("5. FAILS on logits read outcome-major", () => {
    expect(mustFail(categoricalProp(outcomeMajorCategorical))).toMatch(/float64 softmax says/);
  });

  it("6. Gaussian log-density equals the formula", () => {
    fc.assert(gaussianProp(gaussianLogProb), { numRuns: RUNS(40) });
  });

  it("6. FAILS when exp(v/2) is used as the variance", () => {
    expect(mustFail(gaussianProp(stdAsVarianceGaussian))).toMatch(/the density formula says/);
  });

  it("splitGaussian: means first, log-variances second; KL to N(0, I) in closed form", () => {
    const out = tf.tensor2d([[1, 2, 0.5, -1]]);
    const { mean, logVar } = splitGaussian(out);
    expect(Array.from(mean.dataSync())).toEqual([1, 2]);
    expect(Array.from(logVar.dataSync())).toEqual([0.5, -1]);
    const kl = gaussianKlToStandard(mean, logVar).dataSync()[0];
    const want = 0.5 * (Math.exp(0.5) + 1 - 1 - 0.5) + 0.5 * (Math.exp(-1) + 4 - 1 + 1);
    expect(kl).toBeCloseTo(want, 5);
    tf.dispose([out, mean, logVar]);
  });
});

describe("samplers", () => {
  it("7. reparameterized Gaussian samples have mean μ and variance e^v", () => {
    fc.assert(gaussianSampleProp(sampleGaussian), { numRuns: RUNS(10) });
  });

  it("7. FAILS when exp(v) is used as the standard deviation", () => {
    expect(mustFail(gaussianSampleProp(stdAsExpSampler), RUNS(10))).toMatch(/sample variance/);
  });

  it("the Gaussian sample is differentiable in μ and v", () => {
    const m = tf.variable(tf.tensor2d([[0.3]]));
    const v = tf.variable(tf.tensor2d([[0.4]]));
    const eps = tf.tensor2d([[1.5]]);
    const { grads } = tf.variableGrads(() => tf.sum(sampleGaussian(m, v, eps)) as tf.Scalar, [m, v]);
    expect(grads[m.name].dataSync()[0]).toBeCloseTo(1, 6);
    expect(grads[v.name].dataSync()[0]).toBeCloseTo(0.5 * Math.exp(0.2) * 1.5, 5);
    tf.dispose([m, v, eps, grads[m.name], grads[v.name]]);
  });

  it("7. Categorical draws match the softmax (chi-square)", () => {
    fc.assert(categoricalSampleProp(sampleCategorical), { numRuns: RUNS(15) });
  });

  it("7. FAILS when the Gumbel noise has the wrong sign", () => {
    expect(mustFail(categoricalSampleProp(wrongSignGumbel), RUNS(15))).toMatch(/chi-square p =/);
  });

  it("Bernoulli draws match σ(l), and a seed repeats them", () => {
    const l = [-2, 0, 1.3];
    const n = 6000;
    const a = tf.tidy(() => sampleBernoulli(tf.tile(tf.tensor2d([l]), [n, 1]) as tf.Tensor2D, 9).dataSync());
    const b = tf.tidy(() => sampleBernoulli(tf.tile(tf.tensor2d([l]), [n, 1]) as tf.Tensor2D, 9).dataSync());
    expect(Array.from(a)).toEqual(Array.from(b));
    l.forEach((li, d) => {
      let ones = 0;
      for (let r = 0; r < n; r++) ones += a[r * 3 + d];
      const p = 1 / (1 + Math.exp(-li));
      expect(chiSquareP([n - ones, ones], [1 - p, p], n)).toBeGreaterThan(1e-4);
    });
  });
});
