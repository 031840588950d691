/**
 * `gm embed RUN [--data SRC] [-o codes.csv|codes.json] [--probe] [--plot latent.png] [--json]`:
 * representation learning with a trained latent-variable model. One row per example of the
 * run's held-out split (or of every example of a file or folder given with --data): the code
 * (`z1 … zd`; a VAE's or AAE's encoder mean, a mixture's posterior over c) and `label` when the
 * data has labels. `--probe` trains a linear softmax classifier on the codes of the training
 * split and prints its test accuracy beside the same probe on raw pixels and on a random linear
 * projection to the code's dimension. Flags and rendering only: src/models/eval/tasks.ts works.
 */
import { extname } from "node:path";
import { plural } from "../compiler/count";
import { writeFileAtomic } from "../data/atomic";
import { latentScatterSvg } from "../models/eval/plots";
import { encodeExamples, head, probeRun, runExamples, scatterCoordinates } from "../models/eval/tasks";
import { svgToPng } from "../models/images";
import { loadRun, requireExamples } from "../models/run";
import { colors, EXIT, UsageError } from "./io";
import { parseDataFlag } from "./runs";

/** Options of `gm embed`. */
export interface EmbedOptions {
  data?: string;
  out?: string;
  probe?: boolean;
  plot?: string;
  json?: boolean;
  limit?: string;
  backend?: string;
}

/** Runs `gm embed`. */
export async function runEmbed(dir: string, opts: EmbedOptions): Promise<number> {
  const data = opts.data === undefined ? undefined : parseDataFlag(opts.data);
  const format = opts.out === undefined ? undefined : extname(opts.out).toLowerCase();
  if (format !== undefined && format !== ".csv" && format !== ".json")
    throw new UsageError(`-o ${opts.out}: write codes to a .csv or a .json file`);
  if (opts.plot !== undefined && extname(opts.plot).toLowerCase() !== ".png")
    throw new UsageError(`--plot ${opts.plot}: the latent scatter is a .png file`);
  const limit = opts.limit === undefined ? undefined : Number(opts.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new UsageError(`--limit must be a whole number ≥ 1, got ${opts.limit}`);
  if (!opts.out && !opts.probe && !opts.plot && !opts.json)
    throw new UsageError("gm embed writes nothing without -o codes.csv, --probe, --plot latent.png or --json");
  const run = await loadRun(dir, { backend: opts.backend });
  try {
    const dim = run.model.dim;
    const sets = runExamples(run, data);
    const test = head(sets.test, dim, limit);
    requireExamples(test.n, test.name, data === undefined);
    const t0 = performance.now();
    const codes = encodeExamples(run, test);
    const seconds = (performance.now() - t0) / 1000;
    const result: Record<string, unknown> = {
      model: run.ir.name,
      code: codes.what,
      dim: codes.dim,
      n: test.n,
      data: { ...sets.source },
    };
    const c = colors(process.stderr);
    if (opts.out) {
      writeFileAtomic(
        opts.out,
        format === ".csv"
          ? codesCsv(codes.codes, test.n, codes.dim, test.labels)
          : codesJson(codes.codes, test.n, codes.dim, test.labels),
      );
      process.stderr.write(
        `wrote ${opts.out}: ${test.n} ${plural(test.n, "code")} of dimension ${codes.dim} (${codes.what}) in ${seconds.toFixed(2)} s\n`,
      );
      result.file = opts.out;
    }
    if (opts.plot) {
      const { xy, axes } = scatterCoordinates(codes, test.n);
      const svg = await latentScatterSvg(xy, test.n, test.labels, {
        title: `${run.ir.name}: ${codes.what}${codes.dim > 2 ? " (PCA)" : ""}`,
        axes,
      });
      writeFileAtomic(opts.plot, await svgToPng(svg));
      process.stderr.write(
        `wrote ${opts.plot}: ${Math.min(test.n, 5000)} ${plural(Math.min(test.n, 5000), "code")}${codes.dim > 2 ? `, PCA of ${codes.dim} dimensions to 2` : ""}\n`,
      );
      result.plot = opts.plot;
    }
    if (opts.probe) {
      const train = head(sets.train, dim, limit === undefined ? undefined : Math.max(limit, 1));
      const p = probeRun(run, train, test);
      result.probe = { codes: p.codes, pixels: p.pixels, random_projection: p.random_projection };
      result.probe_train = p.train;
      result.probe_test = p.test;
      if (!opts.json) {
        const pct = (v: number) => `${(100 * v).toFixed(1)} %`.padStart(7);
        const rows: [string, number][] = [
          [`codes (${codes.what}, ${p.dim}-D)`, p.codes],
          [`raw pixels (${dim}-D)`, p.pixels],
          [`random projection (${p.dim}-D)`, p.random_projection],
        ];
        const width = Math.max(...rows.map(([name]) => name.length));
        process.stdout.write(
          `${c.bold(run.ir.name)}: linear probe accuracy on ${p.test} test examples (trained on ${p.train})\n`,
        );
        for (const [name, acc] of rows) process.stdout.write(`  ${name.padEnd(width)}  ${pct(acc)}\n`);
      }
    }
    if (opts.json) {
      // Without -o the JSON is the codes' only output: it carries them (the rows of codesJson).
      if (!opts.out) {
        result.codes = Array.from({ length: test.n }, (_, i) =>
          Array.from(codes.codes.subarray(i * codes.dim, (i + 1) * codes.dim)),
        );
        if (test.labels) result.labels = Array.from(test.labels.subarray(0, test.n));
      }
      // One line when it carries the codes (as score --per-image): indented, each number would take a line.
      process.stdout.write(`${JSON.stringify(result, null, result.codes ? 0 : 2)}\n`);
    }
    return EXIT.ok;
  } finally {
    run.model.dispose();
  }
}

/** Codes as CSV: a header `z1,…,zd[,label]`, one row per example. */
export function codesCsv(codes: Float32Array, n: number, dim: number, labels?: Int32Array): string {
  const headRow = [...Array.from({ length: dim }, (_, j) => `z${j + 1}`), ...(labels ? ["label"] : [])].join(",");
  const lines = [headRow];
  for (let i = 0; i < n; i++) {
    const row = Array.from(codes.subarray(i * dim, (i + 1) * dim), (v) => String(v));
    if (labels) row.push(String(labels[i]));
    lines.push(row.join(","));
  }
  return `${lines.join("\n")}\n`;
}

/** Codes as JSON: `{"dim": d, "codes": [[…], …], "labels": […]}`. */
export function codesJson(codes: Float32Array, n: number, dim: number, labels?: Int32Array): string {
  const rows = Array.from({ length: n }, (_, i) => Array.from(codes.subarray(i * dim, (i + 1) * dim)));
  return `${JSON.stringify({ dim, n, codes: rows, ...(labels ? { labels: Array.from(labels.subarray(0, n)) } : {}) })}\n`;
}
