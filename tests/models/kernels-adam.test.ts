/**
 * kernels/adam.ts (`GmAdamUpdate`, the fused Adam of gm's training loop): for random shapes,
 * values, learning rates and β's, several steps of FusedAdamOptimizer leave weights, moments and
 * β powers bit for bit equal to tf.train.adam's, on wasm and on cpu; its getWeights/setWeights
 * round trip continues bit for bit (the resume path of src/models/fit.ts).
 * On wasm the update is adam.c (wasm SIMD on tfjs's memory); on cpu, `adamUpdateJs`. The
 * generated module is checked against adam.c (hashes, and a rebuild where clang is installed).
 * Planted bugs (each made this file fail, then was removed):
 * - JS path: the second moment without its float32 rounding of g² (`f(gi * gi)` → `gi * gi`):
 *   the property failed after 1 run (weights differ in the last bits);
 * - JS path: β₂ in place of β₁ in the first moment: the property failed after 1 run;
 * - adam.c: ε added under the square root in the SIMD loop (√(v̂ + ε)), rebuilt: the property failed
 *   on wasm after 1 run ("tensor 0 differs at 3"); before the rebuild the drift test failed
 *   ("adam.c changed: run scripts/build-adam-kernel.sh").
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/models/backend";
import { adamRunsNative, fusedAdam } from "../../src/models/kernels/adam";
import { ADAM_C_SHA256, ADAM_WASM_BASE64, ADAM_WASM_SHA256 } from "../../src/models/kernels/adam-kernel.wasm";
import { values } from "./random";

const RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 20);
let counter = 0;

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
  await tf.setBackend("cpu");
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
});

/** Runs `steps` Adam steps of `opt` on variables of `shapes` with seeded gradients; returns every number it holds. */
async function trajectory(opt: tf.Optimizer, shapes: number[][], seed: number, steps: number): Promise<Float32Array[]> {
  const tag = `adam-test-${counter++}`;
  const vars = shapes.map((s, i) =>
    tf.variable(tf.tensor(values(tf.util.sizeFromShape(s), seed + i), s), true, `${tag}/${i}`),
  );
  for (let t = 0; t < steps; t++) {
    const grads = vars.map((v, i) => ({
      name: v.name,
      tensor: tf.tensor(values(v.size, seed * 31 + t * 7 + i), v.shape),
    }));
    opt.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor));
  }
  const weights = await opt.getWeights();
  const out = [
    ...(await Promise.all(vars.map((v) => v.data() as Promise<Float32Array>))),
    ...(await Promise.all(weights.slice(1).map((w) => w.tensor.data() as Promise<Float32Array>))),
  ];
  const accs = opt as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
  out.push((await accs.accBeta1.data()) as Float32Array, (await accs.accBeta2.data()) as Float32Array);
  tf.dispose(vars);
  opt.dispose();
  return out;
}

function expectBitEqual(a: Float32Array[], b: Float32Array[], what: string): void {
  expect(a.length, what).toBe(b.length);
  a.forEach((x, i) => {
    const bad = x.findIndex((v, j) => !Object.is(v, b[i][j]));
    expect(bad, `${what}: tensor ${i} differs at ${bad} (${x[bad]} vs ${b[i][bad]})`).toBe(-1);
  });
}

const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
const hasClang = ["clang", "clang-14"].some((c) => spawnSync(c, ["--version"]).status === 0);

describe("adam.c and its generated module", () => {
  it("adam-kernel.wasm.ts was built from this adam.c, and holds the bytes it records", () => {
    expect(sha256(readFileSync("src/models/kernels/adam.c")), "adam.c changed: run scripts/build-adam-kernel.sh").toBe(
      ADAM_C_SHA256,
    );
    expect(sha256(Buffer.from(ADAM_WASM_BASE64, "base64"))).toBe(ADAM_WASM_SHA256);
  });

  it.skipIf(!hasClang)("rebuilding adam.c gives the committed bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "gm-adam-"));
    try {
      const out = join(dir, "adam-kernel.wasm.ts");
      const r = spawnSync("bash", ["scripts/build-adam-kernel.sh"], {
        env: { ...process.env, OUT: out },
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      const rebuilt = /ADAM_WASM_SHA256 = "([0-9a-f]+)"/.exec(readFileSync(out, "utf8"))?.[1];
      expect(rebuilt).toBe(ADAM_WASM_SHA256);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs as wasm SIMD code on the wasm backend (and in JavaScript on cpu)", async () => {
    await tf.setBackend("wasm");
    expect(adamRunsNative()).toBe(true);
    await tf.setBackend("cpu");
    expect(adamRunsNative()).toBe(false);
  });
});

describe("GmAdamUpdate", () => {
  it("equals tf.train.adam bit for bit (wasm and cpu, random shapes and settings)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.constantFrom(1e-3, 1e-2, 2e-4, 0.3),
        fc.constantFrom(0.9, 0.5, 0.0),
        fc.constantFrom(0.999, 0.99),
        fc.integer({ min: 1, max: 100_000 }),
        fc.constantFrom("wasm", "cpu"),
        async (shapes, lr, b1, b2, seed, backend) => {
          await tf.setBackend(backend);
          const want = await trajectory(tf.train.adam(lr, b1, b2), shapes, seed, 4);
          const got = await trajectory(fusedAdam(lr, b1, b2), shapes, seed, 4);
          await tf.setBackend("cpu");
          expectBitEqual(got, want, `${backend} lr=${lr} β=(${b1}, ${b2}) shapes=${JSON.stringify(shapes)}`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("continues bit for bit after getWeights → setWeights into a fresh optimizer", async () => {
    await tf.setBackend("wasm");
    const shape = [5, 3];
    const run = async (resume: boolean) => {
      const v = tf.variable(tf.tensor(values(15, 4), shape), true, `adam-test-${counter++}`);
      let opt = fusedAdam(1e-2);
      for (let t = 0; t < 6; t++) {
        if (resume && t === 3) {
          const ws = await opt.getWeights();
          const copies = ws.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
          opt.dispose();
          opt = fusedAdam(1e-2);
          await opt.setWeights(copies);
          // as fit.ts does: β powers as the product of t roundings
          const a = opt as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
          let p1 = Math.fround(0.9);
          let p2 = Math.fround(0.999);
          for (let i = 0; i < 3; i++) {
            p1 = Math.fround(p1 * Math.fround(0.9));
            p2 = Math.fround(p2 * Math.fround(0.999));
          }
          a.accBeta1.assign(tf.scalar(p1));
          a.accBeta2.assign(tf.scalar(p2));
          tf.dispose(copies.map((c) => c.tensor));
        }
        const g = tf.tensor(values(15, 100 + t), shape);
        opt.applyGradients([{ name: v.name, tensor: g }]);
        g.dispose();
      }
      const out = (await v.data()) as Float32Array;
      v.dispose();
      opt.dispose();
      return out;
    };
    const straight = await run(false);
    const resumed = await run(true);
    await tf.setBackend("cpu");
    expectBitEqual([resumed], [straight], "resumed vs uninterrupted");
  });
});
