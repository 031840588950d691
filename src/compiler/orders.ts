/**
 * Visiting orders of LANGUAGE.md §4 over an array's elements. An order is a permutation of
 * flat (row-major, 0-based) indices. For arrays of rank ≥ 2 the first two axes are rows and
 * columns; further axes (channels) stay innermost, so a pixel's channels are visited together.
 * For 1-D arrays every order but `random` is the index order.
 */
import { Rng } from "../rng";
import type { OrderKind } from "./ir";

/** The visiting order: `visit[position] = flat index`. */
export function visitOrder(shape: readonly number[], kind: OrderKind, seed = 1): Int32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(size);
  // `random(seed = s)`: gm's one seeded PRNG (src/rng.ts: the seed is hashed, the draws are
  // unbiased), a Fisher–Yates permutation of the flat indices.
  if (kind === "random") return new Rng(seed).permutation(size);
  if (shape.length < 2 || kind === "raster" || kind === "index") {
    for (let i = 0; i < size; i++) out[i] = i;
    return out;
  }
  const H = shape[0];
  const W = shape[1];
  const inner = size / (H * W);
  const cells: Array<[number, number]> = [];
  switch (kind) {
    case "column":
      for (let c = 0; c < W; c++) for (let r = 0; r < H; r++) cells.push([r, c]);
      break;
    case "snake":
      for (let r = 0; r < H; r++) {
        if (r % 2 === 0) for (let c = 0; c < W; c++) cells.push([r, c]);
        else for (let c = W - 1; c >= 0; c--) cells.push([r, c]);
      }
      break;
    case "zigzag":
      // Anti-diagonals s = r + c; odd s walk down-left (r increasing), even s walk up-right, as JPEG does.
      for (let s = 0; s <= H + W - 2; s++) {
        const rLo = Math.max(0, s - (W - 1));
        const rHi = Math.min(H - 1, s);
        if (s % 2 === 1) for (let r = rLo; r <= rHi; r++) cells.push([r, s - r]);
        else for (let r = rHi; r >= rLo; r--) cells.push([r, s - r]);
      }
      break;
  }
  let p = 0;
  for (const [r, c] of cells) {
    const base = (r * W + c) * inner;
    for (let k = 0; k < inner; k++) out[p++] = base + k;
  }
  return out;
}

/** Inverse of a permutation: `rank[flat] = position`. */
export function inverse(perm: Int32Array): Int32Array {
  const inv = new Int32Array(perm.length);
  for (let i = 0; i < perm.length; i++) inv[perm[i]] = i;
  return inv;
}
