/**
 * `gm train FILE [--model M] [--epochs --batch --lr --data --seed --backend --out DIR --resume]`
 *
 * Tables are fitted in closed form (maximum likelihood, Laplace smoothing); neural families
 * (logistic, nade) by Adam. Each epoch shows a progress bar with the loss, then the held-out
 * NLL; every epoch ends with an atomic checkpoint; Ctrl-C saves and exits; `--resume`
 * continues the same curve. At the end: a summary table, curve.svg/.png and samples.png.
 */
import { existsSync, mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { outcomes, type ModelIR } from "../compiler/ir";
import { writeFileAtomic } from "../data/atomic";
import { saveCheckpoint, type EpochRecord, type RunMeta } from "../models/checkpoint";
import { buildExplicitModel, checkpointName, type ExplicitModel } from "../models/explicit";
import { meanNll, Trainer } from "../models/trainer";
import { gridPng, writeCurve } from "./images";
import { colors, compileOrReport, EXIT, InputError, pickModel, readText, UsageError } from "./io";
import { progressBar } from "./progress";
import { assignWeights, dataVariable, defaultData, loadModelData, parseDataFlag, startBackend } from "./runs";
import { table } from "./table";
import { loadCheckpoint } from "../models/checkpoint";

import { VERSION } from "../version";

/** Options of `gm train`. */
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
  quiet?: boolean;
}

function num(flag: string, value: string | undefined, integer: boolean, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || (min === 0 && !integer && n === 0)) {
    throw new UsageError(`--${flag} must be ${integer ? "a whole number" : "a number"} ${min > 0 ? `≥ ${min}` : "> 0"}, got ${value}`);
  }
  return n;
}

/** Runs `gm train`. */
export async function runTrain(file: string, opts: TrainOptions): Promise<number> {
  const compiled = compileOrReport(file);
  if (!compiled) return EXIT.diagnostics;
  const ir = pickModel(compiled.models, opts.model, file);
  const source = readText(file);
  const v = dataVariable(ir);
  const cfg = ir.train;
  const dir = opts.out ?? join("runs", ir.name);
  const out = process.stderr;
  const c = colors(out);

  // Settings: flags override the train block, which overrides gm's defaults.
  let settings: RunMeta["settings"] = {
    epochs: num("epochs", opts.epochs, true, 1) ?? cfg.epochs ?? 10,
    batch: num("batch", opts.batch, true, 1) ?? cfg.batch ?? 100,
    lr: num("lr", opts.lr, false, 0) ?? cfg.lr ?? 1e-3,
    seed: num("seed", opts.seed, true, 0) ?? cfg.seed ?? 1,
    smoothing: num("smoothing", opts.smoothing, false, 0) ?? 1,
    data: { ...(opts.data ? parseDataFlag(opts.data) : (cfg.data ?? defaultData(v))) },
    split: [...(cfg.split ?? [0.8, 0.2])] as [number, number],
    backend: "",
  };

  let resumeFrom: ReturnType<typeof loadCheckpoint> | null = null;
  if (existsSync(join(dir, "model.json"))) {
    if (!opts.resume) throw new UsageError(`${dir} already holds a run`, "continue it with --resume, or choose another directory with --out DIR");
    resumeFrom = loadCheckpoint(dir);
    if (resumeFrom.meta.model !== ir.name) throw new InputError(`${dir} holds a run of model ${resumeFrom.meta.model}, not ${ir.name}`);
    if (resumeFrom.source !== source) throw new InputError(`${file} changed since the run in ${dir} started`, "resume with the same .gm file, or start a new run with --out");
    // A resumed run keeps its settings, except a larger --epochs.
    settings = { ...resumeFrom.meta.settings, epochs: num("epochs", opts.epochs, true, 1) ?? resumeFrom.meta.settings.epochs };
    const ignored = (["lr", "batch", "data", "seed", "smoothing"] as const).filter((k) => opts[k] !== undefined);
    if (ignored.length) out.write(`${c.yellow("note")}: --resume keeps the run's settings; ignoring ${ignored.map((k) => `--${k}`).join(", ")}\n`);
  } else if (opts.resume) {
    throw new UsageError(`--resume: ${dir} holds no run to resume`, "start one without --resume");
  }

  settings.backend = await startBackend(opts.backend);
  const data = loadModelData(ir, settings.data as never, settings.split);
  const dim = ir.n;
  if (data.train.x.length !== data.train.n * dim) throw new InputError(`the data has ${data.train.x.length / data.train.n} values per example; model ${ir.name} has ${dim} elements`);

  const model = buildExplicitModel(ir, { seed: settings.seed });
  // The model's variables live on the backend: release them however the run ends.
  try {
    const count = model.paramCount();
    if (BigInt(count) !== ir.params) throw new Error(`built ${count} trainable parameters but the compiler counts ${ir.params} for model ${ir.name}`);
    mkdirSync(dir, { recursive: true });

    out.write(`${c.bold(`gm train ${basename(file)}`)}: model ${ir.name}, ${count.toLocaleString("en-US")} parameters, backend ${settings.backend}\n`);
    out.write(`data: ${describeData(settings.data)} — ${data.train.n} train / ${data.test.n} held-out examples of ${dim} values\n`);
    out.write(`run directory: ${dir}${resumeFrom ? ` (resuming after epoch ${resumeFrom.meta.epoch}${resumeFrom.meta.partial ? ` + ${resumeFrom.meta.partial.batches} batches` : ""})` : ""}\n`);

    const evaluate = () => meanNll((x) => model.logProb(x), data.test.x, data.test.n, dim).mean;
    const history: EpochRecord[] = resumeFrom ? [...resumeFrom.meta.history] : [];
    let generation = resumeFrom ? resumeFrom.meta.generation : 0;
    const meta = (epoch: number, partial?: RunMeta["partial"], finished = false): RunMeta => ({
      version: VERSION, model: ir.name, sourceFile: file, source: "model.gm", params: ir.params.toString(), dim,
      settings, history, epoch, partial, generation: ++generation, finished,
    });

    // Closed-form tables are fitted once, on the whole training set.
    const closed = model.modules.filter((m) => m.fitClosedForm);
    const gradientVars = model.modules.filter((m) => m.gradient).flatMap((m) => m.variables);
    if (resumeFrom) assignWeights(model, resumeFrom.weights, dir);
    else if (closed.length) {
      const t0 = performance.now();
      for (const m of closed) m.fitClosedForm!(data.train.x, data.train.n, settings.smoothing);
      out.write(`fitted ${closed.length} table factor${closed.length > 1 ? "s" : ""} in closed form (Laplace smoothing α = ${settings.smoothing}) in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
    }

    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      out.write(`\n${c.yellow("interrupted")}: saving a checkpoint after this batch (press Ctrl-C again to quit without saving)\n`);
    };
    process.on("SIGINT", onSigint);
    const save = async (m: RunMeta, trainer: Trainer | null) => {
      const vars = model.variables.map((x) => ({ name: checkpointName(x), tensor: x as tf.Tensor }));
      await saveCheckpoint(dir, m, vars, trainer ? await trainer.optimizerWeights() : null, source);
    };

    try {
      if (gradientVars.length === 0) {
        // Nothing to train by gradient: one evaluation is the whole curve.
        if (!resumeFrom || history.length === 0) {
          const t0 = performance.now();
          const testNll = evaluate();
          const trainNll = meanNll((x) => model.logProb(x), data.train.x, data.train.n, dim).mean;
          const seconds = (performance.now() - t0) / 1000;
          history.push({ epoch: 1, trainNll, testNll, seconds, imagesPerSecond: data.train.n / Math.max(seconds, 1e-9) });
          out.write(`closed form: train NLL ${trainNll.toFixed(2)} nats, held-out NLL ${testNll.toFixed(2)} nats (${(testNll / (dim * Math.LN2)).toFixed(4)} bits/dim)\n`);
        }
        await save(meta(1, undefined, true), null);
      } else {
        const bar = progressBar(opts.quiet);
        const trainer = new Trainer({
          x: data.train.x, n: data.train.n, dim,
          epochs: settings.epochs, batch: settings.batch, lr: settings.lr, seed: settings.seed,
          variables: gradientVars,
          loss: (x) => tf.neg(tf.mean(model.logProb(x))) as tf.Scalar,
          evaluate,
          divergeAbove: divergenceThreshold(ir),
          afterStep: () => model.invalidate(),
          start: resumeFrom ? { epoch: resumeFrom.meta.epoch, batches: resumeFrom.meta.partial?.batches ?? 0, lossSum: resumeFrom.meta.partial?.lossSum ?? 0, images: resumeFrom.meta.partial?.images ?? 0, seconds: resumeFrom.meta.partial?.seconds ?? 0 } : undefined,
          optimizerState: resumeFrom?.optimizer,
          onEpochStart: (epoch, batches) => bar.start(batches, `epoch ${epoch}/${settings.epochs}`),
          onBatch: (i) => bar.update(i.batch, { loss: i.loss.toFixed(2), speed: i.imagesPerSecond.toFixed(0) }),
          onEpochEnd: async (r) => {
            bar.stop();
            history.push(r);
            out.write(`epoch ${r.epoch}: train ${r.trainNll.toFixed(2)} nats, held-out NLL ${r.testNll.toFixed(2)} nats (${(r.testNll / (dim * Math.LN2)).toFixed(4)} bits/dim), ${r.seconds.toFixed(1)} s, ${r.imagesPerSecond.toFixed(0)} img/s\n`);
            await save(meta(r.epoch, undefined, r.epoch === settings.epochs), trainer);
          },
          shouldStop: () => interrupted,
          onInterrupt: async (s) => {
            bar.stop();
            await save(meta(s.epoch, { batches: s.batches, lossSum: s.lossSum, images: s.images, seconds: s.seconds }), trainer);
          },
        });
        const outcome = await trainer.run();
        if (outcome.status === "interrupted") {
          out.write(`saved ${dir} after epoch ${outcome.epoch} + ${outcome.batches} batches; continue with: gm train ${file} --out ${dir} --resume\n`);
          return 130;
        }
        if (outcome.status === "diverged") {
          bar.stop();
          const kept = existsSync(join(dir, "model.json"))
            ? `the last good checkpoint (${history.length ? `epoch ${history.length}` : "before the first epoch ended"}) is kept in ${dir}`
            : "no checkpoint was written";
          throw new InputError(
            `training diverged at epoch ${outcome.epoch}, batch ${outcome.batch}: the loss is ${outcome.loss} nats per example`,
            `${kept}; try a smaller --lr (now ${settings.lr})`,
          );
        }
      }
    } finally {
      process.off("SIGINT", onSigint);
    }

    const files = await finish(dir, ir, model, history, settings.seed);
    process.stdout.write(`${summary(ir, history, dim)}\n`);
    out.write(`wrote ${files.join(", ")}\n`);
    return EXIT.ok;
  } finally {
    model.dispose();
  }
}

/**
 * A mean NLL this far above the uniform distribution's (Σ ln k over the elements) is divergence:
 * an untrained network starts near the uniform NLL, and no sane training step goes 100× past it.
 */
function divergenceThreshold(ir: ModelIR): number {
  let uniform = 0;
  for (const v of ir.variables) uniform += v.size * Math.log(outcomes(v.domain) ?? 2);
  return 100 * Math.max(uniform, 1);
}

function describeData(d: Record<string, unknown>): string {
  const args = Object.entries(d).filter(([k]) => k !== "source").map(([k, val]) => `${k} = ${JSON.stringify(val)}`);
  return `${d.source}${args.length ? `(${args.join(", ")})` : ""}`;
}

/** Curve and sample images at the end of a run. */
async function finish(dir: string, ir: ModelIR, model: ExplicitModel, history: EpochRecord[], seed: number): Promise<string[]> {
  const files = await writeCurve(dir, history, `${ir.name}: negative log-likelihood`);
  const v = dataVariable(ir);
  const n = 64;
  const samples = model.sample(n, seed);
  writeFileAtomic(join(dir, "samples.png"), gridPng(v, samples, n, ir.n));
  writeFileAtomic(join(dir, "history.json"), `${JSON.stringify(history, null, 1)}\n`);
  return [...files, join(dir, "samples.png")];
}

function summary(ir: ModelIR, history: EpochRecord[], dim: number): string {
  const last = history[history.length - 1];
  const best = history.reduce((a, r) => (r.testNll < a.testNll ? r : a), history[0]);
  const total = history.reduce((a, r) => a + r.seconds, 0);
  return table(
    ["model", "epochs", "train NLL", "held-out NLL", "bits/dim", "best epoch", "time", "img/s"],
    [[ir.name, String(last.epoch), last.trainNll.toFixed(2), last.testNll.toFixed(2), (last.testNll / (dim * Math.LN2)).toFixed(4), `${best.epoch} (${best.testNll.toFixed(2)})`, `${total.toFixed(1)} s`, last.imagesPerSecond.toFixed(0)]],
    [false, true, true, true, true, false, true, true],
  );
}
