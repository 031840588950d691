/**
 * How a network reads the elements it conditions on (`p(x | y) = mlp(…)`): the one convention
 * the compiler counts with (`inputsPerElement` in src/compiler/count.ts, docs/counting.md).
 *
 *   Bernoulli        → 1 input, the value 0/1
 *   Categorical(k)   → k inputs, one-hot: [y = 0], …, [y = k − 1]
 *   Normal, Real     → 1 input, the value
 *
 * Columns are laid out in the order of the elements given (a factor's context, sorted by
 * element id), each element's inputs together.
 */
import * as tf from "@tensorflow/tfjs";
import type { Domain } from "../../compiler/ir";
import { inputsPerElement } from "../../compiler/count";

/** Inputs one element of `d` takes (the compiler's `inputsPerElement`). */
export function inputWidth(d: Domain): number {
  return inputsPerElement(d);
}

/** The encoding of a list of data columns into a network's inputs. */
export class InputEncoding {
  /** Number of network inputs. */
  readonly width: number;
  /** For each input: the data column it reads. */
  private readonly source: Int32Array;
  /** For each input: the category it tests (one-hot inputs), or −1 (the value itself). */
  private readonly level: Float32Array;
  private readonly sourceTensor: tf.Tensor1D;
  private readonly levelTensor: tf.Tensor1D;
  private readonly plainMask: tf.Tensor1D;
  private readonly anyOneHot: boolean;

  /** `columns[i]` is the data column of the i-th element, `domains[i]` its domain. */
  constructor(
    readonly columns: readonly number[],
    readonly domains: readonly Domain[],
  ) {
    const source: number[] = [];
    const level: number[] = [];
    columns.forEach((c, i) => {
      const d = domains[i];
      if (d.kind === "categorical") {
        for (let o = 0; o < d.k; o++) {
          source.push(c);
          level.push(o);
        }
      } else {
        source.push(c);
        level.push(-1);
      }
    });
    this.width = source.length;
    this.source = Int32Array.from(source);
    this.level = Float32Array.from(level);
    this.anyOneHot = level.some((l) => l >= 0);
    this.sourceTensor = tf.keep(tf.tensor1d(this.source, "int32"));
    this.levelTensor = tf.keep(tf.tensor1d(this.level));
    this.plainMask = tf.keep(tf.tensor1d(this.level.map((l) => (l < 0 ? 1 : 0))));
  }

  /** The inputs of a batch: data [B, D] → [B, width]. Not differentiable in `x` (data). */
  encode(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const g = tf.gather(x, this.sourceTensor, 1) as tf.Tensor2D;
      if (!this.anyOneHot) return g;
      const hot = tf.cast(tf.equal(g, this.levelTensor), "float32");
      // value where the input is plain, [value = level] where it is one-hot
      return tf.add(tf.mul(g, this.plainMask), tf.mul(hot, tf.sub(1, this.plainMask))) as tf.Tensor2D;
    });
  }

  /** The inputs of one data row, in JavaScript. */
  encodeJs(row: ArrayLike<number>, out: Float64Array = new Float64Array(this.width)): Float64Array {
    for (let i = 0; i < this.width; i++) {
      const v = row[this.source[i]];
      out[i] = this.level[i] < 0 ? v : v === this.level[i] ? 1 : 0;
    }
    return out;
  }

  dispose(): void {
    this.sourceTensor.dispose();
    this.levelTensor.dispose();
    this.plainMask.dispose();
  }
}
