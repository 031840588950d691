/**
 * `gm score RUN [--data …] [--json] [--per-image]`: held-out negative log-likelihood in nats
 * per image and bits per dimension; per-image log-likelihoods on request (density estimation,
 * anomaly scores: the least likely images first).
 */
import { meanNll } from "../models/trainer";
import { colors, EXIT } from "./io";
import { loadModelData, loadRun, parseDataFlag, startBackend } from "./runs";

/** Options of `gm score`. */
export interface ScoreOptions {
  data?: string;
  json?: boolean;
  perImage?: boolean;
  backend?: string;
  split?: string;
}

/** Runs `gm score`. */
export async function runScore(dir: string, opts: ScoreOptions): Promise<number> {
  await startBackend(opts.backend);
  const run = loadRun(dir);
  const { settings } = run.checkpoint.meta;
  const source = opts.data ? parseDataFlag(opts.data) : (settings.data as never);
  const data = loadModelData(run.ir, source, settings.split);
  // Without --data: the run's own held-out split. With --data: that source's held-out part
  // for the built-in datasets, or every example of a file or folder.
  const ds = opts.data && (source.source === "idx" || source.source === "images") ? concat(data.train, data.test) : data.test;
  const dim = run.ir.n;
  const t0 = performance.now();
  const { mean, perExample } = meanNll((x) => run.model.logProb(x), ds.x, ds.n, dim);
  const seconds = (performance.now() - t0) / 1000;
  const bpd = mean / (dim * Math.LN2);
  if (opts.json) {
    const out: Record<string, unknown> = { nll_nats: mean, bits_per_dim: bpd, n: ds.n, model: run.ir.name, data: source };
    if (opts.perImage) out.log_likelihoods = Array.from(perExample, (v) => -v);
    process.stdout.write(`${JSON.stringify(out, null, opts.perImage ? 0 : 2)}\n`);
  } else {
    const c = colors(process.stdout);
    process.stdout.write(`${c.bold(run.ir.name)}: NLL ${mean.toFixed(3)} nats per image, ${bpd.toFixed(4)} bits/dim over ${ds.n} images (${seconds.toFixed(2)} s)\n`);
    if (opts.perImage) {
      const order = Array.from(perExample.keys()).sort((a, b) => perExample[b] - perExample[a]);
      process.stdout.write("index\tlog p(x) (nats)\n");
      for (const i of order) process.stdout.write(`${i}\t${(-perExample[i]).toFixed(4)}\n`);
    }
  }
  run.model.dispose();
  return EXIT.ok;
}

function concat(a: { x: Float32Array; n: number }, b: { x: Float32Array; n: number }) {
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  return { ...a, x, n: a.n + b.n };
}
