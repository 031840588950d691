/**
 * The linear probe of representation learning (`gm embed --probe`): a multinomial logistic
 * regression (softmax, one weight matrix and a bias, L2-regularized) trained on the features of
 * the training split and measured by its accuracy on the test split. Features are standardized
 * with the training split's mean and standard deviation first, so codes, raw pixels and a random
 * projection are compared on equal terms. The problem is convex; weights start at zero and
 * minibatches are drawn with the seeded PRNG, so a probe is deterministic.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../rng";
import { matMul } from "../kernels/index";

/** Labelled features: n rows of `dim` values and one class 0..classes−1 per row. */
export interface LabelledFeatures {
  readonly x: Float32Array;
  readonly y: ArrayLike<number>;
  readonly n: number;
  readonly dim: number;
}

/** Settings of {@link linearProbe}; each default is stated here once. */
export interface ProbeOptions {
  /** Passes over the training split (default 30). */
  epochs?: number;
  /** Adam's learning rate (default 0.01). */
  lr?: number;
  /** L2 penalty on the weights, per example (default 1e-4). */
  l2?: number;
  /** Minibatch size (default 256). */
  batch?: number;
  /** Seed of the minibatch order (default 1). */
  seed?: number;
}

/** A probe's accuracies (fractions in [0, 1]). */
export interface ProbeResult {
  readonly train: number;
  readonly test: number;
}

/** Distinguishes the variables of probes (TensorFlow.js needs unique variable names). */
let probes = 0;

/** Column means and standard deviations (std 1 where a column is constant). */
function standardizer(x: Float32Array, n: number, d: number): { mean: Float32Array; std: Float32Array } {
  const mean = new Float32Array(d);
  const sq = new Float64Array(d);
  const m64 = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m64[j] += x[i * d + j];
  for (let j = 0; j < d; j++) m64[j] /= n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const c = x[i * d + j] - m64[j];
      sq[j] += c * c;
    }
  const std = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    mean[j] = m64[j];
    const s = Math.sqrt(sq[j] / n);
    std[j] = s > 1e-8 ? s : 1;
  }
  return { mean, std };
}

/** Number of classes: 1 + the largest label of either split. */
function classCount(...sets: LabelledFeatures[]): number {
  let k = 0;
  for (const s of sets)
    for (let i = 0; i < s.n; i++) {
      const c = s.y[i];
      if (!Number.isInteger(c) || c < 0) throw new RangeError(`label ${c} of example ${i} is not a class index`);
      k = Math.max(k, c + 1);
    }
  return Math.max(k, 2);
}

/**
 * Trains the softmax probe on `train` and returns its accuracy on `train` and `test`.
 * Runs on the current TensorFlow.js backend; disposes everything it allocates.
 */
export function linearProbe(train: LabelledFeatures, test: LabelledFeatures, options: ProbeOptions = {}): ProbeResult {
  if (train.dim !== test.dim) throw new RangeError(`train has ${train.dim} features, test ${test.dim}`);
  if (train.n === 0 || test.n === 0) throw new RangeError("the probe needs examples in both splits");
  const epochs = options.epochs ?? 30;
  const lr = options.lr ?? 0.01;
  const l2 = options.l2 ?? 1e-4;
  const batch = Math.min(options.batch ?? 256, train.n);
  const rng = new Rng(options.seed ?? 1);
  const d = train.dim;
  const k = classCount(train, test);
  const { mean, std } = standardizer(train.x, train.n, d);
  const standardized = (s: LabelledFeatures): Float32Array => {
    const out = new Float32Array(s.n * d);
    for (let i = 0; i < s.n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (s.x[i * d + j] - mean[j]) / std[j];
    return out;
  };
  const xs = standardized(train);
  const id = ++probes;
  const w = tf.tidy(() => tf.variable(tf.zeros([d, k]), true, `probe${id}/w`));
  const b = tf.tidy(() => tf.variable(tf.zeros([k]), true, `probe${id}/b`));
  const opt = tf.train.adam(lr);
  try {
    const xb = new Float32Array(batch * d);
    const yb = new Int32Array(batch);
    for (let e = 0; e < epochs; e++) {
      const order = rng.permutation(train.n);
      for (let start = 0; start + batch <= train.n; start += batch) {
        for (let r = 0; r < batch; r++) {
          const i = order[start + r];
          xb.set(xs.subarray(i * d, (i + 1) * d), r * d);
          yb[r] = train.y[i];
        }
        tf.tidy(() => {
          const x = tf.tensor2d(xb, [batch, d]);
          const y = tf.oneHot(tf.tensor1d(yb, "int32"), k);
          opt.minimize(
            () => {
              const logits = tf.add(matMul(x, w), b);
              const ce = tf.losses.softmaxCrossEntropy(y, logits);
              return tf.add(ce, tf.mul(l2, tf.sum(tf.square(w)))) as tf.Scalar;
            },
            false,
            [w, b],
          );
        });
      }
    }
    const accuracy = (s: LabelledFeatures, xsd: Float32Array): number => {
      let right = 0;
      const chunk = 4096;
      for (let start = 0; start < s.n; start += chunk) {
        const m = Math.min(chunk, s.n - start);
        const pred = tf.tidy(() =>
          tf.argMax(tf.add(matMul(tf.tensor2d(xsd.subarray(start * d, (start + m) * d), [m, d]), w), b), 1).dataSync(),
        );
        for (let r = 0; r < m; r++) if (pred[r] === s.y[start + r]) right++;
      }
      return right / s.n;
    };
    return { train: accuracy(train, xs), test: accuracy(test, standardized(test)) };
  } finally {
    w.dispose();
    b.dispose();
    opt.dispose();
  }
}
