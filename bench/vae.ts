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
export async function timeFamilyVae(data: Float32Array, batch: number, warmup: number, steps: number, lr = 1e-3): Promise<{ ms: number[]; cpuMs: number[]; lastLoss: number }> {
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
