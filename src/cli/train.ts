/**
 * `gm train FILE [--model M] [--epochs --batch --lr --data --seed --smoothing --critic-steps --backend --out DIR
 * --resume]`
 *
 * Flags and rendering only: src/models/run.ts trains (settings, data, checkpoints, resume).
 * Ctrl-C, SIGTERM and SIGHUP ask the run to save after the current batch and exit 130; a second
 * one quits at once with exit 130, abandoning a save still being written (the previous
 * checkpoint stays loadable: every file is written beside its target and renamed).
 */
import { basename } from "node:path";
import { plural } from "../compiler/count";
import type { EpochRecord } from "../models/checkpoint";
import { trainRun, type TrainFlags } from "../models/run";
import { colors, compileOrReport, EXIT, pickModel, readText, UsageError } from "./io";
import { progressBar } from "./progress";
import { parseDataFlag } from "./runs";
import { table } from "./table";

/** Options of `gm train`, as commander gives them. */
export interface TrainOptions {
  model?: string;
  epochs?: string;
  batch?: string;
  lr?: string;
  data?: string;
  seed?: string;
  backend?: string;
  out?: string;
  resume?: boolean;
  smoothing?: string;
  /** `--critic-steps k`: a GAN's critic steps per generator step. */
  criticSteps?: string;
  quiet?: boolean;
}

/** A number flag: a whole number ≥ min, or a number > 0 (min 0, not integer). */
function num(flag: string, value: string | undefined, integer: boolean, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (
    value.trim() === "" ||
    !Number.isFinite(n) ||
    (integer && !Number.isInteger(n)) ||
    n < min ||
    (min === 0 && !integer && n === 0)
  ) {
    throw new UsageError(
      `--${flag} must be ${integer ? "a whole number" : "a number"} ${min > 0 ? `≥ ${min}` : "> 0"}, got ${value}`,
    );
  }
  return n;
}

/** The signals that stop a run with a save. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Runs `gm train`. */
export async function runTrain(file: string, opts: TrainOptions): Promise<number> {
  const compiled = compileOrReport(file);
  if (!compiled) return EXIT.diagnostics;
  const ir = pickModel(compiled.models, opts.model, file);
  const flags: TrainFlags = {
    epochs: num("epochs", opts.epochs, true, 1),
    batch: num("batch", opts.batch, true, 1),
    lr: num("lr", opts.lr, false, 0),
    seed: num("seed", opts.seed, true, 0),
    smoothing: num("smoothing", opts.smoothing, false, 0),
    criticSteps: num("critic-steps", opts.criticSteps, true, 1),
    data: opts.data === undefined ? undefined : parseDataFlag(opts.data),
  };
  const err = process.stderr;
  const c = colors(err);
  const bar = progressBar(opts.quiet);

  const stop = new AbortController();
  const onSignal = (signal: string) => {
    if (stop.signal.aborted) {
      // The second signal: quit now, unsaved. A save under way is abandoned; the previous
      // checkpoint stays loadable (every file is written beside its target, then renamed).
      err.write(`\n${c.yellow("quit")} (${signal}) without saving\n`);
      process.exit(EXIT.interrupted);
    }
    stop.abort();
    bar.stop();
    err.write(
      `\n${c.yellow("interrupted")}: saving a checkpoint after this batch (${signal}; press Ctrl-C again to quit without saving)\n`,
    );
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  // After SIGHUP the terminal is gone: a failed write to it must not stop the save.
  const ignore = () => {};
  process.stderr.on("error", ignore);
  process.stdout.on("error", ignore);
  try {
    const result = await trainRun(
      {
        file,
        source: readText(file),
        ir,
        flags,
        out: opts.out,
        resume: opts.resume,
        backend: opts.backend,
        stop: stop.signal,
      },
      {
        onStart: (i) => {
          err.write(
            `${c.bold(`gm train ${basename(file)}`)}: model ${i.ir.name}, ${i.params.toLocaleString("en-US")} ${plural(i.params, "parameter")}, backend ${i.backend}\n`,
          );
          err.write(
            `data: ${i.data} — ${i.trainN} train / ${i.testN} held-out ${plural(i.testN, "example")} of ${i.dim} ${plural(i.dim, "value")}\n`,
          );
          err.write(
            `run directory: ${i.dir}${i.resumed ? ` (resuming after epoch ${i.resumed.epoch}${i.resumed.batches ? ` + ${i.resumed.batches} ${plural(i.resumed.batches, "batch", "batches")}` : ""})` : ""}\n`,
          );
        },
        onNote: (text) => err.write(`${text.startsWith("--resume") ? `${c.yellow("note")}: ` : ""}${text}\n`),
        onEpochStart: (epoch, epochs, batches) => bar.start(batches, `epoch ${epoch}/${epochs}`),
        onBatch: (i) =>
          bar.update(i.batch, {
            loss:
              Object.values(i.losses)
                .map((l) => l.toFixed(2))
                .join(" / ") || "-",
            speed: i.imagesPerSecond.toFixed(0),
          }),
        onEpochEnd: (r, dim) => {
          bar.stop();
          err.write(`${epochLine(r, dim)}\n`);
        },
      },
    );
    if (result.status === "stopped") {
      err.write(
        `saved ${result.dir} after epoch ${result.epoch} + ${result.batches} ${plural(result.batches, "batch", "batches")}; continue with: gm train ${file} --out ${result.dir} --resume\n`,
      );
      return EXIT.interrupted;
    }
    process.stdout.write(`${summary(result.ir.name, result.history, result.dim)}\n`);
    err.write(`wrote ${result.files.join(", ")}\n`);
    return EXIT.ok;
  } finally {
    bar.stop();
    for (const s of STOP_SIGNALS) process.removeListener(s, onSignal);
    process.stderr.off("error", ignore);
    process.stdout.off("error", ignore);
  }
}

/** `epoch 3: train 92.10 nats, held-out NLL 93.40 nats (0.1719 bits/dim), 4.2 s, 9500 img/s` (every metric). */
function epochLine(r: EpochRecord, dim: number): string {
  const train = Object.entries(r.train).map(([k, v]) =>
    k === "nll" ? `train ${v.toFixed(2)} nats` : `train ${k} ${v.toFixed(2)}`,
  );
  const test = Object.entries(r.test).map(([k, v]) =>
    k === "nll"
      ? `held-out NLL ${v.toFixed(2)} nats (${(v / (dim * Math.LN2)).toFixed(4)} bits/dim)`
      : `held-out ${k} ${v.toFixed(2)}`,
  );
  const head = r.epoch === 1 && Object.keys(r.train).length === 0 ? "closed form" : `epoch ${r.epoch}`;
  return `${head}: ${[...train, ...test].join(", ")}, ${r.seconds.toFixed(1)} s, ${r.imagesPerSecond.toFixed(0)} img/s`;
}

/** The summary table: the last epoch's metrics, the best held-out value of the first metric, time. */
function summary(model: string, history: readonly EpochRecord[], dim: number): string {
  const last = history[history.length - 1];
  const trainKeys = Object.keys(last.train);
  const testKeys = Object.keys(last.test);
  const key = testKeys[0];
  const best = history.reduce((a, r) => ((r.test[key] ?? Infinity) < (a.test[key] ?? Infinity) ? r : a), history[0]);
  const total = history.reduce((a, r) => a + r.seconds, 0);
  const label = (k: string, split: string) => (k === "nll" ? `${split} NLL` : `${split} ${k}`);
  const headers = [
    "model",
    "epochs",
    ...trainKeys.map((k) => label(k, "train")),
    ...testKeys.map((k) => label(k, "held-out")),
    ...(testKeys.includes("nll") ? ["bits/dim"] : []),
    "best epoch",
    "time",
    "img/s",
  ];
  const row = [
    model,
    String(last.epoch),
    ...trainKeys.map((k) => last.train[k].toFixed(2)),
    ...testKeys.map((k) => last.test[k].toFixed(2)),
    ...(testKeys.includes("nll") ? [(last.test.nll / (dim * Math.LN2)).toFixed(4)] : []),
    `${best.epoch} (${(best.test[key] ?? NaN).toFixed(2)})`,
    `${total.toFixed(1)} s`,
    last.imagesPerSecond.toFixed(0),
  ];
  return table(
    headers,
    [row],
    headers.map((_, i) => i !== 0 && i !== headers.length - 3),
  );
}
