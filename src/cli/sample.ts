/**
 * `gm sample RUN [-n 64] [--seed S] [-o grid.png]`: ancestral samples from a trained model,
 * written as a PNG grid (and, with --json, as numbers).
 */
import { join } from "node:path";
import { writeFileAtomic } from "../data/atomic";
import { gridPng } from "./images";
import { EXIT, UsageError } from "./io";
import { dataVariable, loadRun, startBackend } from "./runs";

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
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number ≥ 0, got ${opts.seed}`);
  await startBackend(opts.backend);
  const run = loadRun(dir);
  const t0 = performance.now();
  const samples = run.model.sample(n, seed);
  const seconds = (performance.now() - t0) / 1000;
  const out = opts.out ?? join(dir, `samples-seed${seed}.png`);
  const v = dataVariable(run.ir);
  writeFileAtomic(out, gridPng(v, samples, n, run.ir.n, v.size > 2000 ? 1 : 2));
  if (opts.json) {
    const rows = Array.from({ length: n }, (_, i) => Array.from(samples.subarray(i * run.ir.n, (i + 1) * run.ir.n)));
    process.stdout.write(`${JSON.stringify({ model: run.ir.name, n, seed, samples: rows })}\n`);
  }
  process.stderr.write(`wrote ${out}: ${n} samples from ${run.ir.name} (seed ${seed}) in ${seconds.toFixed(2)} s\n`);
  run.model.dispose();
  return EXIT.ok;
}
