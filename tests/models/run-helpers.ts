/**
 * Helpers for the tests that train through the command line: `gm` run in-process (the same
 * `main(argv)` the executable calls) with stdout and stderr captured, tiny IDX data sets and
 * `.gm` files in a temp dir, and readers for what a run directory holds.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/program";
import { Rng } from "../../src/rng";
import { writeIdx } from "../data/helpers";

/** What one `gm` command did. */
export interface GmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gm argv…` in this process and captures its output (nothing reaches the terminal). */
export async function gm(argv: string[]): Promise<GmResult> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { out: process.stdout.write, err: process.stderr.write };
  const collect = (sink: string[]) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      sink.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = collect(out);
  process.stderr.write = collect(err);
  let code: number;
  try {
    code = await main(argv);
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
  }
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** A fresh temp dir. */
export function tempDir(prefix = "gm-run-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * `n` binary H×W images as an IDX file (0 or 255), seeded: pixel j is ink with a probability that
 * grows along the image, and the second half of each image copies the first with a little noise,
 * so there is something to learn.
 */
export function writeBinaryIdx(dir: string, name: string, n: number, h: number, w: number, seed = 3): string {
  const rng = new Rng(seed);
  const d = h * w;
  const data = new Uint8Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const on =
        j < d / 2
          ? rng.uniform() < 0.2 + (0.6 * j) / d
          : data[i * d + j - Math.floor(d / 2)] > 0 !== rng.uniform() < 0.1;
      data[i * d + j] = on ? 255 : 0;
    }
  }
  return writeIdx(dir, name, [n, h, w], data);
}

/** Writes a `.gm` file with one model over `x : Bernoulli[h, w]` of the given family. */
export function writeModel(dir: string, name: string, family: string, h = 4, w = 4): string {
  const path = join(dir, name);
  writeFileSync(path, `model M {\n  x : Bernoulli[${h}, ${w}]\n  p(x) = ${family}\n}\n`);
  return path;
}

/** The run's model.json. */
export function modelJson(dir: string): {
  format: string;
  weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string }> }>;
  userDefinedMetadata: {
    gm: {
      epoch: number;
      history: Array<{ epoch: number; train: Record<string, number>; test: Record<string, number> }>;
      partial?: { batches: number; step: number };
      finished: boolean;
      settings: Record<string, unknown>;
      generation: number;
    };
  };
} {
  return JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
}

/** The bytes of the run's current `weights-*.bin` (or `optimizer-*.bin`, every step's). */
export function runFile(dir: string, kind: "weights" | "optimizer"): Buffer {
  const files = readdirSync(dir).filter((f) => f.startsWith(`${kind}-`) && f.endsWith(".bin"));
  if (files.length !== 1) throw new Error(`${dir} holds ${files.length} ${kind} files: ${files.join(", ")}`);
  return readFileSync(join(dir, files[0]));
}

/** The float32 values of a run's weights. */
export function weightValues(dir: string): Float32Array {
  const b = runFile(dir, "weights");
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The 8-byte PNG signature. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether a stream's text holds a stack trace. */
export function hasStack(text: string): boolean {
  return /^\s+at .+[:(]/m.test(text);
}

/** `--backend wasm -q`, the flags every training command in the tests shares. */
export const QUIET_WASM = ["--backend", "wasm", "-q"];

/** A tiny AAE on 4×4 binary images (code of 2, deterministic encoder, critic on the code). */
export const TINY_AAE = `model A {
  latent z : Normal[2]
  x : Bernoulli[4, 4]
  p(z) = normal
  p(x | z) = mlp(hidden = [8])
  q(z | x) = mlp(hidden = [8], deterministic)
  fit reconstruction + adversarial(on = z, critic = mlp(hidden = [4]))
}
`;

/** A tiny MLP GAN on 4×4 binary images. */
export const TINY_GAN = `model G {
  latent z : Normal[2]
  x : Bernoulli[4, 4]
  p(z) = normal
  x = generator(z) by mlp(hidden = [8])
  fit adversarial(critic = mlp(hidden = [8]))
}
`;
