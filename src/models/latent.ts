/**
 * The pieces every continuous-latent family shares (VAE: ./vae.ts, AAE: ./aae.ts):
 *
 *   p(x, z) = p(z) · Π_f p(x_{T_f} | z_{C_f})        one `mlp` decoder per observed factor f
 *
 * - the data layout: which data column each observed element is, which position of the code z
 *   each latent element is (latent elements are never data columns, model.ts);
 * - decoders: an observed factor `p(x | z) = mlp(hidden = [..])` is an {@link Mlp} from its
 *   conditions to the head its targets' domain needs — Bernoulli logits (one per element),
 *   Categorical(k) logits (k per element, element-major), or, for `Normal` and `Real(lo, hi)`
 *   elements, a Gaussian with a learned mean and log-variance per element (laid out
 *   [means | log-variances], the compiler's "mean and log-scale" count of 2 per element);
 * - priors: `normal` (standard normal), `uniform(lo, hi)` and `mixture(k, radius, scale)`
 *   (k Gaussians of standard deviation `scale`, centres evenly spaced on a circle of the given
 *   radius in the first two dimensions — docs/language.md), sampled and scored in JavaScript;
 * - a numerically stable log-mean-exp (IWAE, Burda et al. 2016), streamed over chunks of samples.
 *
 * NOTE: the Gaussian head clips its log-variance to [−9.2, 5] (σ ≥ 0.01): on image data with
 * constant pixels (MNIST's border) an unbounded learned variance collapses and the likelihood
 * grows without limit. `Real(lo, hi)` values are modelled by the untruncated Gaussian (its
 * samples and means are clipped to [lo, hi] for pictures only).
 */
import * as tf from "@tensorflow/tfjs";
import { domainName, type Domain, type FactorIR, type ModelIR, type VariableIR } from "../compiler/ir";
import { deriveSeed, Rng } from "../rng";
import {
  categoricalLogProb,
  gaussianLogProb,
  Mlp,
  sampleBernoulli,
  sampleCategorical,
  sampleGaussian,
} from "./networks/mlp";
import { variableOf } from "./lookup";
import { ModelError } from "./types";

/** Lowest and highest log-variance of a Gaussian decoder head (σ from 0.01 to e^2.5). */
export const LOG_VAR_RANGE: readonly [number, number] = [Math.log(1e-4), 5];

const LOG_2PI = Math.log(2 * Math.PI);

/** Where each element of a latent-variable model lives: a data column or a position in z. */
export interface LatentLayout {
  /** The observed variables, in declaration order. */
  readonly observed: readonly VariableIR[];
  /** The latent variables, in declaration order. */
  readonly latent: readonly VariableIR[];
  /** Number of data columns (Σ size of the observed variables). */
  readonly dim: number;
  /** Number of code dimensions (Σ size of the latent variables). */
  readonly zdim: number;
  /** `column[e]`: the data column of observed element e, −1 for latent elements. */
  readonly column: Int32Array;
  /** `zpos[e]`: the position in z of latent element e, −1 for observed elements. */
  readonly zpos: Int32Array;
}

/** The layout of `ir`: observed elements to columns, latent elements to code positions. */
export function latentLayout(ir: ModelIR): LatentLayout {
  const column = new Int32Array(ir.n).fill(-1);
  const zpos = new Int32Array(ir.n).fill(-1);
  let c = 0;
  let z = 0;
  for (const v of ir.variables)
    for (let i = 0; i < v.size; i++) {
      if (v.latent) zpos[v.offset + i] = z++;
      else column[v.offset + i] = c++;
    }
  return {
    observed: ir.variables.filter((v) => !v.latent),
    latent: ir.variables.filter((v) => v.latent),
    dim: c,
    zdim: z,
    column,
    zpos,
  };
}

/** True when `idx` is 0, 1, …, width − 1. */
function isIdentity(idx: Int32Array, width: number): boolean {
  if (idx.length !== width) return false;
  for (let i = 0; i < idx.length; i++) if (idx[i] !== i) return false;
  return true;
}

/**
 * Columns `idx` of `t` ([B, W] → [B, |idx|]), differentiable: the tensor itself when `idx` is
 * every column in order, a slice when the columns are contiguous, a gather otherwise.
 */
export function takeColumns(t: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const width = t.shape[1];
  if (isIdentity(idx, width)) return t;
  let contiguous = idx.length > 0;
  for (let i = 1; i < idx.length && contiguous; i++) contiguous = idx[i] === idx[0] + i;
  if (contiguous) return tf.slice(t, [0, idx[0]], [t.shape[0], idx.length]);
  return tf.tidy(() => tf.gather(t, tf.tensor1d(idx, "int32"), 1)) as tf.Tensor2D;
}

/** Data columns of elements `elements` (all observed). */
export function columnsOf(layout: LatentLayout, elements: Int32Array): Int32Array {
  return Int32Array.from(elements, (e) => layout.column[e]);
}

/** The output head of one decoder. */
export type Head =
  | { readonly kind: "bernoulli" }
  | { readonly kind: "categorical"; readonly k: number }
  | { readonly kind: "gaussian"; readonly lo?: number; readonly hi?: number };

/** The head that elements of domain `d` need. */
export function headFor(d: Domain): Head {
  switch (d.kind) {
    case "bernoulli":
      return { kind: "bernoulli" };
    case "categorical":
      return { kind: "categorical", k: d.k };
    case "normal":
      return { kind: "gaussian" };
    case "real":
      return { kind: "gaussian", lo: d.lo, hi: d.hi };
  }
}

function sameHead(a: Head, b: Head): boolean {
  return (
    a.kind === b.kind &&
    (a.kind !== "categorical" || a.k === (b as { k: number }).k) &&
    (a.kind !== "gaussian" || (a.lo === (b as { lo?: number }).lo && a.hi === (b as { hi?: number }).hi))
  );
}

/** One observed factor `p(x_T | z_C) = mlp(..)`: an MLP from the code to its targets' head. */
export class MlpDecoder {
  readonly net: Mlp;
  readonly head: Head;
  /** Data columns of the targets, in the factor's order. */
  readonly columns: Int32Array;
  /** Positions in z of the conditions, in the factor's order. */
  readonly inputs: Int32Array;

  constructor(
    readonly factor: FactorIR,
    ir: ModelIR,
    layout: LatentLayout,
    prefix: string,
    seed: number,
  ) {
    const spec = factor.network;
    if (!spec || spec.kind !== "mlp")
      throw new ModelError(`\`${factor.source}\`: a decoder is an \`mlp(hidden = [...])\``, "M0103");
    const observedCondition = Array.from(factor.context).find((e) => layout.zpos[e] < 0);
    if (observedCondition !== undefined) {
      throw new ModelError(
        `\`${factor.source}\`: a decoder conditioned on observed elements is not built yet; gm decodes observed variables from the latent variables only`,
        "M0103",
        "condition the decoder on the latent variables alone: `p(x | z) = mlp(hidden = [...])`",
      );
    }
    const domains = Array.from(factor.targets, (e) => variableOf(ir, e).domain);
    const head = headFor(domains[0]);
    const other = domains.find((d) => !sameHead(headFor(d), head));
    if (other) {
      throw new ModelError(
        `\`${factor.source}\`: one decoder over ${domainName(domains[0])} and ${domainName(other)} elements is not built yet`,
        "M0103",
        "write one `p(… | z) = mlp(…)` per variable",
      );
    }
    this.head = head;
    this.columns = columnsOf(layout, factor.targets);
    this.inputs = Int32Array.from(factor.context, (e) => layout.zpos[e]);
    this.net = new Mlp(prefix, spec.sizes, { seed });
  }

  /** The decoder's raw output for codes z ([N, zdim]). */
  private out(z: tf.Tensor2D): tf.Tensor2D {
    return this.net.apply(takeColumns(z, this.inputs));
  }

  /** Splits a Gaussian output into its mean and clipped log-variance. */
  private gaussian(out: tf.Tensor2D): { mean: tf.Tensor2D; logVar: tf.Tensor2D } {
    const T = this.columns.length;
    const mean = tf.slice(out, [0, 0], [out.shape[0], T]);
    const logVar = tf.clipByValue(tf.slice(out, [0, T], [out.shape[0], T]), LOG_VAR_RANGE[0], LOG_VAR_RANGE[1]);
    return { mean, logVar };
  }

  /** log p(x_T | z) per row: [N]. `x` holds every data column ([N, dim]). */
  logProb(z: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const out = this.out(z);
      const xt = takeColumns(x, this.columns);
      switch (this.head.kind) {
        case "bernoulli":
          return bernoulliLogits(out, xt);
        case "categorical":
          return categoricalLogProb(out, xt, this.head.k);
        case "gaussian": {
          const { mean, logVar } = this.gaussian(out);
          return gaussianLogProb(mean, logVar, xt);
        }
      }
    });
  }

  /** A draw of the targets given z: [N, T] (seeded). */
  sample(z: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => {
      const out = this.out(z);
      switch (this.head.kind) {
        case "bernoulli":
          return sampleBernoulli(out, seed);
        case "categorical":
          return sampleCategorical(out, this.head.k, seed);
        case "gaussian": {
          const { mean, logVar } = this.gaussian(out);
          return this.clip(sampleGaussian(mean, logVar, seed));
        }
      }
    });
  }

  /** The mean of the targets given z: [N, T] (σ(l) for Bernoulli, Σ o·p_o for Categorical). */
  mean(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const out = this.out(z);
      switch (this.head.kind) {
        case "bernoulli":
          return tf.sigmoid(out);
        case "categorical": {
          const k = this.head.k;
          const N = out.shape[0];
          const T = this.columns.length;
          const p = tf.softmax(out.reshape([N, T, k]), 2);
          return tf.sum(tf.mul(p, tf.range(0, k, 1, "float32")), 2) as tf.Tensor2D;
        }
        case "gaussian":
          return this.clip(this.gaussian(out).mean);
      }
    });
  }

  private clip(t: tf.Tensor2D): tf.Tensor2D {
    const h = this.head;
    return h.kind === "gaussian" && h.lo !== undefined && h.hi !== undefined ? tf.clipByValue(t, h.lo, h.hi) : t;
  }

  dispose(): void {
    this.net.dispose();
  }
}

/**
 * Σ_d log Bernoulli(x_d; σ(l_d)) per row as Σ_d (x_d·l_d − softplus(l_d)): the same value as
 * `bernoulliLogProb` (x log σ(l) + (1 − x) log(1 − σ(l)), since softplus(−l) = softplus(l) − l),
 * stable for any l, with one softplus instead of two (the VAE step's largest element-wise op).
 */
export function bernoulliLogits(logits: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), 1) as tf.Tensor1D);
}

/** Every observed factor of a latent model, as decoders. */
export class Decoders {
  readonly list: MlpDecoder[] = [];

  constructor(
    ir: ModelIR,
    readonly layout: LatentLayout,
    prefix: string,
    seed: number,
  ) {
    try {
      ir.factors.forEach((f, i) => {
        if (f.targets.length === 0 || layout.zpos[f.targets[0]] >= 0) return; // a prior
        if (f.family !== "mlp") {
          throw new ModelError(
            `\`${f.source}\`: in a latent-variable model gm builds observed variables decoded from the latent ones by \`mlp(hidden = [...])\``,
            "M0103",
            `write \`p(${variableOf(ir, f.targets[0]).name} | ${layout.latent[0]?.name ?? "z"}) = mlp(hidden = [...])\``,
          );
        }
        this.list.push(new MlpDecoder(f, ir, layout, `${prefix}/decoder${i}`, deriveSeed(seed, 100 + i)));
      });
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get variables(): tf.Variable[] {
    return this.list.flatMap((d) => d.net.variables);
  }

  /** log p(x | z) per row, summed over the decoders: [N]. */
  logProb(z: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => this.list.map((d) => d.logProb(z, x)).reduce((a, b) => tf.add(a, b)) as tf.Tensor1D);
  }

  /** Rows n × dim of draws (`mean`: the decoders' means instead), from codes z (n × zdim). */
  rows(z: Float32Array, n: number, options: { seed?: number; mean?: boolean; batch?: number }): Float32Array {
    const { dim, zdim } = this.layout;
    const out = new Float32Array(n * dim);
    const batch = options.batch ?? 500;
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      tf.tidy(() => {
        const zt = tf.tensor2d(z.subarray(start * zdim, (start + m) * zdim), [m, zdim]);
        this.list.forEach((d, i) => {
          const t = options.mean ? d.mean(zt) : d.sample(zt, deriveSeed(options.seed ?? 1, start * 131 + i));
          const v = t.dataSync();
          const T = d.columns.length;
          for (let r = 0; r < m; r++) for (let j = 0; j < T; j++) out[(start + r) * dim + d.columns[j]] = v[r * T + j];
        });
      });
    }
    return out;
  }

  paramCount(): number {
    return this.list.reduce((a, d) => a + d.net.paramCount(), 0);
  }

  invalidate(): void {
    for (const d of this.list) d.net.invalidate();
  }

  dispose(): void {
    for (const d of this.list) d.dispose();
  }
}

/**
 * M0103 for a discrete latent variable in a model that needs continuous codes (an encoder
 * `q(c | x)`: an AAE or a VAE; or a generator's input): gm's AAE matches codes to a prior it samples
 * and differentiates through, which needs real-valued codes; a discrete latent variable is summed
 * out exactly instead, without an encoder (docs/language.md, "Discrete latent variables").
 */
export function discreteCodeError(ir: ModelIR, code: VariableIR): ModelError {
  const decl = `latent ${code.name} : ${domainName(code.domain)}${code.shape.length ? `[${code.shapeText.join(", ")}]` : ""}`;
  const k = code.domain.kind === "categorical" ? code.domain.k : 2;
  const hasEncoder = ir.networks.some((n) => n.role === "posterior");
  return new ModelError(
    `\`${decl}\` is discrete: gm's ${hasEncoder ? "autoencoders (AAE, VAE) encode" : "generators read"} continuous codes only (\`latent z : Normal[d]\` with a prior \`normal\`, \`uniform(lo, hi)\` or \`mixture(k, radius)\`); a discrete code is not supported`,
    "M0103",
    `sum ${code.name} out exactly instead: drop ${hasEncoder ? `\`q(${code.name} | …)\` and ` : ""}\`fit\` (a mixture, trained by EM or by gradient); or make the code continuous with ${k} clusters: \`latent z : Normal[2]\`, \`p(z) = mixture(k = ${k}, radius = 2)\``,
  );
}

/** One prior factor over some code positions. */
interface PriorFactor {
  readonly family: "normal" | "uniform" | "mixture";
  readonly positions: Int32Array;
  readonly args: Readonly<Record<string, unknown>>;
  readonly source: string;
}

/** The prior p(z): one factor per latent group (`normal`, `uniform(lo, hi)`, `mixture(k, radius, scale)`). */
export class Prior {
  readonly factors: PriorFactor[] = [];

  constructor(
    ir: ModelIR,
    readonly layout: LatentLayout,
  ) {
    for (const f of ir.factors) {
      if (f.targets.length === 0 || layout.zpos[f.targets[0]] < 0) continue;
      const code = variableOf(ir, f.targets[0]);
      if (code.domain.kind === "bernoulli" || code.domain.kind === "categorical") throw discreteCodeError(ir, code);
      if (f.family !== "normal" && f.family !== "uniform" && f.family !== "mixture") {
        throw new ModelError(
          `\`${f.source}\`: a continuous latent variable takes a prior \`normal\`, \`uniform(lo, hi)\` or \`mixture(k, radius)\``,
          "M0103",
        );
      }
      this.factors.push({
        family: f.family,
        positions: Int32Array.from(f.targets, (e) => layout.zpos[e]),
        args: f.args,
        source: f.source,
      });
    }
  }

  /** Whether every latent element has the standard normal prior (the KL is then in closed form). */
  get standardNormal(): boolean {
    return this.factors.every((f) => f.family === "normal");
  }

  /** The k centres of a mixture over `d` dimensions: on a circle of `radius` in the first two. */
  static mixtureCentres(k: number, radius: number, d: number): Float64Array[] {
    return Array.from({ length: k }, (_, j) => {
      const c = new Float64Array(d);
      const a = (2 * Math.PI * j) / k;
      c[0] = radius * Math.cos(a);
      if (d > 1) c[1] = radius * Math.sin(a);
      return c;
    });
  }

  /** n draws of z, n × zdim row-major (seeded). */
  sample(n: number, seed: number): Float32Array {
    const zdim = this.layout.zdim;
    const out = new Float32Array(n * zdim);
    const rng = new Rng(seed);
    for (const f of this.factors) {
      const P = f.positions;
      if (f.family === "normal") {
        for (let i = 0; i < n; i++) for (const p of P) out[i * zdim + p] = rng.normal();
      } else if (f.family === "uniform") {
        const lo = f.args.lo as number;
        const hi = f.args.hi as number;
        for (let i = 0; i < n; i++) for (const p of P) out[i * zdim + p] = lo + (hi - lo) * rng.uniform();
      } else {
        const k = f.args.k as number;
        const scale = (f.args.scale as number | undefined) ?? 1;
        const centres = Prior.mixtureCentres(k, f.args.radius as number, P.length);
        for (let i = 0; i < n; i++) {
          const c = centres[rng.int(k)];
          P.forEach((p, j) => (out[i * zdim + p] = c[j] + scale * rng.normal()));
        }
      }
    }
    return out;
  }

  /** log p(z) of one code (JavaScript, float64); −Infinity outside a uniform's support. */
  logProb(z: ArrayLike<number>): number {
    let total = 0;
    for (const f of this.factors) {
      const P = f.positions;
      if (f.family === "normal") {
        for (const p of P) total += -0.5 * (LOG_2PI + z[p] * z[p]);
      } else if (f.family === "uniform") {
        const lo = f.args.lo as number;
        const hi = f.args.hi as number;
        for (const p of P) total += z[p] >= lo && z[p] <= hi ? -Math.log(hi - lo) : -Infinity;
      } else {
        const k = f.args.k as number;
        const s = (f.args.scale as number | undefined) ?? 1;
        const centres = Prior.mixtureCentres(k, f.args.radius as number, P.length);
        const terms = centres.map((c) => {
          let t = -Math.log(k);
          P.forEach((p, j) => (t += -0.5 * (LOG_2PI + 2 * Math.log(s) + ((z[p] - c[j]) / s) ** 2)));
          return t;
        });
        total += logSumExp(terms);
      }
    }
    return total;
  }
}

/** log Σ exp(v_i), shifted by the maximum (finite whenever one term is). */
export function logSumExp(v: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] > max) max = v[i];
  if (max === -Infinity || !Number.isFinite(max)) return max;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i] - max);
  return max + Math.log(s);
}

/** log (1/K Σ exp(v_i)): the IWAE estimate from K log-weights, shifted by the maximum. */
export function logMeanExp(v: ArrayLike<number>): number {
  return logSumExp(v) - Math.log(v.length);
}

/**
 * A running log-mean-exp over log-weights that arrive in chunks (K importance samples scored a
 * few at a time): keeps the maximum and Σ exp(v − max), rescaling when the maximum grows.
 */
export class LogMeanExp {
  private max = -Infinity;
  private sum = 0;
  private count = 0;

  add(v: number): void {
    this.count++;
    if (v === -Infinity) return;
    if (v > this.max) {
      this.sum = this.sum * Math.exp(this.max - v) + 1;
      this.max = v;
    } else this.sum += Math.exp(v - this.max);
  }

  /** log of the mean of exp over every value added (−Infinity when none is finite). */
  value(): number {
    if (this.count === 0) return NaN;
    return this.max === -Infinity ? -Infinity : this.max + Math.log(this.sum) - Math.log(this.count);
  }
}

/**
 * The encoder `q(z | x) = mlp(hidden = [..])` (the IR's network of role "posterior"): an MLP from
 * the data columns it reads to, per latent element, a mean and a log-variance (Gaussian; laid out
 * [means | log-variances]) or the code itself (`deterministic`). Its outputs are put in code order.
 */
export class Encoder {
  readonly net: Mlp;
  /** Whether q is a diagonal Gaussian (false: a deterministic code). */
  readonly gaussian: boolean;
  /** Data columns the encoder reads. */
  readonly columns: Int32Array;
  /** `order[j]`: the encoder output that is code position j. */
  private readonly order: Int32Array;

  constructor(ir: ModelIR, layout: LatentLayout, prefix: string, seed: number) {
    const nw = ir.networks.find((n) => n.role === "posterior");
    if (!nw)
      throw new ModelError(
        `model ${ir.name} has latent variables but no encoder`,
        "M0103",
        "add `q(z | x) = mlp(hidden = [...])`",
      );
    if (nw.network.kind !== "mlp")
      throw new ModelError(`\`${nw.source}\`: an encoder is an \`mlp(hidden = [...])\``, "M0103");
    const latentInput = Array.from(nw.inputs).find((e) => layout.column[e] < 0);
    if (latentInput !== undefined)
      throw new ModelError(`\`${nw.source}\`: an encoder reads observed variables only`, "M0103");
    this.gaussian = nw.network.output !== "code";
    this.columns = columnsOf(layout, nw.inputs);
    const order = new Int32Array(layout.zdim).fill(-1);
    nw.outputs.forEach((e, i) => (order[layout.zpos[e]] = i));
    const missing = order.indexOf(-1);
    if (missing >= 0 || nw.outputs.length !== layout.zdim) {
      throw new ModelError(
        `\`${nw.source}\`: the encoder must give every latent element a code (gm builds one encoder for all latent variables)`,
        "M0103",
        `write \`q(${layout.latent.map((v) => v.name).join(", ")} | …) = mlp(hidden = [...])\``,
      );
    }
    this.order = order;
    this.net = new Mlp(`${prefix}/encoder`, nw.network.sizes, { seed: deriveSeed(seed, 7) });
  }

  /** q's parameters for data x ([B, dim]): the mean (the code when deterministic) and log-variance, in code order. */
  apply(x: tf.Tensor2D): { mean: tf.Tensor2D; logVar?: tf.Tensor2D } {
    return tf.tidy(() => {
      const out = this.net.apply(takeColumns(x, this.columns));
      const Z = this.order.length;
      if (!this.gaussian) return { mean: takeColumns(out, this.order) };
      const mean = takeColumns(tf.slice(out, [0, 0], [out.shape[0], Z]), this.order);
      const logVar = takeColumns(tf.slice(out, [0, Z], [out.shape[0], Z]), this.order);
      return { mean, logVar };
    });
  }

  /** The codes (q's means) of n rows of data, n × zdim. */
  encode(x: Float32Array, n: number, dim: number, batch = 1000): Float32Array {
    const Z = this.order.length;
    const out = new Float32Array(n * Z);
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      const codes = tf.tidy(() =>
        this.apply(tf.tensor2d(x.subarray(start * dim, (start + m) * dim), [m, dim])).mean.dataSync(),
      );
      out.set(codes, start * Z);
    }
    return out;
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** Checks that data rows have the model's width (ModelError M0104). */
export function checkWidth(ir: ModelIR, x: Float32Array, n: number, dim: number): void {
  if (x.length !== n * dim) {
    throw new ModelError(
      `the data has ${n > 0 ? x.length / n : 0} values per example; model ${ir.name} observes ${dim}`,
      "M0104",
    );
  }
}

/**
 * What the VAE and the AAE share, written once: the layout of a latent model, its prior, decoders
 * p(x | z) and encoder q(z | x), and the maps between x and z built from them. Subclasses build
 * the decoders and the encoder (each with its own checks) and add their objectives and scores.
 */
export abstract class EncoderDecoderModel {
  readonly kind = "latent" as const;
  readonly layout: LatentLayout;
  readonly observed: readonly VariableIR[];
  readonly dim: number;
  readonly prior: Prior;
  readonly state: tf.Variable[] = [];
  abstract readonly decoders: Decoders;
  abstract readonly encoder: Encoder;

  constructor(readonly ir: ModelIR) {
    this.layout = latentLayout(ir);
    this.observed = this.layout.observed;
    this.dim = this.layout.dim;
    this.prior = new Prior(ir, this.layout);
  }

  /** The encoder's means (or deterministic codes): n × zdim. */
  encode(x: Float32Array, n: number): { codes: Float32Array; dim: number } {
    checkWidth(this.ir, x, n, this.dim);
    return { codes: this.encoder.encode(x, n, this.dim), dim: this.layout.zdim };
  }

  /** The decoders' means at codes z (n × zdim): n × dim. */
  decode(z: Float32Array, n: number): Float32Array {
    return this.decoders.rows(z, n, { mean: true });
  }

  /** Ancestral samples: z from the prior, then x from the decoders. */
  sample(n: number, seed: number): Float32Array {
    const z = this.prior.sample(n, deriveSeed(seed, 1));
    return this.decoders.rows(z, n, { seed: deriveSeed(seed, 2) });
  }

  invalidate(): void {
    this.decoders.invalidate();
    this.encoder.net.invalidate();
  }

  dispose(): void {
    this.decoders.dispose();
    this.encoder.dispose();
  }
}
