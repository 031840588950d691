/**
 * `Slice`, `Unpack` and `SplitV` for wasm without copying the whole input.
 *
 * The stock wasm Slice starts with `backend.readSync(x)`, which copies ALL of x out of the wasm
 * heap into a new JavaScript array, then copies the slice out of that copy; Unpack and SplitV
 * call it once per output. Unstacking a [28, 1792, 256] tensor into its 28 rows took 3.7 s (28
 * copies of 51 MB) — the row loop of a PixelRNN layer. These kernels read the input through a
 * view of the heap (`typedArrayFromHeap`, taken after the output is allocated, since allocation
 * may grow the heap and detach older views) and copy only the slice: one `set` per contiguous
 * run, the runs being as long as the trailing axes that the slice takes whole allow.
 * Strings fall back to the stock kernels.
 */
import * as tf from "@tensorflow/tfjs";
import { GM_FIX, type FixedKernelConfig, type TensorInfo, replaceKernel, restoreKernel } from "./util";

interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Copies x[begin : begin + size] (every axis) into a new output, through heap views. */
function sliceHeap(backend: WasmBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  const shape = x.shape;
  const rank = shape.length;
  if (rank === 0) {
    ov[0] = xv[0];
    return out;
  }
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let a = rank - 2; a >= 0; a--) strides[a] = strides[a + 1] * shape[a + 1];
  // The innermost axis the slice does not take whole: runs cover it and everything after it.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === shape[inner] && begin[inner] === 0) inner--;
  const run = size[inner] * strides[inner];
  const runs = total / run;
  const idx = new Array<number>(inner).fill(0); // position among the outer axes 0..inner−1
  let o = 0;
  for (let r = 0; r < runs; r++) {
    let off = begin[inner] * strides[inner];
    for (let a = 0; a < inner; a++) off += (begin[a] + idx[a]) * strides[a];
    ov.set(xv.subarray(off, off + run), o);
    o += run;
    for (let a = inner - 1; a >= 0; a--) {
      if (++idx[a] < size[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

function makeConfigs(
  stock: { slice?: tf.KernelConfig; unpack?: tf.KernelConfig; splitV?: tf.KernelConfig },
  backendName: string,
): FixedKernelConfig[] {
  const slice: FixedKernelConfig = {
    kernelName: tf.Slice,
    backendName,
    kernelFunc: (args) => {
      const x = args.inputs.x as TensorInfo;
      if (x.dtype === "string") return stock.slice!.kernelFunc(args);
      const at = args.attrs as { begin: number | number[]; size: number | number[] };
      const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, at.begin, at.size);
      return sliceHeap(args.backend as unknown as WasmBackend, x, b, s);
    },
    [GM_FIX]: { stock: stock.slice },
  };
  const unpack: FixedKernelConfig = {
    kernelName: tf.Unpack,
    backendName,
    kernelFunc: (args) => {
      const value = args.inputs.value as TensorInfo;
      if (value.dtype === "string") return stock.unpack!.kernelFunc(args);
      let axis = (args.attrs as { axis: number }).axis;
      if (axis < 0) axis += value.shape.length;
      const outShape = value.shape.filter((_, i) => i !== axis);
      const begin = new Array<number>(value.shape.length).fill(0);
      const size = value.shape.slice();
      size[axis] = 1;
      const outs: TensorInfo[] = [];
      for (let i = 0; i < value.shape[axis]; i++) {
        begin[axis] = i;
        const t = sliceHeap(args.backend as unknown as WasmBackend, value, begin, size);
        outs.push({ dataId: t.dataId, dtype: t.dtype, shape: outShape });
      }
      return outs;
    },
    [GM_FIX]: { stock: stock.unpack },
  };
  const splitV: FixedKernelConfig = {
    kernelName: tf.SplitV,
    backendName,
    kernelFunc: (args) => {
      const x = args.inputs.x as TensorInfo;
      if (x.dtype === "string") return stock.splitV!.kernelFunc(args);
      const at = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
      const axis = tf.util.parseAxisParam(at.axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, at.numOrSizeSplits, axis);
      const begin = new Array<number>(x.shape.length).fill(0);
      return sizes.map((s) => {
        const size = x.shape.slice();
        size[axis] = s;
        const t = sliceHeap(args.backend as unknown as WasmBackend, x, begin, size);
        begin[axis] += s;
        return t;
      });
    },
    [GM_FIX]: { stock: stock.splitV },
  };
  return [slice, unpack, splitV];
}

const replaced = new Map<string, tf.KernelConfig | undefined>(); // `${kernel}@${backend}` → stock

/** Replaces Slice, Unpack and SplitV of `backendName` (wasm); returns the kernels replaced now. */
export function installSliceFix(backendName = "wasm"): string[] {
  const current = (k: string) => tf.getKernel(k, backendName) as FixedKernelConfig | undefined;
  if (current(tf.Slice)?.[GM_FIX] != null) return [];
  const stock = { slice: current(tf.Slice), unpack: current(tf.Unpack), splitV: current(tf.SplitV) };
  if (!stock.slice) return [];
  const done: string[] = [];
  for (const config of makeConfigs(stock, backendName)) {
    replaced.set(`${config.kernelName}@${backendName}`, replaceKernel(config));
    done.push(`${config.kernelName}@${backendName}`);
  }
  return done;
}

/** Restores the stock kernels. */
export function uninstallSliceFix(): void {
  for (const [key, stock] of replaced) {
    const [kernelName, backendName] = key.split("@");
    restoreKernel(kernelName, backendName, stock);
  }
  replaced.clear();
}
