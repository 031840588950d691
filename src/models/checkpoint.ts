/**
 * Run directories and checkpoints, in TensorFlow.js's standard artifacts: `model.json` with a
 * `weightsManifest` pointing at a binary weights file (little-endian float32/int32 values, one
 * tensor after another — what tf.io.encodeWeights writes, so tfjs can still read the weights),
 * the optimizers' state in the same form (one file per training step), the `.gm` source, and
 * gm's metadata (training history, settings) under `userDefinedMetadata.gm`.
 *
 *     run/
 *       model.json                 format "gm-checkpoint", formatVersion 2
 *       model.gm                   the source the run was trained from
 *       weights-000003.bin         generation 3 of the weights
 *       optimizer-nll-000003.bin   generation 3 of step `nll`'s Adam state
 *
 * Safety (docs/models.md, "Runs"):
 * - Writes are atomic: the files of a new generation are written first (each by a temp file
 *   beside it + rename), then `model.json` is replaced in one rename, then the files of older
 *   generations are removed. A crash at any point leaves a complete, loadable checkpoint; a
 *   failed write (disk full) removes what this generation wrote and raises a RunError.
 * - Only files a run wrote are ever removed: names of the form `weights-NNNNNN.bin` /
 *   `optimizer-STEP-NNNNNN.bin` in a directory that holds a run, and gm's own temp files.
 *   `prepareRunDir` refuses a non-empty directory that holds no run, except gm's own first save
 *   cut short (it holds {@link FIRST_SAVE_MARK}): its generation files and model.gm are removed.
 * - Loading never calls TensorFlow.js (it works before any backend starts): it validates the
 *   manifest (every field, every number), refuses a path that is not a plain file name inside
 *   the run directory, checks each file's size and SHA-256, and decodes the bytes itself.
 * - Run directories of gm 0.1 (no checksums, one optimizer, `trainNll`/`testNll`) still load.
 */
import { createHash } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { isTempFile, writeFileAtomic } from "../data/atomic";
import { makeDirs } from "../data/fsutil";
import { GmError, UsageError, USAGE_CODES, writeError, type GmErrorOptions } from "../errors";

/** A tensor as stored in a checkpoint: plain typed arrays, no TensorFlow.js. */
export interface StoredTensor {
  name: string;
  shape: number[];
  dtype: "float32" | "int32";
  values: Float32Array | Int32Array;
}

/** One completed epoch of the training curve: every metric of every step and of `evaluate`. */
export interface EpochRecord {
  epoch: number;
  /** Mean training losses over the epoch, by step name (nats per example), e.g. `{ nll: 90.1 }`. */
  train: Record<string, number>;
  /** Held-out metrics after the epoch, by name, e.g. `{ nll: 91.3 }`. */
  test: Record<string, number>;
  seconds: number;
  imagesPerSecond: number;
}

/** Settings a run was trained with. */
export interface RunSettings {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  smoothing: number;
  data: Record<string, unknown>;
  split: [number, number];
  backend: string;
  /** Cadence of each step (`every` of TrainStep), by step name; absent = every batch. */
  every?: Record<string, number>;
  /** A GAN's critic steps per generator step (`--critic-steps`, else the train block's); absent: the train block's. */
  criticSteps?: number;
}

/** gm's part of model.json. */
export interface RunMeta {
  version: string;
  model: string;
  sourceFile: string;
  /** Name of the copy of the `.gm` source inside the run directory (`"model.gm"`). */
  source: string;
  /** The compiler's exact parameter count, as a decimal string. */
  params: string;
  dim: number;
  settings: RunSettings;
  history: EpochRecord[];
  /** Epochs completed. */
  epoch: number;
  /** An interrupted epoch after `epoch`: batches done, global step, loss sums by step, images, seconds. */
  partial?: { batches: number; step: number; sums: Record<string, number>; images: number; seconds: number };
  generation: number;
  finished: boolean;
}

/** A checkpoint as loaded: metadata, weights and optimizer state by step, the `.gm` source. */
export interface Checkpoint {
  meta: RunMeta;
  weights: Map<string, StoredTensor>;
  /** Optimizer state by step name, each in the order it was saved. */
  optimizers: Record<string, StoredTensor[]>;
  source: string;
}

/** Codes of {@link CheckpointError}; see docs/diagnostics.md, "Runtime errors". */
export const CHECKPOINT_CODES = {
  /** No run there: the directory or its model.json does not exist. */
  notARun: "C0101",
  /** model.json cannot be read or parsed, or is not a gm checkpoint. */
  unreadable: "C0102",
  /** A field of model.json has the wrong type or an impossible value. */
  invalid: "C0103",
  /** A path in model.json is not a plain file name inside the run directory. */
  unsafePath: "C0104",
  /** A file the manifest names is missing or not a regular file. */
  missingFile: "C0105",
  /** A file's size differs from what the manifest says (truncated or padded). */
  wrongSize: "C0106",
  /** A file's SHA-256 differs from the one recorded when it was written. */
  checksum: "C0107",
  /** A weight holds NaN or ±Infinity. */
  notFinite: "C0108",
  /** `--out` names something that is not a directory. */
  notADirectory: "C0201",
  /** `--out` names a non-empty directory that holds no run. */
  notEmpty: "C0202",
} as const;

/** A run directory that is missing, corrupt or unsafe: one line naming the file, exit 1. */
export class CheckpointError extends GmError {
  constructor(
    code: (typeof CHECKPOINT_CODES)[keyof typeof CHECKPOINT_CODES],
    message: string,
    options: GmErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = "CheckpointError";
  }
}

/** The format version this module writes (gm 0.1's run directories have none: version 1). */
export const CHECKPOINT_FORMAT_VERSION = 2;

/** Options of {@link saveCheckpoint}; tests inject a failing writer here (disk full). */
export interface SaveOptions {
  /** Writes one file atomically (default: writeFileAtomic). */
  writeFile?: (path: string, data: string | Uint8Array) => void;
}

const gen = (g: number) => String(g).padStart(6, "0");
const STEP_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/**
 * Files a run writes per generation: `weights-NNNNNN.bin`, `optimizer-NNNNNN.bin` (0.1), `optimizer-STEP-NNNNNN.bin`.
 */
const GENERATION_FILE = /^(?:weights|optimizer(?:-[A-Za-z][A-Za-z0-9_]*)?)-\d{6,}\.bin$/;

/**
 * Written before a run's first checkpoint and removed once its model.json is in place: a folder
 * that holds this mark and no model.json is gm's own first save, cut short (a SIGKILL, a power
 * cut), and its generation files and source copy may be removed by the next `gm train` there. A
 * folder without it that holds no run is never touched (C0202).
 */
export const FIRST_SAVE_MARK = ".gm-first-save";
/** A plain file name: no folder part, no `..`, nothing hidden. */
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

type ManifestGroup = { paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string }> };
interface ModelJson {
  format: "gm-checkpoint";
  formatVersion?: number;
  generatedBy?: string;
  weightsManifest: ManifestGroup[];
  userDefinedMetadata: { gm: Record<string, unknown> };
}

/** Encodes tensors as tfjs does: each tensor's values, little-endian, one after another. */
async function encode(
  tensors: Array<{ name: string; tensor: tf.Tensor }>,
  what: string,
): Promise<{ bytes: Uint8Array; specs: ManifestGroup["weights"] }> {
  const specs: ManifestGroup["weights"] = [];
  const parts: Uint8Array[] = [];
  for (const { name, tensor } of tensors) {
    if (tensor.dtype !== "float32" && tensor.dtype !== "int32")
      throw new Error(`checkpoint: ${what} ${name} has dtype ${tensor.dtype}; only float32 and int32 are stored`);
    const data = await tensor.data();
    const typed =
      tensor.dtype === "float32" ? Float32Array.from(data as Float32Array) : Int32Array.from(data as Int32Array);
    const bytes = new Uint8Array(typed.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < typed.length; i++) {
      if (tensor.dtype === "float32") view.setFloat32(i * 4, typed[i], true);
      else view.setInt32(i * 4, typed[i], true);
    }
    parts.push(bytes);
    specs.push({ name, shape: [...tensor.shape], dtype: tensor.dtype });
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return { bytes: out, specs };
}

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

/** The files a model.json references (weights, optimizers, source), or [] when it cannot be read. */
function referencedFiles(dir: string): string[] {
  try {
    const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8")) as Partial<ModelJson>;
    const gm = (json.userDefinedMetadata?.gm ?? {}) as {
      source?: unknown;
      optimizer?: { paths?: unknown };
      optimizers?: Record<string, { paths?: unknown }>;
    };
    const groups: Array<{ paths?: unknown }> = [
      ...(json.weightsManifest ?? []),
      ...(gm.optimizer ? [gm.optimizer] : []),
      ...Object.values(gm.optimizers ?? {}),
    ];
    const files = groups.flatMap((g) =>
      Array.isArray(g?.paths) ? g.paths.filter((p): p is string => typeof p === "string") : [],
    );
    if (typeof gm.source === "string") files.push(gm.source);
    return files;
  } catch {
    return [];
  }
}

/**
 * Writes generation `meta.generation` of a checkpoint into `dir` (which `prepareRunDir` made):
 * the weights, one optimizer file per step, the source (once), then model.json, then removes the
 * files of the previous generation. Disk full → RunError R0102, and nothing of this generation
 * is left behind; the previous generation stays loadable.
 */
export async function saveCheckpoint(
  dir: string,
  meta: RunMeta,
  weights: Array<{ name: string; tensor: tf.Tensor }>,
  optimizers: Record<string, Array<{ name: string; tensor: tf.Tensor }>>,
  source: string,
  options: SaveOptions = {},
): Promise<void> {
  const write = options.writeFile ?? writeFileAtomic;
  if (!PLAIN_NAME.test(meta.source))
    throw new Error(`checkpoint: source name ${JSON.stringify(meta.source)} is not a plain file name`);
  const g = gen(meta.generation);
  const before = new Set(referencedFiles(dir));
  const first = !existsSync(join(dir, "model.json"));
  const written: string[] = [];
  const put = (name: string, data: string | Uint8Array) => {
    const path = join(dir, name);
    try {
      write(path, data);
    } catch (e) {
      // Remove what this generation wrote so far: the previous model.json does not name it.
      for (const f of written) if (!before.has(f)) tryUnlink(join(dir, f));
      throw e instanceof GmError ? e : writeError(path, e);
    }
    written.push(name);
  };
  if (first) put(FIRST_SAVE_MARK, `${meta.model}\n`);

  const files: Record<string, string> = {};
  const w = await encode(weights, "weight");
  const weightsFile = `weights-${g}.bin`;
  const optimizerGroups: Record<string, ManifestGroup> = {};
  const encoded: Array<[string, Uint8Array]> = [[weightsFile, w.bytes]];
  for (const [step, tensors] of Object.entries(optimizers)) {
    if (!STEP_NAME.test(step))
      throw new Error(`checkpoint: step name ${JSON.stringify(step)} must be a word (letters, digits, _)`);
    if (tensors.length === 0) continue;
    const o = await encode(tensors, `optimizer state of step ${step}`);
    const file = `optimizer-${step}-${g}.bin`;
    optimizerGroups[step] = { paths: [file], weights: o.specs };
    encoded.push([file, o.bytes]);
  }
  for (const [file, bytes] of encoded) {
    put(file, bytes);
    files[file] = sha256(bytes);
  }
  files[meta.source] = sha256(source);
  let current: string | null = null;
  try {
    current = readFileSync(join(dir, meta.source), "utf8");
  } catch {
    /* not written yet */
  }
  if (current !== source) put(meta.source, source);

  const modelJson: ModelJson & Record<string, unknown> = {
    format: "gm-checkpoint",
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    generatedBy: `gm ${meta.version}`,
    convertedBy: null,
    modelTopology: null,
    weightsManifest: [{ paths: [weightsFile], weights: w.specs }],
    userDefinedMetadata: { gm: { ...meta, optimizers: optimizerGroups, sha256: files } },
  };
  put("model.json", `${JSON.stringify(modelJson, null, 1)}\n`);
  if (first) tryUnlink(join(dir, FIRST_SAVE_MARK));
  // The previous generation's files are now unreferenced.
  const now = new Set([...Object.keys(files), "model.json"]);
  for (const f of before) if (!now.has(f) && GENERATION_FILE.test(f)) tryUnlink(join(dir, f));
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** `--resume` on a directory that holds no run (missing, or without a model.json). */
function noRunToResume(dir: string): UsageError {
  return new UsageError(
    `--resume: ${dir} holds no run to resume`,
    "start one without --resume",
    USAGE_CODES.noRunToResume,
    dir,
  );
}

/**
 * Makes `dir` ready for a run, before anything is trained:
 * - a new run (`resume: false`): the directory is created, or must be empty (gm's own stale temp
 *   files aside); one that already holds a run is a usage error (U0201: continue it with --resume);
 * - `resume: true`: the directory must hold a run (U0202 otherwise); files a crashed save of this
 *   run left behind (unreferenced generations, temp files) are removed.
 * Anything else is refused at once with one line naming the path: a file (C0201), a non-empty
 * folder that holds no run (C0202), a place that cannot be written (R0103).
 */
export function prepareRunDir(dir: string, opts: { resume: boolean }): void {
  if (dir.trim() === "") throw new UsageError("the run directory name is empty", "name one with --out DIR");
  let st: Stats | null = null;
  try {
    st = statSync(dir);
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOENT") throw writeError(dir, e, "create");
  }
  if (st === null) {
    if (opts.resume) throw noRunToResume(dir);
    try {
      makeDirs(dir);
    } catch (e) {
      throw writeError(dir, e, "create");
    }
    checkWritable(dir);
    return;
  }
  if (!st.isDirectory()) {
    throw new CheckpointError(
      CHECKPOINT_CODES.notADirectory,
      `${dir} is ${st.isFile() ? "a file" : "not a directory"}; a run needs a directory`,
      { path: dir, hint: "choose another place with --out DIR" },
    );
  }
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    throw writeError(dir, e);
  }
  const temps = entries.filter(isTempFile);
  let rest = entries.filter((f) => !isTempFile(f)).sort();
  const hasRun = rest.includes("model.json");
  if (!hasRun && rest.includes(FIRST_SAVE_MARK) && !opts.resume) {
    // gm's own first save, cut short: its generation files and source copy go, then the mark.
    const own = (f: string) => GENERATION_FILE.test(f) || f === "model.gm";
    for (const f of rest) if (own(f)) tryUnlink(join(dir, f));
    tryUnlink(join(dir, FIRST_SAVE_MARK));
    rest = rest.filter((f) => !own(f) && f !== FIRST_SAVE_MARK);
  }
  if (!hasRun) {
    if (opts.resume) throw noRunToResume(dir);
    if (rest.length > 0) {
      throw new CheckpointError(
        CHECKPOINT_CODES.notEmpty,
        `${dir} is not empty and holds no gm run (it has ${rest.length} file${rest.length > 1 ? "s" : ""}, e.g. ${rest[0]}); gm will not write into it`,
        {
          path: dir,
          hint: "choose an empty or new directory with --out DIR",
        },
      );
    }
  } else if (!opts.resume) {
    throw new UsageError(
      `${dir} already holds a run`,
      "continue it with --resume, or choose another directory with --out DIR",
      USAGE_CODES.runExists,
      dir,
    );
  }
  checkWritable(dir);
  for (const f of temps) tryUnlink(join(dir, f));
  if (hasRun) {
    // Generations a crashed save wrote but model.json never named.
    const keep = new Set(referencedFiles(dir));
    if (keep.size > 0) for (const f of rest) if (GENERATION_FILE.test(f) && !keep.has(f)) tryUnlink(join(dir, f));
  }
}

function checkWritable(dir: string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw writeError(dir, e);
  }
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/** A validation failure inside loadCheckpoint: becomes C0103 naming model.json. */
class Invalid extends Error {}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
function need(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Invalid(what);
}
const isInt = (x: unknown, min = 0): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= min;
const isNum = (x: unknown, min = -Infinity): x is number => typeof x === "number" && Number.isFinite(x) && x >= min;
const show = (x: unknown) =>
  typeof x === "string" ? JSON.stringify(x) : x === undefined ? "missing" : (JSON.stringify(x) ?? String(x));

function metrics(x: unknown, where: string): Record<string, number> {
  need(isObj(x), `${where} must be an object of numbers, not ${show(x)}`);
  for (const [k, v] of Object.entries(x))
    need(typeof v === "number" && !Number.isNaN(v), `${where}.${k} must be a number, not ${show(v)}`);
  return x as Record<string, number>;
}

/** Validates (and upgrades from gm 0.1) gm's metadata; throws Invalid naming the field. */
function validateMeta(raw: Record<string, unknown>, v1: boolean): RunMeta {
  for (const k of ["version", "model", "sourceFile", "source"])
    need(typeof raw[k] === "string", `${k} must be a string, not ${show(raw[k])}`);
  need(
    typeof raw.params === "string" && /^\d+$/.test(raw.params),
    `params must be a decimal string, not ${show(raw.params)}`,
  );
  need(isInt(raw.dim, 1), `dim must be a whole number ≥ 1, not ${show(raw.dim)}`);
  const s = raw.settings;
  need(isObj(s), `settings must be an object, not ${show(s)}`);
  need(isInt(s.epochs, 1), `settings.epochs must be a whole number ≥ 1, not ${show(s.epochs)}`);
  need(isInt(s.batch, 1), `settings.batch must be a whole number ≥ 1, not ${show(s.batch)}`);
  need(isNum(s.lr) && s.lr > 0, `settings.lr must be a number > 0, not ${show(s.lr)}`);
  need(isInt(s.seed), `settings.seed must be a whole number ≥ 0, not ${show(s.seed)}`);
  need(isNum(s.smoothing, 0), `settings.smoothing must be a number ≥ 0, not ${show(s.smoothing)}`);
  need(isObj(s.data), `settings.data must be an object, not ${show(s.data)}`);
  need(
    Array.isArray(s.split) && s.split.length === 2 && s.split.every((x) => isNum(x, 0) && x <= 1),
    `settings.split must be two numbers in [0, 1], not ${show(s.split)}`,
  );
  need(typeof s.backend === "string", `settings.backend must be a string, not ${show(s.backend)}`);
  if (s.every !== undefined) {
    need(isObj(s.every), `settings.every must be an object, not ${show(s.every)}`);
    for (const [k, e] of Object.entries(s.every))
      need(isInt(e, 1), `settings.every.${k} must be a whole number ≥ 1, not ${show(e)}`);
  }
  if (s.criticSteps !== undefined) {
    need(isInt(s.criticSteps, 1), `settings.criticSteps must be a whole number ≥ 1, not ${show(s.criticSteps)}`);
  }
  need(Array.isArray(raw.history), `history must be a list, not ${show(raw.history)}`);
  const history: EpochRecord[] = raw.history.map((h: unknown, i) => {
    need(isObj(h), `history[${i}] must be an object`);
    need(isInt(h.epoch, 1), `history[${i}].epoch must be a whole number ≥ 1, not ${show(h.epoch)}`);
    need(isNum(h.seconds, 0), `history[${i}].seconds must be a number ≥ 0, not ${show(h.seconds)}`);
    need(
      isNum(h.imagesPerSecond, 0),
      `history[${i}].imagesPerSecond must be a number ≥ 0, not ${show(h.imagesPerSecond)}`,
    );
    if (v1 && h.train === undefined) {
      need(
        typeof h.trainNll === "number" && typeof h.testNll === "number",
        `history[${i}] must have trainNll and testNll`,
      );
      return {
        epoch: h.epoch,
        train: { nll: h.trainNll },
        test: { nll: h.testNll },
        seconds: h.seconds,
        imagesPerSecond: h.imagesPerSecond,
      };
    }
    return {
      epoch: h.epoch,
      train: metrics(h.train, `history[${i}].train`),
      test: metrics(h.test, `history[${i}].test`),
      seconds: h.seconds,
      imagesPerSecond: h.imagesPerSecond,
    };
  });
  need(isInt(raw.epoch), `epoch must be a whole number ≥ 0, not ${show(raw.epoch)}`);
  need(isInt(raw.generation, 1), `generation must be a whole number ≥ 1, not ${show(raw.generation)}`);
  need(typeof raw.finished === "boolean", `finished must be true or false, not ${show(raw.finished)}`);
  let partial: RunMeta["partial"];
  if (raw.partial !== undefined && raw.partial !== null) {
    const p = raw.partial;
    need(isObj(p), `partial must be an object, not ${show(p)}`);
    need(isInt(p.batches), `partial.batches must be a whole number ≥ 0, not ${show(p.batches)}`);
    need(isInt(p.images), `partial.images must be a whole number ≥ 0, not ${show(p.images)}`);
    need(isNum(p.seconds, 0), `partial.seconds must be a number ≥ 0, not ${show(p.seconds)}`);
    if (v1 && p.sums === undefined) {
      need(isNum(p.lossSum), `partial.lossSum must be a finite number, not ${show(p.lossSum)}`);
      // NOTE: gm 0.1 did not record the global step; its families draw no noise, so the batches of the partial epoch
      // stand in.
      partial = { batches: p.batches, step: p.batches, sums: { nll: p.lossSum }, images: p.images, seconds: p.seconds };
    } else {
      need(isInt(p.step), `partial.step must be a whole number ≥ 0, not ${show(p.step)}`);
      const sums = metrics(p.sums, "partial.sums");
      for (const [k, x] of Object.entries(sums)) need(Number.isFinite(x), `partial.sums.${k} must be finite, not ${x}`);
      partial = { batches: p.batches, step: p.step, sums, images: p.images, seconds: p.seconds };
    }
  }
  const settings: RunSettings = {
    epochs: s.epochs,
    batch: s.batch,
    lr: s.lr,
    seed: s.seed,
    smoothing: s.smoothing,
    data: s.data,
    split: [s.split[0], s.split[1]] as [number, number],
    backend: s.backend,
    ...(s.every !== undefined ? { every: s.every as Record<string, number> } : {}),
    ...(s.criticSteps !== undefined ? { criticSteps: s.criticSteps as number } : {}),
  };
  return {
    version: raw.version as string,
    model: raw.model as string,
    sourceFile: raw.sourceFile as string,
    source: raw.source as string,
    params: raw.params,
    dim: raw.dim,
    settings,
    history,
    epoch: raw.epoch,
    ...(partial ? { partial } : {}),
    generation: raw.generation,
    finished: raw.finished,
  };
}

/** Validates a tfjs manifest group: plain file names, named float32/int32 tensors with whole-number shapes. */
function validateGroup(g: unknown, where: string, floatsOnly: boolean): ManifestGroup {
  need(isObj(g), `${where} must be an object`);
  need(
    Array.isArray(g.paths) && g.paths.length > 0 && g.paths.every((p) => typeof p === "string"),
    `${where}.paths must be a list of file names`,
  );
  need(Array.isArray(g.weights), `${where}.weights must be a list`);
  const names = new Set<string>();
  for (const [i, w] of g.weights.entries()) {
    need(isObj(w) && typeof w.name === "string", `${where}.weights[${i}].name must be a string`);
    need(!names.has(w.name), `${where} names ${w.name} twice`);
    names.add(w.name);
    need(
      Array.isArray(w.shape) && w.shape.every((d) => isInt(d)),
      `${where}: ${w.name} must have a shape of whole numbers, not ${show(w.shape)}`,
    );
    need(
      w.dtype === "float32" || (!floatsOnly && w.dtype === "int32"),
      `${where}: ${w.name} has dtype ${show(w.dtype)}; gm writes ${floatsOnly ? "weights as float32" : "float32 or int32"}`,
    );
  }
  return g as unknown as ManifestGroup;
}

/** Reads one file the manifest names: a plain name inside `dir`, a regular file (not a link or folder). */
function readRunFile(dir: string, name: string, what: string): Buffer {
  if (!PLAIN_NAME.test(name)) {
    throw new CheckpointError(
      CHECKPOINT_CODES.unsafePath,
      `${join(dir, "model.json")} names ${what} ${JSON.stringify(name)}, which is not a plain file name inside the run directory; refusing to read it`,
      {
        path: join(dir, "model.json"),
        hint: "a run directory only refers to its own files; restore model.json or train again",
      },
    );
  }
  const path = join(dir, name);
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    throw new CheckpointError(CHECKPOINT_CODES.missingFile, `${what} ${path} is missing`, {
      path,
      hint: "the run directory is incomplete; train again or restore the file",
    });
  }
  if (!st.isFile()) {
    throw new CheckpointError(
      CHECKPOINT_CODES.missingFile,
      `${what} ${path} is ${st.isDirectory() ? "a directory" : st.isSymbolicLink() ? "a symbolic link" : "not a regular file"}, not a file gm wrote`,
      {
        path,
        hint: "the run directory is damaged; train again or restore the file",
      },
    );
  }
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CheckpointError(
      CHECKPOINT_CODES.missingFile,
      `cannot read ${what} ${path}: ${(e as Error).message.split("\n")[0]}`,
      { path, cause: e },
    );
  }
}

/** Reads and decodes a manifest group's tensors (size and checksum checked first). */
function readGroup(
  dir: string,
  group: ManifestGroup,
  what: string,
  sums: Record<string, string> | null,
): StoredTensor[] {
  const expected = group.weights.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * 4, 0);
  const parts = group.paths.map((p) => ({ p, buf: readRunFile(dir, p, `${what} file`) }));
  const total = parts.reduce((a, x) => a + x.buf.length, 0);
  const first = join(dir, group.paths[0]);
  if (total !== expected) {
    throw new CheckpointError(
      CHECKPOINT_CODES.wrongSize,
      `${what} file ${first} has ${total} bytes, the manifest expects ${expected}: it is corrupt or truncated`,
      { path: first, hint: "train again, or restore the file from a backup" },
    );
  }
  if (sums) {
    for (const { p, buf } of parts) {
      const path = join(dir, p);
      if (sums[p] === undefined)
        throw new CheckpointError(
          CHECKPOINT_CODES.checksum,
          `${join(dir, "model.json")} records no SHA-256 for ${path}`,
          { path },
        );
      if (sha256(buf) !== sums[p]) {
        throw new CheckpointError(
          CHECKPOINT_CODES.checksum,
          `${what} file ${path} does not match the SHA-256 recorded when it was written: it was changed or damaged`,
          { path, hint: "train again, or restore the file from a backup" },
        );
      }
    }
  }
  const bytes = Buffer.concat(parts.map((x) => x.buf));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  return group.weights.map((s) => {
    const n = s.shape.reduce((x, y) => x * y, 1);
    const values = s.dtype === "float32" ? new Float32Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++, off += 4)
      values[i] = s.dtype === "float32" ? view.getFloat32(off, true) : view.getInt32(off, true);
    return { name: s.name, shape: [...s.shape], dtype: s.dtype as "float32" | "int32", values };
  });
}

/**
 * Loads the checkpoint in `dir`, checking everything before trusting it: the manifest's fields,
 * that every path is a plain file inside `dir`, each file's size and SHA-256, finite weights.
 * Uses no TensorFlow.js, so it works before any backend starts. Failures are CheckpointErrors
 * (C01xx) naming the file.
 */
export function loadCheckpoint(dir: string): Checkpoint {
  const file = join(dir, "model.json");
  let dst: Stats;
  try {
    dst = statSync(dir);
  } catch {
    throw new CheckpointError(CHECKPOINT_CODES.notARun, `no run directory ${dir}`, {
      path: dir,
      hint: "train one with `gm train FILE --out DIR`",
    });
  }
  if (!dst.isDirectory())
    throw new CheckpointError(CHECKPOINT_CODES.notARun, `${dir} is a file, not a run directory`, {
      path: dir,
      hint: "give the directory `gm train --out` wrote",
    });
  let text: string;
  try {
    const st = lstatSync(file);
    if (!st.isFile())
      throw new CheckpointError(CHECKPOINT_CODES.unreadable, `${file} is not a regular file`, { path: file });
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    if ((e as { code?: string }).code === "ENOENT")
      throw new CheckpointError(CHECKPOINT_CODES.notARun, `${dir} has no model.json: it is not a gm run directory`, {
        path: file,
      });
    throw new CheckpointError(
      CHECKPOINT_CODES.unreadable,
      `cannot read ${file}: ${(e as Error).message.split("\n")[0]}`,
      { path: file, cause: e },
    );
  }
  let json: Partial<ModelJson>;
  try {
    json = JSON.parse(text) as Partial<ModelJson>;
  } catch (e) {
    throw new CheckpointError(CHECKPOINT_CODES.unreadable, `${file} is corrupt: ${(e as Error).message}`, {
      path: file,
    });
  }
  if (
    !isObj(json) ||
    json.format !== "gm-checkpoint" ||
    !isObj(json.userDefinedMetadata) ||
    !isObj(json.userDefinedMetadata.gm)
  ) {
    throw new CheckpointError(
      CHECKPOINT_CODES.unreadable,
      `${file} is not a gm checkpoint (format ${JSON.stringify(isObj(json) ? json.format : undefined) ?? "missing"})`,
      { path: file },
    );
  }
  const gm = json.userDefinedMetadata.gm;
  let meta: RunMeta;
  let weightsGroup: ManifestGroup;
  const optimizerGroups: Record<string, ManifestGroup> = {};
  let sums: Record<string, string> | null = null;
  try {
    const version = json.formatVersion ?? 1;
    need(
      version === 1 || version === CHECKPOINT_FORMAT_VERSION,
      `formatVersion ${show(json.formatVersion)} is not one this gm reads (1 or ${CHECKPOINT_FORMAT_VERSION})`,
    );
    const v1 = version === 1;
    meta = validateMeta(gm, v1);
    need(
      Array.isArray(json.weightsManifest) && json.weightsManifest.length === 1,
      "weightsManifest must hold exactly one group",
    );
    weightsGroup = validateGroup(json.weightsManifest[0], "weightsManifest[0]", true);
    if (v1) {
      if (gm.optimizer !== undefined && gm.optimizer !== null)
        optimizerGroups.nll = validateGroup(gm.optimizer, "optimizer", false);
    } else {
      need(isObj(gm.optimizers), `optimizers must be an object, not ${show(gm.optimizers)}`);
      for (const [step, g] of Object.entries(gm.optimizers)) {
        need(STEP_NAME.test(step), `optimizer step name ${show(step)} must be a word`);
        optimizerGroups[step] = validateGroup(g, `optimizers.${step}`, false);
      }
      need(
        isObj(gm.sha256) && Object.values(gm.sha256).every((h) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h)),
        "sha256 must map file names to SHA-256 digests",
      );
      sums = gm.sha256 as Record<string, string>;
    }
  } catch (e) {
    if (e instanceof Invalid)
      throw new CheckpointError(CHECKPOINT_CODES.invalid, `${file} is invalid: ${e.message}`, {
        path: file,
        hint: "model.json was edited or damaged; restore it or train again",
      });
    throw e;
  }

  const weightList = readGroup(dir, weightsGroup, "weights", sums);
  const weightsFile = join(dir, weightsGroup.paths[0]);
  for (const t of weightList) {
    for (let i = 0; i < t.values.length; i++) {
      if (!Number.isFinite(t.values[i])) {
        throw new CheckpointError(
          CHECKPOINT_CODES.notFinite,
          `weight ${t.name} in ${weightsFile} holds ${t.values[i]}: the checkpoint is corrupt`,
          { path: weightsFile, hint: "train again; a diverged run never saves non-finite weights" },
        );
      }
    }
  }
  const optimizers: Record<string, StoredTensor[]> = {};
  for (const [step, g] of Object.entries(optimizerGroups))
    optimizers[step] = readGroup(dir, g, `optimizer (${step})`, sums);
  const srcBytes = readRunFile(dir, meta.source, "the run's .gm source");
  const srcPath = join(dir, meta.source);
  if (sums) {
    if (sums[meta.source] === undefined)
      throw new CheckpointError(CHECKPOINT_CODES.checksum, `${file} records no SHA-256 for ${srcPath}`, {
        path: srcPath,
      });
    if (sha256(srcBytes) !== sums[meta.source])
      throw new CheckpointError(
        CHECKPOINT_CODES.checksum,
        `the run's .gm source ${srcPath} does not match the SHA-256 recorded when it was written: it was changed or damaged`,
        { path: srcPath, hint: "restore the file, or train again" },
      );
  }
  return { meta, weights: new Map(weightList.map((t) => [t.name, t])), optimizers, source: srcBytes.toString("utf8") };
}
