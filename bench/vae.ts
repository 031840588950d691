/**
 * A 784-400-20 VAE training step written with tf ops, for the `throughput` bench. The same
 * network as the PyTorch reference (reference/torch_reference.py):
 *
 *   encoder  x (784) → 400 relu → μ (20), log σ² (20)
 *   z = μ + exp(½ log σ²) · ε
 *   decoder  z (20) → 400 relu → 784 logits
 *   loss     (BCE-with-logits(logits, x) summed + KL(q(z|x) ‖ N(0, I))) / batch,  Adam(1e-3)
 *
 * Dense layers go through the project's `matMul` (src/models/kernels), whose gradient is plain
 * 2-D matmuls with explicit transposes — the route that is fast on wasm. Weights follow
 * PyTorch's nn.Linear initialisation (uniform ±1/√fan_in) so both start alike.
 */
import * as tf from "@tensorflow/tfjs";
import { matMul } from "../src/models/kernels/index";

export interface VaeStep {
  /** One Adam step on `x` ([B, 784], 0/1); resolves to the loss. */
  step(x: tf.Tensor2D): Promise<number>;
  readonly variables: tf.Variable[];
  dispose(): void;
}

function linear(fanIn: number, fanOut: number, name: string): { w: tf.Variable; b: tf.Variable } {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    w: tf.variable(tf.randomUniform([fanIn, fanOut], -bound, bound, "float32", 1), true, `vae/${name}/w`),
    b: tf.variable(tf.randomUniform([fanOut], -bound, bound, "float32", 2), true, `vae/${name}/b`),
  };
}

export function makeVae(D = 784, H = 400, Z = 20, lr = 1e-3): VaeStep {
  const enc = linear(D, H, "enc");
  const mu = linear(H, Z, "mu");
  const lv = linear(H, Z, "logvar");
  const dec1 = linear(Z, H, "dec1");
  const dec2 = linear(H, D, "dec2");
  const layers = [enc, mu, lv, dec1, dec2];
  const variables = layers.flatMap((l) => [l.w, l.b]);
  const opt = tf.train.adam(lr);
  const dense = (x: tf.Tensor, l: { w: tf.Variable; b: tf.Variable }) => tf.add(matMul(x, l.w), l.b);

  const loss = (x: tf.Tensor2D): tf.Scalar => {
    const B = x.shape[0];
    const h = tf.relu(dense(x, enc));
    const m = dense(h, mu);
    const logvar = dense(h, lv);
    const z = tf.add(m, tf.mul(tf.exp(tf.mul(logvar, 0.5)), tf.randomNormal([B, Z])));
    const logits = dense(tf.relu(dense(z, dec1)), dec2);
    // BCE with logits, summed: softplus(l) − x·l
    const rec = tf.sum(tf.sub(tf.softplus(logits), tf.mul(x, logits)));
    const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logvar), tf.square(m)), tf.exp(logvar))));
    return tf.div(tf.add(rec, kl), B) as tf.Scalar;
  };

  return {
    variables,
    async step(x) {
      // As gm's Trainer: variableGrads, read the loss, then Adam's applyGradients.
      const { value, grads } = tf.variableGrads(() => loss(x), variables);
      const l = (await value.data())[0];
      value.dispose();
      opt.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
      tf.dispose(grads);
      return l;
    },
    dispose() {
      tf.dispose(variables);
      opt.dispose();
    },
  };
}

/** The 784-400-20 VAE as gm writes it (examples/12-vae.gm's structure, hidden = [400], d = 20). */
export const VAE_GM = `model Vae {
  latent z : Normal[20]
  x : Bernoulli[28, 28]
  p(z) = normal
  p(x | z) = mlp(hidden = [400])
  q(z | x) = mlp(hidden = [400])
  fit elbo
}
`;

/**
 * The real VAE family trained by the real loop: the model is compiled from {@link VAE_GM}, built by
 * `buildModel` (src/models/registry.ts → vae.ts + latent.ts on networks/mlp.ts) and trained by
 * src/models/fit.ts's `Fitter` over `data` (n × 784) for one epoch of `warmup + steps` batches. The
 * time of a step is the time between two of the Fitter's `onBatch` calls: the batch copy, the
 * forward and backward pass, the loss read-back and Adam, exactly as `gm train` runs them.
 * Resolves to the timed steps' wall milliseconds (warm-up steps dropped), their CPU milliseconds
 * (user + system of the whole process, every thread: on a loaded machine the figure that other
 * work disturbs least) and the last loss.
 */
export async function timeFamilyVae(
  data: Float32Array,
  batch: number,
  warmup: number,
  steps: number,
  lr = 1e-3,
): Promise<{ ms: number[]; cpuMs: number[]; lastLoss: number }> {
  const { compileText } = await import("../src/compiler/compile");
  const { buildModel } = await import("../src/models/registry");
  const { Fitter } = await import("../src/models/fit");
  const ir = compileText(VAE_GM, "<bench>", { checks: false }).models[0];
  const model = buildModel(ir, { seed: 1 });
  const D = 784;
  const n = (warmup + steps) * batch;
  if (data.length < n * D) throw new Error(`timeFamilyVae: need ${n} images, got ${data.length / D}`);
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let last = 0;
  let lastCpu = 0;
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let lastLoss = NaN;
  const fitter = new Fitter({
    objective: model.objective({ lr }),
    train: { x: data.subarray(0, n * D), n },
    // No held-out set: the epoch-end evaluation (which then reports NaN metrics, so the Fitter
    // returns "diverged" after the last batch) adds nothing to the timed steps or the profile.
    test: { x: new Float32Array(0), n: 0 },
    dim: D,
    epochs: 1,
    batch,
    lr,
    seed: 1,
    onEpochStart: () => {
      last = performance.now();
      lastCpu = cpuNow();
    },
    onBatch: (info) => {
      const now = performance.now();
      const cpu = cpuNow();
      ms.push(now - last);
      cpuMs.push(cpu - lastCpu);
      last = now;
      lastCpu = cpu;
      lastLoss = Object.values(info.losses)[0];
    },
  });
  try {
    await fitter.run();
  } finally {
    fitter.dispose();
    model.dispose();
  }
  return { ms: ms.slice(warmup), cpuMs: cpuMs.slice(warmup), lastLoss };
}

// ---------------------------------------------------------------------------------------------
// Command line (figures for docs/benchmarks.md's VAE section; never assertions):
//   node --import tsx bench/vae.ts step [old|lazy|fused]   one VAE family run: wall and CPU ms per step
//       old:   the products through a tf.customGrad (every input's gradient computed) + tf's Adam
//       lazy:  GmDenseMatMul's lazy gradient (kernels/dense.ts) + tf's Adam
//       fused: lazy + the fused wasm Adam (kernels/adam.ts) — what gm runs (default)
//   node --import tsx bench/vae.ts products   CPU ms of each of the step's 11 matrix products alone
//   node --import tsx bench/vae.ts adam       CPU ms of one Adam update of the VAE's variables, tf vs fused
// GM_WASM_THREADS=2 runs them on the threaded wasm build.

async function cli(argv: string[]): Promise<void> {
  const { machine, median, randomImages, withBackend } = await import("./common");
  await withBackend(machine());
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const what = argv[0] ?? "step";
  if (what === "step") {
    const variant = argv[1] ?? "fused";
    if (variant === "old" || variant === "lazy") {
      const { FusedAdamOptimizer } = await import("../src/models/kernels/adam");
      FusedAdamOptimizer.prototype.applyGradients = tf.AdamOptimizer.prototype.applyGradients;
    }
    if (variant === "old") {
      const { Mlp, activate } = await import("../src/models/networks/mlp");
      const dm = (a: tf.Tensor2D, b: tf.Tensor2D) =>
        tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
          const [x, w, save] = inputs as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
          save([x, w]);
          return {
            value: tf.matMul(x, w),
            gradFunc: (dy: tf.Tensor | tf.Tensor[], s: tf.Tensor[]) => [
              matMul(dy as tf.Tensor, s[1], false, true),
              matMul(s[0], dy as tf.Tensor, true, false),
            ],
          };
        })(a, b) as tf.Tensor2D;
      Mlp.prototype.apply = function (this: InstanceType<typeof Mlp>, x: tf.Tensor2D) {
        return tf.tidy(() => {
          let h: tf.Tensor2D = x;
          const L = this.weights.length;
          for (let l = 0; l < L; l++) {
            h = tf.add(dm(h, this.weights[l] as tf.Tensor2D), this.biases[l]) as tf.Tensor2D;
            if (l < L - 1) h = activate(h, this.activation);
          }
          return h;
        });
      };
    }
    const { ms, cpuMs } = await timeFamilyVae(randomImages(2300, 784, 0.13, 12345), 100, 3, 20);
    console.log(
      `gm ${variant} (${process.env.GM_WASM_THREADS ?? "default"} threads): wall median ${r1(median(ms))} min ${r1(Math.min(...ms))} | CPU median ${r1(median(cpuMs))} min ${r1(Math.min(...cpuMs))} ms/step`,
    );
  } else if (what === "products") {
    const P = [
      [100, 784, 400],
      [100, 400, 40],
      [100, 20, 400],
      [100, 400, 784],
      [784, 100, 400],
      [400, 100, 40],
      [20, 100, 400],
      [400, 100, 784],
      [100, 40, 400],
      [100, 400, 20],
      [100, 784, 400],
    ];
    let total = 0;
    let flops = 0;
    for (const [M, K, N] of P) {
      const a = tf.randomNormal([M, K]);
      const ts: number[] = [];
      for (let r = 0; r < 25; r++) {
        const b = tf.randomNormal([K, N]); // a fresh b every time, as in training
        const c0 = cpu();
        const y = tf.matMul(a, b);
        y.dataSync();
        ts.push(cpu() - c0);
        tf.dispose([y, b]);
      }
      const med = median(ts);
      total += med;
      flops += 2 * M * K * N;
      console.log(`[${M}, ${K}]·[${K}, ${N}]: ${med.toFixed(2)} ms CPU, ${r1((2 * M * K * N) / med / 1e6)} GFLOP/s`);
      a.dispose();
    }
    console.log(
      `all 11 products: ${r1(total)} ms CPU for ${Math.round(flops / 1e6)} MFLOP (${r1(flops / total / 1e6)} GFLOP/s)`,
    );
  } else if (what === "adam") {
    const { fusedAdam } = await import("../src/models/kernels/adam");
    const shapes = [[784, 400], [400], [400, 40], [40], [20, 400], [400], [400, 784], [784]];
    for (const kind of ["tf", "fused", "tf", "fused"]) {
      const vars = shapes.map((s, i) =>
        tf.variable(tf.randomNormal(s), true, `adam-bench-${kind}-${Math.random()}/${i}`),
      );
      const opt = kind === "tf" ? tf.train.adam(1e-3) : fusedAdam(1e-3);
      const grads = vars.map((v) => ({ name: v.name, tensor: tf.randomNormal(v.shape) }));
      const ts: number[] = [];
      for (let i = 0; i < 30; i++) {
        const c0 = cpu();
        opt.applyGradients(grads);
        vars[0].dataSync();
        ts.push(cpu() - c0);
      }
      console.log(
        `${kind} Adam: ${median(ts).toFixed(2)} ms CPU per update of ${vars.reduce((a, v) => a + v.size, 0)} numbers`,
      );
      tf.dispose([...vars, ...grads.map((g) => g.tensor)]);
      opt.dispose();
    }
  } else throw new Error(`bench/vae.ts: unknown command ${what} (step | products | adam)`);
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1]).href
) {
  await cli(process.argv.slice(2));
}
