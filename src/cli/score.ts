/**
 * `gm score RUN [--data …] [--json] [--per-image] [--seed S]`: held-out negative log-likelihood in nats
 * per example and bits per dimension, and what the score is (exact, a bound, an estimate);
 * per-example log-likelihoods on request (density estimation, anomaly scores: the least likely
 * first). A GAN has no likelihood: it gets its critic's mean logit on the held-out images and on as
 * many samples (seed S), named as such. `--json` has the same keys for every model ({@link scoreJson}).
 * Flags and rendering only: src/models/run.ts loads and scores the run.
 */
import { plural } from "../compiler/count";
import type { DataSourceIR } from "../compiler/ir";
import { criticScoreRun, describeData, loadRun, scoreRun, type LoadedRun } from "../models/run";
import { colors, EXIT, UsageError } from "./io";
import { parseDataFlag } from "./runs";

/** Options of `gm score`. */
export interface ScoreOptions {
  data?: string;
  json?: boolean;
  perImage?: boolean;
  backend?: string;
  /** Importance samples K of a latent model's IWAE estimate (default 1000). */
  samples?: string;
  /** Seed of a GAN's generator samples that its critic scores (default 1). */
  seed?: string;
}

/** Runs `gm score`. */
export async function runScore(dir: string, opts: ScoreOptions): Promise<number> {
  const data = opts.data === undefined ? undefined : parseDataFlag(opts.data);
  const samples = opts.samples === undefined ? 1000 : Number(opts.samples);
  if (opts.samples?.trim() === "" || !Number.isInteger(samples) || samples < 1 || samples > 1_000_000)
    throw new UsageError(`--samples must be a whole number between 1 and 1000000, got ${opts.samples}`);
  const seed = opts.seed === undefined ? 1 : Number(opts.seed);
  if (opts.seed?.trim() === "" || !Number.isInteger(seed) || seed < 0)
    throw new UsageError(`--seed must be a whole number ≥ 0, got ${opts.seed}`);
  const run = await loadRun(dir, { backend: opts.backend });
  try {
    if (run.model.kind === "implicit") return scoreCritic(run, data, seed, opts);
    const s = scoreRun(run, data, { samples });
    const elbo = s.extra?.elbo ? -mean(s.extra.elbo.values) : undefined;
    if (opts.json) {
      // nll_nats is the best figure the model offers for −log p(x): exact, or the IWAE estimate;
      // an AAE has none (null), and reports its reconstruction error instead.
      const out: Record<string, unknown> =
        s.kind === "reconstruction"
          ? scoreJson({
              reconstruction_nats: s.nll,
              n: s.n,
              kind: s.kind,
              model: run.ir.name,
              data: s.data,
              note: "an AAE has no likelihood: the score is minus the reconstruction error",
            })
          : scoreJson({
              nll_nats: s.nll,
              nll_kind: s.kind === "bound" ? "bound" : s.kind,
              bits_per_dim: s.bitsPerDim,
              elbo_nats: elbo ?? null,
              samples: s.kind === "estimate" ? samples : null,
              n: s.n,
              kind: s.kind,
              model: run.ir.name,
              data: s.data,
            });
      if (opts.perImage) out.log_likelihoods = Array.from(s.values);
      process.stdout.write(`${JSON.stringify(out, null, opts.perImage ? 0 : 2)}\n`);
    } else {
      const c = colors(process.stdout);
      const what =
        s.kind === "exact"
          ? "NLL"
          : s.kind === "bound"
            ? "NLL bound (−ELBO)"
            : s.kind === "estimate"
              ? `NLL estimate (IWAE, K = ${samples})`
              : "reconstruction error";
      const perDim = s.kind === "reconstruction" ? "" : `, ${s.bitsPerDim.toFixed(4)} bits/dim`;
      process.stdout.write(
        `${c.bold(run.ir.name)}: ${what} ${s.nll.toFixed(3)} nats per image${perDim} over ${s.n} ${plural(s.n, "image")} (${s.seconds.toFixed(2)} s)\n`,
      );
      if (elbo !== undefined)
        process.stdout.write(`  NLL bound (−ELBO) ${elbo.toFixed(3)} nats per image: an upper bound on −log p(x)\n`);
      if (s.kind === "estimate")
        process.stdout.write(
          `  the IWAE figure is an estimate of −log p(x) from ${samples} importance ${plural(samples, "sample")}; it falls towards −log p(x) as --samples grows\n`,
        );
      if (s.kind === "reconstruction")
        process.stdout.write(`  an AAE has no likelihood: this is −log p(x | z = encoder(x)), not −log p(x)\n`);
      if (opts.perImage) {
        const order = Array.from(s.values.keys()).sort((a, b) => s.values[a] - s.values[b]);
        process.stdout.write(
          s.kind === "reconstruction" ? "index\tlog p(x | z = encoder(x)) (nats)\n" : "index\tlog p(x) (nats)\n",
        );
        for (const i of order) process.stdout.write(`${i}\t${s.values[i].toFixed(4)}\n`);
      }
    }
    return EXIT.ok;
  } finally {
    run.model.dispose();
  }
}

/**
 * `gm score` on a GAN: no likelihood, so the critic's mean logit on the held-out images and on as many
 * generator samples, with the explanation and where to look instead. JSON keeps the other models' keys
 * (`nll_nats` and `nll_kind` null, as an AAE's) and adds `critic_mean_real`, `critic_mean_fake`.
 */
function scoreCritic(run: LoadedRun, data: DataSourceIR | undefined, seed: number, opts: ScoreOptions): number {
  if (opts.perImage)
    throw new UsageError(
      `--per-image lists log-likelihoods; model ${run.ir.name} is a GAN and has none`,
      "drop --per-image: gm score reports the critic's mean score for a GAN",
    );
  const s = criticScoreRun(run, data, seed);
  const note =
    "a GAN has no likelihood: the critic's mean logit log(D/(1 − D)) is how real the trained critic finds each set, not log p(x); look at samples (gm sample RUN) and compare sample quality with gm fid RUN (docs/sample-quality.md)";
  if (opts.json) {
    const out = scoreJson({
      n: s.n,
      kind: "implicit",
      model: run.ir.name,
      data: s.data,
      note,
      critic_mean_real: s.real,
      critic_mean_fake: s.fake,
      critic_score: "logit",
      seed: s.seed,
    });
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return EXIT.ok;
  }
  const c = colors(process.stdout);
  const images = data ? `${plural(s.n, "image")} of ${describeData(s.data)}` : `held-out ${plural(s.n, "image")}`;
  process.stdout.write(
    `${c.bold(run.ir.name)}: critic mean score (not a likelihood): ${s.real.toFixed(3)} on ${s.n} ${images}, ${s.fake.toFixed(3)} on ${s.n} generator ${plural(s.n, "sample")} (seed ${s.seed}), ${s.seconds.toFixed(2)} s\n` +
      `  the score is the critic's logit log(D/(1 − D)), where D is the probability it gives "real": positive means judged real\n` +
      `  a GAN is an implicit model: it defines no likelihood, so there is no NLL; look at samples (gm sample RUN) and compare sample quality with gm fid RUN (docs/sample-quality.md)\n`,
  );
  return EXIT.ok;
}

/**
 * The keys of `gm score --json`, in order, each present for every kind of model: a figure a model
 * does not have is null (an AAE's and a GAN's `nll_nats`, `nll_kind`, `bits_per_dim`; a GAN's
 * `reconstruction_nats`; the critic's figures of every other model), so a script reads the same
 * keys from every run. `log_likelihoods` is added with `--per-image`.
 */
const SCORE_KEYS = [
  "nll_nats",
  "nll_kind",
  "bits_per_dim",
  "elbo_nats",
  "samples",
  "reconstruction_nats",
  "critic_mean_real",
  "critic_mean_fake",
  "critic_score",
  "seed",
  "n",
  "kind",
  "model",
  "data",
  "note",
] as const;

/** `fields` with every {@link SCORE_KEYS} key, null where absent, in that order. */
export function scoreJson(fields: Partial<Record<(typeof SCORE_KEYS)[number], unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of SCORE_KEYS) out[k] = fields[k] ?? null;
  return out;
}

function mean(v: Float64Array): number {
  let t = 0;
  for (const x of v) t += x;
  return t / Math.max(v.length, 1);
}
