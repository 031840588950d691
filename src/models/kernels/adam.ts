/**
 * A fused Adam update (Kingma & Ba, ICLR 2015), bit for bit tf's `AdamOptimizer`:
 *
 *   m' = m·β₁ + g·(1 − β₁)            v' = v·β₂ + g²·(1 − β₂)
 *   θ' = (m' / (1 − β₁ᵗ)) / (√(v' / (1 − β₂ᵗ)) + ε) · (−lr) + θ
 *
 * tf's optimizer runs ~14 element-wise kernels per variable (each a pass over the parameters and
 * a dispatch); `GmAdamUpdate` does one pass per variable. Every operation is rounded to float32 in
 * tf's order (`Math.fround` after each ×, +, ÷, √ of float32 operands is the correctly rounded
 * float32 result, as the backends compute it), so the trajectory is identical to tf's Adam — and a
 * resumed run is identical to an uninterrupted one (src/models/fit.ts restores the same state).
 *
 * On wasm the update is adam.c compiled to wasm SIMD128 (scripts/build-adam-kernel.sh →
 * adam-kernel.wasm.ts), instantiated on tfjs-backend-wasm's own memory so that it reads and writes
 * tensors in place by their memory offsets. On the threaded wasm build (whose memory is shared,
 * which the module cannot import) the optimizer keeps tf's own update; on every other backend
 * (cpu, …) the kernel is `adamUpdateJs`, the same operations in JavaScript.
 *
 * `FusedAdamOptimizer` subclasses tf's `AdamOptimizer` and only replaces `applyGradients`: its
 * state (moments, β powers, iteration count), `getWeights` / `setWeights` and serialization are
 * tf's. The kernel writes new tensors (weights are never updated in place: the wasm matmul caches
 * packed weights by data id).
 */
import * as tf from "@tensorflow/tfjs";
import { ADAM_WASM_BASE64 } from "./adam-kernel.wasm";
import type { KernelBackend, TensorInfo } from "./util";

/** The kernel name of the fused update. */
export const ADAM_UPDATE = "GmAdamUpdate";

// The few WebAssembly declarations used here (the project compiles without the DOM lib).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const wasmApi = (): WasmApi | undefined => (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** What the kernel needs of tfjs-backend-wasm's backend. */
interface WasmLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  wasm: { asm?: { memory?: WasmMemory } };
}

type AdamFn = (
  w: number,
  m: number,
  v: number,
  g: number,
  wo: number,
  mo: number,
  vo: number,
  n: number,
  b1: number,
  b2: number,
  ob1: number,
  ob2: number,
  a1: number,
  a2: number,
  eps: number,
  neglr: number,
) => void;

/** Bytes of a base64 string (Node's Buffer, or atob in a browser). */
function decodeBase64(s: string): Uint8Array {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(s, "base64"));
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/** The compiled module (once per process) and its instance on each tfjs memory. */
let compiled: object | undefined;
const instances = new WeakMap<WasmMemory, AdamFn | null>();

/** adam.c's `adam_update` running on tfjs's own memory, or null where that memory is not reachable. */
function wasmAdam(b: unknown): { fn: AdamFn; backend: WasmLike } | null {
  const w = b as Partial<WasmLike>;
  const memory = w.wasm?.asm?.memory;
  const api = wasmApi();
  if (api === undefined || typeof w.makeOutput !== "function" || w.dataIdMap == null || !(memory instanceof api.Memory))
    return null;
  let fn = instances.get(memory);
  if (fn === undefined) {
    compiled ??= new api.Module(decodeBase64(ADAM_WASM_BASE64));
    try {
      fn = new api.Instance(compiled, { env: { memory } }).exports.adam_update as AdamFn;
    } catch {
      // The threaded wasm build's memory is shared, which this module (built for an unshared
      // memory) cannot import: that backend keeps tf's own update.
      fn = null;
    }
    instances.set(memory, fn);
  }
  return fn === null ? null : { fn, backend: w as WasmLike };
}

/** Whether the fused update runs as adam.c's wasm SIMD code on `backend` (default: the current one). */
export function adamRunsNative(backend: unknown = tf.backend()): boolean {
  return wasmAdam(backend) !== null;
}

/** The update itself, on float32 arrays (exported for the tests). */
export function adamUpdateJs(
  value: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  c: { beta1: number; beta2: number; lr: number; epsilon: number; oneMinusAccBeta1: number; oneMinusAccBeta2: number },
  out: { m: Float32Array; v: Float32Array; value: Float32Array },
): void {
  const f = Math.fround;
  const b1 = f(c.beta1);
  const b2 = f(c.beta2);
  const ob1 = f(1 - c.beta1);
  const ob2 = f(1 - c.beta2);
  const negLr = f(-c.lr);
  const eps = f(c.epsilon);
  const a1 = f(c.oneMinusAccBeta1);
  const a2 = f(c.oneMinusAccBeta2);
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = f(f(m[i] * b1) + f(gi * ob1));
    const vi = f(f(v[i] * b2) + f(f(gi * gi) * ob2));
    out.m[i] = mi;
    out.v[i] = vi;
    const mh = f(mi / a1);
    const vh = f(vi / a2);
    out.value[i] = f(f(f(mh / f(f(Math.sqrt(vh)) + eps)) * negLr) + value[i]);
  }
}

function adamKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: ADAM_UPDATE,
    backendName,
    kernelFunc: ({ inputs, backend: anyBackend, attrs }) => {
      const backend = anyBackend as KernelBackend;
      const { value, m, v, g } = inputs as Record<string, TensorInfo>;
      const c = attrs as unknown as {
        beta1: number;
        beta2: number;
        lr: number;
        epsilon: number;
        oneMinusAccBeta1: number;
        oneMinusAccBeta2: number;
      };
      const native = wasmAdam(backend);
      if (native !== null) {
        const f = Math.fround;
        const outs = [
          native.backend.makeOutput(value.shape, "float32"),
          native.backend.makeOutput(value.shape, "float32"),
          native.backend.makeOutput(value.shape, "float32"),
        ];
        const at = (t: TensorInfo) => native.backend.dataIdMap.get(t.dataId)!.memoryOffset;
        native.fn(
          at(value),
          at(m),
          at(v),
          at(g),
          at(outs[2]),
          at(outs[0]),
          at(outs[1]),
          tf.util.sizeFromShape(value.shape),
          f(c.beta1),
          f(c.beta2),
          f(1 - c.beta1),
          f(1 - c.beta2),
          f(c.oneMinusAccBeta1),
          f(c.oneMinusAccBeta2),
          f(c.epsilon),
          f(-c.lr),
        );
        return outs;
      }
      const read = (t: TensorInfo) => backend.readSync(t.dataId) as Float32Array;
      const n = tf.util.sizeFromShape(value.shape);
      const out = { m: new Float32Array(n), v: new Float32Array(n), value: new Float32Array(n) };
      adamUpdateJs(read(value), read(m), read(v), read(g), c, out);
      const maker = backend as unknown as {
        makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfo;
      };
      return [out.m, out.v, out.value].map((vals) => maker.makeTensorInfo(value.shape, "float32", vals));
    },
  };
}

/** Registers the kernel for `backendName` (default: the current backend). Idempotent. */
export function ensureAdamUpdate(backendName: string = tf.getBackend()): void {
  if (tf.getKernel(ADAM_UPDATE, backendName) == null) tf.registerKernel(adamKernel(backendName));
}

type AdamInternals = {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  incrementIterations(): void;
};

/** tf's Adam with {@link ADAM_UPDATE} as its update: the same numbers, one pass per variable. */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer["applyGradients"]>[0]): void {
    if (tf.getBackend() === "wasm" && !adamRunsNative()) {
      super.applyGradients(variableGradients); // a wasm the module cannot run on: tf's own update
      return;
    }
    const self = this as unknown as AdamInternals;
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    ensureAdamUpdate();
    // 1 − β^t exactly as tf computes it: a float32 subtraction on the backend.
    const [a1, a2] = tf.tidy(() => [tf.sub(1, self.accBeta1), tf.sub(1, self.accBeta2)].map((t) => t.dataSync()[0]));
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      const moment = (which: "m" | "v") =>
        tf.tidy(() => ({ originalName: `${name}/${which}`, variable: tf.zerosLike(value).variable(false) }));
      self.accumulatedFirstMoment[i] ??= moment("m");
      self.accumulatedSecondMoment[i] ??= moment("v");
      const g = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (g == null) return;
      const first = self.accumulatedFirstMoment[i]!.variable;
      const second = self.accumulatedSecondMoment[i]!.variable;
      const attrs = {
        beta1: self.beta1,
        beta2: self.beta2,
        lr: self.learningRate,
        epsilon: self.epsilon,
        oneMinusAccBeta1: a1,
        oneMinusAccBeta2: a2,
      };
      const [m, v, next] = tf
        .engine()
        .runKernel(
          ADAM_UPDATE,
          { value, m: first, v: second, g } as unknown as tf.NamedTensorMap,
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
      first.assign(m);
      second.assign(v);
      value.assign(next);
      tf.dispose([m, v, next]);
    });
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  }
}

/** `tf.train.adam` with the fused update. */
export function fusedAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
