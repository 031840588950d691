/**
 * The fused NADE kernel: log p per example and, optionally, the gradient of Σ_b g_b log p_b in
 * W, c, V, b, without the [B, D, H] tensor of the cumulative-sum form (see nade.c for the math).
 *
 * Two implementations of one contract:
 * - `wasm`: nade.c compiled to wasm32 + SIMD128 (bytes embedded in nade-kernel.wasm.ts, so no
 *   file is read at run time: it works from source, under vitest, and in the tsup bundle);
 *   its own WebAssembly.Memory, grown on demand, never tfjs's. Optionally (GM_NADE_THREADS=2)
 *   a helper thread computes half of each batch: the "shared" build on a shared memory, driven
 *   through Atomics (the thread is unref'ed: it never keeps a process alive, and it is only
 *   used once it has started: the first calls run on the main thread alone);
 * - `js`: the same algorithm in plain JavaScript, the fallback where WebAssembly SIMD is missing
 *   and the yardstick the wasm kernel is tested against.
 *
 * Everything here is synchronous and works on typed arrays; ./nade-op.ts wraps it as a
 * TensorFlow.js op with a custom gradient.
 */
import * as os from "node:os";
import { Worker } from "node:worker_threads";
import { NADE_SHARED_PAGES, NADE_WASM_LOCAL_BASE64, NADE_WASM_SHARED_BASE64 } from "./nade-kernel.wasm";

/** NADE's parameters as nade.ts stores them: W [H, D], c [H], V [D, H], b [D]. */
export interface NadeParams {
  readonly D: number;
  readonly H: number;
  readonly W: Float32Array;
  readonly c: Float32Array;
  readonly V: Float32Array;
  readonly b: Float32Array;
}

/** Gradients of Σ_b g_b log p_b, in the parameters' shapes. */
export interface NadeGrads {
  W: Float32Array;
  c: Float32Array;
  V: Float32Array;
  b: Float32Array;
}

export interface NadeKernel {
  readonly name: "wasm" | "js";
  /** log p per example; x is [B, D] in the factor's order, row-major. */
  logProb(p: NadeParams, x: Float32Array, B: number): Float32Array;
  /** log p per example and the gradient of Σ_b g[b] log p_b. */
  logProbAndGrad(p: NadeParams, x: Float32Array, B: number, g: Float32Array): { logp: Float32Array; grads: NadeGrads };
}

function check(p: NadeParams, x: Float32Array, B: number, g?: Float32Array): void {
  const { D, H } = p;
  if (p.W.length !== H * D || p.c.length !== H || p.V.length !== D * H || p.b.length !== D) {
    throw new Error(`nade kernel: parameter sizes do not match D = ${D}, H = ${H}`);
  }
  if (x.length !== B * D) throw new Error(`nade kernel: x has ${x.length} values, expected ${B} × ${D}`);
  if (g && g.length !== B) throw new Error(`nade kernel: g has ${g.length} values, expected ${B}`);
}

// ---------------------------------------------------------------------------------------------
// wasm

// The few WebAssembly declarations used here (the project compiles without the DOM lib).
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (desc: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
const wasmApi = (): WasmApi | undefined => (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

interface NadeExports {
  memory?: WasmMemory;
  __heap_base: { value: number };
  nade_math(which: number, inp: number, out: number, n: number): void;
  nade_scratch_floats(D: number, Hp: number, gmax: number, cap: number): number;
  nade_pack_w(W: number, Wt: number, H: number, D: number, Hp: number): void;
  nade_unpack_w(Wt: number, W: number, H: number, D: number, Hp: number): void;
  nade_pad_rows(src: number, dst: number, R: number, H: number, Hp: number): void;
  nade_unpad_rows(src: number, dst: number, R: number, H: number, Hp: number): void;
  nade_add(dst: number, src: number, n: number): void;
  nade_run(...args: number[]): void;
}

const round4 = (n: number) => (n + 3) & ~3;

function decodeBase64(s: string): Uint8Array {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(s, "base64"));
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * The helper thread: it instantiates the shared build on the main thread's memory and runs
 * nade_run on the arguments the main thread leaves in `ctl`, one job per increment of ctl[SEQ].
 * Plain JavaScript evaluated by worker_threads (no file: works from source and from the bundle).
 */
const WORKER_SOURCE = String.raw`
"use strict";
const { workerData } = require("node:worker_threads");
const { module, memory, ctl } = workerData;
const c = new Int32Array(ctl);
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
Atomics.store(c, 2, 1);
Atomics.notify(c, 2);
let seen = 0;
for (;;) {
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  if (seen < 0) break;
  let ok = 1;
  try {
    ex.nade_run(...Array.from(c.subarray(8, 8 + 18)));
  } catch (e) {
    ok = 0;
  }
  Atomics.store(c, 3, ok);
  Atomics.store(c, 1, seen);
  Atomics.notify(c, 1);
}
`;
// ctl slots: 0 job sequence (main → worker; −1: exit), 1 job done (worker → main), 2 ready,
// 3 last job ok, 8.. nade_run's 18 arguments.
const SEQ = 0;
const DONE = 1;
const READY = 2;
const OK = 3;
const ARGS = 8;

type WorkerLike = { unref(): void; terminate(): Promise<number>; on(ev: string, fn: (...a: unknown[]) => void): void };

/** The helper thread of a WasmNadeKernel, started on first use. */
class Helper {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(64 * 4));
  private worker: WorkerLike | null = null;
  private seq = 0;
  dead: string | null = null;

  constructor(
    private readonly module: object,
    private readonly memory: WasmMemory,
  ) {}

  /**
   * Starts the thread (once) and says whether it is ready. Never waits: a worker may need the
   * main thread's event loop to start, so the first calls run on the main thread alone.
   */
  ready(): boolean {
    if (this.dead) return false;
    if (!this.worker) {
      try {
        const w: WorkerLike = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { module: this.module, memory: this.memory, ctl: this.ctl.buffer },
        });
        w.unref(); // never keeps the process alive
        w.on("error", (e) => (this.dead = `helper thread failed: ${e instanceof Error ? e.message : String(e)}`));
        w.on("exit", () => (this.dead ??= "helper thread exited"));
        this.worker = w;
      } catch (e) {
        this.dead = `no helper thread: ${e instanceof Error ? e.message : String(e)}`;
        return false;
      }
    }
    return Atomics.load(this.ctl, READY) === 1;
  }

  /** Posts one nade_run job. */
  post(args: number[]): void {
    this.ctl.set(args, ARGS);
    Atomics.store(this.ctl, SEQ, ++this.seq);
    Atomics.notify(this.ctl, SEQ);
  }

  /** Waits for the job posted last; false when it failed or did not finish in `ms`. */
  wait(ms: number): boolean {
    const deadline = performance.now() + ms;
    while (Atomics.load(this.ctl, DONE) !== this.seq) {
      const left = deadline - performance.now();
      if (left <= 0 || this.dead) {
        this.dead ??= "helper thread did not answer";
        this.stop();
        return false;
      }
      Atomics.wait(this.ctl, DONE, Atomics.load(this.ctl, DONE), Math.min(left, 100));
    }
    return Atomics.load(this.ctl, OK) === 1;
  }

  stop(): void {
    Atomics.store(this.ctl, SEQ, -1);
    Atomics.notify(this.ctl, SEQ);
    void this.worker?.terminate();
    this.worker = null;
    this.dead ??= "stopped";
  }
}

/** Tuning of the wasm kernel. */
export interface WasmNadeOptions {
  /** Examples per group: each row of V and dV is read once per group (default 16). */
  gmax?: number;
  /** Segments (hidden vectors) of scratch per group; at least D is used (default 1536). */
  cap?: number;
  /**
   * Threads (1 or 2): with 2, a helper thread (worker_threads, on a shared wasm memory) computes
   * half of each large enough batch. Default: env GM_NADE_THREADS, else 1 — on the shared 2-core
   * machines this was measured on, a second thread made steps slower, not faster (the split
   * waits for whichever half is descheduled); see bench/nade-kernel.bench.ts.
   */
  threads?: number;
  /** Smallest B·D·H for which the helper thread is used (default 2^20; 0: always). */
  minWorkForThreads?: number;
}

/** Threads by default: GM_NADE_THREADS (1 or 2; 2 only where the machine has 2+ cores), else 1. */
export function defaultNadeThreads(): number {
  const env = typeof process !== "undefined" ? process.env.GM_NADE_THREADS : undefined;
  if (env === undefined || env.trim() === "") return 1;
  const n = Number(env);
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  return Number.isInteger(n) && n >= 2 && cores >= 2 ? 2 : 1;
}

export class WasmNadeKernel implements NadeKernel {
  readonly name = "wasm" as const;
  private readonly ex: NadeExports;
  private readonly memory: WasmMemory;
  private readonly base: number;
  private readonly helper: Helper | null;
  readonly gmax: number;
  private readonly capOption: number;
  private readonly minWork: number;
  /** Calls that used the helper thread (tests, benches). */
  threadedCalls = 0;

  constructor(opts: WasmNadeOptions = {}) {
    const api = wasmApi();
    if (!api) throw new Error("this JavaScript runtime has no WebAssembly");
    this.gmax = Math.max(1, Math.min(1024, Math.floor(opts.gmax ?? 16)));
    this.capOption = opts.cap ?? 1536;
    this.minWork = opts.minWorkForThreads ?? 1 << 20;
    const threads = opts.threads ?? defaultNadeThreads();
    let shared: { module: object; memory: WasmMemory; ex: NadeExports } | null = null;
    if (threads > 1 && typeof SharedArrayBuffer === "function") {
      try {
        const module = new api.Module(decodeBase64(NADE_WASM_SHARED_BASE64));
        const memory = new api.Memory({ ...NADE_SHARED_PAGES, shared: true });
        shared = {
          module,
          memory,
          ex: new api.Instance(module, { env: { memory } }).exports as unknown as NadeExports,
        };
      } catch {
        shared = null; // no shared memory here: one thread
      }
    }
    if (shared) {
      this.ex = shared.ex;
      this.memory = shared.memory;
      this.helper = new Helper(shared.module, shared.memory);
    } else {
      const module = new api.Module(decodeBase64(NADE_WASM_LOCAL_BASE64));
      this.ex = new api.Instance(module, {}).exports as unknown as NadeExports;
      this.memory = this.ex.memory!;
      this.helper = null;
    }
    this.base = (Number(this.ex.__heap_base.value) + 15) & ~15;
  }

  /** Bytes of the kernel's wasm memory (it only grows). */
  get heapBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Threads the kernel runs on (2 with a live helper thread). */
  get threads(): number {
    return this.helper && !this.helper.dead ? 2 : 1;
  }

  /** Whether a helper thread can be used (null) or why not. */
  get threadNote(): string | null {
    return this.helper ? this.helper.dead : "one thread";
  }

  /** Starts the helper thread and resolves when it is ready (true) or cannot be (false). */
  async threadsReady(timeoutMs = 10_000): Promise<boolean> {
    if (!this.helper) return false;
    const t0 = performance.now();
    while (!this.helper.ready()) {
      if (this.helper.dead || performance.now() - t0 > timeoutMs) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  /** Ends the helper thread (it never keeps the process alive anyway). */
  dispose(): void {
    this.helper?.stop();
  }

  /** Applies exp (0), sigmoid (1) or softplus (2) of the kernel to each value (for accuracy tests). */
  math(which: 0 | 1 | 2, values: Float32Array): Float32Array {
    const n = round4(values.length);
    this.ensure(this.base + 8 * n);
    const f = new Float32Array(this.memory.buffer);
    const i0 = this.base >> 2;
    f.fill(0, i0, i0 + n);
    f.set(values, i0);
    this.ex.nade_math(which, this.base, this.base + 4 * n, n);
    return new Float32Array(this.memory.buffer, this.base + 4 * n, values.length).slice();
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / 65536));
  }

  logProb(p: NadeParams, x: Float32Array, B: number): Float32Array {
    check(p, x, B);
    return this.run(0, p, x, B, null).logp;
  }

  logProbAndGrad(p: NadeParams, x: Float32Array, B: number, g: Float32Array): { logp: Float32Array; grads: NadeGrads } {
    check(p, x, B, g);
    const r = this.run(1, p, x, B, g);
    return { logp: r.logp, grads: r.grads! };
  }

  private run(
    mode: 0 | 1,
    p: NadeParams,
    x: Float32Array,
    B: number,
    g: Float32Array | null,
  ): { logp: Float32Array; grads?: NadeGrads } {
    const { D, H } = p;
    const Hp = round4(H);
    const Dp = round4(D);
    const gmax = this.gmax;
    const cap = Math.max(D, mode === 0 ? gmax : this.capOption);
    const scratchFloats = this.ex.nade_scratch_floats(D, Hp, gmax, cap);
    const two = this.helper != null && B >= 2 && B * D * H >= this.minWork && this.helper.ready();
    // Float offsets, each a multiple of 4 (16-byte aligned).
    let at = this.base >> 2;
    const take = (n: number) => {
      const o = at;
      at += round4(n);
      return o;
    };
    const grads = mode === 1;
    const oWt = take(D * Hp);
    const oC = take(Hp);
    const oV = take(D * Hp);
    const oB = take(Dp);
    const oX = take(B * D);
    const oG = take(B);
    const oLogp = take(B);
    const oDWt = take(D * Hp); // also the raw W before packing (nade_run zeroes it)
    const oDc = grads ? take(Hp) : 0;
    const oDV = grads ? take(D * Hp) : 0;
    const oDb = grads ? take(Dp) : 0;
    const oScratch = take(Math.max(scratchFloats, H * D));
    // The helper thread's half: its own scratch and gradients.
    const o2 = two
      ? { dWt: take(D * Hp), dc: take(Hp), dV: take(D * Hp), db: take(Dp), scratch: take(scratchFloats) }
      : null;
    this.ensure(4 * at);

    const f = new Float32Array(this.memory.buffer);
    f.set(p.W, oDWt);
    this.ex.nade_pack_w(4 * oDWt, 4 * oWt, H, D, Hp);
    f.fill(0, oC, oC + Hp);
    f.set(p.c, oC);
    if (H === Hp) f.set(p.V, oV);
    else {
      f.set(p.V, oScratch);
      this.ex.nade_pad_rows(4 * oScratch, 4 * oV, D, H, Hp);
    }
    f.set(p.b, oB);
    f.set(x, oX);
    if (g) f.set(g, oG);

    const args = (
      lo: number,
      hi: number,
      out: { dWt: number; dc: number; dV: number; db: number; scratch: number },
    ) => [
      mode,
      hi - lo,
      D,
      Hp,
      4 * oWt,
      4 * oC,
      4 * oV,
      4 * oB,
      4 * (oX + lo * D),
      4 * (oG + lo),
      4 * (oLogp + lo),
      4 * out.dWt,
      4 * out.dc,
      4 * out.dV,
      4 * out.db,
      4 * out.scratch,
      gmax,
      cap,
    ];
    const mine = { dWt: oDWt, dc: oDc, dV: oDV, db: oDb, scratch: oScratch };
    if (o2) {
      const half = B >> 1;
      this.helper!.post(args(half, B, o2));
      this.ex.nade_run(...args(0, half, mine));
      if (!this.helper!.wait(60_000)) this.ex.nade_run(...args(half, B, o2)); // the helper failed: do its half here
      if (grads) {
        this.ex.nade_add(4 * oDWt, 4 * o2.dWt, D * Hp);
        this.ex.nade_add(4 * oDc, 4 * o2.dc, Hp);
        this.ex.nade_add(4 * oDV, 4 * o2.dV, D * Hp);
        this.ex.nade_add(4 * oDb, 4 * o2.db, Dp);
      }
      this.threadedCalls++;
    } else this.ex.nade_run(...args(0, B, mine));

    const f2 = new Float32Array(this.memory.buffer); // (the memory may be a new buffer after growing)
    const logp = f2.slice(oLogp, oLogp + B);
    if (!grads) return { logp };
    this.ex.nade_unpack_w(4 * oDWt, 4 * oScratch, H, D, Hp);
    const W = f2.slice(oScratch, oScratch + H * D);
    let V: Float32Array;
    if (H === Hp) V = f2.slice(oDV, oDV + D * H);
    else {
      this.ex.nade_unpad_rows(4 * oDV, 4 * oScratch, D, H, Hp);
      V = f2.slice(oScratch, oScratch + D * H);
    }
    return { logp, grads: { W, c: f2.slice(oDc, oDc + H), V, b: f2.slice(oDb, oDb + D) } };
  }
}

// ---------------------------------------------------------------------------------------------
// JavaScript

const sigmoid = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

/** The same algorithm, one example at a time, in float64 working precision. */
export class JsNadeKernel implements NadeKernel {
  readonly name = "js" as const;

  logProb(p: NadeParams, x: Float32Array, B: number): Float32Array {
    check(p, x, B);
    return this.run(p, x, B, null).logp;
  }

  logProbAndGrad(p: NadeParams, x: Float32Array, B: number, g: Float32Array): { logp: Float32Array; grads: NadeGrads } {
    check(p, x, B, g);
    const r = this.run(p, x, B, g);
    return { logp: r.logp, grads: r.grads! };
  }

  private run(
    p: NadeParams,
    x: Float32Array,
    B: number,
    g: Float32Array | null,
  ): { logp: Float32Array; grads?: NadeGrads } {
    const { D, H, W, c, V, b } = p;
    const Wt = new Float64Array(D * H);
    for (let k = 0; k < H; k++) for (let d = 0; d < D; d++) Wt[d * H + k] = W[k * D + d];
    const logp = new Float32Array(B);
    const dWt = g ? new Float64Array(D * H) : null;
    const dV = g ? new Float64Array(D * H) : null;
    const dc = g ? new Float64Array(H) : null;
    const db = g ? new Float64Array(D) : null;
    const a = new Float64Array(H);
    const seg = new Float64Array(g ? D * H : H); // hidden vector of each segment of one example
    const segOf = new Int32Array(D); // segment of each position
    const L = new Float64Array(D);
    const u = new Float64Array(H);
    const s = new Float64Array(H);
    for (let e = 0; e < B; e++) {
      const xo = e * D;
      for (let k = 0; k < H; k++) {
        a[k] = c[k];
        seg[k] = sigmoid(a[k]);
      }
      let cur = 0;
      for (let d = 0; d < D; d++) {
        segOf[d] = cur;
        const h = cur * H;
        let l = b[d];
        for (let k = 0; k < H; k++) l += V[d * H + k] * seg[h + k];
        L[d] = l;
        const xv = x[xo + d];
        if (d === D - 1 || xv === 0) continue;
        if (g) cur++;
        const hn = cur * H;
        for (let k = 0; k < H; k++) {
          a[k] += xv * Wt[d * H + k];
          seg[hn + k] = sigmoid(a[k]);
        }
      }
      let lp = 0;
      for (let d = 0; d < D; d++) lp -= x[xo + d] * softplus(-L[d]) + (1 - x[xo + d]) * softplus(L[d]);
      logp[e] = lp;
      if (!g) continue;
      const ge = g[e];
      u.fill(0);
      s.fill(0);
      for (let d = D - 1; d >= 0; d--) {
        const gl = ge * (x[xo + d] * sigmoid(-L[d]) - (1 - x[xo + d]) * sigmoid(L[d]));
        db![d] += gl;
        const h = segOf[d] * H;
        for (let k = 0; k < H; k++) {
          dV![d * H + k] += gl * seg[h + k];
          u[k] += gl * V[d * H + k];
        }
        // A segment starts at d when d = 0 or x_{d−1} ≠ 0: close it (s += h(1 − h) u).
        if (d === 0 || x[xo + d - 1] !== 0) {
          for (let k = 0; k < H; k++) {
            const hk = seg[h + k];
            s[k] += hk * (1 - hk) * u[k];
            u[k] = 0;
          }
          if (d > 0) {
            const xv = x[xo + d - 1];
            for (let k = 0; k < H; k++) dWt![(d - 1) * H + k] += xv * s[k];
          }
        }
      }
      for (let k = 0; k < H; k++) dc![k] += s[k];
    }
    if (!g) return { logp };
    const gW = new Float32Array(H * D);
    for (let k = 0; k < H; k++) for (let d = 0; d < D; d++) gW[k * D + d] = dWt![d * H + k];
    return { logp, grads: { W: gW, c: Float32Array.from(dc!), V: Float32Array.from(dV!), b: Float32Array.from(db!) } };
  }
}

// ---------------------------------------------------------------------------------------------

let wasmKernel: WasmNadeKernel | null | undefined;
let jsKernel: JsNadeKernel | undefined;
let wasmError: string | undefined;

/** The wasm kernel, or null where WebAssembly (with SIMD) is unavailable; `nadeKernelNote()` says why. */
export function wasmNadeKernel(): WasmNadeKernel | null {
  if (wasmKernel === undefined) {
    try {
      wasmKernel = new WasmNadeKernel();
    } catch (e) {
      wasmKernel = null;
      wasmError = e instanceof Error ? e.message : String(e);
    }
  }
  return wasmKernel;
}

export function jsNadeKernel(): JsNadeKernel {
  return (jsKernel ??= new JsNadeKernel());
}

/** The kernel to use: wasm where it loads, else JavaScript. */
export function nadeKernel(which: "auto" | "wasm" | "js" = "auto"): NadeKernel {
  if (which === "js") return jsNadeKernel();
  const w = wasmNadeKernel();
  if (w) return w;
  if (which === "wasm") throw new Error(`nade kernel: wasm unavailable (${wasmError})`);
  return jsNadeKernel();
}

/** Why the wasm kernel is not used, if it is not. */
export function nadeKernelNote(): string | undefined {
  wasmNadeKernel();
  return wasmError;
}
