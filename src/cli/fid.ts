/**
 * `gm fid RUN... [--data mnist|fashion_mnist] [-n 1000] [--seed S] [--json]`: the Fréchet
 * distance of each run's samples to the held-out images, in the features of gm's own small
 * classifier (not the ImageNet FID), with the real-image floor. Flags and rendering only:
 * src/models/eval/fid.ts trains (once) and caches the classifier and computes the distances.
 */
import { fidRuns, type FidDataset } from "../models/eval/fid";
import { EXIT, UsageError } from "./io";
import { table } from "./table";

/** Options of `gm fid`. */
export interface FidCliOptions {
  data?: string;
  n?: string;
  seed?: string;
  backend?: string;
  json?: boolean;
}

/** Runs `gm fid`. */
export async function runFid(dirs: string[], opts: FidCliOptions): Promise<number> {
  const dataset = (opts.data ?? "mnist") as FidDataset;
  if (dataset !== "mnist" && dataset !== "fashion_mnist")
    throw new UsageError(`--data must be mnist or fashion_mnist (28×28 images with 10 classes), got ${opts.data}`);
  const n = Number(opts.n ?? 1000);
  if (!Number.isInteger(n) || n < 2 || n > 100_000)
    throw new UsageError(`-n must be a whole number between 2 and 100000, got ${opts.n}`);
  const seed = opts.seed === undefined ? 1 : Number(opts.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number ≥ 0, got ${opts.seed}`);
  const r = await fidRuns(dirs, {
    dataset,
    n,
    seed,
    backend: opts.backend,
    log: (l) => process.stderr.write(`${l}\n`),
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return EXIT.ok;
  }
  const rows = [r.floor, ...r.rows].map((x) => [x.label, x.model, x.kind, String(x.n), x.fid.toFixed(2)]);
  process.stdout.write(
    `${table(["run", "model", "kind", "samples", "FD"], rows, [false, false, false, true, true])}\n`,
  );
  process.stdout.write(
    `FD: Fréchet distance to the ${r.dataset} held-out images in the 128 features of gm's classifier (784-256-128-10, held-out accuracy ${(100 * r.classifier.accuracy).toFixed(1)}%, ${r.classifier.trained ? "trained now and cached" : "cached"} in ${r.classifier.path}); lower is closer. Not the ImageNet FID: compare gm models with each other and with the floor (real training images).\n`,
  );
  return EXIT.ok;
}
