/**
 * The built `gm` in child processes, as users run it: train → kill (SIGINT, SIGTERM, SIGHUP,
 * SIGKILL, two Ctrl-C at once, each at a random moment after the first checkpoint) →
 * `--resume` in a fresh process → the same curve and the same weights as an uninterrupted run;
 * then `gm score` and `gm sample` on the result. Tiny data (200 binary 4×4 images), 3 epochs.
 *
 * "Built": the CLI bundle of `npm run build` (tsup.config.ts's options, its `cli/main` entry),
 * written to node_modules/.cache so that a concurrent `npm run build` (which cleans dist/) and
 * this test never trip over each other. Resume in a fresh process is what the in-process tests
 * never saw: before gm 0.2 the checkpoint was decoded before the backend started.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "./build-cli";
import { Rng } from "../../src/rng";
import {
  hasStack,
  modelJson,
  PNG_SIGNATURE,
  removeDir,
  runFile,
  tempDir,
  writeBinaryIdx,
  writeModel,
} from "../models/run-helpers";

const root = resolve(import.meta.dirname, "../..");
const outDir = join(root, "node_modules", ".cache", "gm-process-test");
const GM = join(outDir, "cli", "main.js");
const EPOCHS = "3";
let dir: string;
let data: string;
let nade: string;
let reference: { history: unknown; weights: Buffer };

/** What a child `gm` did. */
interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

const env = { ...process.env, GM_WASM_THREADS: "1", NO_COLOR: "1" };

/** Runs the built gm to the end. */
function gmSync(args: string[]): Exit {
  const r = spawnSync(process.execPath, [GM, ...args], { cwd: root, env, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, signal: r.signal, stderr: r.stderr, stdout: r.stdout };
}

/**
 * Starts `gm train` into `out`; once its first checkpoint exists, waits `delayMs` and sends the
 * signals (`gapMs` apart). Resolves when the child exits.
 */
async function trainAndKill(out: string, signals: NodeJS.Signals[], delayMs: number, gapMs = 0): Promise<Exit> {
  const child = spawn(
    process.execPath,
    [GM, "train", nade, "--out", out, "--data", data, "--epochs", EPOCHS, "--batch", "4", "--backend", "wasm", "-q"],
    { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.on("data", (d) => (stdout += d));
  const exited = new Promise<Exit>((res) => child.on("exit", (code, signal) => res({ code, signal, stderr, stdout })));
  const deadline = Date.now() + 60_000;
  while (!existsSync(join(out, "model.json")) && child.exitCode === null && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, delayMs));
  for (const [i, s] of signals.entries()) {
    if (i > 0 && gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    if (child.exitCode === null && child.signalCode === null) child.kill(s);
  }
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const r = await exited;
  clearTimeout(killer);
  return r;
}

const curve = (out: string) =>
  JSON.parse(readFileSync(join(out, "history.json"), "utf8")).map(
    (h: { epoch: number; train: unknown; test: unknown }) => ({ epoch: h.epoch, train: h.train, test: h.test }),
  );

beforeAll(async () => {
  await buildCli(outDir);
  dir = tempDir("gm-process-");
  data = writeBinaryIdx(dir, "train-4x4.idx", 200, 4, 4);
  nade = writeModel(dir, "nade.gm", "nade(hidden = 8)");
  const out = join(dir, "reference");
  const r = gmSync([
    "train",
    nade,
    "--out",
    out,
    "--data",
    data,
    "--epochs",
    EPOCHS,
    "--batch",
    "4",
    "--backend",
    "wasm",
    "-q",
  ]);
  expect(r.code, r.stderr).toBe(0);
  reference = { history: curve(out), weights: runFile(out, "weights") };
}, 120_000);

afterAll(() => {
  removeDir(dir);
  rmSync(outDir, { recursive: true, force: true });
});

describe("the built gm: train → kill → resume in a fresh process", () => {
  // A random moment after the first checkpoint (seeded, so a failure can be replayed).
  const rng = new Rng(Number(process.env.GM_PROCESS_SEED ?? 20261129));
  const cases: Array<{ name: string; signals: NodeJS.Signals[]; gapMs?: number }> = [
    { name: "SIGINT", signals: ["SIGINT"] },
    { name: "SIGTERM", signals: ["SIGTERM"] },
    { name: "SIGHUP", signals: ["SIGHUP"] },
    { name: "SIGKILL", signals: ["SIGKILL"] },
    { name: "two Ctrl-C at once", signals: ["SIGINT", "SIGINT"] },
  ];
  for (const c of cases) {
    it(`${c.name} at a random moment, then --resume: the same curve and weights as an uninterrupted run`, async () => {
      const out = join(dir, c.name.replace(/\W+/g, "-"));
      const delay = Math.floor(rng.uniform() * 400);
      const k = await trainAndKill(out, c.signals, delay, c.gapMs);
      const where = `${c.name} after ${delay} ms:\n${k.stderr}`;
      expect(hasStack(k.stderr), where).toBe(false);
      expect(k.stderr, where).not.toContain("internal error");
      if (k.code === 0) {
        // The run finished before the signal landed: nothing to resume, but it must be the same run.
        expect(curve(out)).toEqual(reference.history);
        return;
      }
      if (c.name === "SIGKILL") expect(k.signal, where).toBe("SIGKILL");
      else expect(k.code, where).toBe(130);
      if (c.signals.length === 1 && c.name !== "SIGKILL")
        expect(k.stderr, where).toMatch(
          /saved .* after epoch \d+ \+ \d+ batch(es)?; continue with: gm train .* --resume/,
        );

      const r = gmSync(["train", nade, "--out", out, "--resume", "--backend", "wasm", "-q"]);
      expect(r.code, `${where}\n--- resume:\n${r.stderr}`).toBe(0);
      expect(r.stderr).toMatch(/resuming after epoch \d+/);
      expect(curve(out)).toEqual(reference.history);
      expect(runFile(out, "weights").equals(reference.weights)).toBe(true);
      expect(modelJson(out).userDefinedMetadata.gm.finished).toBe(true);
    }, 120_000);
  }

  it("gm score and gm sample work on a resumed run, and score it as the uninterrupted one", () => {
    const resumed = join(dir, "SIGTERM");
    const ref = join(dir, "reference");
    const a = gmSync(["score", resumed, "--json", "--backend", "wasm"]);
    const b = gmSync(["score", ref, "--json", "--backend", "wasm"]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(a.stdout).nll_nats).toBe(JSON.parse(b.stdout).nll_nats);
    expect(JSON.parse(a.stdout).kind).toBe("exact");
    const png = join(dir, "grid.png");
    const s = gmSync(["sample", resumed, "-n", "9", "-o", png, "--backend", "wasm"]);
    expect(s.code, s.stderr).toBe(0);
    expect(readFileSync(png).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });
});
