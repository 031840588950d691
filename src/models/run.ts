/**
 * Runs: everything between a command line and a trained network, for every family.
 *
 * - Settings: one typed config, resolved flags > train block > {@link DEFAULTS}; relative data
 *   paths in a train block resolve against the `.gm` file's folder (flags: the working folder).
 * - Data: the model's observed variables (latent elements are never data columns): one image
 *   variable, optionally one scalar label variable filled from the data's labels.
 * - `trainRun`: kind check, backend, build (memory checked before allocating), data, closed-form
 *   fit and gradient steps through `fit.ts`, a checkpoint after every epoch and on stop, a curve
 *   of every metric and a grid of samples at the end. `--resume` loads the checkpoint without
 *   TensorFlow.js, starts the backend, then decodes weights and optimizer state into it.
 * - `loadRun`, `scoreRun`, `sampleRun`: a trained run as `gm score` / `gm sample` use it.
 *
 * The CLI parses flags, renders events and installs signal handlers; nothing else.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { compileText } from "../compiler/compile";
import { dataSourceFromValue } from "../compiler/datasource";
import { outcomes, type DataSourceIR, type ModelIR, type VariableIR } from "../compiler/ir";
import { writeFileAtomic } from "../data/atomic";
import type { Dataset } from "../data/dataset";
import {
  DEFAULT_SPLIT,
  isFileSource,
  loadData,
  loadWhole,
  specFromPath,
  type DataSpec,
  type DataTarget,
  type TargetDomain,
} from "../data/spec";
import { DiagnosticBag, hasErrors, renderDiagnostic, type Diagnostic } from "../dsl/diagnostics";
import { parseValue } from "../dsl/parse";
import { InputError, RUN_CODES, RunError, UsageError } from "../errors";
import { VERSION } from "../version";
import { BACKEND_NAMES, initBackend, type BackendName } from "./backend";
import {
  CHECKPOINT_CODES,
  CheckpointError,
  loadCheckpoint,
  prepareRunDir,
  saveCheckpoint,
  type Checkpoint,
  type EpochRecord,
  type RunMeta,
  type RunSettings,
  type StoredTensor,
} from "./checkpoint";
import { Fitter, type FitPosition } from "./fit";
import { Gan } from "./gan";
import { curveSvg, gridPng, svgToPng } from "./images";
import { checkpointName } from "./lookup";
import type { GenerativeModel, ScoreKind, ScoreOptions, ScoreResult } from "./model";
import { buildModel, checkBuildable } from "./registry";
import { ModelError } from "./types";

/** gm's defaults for `gm train`, each stated once (the split is the data layer's `DEFAULT_SPLIT`). */
export const DEFAULTS = Object.freeze({ epochs: 10, batch: 100, lr: 1e-3, seed: 1, smoothing: 1 });

/** Settings given on the command line (already parsed to numbers); unset fields fall through. */
export interface TrainFlags {
  epochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  smoothing?: number;
  /** `--critic-steps`: a GAN's critic steps per generator step (refused on any other model). */
  criticSteps?: number;
  /** `--data`, parsed with {@link parseDataSource}; relative paths are relative to the working folder. */
  data?: DataSourceIR;
}

// ---------------------------------------------------------------------------------------------
// Data

/** Which observed variables the data fills: one image variable and at most one scalar label. */
export interface DataLayout {
  /** The observed variables, in declaration order (the data's columns). */
  observed: readonly VariableIR[];
  /** The variable the examples' values fill. */
  image: VariableIR;
  /** A scalar Categorical/Bernoulli variable filled from the examples' labels, if the model has one. */
  label?: VariableIR;
  /** Data columns: Σ size of the observed variables. */
  dim: number;
}

/** The observed variables of a model and which one the data's images and labels fill. */
export function dataLayout(ir: ModelIR): DataLayout {
  const observed = ir.variables.filter((v) => !v.latent);
  const dim = observed.reduce((a, v) => a + v.size, 0);
  if (observed.length === 1) return { observed, image: observed[0], dim };
  const scalarDiscrete = (v: VariableIR) => v.size === 1 && outcomes(v.domain) !== null;
  const images = observed.filter((v) => !scalarDiscrete(v));
  const labels = observed.filter(scalarDiscrete);
  if (observed.length === 2 && images.length <= 1) {
    const image = images[0] ?? observed[0];
    const label = observed.find((v) => v !== image)!;
    return { observed, image, label, dim };
  }
  throw new UsageError(
    `model ${ir.name} has ${observed.length} observed variables (${observed.map((v) => v.name).join(", ")}); gm reads one array per example, plus at most one scalar label`,
    labels.length > 1
      ? "keep one label variable, e.g. `y : Categorical(10)`"
      : "declare the data as one variable, e.g. `x : Bernoulli[28, 28]`",
  );
}

/** The default data of a model: MNIST, binarized at 0.5 for Bernoulli pixels. */
export function defaultData(ir: ModelIR): DataSourceIR {
  return dataLayout(ir).image.domain.kind === "bernoulli" ? { source: "mnist", binarize: 0.5 } : { source: "mnist" };
}

/** `source` with its relative `path` and `labels` resolved against `base`. */
export function resolveDataPaths(source: DataSourceIR, base: string): DataSourceIR {
  const abs = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(base, p));
  const out: Record<string, unknown> = { ...source };
  if (source.path !== undefined) out.path = abs(source.path);
  if (source.labels !== undefined) out.labels = abs(source.labels);
  return out as unknown as DataSourceIR;
}

/**
 * Parses `--data`: a source expression (`mnist`, `idx("a.gz", binarize = 0.5)`) or a bare path.
 * Returns the source, or the diagnostics that say why it is not one (the CLI prints them).
 */
export function parseDataSource(text: string): { source: DataSourceIR | null; diagnostics: Diagnostic[] } {
  const looksLikeExpr = /^[A-Za-z_]\w*\s*(\(|$)/.test(text.trim()) && !existsSync(text);
  if (!looksLikeExpr) return { source: specFromPath(text) as DataSourceIR, diagnostics: [] };
  const parsed = parseValue(text, "--data");
  const bag = new DiagnosticBag("--data");
  const ds = parsed.value ? dataSourceFromValue(parsed.value, { values: new Map() }, bag) : null;
  const diagnostics = [...parsed.diagnostics, ...bag.items];
  return { source: ds && !hasErrors(diagnostics) ? ds : null, diagnostics };
}

function targetDomain(v: VariableIR): TargetDomain {
  const d = v.domain;
  return d.kind === "categorical"
    ? { kind: "categorical", k: d.k }
    : d.kind === "real"
      ? { kind: "real", lo: d.lo, hi: d.hi }
      : { kind: d.kind };
}

/** Train and held-out examples, n × dim, columns = the observed variables in declaration order. */
export interface ModelData {
  train: Dataset;
  test: Dataset;
  dim: number;
}

/** Loads the data of a model's observed variables (images, and labels for a label variable). */
export function loadModelData(ir: ModelIR, source: DataSourceIR, split: readonly [number, number]): ModelData {
  const layout = dataLayout(ir);
  const raw = loadData(source as DataSpec, dataTarget(layout), split);
  return {
    train: withLabels(ir, layout, source, raw.train),
    test: withLabels(ir, layout, source, raw.test),
    dim: layout.dim,
  };
}

/** The data target of a model's observed variables: the image variable, and the label variable CSV columns name. */
function dataTarget(layout: DataLayout): DataTarget {
  const label = layout.label;
  return {
    shape: [...layout.image.shape],
    domain: targetDomain(layout.image),
    name: layout.image.name,
    ...(label ? { label: { name: label.name, k: outcomes(label.domain)! } } : {}),
  };
}

/**
 * Every example of a file or folder (`idx`, `csv`, `images`), in the file's order, as rows of the
 * model's observed columns: what `gm score`, `gm embed` and `gm anomaly` read from a file given
 * on the command line (the built-in sources give their held-out split instead).
 */
export function loadWholeData(ir: ModelIR, source: DataSourceIR): Dataset {
  const layout = dataLayout(ir);
  return withLabels(ir, layout, source, loadWhole(source as DataSpec, dataTarget(layout)));
}

/** Rows of the observed columns in declaration order: the label variable filled from the examples' labels. */
function withLabels(ir: ModelIR, layout: DataLayout, source: DataSourceIR, ds: Dataset): Dataset {
  if (!layout.label) return ds;
  const label = layout.label;
  const k = outcomes(label.domain)!;
  if (!ds.labels) {
    throw new InputError(
      `model ${ir.name} reads label ${label.name} from the data, but ${describeData(source)} has no labels`,
      source.source === "csv"
        ? `name the CSV columns after the model's variables, with a column ${label.name} (as gm sample --format csv writes them)`
        : 'give a labels file: idx("images.gz", labels = "labels.gz"), or use mnist',
    );
  }
  const x = new Float32Array(ds.n * layout.dim);
  for (let i = 0; i < ds.n; i++) {
    const y = ds.labels[i];
    if (!(y >= 0 && y < k))
      throw new InputError(
        `label ${y} of example ${i} of ${describeData(source)} is outside ${label.name}'s ${k} outcomes`,
      );
    let col = i * layout.dim;
    for (const v of layout.observed) {
      if (v === label) x[col] = y;
      else x.set(ds.x.subarray(i * v.size, (i + 1) * v.size), col);
      col += v.size;
    }
  }
  return { ...ds, x, shape: [layout.dim] };
}

/** A data source in words: `idx(path = "a.gz", binarize = 0.5)`. */
export function describeData(d: DataSourceIR | Record<string, unknown>): string {
  const args = Object.entries(d)
    .filter(([k]) => k !== "source")
    .map(([k, val]) => `${k} = ${JSON.stringify(val)}`);
  return `${String((d as { source: unknown }).source)}${args.length ? `(${args.join(", ")})` : ""}`;
}

// ---------------------------------------------------------------------------------------------
// Settings and backend

/**
 * The settings of a new run: flags > the model's train block > {@link DEFAULTS}. Relative data
 * paths of the train block resolve against the folder of `file`, those of `--data` against the
 * working folder; the stored settings hold absolute paths, so a run resumes from anywhere.
 */
export function resolveSettings(ir: ModelIR, file: string, flags: TrainFlags): RunSettings {
  const block = ir.train;
  const data = flags.data
    ? resolveDataPaths(flags.data, process.cwd())
    : block.data
      ? resolveDataPaths(block.data, dirname(resolve(file)))
      : defaultData(ir);
  return {
    epochs: flags.epochs ?? block.epochs ?? DEFAULTS.epochs,
    batch: flags.batch ?? block.batch ?? DEFAULTS.batch,
    lr: flags.lr ?? block.lr ?? DEFAULTS.lr,
    seed: flags.seed ?? block.seed ?? DEFAULTS.seed,
    smoothing: flags.smoothing ?? DEFAULTS.smoothing,
    data: { ...data },
    split: [...(block.split ?? DEFAULT_SPLIT)] as [number, number],
    backend: "",
    ...(ir.kind === "implicit" ? { criticSteps: flags.criticSteps ?? block.criticSteps ?? 1 } : {}),
  };
}

/** Starts the backend named by `--backend` (default auto); returns the name of the one running. */
export async function startBackend(name: string | undefined): Promise<string> {
  const b = (name ?? "auto") as BackendName;
  if (!BACKEND_NAMES.includes(b))
    throw new UsageError(`unknown backend ${name}`, `choose one of: ${BACKEND_NAMES.join(", ")}`);
  const r = await initBackend(b, { quiet: true });
  tf.env().set("PROD", true);
  return r.name;
}

// ---------------------------------------------------------------------------------------------
// Weights

/** Copies checkpoint tensors into the model's variables (and state), checking names, shapes and types. */
export function assignWeights(model: GenerativeModel, weights: ReadonlyMap<string, StoredTensor>, dir: string): void {
  const vars = [...model.variables, ...model.state];
  const wanted = new Set(vars.map((v) => checkpointName(v)));
  const extra = [...weights.keys()].filter((k) => !wanted.has(k));
  const where = join(dir, "model.json");
  if (extra.length)
    throw new InputError(
      `checkpoint ${dir} holds weight ${extra[0]}, which model ${model.ir.name} does not have; it was written for another model`,
      undefined,
      undefined,
      where,
    );
  for (const v of vars) {
    const name = checkpointName(v);
    const t = weights.get(name);
    if (!t)
      throw new InputError(
        `checkpoint ${dir} has no weight ${name}; it was written for another model`,
        undefined,
        undefined,
        where,
      );
    if (t.shape.join("x") !== v.shape.join("x"))
      throw new InputError(
        `checkpoint ${dir}: weight ${name} has shape [${t.shape}] but the model needs [${v.shape}]`,
        undefined,
        undefined,
        where,
      );
    if (t.dtype !== v.dtype)
      throw new InputError(
        `checkpoint ${dir}: weight ${name} is ${t.dtype} but the model needs ${v.dtype}`,
        undefined,
        undefined,
        where,
      );
    const tensor = tf.tensor(t.values, t.shape, t.dtype);
    v.assign(tensor);
    tensor.dispose();
  }
  model.invalidate();
}

function namedWeights(model: GenerativeModel): Array<{ name: string; tensor: tf.Tensor }> {
  return [...model.variables, ...model.state].map((v) => ({ name: checkpointName(v), tensor: v as tf.Tensor }));
}

// ---------------------------------------------------------------------------------------------
// Training

/** What `trainRun` needs. */
export interface TrainRequest {
  /** The `.gm` file (messages, relative data paths) and its text (saved in the run). */
  file: string;
  source: string;
  ir: ModelIR;
  flags: TrainFlags;
  /** Run directory (default `runs/<model>`). */
  out?: string;
  resume?: boolean;
  backend?: string;
  /** Polled between batches (an AbortSignal works): when set, the run saves and stops. */
  stop?: { readonly aborted: boolean };
}

/** What a run tells its caller as it goes (the CLI renders these). */
export interface TrainEvents {
  onStart?(info: {
    ir: ModelIR;
    params: bigint;
    backend: string;
    data: string;
    trainN: number;
    testN: number;
    dim: number;
    dir: string;
    resumed?: { epoch: number; batches: number };
  }): void;
  /** A remark worth a line (ignored flags on resume, the closed-form fit). */
  onNote?(text: string): void;
  onEpochStart?(epoch: number, epochs: number, batches: number): void;
  onBatch?(info: {
    epoch: number;
    batch: number;
    batches: number;
    losses: Record<string, number>;
    imagesPerSecond: number;
  }): void;
  onEpochEnd?(record: EpochRecord, dim: number): void;
  /** A stop request was honoured: the run is saved and `trainRun` returns `stopped`. */
  onStopped?(position: { epoch: number; batches: number }): void;
}

/** How `trainRun` ended. */
export type TrainResult =
  | { status: "done"; dir: string; ir: ModelIR; history: EpochRecord[]; dim: number; primary: string; files: string[] }
  | { status: "stopped"; dir: string; epoch: number; batches: number };

/** The stable names of settings a resumed run keeps, for the note about ignored flags. */
const KEPT_ON_RESUME = ["lr", "batch", "data", "seed", "smoothing", "criticSteps"] as const;

/** Trains (or resumes) a run; a diverged run throws RunError R0101 and keeps its last checkpoint. */
export async function trainRun(req: TrainRequest, events: TrainEvents = {}): Promise<TrainResult> {
  const { ir, file, source, flags } = req;
  // The kind comes first: a latent model is "not built yet", whatever its data would be.
  checkBuildable(ir);
  dataLayout(ir);
  if (flags.criticSteps !== undefined && ir.kind !== "implicit")
    throw new UsageError(
      ir.networks.some((n) => n.role === "critic")
        ? `--critic-steps sets a GAN's critic steps per generator step; model ${ir.name}'s critic (on its codes) runs every batch`
        : `--critic-steps sets a GAN's critic steps per generator step; model ${ir.name} has no critic`,
      "drop --critic-steps, or train a model with `x = generator(z) by …` and `fit adversarial(critic = …)`",
    );
  const dir = req.out ?? join("runs", ir.name);
  // An existing folder is checked now (a run there, a file, a non-empty folder); a new one is
  // created only once the data has loaded, so a bad --data leaves nothing behind.
  let prepared = Boolean(req.resume) || existsSync(dir);
  if (prepared) prepareRunDir(dir, { resume: Boolean(req.resume) });

  let resumeFrom: Checkpoint | null = null;
  let settings: RunSettings;
  if (req.resume) {
    resumeFrom = loadCheckpoint(dir);
    const { meta } = resumeFrom;
    if (meta.model !== ir.name)
      throw new InputError(
        `${dir} holds a run of model ${meta.model}, not ${ir.name}`,
        "resume with --model " + meta.model + ", or start a new run with --out",
        undefined,
        dir,
      );
    if (resumeFrom.source !== source)
      throw new InputError(
        `${file} changed since the run in ${dir} started`,
        "resume with the same .gm file, or start a new run with --out",
        undefined,
        file,
      );
    // A resumed run keeps its settings, except a larger --epochs.
    settings = { ...meta.settings, epochs: flags.epochs ?? meta.settings.epochs };
    const ignored = KEPT_ON_RESUME.filter((k) => flags[k] !== undefined);
    if (ignored.length)
      events.onNote?.(
        `--resume keeps the run's settings; ignoring ${ignored.map((k) => `--${k === "criticSteps" ? "critic-steps" : k}`).join(", ")}`,
      );
  } else {
    settings = resolveSettings(ir, file, flags);
  }

  // The backend starts before any tensor exists: weights are decoded into it afterwards.
  settings.backend = await startBackend(req.backend);
  const model = buildModel(ir, { seed: settings.seed, batch: settings.batch, backend: settings.backend });
  try {
    const data = loadModelData(ir, settings.data as unknown as DataSourceIR, settings.split);
    if (data.dim !== model.dim)
      throw new ModelError(
        `the data has ${data.dim} values per example; model ${ir.name} observes ${model.dim}`,
        "M0104",
      );
    if (!prepared) {
      prepareRunDir(dir, { resume: false });
      prepared = true;
    }
    const objective = model.objective({ lr: settings.lr, criticSteps: settings.criticSteps });
    const every = Object.fromEntries(
      objective.steps.filter((s) => (s.every ?? 1) !== 1).map((s) => [s.name, s.every!]),
    );
    if (Object.keys(every).length) settings.every = every;
    const partial = resumeFrom?.meta.partial;
    events.onStart?.({
      ir,
      params: ir.params,
      backend: settings.backend,
      data: describeData(settings.data),
      trainN: data.train.n,
      testN: data.test.n,
      dim: data.dim,
      dir,
      resumed: resumeFrom ? { epoch: resumeFrom.meta.epoch, batches: partial?.batches ?? 0 } : undefined,
    });
    const k = objective.steps.find((st) => st.name === "generator")?.every ?? 1;
    if (model.kind === "implicit")
      events.onNote?.(`${k} critic step${k === 1 ? "" : "s"} per generator step (critic_steps / --critic-steps)`);

    const history: EpochRecord[] = resumeFrom ? [...resumeFrom.meta.history] : [];
    let generation = resumeFrom ? resumeFrom.meta.generation : 0;
    const meta = (epoch: number, partialState?: RunMeta["partial"], finished = false): RunMeta => ({
      version: VERSION,
      model: ir.name,
      sourceFile: file,
      source: "model.gm",
      params: ir.params.toString(),
      dim: data.dim,
      settings,
      history,
      epoch,
      ...(partialState ? { partial: partialState } : {}),
      generation: ++generation,
      finished,
    });

    if (resumeFrom) assignWeights(model, resumeFrom.weights, dir);
    else if (objective.fitClosedForm) {
      const t0 = performance.now();
      const said = objective.fitClosedForm(data.train.x, data.train.n, { smoothing: settings.smoothing });
      events.onNote?.(`${said} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      model.invalidate();
    }

    if (objective.steps.length === 0) {
      // Nothing to train by gradient: one evaluation is the whole curve.
      if (history.length === 0) {
        const t0 = performance.now();
        const test = objective.evaluate(data.test.x, data.test.n);
        const train = objective.evaluate(data.train.x, data.train.n);
        const seconds = (performance.now() - t0) / 1000;
        const record = { epoch: 1, train, test, seconds, imagesPerSecond: data.train.n / Math.max(seconds, 1e-9) };
        history.push(record);
        events.onEpochEnd?.(record, data.dim);
      }
      await saveCheckpoint(dir, meta(1, undefined, true), namedWeights(model), {}, source);
    } else {
      const batchesPerEpoch = Math.ceil(data.train.n / settings.batch);
      const ck = resumeFrom?.meta;
      const start: FitPosition | undefined = ck
        ? partial
          ? { epoch: ck.epoch, ...partial }
          : { epoch: ck.epoch, batches: 0, step: ck.epoch * batchesPerEpoch, sums: {}, images: 0, seconds: 0 }
        : undefined;
      // Optimizer state of a step the objective does not have: an edited model.json (was exit 70).
      const stepNames = objective.steps.map((st) => st.name);
      for (const name of Object.keys(resumeFrom?.optimizers ?? {}))
        if (!stepNames.includes(name)) {
          const file = join(dir, "model.json");
          throw new CheckpointError(
            CHECKPOINT_CODES.invalid,
            `${file} is invalid: optimizers names a step ${JSON.stringify(name)}, which model ${ir.name} does not train (its steps: ${stepNames.join(", ") || "none"})`,
            { path: file, hint: "model.json was edited or damaged; restore it or train again" },
          );
        }
      const fitter: Fitter = new Fitter({
        objective,
        train: data.train,
        test: data.test,
        dim: data.dim,
        epochs: settings.epochs,
        batch: settings.batch,
        lr: settings.lr,
        seed: settings.seed,
        start,
        optimizerState: resumeFrom?.optimizers,
        stop: req.stop,
        onEpochStart: (epoch, batches) => events.onEpochStart?.(epoch, settings.epochs, batches),
        onBatch: (i) => events.onBatch?.(i),
        onEpochEnd: async (r) => {
          history.push(r);
          events.onEpochEnd?.(r, data.dim);
          // An implicit model has no likelihood curve to watch: keep a sample grid per epoch (mode collapse shows).
          if (model.kind === "implicit")
            writeFileAtomic(
              join(dir, `samples-epoch-${String(r.epoch).padStart(3, "0")}.png`),
              samplesPng(model, model.sample(64, settings.seed), 64),
            );
          await saveCheckpoint(
            dir,
            meta(r.epoch, undefined, r.epoch === settings.epochs),
            namedWeights(model),
            await fitter.optimizerWeights(),
            source,
          );
        },
        onStop: async (p) => {
          await saveCheckpoint(
            dir,
            meta(p.epoch, { batches: p.batches, step: p.step, sums: p.sums, images: p.images, seconds: p.seconds }),
            namedWeights(model),
            await fitter.optimizerWeights(),
            source,
          );
        },
      });
      try {
        const outcome = await fitter.run();
        if (outcome.status === "stopped") {
          events.onStopped?.({ epoch: outcome.epoch, batches: outcome.batches });
          return { status: "stopped", dir, epoch: outcome.epoch, batches: outcome.batches };
        }
        if (outcome.status === "diverged") {
          const kept = existsSync(join(dir, "model.json"))
            ? `the last good checkpoint (${history.length ? `epoch ${history[history.length - 1].epoch}` : "before the first epoch ended"}) is kept in ${dir}`
            : "no checkpoint was written";
          throw new RunError(
            RUN_CODES.diverged,
            `training diverged at epoch ${outcome.epoch}, batch ${outcome.batch}: the ${outcome.step} loss is ${outcome.loss} nats per example`,
            {
              path: dir,
              hint: `${kept}; try a smaller --lr (now ${settings.lr})`,
            },
          );
        }
      } finally {
        fitter.dispose();
      }
    }
    const files = await writeRunPictures(dir, ir, model, history, settings.seed);
    writeFileAtomic(join(dir, "history.json"), `${JSON.stringify(history, null, 1)}\n`);
    files.push(join(dir, "history.json"));
    return { status: "done", dir, ir, history, dim: data.dim, primary: objective.primary, files };
  } finally {
    model.dispose();
  }
}

/** Writes curve.svg, curve.png (every metric) and samples.png (64 samples) into `dir`; returns their paths. */
export async function writeRunPictures(
  dir: string,
  ir: ModelIR,
  model: GenerativeModel,
  history: readonly EpochRecord[],
  seed: number,
): Promise<string[]> {
  const svg = await curveSvg(history, `${ir.name}: training curve`);
  writeFileAtomic(join(dir, "curve.svg"), svg);
  writeFileAtomic(join(dir, "curve.png"), await svgToPng(svg));
  const n = 64;
  writeFileAtomic(join(dir, "samples.png"), samplesPng(model, model.sample(n, seed), n));
  return [join(dir, "curve.svg"), join(dir, "curve.png"), join(dir, "samples.png")];
}

/** A PNG grid of `n` samples (rows of `model.dim` values) of the model's image variable. */
export function samplesPng(model: GenerativeModel, samples: Float32Array, n: number): Uint8Array {
  const { image, observed } = dataLayout(model.ir);
  // Columns are the observed variables in declaration order; gridPng reads `offset` within a row.
  let col = 0;
  for (const v of observed) {
    if (v === image) break;
    col += v.size;
  }
  return gridPng({ ...image, offset: col }, samples, n, model.dim, image.size > 2000 ? 1 : 2);
}

// ---------------------------------------------------------------------------------------------
// Trained runs

/** A trained model rebuilt from its run directory. */
export interface LoadedRun {
  dir: string;
  meta: RunMeta;
  ir: ModelIR;
  model: GenerativeModel;
  backend: string;
}

/**
 * Rebuilds the model of run `dir` and loads its weights: the checkpoint is read and checked
 * without TensorFlow.js, then the backend starts, then the weights are decoded into it.
 */
export async function loadRun(dir: string, options: { backend?: string } = {}): Promise<LoadedRun> {
  const checkpoint = loadCheckpoint(dir);
  const { meta } = checkpoint;
  const where = join(dir, meta.source);
  const compiled = compileText(checkpoint.source, where, { checks: false });
  const errors = compiled.diagnostics.filter((d) => d.severity === "error");
  if (hasErrors(compiled.diagnostics)) {
    throw new InputError(
      `the .gm source saved in ${dir} no longer compiles: ${renderDiagnostic(errors[0], checkpoint.source).split("\n")[0]}`,
      undefined,
      undefined,
      where,
    );
  }
  const ir = compiled.models.find((m) => m.name === meta.model);
  if (!ir) throw new InputError(`${where} has no model ${meta.model}`, undefined, undefined, where);
  checkBuildable(ir);
  const backend = await startBackend(options.backend);
  const model = buildModel(ir, { seed: meta.settings.seed, batch: meta.settings.batch, backend });
  try {
    assignWeights(model, checkpoint.weights, dir);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { dir, meta, ir, model, backend };
}

/** Per-example scores of a run on its held-out split, or on other data. */
export interface RunScore {
  /** log p(x) per example (exact, a bound or an estimate: `kind`), nats. */
  values: Float64Array;
  kind: ScoreKind;
  /** Second per-example figures (a VAE's ELBO beside its IWAE estimate), as the model gives them. */
  extra?: ScoreResult["extra"];
  /** −mean of `values`: nats per example. */
  nll: number;
  /** `nll` / (dim · ln 2). */
  bitsPerDim: number;
  n: number;
  dim: number;
  data: Record<string, unknown>;
  seconds: number;
}

/**
 * Scores `run`: without `data`, its own held-out split; with `data` (a parsed `--data`), that
 * source's held-out part for the built-in datasets, or every example of a file or folder.
 * An implicit model (a GAN) has no likelihood: ModelError M0107.
 */
export function scoreRun(run: LoadedRun, data?: DataSourceIR, options: ScoreOptions = {}): RunScore {
  const { model, ir } = run;
  if (!model.score) {
    throw new ModelError(
      `model ${ir.name} is an implicit model (a generator): it defines no likelihood, so there is nothing to score`,
      "M0107",
      "look at samples instead (gm sample RUN), or measure their quality beside other models (gm fid RUN)",
    );
  }
  const { source, loaded, ds } = dataToScore(run, data);
  requireExamples(ds.n, scoredSet(run, source, data), data === undefined);
  const t0 = performance.now();
  const r = model.score(ds.x, ds.n, options);
  const seconds = (performance.now() - t0) / 1000;
  let s = 0;
  for (const v of r.values) s -= v;
  const nll = s / Math.max(ds.n, 1);
  return {
    values: r.values,
    kind: r.kind,
    ...(r.extra ? { extra: r.extra } : {}),
    nll,
    bitsPerDim: nll / (loaded.dim * Math.LN2),
    n: ds.n,
    dim: loaded.dim,
    data: { ...source },
    seconds,
  };
}

/**
 * Refuses an empty set of examples to score, encode or compare (InputError I0100): the mean of no
 * scores is no figure, and AUROC of an empty class is undefined. `what` names the set in words
 * ("the held-out split of four.csv"); `fromRun` says the set is the run's own held-out split, so
 * the hint suggests `--data` or a split that leaves a test part.
 */
export function requireExamples(n: number, what: string, fromRun: boolean, option = "--data SRC"): void {
  if (n > 0) return;
  throw new InputError(
    `${what} is empty: there are no examples to use`,
    fromRun
      ? `name other data with ${option}, or train with a split that leaves a test part, e.g. \`split = [0.8, 0.2]\``
      : `name a data source with at least one example (${option})`,
  );
}

/** What `gm score` reads: the run's held-out split, or `data`'s (every example of a file or folder). */
function dataToScore(run: LoadedRun, data?: DataSourceIR): { source: DataSourceIR; loaded: ModelData; ds: Dataset } {
  const source = data ? resolveDataPaths(data, process.cwd()) : (run.meta.settings.data as unknown as DataSourceIR);
  if (data && isFileSource(source)) {
    const ds = loadWholeData(run.ir, source);
    return {
      source,
      loaded: { train: { ...ds, x: new Float32Array(0), n: 0 }, test: ds, dim: dataLayout(run.ir).dim },
      ds,
    };
  }
  const loaded = loadModelData(run.ir, source, run.meta.settings.split);
  return { source, loaded, ds: loaded.test };
}

/** A GAN's critic on the data `gm score` reads and on as many generator samples (not a likelihood). */
export interface CriticScore {
  /** Mean critic logit D(x) on the held-out (or `--data`) images; positive: judged real. */
  real: number;
  /** Mean critic logit on `n` generator samples drawn with `seed`. */
  fake: number;
  n: number;
  seed: number;
  data: Record<string, unknown>;
  seconds: number;
}

/**
 * The mean critic logit of an implicit model (a GAN) on the data {@link scoreRun} would read and on as many
 * of its samples, drawn with `seed` (the same seed gives the same figure). Not a likelihood: how "real" the
 * trained critic finds each set. A model without a critic: ModelError M0107.
 */
export function criticScoreRun(run: LoadedRun, data?: DataSourceIR, seed = 1): CriticScore {
  const { model, ir } = run;
  if (!(model instanceof Gan))
    throw new ModelError(`model ${ir.name} is not a GAN: it has no critic to score with`, "M0107");
  const { source, ds } = dataToScore(run, data);
  requireExamples(ds.n, scoredSet(run, source, data), data === undefined);
  const t0 = performance.now();
  const real = model.criticMean(ds.x, ds.n);
  const fake = model.criticMean(model.sample(ds.n, seed), ds.n);
  return { real, fake, n: ds.n, seed, data: { ...source }, seconds: (performance.now() - t0) / 1000 };
}

/** The set {@link dataToScore} reads, in words: a file or folder whole, else a held-out split. */
function scoredSet(run: LoadedRun, source: DataSourceIR, data: DataSourceIR | undefined): string {
  const whole = data && isFileSource(source);
  const split = run.meta.settings.split;
  return whole ? describeData(source) : `the held-out split of ${describeData(source)} (split [${split.join(", ")}])`;
}

/** `n` samples of a run (n × dim), written as a PNG grid to `out` (default `RUN/samples-seedS.png`). */
export function sampleRun(
  run: LoadedRun,
  n: number,
  seed: number,
  out?: string,
): { samples: Float32Array; dim: number; file: string; seconds: number } {
  const t0 = performance.now();
  const samples = run.model.sample(n, seed);
  const seconds = (performance.now() - t0) / 1000;
  const file = out ?? join(run.dir, `samples-seed${seed}.png`);
  writeFileAtomic(file, samplesPng(run.model, samples, n));
  return { samples, dim: run.model.dim, file, seconds };
}
