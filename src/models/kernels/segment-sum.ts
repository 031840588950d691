/**
 * `UnsortedSegmentSum` for the wasm backend, which does not register it. `tf.gather`'s gradient
 * (and so `tf.layers.embedding` training) needs it.
 *
 * Implemented on the JS side: the inputs are read out of the wasm heap, summed in a typed array
 * (O(size of x), one pass) and written back. A one-hot matmul would use XNNPACK but costs
 * O(segments × size of x); for embedding tables the plain loop is the faster of the two.
 */
import * as tf from "@tensorflow/tfjs";
import { GM_FIX, type FixedKernelConfig, type TensorInfo, sizeOf } from "./util";

type WasmLikeBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): TensorInfo;
};

export function unsortedSegmentSumJs(
  x: tf.TypedArray,
  xShape: readonly number[],
  ids: ArrayLike<number>,
  idsRank: number,
  numSegments: number,
  dtype: tf.DataType,
): { values: Float32Array | Int32Array; shape: number[] } {
  const inner = sizeOf(xShape.slice(idsRank));
  const shape = [numSegments, ...xShape.slice(idsRank)];
  const out = dtype === "int32" ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  const n = ids.length;
  for (let i = 0; i < n; i++) {
    const s = ids[i];
    // TensorFlow drops ids outside [0, numSegments).
    if (!(s >= 0 && s < numSegments)) continue;
    const o = s * inner;
    const p = i * inner;
    for (let j = 0; j < inner; j++) out[o + j] += x[p + j];
  }
  return { values: out, shape };
}

export function makeUnsortedSegmentSumConfig(backendName = "wasm"): FixedKernelConfig {
  return {
    kernelName: tf.UnsortedSegmentSum,
    backendName,
    kernelFunc: ({ inputs, backend: anyBackend, attrs }) => {
      const backend = anyBackend as WasmLikeBackend;
      const x = inputs.x as TensorInfo;
      const segmentIds = inputs.segmentIds as TensorInfo;
      const numSegments = Number((attrs as Record<string, unknown>).numSegments);
      if (x.dtype !== "float32" && x.dtype !== "int32") {
        throw new Error(`UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
      }
      const xv = backend.readSync(x.dataId) as tf.TypedArray;
      const ids = backend.readSync(segmentIds.dataId) as tf.TypedArray;
      const { values, shape } = unsortedSegmentSumJs(xv, x.shape, ids, segmentIds.shape.length, numSegments, x.dtype);
      return backend.makeOutput(shape, x.dtype, undefined, values);
    },
    [GM_FIX]: { stock: undefined },
  };
}
