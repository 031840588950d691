/**
 * The training loop. It knows nothing about any family: it runs an {@link Objective}'s steps
 * over seeded mini-batches, epoch by epoch.
 *
 * Per batch b (global step s, counted across epochs and resumes), every step whose `every`
 * divides s runs, in list order, each with its own Adam optimizer (Kingma & Ba, ICLR 2015):
 *
 *   θ_step ← Adam_step(θ_step, ∇_θ loss_step(x_b))
 *
 * An epoch records the mean training loss of every step (weighted by batch size) and every
 * held-out metric of `evaluate`. A loss that is not finite, or above its step's `divergeAbove`,
 * ends the run as diverged. Between batches the loop polls a stop flag (Ctrl-C) and then hands
 * its exact position to `onStop` so the caller can save it; a resumed run continues bit for bit.
 */
import * as tf from "@tensorflow/tfjs";
import { deriveSeed, Rng } from "../rng";
import type { EpochRecord, StoredTensor } from "./checkpoint";
import { fusedAdam } from "./kernels/adam";
import { checkpointName } from "./lookup";
import type { Objective, TrainStep } from "./model";

/** A named tensor (tf.io.NamedTensor). */
export type NamedTensor = { name: string; tensor: tf.Tensor };

/** Examples, n × dim row-major. */
export interface Examples {
  x: Float32Array;
  n: number;
}

/**
 * Where a run stands inside an epoch: epochs completed, batches done in the next one, the
 * global step, and that epoch's running sums (`sums[step]` = Σ loss · m, `sums["step#n"]` = Σ m).
 */
export interface FitPosition {
  epoch: number;
  batches: number;
  step: number;
  sums: Record<string, number>;
  images: number;
  seconds: number;
}

/** Everything the loop needs. */
export interface FitOptions {
  objective: Objective;
  train: Examples;
  test: Examples;
  dim: number;
  epochs: number;
  batch: number;
  /** Default learning rate of every step (a step's `optimizer.lr` wins). */
  lr: number;
  seed: number;
  /** Where to start (resume). */
  start?: FitPosition;
  /** Optimizer state by step name (resume), as loaded from a checkpoint. */
  optimizerState?: Record<string, StoredTensor[]>;
  onEpochStart?: (epoch: number, batches: number) => void;
  onBatch?: (info: {
    epoch: number;
    batch: number;
    batches: number;
    losses: Record<string, number>;
    imagesPerSecond: number;
  }) => void;
  onEpochEnd?: (record: EpochRecord) => Promise<void> | void;
  /** Polled between batches (an AbortSignal works); when set the loop stops after `onStop`. */
  stop?: { readonly aborted: boolean };
  onStop?: (position: FitPosition) => Promise<void> | void;
}

/** How a run ended. */
export type FitOutcome =
  | { status: "done" }
  | { status: "stopped"; epoch: number; batches: number }
  | { status: "diverged"; epoch: number; batch: number; step: string; loss: number };

/** The batch order of one epoch: a permutation seeded by (seed, epoch). */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  return new Rng(deriveSeed(seed, 1000 + epoch)).permutation(n);
}

/** Whether `step` runs at global step `s`. */
export function runsAt(step: TrainStep, s: number): boolean {
  const every = step.every ?? 1;
  return s % every === 0;
}

function diverged(step: TrainStep | undefined, loss: number): boolean {
  return !Number.isFinite(loss) || (step?.divergeAbove !== undefined && loss > step.divergeAbove);
}

/**
 * Float32 β^(t+1) as t Adam steps accumulate it (β·β·…·β, rounded each time). tf's setWeights
 * sets the bias-correction powers to pow(β, t + 1), which differs in the last bits; redoing the
 * product makes a resumed run continue bit for bit like an uninterrupted one.
 */
function accumulatedPower(beta: number, iterations: number): number {
  const b = Math.fround(beta);
  let acc = b;
  for (let i = 0; i < iterations; i++) acc = Math.fround(acc * b);
  return acc;
}

/** Runs an objective's steps; each step has its own Adam (`optimizers`, by step name). */
export class Fitter {
  readonly optimizers = new Map<string, tf.AdamOptimizer>();

  constructor(private readonly o: FitOptions) {
    const names = new Set<string>();
    for (const s of o.objective.steps) {
      if (names.has(s.name)) throw new Error(`objective has two steps named ${s.name}`);
      names.add(s.name);
      const spec = s.optimizer ?? {};
      // tf's Adam with a fused update (kernels/adam.ts: one pass per variable, the same numbers bit for bit).
      this.optimizers.set(s.name, fusedAdam(spec.lr ?? o.lr, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999));
    }
  }

  /** Restores each step's Adam moments and step count (same variable order as when saved). */
  async restore(state: Record<string, StoredTensor[]>): Promise<void> {
    for (const [name, tensors] of Object.entries(state)) {
      const opt = this.optimizers.get(name);
      if (!opt) throw new Error(`checkpoint holds optimizer state of step ${name}, which the objective does not have`);
      // Adam matches its moments to variables by position; names only need to be unique. Each moment
      // takes back the name it had before `optimizerWeights` appended `#i`, or a resumed run's
      // checkpoint would grow one `#i` per resume.
      const named = tensors.map((t) => ({
        name: t.name.replace(/#\d+$/, ""),
        tensor: tf.tensor(t.values, t.shape, t.dtype),
      }));
      await opt.setWeights(named);
      tf.dispose(named.map((t) => t.tensor));
      const adam = opt as unknown as {
        accBeta1?: tf.Variable;
        accBeta2?: tf.Variable;
        beta1: number;
        beta2: number;
        iterations: number;
      };
      const { accBeta1, accBeta2 } = adam;
      if (accBeta1 && accBeta2) {
        tf.tidy(() => {
          accBeta1.assign(tf.scalar(accumulatedPower(adam.beta1, adam.iterations)));
          accBeta2.assign(tf.scalar(accumulatedPower(adam.beta2, adam.iterations)));
        });
      }
    }
  }

  /** Every step's Adam state, named stably for a checkpoint (`iter`, then `<variable>#<i>`). */
  async optimizerWeights(): Promise<Record<string, NamedTensor[]>> {
    const out: Record<string, NamedTensor[]> = {};
    for (const [name, opt] of this.optimizers) {
      const ws = await opt.getWeights();
      out[name] = ws.map((w, i) => ({ name: i === 0 ? "iter" : `${checkpointName(w.name)}#${i}`, tensor: w.tensor }));
    }
    return out;
  }

  /** Releases the optimizers' state. */
  dispose(): void {
    for (const opt of this.optimizers.values()) opt.dispose();
  }

  /** Runs the loop; returns how it ended. */
  async run(): Promise<FitOutcome> {
    const { objective, train, dim, epochs, batch } = this.o;
    const { x, n } = train;
    const steps = objective.steps;
    const batches = Math.ceil(n / batch);
    const start: FitPosition = this.o.start ?? { epoch: 0, batches: 0, step: 0, sums: {}, images: 0, seconds: 0 };
    if (this.o.optimizerState && Object.keys(this.o.optimizerState).length) await this.restore(this.o.optimizerState);
    const buf = new Float32Array(batch * dim);
    let globalStep = start.step;
    for (let epoch = start.epoch + 1; epoch <= epochs; epoch++) {
      const resumed = epoch === start.epoch + 1 ? start : { batches: 0, sums: {}, images: 0, seconds: 0 };
      const sums: Record<string, number> = { ...resumed.sums };
      let images = resumed.images;
      const t0 = performance.now() - resumed.seconds * 1000;
      const order = epochOrder(n, this.o.seed, epoch);
      this.o.onEpochStart?.(epoch, batches);
      for (let b = resumed.batches; b < batches; b++) {
        if (this.o.stop?.aborted) {
          await this.o.onStop?.({
            epoch: epoch - 1,
            batches: b,
            step: globalStep,
            sums,
            images,
            seconds: (performance.now() - t0) / 1000,
          });
          return { status: "stopped", epoch: epoch - 1, batches: b };
        }
        const lo = b * batch;
        const m = Math.min(batch, n - lo);
        for (let i = 0; i < m; i++) buf.set(x.subarray(order[lo + i] * dim, (order[lo + i] + 1) * dim), i * dim);
        const xb = tf.tensor2d(buf.subarray(0, m * dim), [m, dim]);
        const losses: Record<string, number> = {};
        try {
          for (const step of steps) {
            if (!runsAt(step, globalStep)) continue;
            const ctx = { step: globalStep, seed: this.o.seed };
            const { value, grads } = tf.variableGrads(() => step.loss(xb, ctx), step.variables);
            const loss = (await value.data())[0];
            value.dispose();
            if (diverged(step, loss)) {
              tf.dispose(grads);
              return { status: "diverged", epoch, batch: b + 1, step: step.name, loss };
            }
            // Apply in the variables' order so Adam's state lines up with a restored checkpoint.
            this.optimizers
              .get(step.name)!
              .applyGradients(step.variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
            tf.dispose(grads);
            objective.afterStep?.();
            losses[step.name] = loss;
            sums[step.name] = (sums[step.name] ?? 0) + loss * m;
            sums[`${step.name}#n`] = (sums[`${step.name}#n`] ?? 0) + m;
          }
        } finally {
          xb.dispose();
        }
        globalStep++;
        images += m;
        const secs = (performance.now() - t0) / 1000;
        this.o.onBatch?.({ epoch, batch: b + 1, batches, losses, imagesPerSecond: images / Math.max(secs, 1e-9) });
        // Let a pending Ctrl-C be handled between batches.
        await new Promise((r) => setImmediate(r));
      }
      const seconds = (performance.now() - t0) / 1000;
      const trainMetrics: Record<string, number> = {};
      for (const step of steps)
        if (sums[`${step.name}#n`]) trainMetrics[step.name] = sums[step.name] / sums[`${step.name}#n`];
      const testMetrics = objective.evaluate(this.o.test.x, this.o.test.n);
      const primary = testMetrics[objective.primary];
      if (
        primary !== undefined &&
        diverged(
          steps.find((s) => s.name === objective.primary),
          primary,
        )
      ) {
        return { status: "diverged", epoch, batch: batches, step: objective.primary, loss: primary };
      }
      await this.o.onEpochEnd?.({
        epoch,
        train: trainMetrics,
        test: testMetrics,
        seconds,
        imagesPerSecond: images / Math.max(seconds, 1e-9),
      });
    }
    return { status: "done" };
  }
}
