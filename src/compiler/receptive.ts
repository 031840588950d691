/**
 * The receptive field of the PixelRNN that gm builds (src/models/networks/pixelrnn.ts), as the
 * parents of every pixel in the compiled graph (docs/counting.md, "PixelRNN's graph").
 *
 * Elements of an H×W×C image are numbered in raster order, p = (r·W + c)·C + ch.
 *
 * - Diagonal BiLSTM: every predecessor. The left-to-right LSTM at (r, c) depends on the states at
 *   (r, c − 1) and (r − 1, c), so on the cone r' ≤ r, c' ≤ c of inputs read one element back; the
 *   right-to-left LSTM, shifted down a row, on r' < r, c' ≥ c. Together: all of x_<p, the chain
 *   rule (structure `prefix`).
 * - Row LSTM with L layers: row r − e (e ≥ 1) through columns c − e − L … min(c + e − 1, W − 2),
 *   and row r through columns c − L … c − 1 (`cone` with reach L). Derivation: a layer's state at (r, c)
 *   reads the states at (r − 1, c − 1 … c + 1), which widens the field by one column a side per
 *   row up; the first layer's masked 1×3 input-to-state convolution reads x(r, c − 1) (mask A:
 *   not the pixel itself), and each later layer (mask B) adds one column to the left. So
 *   D_L(r, c) at row r − e is [c − e − L, c + e − 1], clipped to the image — and to W − 2 on
 *   the right: x(r, W − 1) is read only by a state that would stand at column W, outside the
 *   image, so the last column of a row reaches no later pixel. Everything else — most of the
 *   row to the left, the far right of the rows above, the last column — is the Row LSTM's
 *   blind spot.
 *   With C > 1 channels, hidden units are split into channel groups: a pixel's channel ch sees
 *   the same pixel's channels < ch, and the pixel at column min(c + e, W − 1) of row r − e (the
 *   rightmost state within reach) contributes its channels 0 … C − 2 (its state reads them under
 *   mask A; its last channel is read only by the pixel to its right, outside the triangle).
 */
import type { FactorStructure } from "./ir";

/** The Row LSTM's receptive field over one image (see the file comment). */
export type ConeStructure = Extract<FactorStructure, { kind: "cone" }>;

/** The compiled structure of a `pixelrnn` factor over an H×W×C image. */
export function pixelRnnStructure(
  variant: "row_lstm" | "diagonal_bilstm",
  layers: number,
  width: number,
  channels: number,
): FactorStructure {
  return variant === "diagonal_bilstm" ? { kind: "prefix" } : { kind: "cone", width, channels, reach: layers };
}

/** Calls `fn` with the position (raster index within the image) of each parent of position `p`, in increasing order. */
export function forEachConeParent(s: ConeStructure, p: number, fn: (q: number) => void): void {
  const { width: W, channels: C, reach: L } = s;
  const ch = p % C;
  const c = Math.floor(p / C) % W;
  const r = Math.floor(p / (C * W));
  for (let rr = 0; rr <= r; rr++) {
    const e = r - rr;
    const lo = Math.max(0, c - e - L);
    const hi = Math.min(W - 2, c + e - 1);
    for (let cc = lo; cc <= hi; cc++) for (let k = 0; k < C; k++) fn((rr * W + cc) * C + k);
    // The partial pixel: the same pixel's earlier channels (e = 0), or channels 0..C−2 of
    // column min(c + e, W − 1), the rightmost state of the row within reach (its state reads them).
    const pc = Math.min(c + e, W - 1);
    const upTo = e === 0 ? ch : C - 1;
    for (let k = 0; k < upTo; k++) fn((rr * W + pc) * C + k);
  }
}

/** Number of parents of position `p` (without listing them). */
export function coneParentCount(s: ConeStructure, p: number): number {
  const { width: W, channels: C, reach: L } = s;
  const ch = p % C;
  const c = Math.floor(p / C) % W;
  const r = Math.floor(p / (C * W));
  let n = 0;
  for (let e = 0; e <= r; e++) {
    n += Math.max(0, Math.min(W - 2, c + e - 1) - Math.max(0, c - e - L) + 1) * C;
    n += e === 0 ? ch : C - 1;
  }
  return n;
}

/**
 * Calls `fn` with the position of each child of position `q` among `size` positions, in
 * increasing order: the exact inverse of `forEachConeParent`, read from the same formula
 * instead of an index of every edge. For q at row r', column c', channel k and a child row
 * r = r' + e: at e = 0, the same pixel's later channels and every channel of columns
 * c' + 1 … c' + L; at e ≥ 1, every channel of columns c' − e + 1 … c' + e + L (q is one of
 * their full columns, which stop at W − 2), and of column c' − e too when k < C − 1 (q is
 * that pixel's partial pixel, min(c + e, W − 1) = c'); for q in the last column only the
 * partial-pixel rule applies, to columns W − 1 − e … W − 1. The two rules never name one
 * child twice (a partial pixel lies right of the full columns), and within a row their
 * columns are contiguous, so each row is one run of raster positions.
 */
export function forEachConeChild(s: ConeStructure, q: number, size: number, fn: (p: number) => void): void {
  const { width: W, channels: C, reach: L } = s;
  const k = q % C;
  const c0 = Math.floor(q / C) % W;
  const r0 = Math.floor(q / (C * W));
  const run = (r: number, lo: number, hi: number) => {
    const end = Math.min(size, (r * W + hi) * C + C);
    for (let p = (r * W + lo) * C; p < end; p++) fn(p);
  };
  // Row r': the pixel's own later channels, then the columns it is a full parent of.
  for (let ch = k + 1; ch < C && (r0 * W + c0) * C + ch < size; ch++) fn((r0 * W + c0) * C + ch);
  if (c0 <= W - 2) run(r0, c0 + 1, Math.min(W - 1, c0 + L));
  for (let r = r0 + 1; r * W * C < size; r++) {
    const e = r - r0;
    if (c0 <= W - 2) {
      const lo = k < C - 1 && c0 - e >= 0 ? c0 - e : Math.max(0, c0 - e + 1);
      const hi = Math.min(W - 1, c0 + e + L);
      if (lo <= hi) run(r, lo, hi);
    } else if (k < C - 1) run(r, Math.max(0, W - 1 - e), W - 1);
  }
}
