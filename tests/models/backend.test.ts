/**
 * Backend selection (src/models/backend.ts). On these machines the native bindings are not
 * installed, so `auto` falls back to wasm; the tests that depend on that skip where they are.
 * Wasm runs single-threaded here (vitest runs two forks on two cores); the threaded start is
 * tested in a child process, which must also exit by itself.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { BackendError, initBackend, listBackends } from "../../src/models/backend";
import { resolveWasmThreads } from "../../src/models/kernels/wasm-threads";

const require = createRequire(import.meta.url);
const installed = (pkg: string) => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};
const hasNode = installed("@tensorflow/tfjs-node");
const hasNodeGpu = installed("@tensorflow/tfjs-node-gpu");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("listBackends", () => {
  it("lists the four backends with a one-line reason each", async () => {
    const list = await listBackends();
    expect(list.map((b) => b.name)).toEqual(["tensorflow-gpu", "tensorflow", "wasm", "cpu"]);
    for (const b of list) {
      expect(b.reason).not.toContain("\n");
      expect(b.reason.length).toBeGreaterThan(0);
    }
    const byName = Object.fromEntries(list.map((b) => [b.name, b]));
    expect(byName.cpu.available).toBe(true);
    expect(byName.wasm.available).toBe(true);
    expect(byName.wasm.reason).toMatch(/^wasm: SIMD build, \d+ thread/);
  });

  it.skipIf(hasNode || hasNodeGpu)("says how to get the native backends when they are missing", async () => {
    const list = await listBackends();
    const gpu = list.find((b) => b.name === "tensorflow-gpu")!;
    expect(gpu.available).toBe(false);
    expect(gpu.reason).toContain("package @tensorflow/tfjs-node-gpu is not installed");
    expect(gpu.reason).toContain("npm install @tensorflow/tfjs-node-gpu");
    const cpuNative = list.find((b) => b.name === "tensorflow")!;
    expect(cpuNative.available).toBe(false);
    expect(cpuNative.reason).toContain("@tensorflow/tfjs-node is not installed");
  });
});

describe("initBackend", () => {
  it.skipIf(hasNode)("explicit tensorflow is a BackendError with a one-line reason", async () => {
    const err = await initBackend("tensorflow", { threads: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).backend).toBe("tensorflow");
    expect((err as BackendError).message).toMatch(/^tensorflow: package @tensorflow\/tfjs-node is not installed/);
    expect((err as BackendError).message).not.toContain("\n");
  });

  it.skipIf(hasNodeGpu)("explicit tensorflow-gpu is a BackendError", async () => {
    await expect(initBackend("tensorflow-gpu", { threads: 1 })).rejects.toThrow(BackendError);
  });

  it("rejects unknown names", async () => {
    await expect(initBackend("webgpu" as never)).rejects.toThrow(/unknown backend "webgpu"/);
  });

  it.skipIf(hasNode || hasNodeGpu)("auto falls back to wasm and says why", async () => {
    const r = await initBackend("auto", { threads: 1, quiet: true });
    expect(r.name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(r.requested).toBe("auto");
    expect(r.notes.some((n) => n.includes("skipped tensorflow-gpu"))).toBe(true);
    expect(r.notes.some((n) => n.includes("skipped tensorflow:"))).toBe(true);
    expect(r.notes).toContain("auto: using wasm");
    expect(tf.sum(tf.tensor([1, 2, 3])).dataSync()[0]).toBe(6);
  });

  it("wasm works and a second call is a no-op", async () => {
    const first = await initBackend("wasm", { threads: 1, quiet: true });
    expect(first.name).toBe("wasm");
    const again = await initBackend("wasm", { threads: 1 });
    expect(again).toEqual({ name: "wasm", requested: "wasm", notes: [] });
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(y.dataSync())).toEqual([11]);
  });

  it("cpu works, and switching back to wasm keeps the wasm module", async () => {
    const r = await initBackend("cpu", { quiet: true });
    expect(r.name).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(Array.from(tf.add(tf.tensor([1]), tf.tensor([2])).dataSync())).toEqual([3]);
    const back = await initBackend("wasm", { threads: 1 });
    expect(back.name).toBe("wasm");
  });

  it("concurrent calls settle on one backend", async () => {
    const [a, b] = await Promise.all([initBackend("cpu", { quiet: true }), initBackend("cpu", { quiet: true })]);
    expect(a.name).toBe("cpu");
    expect(b.name).toBe("cpu");
    await initBackend("wasm", { threads: 1 });
  });
});

describe("wasm threads", () => {
  it("resolves the thread count from the option, then GM_WASM_THREADS, then the default", () => {
    const saved = process.env.GM_WASM_THREADS;
    try {
      process.env.GM_WASM_THREADS = "3";
      expect(resolveWasmThreads(2)).toEqual({ threads: 2, source: "option" });
      expect(resolveWasmThreads()).toEqual({ threads: 3, source: "env" });
      process.env.GM_WASM_THREADS = "1";
      expect(resolveWasmThreads().threads).toBe(1);
      delete process.env.GM_WASM_THREADS;
      expect(resolveWasmThreads().source).toBe("default");
      expect(resolveWasmThreads(99).threads).toBe(8);
    } finally {
      if (saved === undefined) delete process.env.GM_WASM_THREADS;
      else process.env.GM_WASM_THREADS = saved;
    }
  });

  function runChild(script: string, env: Record<string, string> = {}) {
    const res = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
      timeout: 40_000,
      env: { ...process.env, GM_WASM_THREADS: "", ...env },
    });
    expect(res.error, String(res.error)).toBeUndefined(); // a timeout (a hang on exit) shows here
    expect(res.status, res.stderr).toBe(0);
    return JSON.parse(res.stdout.trim().split("\n").pop()!);
  }

  it("starts the threaded build in a child process, computes, and exits by itself", () => {
    const out = runChild(`
      import * as tf from "@tensorflow/tfjs";
      import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
      import { initBackend } from "./src/models/backend.ts";
      const r = await initBackend("wasm", { threads: 2, quiet: true });
      const a = tf.randomNormal([300, 200]), b = tf.randomNormal([200, 100]);
      const fast = tf.matMul(a, b).dataSync();
      const ref = tf.matMul(tf.transpose(b), tf.transpose(a)).dataSync(); // (a·b)ᵀ
      let d = 0;
      for (let i = 0; i < 300; i++) for (let j = 0; j < 100; j++) d = Math.max(d, Math.abs(fast[i * 100 + j] - ref[j * 300 + i]));
      console.log(JSON.stringify({ name: r.name, threads: getThreadsCount(), notes: r.notes, d }));
    `);
    expect(out.name).toBe("wasm");
    expect(out.threads).toBe(2);
    expect(out.d).toBeLessThan(1e-3);
  });

  it("falls back to one thread when the threaded start fails, and still exits", () => {
    const out = runChild(
      `
      import * as tf from "@tensorflow/tfjs";
      import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
      import { initBackend } from "./src/models/backend.ts";
      const r = await initBackend("wasm", { threads: 2, quiet: true });
      console.log(JSON.stringify({ name: r.name, threads: getThreadsCount(), notes: r.notes, sum: tf.sum(tf.ones([7])).dataSync()[0] }));
    `,
      { GM_WASM_THREADS_TEST_FAIL: "1" },
    );
    expect(out.name).toBe("wasm");
    expect(out.threads).toBe(1);
    expect(out.sum).toBe(7);
    expect(out.notes.join("\n")).toMatch(/threaded start failed .*; using 1 thread/);
  });
});
