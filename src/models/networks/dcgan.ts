/**
 * DCGAN-style generator and critic (Radford, Metz & Chintala, "Unsupervised Representation
 * Learning with Deep Convolutional Generative Adversarial Networks", ICLR 2016) for an H×W×C
 * image (H, W divisible by 4), layer for layer as src/compiler/count.ts counts them:
 *
 *   generator  dense z → 4b·(H/4)·(W/4), ReLU, reshape [H/4, W/4, 4b]
 *              transposed conv 4×4 stride 2 (4b → 2b) + bias, batch norm, ReLU
 *              transposed conv 4×4 stride 2 (2b → C) + bias        → raw outputs [B, H, W, C]
 *   critic     conv 4×4 stride 2 (C → 2b) + bias, LeakyReLU(0.2)
 *              conv 4×4 stride 2 (2b → 4b) + bias, batch norm, LeakyReLU(0.2)
 *              dense 4b·(H/4)·(W/4) → 1                              → a logit per image
 *
 * Batch norm (Ioffe & Szegedy 2015): scale γ and shift β are trainable (the compiler counts
 * them); the running mean and variance are non-trainable `state` (saved in checkpoints, not
 * counted). In training mode a layer normalizes by the batch's statistics and moves the running
 * ones by momentum 0.9; in evaluation mode (sampling) it uses the running ones.
 * Initialization: weights N(0, 0.02²) as in the paper, γ = 1, biases and β = 0 (seeded).
 * Convolutions use "same" padding; the wasm backend's filter gradient is the project's
 * Conv2DBackpropFilter (kernels/conv-filter.ts), tested against cpu in tests/models/kernels-nets.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import type { NetworkSpec } from "../../compiler/ir";
import { Rng, deriveSeed } from "../../rng";
import { matMul } from "../kernels/matmul";

/** Momentum of the running statistics. */
const BN_MOMENTUM = 0.9;
const BN_EPSILON = 1e-5;
/** LeakyReLU slope of the critic. */
const LEAK = 0.2;
/** Standard deviation of the initial weights (the paper's N(0, 0.02)). */
const INIT_STD = 0.02;

/** Shared by generator and critic: seeded variables and the batch-norm layer. */
abstract class ConvNet {
  readonly variables: tf.Variable[] = [];
  readonly state: tf.Variable[] = [];
  private stream = 0;

  constructor(
    readonly prefix: string,
    private readonly seed: number,
  ) {}

  protected weight(shape: number[], name: string, std = INIT_STD): tf.Variable {
    const rng = new Rng(deriveSeed(this.seed, this.stream++));
    const v = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => std * rng.normal());
    return this.track(tf.variable(tf.tensor(v, shape), true, `${this.prefix}/${name}`));
  }

  protected constant(shape: number[], value: number, name: string, trainable = true): tf.Variable {
    const v = tf.variable(tf.fill(shape, value), trainable, `${this.prefix}/${name}`);
    return trainable ? this.track(v) : (this.state.push(v), v);
  }

  private track(v: tf.Variable): tf.Variable {
    this.variables.push(v);
    return v;
  }

  /** A batch-norm layer over the last axis of a [B, H, W, K] map. */
  protected batchNorm(k: number, name: string): BatchNorm {
    return {
      gamma: this.constant([k], 1, `${name}/gamma`),
      beta: this.constant([k], 0, `${name}/beta`),
      mean: this.constant([k], 0, `${name}/running_mean`, false),
      variance: this.constant([k], 1, `${name}/running_variance`, false),
    };
  }

  /** Number of trainable parameters. */
  paramCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  dispose(): void {
    for (const v of [...this.variables, ...this.state]) v.dispose();
  }
}

interface BatchNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  mean: tf.Variable;
  variance: tf.Variable;
}

/** Normalizes x [B, H, W, K]; in training mode by the batch (updating the running statistics). */
function applyBatchNorm(x: tf.Tensor4D, bn: BatchNorm, training: boolean): tf.Tensor4D {
  if (!training) return tf.batchNorm(x, bn.mean, bn.variance, bn.beta, bn.gamma, BN_EPSILON) as tf.Tensor4D;
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  // The running statistics move as a side effect of the forward pass (assign is not recorded
  // for gradients).
  tf.tidy(() => {
    bn.mean.assign(tf.add(tf.mul(bn.mean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
    bn.variance.assign(tf.add(tf.mul(bn.variance, BN_MOMENTUM), tf.mul(variance, 1 - BN_MOMENTUM)));
  });
  // (x − μ)·γ/√(σ² + ε) + β written out: tf.batchNorm's gradient tiles its statistics to the
  // input's shape, which wasm does in JavaScript (0.55 s of a 3.6 s DCGAN step); broadcasting
  // element-wise ops differentiate without Tile.
  const scale = tf.mul(bn.gamma, tf.rsqrt(tf.add(variance, BN_EPSILON)));
  return tf.add(tf.mul(tf.sub(x, mean), scale), bn.beta) as tf.Tensor4D;
}

/** The DCGAN generator: z [B, zdim] → raw outputs [B, H·W·C] (row-major H, W, C). */
export class DcganGenerator extends ConvNet {
  private readonly dense: tf.Variable;
  private readonly denseBias: tf.Variable;
  private readonly up1: tf.Variable;
  private readonly up1Bias: tf.Variable;
  private readonly bn: BatchNorm;
  private readonly up2: tf.Variable;
  private readonly up2Bias: tf.Variable;

  constructor(
    prefix: string,
    readonly spec: Extract<NetworkSpec, { kind: "dcgan-generator" }>,
    seed: number,
  ) {
    super(prefix, seed);
    const { zdim, base: b, height: H, width: W, channels: C } = spec;
    const hw = (H / 4) * (W / 4);
    this.dense = this.weight([zdim, 4 * b * hw], "dense/w");
    this.denseBias = this.constant([4 * b * hw], 0, "dense/b");
    this.up1 = this.weight([4, 4, 2 * b, 4 * b], "up1/w"); // conv2dTranspose filters: [kh, kw, out, in]
    this.up1Bias = this.constant([2 * b], 0, "up1/b");
    this.bn = this.batchNorm(2 * b, "bn1");
    this.up2 = this.weight([4, 4, C, 2 * b], "up2/w");
    this.up2Bias = this.constant([C], 0, "up2/b");
  }

  /** Raw outputs (before the domain's range map) for codes z; `training` selects batch statistics. */
  apply(z: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      const { base: b, height: H, width: W, channels: C } = this.spec;
      const B = z.shape[0];
      const h0 = tf
        .relu(tf.add(matMul(z, this.dense as tf.Tensor2D), this.denseBias))
        .reshape([B, H / 4, W / 4, 4 * b]) as tf.Tensor4D;
      const u1 = tf.add(
        tf.conv2dTranspose(h0, this.up1 as tf.Tensor4D, [B, H / 2, W / 2, 2 * b], 2, "same"),
        this.up1Bias,
      ) as tf.Tensor4D;
      const h1 = tf.relu(applyBatchNorm(u1, this.bn, training)) as tf.Tensor4D;
      const u2 = tf.add(tf.conv2dTranspose(h1, this.up2 as tf.Tensor4D, [B, H, W, C], 2, "same"), this.up2Bias);
      return u2.reshape([B, H * W * C]);
    });
  }
}

/** The DCGAN critic: images x [B, H·W·C] → a logit per image [B]. */
export class DcganCritic extends ConvNet {
  private readonly conv1: tf.Variable;
  private readonly conv1Bias: tf.Variable;
  private readonly conv2: tf.Variable;
  private readonly conv2Bias: tf.Variable;
  private readonly bn: BatchNorm;
  private readonly dense: tf.Variable;
  private readonly denseBias: tf.Variable;

  constructor(
    prefix: string,
    readonly spec: Extract<NetworkSpec, { kind: "dcgan-critic" }>,
    seed: number,
  ) {
    super(prefix, seed);
    const { base: b, height: H, width: W, channels: C } = spec;
    this.conv1 = this.weight([4, 4, C, 2 * b], "conv1/w");
    this.conv1Bias = this.constant([2 * b], 0, "conv1/b");
    this.conv2 = this.weight([4, 4, 2 * b, 4 * b], "conv2/w");
    this.conv2Bias = this.constant([4 * b], 0, "conv2/b");
    this.bn = this.batchNorm(4 * b, "bn2");
    this.dense = this.weight([4 * b * (H / 4) * (W / 4), 1], "dense/w");
    this.denseBias = this.constant([1], 0, "dense/b");
  }

  /** Logits for images x (values as the generator emits them); `training` selects batch statistics. */
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor1D {
    return tf.tidy(() => {
      const { height: H, width: W, channels: C } = this.spec;
      const B = x.shape[0];
      const img = x.reshape([B, H, W, C]) as tf.Tensor4D;
      const h1 = tf.leakyRelu(
        tf.add(tf.conv2d(img, this.conv1 as tf.Tensor4D, 2, "same"), this.conv1Bias),
        LEAK,
      ) as tf.Tensor4D;
      const c2 = tf.add(tf.conv2d(h1, this.conv2 as tf.Tensor4D, 2, "same"), this.conv2Bias) as tf.Tensor4D;
      const h2 = tf.leakyRelu(applyBatchNorm(c2, this.bn, training), LEAK);
      const flat = h2.reshape([B, -1]) as tf.Tensor2D;
      return tf.add(matMul(flat, this.dense as tf.Tensor2D), this.denseBias).reshape([B]) as tf.Tensor1D;
    });
  }
}
