/**
 * `gm anomaly RUN [--normal SRC] --anomalous SRC [--samples K] [--limit N] [--plot scores.png] [--json]`:
 * anomaly detection with a trained model's score (exact log p(x) for explicit models, the IWAE
 * estimate for a VAE, minus the reconstruction error for an AAE — named in the output). The
 * normal set defaults to the run's held-out split; the anomalous set is a data source or path,
 * `fashion_mnist`, `noise` (uniform values) or `inverted` (the normal set inverted). Prints
 * AUROC, AUPRC and the false-positive rate at 95 % true positives, anomalous = positive.
 * Flags and rendering only: src/models/eval/tasks.ts scores and measures.
 */
import { extname } from "node:path";
import { writeFileAtomic } from "../data/atomic";
import { scoreHistogramsSvg } from "../models/eval/plots";
import { anomalyRun, head, runExamples, syntheticAnomalies } from "../models/eval/tasks";
import { svgToPng } from "../models/images";
import { loadRun } from "../models/run";
import { colors, EXIT, UsageError } from "./io";
import { parseDataFlag } from "./runs";

/** Options of `gm anomaly`. */
export interface AnomalyOptions {
  normal?: string;
  anomalous?: string;
  samples?: string;
  limit?: string;
  plot?: string;
  json?: boolean;
  backend?: string;
}

/** Runs `gm anomaly`. */
export async function runAnomaly(dir: string, opts: AnomalyOptions): Promise<number> {
  if (!opts.anomalous)
    throw new UsageError("gm anomaly needs --anomalous: a data source or path, fashion_mnist, noise or inverted");
  const synthetic = opts.anomalous === "noise" || opts.anomalous === "inverted";
  const normalSource = opts.normal === undefined ? undefined : parseDataFlag(opts.normal);
  const anomalousSource = synthetic ? undefined : parseDataFlag(opts.anomalous);
  const samples = opts.samples === undefined ? 100 : Number(opts.samples);
  if (!Number.isInteger(samples) || samples < 1 || samples > 1_000_000)
    throw new UsageError(`--samples must be a whole number between 1 and 1000000, got ${opts.samples}`);
  const limit = opts.limit === undefined ? undefined : Number(opts.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 2))
    throw new UsageError(`--limit must be a whole number ≥ 2, got ${opts.limit}`);
  if (opts.plot !== undefined && extname(opts.plot).toLowerCase() !== ".png")
    throw new UsageError(`--plot ${opts.plot}: the score histograms are a .png file`);
  const run = await loadRun(dir, { backend: opts.backend });
  try {
    const dim = run.model.dim;
    const normal = head(runExamples(run, normalSource).test, dim, limit);
    const anomalous = synthetic
      ? syntheticAnomalies(run, opts.anomalous, normal)!
      : head(runExamples(run, anomalousSource).test, dim, limit);
    const r = anomalyRun(run, normal, anomalous, { samples });
    if (opts.plot) {
      const svg = await scoreHistogramsSvg(r.normal, r.anomalous, {
        title: `${run.ir.name}: ${normal.name} vs ${anomalous.name}`,
        axis: r.score,
        names: ["normal", "anomalous"],
      });
      writeFileAtomic(opts.plot, await svgToPng(svg));
      process.stderr.write(`wrote ${opts.plot}\n`);
    }
    if (opts.json) {
      const out = {
        score: r.score,
        kind: r.kind,
        auroc: r.auroc,
        auprc: r.auprc,
        fpr_at_95_tpr: r.fpr_at_95_tpr,
        n_normal: r.n_normal,
        n_anomalous: r.n_anomalous,
        normal: normal.name,
        anomalous: anomalous.name,
        model: run.ir.name,
        ...(r.kind === "estimate" ? { samples } : {}),
        seconds: r.seconds,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      const c = colors(process.stdout);
      process.stdout.write(
        `${c.bold(run.ir.name)}: ${normal.name} (${r.n_normal}, normal) vs ${anomalous.name} (${r.n_anomalous}, anomalous)\n` +
          `  score: ${r.score}; anomalous = a low score (${r.seconds.toFixed(1)} s)\n` +
          `  AUROC ${r.auroc.toFixed(4)}   AUPRC ${r.auprc.toFixed(4)}   FPR at 95 % TPR ${r.fpr_at_95_tpr.toFixed(4)}\n`,
      );
    }
    return EXIT.ok;
  } finally {
    run.model.dispose();
  }
}
