/**
 * The transposed-matmul fix.
 *
 * On the wasm backend only a *plain* matmul (no `transposeA` / `transposeB`, batch 1) reaches
 * XNNPACK's fast GEMM (~28 GFLOP/s on these machines); every other form falls into a naive blocked
 * loop that runs at 0.4-1.7 GFLOP/s. Backpropagation through `matMul` uses exactly those forms
 * (dA = dY·Bᵀ, dB = Aᵀ·dY), and so does the hand-written gradient of `tf.fused.matMul` (which
 * `tf.layers.dense` uses), so a stock training step spends most of its time there.
 *
 * Two fixes, both installed by `installKernelFixes()`:
 *
 * 1. **Kernels** (wasm): the wasm `BatchMatMul` and `_FusedMatMul` kernels are wrapped so that a
 *    call with `transposeA` / `transposeB` first transposes its operand with the (fast) wasm
 *    `Transpose` kernel and then runs the plain kernel. Done at the kernel level, it covers every
 *    source of transposed matmuls: the gradient of `matMul`, the hand-written gradient of
 *    `tf.fused.matMul` (which the registry cannot reach), and model code. The wrapper also folds
 *    a batch of `a` against a single `b` into one 2-D matmul, and guards against a stale-weights
 *    bug of the stock kernel (see `guardPackedWeights`).
 * 2. **Gradient** (every backend): the gradient of `BatchMatMul` is re-registered to sum over
 *    broadcast batch dimensions, which the stock gradient does not do (it throws a shape error
 *    when `a` and `b` have different batch shapes). It keeps the stock transposed forms: native
 *    backends (tfjs-node) run those best, and on wasm the kernel wrapper makes them plain.
 *    (`explicitTransposeGradConfig` is the variant with explicit transposes, for a wasm without
 *    the wrapper; it is not installed by default.)
 */
import * as tf from "@tensorflow/tfjs";
import {
  GM_FIX,
  type FixedKernelConfig,
  type KernelBackend,
  type TensorInfo,
  replaceKernel,
  restoreKernel,
  runKernel,
  sizeOf,
  swapLastTwo,
} from "./util";

/** Transposes the last two axes of a tensor (a no-op wrapper kept for readability). */
function transposeLast2<T extends tf.Tensor>(x: T): T {
  return tf.transpose(x, swapLastTwo(x.rank)) as T;
}

/**
 * `a · b` with optional transposes, written so that every backend runs a plain matmul: the
 * transposes are explicit `transpose` ops. Use it in model code instead of
 * `tf.matMul(a, b, transposeA, transposeB)`; its gradient is also plain matmuls.
 */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  return tf.tidy(() => tf.matMul(transposeA ? transposeLast2(a) : a, transposeB ? transposeLast2(b) : b));
}

/** Sums a matmul gradient over the batch axes that were broadcast, back to `shape`. */
function reduceToShape(grad: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (tf.util.arraysEqual(grad.shape, shape as number[])) return grad;
  const gradOuter = grad.shape.slice(0, -2);
  const targetOuter = shape.slice(0, -2);
  const axes = tf.backend_util.getReductionAxes(targetOuter as number[], gradOuter);
  const summed = axes.length > 0 ? tf.sum(grad, axes) : grad;
  return tf.reshape(summed, shape as number[]);
}

function makeGradConfig(explicitTransposes: boolean): tf.GradConfig {
  // mm(x, y, tx, ty) = xᵀ? · yᵀ?, either as tf.matMul's flags or as explicit transposes.
  const mm = explicitTransposes
    ? (x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean) =>
        tf.matMul(tx ? transposeLast2(x) : x, ty ? transposeLast2(y) : y)
    : (x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean) => tf.matMul(x, y, tx, ty);
  return {
    kernelName: tf.BatchMatMul,
    inputsToSave: ["a", "b"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const g = dy as tf.Tensor;
      const [a, b] = saved;
      const transposeA = Boolean(attrs.transposeA);
      const transposeB = Boolean(attrs.transposeB);
      let da: () => tf.Tensor;
      let db: () => tf.Tensor;
      if (!transposeA && !transposeB) {
        // y = a·b: da = dy·bᵀ, db = aᵀ·dy
        da = () => mm(g, b, false, true);
        db = () => mm(a, g, true, false);
      } else if (!transposeA && transposeB) {
        // y = a·bᵀ: da = dy·b, db = dyᵀ·a
        da = () => mm(g, b, false, false);
        db = () => mm(g, a, true, false);
      } else if (transposeA && !transposeB) {
        // y = aᵀ·b: da = b·dyᵀ, db = a·dy
        da = () => mm(b, g, false, true);
        db = () => mm(a, g, false, false);
      } else {
        // y = aᵀ·bᵀ: da = bᵀ·dyᵀ, db = dyᵀ·aᵀ
        da = () => mm(b, g, true, true);
        db = () => mm(g, a, true, true);
      }
      return {
        a: () => reduceToShape(da(), a.shape),
        b: () => reduceToShape(db(), b.shape),
      };
    },
  };
}

/** The gradient of `BatchMatMul`, summing over broadcast batch dims (installed by default). */
export const batchMatMulGradConfig: tf.GradConfig = makeGradConfig(false);

/** The same with every transpose an explicit `transpose` op (plain matmuls only). */
export const explicitTransposeGradConfig: tf.GradConfig = makeGradConfig(true);

// ---------------------------------------------------------------------------------------------
// Kernel wrappers

/**
 * The stock wasm matmul caches XNNPACK's packed copy of `b` under `b`'s tensor id and never checks
 * its shape, so the same data used again as `b` under another shape (a reshape shares the data id)
 * silently multiplies with the old packing: `matMul(a1, w)` then `matMul(a2, reshape(w, ...))`
 * returns wrong numbers. We remember the [K, N] each data id was packed with and hand the kernel a
 * copy when it comes back with a different one.
 */
const packedShapes = new WeakMap<object, string>();

function guardPackedWeights(
  backendName: string,
  backend: KernelBackend,
  b: TensorInfo,
  temps: TensorInfo[],
): TensorInfo {
  const key = `${b.shape[b.shape.length - 2]}x${b.shape[b.shape.length - 1]}`;
  const seen = packedShapes.get(b.dataId);
  if (seen === undefined) {
    packedShapes.set(b.dataId, key);
    return b;
  }
  if (seen === key) return b;
  const copy = runKernel(backendName, backend, "Identity", { x: b });
  temps.push(copy);
  packedShapes.set(copy.dataId, key);
  return copy;
}

function makeMatMulWrapper(stock: tf.KernelConfig, fused: boolean): FixedKernelConfig {
  const { backendName } = stock;
  const kernelFunc: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
    const backend = anyBackend as KernelBackend;
    const at = (attrs ?? {}) as Record<string, unknown>;
    let a = inputs.a as TensorInfo;
    let b = inputs.b as TensorInfo;
    const temps: TensorInfo[] = [];
    try {
      if (at.transposeA) {
        a = runKernel(backendName, backend, "Transpose", { x: a }, { perm: swapLastTwo(a.shape.length) });
        temps.push(a);
      }
      if (at.transposeB) {
        b = runKernel(backendName, backend, "Transpose", { x: b }, { perm: swapLastTwo(b.shape.length) });
        temps.push(b);
      }
      const aOuter = a.shape.slice(0, -2);
      const bOuter = b.shape.slice(0, -2);
      const m = a.shape[a.shape.length - 2];
      const k = a.shape[a.shape.length - 1];
      const n = b.shape[b.shape.length - 1];
      let outShape: number[] | null = null;
      // A batch of `a` against one `b`: one [batch·M, K]·[K, N] matmul. (Fused kernels only take a
      // rank-1 bias, which broadcasts the same way, so this is valid for them too.)
      if (sizeOf(aOuter) > 1 && sizeOf(bOuter) === 1 && (!fused || inputs.preluActivationWeights == null)) {
        outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(aOuter, bOuter), m, n];
        const rank = fused ? 3 : 2;
        const a2 = runKernel(
          backendName,
          backend,
          "Reshape",
          { x: a },
          { shape: rank === 3 ? [1, sizeOf(aOuter) * m, k] : [sizeOf(aOuter) * m, k] },
        );
        temps.push(a2);
        a = a2;
        const b2 = runKernel(backendName, backend, "Reshape", { x: b }, { shape: rank === 3 ? [1, k, n] : [k, n] });
        temps.push(b2);
        b = b2;
      }
      if (sizeOf(a.shape.slice(0, -2)) === 1 && sizeOf(b.shape.slice(0, -2)) === 1) {
        b = guardPackedWeights(backendName, backend, b, temps);
      }
      const out = stock.kernelFunc({
        inputs: { ...inputs, a, b },
        backend,
        attrs: { ...at, transposeA: false, transposeB: false } as tf.NamedAttrMap,
      }) as TensorInfo;
      if (outShape != null) {
        const reshaped = runKernel(backendName, backend, "Reshape", { x: out }, { shape: outShape });
        backend.disposeData(out.dataId);
        return reshaped;
      }
      return out;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  return { ...stock, kernelFunc, [GM_FIX]: { stock } };
}

/** Installed state of the kernel wrappers, per backend. */
const wrapped = new Map<string, Map<string, tf.KernelConfig | undefined>>();

/**
 * Wraps `BatchMatMul` and `_FusedMatMul` of `backendName` (default wasm) so that transposed forms
 * become an explicit transpose plus a plain matmul. Idempotent. Returns the kernels it wrapped.
 */
export function installMatMulKernelFix(backendName = "wasm"): string[] {
  const done: string[] = [];
  let mine = wrapped.get(backendName);
  for (const kernelName of [tf.BatchMatMul, tf._FusedMatMul]) {
    const current = tf.getKernel(kernelName, backendName) as FixedKernelConfig | undefined;
    if (current == null || current[GM_FIX] != null) continue;
    if (mine == null) {
      mine = new Map();
      wrapped.set(backendName, mine);
    }
    mine.set(kernelName, replaceKernel(makeMatMulWrapper(current, kernelName === tf._FusedMatMul)));
    done.push(`${kernelName}@${backendName}`);
  }
  return done;
}

/** Restores the stock matmul kernels of `backendName` (of every backend when omitted). */
export function uninstallMatMulKernelFix(backendName?: string): void {
  for (const name of backendName == null ? [...wrapped.keys()] : [backendName]) {
    const mine = wrapped.get(name);
    if (mine == null) continue;
    for (const [kernelName, stock] of mine) restoreKernel(kernelName, name, stock);
    wrapped.delete(name);
  }
}

let stockGrad: tf.GradConfig | undefined;
let gradInstalled = false;

/**
 * Re-registers the gradient of `BatchMatMul` (every backend). Idempotent (a second call with the
 * other variant switches to it).
 */
export function installMatMulGradFix(explicitTransposes = false): boolean {
  const config = explicitTransposes ? explicitTransposeGradConfig : batchMatMulGradConfig;
  if (gradInstalled && tf.getGradient(tf.BatchMatMul) === config) return false;
  if (!gradInstalled) stockGrad = tf.getGradient(tf.BatchMatMul);
  tf.registerGradient(config);
  gradInstalled = true;
  return true;
}

export function uninstallMatMulGradFix(): void {
  if (!gradInstalled) return;
  if (stockGrad != null) tf.registerGradient(stockGrad);
  gradInstalled = false;
}
