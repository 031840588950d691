/**
 * `gm verify FILE [--model M] [--runs N] [--seed S]`: the properties of src/models/verify.ts on
 * the user's own model with random parameters — densities normalize, the chain rule is
 * consistent, removed parents really do not matter, samples match the density. A failure shows
 * fast-check's counterexample; exit 1. Flags and rendering only.
 */
import { startBackend } from "../models/run";
import { verifyIr } from "../models/verify";
import { colors, compileOrReport, EXIT, pickModel, UsageError } from "./io";

/** Options of `gm verify`. */
export interface VerifyCliOptions {
  model?: string;
  runs?: string;
  seed?: string;
  backend?: string;
}

/** Runs `gm verify`. */
export async function runVerify(file: string, opts: VerifyCliOptions): Promise<number> {
  const r = compileOrReport(file);
  if (!r) return EXIT.diagnostics;
  const runs = Number(opts.runs ?? 20);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a whole number ≥ 1, got ${opts.runs}`);
  const seed = opts.seed === undefined ? 42 : Number(opts.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number ≥ 0, got ${opts.seed}`);
  const models = opts.model ? [pickModel(r.models, opts.model, file)] : r.models;
  const backend = await startBackend(opts.backend);
  const c = colors(process.stdout);
  let failed = false;
  for (const ir of models) {
    process.stdout.write(`${c.bold(`model ${ir.name}`)}\n`);
    const v = verifyIr(ir, { runs, seed, backend });
    if (v.skipped) process.stdout.write(`  skipped: ${v.skipped}\n`);
    for (const p of v.results) {
      const mark =
        p.status === "passed" ? c.green("passed ") : p.status === "failed" ? c.red("FAILED ") : c.dim("skipped");
      process.stdout.write(`  ${mark} ${p.name}: ${p.detail.split("\n").join("\n           ")}\n`);
      if (p.status === "failed") failed = true;
    }
  }
  return failed ? EXIT.diagnostics : EXIT.ok;
}
