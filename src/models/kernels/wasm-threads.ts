/**
 * Multi-threaded wasm in Node.
 *
 * tfjs-backend-wasm ships a threaded SIMD binary but never uses it in Node: its feature test
 * answers "no threads" whenever `IS_NODE`, and forcing it fails with `ERR_WORKER_PATH` because
 * Emscripten hands `worker_threads.Worker` a `blob:nodedata:` URL (the pthread script), which Node
 * cannot start a worker from.
 *
 * `enableWasmThreads(n)` makes it work, for the duration of `tf.setBackend("wasm")`:
 *
 * - a global `Worker` is defined (and Emscripten's own assignment of `worker_threads.Worker` to it
 *   is ignored) whose instances are real `worker_threads` workers started from an inline bootstrap:
 *   the bootstrap receives the blob *object* (resolved on the main thread, since blob URLs are per
 *   thread), evaluates it, and reads the main script Emscripten posts as a Blob as well. It also
 *   defines the few free variables of tfjs's Node bundle that the serialised factory refers to
 *   (`require$$0`, `commonjsGlobal`, `__values`, ...);
 * - the workers are `unref()`ed and their `ref()` is a no-op: XNNPACK's pool threads wait forever,
 *   and they must never keep a process (or a vitest worker) alive;
 * - the `WASM_HAS_MULTITHREAD_SUPPORT` flag is forced on and `setThreadsCount(n)` is called;
 * - tfjs caps the pool at half of `os.cpus()` (it assumes two hyper-threads per core), which is
 *   one thread on a 2-vCPU machine, so `os.cpus()` reports 2n entries until the module has started.
 *
 * The returned function undoes the global changes (call it once `setBackend` has settled). The
 * 8 pthread workers Emscripten pre-spawns stay alive (idle) for the life of the process.
 */
import { resolveObjectURL } from "node:buffer";
import { createRequire } from "node:module";
import * as os from "node:os";
import { Worker as NodeWorker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { setThreadsCount } from "@tensorflow/tfjs-backend-wasm";

const require = createRequire(import.meta.url);

/** Runs in each pthread worker before Emscripten's own worker script. */
const BOOTSTRAP = String.raw`
"use strict";
const { workerData } = require("worker_threads");
const g = globalThis;
g.require = require;
g.__filename = workerData.filename;
g.__dirname = require("path").dirname(workerData.filename);
// Free variables of the factory function as tfjs-backend-wasm's Node bundle serialises it.
g.require$$0 = require("fs");
g.require$$1 = require("path");
g.require$$3 = require("perf_hooks");
g.require$$4 = require("os");
g.commonjsGlobal = g;
g._scriptDir = workerData.filename;
g.__values = function (o) {
  var s = typeof Symbol === "function" && Symbol.iterator, m = s && o[s], i = 0;
  if (m) return m.call(o);
  return { next: function () { if (o && i >= o.length) o = void 0; return { value: o && o[i++], done: !o }; } };
};
g.__read = function (o, n) {
  var m = typeof Symbol === "function" && o[Symbol.iterator];
  if (!m) return o;
  var i = m.call(o), r, ar = [];
  while ((n === void 0 || n-- > 0) && !(r = i.next()).done) ar.push(r.value);
  return ar;
};
g.__spreadArray = function (to, from) { return to.concat(Array.prototype.slice.call(from)); };
(async () => {
  if (process.env.GM_WASM_THREADS_TEST_FAIL) throw new Error("GM_WASM_THREADS_TEST_FAIL is set");
  const src = workerData.blob ? await workerData.blob.text() : require("fs").readFileSync(workerData.path, "utf8");
  (0, eval)(src); // Emscripten's worker script: defines self.onmessage, importScripts, ...
  const handle = g.onmessage;
  const importScripts = g.importScripts;
  g.importScripts = (f) => (f === "gm:main-script" ? (0, eval)(g.__gmMainScript) : importScripts(f));
  let queue = Promise.resolve();
  g.onmessage = (e) => {
    queue = queue.then(async () => {
      const d = e.data;
      if (d && d.cmd === "load" && d.urlOrBlob && typeof d.urlOrBlob !== "string") {
        g.__gmMainScript = await d.urlOrBlob.text();
        d.urlOrBlob = "gm:main-script";
      }
      handle(e);
    });
  };
})().catch((err) => {
  // Rethrown as an uncaught error: the main thread sees it as the worker's "error" event.
  setImmediate(() => { throw err; });
});
`;

let wasmBundlePath: string | undefined;
function wasmBundleFile(): string {
  if (wasmBundlePath === undefined) {
    try {
      wasmBundlePath = require.resolve("@tensorflow/tfjs-backend-wasm");
    } catch {
      wasmBundlePath = "tfjs-backend-wasm.js";
    }
  }
  return wasmBundlePath;
}

/** Set while a threaded start is in progress: worker failures are reported here, not thrown. */
let startup: { fail(e: Error): void; workers: Set<PthreadWorker> } | null = null;

/** A Web Worker look-alike on top of worker_threads, for Emscripten's pthreads. */
class PthreadWorker extends NodeWorker {
  constructor(url: string | URL) {
    const href = String(url);
    const blob = href.startsWith("blob:") ? resolveObjectURL(href) : undefined;
    if (href.startsWith("blob:") && blob == null) throw new Error(`gm: cannot resolve ${href}`);
    super(BOOTSTRAP, {
      eval: true,
      // Not the parent's flags: `--input-type=module` would make the bootstrap ESM (no `require`),
      // and loader hooks (tsx, vitest) would only slow each worker's start.
      execArgv: [],
      workerData: { blob, path: blob ? undefined : href, filename: wasmBundleFile() },
    });
    super.unref();
    startup?.workers.add(this);
    // Always one listener, so that an error before Emscripten attaches its own cannot crash the process.
    super.on("error", (e: unknown) => startup?.fail(e instanceof Error ? e : new Error(String(e))));
    super.once("exit", (code: number) => startup?.fail(new Error(`a wasm thread exited during start (code ${code})`)));
  }

  /** Set on the workers of a failed start: their later errors are ignored. */
  abandoned = false;

  /** Never keep the process alive for a pthread (XNNPACK's pool threads never finish). */
  override ref(): void {}

  /**
   * Emscripten's "error" listener rethrows, which would crash the process; while starting, an
   * error is reported to `enableWasmThreads`'s caller instead (which falls back to one thread).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the EventEmitter signature it overrides
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    if (event !== "error") return super.on(event, listener);
    return super.on("error", (e: unknown) => {
      if (this.abandoned) return;
      if (startup) startup.fail(e instanceof Error ? e : new Error(String(e)));
      else listener(e);
    });
  }
}

export interface WasmThreadsChoice {
  threads: number;
  source: "option" | "env" | "default";
}

/**
 * Default: half the available cores, at most 4 — so 1 (no worker threads) on a 2-core machine.
 * Measured on 2 vCPUs (docs/backends.md): 2 threads make a plain matmul ~1.9x faster but a whole
 * training step only ~10-20 %, and when anything else wants a core (a second training, vitest's
 * two forks, a busy neighbour) the pool's barrier waits on a descheduled thread and the step gets
 * up to 2-3x *slower*. Half the cores leaves that headroom on bigger machines.
 */
export function defaultWasmThreads(): number {
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, Math.floor(cores / 2)));
}

/**
 * The number of wasm threads to use: `requested` if given, else env `GM_WASM_THREADS`, else the
 * default. Values are clamped to 1..8.
 */
export function resolveWasmThreads(requested?: number): WasmThreadsChoice {
  const clamp = (n: number) => Math.max(1, Math.min(8, Math.floor(n)));
  if (requested !== undefined && Number.isFinite(requested)) return { threads: clamp(requested), source: "option" };
  const env = process.env.GM_WASM_THREADS;
  if (env !== undefined && env.trim() !== "") {
    const n = Number(env);
    if (Number.isFinite(n) && n >= 1) return { threads: clamp(n), source: "env" };
  }
  return { threads: defaultWasmThreads(), source: "default" };
}

export interface WasmThreadsSetup {
  threads: number;
  /** Rejects when a pthread worker fails while the module starts (never resolves). */
  failed: Promise<never>;
  /** Undoes the global changes; call once `tf.setBackend("wasm")` has settled. */
  restore(): void;
}

/**
 * Prepares the next `tf.setBackend("wasm")` to start the threaded binary with `threads` threads
 * (or the single-threaded SIMD binary when `threads <= 1`).
 */
export function enableWasmThreads(threads: number): WasmThreadsSetup {
  if (threads <= 1 || typeof SharedArrayBuffer === "undefined") {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    setThreadsCount(1);
    return { threads: 1, failed: new Promise<never>(() => {}), restore: () => {} };
  }
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  setThreadsCount(threads);

  const g = globalThis as Record<string, unknown>;
  const previousWorker = Object.getOwnPropertyDescriptor(g, "Worker");
  Object.defineProperty(g, "Worker", {
    configurable: true,
    enumerable: false,
    get: () => PthreadWorker,
    set: () => {}, // Emscripten assigns worker_threads.Worker here; keep ours
  });

  const osModule = require("node:os") as typeof os;
  const cpus = osModule.cpus;
  osModule.cpus = () => {
    const real = cpus.call(osModule);
    if (real.length === 0) return real;
    return Array.from({ length: Math.max(real.length, threads * 2) }, (_, i) => real[i % real.length]);
  };

  let reject: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, rej) => {
    reject = rej;
  });
  failed.catch(() => {}); // observed by the caller's race; never an unhandled rejection
  const workers = new Set<PthreadWorker>();
  const fail = (e: Error) => {
    // Give up on this start: silence and stop its workers, then tell the caller.
    for (const w of workers) {
      w.abandoned = true;
      void w.terminate();
    }
    reject(e);
  };
  startup = { fail, workers };

  let restored = false;
  return {
    threads,
    failed,
    restore: () => {
      if (restored) return;
      restored = true;
      startup = null;
      osModule.cpus = cpus;
      if (previousWorker) Object.defineProperty(g, "Worker", previousWorker);
      else delete g.Worker;
    },
  };
}
