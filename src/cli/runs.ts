/**
 * What train, sample and score share: choosing the data a model reads (flag, train block or
 * default), checking that data fits the model, starting a backend, and rebuilding a trained
 * model from its run directory.
 */
import { existsSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { compileText } from "../compiler/compile";
import { dataSourceFromValue } from "../compiler/datasource";
import type { DataSourceIR, ModelIR, VariableIR } from "../compiler/ir";
import { DiagnosticBag, hasErrors } from "../dsl/diagnostics";
import { parseValue } from "../dsl/parse";
import { loadData, specFromPath, type DataSpec } from "../data/spec";
import type { Dataset } from "../data/dataset";
import { initBackend, type BackendName, BACKEND_NAMES } from "../models/backend";
import { loadCheckpoint, type Checkpoint } from "../models/checkpoint";
import { buildExplicitModel, checkpointName, type ExplicitModel } from "../models/explicit";
import { InputError, printDiagnostics, UsageError } from "./io";

/** The observed variable the data feeds (gm trains models over one observed array). */
export function dataVariable(ir: ModelIR): VariableIR {
  const observed = ir.variables.filter((v) => !v.latent);
  if (observed.length !== 1) {
    throw new UsageError(
      `model ${ir.name} has ${observed.length} observed variables (${observed.map((v) => v.name).join(", ")}); gm train reads one array per example`,
      "declare the data as one variable, e.g. `x : Bernoulli[28, 28]`",
    );
  }
  return observed[0];
}

/** Parses `--data`: a source expression (`mnist`, `idx("a.gz", binarize = 0.5)`) or a bare path. */
export function parseDataFlag(text: string): DataSourceIR {
  const looksLikeExpr = /^[A-Za-z_]\w*\s*(\(|$)/.test(text.trim()) && !existsSync(text);
  if (!looksLikeExpr) {
    const spec = specFromPath(text);
    return spec as DataSourceIR;
  }
  const parsed = parseValue(text, "--data");
  const bag = new DiagnosticBag("--data");
  const value = parsed.value;
  const ds = value ? dataSourceFromValue(value, { values: new Map() }, bag) : null;
  const diags = [...parsed.diagnostics, ...bag.items];
  if (!ds || hasErrors(diags)) {
    printDiagnostics(diags, text);
    throw new UsageError(`cannot read --data ${JSON.stringify(text)}`, 'write a source like `mnist`, `idx("train.gz", binarize = 0.5)`, `images("dir")`, or a path');
  }
  return ds;
}

/** The default data for a model: MNIST, binarized at 0.5 for Bernoulli pixels. */
export function defaultData(v: VariableIR): DataSourceIR {
  return v.domain.kind === "bernoulli" ? { source: "mnist", binarize: 0.5 } : { source: "mnist" };
}

/** Loads train and test data adapted to the model's observed variable. */
export function loadModelData(ir: ModelIR, source: DataSourceIR, split: readonly [number, number]): { train: Dataset; test: Dataset } {
  const v = dataVariable(ir);
  const domain = v.domain.kind === "categorical" ? { kind: "categorical" as const, k: v.domain.k } : v.domain.kind === "real" ? { kind: "real" as const, lo: v.domain.lo, hi: v.domain.hi } : { kind: v.domain.kind };
  return loadData(source as DataSpec, { shape: [...v.shape], domain }, split);
}

/** Starts the backend named by `--backend` (or auto). */
export async function startBackend(name: string | undefined, quiet = true): Promise<string> {
  const b = (name ?? "auto") as BackendName;
  if (!BACKEND_NAMES.includes(b)) throw new UsageError(`unknown backend ${name}`, `choose one of: ${BACKEND_NAMES.join(", ")}`);
  const r = await initBackend(b, { quiet });
  tf.env().set("PROD", true);
  return r.name;
}

/** A trained model rebuilt from its run directory. */
export interface LoadedRun {
  dir: string;
  checkpoint: Checkpoint;
  ir: ModelIR;
  model: ExplicitModel;
}

/** Rebuilds the model of run `dir` and loads its weights. */
export function loadRun(dir: string): LoadedRun {
  const checkpoint = loadCheckpoint(dir);
  const { meta } = checkpoint;
  const compiled = compileText(checkpoint.source, `${dir}/${meta.source}`, { checks: false });
  if (hasErrors(compiled.diagnostics)) {
    printDiagnostics(compiled.diagnostics, checkpoint.source);
    throw new InputError(`the .gm source saved in ${dir} no longer compiles`);
  }
  const ir = compiled.models.find((m) => m.name === meta.model);
  if (!ir) throw new InputError(`${dir}/${meta.source} has no model ${meta.model}`);
  const model = buildExplicitModel(ir, { seed: meta.settings.seed });
  assignWeights(model, checkpoint.weights, dir);
  return { dir, checkpoint, ir, model };
}

/** Copies checkpoint tensors into the model's variables, checking names and shapes. */
export function assignWeights(model: ExplicitModel, weights: Record<string, tf.Tensor>, dir: string): void {
  for (const v of model.variables) {
    const name = checkpointName(v);
    const t = weights[name];
    if (!t) throw new InputError(`checkpoint ${dir} has no weight ${name}; it was written for another model`);
    if (t.shape.join("x") !== v.shape.join("x")) throw new InputError(`checkpoint ${dir}: weight ${name} has shape [${t.shape}] but the model needs [${v.shape}]`);
    v.assign(t);
  }
  model.invalidate();
}
