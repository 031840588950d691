/**
 * `gm sample RUN [-n 64] [--seed S] [-o grid.png] [--json]`: samples from a trained model,
 * written as a PNG grid (and, with --json, as numbers). Flags and rendering only:
 * src/models/run.ts loads the run, samples and writes the grid.
 */
import { loadRun, sampleRun } from "../models/run";
import { EXIT, UsageError } from "./io";

/** Options of `gm sample`. */
export interface SampleOptions {
  n?: string;
  seed?: string;
  out?: string;
  backend?: string;
  json?: boolean;
}

/** Runs `gm sample`. */
export async function runSample(dir: string, opts: SampleOptions): Promise<number> {
  const n = Number(opts.n ?? 64);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UsageError(`-n must be a whole number between 1 and 100000, got ${opts.n}`);
  const seed = opts.seed === undefined ? 1 : Number(opts.seed);
  if (opts.seed?.trim() === "" || !Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number ≥ 0, got ${opts.seed}`);
  const run = await loadRun(dir, { backend: opts.backend });
  try {
    const r = sampleRun(run, n, seed, opts.out);
    if (opts.json) {
      const rows = Array.from({ length: n }, (_, i) => Array.from(r.samples.subarray(i * r.dim, (i + 1) * r.dim)));
      process.stdout.write(`${JSON.stringify({ model: run.ir.name, n, seed, samples: rows })}\n`);
    }
    process.stderr.write(`wrote ${r.file}: ${n} samples from ${run.ir.name} (seed ${seed}) in ${r.seconds.toFixed(2)} s\n`);
    return EXIT.ok;
  } finally {
    run.model.dispose();
  }
}
