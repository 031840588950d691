/**
 * Small differentiable building blocks shared by the families, written to avoid the kernels
 * TensorFlow.js's wasm backend lacks (../shared/BACKEND-FACTS.md): no gradient of `gather`
 * (UnsortedSegmentSum), a wrong `cumsum` gradient off the last axis.
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Scatters a packed parameter vector into a dense [rows, cols] matrix (zeros elsewhere).
 * `positions[i]` is the flat dense position of packed entry i. Forward and backward are both
 * plain `gather`s, so no gather gradient is needed: d(dense)/d(packed) just reads the
 * positions back. This keeps a sparse weight matrix (FVSBN's triangle, a pruned parent set)
 * with exactly as many trainable numbers as it has free weights.
 */
export class Embedding {
  private readonly positions: Int32Array;
  constructor(
    readonly rows: number,
    readonly cols: number,
    positions: Int32Array,
  ) {
    this.positions = positions;
  }

  /** The dense matrix for `packed` (differentiable in `packed`). */
  apply(packed: tf.Tensor1D): tf.Tensor2D {
    const { positions, rows, cols } = this;
    // NOTE: the scatter and its gradient (a gather) run in JS on the typed arrays: the wasm
    // backend's GatherV2 took ~50 ms for FVSBN's 307k weights, the JS loop well under 2 ms.
    const f = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const p = (inputs[0] as tf.Tensor).dataSync();
      const dense = new Float32Array(rows * cols);
      for (let i = 0; i < positions.length; i++) dense[positions[i]] = p[i];
      const value = tf.tensor2d(dense, [rows, cols]);
      return {
        value,
        gradFunc: (dy: tf.Tensor) => {
          const g = dy.dataSync();
          const out = new Float32Array(positions.length);
          for (let i = 0; i < positions.length; i++) out[i] = g[positions[i]];
          return tf.tensor1d(out);
        },
      };
    });
    return f(packed) as tf.Tensor2D;
  }

  dispose(): void {
    /* nothing held on the backend */
  }
}

/** log σ(l) for x = 1 and log(1 − σ(l)) for x = 0, summed over columns: [B]. */
export function bernoulliLogProb(logits: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    // log σ(l) = −softplus(−l); log(1 − σ(l)) = −softplus(l)
    const pos = tf.softplus(tf.neg(logits));
    const neg = tf.softplus(logits);
    return tf.neg(tf.add(tf.mul(x, pos), tf.mul(tf.sub(1, x), neg))).sum(1) as tf.Tensor1D;
  });
}

/** Numerically stable σ for JS-side sampling. */
export function sigmoid(l: number): number {
  return l >= 0 ? 1 / (1 + Math.exp(-l)) : Math.exp(l) / (1 + Math.exp(l));
}
