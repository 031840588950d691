/**
 * Run directories and checkpoints, in TensorFlow.js's standard artifacts: `model.json` with a
 * `weightsManifest` pointing at a binary weights file (tf.io.encodeWeights / decodeWeights),
 * plus the optimizer's state in the same form, the `.gm` source, and gm's metadata (training
 * history, settings) under `userDefinedMetadata.gm`.
 *
 * Writes are atomic: the weights and optimizer files of a new generation are written first
 * (each by temp file + rename), then `model.json` is replaced in one rename, then older
 * generations are removed. A crash at any point leaves a complete, loadable checkpoint.
 */
import { existsSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";

/** A named tensor (tf.io.NamedTensor). */
type NamedTensor = { name: string; tensor: tf.Tensor };
import { writeFileAtomic } from "../data/atomic";

/** One completed epoch of the training curve. */
export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch (nats per image). */
  trainNll: number;
  /** Held-out NLL after the epoch (nats per image). */
  testNll: number;
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
}

/** gm's part of model.json. */
export interface RunMeta {
  version: string;
  model: string;
  sourceFile: string;
  /** Name of the copy of the `.gm` source inside the run directory. */
  source: string;
  params: string;
  dim: number;
  settings: RunSettings;
  history: EpochRecord[];
  /** Epochs completed. */
  epoch: number;
  /** Batches done in the epoch after `epoch` (an interrupted epoch), with its loss so far. */
  partial?: { batches: number; lossSum: number; images: number; seconds: number };
  generation: number;
  optimizer?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] };
  finished: boolean;
}

/** A checkpoint as loaded. */
export interface Checkpoint {
  meta: RunMeta;
  weights: Record<string, tf.Tensor>;
  optimizer: NamedTensor[] | null;
  source: string;
}

/** A problem with a run directory (missing, corrupt): shown as one line, exit 1. */
export class CheckpointError extends Error {
  readonly code = "C0101";
  constructor(message: string, readonly path: string, readonly hint?: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

const gen = (g: number) => String(g).padStart(6, "0");

/** Writes a checkpoint of generation `meta.generation` into `dir`. */
export async function saveCheckpoint(
  dir: string,
  meta: RunMeta,
  variables: Array<{ name: string; tensor: tf.Tensor }>,
  optimizer: NamedTensor[] | null,
  source: string,
): Promise<void> {
  const g = gen(meta.generation);
  const { data, specs } = await tf.io.encodeWeights(variables.map((v) => ({ name: v.name, tensor: v.tensor })));
  const weightsFile = `weights-${g}.bin`;
  writeFileAtomic(join(dir, weightsFile), new Uint8Array(data));
  let optimizerEntry: RunMeta["optimizer"];
  if (optimizer && optimizer.length) {
    const enc = await tf.io.encodeWeights(optimizer);
    const optFile = `optimizer-${g}.bin`;
    writeFileAtomic(join(dir, optFile), new Uint8Array(enc.data));
    optimizerEntry = { paths: [optFile], weights: enc.specs };
  }
  if (!existsSync(join(dir, meta.source))) writeFileAtomic(join(dir, meta.source), source);
  const modelJson = {
    format: "gm-checkpoint",
    generatedBy: `gm ${meta.version}`,
    convertedBy: null,
    modelTopology: null,
    weightsManifest: [{ paths: [weightsFile], weights: specs }],
    userDefinedMetadata: { gm: { ...meta, optimizer: optimizerEntry } },
  };
  writeFileAtomic(join(dir, "model.json"), `${JSON.stringify(modelJson, null, 1)}\n`);
  // Older generations are now unreferenced.
  for (const f of readdirSync(dir)) {
    const m = /^(weights|optimizer)-(\d+)\.bin$/.exec(f);
    if (m && m[2] !== g) {
      try {
        unlinkSync(join(dir, f));
      } catch {
        /* another process may have removed it */
      }
    }
  }
}

function readBinary(dir: string, paths: string[], what: string): ArrayBuffer {
  const parts = paths.map((p) => {
    const file = join(dir, p);
    if (!existsSync(file)) throw new CheckpointError(`${what} file ${file} is missing`, file, "the run directory is incomplete; train again or restore the file");
    const buf = readFileSync(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  });
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out.buffer;
}

function expectedBytes(specs: tf.io.WeightsManifestEntry[]): number {
  const bytes: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
  return specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * (bytes[s.dtype] ?? 4), 0);
}

/** Whether a manifest entry has the shape tf.io writes: file names and named, shaped tensors. */
function validManifest(m: unknown): m is { paths: string[]; weights: tf.io.WeightsManifestEntry[] } {
  const e = m as { paths?: unknown; weights?: unknown } | null;
  return (
    typeof e === "object" && e !== null &&
    Array.isArray(e.paths) && e.paths.length > 0 && e.paths.every((p) => typeof p === "string") &&
    Array.isArray(e.weights) &&
    e.weights.every((w: { name?: unknown; shape?: unknown; dtype?: unknown } | null) => typeof w === "object" && w !== null && typeof w.name === "string" && typeof w.dtype === "string" && Array.isArray(w.shape) && w.shape.every((d) => Number.isInteger(d) && d >= 0))
  );
}

function decode(data: ArrayBuffer, specs: tf.io.WeightsManifestEntry[], file: string): Record<string, tf.Tensor> {
  try {
    return tf.io.decodeWeights(data, specs);
  } catch (e) {
    throw new CheckpointError(`${file} cannot be decoded with its manifest: ${(e as Error).message.split("\n")[0]}`, file);
  }
}

/** Loads the checkpoint in `dir`, checking every file against its manifest. */
export function loadCheckpoint(dir: string): Checkpoint {
  const file = join(dir, "model.json");
  if (!existsSync(dir)) throw new CheckpointError(`no run directory ${dir}`, dir, "train one with `gm train FILE --out DIR`");
  if (!existsSync(file)) throw new CheckpointError(`${dir} has no model.json: it is not a gm run directory`, file);
  let json: { format?: string; weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>; userDefinedMetadata?: { gm?: RunMeta } };
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new CheckpointError(`${file} is corrupt: ${(e as Error).message}`, file);
  }
  const meta = json?.userDefinedMetadata?.gm;
  if (json?.format !== "gm-checkpoint" || !meta || !Array.isArray(json.weightsManifest) || json.weightsManifest.length === 0) {
    throw new CheckpointError(`${file} is not a gm checkpoint (format ${JSON.stringify(json?.format)})`, file);
  }
  const manifest = json.weightsManifest[0];
  if (!validManifest(manifest) || (meta.optimizer !== undefined && !validManifest(meta.optimizer)) || typeof meta.model !== "string" || typeof meta.source !== "string" || typeof meta.settings !== "object" || meta.settings === null || !Array.isArray(meta.history)) {
    throw new CheckpointError(`${file} is corrupt: its weights manifest or gm metadata is malformed`, file);
  }
  const data = readBinary(dir, manifest.paths, "weights");
  if (data.byteLength !== expectedBytes(manifest.weights)) {
    throw new CheckpointError(`weights file ${join(dir, manifest.paths[0])} has ${data.byteLength} bytes, the manifest expects ${expectedBytes(manifest.weights)}: it is corrupt or truncated`, join(dir, manifest.paths[0]));
  }
  const weights = decode(data, manifest.weights, join(dir, manifest.paths[0]));
  let optimizer: NamedTensor[] | null = null;
  if (meta.optimizer) {
    const od = readBinary(dir, meta.optimizer.paths, "optimizer");
    if (od.byteLength !== expectedBytes(meta.optimizer.weights)) {
      throw new CheckpointError(`optimizer file ${join(dir, meta.optimizer.paths[0])} is corrupt or truncated`, join(dir, meta.optimizer.paths[0]));
    }
    const dec = decode(od, meta.optimizer.weights, join(dir, meta.optimizer.paths[0]));
    optimizer = meta.optimizer.weights.map((s) => ({ name: s.name, tensor: dec[s.name] }));
  }
  const srcFile = join(dir, meta.source);
  if (!existsSync(srcFile)) throw new CheckpointError(`${srcFile} is missing: the run's .gm source is needed to rebuild the model`, srcFile);
  for (const [name, t] of Object.entries(weights)) {
    const values = t.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new CheckpointError(`weight ${name} in ${dir} holds ${values[i]}: the checkpoint is corrupt`, join(dir, manifest.paths[0]));
    }
  }
  return { meta, weights, optimizer, source: readFileSync(srcFile, "utf8") };
}
