/**
 * A Row LSTM's children by formula (`forEachConeChild`) against the index that graph.ts built
 * before it: every parent list of `forEachConeParent`, inverted. For random widths, channels,
 * reaches and heights (and a last row cut short), each position's children must be exactly the
 * inverted list, in the same increasing order (a d-separation trail depends on that order).
 *
 * Planted bug (then removed): the full-column rule's left edge written `c0 - e + 2` instead of
 * `c0 - e + 1` in receptive.ts; the property failed on its first counterexample (fixed seed 7,
 * shrunk to W = 2, C = 1, L = 0, H = 2).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { forEachConeChild, forEachConeParent, type ConeStructure } from "../../src/compiler/receptive.js";

/** Children of every position, by inverting the parent lists (the old index). */
function inverted(s: ConeStructure, size: number): number[][] {
  const out: number[][] = Array.from({ length: size }, () => []);
  for (let p = 0; p < size; p++) forEachConeParent(s, p, (q) => out[q].push(p));
  return out;
}

describe("forEachConeChild", () => {
  it("is the exact inverse of forEachConeParent, in increasing order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 5 }),
        (W, C, L, H, cut) => {
          const s: ConeStructure = { kind: "cone", width: W, channels: C, reach: L };
          const size = Math.max(1, H * W * C - Math.min(cut, W * C - 1));
          const want = inverted(s, size);
          for (let q = 0; q < size; q++) {
            const got: number[] = [];
            forEachConeChild(s, q, size, (p) => got.push(p));
            expect(got).toEqual(want[q]);
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it("on a 28 × 28 binary image with two layers, gives x[14, 14]'s children row by row", () => {
    const s: ConeStructure = { kind: "cone", width: 28, channels: 1, reach: 2 };
    const q = 13 * 28 + 13;
    const got: number[] = [];
    forEachConeChild(s, q, 784, (p) => got.push(p));
    expect(got).toEqual(inverted(s, 784)[q]);
    // 0-based, c0 = 13, L = 2, one channel (so no partial pixel): row 13 (e = 0) columns 14, 15;
    // row 14 (e = 1) columns 13 … 16; row 15 (e = 2) columns 12 … 17 — c0 − e + 1 … c0 + e + L.
    const at = (r: number, c: number) => r * 28 + c;
    expect(got.slice(0, 12)).toEqual([
      at(13, 14),
      at(13, 15),
      at(14, 13),
      at(14, 14),
      at(14, 15),
      at(14, 16),
      at(15, 12),
      at(15, 13),
      at(15, 14),
      at(15, 15),
      at(15, 16),
      at(15, 17),
    ]);
  });
});
