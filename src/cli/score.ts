/**
 * `gm score RUN [--data …] [--json] [--per-image]`: held-out negative log-likelihood in nats
 * per example and bits per dimension, and what the score is (exact, a bound, an estimate);
 * per-example log-likelihoods on request (density estimation, anomaly scores: the least likely
 * first). Flags and rendering only: src/models/run.ts loads and scores the run.
 */
import { loadRun, scoreRun } from "../models/run";
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
}

/** Runs `gm score`. */
export async function runScore(dir: string, opts: ScoreOptions): Promise<number> {
  const data = opts.data === undefined ? undefined : parseDataFlag(opts.data);
  const samples = opts.samples === undefined ? 1000 : Number(opts.samples);
  if (opts.samples?.trim() === "" || !Number.isInteger(samples) || samples < 1 || samples > 1_000_000)
    throw new UsageError(`--samples must be a whole number between 1 and 1000000, got ${opts.samples}`);
  const run = await loadRun(dir, { backend: opts.backend });
  try {
    const s = scoreRun(run, data, { samples });
    const elbo = s.extra?.elbo ? -mean(s.extra.elbo.values) : undefined;
    if (opts.json) {
      // nll_nats is the best figure the model offers for −log p(x): exact, or the IWAE estimate;
      // an AAE has none (null), and reports its reconstruction error instead.
      const out: Record<string, unknown> =
        s.kind === "reconstruction"
          ? {
              nll_nats: null,
              nll_kind: null,
              reconstruction_nats: s.nll,
              n: s.n,
              kind: s.kind,
              model: run.ir.name,
              data: s.data,
              note: "an AAE has no likelihood: the score is minus the reconstruction error",
            }
          : {
              nll_nats: s.nll,
              nll_kind: s.kind === "bound" ? "bound" : s.kind,
              bits_per_dim: s.bitsPerDim,
              n: s.n,
              kind: s.kind,
              model: run.ir.name,
              data: s.data,
            };
      if (s.kind === "estimate") out.samples = samples;
      if (elbo !== undefined) out.elbo_nats = elbo;
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
        `${c.bold(run.ir.name)}: ${what} ${s.nll.toFixed(3)} nats per image${perDim} over ${s.n} images (${s.seconds.toFixed(2)} s)\n`,
      );
      if (elbo !== undefined)
        process.stdout.write(`  NLL bound (−ELBO) ${elbo.toFixed(3)} nats per image: an upper bound on −log p(x)\n`);
      if (s.kind === "estimate")
        process.stdout.write(
          `  the IWAE figure is an estimate of −log p(x) from ${samples} importance samples; it falls towards −log p(x) as --samples grows\n`,
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

function mean(v: Float64Array): number {
  let t = 0;
  for (const x of v) t += x;
  return t / Math.max(v.length, 1);
}
