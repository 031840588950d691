/**
 * Image resizing on plain float arrays (row-major H × W × C).
 *
 * Each axis is resampled separately: when an axis shrinks, every output pixel
 * is the area average of the source pixels it covers (fractional overlaps are
 * weighted by their length); when it grows, values are interpolated
 * bilinearly with pixel centres at (i + 0.5)·in/out - 0.5, clamped at the
 * borders; an unchanged axis is copied. All weights of an output pixel sum
 * to 1, so a constant image stays constant.
 */
import { DataError } from "./errors.js";
import { formatShape, type Dataset } from "./dataset.js";

/** Taps of a 1-D resampling: output i uses src[idx[k]]·w[k] for k in start[i]..start[i+1]-1. */
export interface AxisWeights {
  /** Offsets into `idx`/`w` for each output index (length out + 1). */
  start: Int32Array;
  /** Source indices. */
  idx: Int32Array;
  /** Weights (summing to 1 per output index). */
  w: Float64Array;
}

/**
 * 1-D resampling weights from `inSize` to `outSize` samples: area averaging
 * when shrinking, bilinear interpolation when enlarging, identity otherwise.
 */
export function axisWeights(inSize: number, outSize: number): AxisWeights {
  const idx: number[] = [];
  const w: number[] = [];
  const start = new Int32Array(outSize + 1);
  if (outSize === inSize) {
    for (let i = 0; i < outSize; i++) {
      idx.push(i);
      w.push(1);
      start[i + 1] = idx.length;
    }
  } else if (outSize < inSize) {
    const scale = inSize / outSize;
    for (let i = 0; i < outSize; i++) {
      const a = i * scale;
      const b = Math.min(inSize, (i + 1) * scale);
      const j0 = Math.floor(a);
      const j1 = Math.min(inSize, Math.ceil(b));
      for (let j = j0; j < j1; j++) {
        const overlap = Math.min(b, j + 1) - Math.max(a, j);
        if (overlap > 1e-12) {
          idx.push(j);
          w.push(overlap / scale);
        }
      }
      start[i + 1] = idx.length;
    }
  } else {
    const scale = inSize / outSize;
    for (let i = 0; i < outSize; i++) {
      let s = (i + 0.5) * scale - 0.5;
      if (s < 0) s = 0;
      if (s > inSize - 1) s = inSize - 1;
      const j0 = Math.floor(s);
      const f = s - j0;
      idx.push(j0);
      w.push(1 - f);
      if (f > 0 && j0 + 1 < inSize) {
        idx.push(j0 + 1);
        w.push(f);
      }
      start[i + 1] = idx.length;
    }
  }
  return { start, idx: Int32Array.from(idx), w: Float64Array.from(w) };
}

/**
 * Resizes an image given row by row: `getRow(y, row)` must fill `row`
 * (length w·c) with source row y. Returns the outH × outW × c result. Only
 * one source row is held at a time, so very large photos need little memory.
 */
export function resizeRows(
  getRow: (y: number, row: Float32Array) => void,
  h: number,
  w: number,
  c: number,
  outH: number,
  outW: number,
): Float32Array {
  for (const [label, v] of [
    ["height", h],
    ["width", w],
    ["output height", outH],
    ["output width", outW],
    ["channels", c],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new DataError("D0405", `resize: ${label} must be a positive integer, got ${v}`);
  }
  const hw = axisWeights(w, outW);
  const vw = axisWeights(h, outH);
  // Horizontal pass: h × outW × c.
  const mid = new Float32Array(h * outW * c);
  const row = new Float32Array(w * c);
  const acc = new Float64Array(c);
  for (let y = 0; y < h; y++) {
    getRow(y, row);
    const base = y * outW * c;
    for (let i = 0; i < outW; i++) {
      acc.fill(0);
      for (let k = hw.start[i]; k < hw.start[i + 1]; k++) {
        const off = hw.idx[k] * c;
        const wk = hw.w[k];
        for (let ch = 0; ch < c; ch++) acc[ch] += row[off + ch] * wk;
      }
      for (let ch = 0; ch < c; ch++) mid[base + i * c + ch] = acc[ch];
    }
  }
  // Vertical pass: outH × outW × c.
  const rowLen = outW * c;
  const out = new Float32Array(outH * rowLen);
  const accRow = new Float64Array(rowLen);
  for (let i = 0; i < outH; i++) {
    accRow.fill(0);
    for (let k = vw.start[i]; k < vw.start[i + 1]; k++) {
      const off = vw.idx[k] * rowLen;
      const wk = vw.w[k];
      for (let j = 0; j < rowLen; j++) accRow[j] += mid[off + j] * wk;
    }
    out.set(accRow, i * rowLen);
  }
  return out;
}

/** Resizes one row-major h × w × c image to outH × outW × c (see module doc). */
export function resizeImage(
  src: Float32Array,
  h: number,
  w: number,
  c: number,
  outH: number,
  outW: number,
): Float32Array {
  if (src.length !== h * w * c) {
    throw new DataError("D0405", `resize: image has ${src.length} values, expected ${h}×${w}×${c} = ${h * w * c}`);
  }
  if (outH === h && outW === w) return src.slice();
  const rl = w * c;
  return resizeRows((y, row) => row.set(src.subarray(y * rl, (y + 1) * rl)), h, w, c, outH, outW);
}

/**
 * Resizes every example of an image dataset (per-example shape [H, W] or
 * [H, W, C]) to [size[0], size[1]] (channels unchanged). Values stay within
 * the range of the input; the kind becomes `intensity` unless the size is
 * unchanged (levels/binary data are no longer integers after averaging).
 */
export function resizeDataset(ds: Dataset, size: readonly number[]): Dataset {
  if (ds.shape.length !== 2 && ds.shape.length !== 3) {
    throw new DataError(
      "D0401",
      `cannot resize "${ds.name}": per-example shape ${formatShape(ds.shape)} is not an image shape [H, W] or [H, W, C]`,
    );
  }
  if (size.length < 2 || !size.slice(0, 2).every((s) => Number.isInteger(s) && s >= 1)) {
    throw new DataError("D0402", `image size must be [height, width] with positive integers, got ${formatShape(size)}`);
  }
  const [h, w] = ds.shape;
  const c = ds.shape.length === 3 ? ds.shape[2] : 1;
  const [oh, ow] = size;
  if (oh === h && ow === w) {
    const same: Dataset = { ...ds, x: ds.x.slice(), shape: ds.shape.slice() };
    if (ds.labels) same.labels = ds.labels.slice();
    return same;
  }
  const d = h * w * c;
  const od = oh * ow * c;
  const x = new Float32Array(ds.n * od);
  for (let k = 0; k < ds.n; k++) {
    x.set(resizeImage(ds.x.subarray(k * d, (k + 1) * d), h, w, c, oh, ow), k * od);
  }
  // Averaged binary data are intensities in [0, 1]; averaged levels data are
  // intensities in [0, levels-1] (recorded in `range`).
  const out: Dataset = {
    name: ds.name,
    x,
    n: ds.n,
    shape: ds.shape.length === 3 ? [oh, ow, c] : [oh, ow],
    kind: "intensity",
  };
  if (ds.kind === "levels") out.range = [0, (ds.levels ?? 2) - 1];
  else if (ds.range) out.range = [ds.range[0], ds.range[1]];
  if (ds.labels) out.labels = ds.labels.slice();
  return out;
}
