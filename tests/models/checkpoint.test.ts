/**
 * Checkpoints and run directories.
 *
 * API (no CLI):
 * - saveCheckpoint / loadCheckpoint round-trip weights, the optimizer state of every step and the
 *   metadata; a new generation replaces the old files; the bytes stay readable by
 *   tf.io.decodeWeights; a property: any float32/int32 tensors come back bit for bit (planted
 *   bug: decoding float32 big-endian — `view.getFloat32(off, false)` in readGroup — failed at
 *   once; shrunk in 4 steps to one scalar float32 weight, counterexample
 *   `[[{"shape":[],"int":false,"seed":0}],[]]`);
 * - loadCheckpoint calls no TensorFlow.js: in a fresh process it loads a run and tfjs's engine
 *   never exists;
 * - gm 0.1 run directories (no checksums, one optimizer, trainNll/testNll) still load;
 * - hostile or damaged run directories: every case a one-line CheckpointError with its code
 *   naming the file (paths outside the run, symbolic links, flipped bytes that stay finite,
 *   manifests with batch 0, int32 weights, a folder for a file, a string seed, non-finite and
 *   negative numbers);
 * - prepareRunDir: refuses files, non-empty folders that hold no run (deleting nothing), /proc/x
 *   (at once), --resume without a run, a new run over a run; cleans stale temp files and the
 *   generations a crashed save left;
 * - atomic writes: the temp file lives beside the target; a directory as the target fails before
 *   any temp file exists; ENOSPC (injected) is R0102 naming the path, leaves no temp and no
 *   orphaned weights file, and the previous generation still loads.
 *
 * Through `gm` (in-process): seeds, resume, corrupt run directories, divergence.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../src/data/atomic";
import { GmError } from "../../src/errors";
import { initBackend } from "../../src/models/backend";
import {
  FIRST_SAVE_MARK,
  loadCheckpoint,
  prepareRunDir,
  saveCheckpoint,
  type RunMeta,
  type StoredTensor,
} from "../../src/models/checkpoint";
import {
  gm,
  hasStack,
  modelJson,
  QUIET_WASM,
  removeDir,
  runFile,
  tempDir,
  weightValues,
  writeBinaryIdx,
  writeModel,
} from "./run-helpers";

const root = resolve(import.meta.dirname, "../..");
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

const SOURCE = "model M {\n  x : Bernoulli[3]\n  p(x) = logistic\n}\n";

function meta(generation: number, extra: Partial<RunMeta> = {}): RunMeta {
  return {
    version: "0.2.0",
    model: "M",
    sourceFile: "m.gm",
    source: "model.gm",
    params: "6",
    dim: 3,
    settings: {
      epochs: 2,
      batch: 10,
      lr: 0.001,
      seed: 1,
      smoothing: 1,
      data: { source: "mnist" },
      split: [0.8, 0.2],
      backend: "wasm",
    },
    history: [{ epoch: 1, train: { nll: 2.5 }, test: { nll: 2.6 }, seconds: 0.1, imagesPerSecond: 1000 }],
    epoch: generation,
    generation,
    finished: false,
    ...extra,
  };
}

/** Weights and two steps' optimizer state with values depending on `k`. */
function tensors(k: number) {
  const weights = [
    {
      name: "f0_logistic/w",
      tensor: tf.tensor2d(
        [
          [k, -1.5, 0],
          [2, 3, -0],
        ],
        [2, 3],
      ) as tf.Tensor,
    },
    { name: "f0_logistic/b", tensor: tf.tensor1d([0.25 * k, 1e-30, -7]) as tf.Tensor },
  ];
  const optimizers = {
    nll: [
      { name: "iter", tensor: tf.scalar(3 * k, "int32") as tf.Tensor },
      { name: "f0_logistic/w/m", tensor: tf.tensor1d([1, 2, 3 * k]) as tf.Tensor },
    ],
    critic: [{ name: "iter", tensor: tf.scalar(-k, "int32") as tf.Tensor }],
  };
  return {
    weights,
    optimizers,
    dispose: () => tf.dispose([...weights, ...optimizers.nll, ...optimizers.critic].map((t) => t.tensor)),
  };
}

/** Writes generation `g` of a small run into `d` and returns it. */
async function writeRun(d: string, g = 1, k = 1): Promise<string> {
  const t = tensors(k);
  try {
    await saveCheckpoint(d, meta(g), t.weights, t.optimizers, SOURCE);
  } finally {
    t.dispose();
  }
  return d;
}

let fresh = 0;
/** A new run directory with generation 1 written. */
async function newRun(): Promise<string> {
  const d = join(dir, `run-${++fresh}`);
  prepareRunDir(d, { resume: false });
  return writeRun(d);
}

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): GmError {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(GmError);
    return e as GmError;
  }
  throw new Error("expected an error, none was thrown");
}

const values = (t: StoredTensor | undefined) => Array.from(t!.values);
/** model.json as free-form JSON: the damage cases reach into any field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary nested edits of parsed JSON
type Json = Record<string, any>;
const editJson = (d: string, f: (j: Json) => void) => {
  const j = JSON.parse(readFileSync(join(d, "model.json"), "utf8"));
  f(j);
  writeFileSync(join(d, "model.json"), JSON.stringify(j));
};

describe("saveCheckpoint / loadCheckpoint", () => {
  it("round-trips weights, every step's optimizer state and the metadata; a new generation replaces the old files", async () => {
    const d = await newRun();
    expect(readdirSync(d).sort()).toEqual([
      "model.gm",
      "model.json",
      "optimizer-critic-000001.bin",
      "optimizer-nll-000001.bin",
      "weights-000001.bin",
    ]);
    await writeRun(d, 2, 5);
    expect(readdirSync(d).sort()).toEqual([
      "model.gm",
      "model.json",
      "optimizer-critic-000002.bin",
      "optimizer-nll-000002.bin",
      "weights-000002.bin",
    ]);
    const ck = loadCheckpoint(d);
    expect(ck.meta).toEqual(meta(2));
    expect(ck.source).toBe(SOURCE);
    expect([...ck.weights.keys()]).toEqual(["f0_logistic/w", "f0_logistic/b"]);
    expect(ck.weights.get("f0_logistic/w")).toMatchObject({ shape: [2, 3], dtype: "float32" });
    expect(values(ck.weights.get("f0_logistic/w"))).toEqual([5, -1.5, 0, 2, 3, -0]);
    expect(values(ck.weights.get("f0_logistic/b"))).toEqual(Array.from(Float32Array.from([1.25, 1e-30, -7])));
    expect(Object.keys(ck.optimizers).sort()).toEqual(["critic", "nll"]);
    expect(ck.optimizers.nll.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ["iter", "int32", []],
      ["f0_logistic/w/m", "float32", [3]],
    ]);
    expect(ck.optimizers.nll[0].values).toBeInstanceOf(Int32Array);
    expect(values(ck.optimizers.nll[0])).toEqual([15]);
    expect(values(ck.optimizers.critic[0])).toEqual([-5]);
  });

  it("keeps tfjs's format: tf.io.decodeWeights reads the weights with the manifest", async () => {
    const d = await newRun();
    const j = modelJson(d);
    const bytes = readFileSync(join(d, j.weightsManifest[0].paths[0]));
    const decoded = tf.io.decodeWeights(
      new Uint8Array(bytes).buffer,
      j.weightsManifest[0].weights as tf.io.WeightsManifestEntry[],
    );
    expect(Array.from(decoded["f0_logistic/w"].dataSync())).toEqual([1, -1.5, 0, 2, 3, -0]);
    expect(decoded["f0_logistic/w"].shape).toEqual([2, 3]);
    tf.dispose(Object.values(decoded));
  });

  it("property: any float32 / int32 tensors come back bit for bit", async () => {
    const d = join(dir, "prop");
    prepareRunDir(d, { resume: false });
    let g = 0;
    const shape = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
    const spec = fc.record({ shape, int: fc.boolean(), seed: fc.integer() });
    await fc.assert(
      fc.asyncProperty(
        fc.array(spec, { minLength: 1, maxLength: 4 }),
        fc.array(spec, { maxLength: 3 }),
        async (ws, os) => {
          const finite = (v: number) => (Number.isNaN(v) ? 0.5 : Math.sign(v) * 3.4e38);
          const make = (s: { shape: number[]; int: boolean; seed: number }, i: number, weight: boolean) => {
            const n = s.shape.reduce((a, b) => a * b, 1);
            // Finite floats of every magnitude (weights must be finite), and every int32.
            const bits = new Uint32Array(n).map((_, j) => Math.imul(s.seed ^ (j + 1), 2654435761) >>> 0);
            const vals =
              !weight && s.int
                ? new Int32Array(bits.buffer)
                : new Float32Array(bits.buffer).map((v) => (Number.isFinite(v) ? v : finite(v)));
            return {
              name: `t${i}`,
              tensor: tf.tensor(vals, s.shape, vals instanceof Int32Array ? "int32" : "float32"),
            };
          };
          const weights = ws.map((s, i) => make(s, i, true));
          const opt = os.map((s, i) => make(s, i, false));
          try {
            await saveCheckpoint(d, meta(++g), weights, { nll: opt }, SOURCE);
            const ck = loadCheckpoint(d);
            const same = (a: { values: Float32Array | Int32Array }, t: tf.Tensor) =>
              Buffer.from(a.values.buffer, a.values.byteOffset, a.values.byteLength).equals(
                Buffer.from((t.dataSync() as Float32Array).buffer),
              );
            expect(
              weights.every(
                (w) =>
                  same(ck.weights.get(w.name)!, w.tensor) &&
                  ck.weights.get(w.name)!.shape.join() === w.tensor.shape.join(),
              ),
            ).toBe(true);
            expect((ck.optimizers.nll ?? []).length).toBe(opt.length);
            opt.forEach((o, i) => {
              expect(same(ck.optimizers.nll[i], o.tensor)).toBe(true);
              expect(ck.optimizers.nll[i].dtype).toBe(o.tensor.dtype);
            });
          } finally {
            tf.dispose([...weights, ...opt].map((t) => t.tensor));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("loads in a fresh process without TensorFlow.js ever starting", async () => {
    const d = await newRun();
    const script = `
      const { loadCheckpoint } = await import(${JSON.stringify(join(root, "src/models/checkpoint.ts"))});
      const ck = loadCheckpoint(${JSON.stringify(d)});
      console.log(JSON.stringify({ w: Array.from(ck.weights.get("f0_logistic/w").values), tf: globalThis._tfengine !== undefined }));`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ w: [1, -1.5, 0, 2, 3, 0], tf: false });
  });

  it("reads gm 0.1 run directories: trainNll/testNll, one optimizer, no checksums", async () => {
    const d = join(dir, "v01");
    mkdirSync(d);
    const w = new Float32Array([1, 2, 3]);
    const o = new Int32Array([4]);
    writeFileSync(join(d, "weights-000003.bin"), Buffer.from(w.buffer));
    writeFileSync(join(d, "optimizer-000003.bin"), Buffer.from(o.buffer));
    writeFileSync(join(d, "model.gm"), SOURCE);
    const old = {
      version: "0.1.0",
      model: "M",
      sourceFile: "m.gm",
      source: "model.gm",
      params: "3",
      dim: 3,
      settings: {
        epochs: 5,
        batch: 100,
        lr: 0.001,
        seed: 1,
        smoothing: 1,
        data: { source: "mnist" },
        split: [0.8, 0.2],
        backend: "wasm",
      },
      history: [{ epoch: 1, trainNll: 90.5, testNll: 91.25, seconds: 2, imagesPerSecond: 5000 }],
      epoch: 1,
      partial: { batches: 7, lossSum: 630, images: 700, seconds: 0.5 },
      generation: 3,
      finished: false,
      optimizer: { paths: ["optimizer-000003.bin"], weights: [{ name: "iter", shape: [], dtype: "int32" }] },
    };
    writeFileSync(
      join(d, "model.json"),
      JSON.stringify({
        format: "gm-checkpoint",
        generatedBy: "gm 0.1.0",
        convertedBy: null,
        modelTopology: null,
        weightsManifest: [
          { paths: ["weights-000003.bin"], weights: [{ name: "f0_logistic/b", shape: [3], dtype: "float32" }] },
        ],
        userDefinedMetadata: { gm: old },
      }),
    );
    const ck = loadCheckpoint(d);
    expect(ck.meta.history).toEqual([
      { epoch: 1, train: { nll: 90.5 }, test: { nll: 91.25 }, seconds: 2, imagesPerSecond: 5000 },
    ]);
    expect(ck.meta.partial).toEqual({ batches: 7, step: 7, sums: { nll: 630 }, images: 700, seconds: 0.5 });
    expect(values(ck.weights.get("f0_logistic/b"))).toEqual([1, 2, 3]);
    expect(ck.optimizers.nll.map((t) => [t.name, Array.from(t.values)])).toEqual([["iter", [4]]]);
    // Resuming it writes generation 4 in the new format and removes 0.1's files.
    prepareRunDir(d, { resume: true });
    await writeRun(d, 4);
    expect(readdirSync(d).sort()).toEqual([
      "model.gm",
      "model.json",
      "optimizer-critic-000004.bin",
      "optimizer-nll-000004.bin",
      "weights-000004.bin",
    ]);
  });
});

describe("hostile or damaged run directories: one CheckpointError naming the file", () => {
  const W = "weights-000001.bin";
  const gmMeta = (j: Json) => j.userDefinedMetadata.gm;
  // [label, damage (returns the file the message must name), code]
  const cases: Array<[string, (d: string) => string, string]> = [
    [
      "source ../../../../etc/passwd",
      (d) => (editJson(d, (j) => (gmMeta(j).source = "../../../../etc/passwd")), join(d, "model.json")),
      "C0104",
    ],
    [
      "source /etc/passwd",
      (d) => (editJson(d, (j) => (gmMeta(j).source = "/etc/passwd")), join(d, "model.json")),
      "C0104",
    ],
    [
      "weights path ../x.bin",
      (d) => (editJson(d, (j) => (j.weightsManifest[0].paths = ["../x.bin"])), join(d, "model.json")),
      "C0104",
    ],
    [
      "optimizer path sub/x.bin",
      (d) => (editJson(d, (j) => (gmMeta(j).optimizers.nll.paths = ["sub/x.bin"])), join(d, "model.json")),
      "C0104",
    ],
    [
      "source a symbolic link to /etc/passwd",
      (d) => (unlinkSync(join(d, "model.gm")), symlinkSync("/etc/passwd", join(d, "model.gm")), join(d, "model.gm")),
      "C0105",
    ],
    ["weights file replaced by a folder", (d) => (unlinkSync(join(d, W)), mkdirSync(join(d, W)), join(d, W)), "C0105"],
    ["weights file missing", (d) => (unlinkSync(join(d, W)), join(d, W)), "C0105"],
    ["weights truncated", (d) => (truncateSync(join(d, W), 10), join(d, W)), "C0106"],
    [
      "a weight's shape enlarged to 10^15 elements",
      (d) => (editJson(d, (j) => (j.weightsManifest[0].weights[0].shape = [1e15])), join(d, W)),
      "C0106",
    ],
    [
      "flipped bytes whose values stay finite",
      (d) => {
        const b = readFileSync(join(d, W));
        b[1] ^= 0x40; // a low mantissa byte of the first float: still finite
        expect(Number.isFinite(new Float32Array(b.buffer, b.byteOffset, 6)[0])).toBe(true);
        writeFileSync(join(d, W), b);
        return join(d, W);
      },
      "C0107",
    ],
    [
      "optimizer bytes flipped",
      (d) => {
        const f = join(d, "optimizer-nll-000001.bin");
        const b = readFileSync(f);
        b[5] ^= 1;
        writeFileSync(f, b);
        return f;
      },
      "C0107",
    ],
    [
      "the source edited",
      (d) => (writeFileSync(join(d, "model.gm"), SOURCE.replace("logistic", "nade(hidden = 2)")), join(d, "model.gm")),
      "C0107",
    ],
    ["checksums removed", (d) => (editJson(d, (j) => (gmMeta(j).sha256 = {})), join(d, W)), "C0107"],
    [
      "a NaN weight with its checksum updated",
      (d) => {
        const b = readFileSync(join(d, W));
        b.writeFloatLE(Number.NaN, 0);
        writeFileSync(join(d, W), b);
        editJson(d, (j) => (gmMeta(j).sha256[W] = createHash("sha256").update(b).digest("hex")));
        return join(d, W);
      },
      "C0108",
    ],
    ["settings.batch = 0", (d) => (editJson(d, (j) => (gmMeta(j).settings.batch = 0)), join(d, "model.json")), "C0103"],
    [
      "a weight's dtype edited to int32",
      (d) => (editJson(d, (j) => (j.weightsManifest[0].weights[0].dtype = "int32")), join(d, "model.json")),
      "C0103",
    ],
    ["a string seed", (d) => (editJson(d, (j) => (gmMeta(j).settings.seed = "1")), join(d, "model.json")), "C0103"],
    [
      "an infinite learning rate (1e999)",
      (d) => (
        writeFileSync(
          join(d, "model.json"),
          readFileSync(join(d, "model.json"), "utf8").replace(/"lr":\s*0\.001/, '"lr": 1e999'),
        ),
        join(d, "model.json")
      ),
      "C0103",
    ],
    ["a negative epoch", (d) => (editJson(d, (j) => (gmMeta(j).epoch = -1)), join(d, "model.json")), "C0103"],
    [
      "a negative shape",
      (d) => (editJson(d, (j) => (j.weightsManifest[0].weights[0].shape = [-2, 3])), join(d, "model.json")),
      "C0103",
    ],
    ["history as a string", (d) => (editJson(d, (j) => (gmMeta(j).history = "none")), join(d, "model.json")), "C0103"],
    ["an unknown format version", (d) => (editJson(d, (j) => (j.formatVersion = 99)), join(d, "model.json")), "C0103"],
    [
      "garbage model.json",
      (d) => (writeFileSync(join(d, "model.json"), "{ this is not JSON"), join(d, "model.json")),
      "C0102",
    ],
    [
      "model.json that is JSON but not a checkpoint",
      (d) => (writeFileSync(join(d, "model.json"), "null"), join(d, "model.json")),
      "C0102",
    ],
    [
      "model.json a folder",
      (d) => (unlinkSync(join(d, "model.json")), mkdirSync(join(d, "model.json")), join(d, "model.json")),
      "C0102",
    ],
    ["no model.json", (d) => (unlinkSync(join(d, "model.json")), d), "C0101"],
  ];

  it.each(cases)("%s", async (_label, damage, code) => {
    const d = await newRun();
    const file = damage(d);
    const e = thrown(() => loadCheckpoint(d));
    expect(e.code, e.message).toBe(code);
    expect(e.message).toContain(file);
    expect(e.message).not.toContain("\n");
    expect(e.message).not.toContain("root:"); // never another file's content
    expect(e.exitStatus).toBe(1);
  });
});

describe("prepareRunDir", () => {
  it("creates a new directory (and its parents); accepts an empty one", () => {
    const d = join(dir, "prep", "a", "b");
    prepareRunDir(d, { resume: false });
    expect(readdirSync(d)).toEqual([]);
    prepareRunDir(d, { resume: false });
  });

  it("refuses a non-empty folder that holds no run, and deletes nothing in it", () => {
    const d = join(dir, "prep-foreign");
    mkdirSync(d);
    writeFileSync(join(d, "weights-000001.bin"), "mine");
    writeFileSync(join(d, "optimizer-000002.bin"), "mine too");
    const e = thrown(() => prepareRunDir(d, { resume: false }));
    expect([e.code, e.message]).toEqual([
      "C0202",
      `${d} is not empty and holds no gm run (it has 2 files, e.g. optimizer-000002.bin); gm will not write into it`,
    ]);
    expect(readdirSync(d).sort()).toEqual(["optimizer-000002.bin", "weights-000001.bin"]);
  });

  it("clears gm's own first save cut short (its mark, generation files, model.gm; no model.json), and only that", async () => {
    // A first save killed before its model.json: what a SIGKILL during it can leave (seen under load
    // in tests/cli/latent-process.test.ts: "not empty and holds no gm run (… weights-000001.bin)").
    const d = await writeRun(join(dir, "prep-cut"));
    expect(readdirSync(d)).not.toContain(FIRST_SAVE_MARK); // a finished save removes its mark
    unlinkSync(join(d, "model.json"));
    writeFileSync(join(d, FIRST_SAVE_MARK), "M\n");
    writeFileSync(join(d, "notes.txt"), "the user's");
    // With a file that is not gm's, the folder is still refused, but gm's own leftovers are gone.
    expect(thrown(() => prepareRunDir(d, { resume: false })).code).toBe("C0202");
    expect(readdirSync(d)).toEqual(["notes.txt"]);
    unlinkSync(join(d, "notes.txt"));
    const e = await writeRun(join(dir, "prep-cut2"));
    unlinkSync(join(e, "model.json"));
    writeFileSync(join(e, FIRST_SAVE_MARK), "M\n");
    prepareRunDir(e, { resume: false });
    expect(readdirSync(e)).toEqual([]);
    // --resume there has no run to continue (U0202), and removes nothing.
    const f = await writeRun(join(dir, "prep-cut3"));
    unlinkSync(join(f, "model.json"));
    writeFileSync(join(f, FIRST_SAVE_MARK), "M\n");
    const before = readdirSync(f).sort();
    expect(thrown(() => prepareRunDir(f, { resume: true })).code).toBe("U0202");
    expect(readdirSync(f).sort()).toEqual(before);
  });

  it("refuses a file, a path through a file, and /proc/x at once", () => {
    const f = join(dir, "prep-file");
    writeFileSync(f, "x");
    expect(thrown(() => prepareRunDir(f, { resume: false })).code).toBe("C0201");
    expect(thrown(() => prepareRunDir(f, { resume: true })).code).toBe("C0201");
    const under = thrown(() => prepareRunDir(join(f, "run"), { resume: false }));
    expect([under.code, under.message]).toEqual([
      "R0103",
      `cannot create ${join(f, "run")}: a part of the path is not a directory`,
    ]);
    const t0 = performance.now();
    const proc = thrown(() => prepareRunDir("/proc/x", { resume: false }));
    expect([proc.code, proc.message]).toEqual([
      "R0103",
      "cannot create /proc/x: that place does not exist and cannot be created",
    ]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it("an empty name is a usage error (U0100), not a write into the working directory", () => {
    const e = thrown(() => prepareRunDir("", { resume: false }));
    expect([e.code, e.exitStatus, e.message]).toEqual(["U0100", 2, "the run directory name is empty"]);
  });

  it("--resume needs a run (U0202, exit 2); a new run over a run is U0201 (exit 2)", async () => {
    const empty = join(dir, "prep-empty");
    mkdirSync(empty);
    for (const d of [empty, join(dir, "prep-none")]) {
      const e = thrown(() => prepareRunDir(d, { resume: true }));
      expect([e.code, e.exitStatus, e.message]).toEqual(["U0202", 2, `--resume: ${d} holds no run to resume`]);
    }
    const run = await newRun();
    const e = thrown(() => prepareRunDir(run, { resume: false }));
    expect([e.code, e.exitStatus, e.message]).toEqual(["U0201", 2, `${run} already holds a run`]);
  });

  it("on resume, removes stale temp files and the generations a crashed save left, nothing else", async () => {
    const d = await newRun();
    writeFileSync(join(d, ".weights-000002.bin.tmp-123-4"), "half");
    writeFileSync(join(d, "weights-000002.bin"), "orphan of a crashed save");
    writeFileSync(join(d, "optimizer-nll-000002.bin"), "orphan");
    writeFileSync(join(d, "notes.txt"), "the user's");
    prepareRunDir(d, { resume: true });
    expect(readdirSync(d).sort()).toEqual([
      "model.gm",
      "model.json",
      "notes.txt",
      "optimizer-critic-000001.bin",
      "optimizer-nll-000001.bin",
      "weights-000001.bin",
    ]);
    expect(loadCheckpoint(d).meta.generation).toBe(1);
  });

  it("a folder holding only gm's stale temp files counts as empty, and they are removed", () => {
    const d = join(dir, "prep-temps");
    mkdirSync(d);
    writeFileSync(join(d, ".model.json.tmp-99-1"), "{");
    prepareRunDir(d, { resume: false });
    expect(readdirSync(d)).toEqual([]);
  });
});

describe("atomic writes", () => {
  const enospc = () => {
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  };

  it("the temp file lives beside the target and is gone afterwards", () => {
    const d = join(dir, "atomic");
    const seen: string[] = [];
    writeFileAtomic(join(d, "a.txt"), "hello", {
      renameSync: (from, to) => (seen.push(String(from)), renameSync(from, to)),
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(
      new RegExp(`^${d.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/\\.a\\.txt\\.tmp-${process.pid}-\\d+$`),
    );
    expect(readdirSync(d)).toEqual(["a.txt"]);
    expect(readFileSync(join(d, "a.txt"), "utf8")).toBe("hello");
  });

  it("a directory as the target (gm sample -o /tmp) fails before any temp file exists", () => {
    const parent = join(dir, "atomic-dir");
    const target = join(parent, "out");
    mkdirSync(target, { recursive: true });
    const e = thrown(() => writeFileAtomic(target, "x"));
    expect([e.code, e.message]).toEqual(["R0103", `cannot write ${target}: it is a directory`]);
    expect(readdirSync(parent)).toEqual(["out"]);
    expect(thrown(() => writeFileAtomic("/tmp", "x")).message).toBe("cannot write /tmp: it is a directory");
  });

  it("ENOSPC: R0102 naming the file, no temp file, the old content kept", () => {
    const d = join(dir, "atomic-full");
    mkdirSync(d);
    writeFileSync(join(d, "a.txt"), "old");
    const e = thrown(() => writeFileAtomic(join(d, "a.txt"), "new", { writeSync: enospc }));
    expect([e.code, e.exitStatus, e.message]).toEqual([
      "R0102",
      1,
      `cannot write ${join(d, "a.txt")}: the disk is full`,
    ]);
    expect(readdirSync(d)).toEqual(["a.txt"]);
    expect(readFileSync(join(d, "a.txt"), "utf8")).toBe("old");
  });

  it("ENOSPC during a save: R0102, no orphaned weights file, the previous generation still loads", async () => {
    const d = await newRun();
    const before = readdirSync(d).sort();
    const t = tensors(9);
    let writes = 0;
    // The weights of generation 2 are written, then the disk fills up on the optimizer file.
    const writeFile = (path: string, bytes: string | Uint8Array) =>
      writeFileAtomic(path, bytes, ++writes >= 2 ? { writeSync: enospc } : {});
    try {
      const err = await saveCheckpoint(d, meta(2), t.weights, t.optimizers, SOURCE, { writeFile }).then(
        () => null,
        (e: unknown) => e as GmError,
      );
      expect(err).toBeInstanceOf(GmError);
      expect([err!.code, err!.message]).toEqual([
        "R0102",
        `cannot write ${join(d, "optimizer-nll-000002.bin")}: the disk is full`,
      ]);
    } finally {
      t.dispose();
    }
    expect(readdirSync(d).sort()).toEqual(before);
    expect(loadCheckpoint(d).meta.generation).toBe(1);
  });
});

const train = (gmFile: string, out: string, ...extra: string[]) =>
  gm(["train", gmFile, "--out", out, "--data", data, "--batch", "20", ...QUIET_WASM, ...extra]);

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
      const r = await gm([
        "sample",
        run,
        "-n",
        "32",
        "--seed",
        seed,
        "--json",
        "-o",
        join(run, `s${seed}.png`),
        "--backend",
        "wasm",
      ]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).samples as number[][];
    };
    expect(await sample(a, "3")).toEqual(await sample(b, "3"));
    expect(await sample(a, "3")).not.toEqual(await sample(a, "4"));
    expect(await sample(a, "3")).not.toEqual(await sample(c, "3"));
  });

  it("on cpu: the same seed gives identical weights, another seed different ones", async () => {
    const [a, b, c] = ["cpu-a", "cpu-b", "cpu-c"].map((d) => join(dir, d));
    const cpu = (out: string, seed: string) =>
      gm([
        "train",
        nade,
        "--out",
        out,
        "--data",
        data,
        "--batch",
        "40",
        "--epochs",
        "1",
        "--seed",
        seed,
        "--backend",
        "cpu",
        "-q",
      ]);
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
    expect(hr.map((h) => [h.train, h.test])).toEqual(hs.map((h) => [h.train, h.test]));
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

  /** The run's first file whose name starts with `prefix` (`weights-`, `optimizer-`). */
  const generationFile = (d: string, prefix: string) =>
    join(
      d,
      readdirSync(d).find((x) => x.startsWith(prefix))!,
    );

  const cases: Array<[string, (d: string) => string]> = [
    [
      "truncated weights-*.bin",
      (d) => {
        const f = generationFile(d, "weights-");
        truncateSync(f, 100);
        return f;
      },
    ],
    [
      "garbage model.json",
      (d) => {
        writeFileSync(join(d, "model.json"), "{ this is not JSON");
        return join(d, "model.json");
      },
    ],
    [
      "model.json that is JSON but not a checkpoint",
      (d) => {
        writeFileSync(join(d, "model.json"), "null");
        return join(d, "model.json");
      },
    ],
    [
      "model.json with a malformed manifest",
      (d) => {
        const j = modelJson(d);
        (j.weightsManifest[0] as unknown as Record<string, unknown>).paths = undefined;
        writeFileSync(join(d, "model.json"), JSON.stringify(j));
        return join(d, "model.json");
      },
    ],
    [
      "missing model.gm",
      (d) => {
        unlinkSync(join(d, "model.gm"));
        return join(d, "model.gm");
      },
    ],
    [
      "missing weights-*.bin",
      (d) => {
        const f = generationFile(d, "weights-");
        unlinkSync(f);
        return f;
      },
    ],
    [
      "truncated optimizer-*.bin",
      (d) => {
        const f = generationFile(d, "optimizer-");
        truncateSync(f, 3);
        return f;
      },
    ],
  ];

  it.each(cases)("%s", async (label, corrupt) => {
    const d = join(dir, `corrupt-${label.replace(/\W+/g, "-")}`);
    cpSync(good, d, { recursive: true });
    const file = corrupt(d);
    const r = await gm(["score", d, "--json", "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(1);
    // --json: the error as JSON on stdout ({error: {code, message, hint, file}}), the message on stderr.
    const j = JSON.parse(r.stdout) as { error: { code: string; file: string | null } };
    expect(Object.keys(j)).toEqual(["error"]);
    expect(j.error.code).toMatch(/^C0\d{3}$/);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^error\[C0\d{3}\]: /);
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

describe("gm score on a hostile run directory", () => {
  it("a source path ../../../../etc/passwd is refused (C0104): nothing of that file is printed", async () => {
    const d = join(dir, "hostile");
    expect((await train(logistic, d, "--epochs", "1")).code).toBe(0);
    editJson(d, (j) => (j.userDefinedMetadata.gm.source = "../../../../etc/passwd"));
    const r = await gm(["score", d, "--backend", "wasm"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toBe(
      `error[C0104]: ${join(d, "model.json")} names the run's .gm source "../../../../etc/passwd", which is not a plain file name inside the run directory; refusing to read it`,
    );
    expect(r.stderr).not.toContain("root:");
  });
});

describe("gm in a child process, as an unlucky user runs it", () => {
  /** `gm argv…` as a child process (through tsx, so no build is needed), killed after 60 s. */
  const child = (...argv: string[]) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), ...argv], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: "1" },
    });
    return { status: r.status, signal: r.signal, stderr: r.stderr, stdout: r.stdout };
  };

  it("--out /proc/x, a file, or a path through a file: one line naming it at once, exit 1 (never a hang, never 70)", () => {
    const f = join(dir, "out-is-a-file");
    writeFileSync(f, "x");
    const cases: Array<[string, string]> = [
      ["/proc/x", "error[R0103]: cannot create /proc/x: that place does not exist and cannot be created"],
      [f, `error[C0201]: ${f} is a file; a run needs a directory`],
      [join(f, "run"), `error[R0103]: cannot create ${join(f, "run")}: a part of the path is not a directory`],
    ];
    for (const [out, line] of cases) {
      const r = child("train", logistic, "--out", out, "--data", data, "--epochs", "1", "--backend", "wasm", "-q");
      expect(r.signal, `${out}: killed after 60 s (a hang)`).toBeNull();
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.split("\n")[0]).toBe(line);
      expect(hasStack(r.stderr)).toBe(false);
    }
    expect(readFileSync(f, "utf8")).toBe("x");
  });

  it("gm sample RUN -o /tmp: R0103, and no temp file appears in / or /tmp", async () => {
    const d = join(dir, "sample-to-dir");
    expect((await train(logistic, d, "--epochs", "1")).code).toBe(0);
    const temps = (p: string) => readdirSync(p).filter((n) => /\.tmp-\d+-\d+$/.test(n));
    const [root0, tmp0] = [temps("/"), temps("/tmp")];
    const r = child("sample", d, "-o", "/tmp", "--backend", "wasm");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      "error[R0103]: cannot write /tmp: it is a directory\nhint: name a file inside it, e.g. /tmp/out.png\n",
    );
    expect(temps("/")).toEqual(root0);
    expect(temps("/tmp")).toEqual(tmp0);
  });
});

describe("divergence (a huge --lr)", () => {
  it.each([
    ["nade", () => nade],
    ["logistic", () => logistic],
  ] as const)("%s in epoch 1: exit 1, 'diverged', no checkpoint written or claimed", async (_name, file) => {
    const out = join(dir, `nan-${_name}`);
    const r = await train(file(), out, "--epochs", "3", "--lr", "1e6");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[R0101\]: training diverged at epoch 1, batch \d+/m);
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
