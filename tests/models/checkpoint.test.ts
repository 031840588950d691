/**
 * Checkpoints and the training loop's guarantees, through `gm train` run in-process on tiny data
 * (200 binary 4×4 images, NADE with 8 hidden units or logistic, a few epochs):
 *
 * - saveCheckpoint / loadCheckpoint round-trip weights and Adam's state, and a new generation
 *   replaces the old files;
 * - seeds: the same seed gives bit-identical weights and samples on the same backend (wasm, and
 *   cpu), a different seed different ones;
 * - resume: 1 epoch + `--resume --epochs 2` equals 2 epochs straight: same history, bit-identical
 *   weights and optimizer state (Adam's bias-correction powers are rebuilt the way training
 *   accumulates them — see Trainer.restoreOptimizer);
 * - corrupt run directories make `gm score` exit 1 with one line naming the file, no stack trace;
 * - divergence (a huge --lr): exit 1 saying "diverged"; diverging in epoch 1 writes and claims no
 *   checkpoint; diverging later keeps the last good checkpoint, which still loads and scores.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/models/backend";
import { loadCheckpoint, saveCheckpoint, type RunMeta } from "../../src/models/checkpoint";
import { buildExplicitModel, checkpointName } from "../../src/models/explicit";
import { randomize } from "../../src/models/verify";
import { compileModel } from "./gen";
import { gm, hasStack, modelJson, QUIET_WASM, removeDir, runFile, tempDir, weightValues, writeBinaryIdx, writeModel } from "./run-helpers";

let dir: string;
let data: string;
let nade: string;
let logistic: string;

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
  dir = tempDir("gm-ckpt-");
  data = writeBinaryIdx(dir, "train-4x4.idx", 200, 4, 4);
  nade = writeModel(dir, "nade.gm", "nade(hidden = 8)");
  logistic = writeModel(dir, "logistic.gm", "logistic");
});

afterAll(() => removeDir(dir));

const train = (gmFile: string, out: string, ...extra: string[]) => gm(["train", gmFile, "--out", out, "--data", data, "--batch", "20", ...QUIET_WASM, ...extra]);

describe("saveCheckpoint / loadCheckpoint", () => {
  it("round-trips weights, optimizer state and metadata; a new generation replaces the old files", async () => {
    const ir = compileModel("model M {\n  x : Bernoulli[3]\n  p(x) = nade(hidden = 2)\n}");
    const m = buildExplicitModel(ir, { seed: 1 });
    const out = join(dir, "api");
    mkdirSync(out);
    try {
      randomize(m, 5);
      const meta = (generation: number): RunMeta => ({
        version: "0.1.0", model: "M", sourceFile: "m.gm", source: "model.gm", params: ir.params.toString(), dim: 3,
        settings: { epochs: 1, batch: 1, lr: 1, seed: 1, smoothing: 1, data: { source: "mnist" }, split: [0.8, 0.2], backend: "wasm" },
        history: [], epoch: generation, generation, finished: false,
      });
      const vars = () => m.variables.map((v) => ({ name: checkpointName(v), tensor: v as tf.Tensor }));
      const opt = [{ name: "iter", tensor: tf.scalar(3, "int32") }, { name: "m#1", tensor: tf.tensor1d([1, 2, 3]) }];
      await saveCheckpoint(out, meta(1), vars(), opt, "model M {}\n");
      randomize(m, 6);
      await saveCheckpoint(out, meta(2), vars(), opt, "model M {}\n");
      expect(readdirSync(out).sort()).toEqual(["model.gm", "model.json", "optimizer-000002.bin", "weights-000002.bin"]);
      const ck = loadCheckpoint(out);
      expect(ck.meta.generation).toBe(2);
      expect(ck.source).toBe("model M {}\n");
      for (const v of m.variables) expect(Array.from(ck.weights[checkpointName(v)].dataSync())).toEqual(Array.from(v.dataSync()));
      expect(ck.optimizer!.map((o) => o.name)).toEqual(["iter", "m#1"]);
      expect(Array.from(ck.optimizer![0].tensor.dataSync())).toEqual([3]);
      expect(Array.from(ck.optimizer![1].tensor.dataSync())).toEqual([1, 2, 3]);
      tf.dispose(opt.map((o) => o.tensor));
    } finally {
      m.dispose();
    }
  });
});

describe("seeds", () => {
  it("on wasm: the same seed gives identical weights and samples, another seed different ones", async () => {
    const [a, b, c] = ["seed-a", "seed-b", "seed-c"].map((d) => join(dir, d));
    expect((await train(nade, a, "--epochs", "1", "--seed", "7")).code).toBe(0);
    expect((await train(nade, b, "--epochs", "1", "--seed", "7")).code).toBe(0);
    expect((await train(nade, c, "--epochs", "1", "--seed", "8")).code).toBe(0);
    expect(runFile(a, "weights").equals(runFile(b, "weights"))).toBe(true);
    expect(runFile(a, "optimizer").equals(runFile(b, "optimizer"))).toBe(true);
    expect(runFile(a, "weights").equals(runFile(c, "weights"))).toBe(false);
    expect(readFileSync(join(a, "samples.png")).equals(readFileSync(join(b, "samples.png")))).toBe(true);
    const sample = async (run: string, seed: string) => {
      const r = await gm(["sample", run, "-n", "32", "--seed", seed, "--json", "-o", join(run, `s${seed}.png`), "--backend", "wasm"]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).samples as number[][];
    };
    expect(await sample(a, "3")).toEqual(await sample(b, "3"));
    expect(await sample(a, "3")).not.toEqual(await sample(a, "4"));
    expect(await sample(a, "3")).not.toEqual(await sample(c, "3"));
  });

  it("on cpu: the same seed gives identical weights, another seed different ones", async () => {
    const [a, b, c] = ["cpu-a", "cpu-b", "cpu-c"].map((d) => join(dir, d));
    const cpu = (out: string, seed: string) => gm(["train", nade, "--out", out, "--data", data, "--batch", "40", "--epochs", "1", "--seed", seed, "--backend", "cpu", "-q"]);
    try {
      expect((await cpu(a, "7")).code).toBe(0);
      expect(tf.getBackend()).toBe("cpu");
      expect((await cpu(b, "7")).code).toBe(0);
      expect((await cpu(c, "8")).code).toBe(0);
    } finally {
      await initBackend("wasm", { threads: 1, quiet: true });
    }
    expect(runFile(a, "weights").equals(runFile(b, "weights"))).toBe(true);
    expect(runFile(a, "weights").equals(runFile(c, "weights"))).toBe(false);
    expect(modelJson(a).userDefinedMetadata.gm.settings.backend).toBe("cpu");
  });
});

describe("resume", () => {
  it("1 epoch, then --resume --epochs 2, equals 2 epochs straight, bit for bit", async () => {
    const straight = join(dir, "straight");
    const resumed = join(dir, "resumed");
    expect((await train(logistic, straight, "--epochs", "2", "--batch", "7")).code).toBe(0);
    expect((await train(logistic, resumed, "--epochs", "1", "--batch", "7")).code).toBe(0);
    expect(modelJson(resumed).userDefinedMetadata.gm.history).toHaveLength(1);
    const r = await train(logistic, resumed, "--epochs", "2", "--resume");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("resuming after epoch 1");
    const [hs, hr] = [straight, resumed].map((d) => modelJson(d).userDefinedMetadata.gm.history);
    expect(hr.map((h) => h.epoch)).toEqual([1, 2]);
    expect(hr).toHaveLength(hs.length);
    expect(hr.map((h) => [h.trainNll, h.testNll])).toEqual(hs.map((h) => [h.trainNll, h.testNll]));
    // A resumed run keeps its settings (batch 7), whatever the flags say.
    expect(modelJson(resumed).userDefinedMetadata.gm.settings.batch).toBe(7);
    expect(runFile(resumed, "weights").equals(runFile(straight, "weights"))).toBe(true);
    expect(runFile(resumed, "optimizer").equals(runFile(straight, "optimizer"))).toBe(true);
    expect(JSON.parse(readFileSync(join(resumed, "history.json"), "utf8"))).toHaveLength(2);
  });
});

describe("corrupt run directories: gm score exits 1 with one line naming the file", () => {
  let good: string;
  beforeAll(async () => {
    good = join(dir, "good");
    const r = await train(nade, good, "--epochs", "1");
    expect(r.code, r.stderr).toBe(0);
  });

  const cases: Array<[string, (d: string) => string]> = [
    ["truncated weights-*.bin", (d) => {
      const f = join(d, readdirSync(d).find((x) => x.startsWith("weights-"))!);
      truncateSync(f, 100);
      return f;
    }],
    ["garbage model.json", (d) => {
      writeFileSync(join(d, "model.json"), "{ this is not JSON");
      return join(d, "model.json");
    }],
    ["model.json that is JSON but not a checkpoint", (d) => {
      writeFileSync(join(d, "model.json"), "null");
      return join(d, "model.json");
    }],
    ["model.json with a malformed manifest", (d) => {
      const j = modelJson(d);
      (j.weightsManifest[0] as unknown as Record<string, unknown>).paths = undefined;
      writeFileSync(join(d, "model.json"), JSON.stringify(j));
      return join(d, "model.json");
    }],
    ["missing model.gm", (d) => {
      unlinkSync(join(d, "model.gm"));
      return join(d, "model.gm");
    }],
    ["missing weights-*.bin", (d) => {
      const f = join(d, readdirSync(d).find((x) => x.startsWith("weights-"))!);
      unlinkSync(f);
      return f;
    }],
    ["truncated optimizer-*.bin", (d) => {
      const f = join(d, readdirSync(d).find((x) => x.startsWith("optimizer-"))!);
      truncateSync(f, 3);
      return f;
    }],
  ];

  it.each(cases)("%s", async (label, corrupt) => {
    const d = join(dir, `corrupt-${label.replace(/\W+/g, "-")}`);
    cpSync(good, d, { recursive: true });
    const file = corrupt(d);
    const r = await gm(["score", d, "--json", "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toContain(file);
    // At most a hint follows; never a stack trace or an "internal error".
    expect(lines.length).toBeLessThanOrEqual(2);
    if (lines[1]) expect(lines[1]).toMatch(/^hint: /);
    expect(hasStack(r.stderr)).toBe(false);
    expect(r.stderr).not.toContain("internal error");
    // The same directory cannot be resumed either (exit 1, not a crash).
    const t = await train(nade, d, "--epochs", "2", "--resume");
    expect(t.code).toBe(1);
    expect(hasStack(t.stderr)).toBe(false);
  });
});

describe("divergence (a huge --lr)", () => {
  it.each([["nade", () => nade], ["logistic", () => logistic]] as const)("%s in epoch 1: exit 1, 'diverged', no checkpoint written or claimed", async (_name, file) => {
    const out = join(dir, `nan-${_name}`);
    const r = await train(file(), out, "--epochs", "3", "--lr", "1e6");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: training diverged at epoch 1, batch \d+/m);
    expect(r.stderr).toContain("no checkpoint was written");
    expect(r.stderr).not.toMatch(/checkpoint \(epoch/);
    expect(hasStack(r.stderr)).toBe(false);
    expect(existsSync(join(out, "model.json"))).toBe(false);
    // Nothing claims the directory: a new run may use it.
    const again = await train(file(), out, "--epochs", "1");
    expect(again.code, again.stderr).toBe(0);
  });

  it("in a later epoch: the last good checkpoint is kept, still loads and scores", async () => {
    const out = join(dir, "nan-later");
    expect((await train(nade, out, "--epochs", "1")).code).toBe(0);
    const before = runFile(out, "weights");
    // The run's own settings drive a resume; give it a learning rate that explodes.
    const j = modelJson(out);
    j.userDefinedMetadata.gm.settings.lr = 1e6;
    writeFileSync(join(out, "model.json"), JSON.stringify(j));
    const r = await train(nade, out, "--epochs", "3", "--resume");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/training diverged at epoch 2, batch \d+/);
    expect(r.stderr).toContain(`the last good checkpoint (epoch 1) is kept in ${out}`);
    expect(runFile(out, "weights").equals(before)).toBe(true);
    const ck = loadCheckpoint(out);
    expect(ck.meta.epoch).toBe(1);
    tf.dispose(Object.values(ck.weights));
    const s = await gm(["score", out, "--json", "--backend", "wasm"]);
    expect(s.code, s.stderr).toBe(0);
    expect(Number.isFinite(JSON.parse(s.stdout).nll_nats)).toBe(true);
  });

  it("a normal learning rate does not count as divergence", async () => {
    const out = join(dir, "lr-ok");
    const r = await train(logistic, out, "--epochs", "2", "--lr", "0.1");
    expect(r.code, r.stderr).toBe(0);
    expect(weightValues(out).every(Number.isFinite)).toBe(true);
  });
});
