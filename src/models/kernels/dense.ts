/**
 * `denseMatMulOp`: a 2-D product y = a·b ([M, K]·[K, N] → [M, N]) registered as its own kernel,
 * `GmDenseMatMul`, so that its gradient is *lazy*:
 *
 *   da = dy · bᵀ        db = aᵀ · dy        (each an explicit transpose then a plain matmul)
 *
 * tf's backpropagation (tape.js) calls an input's gradient thunk only when that input lies on a
 * path from a differentiated variable, whereas `tf.customGrad` computes every input's gradient
 * eagerly. In a network's first layer the input is data: with `customGrad` its gradient
 * dy·Wᵀ ([B, H]·[H, D], for the VAE's encoder 100·400·784·2 = 63 MFLOP, a sixth of the step's
 * products) was computed and thrown away every step; here it is never computed.
 *
 * The forward kernel runs the backend's own `BatchMatMul` on [1, M, K]·[1, K, N] views (looked up
 * at call time, so the project's matmul kernel fix — when installed — still applies), and is
 * registered lazily for whatever backend is current on first use (cpu, wasm, or any other).
 */
import * as tf from "@tensorflow/tfjs";
import { matMul } from "./matmul";
import { type KernelBackend, type TensorInfo, runKernel } from "./util";

/** The kernel name of {@link denseMatMulOp}. */
export const DENSE_MATMUL = "GmDenseMatMul";

function denseKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: DENSE_MATMUL,
    backendName,
    kernelFunc: ({ inputs, backend: anyBackend }) => {
      const backend = anyBackend as KernelBackend;
      const a = inputs.a as TensorInfo;
      const b = inputs.b as TensorInfo;
      const [M, K] = a.shape;
      const N = b.shape[1];
      const temps: TensorInfo[] = [];
      try {
        const a3 = runKernel(backendName, backend, "Reshape", { x: a }, { shape: [1, M, K] });
        temps.push(a3);
        const b3 = runKernel(backendName, backend, "Reshape", { x: b }, { shape: [1, K, N] });
        temps.push(b3);
        const y3 = runKernel(
          backendName,
          backend,
          tf.BatchMatMul,
          { a: a3, b: b3 },
          { transposeA: false, transposeB: false },
        );
        temps.push(y3);
        return runKernel(backendName, backend, "Reshape", { x: y3 }, { shape: [M, N] });
      } finally {
        for (const t of temps) backend.disposeData(t.dataId);
      }
    },
  };
}

/** The gradient: one thunk per input, each run only when that input needs a gradient. */
export const denseMatMulGradConfig: tf.GradConfig = {
  kernelName: DENSE_MATMUL,
  inputsToSave: ["a", "b"],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const g = dy as tf.Tensor2D;
    const [a, b] = saved;
    return {
      a: () => matMul(g, b, false, true),
      b: () => matMul(a, g, true, false),
    };
  },
};

let gradRegistered = false;

/** Registers the kernel for `backendName` (and the gradient, once). Idempotent. */
export function ensureDenseMatMul(backendName: string = tf.getBackend()): void {
  if (tf.getKernel(DENSE_MATMUL, backendName) == null) tf.registerKernel(denseKernel(backendName));
  if (!gradRegistered || tf.getGradient(DENSE_MATMUL) == null) {
    tf.registerGradient(denseMatMulGradConfig);
    gradRegistered = true;
  }
}

/**
 * a·b for 2-D float tensors, differentiable in both, with a lazy gradient (see the file's
 * comment): the product of an input that needs no gradient (data) is never computed.
 */
export function denseMatMulOp(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
    throw new Error(`denseMatMul: shapes [${a.shape}] and [${b.shape}] do not multiply`);
  }
  ensureDenseMatMul();
  return tf.engine().runKernel(DENSE_MATMUL, { a, b } as unknown as tf.NamedTensorMap, {}) as tf.Tensor2D;
}
