/**
 * The memory estimate bounds how many examples go to the backend at once: `largestBatch` is the
 * largest batch (≤ max) whose estimate fits, and scoring uses it (a PixelRNN scored 500 images at a
 * time aborted the wasm module after its first epoch: "Aborted()", exit 70).
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile";
import { estimateBytes, largestBatch, memoryLimit } from "../../src/models/memory";

const models = ["examples/10-nade.gm", "examples/11-pixelrnn.gm", "examples/12-vae.gm"].flatMap(
  (f) => compileText(readFileSync(f, "utf8"), f, { checks: false }).models,
);

describe("largestBatch", () => {
  it("is the largest batch ≤ max whose estimate fits (or 1)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...models), fc.integer({ min: 1, max: 2000 }), (ir, max) => {
        const b = largestBatch(ir, "wasm", max);
        const limit = BigInt(memoryLimit("wasm"));
        expect(b).toBeGreaterThanOrEqual(1);
        expect(b).toBeLessThanOrEqual(max);
        if (b > 1) expect(estimateBytes(ir, b) <= limit).toBe(true);
        if (b < max) expect(estimateBytes(ir, b + 1) > limit).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it("keeps a PixelRNN's scoring batch below 500 and leaves NADE's at 500", () => {
    const byName = new Map(models.map((m) => [m.name, m]));
    expect(largestBatch(byName.get("PixelRnnBinary")!, "wasm", 500)).toBeLessThan(500);
    expect(largestBatch(byName.get("Nade")!, "wasm", 500)).toBe(500);
  });
});
