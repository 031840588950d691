/**
 * Exact parameter counts (BigInt) for every form of LANGUAGE.md §5 and every network the
 * models build. The networks' layer layouts are defined here, once: src/models builds exactly
 * these layers, and tests assert the built network has exactly this many trainable parameters.
 *
 * Conventions (docs/counting.md):
 * - a table row over k outcomes has k − 1 free parameters;
 * - logistic conditionals use k − 1 logits (the last outcome is the reference) and read each
 *   parent as one number; an `mlp` conditional reads its conditions with `inputsPerElement`
 *   (a Categorical(k) one-hot); encoders, critics and generators read each element as one
 *   number (a categorical value v as v / (k − 1)); networks emit per element: 1 logit
 *   (Bernoulli), k logits (Categorical(k)), mean and log-scale (continuous);
 * - dense layers have weights and biases; batch norm counts its scale and shift only.
 */
import type { Domain, NetworkSpec } from "./ir";
import { outcomes } from "./ir";

/** Outputs a network emits for one element of `d`. */
export function outputsPerElement(d: Domain): number {
  return d.kind === "bernoulli" ? 1 : d.kind === "categorical" ? d.k : 2;
}

/**
 * Inputs an `mlp` conditional `p(x | y) = mlp(…)` reads for one element of its conditions y:
 * a Bernoulli as 0/1 (1), a Categorical(k) one-hot (k), a continuous element as its value (1).
 */
export function inputsPerElement(d: Domain): number {
  return d.kind === "categorical" ? d.k : 1;
}

/** Π k over discrete domains, as BigInt; counts repeated k values with one power each. */
export function productOfOutcomes(ks: Iterable<number>): bigint {
  const counts = new Map<number, number>();
  for (const k of ks) counts.set(k, (counts.get(k) ?? 0) + 1);
  let p = 1n;
  for (const [k, c] of counts) p *= BigInt(k) ** BigInt(c);
  return p;
}

/** A dense stack in → h1 → … → out: Σ (in·out + out). */
export function mlpParams(sizes: readonly number[]): bigint {
  let total = 0n;
  for (let i = 0; i + 1 < sizes.length; i++) total += BigInt(sizes[i]) * BigInt(sizes[i + 1]) + BigInt(sizes[i + 1]);
  return total;
}

/**
 * NADE (Larochelle & Murray 2011): W (H×D), c (H), V (D×H), b (D) = 2DH + D + H; conditioned on
 * y (`p(x | y) = nade(…)`), plus W_y (H × |u|) for the |u| = `conditions` inputs of y
 * (`inputsPerElement`: one-hot for a Categorical).
 */
export function nadeParams(d: number, hidden: number, conditions = 0): bigint {
  const D = BigInt(d);
  const H = BigInt(hidden);
  return 2n * D * H + D + H + H * BigInt(conditions);
}

/**
 * PixelRNN (van den Oord et al. 2016), as gm builds it for an image of C channels:
 * - Row LSTM layer: input-to-state 1×3 convolution along the row (d_in → 4h, with bias) and
 *   state-to-state 1×3 convolution over the previous row (h → 4h, no bias);
 * - Diagonal BiLSTM layer: per direction, input-to-state 1×1 (d_in → 4h, with bias) and
 *   state-to-state 2×1 (h → 4h, no bias); the two directions are summed;
 * - d_in = C for the first layer (masked so a pixel never sees itself), h after;
 * - output: 1×1 convolution h → C·out (with bias), out = 1 (Bernoulli) or k (Categorical(k)).
 */
export function pixelRnnParams(s: Extract<NetworkSpec, { kind: "pixelrnn" }>): bigint {
  const h = BigInt(s.hidden);
  let total = 0n;
  for (let l = 0; l < s.layers; l++) {
    const din = BigInt(l === 0 ? s.channels : s.hidden);
    if (s.variant === "row_lstm") total += 3n * din * 4n * h + 4n * h + 3n * h * 4n * h;
    else total += 2n * (din * 4n * h + 4n * h + 2n * h * 4n * h);
  }
  const out = BigInt(s.channels * s.outPerChannel);
  return total + h * out + out;
}

/**
 * DCGAN-style generator for an H×W×C image (H, W divisible by 4), as in the reference:
 * dense z → 4b·(H/4)·(W/4), ReLU; transposed conv 4×4 stride 2 (4b → 2b), batch norm, ReLU;
 * transposed conv 4×4 stride 2 (2b → C).
 */
export function dcganGeneratorParams(
  zdim: number,
  base: number,
  height: number,
  width: number,
  channels: number,
): bigint {
  const b = BigInt(base);
  const hw = BigInt((height / 4) * (width / 4));
  const dense = BigInt(zdim) * 4n * b * hw + 4n * b * hw;
  const up1 = 16n * 4n * b * 2n * b + 2n * b;
  const bn = 2n * 2n * b;
  const up2 = 16n * 2n * b * BigInt(channels) + BigInt(channels);
  return dense + up1 + bn + up2;
}

/**
 * DCGAN-style critic: conv 4×4 stride 2 (C → 2b), LeakyReLU; conv 4×4 stride 2 (2b → 4b),
 * batch norm, LeakyReLU; dense 4b·(H/4)·(W/4) → 1.
 */
export function dcganCriticParams(base: number, height: number, width: number, channels: number): bigint {
  const b = BigInt(base);
  const hw = BigInt((height / 4) * (width / 4));
  const c1 = 16n * BigInt(channels) * 2n * b + 2n * b;
  const c2 = 16n * 2n * b * 4n * b + 4n * b;
  const bn = 2n * 4n * b;
  const dense = 4n * b * hw + 1n;
  return c1 + c2 + bn + dense;
}

/** Exact trainable parameters of a network spec. */
export function networkParams(s: NetworkSpec): bigint {
  switch (s.kind) {
    case "mlp":
      return mlpParams(s.sizes);
    case "nade":
      return nadeParams(s.d, s.hidden, s.conditions ?? 0);
    case "pixelrnn":
      return pixelRnnParams(s);
    case "dcgan-generator":
      return dcganGeneratorParams(s.zdim, s.base, s.height, s.width, s.channels);
    case "dcgan-critic":
      return dcganCriticParams(s.base, s.height, s.width, s.channels);
  }
}

/** Free parameters of a table over `target` given discrete parents: (k − 1)·Π k_parents. */
export function tableParams(target: Domain, parentKs: Iterable<number>): bigint {
  const k = outcomes(target);
  if (k === null) throw new Error("tableParams: continuous target");
  return BigInt(k - 1) * productOfOutcomes(parentKs);
}

/** Logistic conditional: (k − 1)·(1 + number of parents). */
export function logisticParams(target: Domain, parentCount: number): bigint {
  const k = outcomes(target);
  if (k === null) throw new Error("logisticParams: continuous target");
  return BigInt(k - 1) * BigInt(1 + parentCount);
}

/** `1234567` → `1,234,567`. */
export function withCommas(n: bigint): string {
  const s = (n < 0n ? -n : n).toString();
  // Groups of three from the right, in one pass (a lookahead regex is quadratic in the digits:
  // minutes for the 301,030 digits of 2^1000000).
  const head = s.length % 3 || 3;
  const parts = [s.slice(0, head)];
  for (let i = head; i < s.length; i += 3) parts.push(s.slice(i, i + 3));
  const out = parts.join(",");
  return n < 0n ? `-${out}` : out;
}

/**
 * The noun for a count: `plural(1, "parameter")` is `parameter`, any other count (0, 2, 1.5,
 * 10^300) `parameters`; `many` for irregular plurals.
 */
export function plural(n: number | bigint, one: string, many = `${one}s`): string {
  return n === 1 || n === 1n ? one : many;
}

/** `2^784 − 1` → `1.0174e+236` (exact digits are kept elsewhere). */
export function scientific(n: bigint, digits = 5): string {
  const s = (n < 0n ? -n : n).toString();
  if (s.length <= digits + 1) return n.toString();
  const mant = `${s[0]}.${s.slice(1, digits)}`;
  return `${n < 0n ? "-" : ""}${mant}e+${s.length - 1}`;
}
