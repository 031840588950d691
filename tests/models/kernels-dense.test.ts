/**
 * kernels/dense.ts (`GmDenseMatMul`, the product of every Mlp layer):
 * - its value and both gradients, on wasm and on cpu, equal tf.matMul's under cpu autograd for
 *   random shapes (tolerance |a − b| ≤ 1e-4·(1 + |b|));
 * - its gradient is lazy: differentiating only the weights of `data · W` runs no product for the
 *   data's gradient (one product forward, one backward), where a tf.customGrad runs two.
 * Planted bugs (each made this file fail, then was removed):
 * - `a: () => matMul(g, b, false, false)` (Wᵀ dropped in da): the gradient property failed after
 *   1 run ("inner shapes (2) and (1) of Tensors with shapes 1,2 and 1,2 … must match"), and so did
 *   the Mlp test;
 * - da computed eagerly (`const da = matMul(g, b, false, true); return { a: () => da, … }`): the
 *   laziness test counted 3 BatchMatMul calls instead of 2.
 */
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/models/backend";
import { denseMatMulOp } from "../../src/models/kernels/dense";
import { denseMatMul, Mlp } from "../../src/models/networks/mlp";
import { expectClose } from "./backends";
import { values } from "./random";

const RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 25);

/** The output and the gradients of Σ w ⊙ f(a, b) in a and b. */
async function valueAndGrads(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  f: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor,
): Promise<Float32Array[]> {
  const at = tf.tensor2d(a, [m, k]);
  const bt = tf.tensor2d(b, [k, n]);
  const w = tf.tensor2d(values(m * n, 99), [m, n]);
  const out = f(at, bt);
  const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor2D, y as tf.Tensor2D), w)))([
    at,
    bt,
  ]);
  const r = [(await out.data()) as Float32Array, (await ga.data()) as Float32Array, (await gb.data()) as Float32Array];
  tf.dispose([at, bt, w, out, ga, gb]);
  return r;
}

beforeAll(async () => {
  await initBackend("wasm", { threads: 1, quiet: true }); // installs the kernel fixes, as gm does
  await tf.setBackend("cpu");
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
});

describe("GmDenseMatMul", () => {
  it("value and both gradients equal tf.matMul under cpu autograd (wasm and cpu)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom("wasm", "cpu"),
        async (m, k, n, seed, backend) => {
          const a = values(m * k, seed);
          const b = values(k * n, seed + 1);
          await tf.setBackend("cpu");
          const want = await valueAndGrads(a, b, m, k, n, (x, y) => tf.matMul(x, y));
          await tf.setBackend(backend);
          const got = await valueAndGrads(a, b, m, k, n, denseMatMulOp);
          await tf.setBackend("cpu");
          ["value", "d/da", "d/db"].forEach((what, i) =>
            expectClose(got[i], want[i], `${what} of [${m}, ${k}]·[${k}, ${n}] on ${backend}`),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("an Mlp's output and variable gradients on wasm equal cpu", async () => {
    const x = values(6 * 5, 3);
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const net = new Mlp("dense-test", [5, 7, 4], { seed: 11 });
      const xt = tf.tensor2d(x, [6, 5]);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(net.apply(xt))) as tf.Scalar, net.variables);
      const out = [
        (await value.data()) as Float32Array,
        ...(await Promise.all(net.variables.map((v) => grads[v.name].data() as Promise<Float32Array>))),
      ];
      tf.dispose([xt, value, ...Object.values(grads)]);
      net.dispose();
      return out;
    };
    const want = await run("cpu");
    const got = await run("wasm");
    await tf.setBackend("cpu");
    want.forEach((w, i) => expectClose(got[i], w, `output/gradient ${i}`));
  });

  it("computes no gradient for an input that needs none (data · W)", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor2d(values(8 * 6, 5), [8, 6]);
    const W = tf.variable(tf.tensor2d(values(6 * 3, 6), [6, 3]), true, "dense-test/lazy/w");
    const count = async (f: () => tf.Scalar) => {
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(f, [W]);
        tf.dispose([value, ...Object.values(grads)]);
      });
      // The forward GmDenseMatMul runs its BatchMatMul inside the kernel: counted as one product.
      return info.kernels.filter((k) => k.name === tf.BatchMatMul || k.name === "GmDenseMatMul").length;
    };
    // tf.customGrad, as denseMatMul was before: both input gradients computed.
    const eager = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      save([a, b]);
      return {
        value: tf.matMul(a, b),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], [sa, sb]: tf.Tensor[]) => [
          tf.matMul(dy as tf.Tensor, sb, false, true),
          tf.matMul(sa, dy as tf.Tensor, true, false),
        ],
      };
    });
    const lazy = await count(() => tf.sum(denseMatMul(x, W)) as tf.Scalar);
    const stock = await count(() => tf.sum(eager(x, W) as tf.Tensor) as tf.Scalar);
    tf.dispose([x, W]);
    await tf.setBackend("cpu");
    expect(lazy, "products in forward + backward of data · W").toBe(2);
    expect(stock, "the same under tf.customGrad").toBe(3);
  });
});
