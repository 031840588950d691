/**
 * `gm sample RUN [-n 64] [--seed S] [-o FILE] [--format png|csv|json] [--json]`: samples from a
 * trained model, written as a PNG grid, or as numbers: CSV (a header naming each element, `x_1`,
 * `x_2_3`; one row per sample — the format `csv("…")` data reads back) or JSON. Flags and
 * rendering only: src/models/run.ts loads the run, samples and writes the grid. `--manifold 20`:
 * for a 2-D latent, the decoder's images over a 20 × 20 grid of z (the classic VAE picture).
 */
import { join } from "node:path";
import { plural } from "../compiler/count";
import { writeFileAtomic } from "../data/atomic";
import { manifoldPng } from "../models/eval/tasks";
import { loadRun, sampleRun } from "../models/run";
import { EXIT, UsageError } from "./io";

/** Output formats of `gm sample`. */
const FORMATS = ["png", "csv", "json"] as const;

/** Options of `gm sample`. */
export interface SampleOptions {
  n?: string;
  seed?: string;
  out?: string;
  backend?: string;
  json?: boolean;
  format?: string;
  /** Side of a grid over a 2-D latent: the decoder's images (VAE, AAE). */
  manifold?: string;
}

/** Column names of the observed elements: `x_1`, `x_2_3` (1-based, row-major). */
function columnNames(vars: ReadonlyArray<{ name: string; shape: readonly number[]; size: number }>): string[] {
  const out: string[] = [];
  for (const v of vars) {
    for (let f = 0; f < v.size; f++) {
      const idx: number[] = [];
      let r = f;
      for (let a = v.shape.length - 1; a >= 0; a--) {
        idx.unshift((r % v.shape[a]) + 1);
        r = Math.floor(r / v.shape[a]);
      }
      out.push(idx.length ? `${v.name}_${idx.join("_")}` : v.name);
    }
  }
  return out;
}

/** Runs `gm sample`. */
export async function runSample(dir: string, opts: SampleOptions): Promise<number> {
  const n = Number(opts.n ?? 64);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new UsageError(`-n must be a whole number between 1 and 100000, got ${opts.n}`);
  const seed = opts.seed === undefined ? 1 : Number(opts.seed);
  if (opts.seed?.trim() === "" || !Number.isInteger(seed) || seed < 0)
    throw new UsageError(`--seed must be a whole number ≥ 0, got ${opts.seed}`);
  const format = (opts.format ?? "png") as (typeof FORMATS)[number];
  if (!FORMATS.includes(format))
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got ${opts.format}`);
  const side = opts.manifold === undefined ? undefined : Number(opts.manifold);
  if (side !== undefined && (!Number.isInteger(side) || side < 1 || side > 100))
    throw new UsageError(`--manifold must be a whole number between 1 and 100, got ${opts.manifold}`);
  const run = await loadRun(dir, { backend: opts.backend });
  try {
    if (side !== undefined) {
      const file = opts.out ?? join(run.dir, "manifold.png");
      writeFileAtomic(file, manifoldPng(run, side));
      process.stderr.write(
        `wrote ${file}: the decoder of ${run.ir.name} over a ${side} × ${side} grid of z in [−2.5, 2.5]²\n`,
      );
      return EXIT.ok;
    }
    if (format !== "png") {
      const t0 = performance.now();
      const samples = run.model.sample(n, seed);
      const dim = run.model.dim;
      const rows = Array.from({ length: n }, (_, i) => Array.from(samples.subarray(i * dim, (i + 1) * dim)));
      const file = opts.out ?? join(run.dir, `samples-seed${seed}.${format}`);
      const text =
        format === "csv"
          ? `${columnNames(run.model.observed).join(",")}\n${rows.map((r) => r.join(",")).join("\n")}\n`
          : `${JSON.stringify({ model: run.ir.name, n, seed, columns: columnNames(run.model.observed), samples: rows })}\n`;
      writeFileAtomic(file, text);
      process.stderr.write(
        `wrote ${file}: ${n} ${plural(n, "sample")} from ${run.ir.name} (seed ${seed}) in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`,
      );
      return EXIT.ok;
    }
    const r = sampleRun(run, n, seed, opts.out);
    if (opts.json) {
      const rows = Array.from({ length: n }, (_, i) => Array.from(r.samples.subarray(i * r.dim, (i + 1) * r.dim)));
      process.stdout.write(`${JSON.stringify({ model: run.ir.name, n, seed, samples: rows })}\n`);
    }
    process.stderr.write(
      `wrote ${r.file}: ${n} ${plural(n, "sample")} from ${run.ir.name} (seed ${seed}) in ${r.seconds.toFixed(2)} s\n`,
    );
    return EXIT.ok;
  } finally {
    run.model.dispose();
  }
}
