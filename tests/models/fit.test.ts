/**
 * fit.ts: an objective of two steps over disjoint variables, each with its own Adam (different
 * learning rates, one step every other batch), stopped at a random batch, saved with
 * saveCheckpoint, reloaded with loadCheckpoint into a fresh model and Fitter, and resumed, ends
 * bit for bit where an uninterrupted run ends: the same weights, the same curve.
 *
 * Planted bugs (each made the property below fail, then was removed):
 * - restore() without the float32 β-power product (tf's pow(β, t + 1) instead): counterexample
 *   [2], "expected [ Array(4) ] to deeply equal [ Array(4) ]" (the weights differ in the last bits);
 * - the global step restarting at 0 on resume (the `every = 2` step then runs on the wrong
 *   batches): counterexample [1], the weights differ;
 * - step `b`'s optimizer state restored into step `a`'s Adam: counterexample [1], "Operands could
 *   not be broadcast together with shapes 6,4 and 4,6".
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/models/backend";
import { loadCheckpoint, saveCheckpoint, type EpochRecord, type RunMeta } from "../../src/models/checkpoint";
import { ExplicitModel } from "../../src/models/explicit";
import { epochOrder, Fitter, type FitPosition } from "../../src/models/fit";
import { checkpointName } from "../../src/models/lookup";
import type { Objective } from "../../src/models/model";
import { buildModel } from "../../src/models/registry";
import { assignWeights } from "../../src/models/run";
import { Rng } from "../../src/rng";
import { compileModel } from "./gen";

const TEXT = "model Two {\n  x : Bernoulli[6]\n  p(x) = nade(hidden = 4)\n}\n";
const N = 40;
const D = 6;
const BATCH = 8;
const EPOCHS = 3;
let dir: string;

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
  dir = mkdtempSync(join(tmpdir(), "gm-fit-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function data(seed: number): { x: Float32Array; n: number } {
  const rng = new Rng(seed);
  const x = new Float32Array(N * D);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.3 + 0.1 * (i % D) ? 1 : 0;
  return { x, n: N };
}

/** The model's `nll` step split in two: W and c (lr 0.01, every batch), V and b (lr 0.03, every 2nd batch). */
function twoSteps(m: ExplicitModel): Objective {
  const base = m.objective({ lr: 0.01 });
  const nll = base.steps[0];
  const byName = (s: string) => m.variables.filter((v) => checkpointName(v).endsWith(`/${s}`));
  return {
    ...base,
    steps: [
      { name: "a", loss: nll.loss, variables: [...byName("W"), ...byName("c")], optimizer: { lr: 0.01 } },
      {
        name: "b",
        loss: nll.loss,
        variables: [...byName("V"), ...byName("b")],
        optimizer: { lr: 0.03, beta1: 0.5 },
        every: 2,
      },
    ],
  };
}

function build(): ExplicitModel {
  const m = buildModel(compileModel(TEXT), { seed: 3 });
  if (!(m instanceof ExplicitModel)) throw new Error("not explicit");
  return m;
}

const weights = (m: ExplicitModel) => m.variables.map((v) => Array.from(v.dataSync()));

/** Trains EPOCHS epochs; with `stopAfter`, stops after that many batches, saves, and resumes in a fresh model. */
async function train(
  stopAfter: number | null,
  tag: string,
): Promise<{ weights: number[][]; history: EpochRecord[]; optimizerFiles: string[] }> {
  const train = data(1);
  const test = data(2);
  const history: EpochRecord[] = [];
  let batches = 0;
  const stop = {
    get aborted() {
      return stopAfter !== null && batches >= stopAfter;
    },
  };
  const runDir = join(dir, tag);
  const m = build();
  const meta = (epoch: number, partial?: RunMeta["partial"]): RunMeta => ({
    version: "test",
    model: "Two",
    sourceFile: "two.gm",
    source: "model.gm",
    params: "0",
    dim: D,
    settings: {
      epochs: EPOCHS,
      batch: BATCH,
      lr: 0.01,
      seed: 5,
      smoothing: 1,
      data: {},
      split: [0.8, 0.2],
      backend: "wasm",
    },
    history: [...history],
    epoch,
    ...(partial ? { partial } : {}),
    generation: 1,
    finished: false,
  });
  let saved: FitPosition | null = null;
  const first = new Fitter({
    objective: twoSteps(m),
    train,
    test,
    dim: D,
    epochs: EPOCHS,
    batch: BATCH,
    lr: 0.01,
    seed: 5,
    stop,
    onBatch: () => batches++,
    onEpochEnd: (r) => void history.push(r),
    onStop: async (p) => {
      saved = p;
      const { mkdirSync } = await import("node:fs");
      mkdirSync(runDir, { recursive: true });
      const vars = m.variables.map((v) => ({ name: checkpointName(v), tensor: v as tf.Tensor }));
      await saveCheckpoint(runDir, meta(p.epoch, p), vars, await first.optimizerWeights(), TEXT);
    },
  });
  const outcome = await first.run();
  first.dispose();
  if (outcome.status === "done") {
    const w = weights(m);
    m.dispose();
    return { weights: w, history, optimizerFiles: [] };
  }
  expect(outcome.status).toBe("stopped");
  m.dispose();
  // A fresh model and Fitter, from what is on disk only.
  const ck = loadCheckpoint(runDir);
  const m2 = build();
  assignWeights(m2, ck.weights, runDir);
  const p = ck.meta.partial!;
  const at = saved!;
  expect(p).toEqual({ batches: at.batches, step: at.step, sums: at.sums, images: at.images, seconds: at.seconds });
  const second = new Fitter({
    objective: twoSteps(m2),
    train,
    test,
    dim: D,
    epochs: EPOCHS,
    batch: BATCH,
    lr: 0.01,
    seed: 5,
    start: { epoch: ck.meta.epoch, ...p },
    optimizerState: ck.optimizers,
    onEpochEnd: (r) => void history.push(r),
  });
  expect((await second.run()).status).toBe("done");
  second.dispose();
  const w = weights(m2);
  m2.dispose();
  return {
    weights: w,
    history,
    optimizerFiles: readdirSync(runDir)
      .filter((f) => f.startsWith("optimizer-"))
      .sort(),
  };
}

describe("Fitter: two steps, two optimizers", () => {
  it("runs step b every second batch and records both losses per epoch", async () => {
    const r = await train(null, "straight");
    expect(r.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    for (const h of r.history) {
      expect(Object.keys(h.train).sort()).toEqual(["a", "b"]);
      expect(Object.keys(h.test)).toEqual(["nll"]);
      expect(Number.isFinite(h.train.a) && Number.isFinite(h.train.b)).toBe(true);
    }
    expect(epochOrder(N, 5, 1)).toEqual(epochOrder(N, 5, 1));
  });

  it("stopped at any batch and resumed from disk in a fresh model, ends bit-identically (weights and curve)", async () => {
    const straight = await train(null, "reference");
    const total = Math.ceil(N / BATCH) * EPOCHS;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: total - 1 }), async (stopAfter) => {
        const r = await train(stopAfter, `stop-${run++}`);
        expect(r.optimizerFiles).toEqual(["optimizer-a-000001.bin", "optimizer-b-000001.bin"]);
        expect(r.weights).toEqual(straight.weights);
        const curve = (h: EpochRecord[]) => h.map((e) => ({ epoch: e.epoch, train: e.train, test: e.test }));
        expect(curve(r.history)).toEqual(curve(straight.history));
      }),
      { numRuns: 6, seed: 7 },
    );
  }, 60_000);
});
