/**
 * The fused NADE kernel (src/models/kernels/nade*.ts, nade.c) and NadeModule's use of it:
 * - drift: nade.c hashes to the SHA-256 recorded in the generated nade-kernel.wasm.ts, the committed
 *   base64 decodes to bytes with the recorded SHA-256, and (where clang is installed, as .ci/run
 *   does) rebuilding nade.c gives exactly the committed file;
 * - the kernel's polynomial exp / sigmoid / softplus against Math;
 * - the wasm kernel and the JavaScript fallback agree (random D, H, batch, group sizes);
 * - the fused op's log p and gradients equal tf autograd of the cumulative-sum form, on cpu and
 *   wasm, for a mean (the speculative path) and for arbitrary per-example weights (recompute);
 * - a planted bug (a kernel whose prefix is inclusive: x_d sees itself) fails that property.
 * Tolerance: |a − b| ≤ 1e-4·|b| + 1e-5·s, s = max|b| of the tensor (log p) or of all four
 * gradients (float32 sums that cancel). Property runs are kept small.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { FactorIR } from "../../src/compiler/ir";
import { initBackend } from "../../src/models/backend";
import { JsNadeKernel, WasmNadeKernel, type NadeKernel, type NadeParams } from "../../src/models/kernels/nade-kernel";
import { nadeLogProb, nadeOpStats } from "../../src/models/kernels/nade-op";
import {
  NADE_C_SHA256,
  NADE_WASM_LOCAL_BASE64,
  NADE_WASM_SHA256,
  NADE_WASM_SHARED_BASE64,
} from "../../src/models/kernels/nade-kernel.wasm";
import { NadeModule } from "../../src/models/nade";
import { values } from "./random";

const RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 25);

/**
 * Per-example weights of log p (the upstream gradient), in [0.25, 1]: positive, so that the
 * gradients are not sums that cancel across examples (which float32 cannot resolve relatively).
 */
function weights(n: number, seed: number): Float32Array {
  return values(n, seed).map((v) => 0.625 + 0.375 * v);
}

function binary(n: number, density: number, seed: number): Float32Array {
  return values(n, seed).map((v) => ((v + 1) / 2 < density ? 1 : 0));
}

const maxAbs = (...arrays: ArrayLike<number>[]) => {
  let m = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

/**
 * Worst violation of |a − b| ≤ 1e-4·|b| + 1e-5·scale (≤ 1 passes); scale: max|b| of the tensor, or
 * given (for gradients: the largest of all four, since a gradient that is a sum of float32 terms
 * of that size may cancel to a tiny value that float32 cannot resolve relatively).
 */
function closeness(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  scale = maxAbs(expected),
): { worst: number; at: number } {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const r = Math.abs(actual[i] - expected[i]) / (1e-4 * Math.abs(expected[i]) + 1e-5 * scale + 1e-30);
    if (!(r <= worst)) {
      worst = r;
      at = i;
    }
  }
  return { worst, at };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, scale?: number): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const { worst, at } = closeness(actual, expected, scale);
  expect(worst, `${what}: worst at ${at} (${actual[at]} vs ${expected[at]})`).toBeLessThanOrEqual(1);
}

const gradScale = (g: { W: ArrayLike<number>; c: ArrayLike<number>; V: ArrayLike<number>; b: ArrayLike<number> }) =>
  maxAbs(g.W, g.c, g.V, g.b);

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
  await tf.setBackend("cpu");
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
});

describe("generated wasm", () => {
  it("was compiled from the nade.c in the tree (else run scripts/build-kernels.sh)", () => {
    const src = readFileSync(fileURLToPath(new URL("../../src/models/kernels/nade.c", import.meta.url)));
    expect(
      createHash("sha256").update(src).digest("hex"),
      "nade.c changed since nade-kernel.wasm.ts was generated: run scripts/build-kernels.sh",
    ).toBe(NADE_C_SHA256);
  });

  it("holds the bytes it says it holds (an edit of the base64 is caught)", () => {
    const sha = (b64: string) => createHash("sha256").update(Buffer.from(b64, "base64")).digest("hex");
    expect(sha(NADE_WASM_LOCAL_BASE64), "the local build's bytes").toBe(NADE_WASM_SHA256.local);
    expect(sha(NADE_WASM_SHARED_BASE64), "the shared build's bytes").toBe(NADE_WASM_SHA256.shared);
  });

  it("is what rebuilding nade.c gives, byte for byte (needs clang-14 + lld-14; .ci/run installs them)", () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const committed = readFileSync(join(root, "src/models/kernels/nade-kernel.wasm.ts"), "utf8");
    const version = /^\/\/ (.*clang version .*)$/m.exec(committed)?.[1];
    const clang = ["clang-14", "clang"].find(
      (c) => spawnSync(c, ["--version"], { encoding: "utf8" }).stdout?.split("\n")[0] === version,
    );
    if (!clang) {
      // A developer machine without the recorded compiler cannot reproduce the bytes; CI has it.
      expect(process.env.CI, `no ${version} here: install clang-14 lld-14 to check the committed bytes`).not.toBe(
        "true",
      );
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "gm-kernel-"));
    try {
      const out = join(dir, "nade-kernel.wasm.ts");
      const r = spawnSync("bash", [join(root, "scripts/build-kernels.sh")], {
        env: { ...process.env, CLANG: clang, OUT: out },
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      expect(
        readFileSync(out, "utf8") === committed,
        "rebuilding nade.c changed src/models/kernels/nade-kernel.wasm.ts: run npm run build:kernels and commit it",
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("has polynomial exp, sigmoid and softplus within 3e-7, 1e-6, 1e-6 relative of Math's", () => {
    const k = new WasmNadeKernel();
    const grid = (lo: number, hi: number, n: number) =>
      Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
    const worst = (xs: Float32Array, got: Float32Array, f: (v: number) => number) => {
      let w = 0;
      for (let i = 0; i < xs.length; i++) {
        const want = f(xs[i]);
        w = Math.max(w, Math.abs(got[i] - want) / Math.abs(want));
      }
      return w;
    };
    const e = grid(-87, 88, 100_003);
    expect(worst(e, k.math(0, e), Math.exp)).toBeLessThan(3e-7);
    const s = grid(-80, 80, 100_003);
    expect(worst(s, k.math(1, s), (v) => 1 / (1 + Math.exp(-v)))).toBeLessThan(1e-6);
    expect(worst(s, k.math(2, s), (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))))).toBeLessThan(1e-6);
  });
});

interface Case {
  D: number;
  H: number;
  B: number;
  density: number;
  scale: number;
  seed: number;
}

const caseArb = (maxD: number, maxH: number, maxB: number): fc.Arbitrary<Case> =>
  fc.record({
    D: fc.integer({ min: 1, max: maxD }),
    H: fc.integer({ min: 1, max: maxH }),
    B: fc.integer({ min: 1, max: maxB }),
    density: fc.constantFrom(0, 0.1, 0.4, 1),
    scale: fc.constantFrom(0.1, 1, 3),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
  });

function params(c: Case): NadeParams {
  const { D, H, scale, seed } = c;
  const r = (n: number, k: number) => values(n, seed * 7 + k).map((v) => v * scale);
  return { D, H, W: r(H * D, 1), c: r(H, 2), V: r(D * H, 3), b: r(D, 4) };
}

describe("wasm kernel = JavaScript kernel", () => {
  it("log p and gradients agree (random sizes, group sizes and segment capacities)", () => {
    const js = new JsNadeKernel();
    fc.assert(
      fc.property(
        caseArb(40, 21, 12),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 40 }),
        (c, gmax, extraCap) => {
          const wasm = new WasmNadeKernel({ gmax, cap: c.D + extraCap, threads: 1 });
          const p = params(c);
          const x = binary(c.B * c.D, c.density, c.seed + 5);
          const g = weights(c.B, c.seed + 6);
          const a = wasm.logProbAndGrad(p, x, c.B, g);
          const b = js.logProbAndGrad(p, x, c.B, g);
          expectClose(a.logp, b.logp, "log p (with grad)");
          expectClose(wasm.logProb(p, x, c.B), js.logProb(p, x, c.B), "log p");
          for (const k of ["W", "c", "V", "b"] as const)
            expectClose(a.grads[k], b.grads[k], `d${k}`, gradScale(b.grads));
        },
      ),
      { numRuns: RUNS * 4 },
    );
  });
});

describe("the helper thread", () => {
  it("two threads (halves of each batch on one shared memory) = the JavaScript kernel", async () => {
    const js = new JsNadeKernel();
    const wasm = new WasmNadeKernel({ threads: 2, minWorkForThreads: 0, gmax: 3, cap: 50 });
    try {
      expect(await wasm.threadsReady()).toBe(true);
      fc.assert(
        fc.property(caseArb(40, 21, 12), (c) => {
          const p = params(c);
          const x = binary(c.B * c.D, c.density, c.seed + 5);
          const g = weights(c.B, c.seed + 6);
          const a = wasm.logProbAndGrad(p, x, c.B, g);
          const b = js.logProbAndGrad(p, x, c.B, g);
          expectClose(a.logp, b.logp, "log p (with grad)");
          expectClose(wasm.logProb(p, x, c.B), js.logProb(p, x, c.B), "log p");
          for (const k of ["W", "c", "V", "b"] as const)
            expectClose(a.grads[k], b.grads[k], `d${k}`, gradScale(b.grads));
        }),
        { numRuns: RUNS * 2 },
      );
      expect(wasm.threadNote).toBeNull();
      expect(wasm.threadedCalls).toBeGreaterThan(0);
    } finally {
      wasm.dispose();
    }
  });

  it("never keeps the process alive", () => {
    const kernel = fileURLToPath(new URL("../../src/models/kernels/nade-kernel.ts", import.meta.url));
    const code = `
      const { WasmNadeKernel } = await import(${JSON.stringify(pathToFileURL(kernel).href)});
      const k = new WasmNadeKernel({ threads: 2, minWorkForThreads: 0 });
      const D = 8, H = 4, B = 6;
      const p = { D, H, W: new Float32Array(H * D).fill(0.1), c: new Float32Array(H), V: new Float32Array(D * H).fill(0.1), b: new Float32Array(D) };
      const x = new Float32Array(B * D).fill(1), g = new Float32Array(B).fill(1);
      k.logProbAndGrad(p, x, B, g); // starts the thread, runs here
      if (!(await k.threadsReady())) throw new Error("no thread: " + k.threadNote);
      k.logProbAndGrad(p, x, B, g);
      console.log("threaded calls", k.threadedCalls, k.threadNote);
    `;
    const dir = mkdtempSync(join(tmpdir(), "gm-nade-thread-"));
    const file = join(dir, "child.mjs");
    writeFileSync(file, code);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ["--import", "tsx", file], { encoding: "utf8", timeout: 20_000 });
    rmSync(dir, { recursive: true, force: true });
    expect(r.error, r.stderr).toBeUndefined();
    expect(r.stdout.trim(), r.stderr).toBe("threaded calls 1 null");
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

// ---------------------------------------------------------------------------------------------
// The op against tf autograd of the cumsum form.

let made = 0;
function nadeFor(D: number, H: number, targets: Int32Array, p: NadeParams): NadeModule {
  const factor = { targets, args: { hidden: H } } as unknown as FactorIR;
  const m = new NadeModule(factor, `nadeKernelTest${made++}`, 1);
  m.W.assign(tf.tensor2d(p.W, [H, D]));
  m.c.assign(tf.tensor1d(p.c));
  m.V.assign(tf.tensor2d(p.V, [D, H]));
  m.b.assign(tf.tensor1d(p.b));
  return m;
}

/** Value and gradients of Σ_b w_b log p_b (w = null: the mean, as the trainer's loss). */
function valueAndGrads(
  m: NadeModule,
  logProb: (x: tf.Tensor2D) => tf.Tensor1D,
  x: tf.Tensor2D,
  w: Float32Array | null,
) {
  const { value, grads } = tf.variableGrads(() => {
    const lp = logProb(x);
    return (w ? tf.sum(tf.mul(lp, tf.tensor1d(w))) : tf.neg(tf.mean(lp))) as tf.Scalar;
  }, m.variables);
  const out = {
    value: value.dataSync()[0],
    W: grads[m.W.name].dataSync(),
    c: grads[m.c.name].dataSync(),
    V: grads[m.V.name].dataSync(),
    b: grads[m.b.name].dataSync(),
  };
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/** The property: fused = cumsum form, values and gradients, for the kernel `kernel`. */
function fusedMatchesAutograd(kernel: "auto" | "js" | NadeKernel) {
  return fc.property(caseArb(20, 10, 7), fc.integer({ min: 0, max: 3 }), fc.boolean(), (c, extra, mean) => {
    const N = c.D + extra;
    // The factor's targets: a random subset of the N columns in a random order.
    const perm = Array.from({ length: N }, (_, i) => i);
    const r = values(N, c.seed + 11);
    for (let i = N - 1; i > 0; i--) {
      const j = Math.floor(((r[i] + 1) / 2) * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const targets = Int32Array.from(perm.slice(0, c.D));
    const m = nadeFor(c.D, c.H, targets, params(c));
    const x = tf.tensor2d(binary(c.B * N, c.density, c.seed + 5), [c.B, N]);
    const w = mean ? null : weights(c.B, c.seed + 9);
    try {
      const want = valueAndGrads(m, (xx) => m.logProbCumsum(xx), x, w);
      const got = valueAndGrads(m, (xx) => nadeLogProb(xx, targets, m.W, m.c, m.V, m.b, { kernel }), x, w);
      expectClose([got.value], [want.value], "loss");
      for (const k of ["W", "c", "V", "b"] as const) expectClose(got[k], want[k], `d${k}`, gradScale(want));
      const lpWant = tf.tidy(() => m.logProbCumsum(x).dataSync());
      const lpGot = tf.tidy(() => nadeLogProb(x, targets, m.W, m.c, m.V, m.b, { kernel }).dataSync());
      expectClose(lpGot, lpWant, "log p (no tape)");
    } finally {
      x.dispose();
      m.dispose();
    }
  });
}

describe.each(["cpu", "wasm"] as const)("fused op = tf autograd of the cumsum form, on %s", (backend) => {
  it.each(["auto", "js"] as const)("kernel %s: log p and gradients (mean and weighted losses)", async (kernel) => {
    await tf.setBackend(backend);
    try {
      fc.assert(fusedMatchesAutograd(kernel), { numRuns: RUNS });
    } finally {
      await tf.setBackend("cpu");
    }
  });

  it("a 28×28 NADE with H = 37 at batch 20 (MNIST-like density): values and gradients", async () => {
    await tf.setBackend(backend);
    try {
      const c: Case = { D: 784, H: 37, B: 20, density: 0.13, scale: 0.3, seed: 99 };
      const targets = Int32Array.from({ length: c.D }, (_, i) => (i * 29) % c.D); // a scrambled order
      const m = nadeFor(c.D, c.H, targets, params(c));
      const x = tf.tensor2d(binary(c.B * c.D, c.density, 7), [c.B, c.D]);
      const w = weights(c.B, 5);
      const want = valueAndGrads(m, (xx) => m.logProbCumsum(xx), x, w);
      const got = valueAndGrads(m, (xx) => m.logProb(xx), x, w);
      expectClose([got.value], [want.value], "loss");
      for (const k of ["W", "c", "V", "b"] as const) expectClose(got[k], want[k], `d${k}`, gradScale(want));
      x.dispose();
      m.dispose();
    } finally {
      await tf.setBackend("cpu");
    }
  });

  it("NadeModule.logProb takes the fused path and trains like the cumsum form", async () => {
    await tf.setBackend(backend);
    try {
      const c: Case = { D: 12, H: 5, B: 6, density: 0.3, scale: 1, seed: 17 };
      const targets = Int32Array.from([3, 0, 7, 1, 11, 2, 9, 4, 10, 5, 8, 6]);
      const m = nadeFor(c.D, c.H, targets, params(c));
      const x = tf.tensor2d(binary(c.B * c.D, c.density, 3), [c.B, c.D]);
      const before = { ...nadeOpStats };
      const fused = valueAndGrads(m, (xx) => m.logProb(xx), x, null);
      // A mean under a tape: one kernel call computes the gradient, gradFunc only scales it.
      expect(nadeOpStats.forwardWithGrad - before.forwardWithGrad).toBe(1);
      expect(nadeOpStats.scaled - before.scaled).toBe(1);
      expect(nadeOpStats.backward - before.backward).toBe(0);
      valueAndGrads(m, (xx) => m.logProb(xx), x, weights(c.B, 4));
      expect(nadeOpStats.backward - before.backward).toBe(1); // weighted: recomputed with the weights
      tf.tidy(() => m.logProb(x));
      expect(nadeOpStats.forward - before.forward).toBe(1); // no tape: log p only
      m.impl = "cumsum";
      const cumsum = valueAndGrads(m, (xx) => m.logProb(xx), x, null);
      expectClose([fused.value], [cumsum.value], "loss");
      for (const k of ["W", "c", "V", "b"] as const) expectClose(fused[k], cumsum[k], `d${k}`, gradScale(cumsum));
      x.dispose();
      m.dispose();
    } finally {
      await tf.setBackend("cpu");
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Planted bug: the property above must catch a kernel whose prefix is inclusive.

/** Direct O(B·D²·H) NADE; `inclusive` lets h_d read x_d itself (the planted bug). */
class NaiveKernel implements NadeKernel {
  readonly name = "js" as const;
  constructor(private readonly inclusive: boolean) {}
  logProb(p: NadeParams, x: Float32Array, B: number): Float32Array {
    return this.logProbAndGrad(p, x, B, new Float32Array(B)).logp;
  }
  logProbAndGrad(p: NadeParams, x: Float32Array, B: number, g: Float32Array) {
    const { D, H, W, c, V, b } = p;
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const logp = new Float32Array(B);
    const gW = new Float32Array(H * D);
    const gc = new Float32Array(H);
    const gV = new Float32Array(D * H);
    const gb = new Float32Array(D);
    for (let e = 0; e < B; e++) {
      for (let d = 0; d < D; d++) {
        const upto = this.inclusive ? d + 1 : d;
        const h = new Float64Array(H);
        for (let k = 0; k < H; k++) {
          let a = c[k];
          for (let j = 0; j < upto; j++) a += W[k * D + j] * x[e * D + j];
          h[k] = sig(a);
        }
        let l = b[d];
        for (let k = 0; k < H; k++) l += V[d * H + k] * h[k];
        const xv = x[e * D + d];
        logp[e] += xv * l - (Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l))));
        const gl = g[e] * (xv - sig(l));
        gb[d] += gl;
        for (let k = 0; k < H; k++) {
          gV[d * H + k] += gl * h[k];
          const da = gl * V[d * H + k] * h[k] * (1 - h[k]);
          gc[k] += da;
          for (let j = 0; j < upto; j++) gW[k * D + j] += da * x[e * D + j];
        }
      }
    }
    return { logp, grads: { W: gW, c: gc, V: gV, b: gb } };
  }
}

describe("planted bug", () => {
  it("the direct form passes the property (the harness is right)", () => {
    fc.assert(fusedMatchesAutograd(new NaiveKernel(false)), { numRuns: Math.min(RUNS, 10) });
  });

  it("FAILS on a kernel with an inclusive prefix (x_d sees itself)", () => {
    let report = "";
    try {
      fc.assert(fusedMatchesAutograd(new NaiveKernel(true)), { numRuns: 50 });
    } catch (e) {
      report = e instanceof Error ? e.message : String(e);
    }
    expect(report).toMatch(/Property failed after \d+ tests/);
    if (process.env.GM_SHOW_PLANTED) console.log(report);
  });
});
