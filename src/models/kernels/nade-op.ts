/**
 * NADE's log-likelihood as one TensorFlow.js op with a custom gradient, computed by the fused
 * kernel of ./nade-kernel.ts (wasm SIMD, or JavaScript where wasm is missing) on every backend.
 *
 * Forward: log p per example [B] from the variables' values. Gradient: `gradFunc(dy)` returns
 * ∂(Σ_b dy_b log p_b)/∂(W, c, V, b), recomputing the forward pass inside the kernel (no [B, D, H]
 * tensor is ever stored). x is data: it gets no gradient (it is not an input of the op).
 *
 * Speculation: when the op runs while a gradient tape is recording (inside `tf.variableGrads`,
 * `tf.grads`, …), the forward call already computes the gradient for dy = 1 (one fused pass
 * instead of a forward now and a forward + backward later). The gradient is linear in dy per
 * example, so when dy is the same for every example (a mean or a sum of log p) gradFunc only
 * scales it; any other dy recomputes with the real weights.
 */
import * as tf from "@tensorflow/tfjs";
import { nadeKernel, type NadeGrads, type NadeKernel, type NadeParams } from "./nade-kernel";

export interface NadeOpOptions {
  /** Which kernel: "auto" (wasm where it loads, else js), "wasm", "js", or one given (tests). */
  kernel?: "auto" | "wasm" | "js" | NadeKernel;
  /** Compute the gradient during the forward pass when a tape records (default true). */
  speculate?: boolean;
}

/** Statistics, for tests and benches: kernel calls by kind since the process started. */
export const nadeOpStats = { forward: 0, forwardWithGrad: 0, backward: 0, scaled: 0 };

function tapeIsRecording(): boolean {
  const engine = tf.engine() as unknown as {
    isTapeOn?: () => boolean;
    state?: { gradientDepth?: number; kernelDepth?: number };
  };
  if (typeof engine.isTapeOn === "function") return engine.isTapeOn();
  return (engine.state?.gradientDepth ?? 0) > 0 && (engine.state?.kernelDepth ?? 0) === 0;
}

function asFloat32(a: ArrayLike<number> | Float32Array): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/**
 * Σ_d log p(x_d | x_<d) per example, [B], for NADE with W [H, D], c [H], V [D, H], b [D].
 * `x` is [B, N]; `order` (length D) picks its columns in the factor's order (null: all N = D
 * columns as they are).
 */
export function nadeLogProb(
  x: tf.Tensor2D,
  order: Int32Array | null,
  W: tf.Tensor,
  c: tf.Tensor,
  V: tf.Tensor,
  b: tf.Tensor,
  opts: NadeOpOptions = {},
): tf.Tensor1D {
  const [H, D] = W.shape as [number, number];
  const [B, N] = x.shape;
  if (order ? order.length !== D : N !== D) throw new Error(`nadeLogProb: x has ${N} columns, W has ${D}`);
  const kernel = typeof opts.kernel === "object" ? opts.kernel : nadeKernel(opts.kernel ?? "auto");
  const speculate = (opts.speculate ?? true) && tapeIsRecording();

  const xs = x.dataSync();
  let xo: Float32Array;
  if (order) {
    xo = new Float32Array(B * D);
    for (let i = 0; i < B; i++) {
      const row = i * N;
      const out = i * D;
      for (let d = 0; d < D; d++) xo[out + d] = xs[row + order[d]];
    }
  } else xo = asFloat32(xs);

  const f = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [tW, tc, tV, tb] = inputs as tf.Tensor[];
    const p: NadeParams = {
      D,
      H,
      W: asFloat32(tW.dataSync()),
      c: asFloat32(tc.dataSync()),
      V: asFloat32(tV.dataSync()),
      b: asFloat32(tb.dataSync()),
    };
    let logp: Float32Array;
    let ones: NadeGrads | null = null;
    if (speculate) {
      const r = kernel.logProbAndGrad(p, xo, B, new Float32Array(B).fill(1));
      logp = r.logp;
      ones = r.grads;
      nadeOpStats.forwardWithGrad++;
    } else {
      logp = kernel.logProb(p, xo, B);
      nadeOpStats.forward++;
    }
    const value = tf.tensor1d(logp);
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const g = asFloat32(dy.dataSync());
        let grads: NadeGrads;
        if (ones && g.every((v) => v === g[0])) {
          const s = g[0];
          grads = ones;
          ones = null; // used once; scale in place
          if (s !== 1)
            for (const a of [grads.W, grads.c, grads.V, grads.b]) for (let i = 0; i < a.length; i++) a[i] *= s;
          nadeOpStats.scaled++;
        } else {
          grads = kernel.logProbAndGrad(p, xo, B, g).grads;
          nadeOpStats.backward++;
        }
        return [tf.tensor2d(grads.W, [H, D]), tf.tensor1d(grads.c), tf.tensor2d(grads.V, [D, H]), tf.tensor1d(grads.b)];
      },
    };
  });
  return f(W, c, V, b) as tf.Tensor1D;
}
