/**
 * `gm score RUN [--data …] [--json] [--per-image]`: held-out negative log-likelihood in nats
 * per example and bits per dimension, and what the score is (exact, a bound, an estimate);
 * per-example log-likelihoods on request (density estimation, anomaly scores: the least likely
 * first). Flags and rendering only: src/models/run.ts loads and scores the run.
 */
import { loadRun, scoreRun } from "../models/run";
import { colors, EXIT } from "./io";
import { parseDataFlag } from "./runs";

/** Options of `gm score`. */
export interface ScoreOptions {
  data?: string;
  json?: boolean;
  perImage?: boolean;
  backend?: string;
}

/** Runs `gm score`. */
export async function runScore(dir: string, opts: ScoreOptions): Promise<number> {
  const data = opts.data === undefined ? undefined : parseDataFlag(opts.data);
  const run = await loadRun(dir, { backend: opts.backend });
  try {
    const s = scoreRun(run, data);
    if (opts.json) {
      const out: Record<string, unknown> = { nll_nats: s.nll, bits_per_dim: s.bitsPerDim, n: s.n, kind: s.kind, model: run.ir.name, data: s.data };
      if (opts.perImage) out.log_likelihoods = Array.from(s.values);
      process.stdout.write(`${JSON.stringify(out, null, opts.perImage ? 0 : 2)}\n`);
    } else {
      const c = colors(process.stdout);
      const what = s.kind === "exact" ? "NLL" : s.kind === "bound" ? "NLL bound (−ELBO)" : s.kind === "estimate" ? "NLL estimate" : "reconstruction error";
      process.stdout.write(`${c.bold(run.ir.name)}: ${what} ${s.nll.toFixed(3)} nats per image, ${s.bitsPerDim.toFixed(4)} bits/dim over ${s.n} images (${s.seconds.toFixed(2)} s)\n`);
      if (opts.perImage) {
        const order = Array.from(s.values.keys()).sort((a, b) => s.values[a] - s.values[b]);
        process.stdout.write("index\tlog p(x) (nats)\n");
        for (const i of order) process.stdout.write(`${i}\t${s.values[i].toFixed(4)}\n`);
      }
    }
    return EXIT.ok;
  } finally {
    run.model.dispose();
  }
}
