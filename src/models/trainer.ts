/**
 * The training loop. It knows nothing about any model: it takes a loss (mean negative
 * log-likelihood per image, in nats), the trainable variables and an evaluation function, and
 * runs Adam over seeded mini-batches, epoch by epoch, reporting progress and stopping cleanly
 * when asked (Ctrl-C) or when the loss stops being a number (or explodes past `divergeAbove`).
 */
import * as tf from "@tensorflow/tfjs";

/** A named tensor (tf.io.NamedTensor). */
type NamedTensor = { name: string; tensor: tf.Tensor };
import { deriveSeed, Rng } from "../data/rng";
import type { EpochRecord } from "./checkpoint";

/** Everything the loop needs. */
export interface TrainerOptions {
  /** Training examples, n × dim, row-major. */
  x: Float32Array;
  n: number;
  dim: number;
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  /** Mean NLL per example of a batch, differentiable in `variables`. */
  loss: (x: tf.Tensor2D) => tf.Scalar;
  variables: tf.Variable[];
  /** Held-out NLL (nats per example) after each epoch. */
  evaluate: () => number;
  /**
   * A mean loss (nats per example) above this also counts as divergence — a huge learning rate
   * can drive the loss to absurd values that stay finite. Default: only non-finite losses.
   */
  divergeAbove?: number;
  /** Called after each optimizer step (e.g. to drop cached weights). */
  afterStep?: () => void;
  /** Where to start (resume): epochs done, and batches done in the next epoch. */
  start?: { epoch: number; batches: number; lossSum: number; images: number; seconds: number };
  /** Previous optimizer state (resume). */
  optimizerState?: NamedTensor[] | null;
  /** Progress hooks. */
  onEpochStart?: (epoch: number, batches: number) => void;
  onBatch?: (info: { epoch: number; batch: number; batches: number; loss: number; imagesPerSecond: number }) => void;
  onEpochEnd?: (record: EpochRecord) => Promise<void> | void;
  /** Polled between batches; when true the loop stops after saving through `onInterrupt`. */
  shouldStop?: () => boolean;
  onInterrupt?: (state: { epoch: number; batches: number; lossSum: number; images: number; seconds: number }) => Promise<void> | void;
}

/** How a run ended. */
export type TrainOutcome =
  | { status: "done" }
  | { status: "interrupted"; epoch: number; batches: number }
  | { status: "diverged"; epoch: number; batch: number; loss: number };

/** The batch order of one epoch: a permutation seeded by (seed, epoch). */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  return new Rng(deriveSeed(seed, 1000 + epoch)).permutation(n);
}

/** Runs the loop; returns how it ended. Adam's state is available via `optimizer`. */
export class Trainer {
  readonly optimizer: tf.AdamOptimizer;

  constructor(private readonly o: TrainerOptions) {
    this.optimizer = tf.train.adam(o.lr);
  }

  /** Restores Adam's moments and step count from a checkpoint (same variable order). */
  async restoreOptimizer(state: NamedTensor[]): Promise<void> {
    // Adam matches its moments to variables by position; names only need to be unique.
    await this.optimizer.setWeights(state);
    // setWeights sets the bias-correction powers to pow(β, t + 1), which differs in the last bits
    // from the float32 product β·β·…·β that t training steps accumulate; redo the product so that
    // a resumed run continues bit for bit like an uninterrupted one.
    const adam = this.optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable; beta1: number; beta2: number; iterations: number };
    const power = (beta: number) => {
      const b = Math.fround(beta);
      let acc = b;
      for (let i = 0; i < adam.iterations; i++) acc = Math.fround(acc * b);
      return acc;
    };
    const { accBeta1, accBeta2 } = adam;
    if (accBeta1 && accBeta2) {
      tf.tidy(() => {
        accBeta1.assign(tf.scalar(power(adam.beta1)));
        accBeta2.assign(tf.scalar(power(adam.beta2)));
      });
    }
  }

  /** Adam's state, named stably for a checkpoint. */
  async optimizerWeights(): Promise<NamedTensor[]> {
    const ws = await this.optimizer.getWeights();
    return ws.map((w, i) => ({ name: i === 0 ? "iter" : `${w.name.replace(/^gm\d+\//, "")}#${i}`, tensor: w.tensor }));
  }

  private diverged(loss: number): boolean {
    return !Number.isFinite(loss) || (this.o.divergeAbove !== undefined && loss > this.o.divergeAbove);
  }

  async run(): Promise<TrainOutcome> {
    const { x, n, dim, epochs, batch, variables } = this.o;
    const batches = Math.ceil(n / batch);
    const start = this.o.start ?? { epoch: 0, batches: 0, lossSum: 0, images: 0, seconds: 0 };
    if (this.o.optimizerState?.length) await this.restoreOptimizer(this.o.optimizerState);
    const buf = new Float32Array(batch * dim);
    for (let epoch = start.epoch + 1; epoch <= epochs; epoch++) {
      const resumed = epoch === start.epoch + 1 ? start : { batches: 0, lossSum: 0, images: 0, seconds: 0 };
      let lossSum = resumed.lossSum;
      let images = resumed.images;
      const t0 = performance.now() - resumed.seconds * 1000;
      const order = epochOrder(n, this.o.seed, epoch);
      this.o.onEpochStart?.(epoch, batches);
      for (let b = resumed.batches; b < batches; b++) {
        if (this.o.shouldStop?.()) {
          const state = { epoch: epoch - 1, batches: b, lossSum, images, seconds: (performance.now() - t0) / 1000 };
          await this.o.onInterrupt?.(state);
          return { status: "interrupted", epoch: epoch - 1, batches: b };
        }
        const lo = b * batch;
        const m = Math.min(batch, n - lo);
        for (let i = 0; i < m; i++) buf.set(x.subarray(order[lo + i] * dim, (order[lo + i] + 1) * dim), i * dim);
        const xb = tf.tensor2d(buf.subarray(0, m * dim), [m, dim]);
        const { value, grads } = tf.variableGrads(() => this.o.loss(xb), variables);
        const loss = (await value.data())[0];
        xb.dispose();
        value.dispose();
        if (this.diverged(loss)) {
          tf.dispose(grads);
          return { status: "diverged", epoch, batch: b + 1, loss };
        }
        // Apply in the variables' order so Adam's state lines up with a restored checkpoint.
        this.optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        tf.dispose(grads);
        this.o.afterStep?.();
        lossSum += loss * m;
        images += m;
        const secs = (performance.now() - t0) / 1000;
        this.o.onBatch?.({ epoch, batch: b + 1, batches, loss, imagesPerSecond: images / Math.max(secs, 1e-9) });
        // Let a pending Ctrl-C be handled between batches.
        await new Promise((r) => setImmediate(r));
      }
      const seconds = (performance.now() - t0) / 1000;
      const testNll = this.o.evaluate();
      if (this.diverged(testNll)) return { status: "diverged", epoch, batch: batches, loss: testNll };
      await this.o.onEpochEnd?.({ epoch, trainNll: lossSum / Math.max(images, 1), testNll, seconds, imagesPerSecond: images / Math.max(seconds, 1e-9) });
    }
    return { status: "done" };
  }
}

/** Mean −log p over a dataset, in nats per example, computed in batches. */
export function meanNll(logProb: (x: tf.Tensor2D) => tf.Tensor1D, x: Float32Array, n: number, dim: number, batch = 500): { mean: number; perExample: Float64Array } {
  const per = new Float64Array(n);
  for (let lo = 0; lo < n; lo += batch) {
    const m = Math.min(batch, n - lo);
    const lp = tf.tidy(() => logProb(tf.tensor2d(x.subarray(lo * dim, (lo + m) * dim), [m, dim])));
    const v = lp.dataSync();
    lp.dispose();
    for (let i = 0; i < m; i++) per[lo + i] = -v[i];
  }
  let s = 0;
  for (const v of per) s += v;
  return { mean: s / Math.max(n, 1), perExample: per };
}
