/**
 * `gm fid`'s arithmetic (src/models/eval/fid.ts), against closed forms:
 * - the Jacobi eigendecomposition reconstructs random symmetric matrices (V Λ Vᵀ = M, VᵀV = I);
 * - the Fréchet distance is 0 between a Gaussian and itself, symmetric, and equals the closed form
 *   ‖μa − μb‖² + Σ (√a_i − √b_i)² for diagonal covariances rotated by a common orthogonal matrix;
 * - `gaussianOf` matches a direct two-pass mean and unbiased covariance;
 * - the classifier is read back from its cache without training, features follow its weights.
 * Planted by hand and removed: the cross term without its factor 2 (the self-distance came out as
 * tr(Σ) > 0: property 2 failed), covariance divided by n instead of n − 1 (property 3 failed).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../../src/models/backend";
import {
  FID_LAYERS,
  fidClassifier,
  fidFeatures,
  frechetDistance,
  gaussianOf,
  symmetricEigen,
  type Gaussian,
} from "../../../src/models/eval/fid";
import { Rng } from "../../../src/rng";

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true });
});

/** A random orthogonal d × d matrix (Gram–Schmidt on Gaussian columns). */
function orthogonal(d: number, rng: Rng): Float64Array {
  const q = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const v = Float64Array.from({ length: d }, () => rng.normal());
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += v[i] * q[i * d + k];
      for (let i = 0; i < d; i++) v[i] -= dot * q[i * d + k];
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < d; i++) q[i * d + j] = v[i] / norm;
  }
  return q;
}

/** Q diag(λ) Qᵀ. */
function compose(q: Float64Array, lambda: ArrayLike<number>, d: number): Float64Array {
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += q[i * d + k] * lambda[k] * q[j * d + k];
      m[i * d + j] = s;
    }
  return m;
}

const dimArb = fc.integer({ min: 1, max: 12 });

describe("Fréchet distance", () => {
  it("symmetricEigen reconstructs random symmetric matrices", () => {
    fc.assert(
      fc.property(dimArb, fc.integer({ min: 1, max: 10_000 }), (d, seed) => {
        const rng = new Rng(seed);
        const m = compose(
          orthogonal(d, rng),
          Array.from({ length: d }, () => rng.normal() * 3),
          d,
        );
        const { values, vectors } = symmetricEigen(m, d);
        const back = compose(vectors, values, d);
        for (let i = 0; i < d * d; i++)
          expect(Math.abs(back[i] - m[i])).toBeLessThan(1e-9 * (1 + Math.abs(m[i])) + 1e-9);
      }),
      { numRuns: 40 },
    );
  });

  it("is 0 against itself, symmetric, and the closed form for co-rotated diagonal covariances", () => {
    fc.assert(
      fc.property(dimArb, fc.integer({ min: 1, max: 10_000 }), (d, seed) => {
        const rng = new Rng(seed);
        const q = orthogonal(d, rng);
        const la = Array.from({ length: d }, () => rng.uniform() * 4);
        const lb = Array.from({ length: d }, () => rng.uniform() * 4);
        const a: Gaussian = { d, mean: Float64Array.from({ length: d }, () => rng.normal()), cov: compose(q, la, d) };
        const b: Gaussian = { d, mean: Float64Array.from({ length: d }, () => rng.normal()), cov: compose(q, lb, d) };
        let expected = 0;
        for (let i = 0; i < d; i++)
          expected += (a.mean[i] - b.mean[i]) ** 2 + (Math.sqrt(la[i]) - Math.sqrt(lb[i])) ** 2;
        expect(frechetDistance(a, a)).toBeLessThan(1e-7);
        expect(frechetDistance(a, b)).toBeCloseTo(expected, 6);
        expect(frechetDistance(b, a)).toBeCloseTo(frechetDistance(a, b), 6);
      }),
      { numRuns: 40 },
    );
  });

  it("gaussianOf matches a two-pass mean and unbiased covariance", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 1, max: 10_000 }),
        (d, n, seed) => {
          const rng = new Rng(seed);
          const f = Float64Array.from({ length: n * d }, () => rng.normal() * 2 + 1);
          const g = gaussianOf(f, n, d);
          for (let a = 0; a < d; a++) {
            let mean = 0;
            for (let i = 0; i < n; i++) mean += f[i * d + a] / n;
            expect(g.mean[a]).toBeCloseTo(mean, 9);
            for (let b = 0; b < d; b++) {
              let mb = 0;
              for (let i = 0; i < n; i++) mb += f[i * d + b] / n;
              let c = 0;
              for (let i = 0; i < n; i++) c += (f[i * d + a] - mean) * (f[i * d + b] - mb);
              expect(g.cov[a * d + b]).toBeCloseTo(c / (n - 1), 9);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("the feature classifier", () => {
  it("is read back from the cache without training; features are its second hidden layer", () => {
    const dir = mkdtempSync(join(tmpdir(), "gm-fid-"));
    try {
      const count = FID_LAYERS.slice(1).reduce((a, s, i) => a + FID_LAYERS[i] * s + s, 0);
      const rng = new Rng(3);
      const w = Float32Array.from({ length: count }, () => rng.normal() * 0.05);
      writeFileSync(join(dir, "fid-mnist-v1.bin"), Buffer.from(w.buffer));
      writeFileSync(join(dir, "fid-mnist-v1.bin.json"), JSON.stringify({ sizes: FID_LAYERS, accuracy: 0.5 }));
      const cls = fidClassifier("mnist", dir);
      expect(cls.trained).toBe(false);
      expect(cls.accuracy).toBe(0.5);
      const x = Float32Array.from({ length: 2 * 784 }, () => rng.uniform());
      const f = fidFeatures(cls.net, x, 2);
      // by hand from the stored weights: W0 (784×256), b0, W1 (256×128), b1
      const W0 = w.subarray(0, 784 * 256);
      const b0 = w.subarray(784 * 256, 784 * 256 + 256);
      const W1 = w.subarray(784 * 256 + 256, 784 * 256 + 256 + 256 * 128);
      const b1 = w.subarray(784 * 256 + 256 + 256 * 128, 784 * 256 + 256 + 256 * 128 + 128);
      for (let r = 0; r < 2; r++) {
        const h = new Float64Array(256);
        for (let j = 0; j < 256; j++) {
          let s = b0[j];
          for (let i = 0; i < 784; i++) s += x[r * 784 + i] * W0[i * 256 + j];
          h[j] = Math.max(0, s);
        }
        for (let k = 0; k < 128; k += 17) {
          let s = b1[k];
          for (let j = 0; j < 256; j++) s += h[j] * W1[j * 128 + k];
          expect(f[r * 128 + k]).toBeCloseTo(Math.max(0, s), 4);
        }
      }
      cls.net.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      tf.disposeVariables();
    }
  });
});
