/**
 * `gm train`, `gm sample`, `gm score`, `gm verify` and `gm backends` end to end, on tiny data
 * written as IDX files into a temp dir (200 binary 4×4 images; never MNIST). Commands run
 * in-process through `main(argv)` (what the executable calls) except Ctrl-C, which needs a real
 * child process: `node --import tsx src/cli/main.ts train …`, interrupted with SIGINT once the
 * first epoch's checkpoint exists.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadData } from "../../src/data/spec";
import { initBackend } from "../../src/models/backend";
import { loadCheckpoint } from "../../src/models/checkpoint";
import {
  gm,
  hasStack,
  modelJson,
  PNG_SIGNATURE,
  QUIET_WASM,
  removeDir,
  runFile,
  tempDir,
  writeBinaryIdx,
  writeModel,
} from "../models/run-helpers";
import { writeIdx } from "../data/helpers";

const root = resolve(import.meta.dirname, "../..");
let dir: string;
let data: string;
let nade: string;

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
  dir = tempDir("gm-cli-train-");
  data = writeBinaryIdx(dir, "train-4x4.idx", 200, 4, 4);
  nade = writeModel(dir, "nade.gm", "nade(hidden = 8)");
});

afterAll(() => removeDir(dir));

const isPng = (file: string) => readFileSync(file).subarray(0, 8).equals(PNG_SIGNATURE);

describe("gm train → sample → score", () => {
  let run: string;
  beforeAll(async () => {
    run = join(dir, "run");
    const r = await gm(["train", nade, "--out", run, "--data", data, "--epochs", "2", "--batch", "20", ...QUIET_WASM]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/epoch 1: train [\d.]+ nats, held-out NLL [\d.]+ nats/);
    expect(r.stderr).toMatch(/epoch 2: /);
    expect(r.stdout).toMatch(/held-out NLL/); // the summary table
  });

  it("writes a complete run directory", () => {
    const j = modelJson(run);
    expect(j.format).toBe("gm-checkpoint");
    const manifest = j.weightsManifest[0];
    expect(manifest.paths).toEqual(["weights-000002.bin"]);
    expect(manifest.weights.map((w) => w.name).sort()).toEqual(["f0_nade/V", "f0_nade/W", "f0_nade/b", "f0_nade/c"]);
    const floats = manifest.weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
    expect(floats).toBe(2 * 16 * 8 + 16 + 8);
    expect(runFile(run, "weights").length).toBe(4 * floats);
    expect(runFile(run, "optimizer").length).toBeGreaterThan(0);
    expect(readFileSync(join(run, "model.gm"), "utf8")).toBe(readFileSync(nade, "utf8"));
    expect(readFileSync(join(run, "curve.svg"), "utf8")).toMatch(/<svg[\s>]/);
    expect(isPng(join(run, "curve.png"))).toBe(true);
    expect(isPng(join(run, "samples.png"))).toBe(true);
    const meta = j.userDefinedMetadata.gm;
    expect(meta.epoch).toBe(2);
    expect(meta.finished).toBe(true);
    expect(meta.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(JSON.parse(readFileSync(join(run, "history.json"), "utf8"))).toHaveLength(2);
  });

  it("gm score --json prints nll_nats, bits_per_dim and n; --per-image agrees with the mean", async () => {
    const r = await gm(["score", run, "--json", "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.n).toBe(40); // the 20 % held out of 200
    expect(s.nll_nats).toBeGreaterThan(0);
    expect(s.bits_per_dim).toBeCloseTo(s.nll_nats / (16 * Math.LN2), 10);
    expect(s.nll_nats).toBeCloseTo(modelJson(run).userDefinedMetadata.gm.history[1].test.nll, 4);
    const p = await gm(["score", run, "--json", "--per-image", "--backend", "wasm"]);
    expect(p.code, p.stderr).toBe(0);
    const per = JSON.parse(p.stdout);
    expect(per.log_likelihoods).toHaveLength(40);
    const mean = -per.log_likelihoods.reduce((a: number, b: number) => a + b, 0) / per.log_likelihoods.length;
    expect(per.nll_nats).toBeCloseTo(mean, 6);
    for (const l of per.log_likelihoods) expect(l).toBeLessThan(0);
  });

  it("gm score --per-image (text) lists every image, least likely first", async () => {
    const r = await gm(["score", run, "--per-image", "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^M: NLL [\d.]+ nats per image, [\d.]+ bits\/dim over 40 images/);
    const rows = r.stdout
      .split("\n")
      .filter((l) => /^\d+\t/.test(l))
      .map((l) => Number(l.split("\t")[1]));
    expect(rows).toHaveLength(40);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
  });

  it("gm score --data scores every example of another IDX file", async () => {
    const other = writeBinaryIdx(dir, "other-4x4.idx", 30, 4, 4, 99);
    const r = await gm(["score", run, "--data", other, "--json", "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).n).toBe(30);
  });

  it("gm sample -n 16 -o x.png writes a PNG; --json gives 16 binary rows", async () => {
    const png = join(dir, "x.png");
    const r = await gm(["sample", run, "-n", "16", "-o", png, "--json", "--backend", "wasm"]);
    expect(r.code, r.stderr).toBe(0);
    expect(isPng(png)).toBe(true);
    const s = JSON.parse(r.stdout);
    expect(s.samples).toHaveLength(16);
    for (const row of s.samples) {
      expect(row).toHaveLength(16);
      for (const v of row) expect([0, 1]).toContain(v);
    }
  });
});

describe("gm score's NLL is −mean log p", () => {
  it("matches a hand computation for a closed-form `independent` model", async () => {
    const file = writeModel(dir, "independent.gm", "independent");
    const run = join(dir, "independent");
    const t = await gm(["train", file, "--out", run, "--data", data, ...QUIET_WASM]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toContain("fitted 1 table factor in closed form");
    const s = JSON.parse((await gm(["score", run, "--json", "--backend", "wasm"])).stdout);
    // By hand: p(x_j = 1) = (ones_j + 1) / (n + 2) on the training split (Laplace α = 1).
    const { train, test } = loadData(
      { source: "idx", path: data },
      { shape: [4, 4], domain: { kind: "bernoulli" } },
      [0.8, 0.2],
    );
    const D = 16;
    const p1 = Array.from({ length: D }, (_, j) => {
      let ones = 0;
      for (let i = 0; i < train.n; i++) ones += train.x[i * D + j];
      return (ones + 1) / (train.n + 2);
    });
    let total = 0;
    for (let i = 0; i < test.n; i++)
      for (let j = 0; j < D; j++) total -= Math.log(test.x[i * D + j] ? p1[j] : 1 - p1[j]);
    expect(s.n).toBe(test.n);
    expect(s.nll_nats).toBeCloseTo(total / test.n, 4);
  });
});

describe("bad input", () => {
  const train = (out: string, d: string, ...extra: string[]) =>
    gm(["train", nade, "--out", out, "--data", d, "--epochs", "1", ...QUIET_WASM, ...extra]);
  const expectOneError = (r: { code: number; stderr: string }, code: number, ...mentions: string[]) => {
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(/^error\[[A-Z]\d{4}\]: /);
    for (const m of mentions) expect(r.stderr.split("\n")[0]).toContain(m);
    expect(hasStack(r.stderr)).toBe(false);
    expect(r.stderr).not.toContain("internal error");
  };

  it("a missing data file: exit 1 naming it, and no run directory", async () => {
    const out = join(dir, "bad-missing");
    const missing = join(dir, "no-such.idx");
    expectOneError(await train(out, missing), 1, missing);
    expectOneError(await train(out, `idx("${missing}")`), 1, missing);
    expect(existsSync(out)).toBe(false);
  });

  it("an IDX file with the wrong magic number: exit 1 naming it", async () => {
    const bad = join(dir, "bad-magic.idx");
    writeFileSync(
      bad,
      Buffer.from([0x12, 0x34, 0x08, 0x03, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 4, ...new Array(16).fill(0)]),
    );
    expectOneError(await train(join(dir, "bad-magic"), bad), 1, bad, "magic");
  });

  it("data whose shape does not match the model ([5, 5] for [4, 4]): exit 1 naming the file and both shapes", async () => {
    const five = writeIdx(dir, "five.idx", [20, 5, 5], new Uint8Array(20 * 25));
    const r = await train(join(dir, "bad-shape"), five);
    expectOneError(r, 1, five, "[5, 5]", "[4, 4]");
  });

  it("an existing run directory without --resume: exit 2; --resume without a run: exit 2", async () => {
    const out = join(dir, "exists");
    expect((await train(out, data)).code).toBe(0);
    const again = await train(out, data);
    expectOneError(again, 2, out, "already holds a run");
    expect(again.stderr).toContain("--resume");
    expectOneError(await train(join(dir, "nothing-here"), data, "--resume"), 2, "holds no run to resume");
  });

  it("a missing .gm file or a bad flag: exit 2", async () => {
    expectOneError(await gm(["train", join(dir, "nope.gm"), "--data", data, ...QUIET_WASM]), 2, "no such file");
    expectOneError(
      await gm(["train", nade, "--out", join(dir, "bad-epochs"), "--data", data, "--epochs", "0", ...QUIET_WASM]),
      2,
      "--epochs",
    );
  });
});

describe("what is refused before anything is allocated or read", () => {
  const expectRefused = (r: { code: number; stderr: string }, code: string, ...mentions: string[]) => {
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.split("\n")[0]).toMatch(new RegExp(`^error\\[${code}\\]: `));
    for (const m of mentions) expect(r.stderr).toContain(m);
    expect(hasStack(r.stderr)).toBe(false);
    expect(r.stderr).not.toContain("internal error");
  };

  it("a latent model reads only its observed variable: the data is checked against x [28, 28], never against its latent elements", async () => {
    const r = await gm([
      "train",
      join(root, "examples/12-vae.gm"),
      "--model",
      "Vae",
      "--out",
      join(dir, "vae"),
      "--data",
      data,
      ...QUIET_WASM,
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.split("\n")[0]).toMatch(/^error\[(D0401|M0103)\]: /);
    expect(r.stderr).not.toMatch(/804|values per example/);
    if (r.stderr.startsWith("error[D0401]")) expect(r.stderr).toContain("[28, 28]");
    expect(existsSync(join(dir, "vae"))).toBe(false);
  });

  it("a network that cannot fit (nade hidden = 10^12 or 100000 on 28×28) is refused with the memory it needs, by train and verify", async () => {
    for (const hidden of ["10^12", "100000"]) {
      const file = join(dir, `huge-${hidden.replace("^", "e")}.gm`);
      writeFileSync(file, `model Huge {\n  x : Bernoulli[28, 28]\n  p(x) = nade(hidden = ${hidden})\n}\n`);
      const out = join(dir, `huge-${hidden.replace("^", "e")}`);
      const t = await gm(["train", file, "--out", out, "--data", data, ...QUIET_WASM]);
      expectRefused(t, "M0106", "GiB", "Huge");
      expect(existsSync(out)).toBe(false);
      const v = await gm(["verify", file, "--runs", "1", "--backend", "wasm"]);
      expectRefused(v, "M0106", "GiB");
    }
  });

  it("relative data paths in a train block resolve against the .gm file's folder, not the working folder", async () => {
    const sub = join(dir, "sub");
    mkdirSync(sub, { recursive: true });
    writeBinaryIdx(sub, "local.idx", 50, 4, 4, 5);
    const file = join(sub, "rel.gm");
    writeFileSync(
      file,
      'model Rel {\n  x : Bernoulli[4, 4]\n  p(x) = independent\n  train { data = idx("local.idx") }\n}\n',
    );
    expect(process.cwd()).not.toBe(sub);
    const out = join(dir, "rel-run");
    const r = await gm(["train", file, "--out", out, ...QUIET_WASM]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(join(sub, "local.idx"));
    expect(modelJson(out).userDefinedMetadata.gm.settings.data).toEqual({
      source: "idx",
      path: join(sub, "local.idx"),
    });
  });
});

describe("a model over an image and a label", () => {
  const text =
    "model Cond {\n  y : Categorical(3)\n  x : Bernoulli[4, 4]\n  p(y) = independent\n  p(x | y) = logistic\n}\n";

  it("trains on idx(images, labels = …): columns are the observed variables in declaration order, the label from the labels file", async () => {
    const file = join(dir, "cond.gm");
    writeFileSync(file, text);
    const labels = writeIdx(
      dir,
      "labels.idx",
      [200],
      Uint8Array.from({ length: 200 }, (_, i) => (i * 7) % 3),
    );
    const out = join(dir, "cond");
    const r = await gm([
      "train",
      file,
      "--out",
      out,
      "--data",
      `idx("${data}", labels = "${labels}")`,
      "--epochs",
      "1",
      "--batch",
      "20",
      ...QUIET_WASM,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/examples of 17 values/);
    const s = await gm(["sample", out, "-n", "8", "--json", "--backend", "wasm"]);
    expect(s.code, s.stderr).toBe(0);
    for (const row of JSON.parse(s.stdout).samples as number[][]) {
      expect(row).toHaveLength(17);
      expect([0, 1, 2]).toContain(row[0]);
      for (const v of row.slice(1)) expect([0, 1]).toContain(v);
    }
    const sc = await gm(["score", out, "--json", "--backend", "wasm"]);
    expect(sc.code, sc.stderr).toBe(0);
    expect(JSON.parse(sc.stdout).bits_per_dim).toBeCloseTo(JSON.parse(sc.stdout).nll_nats / (17 * Math.LN2), 10);
  });

  it("without labels in the data: exit 1 naming the label variable", async () => {
    const file = join(dir, "cond2.gm");
    writeFileSync(file, text);
    const r = await gm(["train", file, "--out", join(dir, "cond2"), "--data", data, "--epochs", "1", ...QUIET_WASM]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.split("\n")[0]).toMatch(/^error\[I0100\]: .*label y .*no labels/);
  });
});

describe("Ctrl-C", () => {
  it("saves a loadable checkpoint, exits 130, and --resume continues the curve", async () => {
    const out = join(dir, "interrupted");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/main.ts",
        "train",
        nade,
        "--out",
        out,
        "--data",
        data,
        "--epochs",
        "1000",
        "--batch",
        "4",
        "--backend",
        "wasm",
      ],
      {
        cwd: root,
        env: { ...process.env, GM_WASM_THREADS: "1", NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.on("data", () => {});
    const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
    // Send SIGINT as soon as the first epoch's checkpoint exists; give up (and kill it) after 90 s.
    const deadline = Date.now() + 90_000;
    while (!existsSync(join(out, "model.json")) && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 25));
    const sent = child.exitCode === null && child.kill("SIGINT");
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await exited;
    clearTimeout(killer);
    expect(sent, stderr).toBe(true);
    expect(code, stderr).toBe(130);
    expect(stderr).toContain("interrupted: saving a checkpoint");
    expect(stderr).toMatch(/saved .* after epoch \d+ \+ \d+ batch(es)?; continue with: gm train .* --resume/);
    expect(hasStack(stderr)).toBe(false);

    const ck = loadCheckpoint(out);
    const done = ck.meta.epoch;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(ck.meta.history).toHaveLength(done);
    expect(ck.meta.finished).toBe(false);
    expect(ck.meta.partial).toBeDefined();

    const r = await gm(["train", nade, "--out", out, "--epochs", String(done + 1), "--resume", ...QUIET_WASM]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`resuming after epoch ${done} + ${ck.meta.partial!.batches} batches`);
    const meta = modelJson(out).userDefinedMetadata.gm;
    expect(meta.history.map((h) => h.epoch)).toEqual(Array.from({ length: done + 1 }, (_, i) => i + 1));
    expect(meta.finished).toBe(true);
    expect(meta.partial).toBeUndefined();
    expect(isPng(join(out, "curve.png"))).toBe(true);

    // Interrupting mid-epoch loses nothing: the same run without a break ends with the same weights.
    const straight = join(dir, "uninterrupted");
    const u = await gm([
      "train",
      nade,
      "--out",
      straight,
      "--data",
      data,
      "--epochs",
      String(done + 1),
      "--batch",
      "4",
      ...QUIET_WASM,
    ]);
    expect(u.code, u.stderr).toBe(0);
    expect(runFile(out, "weights").equals(runFile(straight, "weights"))).toBe(true);
  }, 120_000);
});

describe("gm verify", () => {
  it("on a small model: exit 0 and a passed line per property that applies", async () => {
    const file = join(dir, "small.gm");
    writeFileSync(file, "model Small {\n  x : Bernoulli[2, 3]\n  p(x) = logistic\n  assume x[2, 3] ⊥ x[1, 1]\n}\n");
    const r = await gm(["verify", file, "--runs", "3", "--backend", "wasm"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("model Small");
    for (const p of ["normalization", "chain rule", "sum of conditionals", "assumptions", "sampling"])
      expect(r.stdout).toMatch(new RegExp(`passed\\s+${p}:`));
    expect(r.stdout).not.toMatch(/FAILED/);
  });

  it("on implicit models: says skipped; a VAE: its latent properties", async () => {
    const gan = await gm(["verify", join(root, "examples/14-gan.gm"), "--runs", "1", "--backend", "wasm"]);
    expect(gan.code, gan.stderr).toBe(0);
    expect(gan.stdout).toMatch(/skipped: an implicit model has no density to verify/);
    const vae = await gm([
      "verify",
      join(root, "examples/12-vae.gm"),
      "--model",
      "Vae2D",
      "--runs",
      "1",
      "--backend",
      "wasm",
    ]);
    // A VAE is verified since tests/cli/verify-latent.test.ts (bounds, monotone, KL).
    expect(vae.code, vae.stdout + vae.stderr).toBe(0);
    for (const p of ["bounds", "monotone", "KL"]) expect(vae.stdout).toMatch(new RegExp(`passed\\s+${p}:`));
  });
});

describe("gm backends", () => {
  const require = createRequire(import.meta.url);
  const installed = (pkg: string) => {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  };

  it.skipIf(installed("@tensorflow/tfjs-node-gpu"))(
    "lists wasm as available and tensorflow-gpu as not installed",
    async () => {
      const r = await gm(["backends"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^yes\s+wasm\s/m);
      expect(r.stdout).toMatch(/^\s*no\s+tensorflow-gpu\s+.*not installed/m);
      const j = await gm(["backends", "--json"]);
      const list = JSON.parse(j.stdout) as Array<{ name: string; available: boolean; reason: string }>;
      const by = Object.fromEntries(list.map((b) => [b.name, b]));
      expect(by.wasm.available).toBe(true);
      expect(by["tensorflow-gpu"].available).toBe(false);
      expect(by["tensorflow-gpu"].reason).toContain("not installed");
    },
  );
});
