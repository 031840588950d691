/**
 * TensorFlow.js backend selection for gm.
 *
 * - `tensorflow-gpu` / `tensorflow`: the native bindings `@tensorflow/tfjs-node-gpu` /
 *   `@tensorflow/tfjs-node`. They are OPTIONAL peer dependencies (their install script downloads
 *   libtensorflow), loaded with a dynamic `import()` of a computed specifier so that neither the
 *   bundler nor Node ever needs them.
 * - `wasm`: `@tensorflow/tfjs-backend-wasm` (SIMD; multi-threaded through ./kernels/wasm-threads).
 * - `cpu`: pure JavaScript, always available, 20-300x slower than wasm.
 * - `auto`: the first of those four that starts.
 *
 * `initBackend` also installs the project's kernel fixes (./kernels), see docs/backends.md.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { GmError } from "../errors";
import { installKernelFixes } from "./kernels/index";
import { enableWasmThreads, resolveWasmThreads } from "./kernels/wasm-threads";

export type BackendName = "auto" | "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu";

export const BACKEND_NAMES: readonly BackendName[] = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"];

/** Codes of {@link BackendError}; see docs/diagnostics.md, "Runtime errors". */
export const BACKEND_ERROR_CODES = {
  /** A backend name gm does not know. */
  unknown: "B0101",
  /** The backend's optional package (@tensorflow/tfjs-node, -gpu) is not installed. */
  notInstalled: "B0102",
  /** The native TensorFlow backend is installed but cannot be loaded or started here. */
  nativeFailed: "B0103",
  /** The wasm backend cannot start (no WebAssembly, binaries missing, module failed). */
  wasmFailed: "B0104",
  /** No backend could be started (auto), or the cpu backend failed. */
  noBackend: "B0105",
} as const;

/** A backend that was asked for by name cannot be used; `message` is one line saying why (exit 1). */
export class BackendError extends GmError {
  constructor(
    code: (typeof BACKEND_ERROR_CODES)[keyof typeof BACKEND_ERROR_CODES],
    message: string,
    readonly backend: BackendName | string,
    hint?: string,
  ) {
    super(code, message, { hint });
    this.name = "BackendError";
  }
}

export interface InitBackendOptions {
  /**
   * wasm threads (1 = single-threaded). Default: env `GM_WASM_THREADS`, else half the cores, at
   * most 4 (so 1 on a 2-core machine; see docs/backends.md for why). Only takes effect when the
   * wasm module starts, i.e. on the first wasm initialisation in the process.
   */
  threads?: number;
  /** Silence TensorFlow.js's own console chatter while starting the backend. */
  quiet?: boolean;
}

export interface InitBackendResult {
  /** `tf.getBackend()`: "tensorflow", "wasm" or "cpu". */
  name: string;
  requested: BackendName;
  /** One line each: fallbacks taken, threads, kernel fixes installed. */
  notes: string[];
}

const require = createRequire(import.meta.url);

const NATIVE = {
  "tensorflow-gpu": ["@tensorflow", "tfjs-node-gpu"],
  tensorflow: ["@tensorflow", "tfjs-node"],
} as const;
type NativeName = keyof typeof NATIVE;

/** Package name of a native binding, assembled at run time so that bundlers never resolve it. */
function nativePackage(which: NativeName): string {
  return NATIVE[which].join("/");
}

function hasWebAssembly(): boolean {
  return typeof (globalThis as { WebAssembly?: unknown }).WebAssembly === "object";
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (text.split("\n").find((l) => l.trim() !== "") ?? text).trim();
}

function isResolvable(spec: string): boolean {
  try {
    require.resolve(spec);
    return true;
  } catch {
    return false;
  }
}

function notInstalled(which: NativeName): string {
  const pkg = nativePackage(which);
  const where = which === "tensorflow-gpu" ? "on a machine with CUDA and internet" : "on a machine with internet";
  return `package ${pkg} is not installed (optional; \`npm install ${pkg}\` ${where})`;
}

/** Which native binding was imported into this process (both register a backend named "tensorflow"). */
let nativeLoaded: NativeName | null = null;

async function loadNative(which: NativeName): Promise<void> {
  if (nativeLoaded === which) return;
  if (nativeLoaded !== null) {
    throw new BackendError(
      BACKEND_ERROR_CODES.nativeFailed,
      `${which}: ${nativePackage(nativeLoaded)} is already loaded in this process`,
      which,
    );
  }
  const pkg = nativePackage(which);
  if (!isResolvable(pkg))
    throw new BackendError(
      BACKEND_ERROR_CODES.notInstalled,
      `${which}: ${notInstalled(which)}`,
      which,
      "use `--backend wasm` (always installed), or install the package",
    );
  try {
    await import(/* @vite-ignore */ pkg);
  } catch (e) {
    throw new BackendError(
      BACKEND_ERROR_CODES.nativeFailed,
      `${which}: ${pkg} is installed but failed to load: ${firstLine(e)}`,
      which,
    );
  }
  if (tf.findBackendFactory("tensorflow") == null) {
    throw new BackendError(
      BACKEND_ERROR_CODES.nativeFailed,
      `${which}: ${pkg} loaded but registered no "tensorflow" backend (version mismatch with @tensorflow/tfjs?)`,
      which,
    );
  }
  nativeLoaded = which;
}

/** Runs `fn` with console.log/info/warn silenced when `quiet`. */
async function maybeQuiet<T>(quiet: boolean | undefined, fn: () => Promise<T>): Promise<T> {
  if (!quiet) return fn();
  // TensorFlow.js logs from console.log/info/warn while a backend starts; silence them here only.
  /* eslint-disable no-console */
  const saved = { log: console.log, info: console.info, warn: console.warn };
  const mute = () => {};
  console.log = mute;
  console.info = mute;
  console.warn = mute;
  /* eslint-enable no-console */
  try {
    return await fn();
  } finally {
    Object.assign(console, saved);
  }
}

async function activate(backendName: string): Promise<boolean> {
  if (tf.getBackend() === backendName && tf.engine().registry[backendName] != null) return true;
  const ok = await tf.setBackend(backendName);
  if (ok) await tf.ready();
  return ok && tf.getBackend() === backendName;
}

// ---------------------------------------------------------------------------------------------
// wasm

let wasmPathsSet = false;
/** Threads of the running wasm module (null until it started). */
let wasmThreads: number | null = null;

function wasmDistDir(): string | null {
  try {
    const dir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
    return existsSync(path.join(dir, "tfjs-backend-wasm-simd.wasm")) ? dir + path.sep : null;
  } catch {
    return null;
  }
}

function wasmReady(): boolean {
  return tf.engine().registry.wasm != null;
}

const WASM_INIT_TIMEOUT_MS = 30_000;

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms / 1000} s`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Forgets a failed or stuck wasm initialisation so that the next `setBackend("wasm")` starts afresh. */
function resetWasmRegistration(): void {
  const engine = tf.engine() as unknown as {
    registryFactory: Record<string, { factory: () => unknown; priority: number }>;
  };
  const entry = engine.registryFactory.wasm;
  if (entry == null) return;
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", entry.factory as () => tf.KernelBackend, entry.priority);
}

async function startWasm(opts: InitBackendOptions, notes: string[]): Promise<void> {
  if (!hasWebAssembly())
    throw new BackendError(BACKEND_ERROR_CODES.wasmFailed, "wasm: this JavaScript runtime has no WebAssembly", "wasm");
  const choice = resolveWasmThreads(opts.threads);
  if (wasmReady()) {
    // The module is already running (started earlier, perhaps implicitly by a tf op).
    if (wasmThreads === null) wasmThreads = safeThreadsCount();
    if (choice.source !== "default" && wasmThreads !== null && wasmThreads !== choice.threads) {
      notes.push(
        `wasm was already started with ${threadsText(wasmThreads)}; ${choice.threads} requested takes effect in a new process`,
      );
    }
    if (!(await activate("wasm")))
      throw new BackendError(BACKEND_ERROR_CODES.wasmFailed, "wasm: could not switch to the wasm backend", "wasm");
    return;
  }
  if (!wasmPathsSet) {
    const dir = wasmDistDir();
    if (dir == null)
      throw new BackendError(
        BACKEND_ERROR_CODES.wasmFailed,
        "wasm: the .wasm binaries of @tensorflow/tfjs-backend-wasm were not found",
        "wasm",
      );
    setWasmPaths(dir);
    wasmPathsSet = true;
  }
  const listenersBefore = processListeners();
  let threaded = choice.threads > 1;
  if (threaded) {
    const setup = enableWasmThreads(choice.threads);
    try {
      const ok = await withTimeout(
        Promise.race([activate("wasm"), setup.failed]),
        WASM_INIT_TIMEOUT_MS,
        "threaded wasm start",
      );
      if (!ok) throw new Error("tf.setBackend('wasm') returned false");
    } catch (e) {
      notes.push(`wasm: threaded start failed (${firstLine(e)}); using 1 thread`);
      threaded = false;
      resetWasmRegistration();
    } finally {
      setup.restore();
    }
  }
  if (!threaded) {
    enableWasmThreads(1);
    if (!(await activate("wasm"))) {
      throw new BackendError(BACKEND_ERROR_CODES.wasmFailed, "wasm: the wasm module failed to start", "wasm");
    }
  }
  removeEmscriptenListeners(listenersBefore);
  wasmThreads = safeThreadsCount();
  notes.push(
    `wasm: SIMD build, ${threadsText(wasmThreads)}${choice.source === "default" ? "" : ` (${choice.source === "env" ? "GM_WASM_THREADS" : "threads option"})`}`,
  );
}

type ProcessEvent = "uncaughtException" | "unhandledRejection";
const PROCESS_EVENTS: ProcessEvent[] = ["uncaughtException", "unhandledRejection"];

type Listener = (...args: unknown[]) => unknown;
const listenersOf = (ev: ProcessEvent): Listener[] =>
  (process.listeners as (event: string) => Listener[]).call(process, ev);

function processListeners(): Map<ProcessEvent, Set<Listener>> {
  return new Map(PROCESS_EVENTS.map((ev) => [ev, new Set<Listener>(listenersOf(ev))]));
}

/**
 * Emscripten's Node glue adds `uncaughtException` / `unhandledRejection` listeners that rethrow,
 * so every later uncaught error in the process is reported from inside tf-backend-wasm.node.js
 * (the only thing they add is swallowing Emscripten's own `exit()`, which tfjs never calls).
 * Remove the ones the wasm start added.
 */
function removeEmscriptenListeners(before: Map<ProcessEvent, Set<Listener>>): void {
  for (const ev of PROCESS_EVENTS) {
    for (const l of listenersOf(ev)) {
      if (!before.get(ev)!.has(l)) process.removeListener(ev, l as (...args: unknown[]) => void);
    }
  }
}

function threadsText(n: number | null): string {
  return n == null ? "? threads" : `${n} thread${n === 1 ? "" : "s"}`;
}

function safeThreadsCount(): number | null {
  try {
    return getThreadsCount();
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------

let current: { name: string; requested: BackendName; threads?: number } | null = null;
let initializing: Promise<InitBackendResult> | null = null;

/**
 * Selects and starts a backend. `auto` tries tensorflow-gpu, tensorflow, wasm, cpu in turn; a
 * backend named explicitly that cannot start is a `BackendError`. Calling it again with the same
 * name (and threads) is a no-op.
 */
export async function initBackend(
  name: BackendName = "auto",
  opts: InitBackendOptions = {},
): Promise<InitBackendResult> {
  if (!BACKEND_NAMES.includes(name)) {
    throw new BackendError(
      BACKEND_ERROR_CODES.unknown,
      `unknown backend "${String(name)}" (expected one of: ${BACKEND_NAMES.join(", ")})`,
      name,
    );
  }
  // Serialise concurrent calls.
  while (initializing) await initializing.catch(() => undefined);
  if (
    current &&
    current.requested === name &&
    tf.getBackend() === current.name &&
    (opts.threads === undefined || current.threads === undefined || opts.threads === current.threads)
  ) {
    return { name: current.name, requested: name, notes: [] };
  }
  // Quiet covers the whole start (not each setBackend: a threaded start that is abandoned never
  // settles, and must not leave the console muted).
  initializing = maybeQuiet(opts.quiet, () => doInit(name, opts));
  try {
    return await initializing;
  } finally {
    initializing = null;
  }
}

async function doInit(name: BackendName, opts: InitBackendOptions): Promise<InitBackendResult> {
  const notes: string[] = [];
  const fixes = installKernelFixes();
  if (fixes.length > 0) notes.push(`kernel fixes: ${fixes.length} installed`);

  const tryNative = async (which: NativeName): Promise<void> => {
    await loadNative(which);
    if (!(await activate("tensorflow")))
      throw new BackendError(
        BACKEND_ERROR_CODES.nativeFailed,
        `${which}: the tensorflow backend failed to start`,
        which,
      );
  };
  const tryWasm = () => startWasm(opts, notes);
  const tryCpu = async (): Promise<void> => {
    if (!(await activate("cpu")))
      throw new BackendError(BACKEND_ERROR_CODES.noBackend, "cpu: the cpu backend failed to start", "cpu");
    if (opts.quiet) (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  };

  switch (name) {
    case "tensorflow-gpu":
    case "tensorflow":
      await tryNative(name);
      break;
    case "wasm":
      await tryWasm();
      break;
    case "cpu":
      await tryCpu();
      break;
    case "auto": {
      const attempts: Array<[BackendName, () => Promise<void>]> = [
        ["tensorflow-gpu", () => tryNative("tensorflow-gpu")],
        ["tensorflow", () => tryNative("tensorflow")],
        ["wasm", tryWasm],
        ["cpu", tryCpu],
      ];
      let started = false;
      for (const [which, attempt] of attempts) {
        try {
          await attempt();
          started = true;
          notes.push(`auto: using ${which}`);
          break;
        } catch (e) {
          notes.push(`auto: skipped ${firstLine(e)}`);
        }
      }
      if (!started) throw new BackendError(BACKEND_ERROR_CODES.noBackend, "auto: no backend could be started", "auto");
      break;
    }
  }
  const active = tf.getBackend();
  current = { name: active, requested: name, threads: active === "wasm" ? (wasmThreads ?? undefined) : undefined };
  if (active === "wasm" && opts.threads !== undefined) current.threads = opts.threads;
  return { name: active, requested: name, notes };
}

export interface BackendInfo {
  name: BackendName;
  available: boolean;
  reason: string;
}

/** What `gm backends` prints: each backend, whether it can be used here, and why (not). */
export async function listBackends(): Promise<BackendInfo[]> {
  const out: BackendInfo[] = [];
  for (const which of ["tensorflow-gpu", "tensorflow"] as const) {
    const pkg = nativePackage(which);
    if (nativeLoaded === which) {
      out.push({
        name: which,
        available: true,
        reason: `${pkg} loaded${tf.getBackend() === "tensorflow" ? " (active)" : ""}`,
      });
    } else if (nativeLoaded !== null) {
      out.push({
        name: which,
        available: false,
        reason: `${nativePackage(nativeLoaded)} is loaded instead in this process`,
      });
    } else if (isResolvable(pkg)) {
      out.push({ name: which, available: true, reason: `package ${pkg} is installed (not loaded yet)` });
    } else {
      out.push({ name: which, available: false, reason: notInstalled(which) });
    }
  }
  if (!hasWebAssembly()) {
    out.push({ name: "wasm", available: false, reason: "wasm: this JavaScript runtime has no WebAssembly" });
  } else if (wasmDistDir() == null) {
    out.push({
      name: "wasm",
      available: false,
      reason: "wasm: the .wasm binaries of @tensorflow/tfjs-backend-wasm were not found",
    });
  } else {
    let simd: boolean;
    try {
      simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
    } catch {
      simd = false;
    }
    const build = simd ? "SIMD build" : "plain build (no SIMD)";
    if (wasmReady()) {
      const n = wasmThreads ?? safeThreadsCount();
      out.push({
        name: "wasm",
        available: true,
        reason: `wasm: ${build}, ${threadsText(n)}${tf.getBackend() === "wasm" ? " (active)" : ""}`,
      });
    } else {
      const choice = resolveWasmThreads();
      const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
      const from =
        choice.source === "env"
          ? " (GM_WASM_THREADS)"
          : choice.threads === 1 && cores > 1
            ? ` (GM_WASM_THREADS=${cores} to use ${cores})`
            : "";
      out.push({ name: "wasm", available: true, reason: `wasm: ${build}, ${threadsText(choice.threads)}${from}` });
    }
  }
  out.push({
    name: "cpu",
    available: true,
    reason: `cpu: pure JavaScript, 20-300x slower than wasm${tf.getBackend() === "cpu" && tf.engine().registry.cpu != null ? " (active)" : ""}`,
  });
  return out;
}
