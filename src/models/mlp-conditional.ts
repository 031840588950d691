/**
 * `p(x | y) = mlp(hidden = [h₁, …, h_m])` in an explicit model: a neural conditional whose
 * conditions y are observed (data columns), as in `for i in 2..n: p(x[i] | x[i-1], x[i-2]) =
 * mlp(hidden = [16])` or a class-conditional `p(x | label) = mlp(hidden = [64])`.
 *
 *   u = enc(y)                       Bernoulli 0/1, Categorical(k) one-hot (k), continuous as is
 *   o = MLP(u)                       networks/mlp.ts: u → h₁ → … → h_m → Σ_t out_t, ReLU hidden
 *   p(x_t = 1 | y) = σ(o_t)          Bernoulli target t: one logit
 *   p(x_t = j | y) = softmax(o_t)_j  Categorical(k) target t: k logits
 *   p(x | y) = Π_t p(x_t | y)        the targets are independent given y (the factor's structure
 *                                    is `none`: every target's parents are exactly y)
 *
 * The conditional of a single element is the multi-layer generalization of the logistic
 * (sigmoid belief network) conditional (Neal 1992; Bengio & Bengio, NIPS 1999, used one MLP per
 * conditional of an autoregressive model). log p is exact; trained by gradient (Adam) with the
 * rest of the model; sampling is ancestral (y is drawn before x by the model's topological
 * order). Trainable numbers: `mlpParams([|u|, h₁, …, h_m, Σ_t out_t])`, the compiler's count.
 *
 * Continuous targets (a Gaussian head) belong to latent-variable decoders; in an explicit model
 * they have no probability table to enumerate or sample from in JS, so they are refused (M0103).
 *
 * NOTE: `for i in 2..n: p(x[i] | x[i-1], x[i-2]) = mlp(hidden = [16])` is n − 1 factors, each
 * with its own MLP (the compiler counts each). Run one by one on wasm, 783 tiny networks cost
 * ~7 s per training step (per-op overhead in the forward and backward passes, and Adam's per
 * variable overhead over 3,132 variables). Modules built by `buildMlpConditional` (the
 * registry's builder) therefore join a *group*: the model's MLP factors with the same layout.
 * A group of G ≥ 2 stores its members' layers stacked, W_l as one variable [G, in, out] and b_l
 * as [G, out] (named after its first member: `<first factor>_group<G>/<l>/w|b`, the first
 * member's `variables`; the others list none), and computes all of them as one batched network.
 * The count is unchanged (G times the per-factor count); conditionals and sampling still read
 * each member's own slice. Within one pass over the modules with the same x (what
 * `ExplicitModel.logProb` does), the first member called returns its group's whole
 * log-probability and the others 0, so only the sum over all modules is meaningful for grouped
 * members. Modules made with `new MlpConditionalModule` are never grouped.
 */
import * as tf from "@tensorflow/tfjs";
import { variableOf } from "../compiler/elements";
import { domainName, outcomes, type FactorIR, type ModelIR } from "../compiler/ir";
import type { Rng } from "../rng";
import { InputEncoding } from "./networks/inputs";
import {
  activate,
  bernoulliLogProb,
  categoricalLogProb,
  forwardJs,
  Mlp,
  softmaxJs,
  type Activation,
} from "./networks/mlp";
import { sigmoid } from "./ops";
import { ModelError, type FactorModule } from "./types";

/** The hidden activation of MLP conditionals. */
const ACTIVATION: Activation = "relu";

/** A run of consecutive targets with the same number of outcomes (their outputs are contiguous). */
interface Run {
  /** First target (position in the factor) and number of targets. */
  readonly start: number;
  readonly count: number;
  /** Outcomes per target: 2 (Bernoulli, one logit) or k (Categorical(k), k logits). */
  readonly k: number;
  /** First output column. */
  readonly out: number;
}

/**
 * Builds the module of one `mlp` factor, grouped with the model's other MLP factors of the same
 * layout (see the NOTE above). `name` is `<model prefix>/<factor>`; factors of one model share
 * the prefix.
 */
export function buildMlpConditional(factor: FactorIR, ir: ModelIR, name: string, seed: number): MlpConditionalModule {
  const module = new MlpConditionalModule(factor, ir, name, seed);
  const signature = module.signature();
  if (signature === null) return module;
  const prefix = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : name;
  let byKey = GROUPS.get(ir);
  if (!byKey) GROUPS.set(ir, (byKey = new Map()));
  const key = `${prefix}|${signature}`;
  let group = byKey.get(key);
  if (!group || group.sealed) byKey.set(key, (group = new MlpGroup()));
  group.add(module);
  return module;
}

/** Groups of each model (keyed by the IR, then by model prefix and layout). */
const GROUPS = new WeakMap<ModelIR, Map<string, MlpGroup>>();

/**
 * MLP factors of one model with the same layout, stored stacked and computed as one batched
 * network (see the NOTE above). Sealed on first use: from then on it has its members for good.
 */
export class MlpGroup {
  readonly members: MlpConditionalModule[] = [];
  /** Stacked layers, W_l [G, in, out] and b_l [G, out]; empty until sealed, and for G = 1. */
  readonly weights: tf.Variable[] = [];
  readonly biases: tf.Variable[] = [];
  /** Every stacked variable: w0, b0, w1, b1, … */
  readonly variables: tf.Variable[] = [];
  sealed = false;
  private disposed = false;
  private cache?: { w: Float32Array[]; b: Float32Array[] };
  /** The current pass: the x it is for, and the members that have not been called for it yet. */
  private pass?: { x: tf.Tensor2D; pending: Set<MlpConditionalModule> };
  private encoding?: InputEncoding;
  private targetCols?: tf.Tensor1D;

  /** Adds a member (before the group is sealed). */
  add(m: MlpConditionalModule): void {
    if (this.sealed) throw new Error("MlpGroup.add after the group was sealed");
    m.group = this;
    m.groupIndex = this.members.length;
    this.members.push(m);
  }

  /** Whether the members are stored stacked (G ≥ 2); seals the group on first call. */
  stacked(): boolean {
    if (!this.sealed) this.seal();
    return this.weights.length > 0;
  }

  /** Moves the members' weights into stacked variables (their own networks are disposed). */
  private seal(): void {
    this.sealed = true;
    const G = this.members.length;
    if (G < 2 || this.disposed) return;
    const first = this.members[0];
    const sizes = first.sizes;
    const name = `${first.name}_group${G}`;
    const L = sizes.length - 1;
    const w: Float32Array[] = [];
    const b: Float32Array[] = [];
    for (let l = 0; l < L; l++) {
      const [nIn, nOut] = [sizes[l], sizes[l + 1]];
      w.push(new Float32Array(G * nIn * nOut));
      b.push(new Float32Array(G * nOut));
      this.members.forEach((m, g) => {
        w[l].set(m.ownNet().weights[l].dataSync() as Float32Array, g * nIn * nOut);
        b[l].set(m.ownNet().biases[l].dataSync() as Float32Array, g * nOut);
      });
    }
    for (const m of this.members) m.releaseNet();
    for (let l = 0; l < L; l++) {
      const W = tf.variable(tf.tensor3d(w[l], [G, sizes[l], sizes[l + 1]]), true, `${name}/${l}/w`);
      const B = tf.variable(tf.tensor2d(b[l], [G, sizes[l + 1]]), true, `${name}/${l}/b`);
      this.weights.push(W);
      this.biases.push(B);
      this.variables.push(W, B);
    }
  }

  /** The stacked weights as JavaScript arrays, read once until {@link invalidate}. */
  weightsJs(): { w: Float32Array[]; b: Float32Array[] } {
    if (!this.cache)
      this.cache = {
        w: this.weights.map((v) => v.dataSync() as Float32Array),
        b: this.biases.map((v) => v.dataSync() as Float32Array),
      };
    return this.cache;
  }

  /** Member `g`'s layers as views into the stacked arrays. */
  memberWeightsJs(g: number): { w: Float32Array[]; b: Float32Array[] } {
    const { w, b } = this.weightsJs();
    const sizes = this.members[0].sizes;
    return {
      w: w.map((W, l) => W.subarray(g * sizes[l] * sizes[l + 1], (g + 1) * sizes[l] * sizes[l + 1])),
      b: b.map((B, l) => B.subarray(g * sizes[l + 1], (g + 1) * sizes[l + 1])),
    };
  }

  /**
   * Member `m`'s share of log p for `x`: the group's total for the first member called in a pass,
   * 0 for the others (their terms are in that total). A member called twice, or a new x, starts a
   * new pass; so one call of every member with the same x always sums to the group's total.
   */
  logProb(m: MlpConditionalModule, x: tf.Tensor2D): tf.Tensor1D {
    const pass = this.pass;
    if (pass && pass.x === x && pass.pending.has(m)) {
      pass.pending.delete(m);
      if (pass.pending.size === 0) this.pass = undefined;
      return tf.zeros([x.shape[0]]);
    }
    this.pass = { x, pending: new Set(this.members.filter((o) => o !== m)) };
    return this.total(x);
  }

  /** Σ over every member's targets of log p(target | parents): [B]. */
  private total(x: tf.Tensor2D): tf.Tensor1D {
    const first = this.members[0];
    const G = this.members.length;
    if (!this.encoding) {
      this.encoding = new InputEncoding(
        this.members.flatMap((m) => m.inputs.columns),
        this.members.flatMap((m) => m.inputs.domains),
      );
      this.targetCols = tf.keep(
        tf.tensor1d(Int32Array.from(this.members.flatMap((m) => Array.from(m.factor.targets))), "int32"),
      );
    }
    const sizes = first.sizes;
    const L = sizes.length - 1;
    const [B] = x.shape;
    return tf.tidy(() => {
      // [B, G·I] → [G, B, I]: each member's inputs, one batched matmul per layer.
      let h = tf.transpose(this.encoding!.encode(x).reshape([B, G, sizes[0]]), [1, 0, 2]) as tf.Tensor3D;
      for (let l = 0; l < L; l++) {
        h = tf.add(tf.matMul(h, this.weights[l]), this.biases[l].reshape([G, 1, sizes[l + 1]])) as tf.Tensor3D;
        if (l < L - 1)
          h = activate(h.reshape([G * B, sizes[l + 1]]) as tf.Tensor2D, ACTIVATION).reshape([G, B, sizes[l + 1]]);
      }
      // [G, B, O] → [B, G·O], member-major: the order of the target columns.
      const logits = tf.transpose(h, [1, 0, 2]).reshape([B, G * sizes[L]]) as tf.Tensor2D;
      const xt = tf.gather(x, this.targetCols!, 1) as tf.Tensor2D;
      const k = first.outcomes;
      return k === 2 ? bernoulliLogProb(logits, xt) : categoricalLogProb(logits, xt, k);
    });
  }

  /** Forgets the JavaScript copy of the weights. */
  invalidate(): void {
    this.cache = undefined;
  }

  /** Frees the stacked variables (every member's dispose calls it; the first call does it). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sealed = true;
    for (const v of this.variables) v.dispose();
    this.encoding?.dispose();
    this.targetCols?.dispose();
    this.cache = undefined;
    this.pass = undefined;
  }
}

/** The MLP-conditional factor module. */
export class MlpConditionalModule implements FactorModule {
  readonly gradient = true;
  readonly inputs: InputEncoding;
  /** Layer widths: [inputs, …hidden, outputs]. */
  readonly sizes: readonly number[];
  /** The group this module is stored and computed with (set by `buildMlpConditional`). */
  group?: MlpGroup;
  /** This module's position among its group's members. */
  groupIndex = 0;
  /** Outcomes of each target (2 for Bernoulli). */
  private readonly ks: number[];
  /** First output column of each target. */
  private readonly outAt: number[];
  private readonly runs: Run[];
  private readonly targetCols: tf.Tensor1D;
  private readonly runCols: tf.Tensor1D[];
  /** This factor's own network; released when its group stores it stacked. */
  private net?: Mlp;

  constructor(
    readonly factor: FactorIR,
    ir: ModelIR,
    readonly name: string,
    seed: number,
  ) {
    const spec = factor.network;
    if (!spec || spec.kind !== "mlp")
      throw new ModelError(`\`${factor.source}\`: the compiler gave no MLP layout for this factor`, "M0103");
    this.ks = Array.from(factor.targets, (e) => {
      const v = variableOf(ir.variables, e);
      const k = outcomes(v.domain);
      if (k === null) {
        throw new ModelError(
          `\`${factor.source}\`: \`${v.name}\` is ${domainName(v.domain)}; an mlp conditional in an explicit model builds Bernoulli and Categorical targets only`,
          "M0103",
          "continuous variables are modelled by a latent-variable decoder (`fit elbo`)",
        );
      }
      return k;
    });
    const context = Array.from(factor.context);
    this.inputs = new InputEncoding(
      context,
      context.map((e) => variableOf(ir.variables, e).domain),
    );
    const out = this.ks.reduce((a, k) => a + (k === 2 ? 1 : k), 0);
    if (spec.sizes[0] !== this.inputs.width || spec.sizes[spec.sizes.length - 1] !== out) {
      this.inputs.dispose();
      throw new ModelError(
        `\`${factor.source}\`: the compiler's layout [${spec.sizes.join(", ")}] does not read ${this.inputs.width} inputs and write ${out} outputs`,
        "M0103",
      );
    }
    this.sizes = [...spec.sizes];
    try {
      this.net = new Mlp(name, spec.sizes, { activation: ACTIVATION, seed });
    } catch (e) {
      this.inputs.dispose();
      throw e;
    }
    this.outAt = [];
    this.runs = [];
    let col = 0;
    this.ks.forEach((k, t) => {
      this.outAt.push(col);
      const last = this.runs[this.runs.length - 1];
      if (last && last.k === k) this.runs[this.runs.length - 1] = { ...last, count: last.count + 1 };
      else this.runs.push({ start: t, count: 1, k, out: col });
      col += k === 2 ? 1 : k;
    });
    this.targetCols = tf.keep(tf.tensor1d(factor.targets, "int32"));
    this.runCols = this.runs.map((r) =>
      tf.keep(tf.tensor1d(factor.targets.subarray(r.start, r.start + r.count), "int32")),
    );
  }

  /** Whether this module's weights live stacked in its group. */
  private get stacked(): boolean {
    return this.group !== undefined && this.group.stacked();
  }

  /** Trainable variables: its own network's, or (stacked) the group's for the first member and none for the others. */
  get variables(): tf.Variable[] {
    if (this.stacked) return this.group!.members[0] === this ? this.group!.variables : [];
    return this.net!.variables;
  }

  /** This factor's own network (before its group stacks it). */
  ownNet(): Mlp {
    if (!this.net) throw new Error(`${this.name}: its network is stored in its group`);
    return this.net;
  }

  /** Disposes this factor's own network (its group now stores the weights). */
  releaseNet(): void {
    this.net?.dispose();
    this.net = undefined;
  }

  /**
   * The layout key of modules that can be computed together, or null: same layer sizes, same
   * condition domains in order, every target with the same number of outcomes.
   */
  signature(): string | null {
    if (this.runs.length !== 1) return null;
    return JSON.stringify([this.sizes, this.inputs.domains, this.outcomes, this.ks.length]);
  }

  /** Outcomes of the targets when they all have the same number (2 for Bernoulli), else 0. */
  get outcomes(): number {
    return this.runs.length === 1 ? this.runs[0].k : 0;
  }

  logProb(x: tf.Tensor2D): tf.Tensor1D {
    this.invalidate();
    if (this.stacked) return this.group!.logProb(this, x);
    const net = this.net!;
    return tf.tidy(() => {
      const o = net.apply(this.inputs.encode(x));
      if (this.runs.length === 1) {
        const { k } = this.runs[0];
        const xt = tf.gather(x, this.targetCols, 1) as tf.Tensor2D;
        return k === 2 ? bernoulliLogProb(o, xt) : categoricalLogProb(o, xt, k);
      }
      // Targets with different outcome counts: one head per run of equal ones.
      const [B] = x.shape;
      const parts = this.runs.map((r, i) => {
        const width = r.k === 2 ? r.count : r.count * r.k;
        const oi = tf.slice(o, [0, r.out], [B, width]) as tf.Tensor2D;
        const xi = tf.gather(x, this.runCols[i], 1) as tf.Tensor2D;
        return r.k === 2 ? bernoulliLogProb(oi, xi) : categoricalLogProb(oi, xi, r.k);
      });
      return parts.reduce((a, b) => tf.add(a, b)) as tf.Tensor1D;
    });
  }

  /** The output layer for one data row, in JavaScript. */
  private outputsJs(row: ArrayLike<number>, u?: Float64Array): Float64Array {
    const input = this.inputs.encodeJs(row, u);
    if (this.stacked) {
      const { w, b } = this.group!.memberWeightsJs(this.groupIndex);
      return forwardJs(this.sizes, ACTIVATION, w, b, input);
    }
    return this.net!.applyJs(input);
  }

  /** Probabilities of target `position` from one row of outputs. */
  private probabilities(o: Float64Array, position: number): Float64Array {
    const k = this.ks[position];
    const at = this.outAt[position];
    if (k === 2) {
      // σ(−l) for the 0 outcome, not 1 − σ(l): the difference underflows float64 past |l| ≈ 37
      // (a random draw once made log p(x) off by 0.04 nats there).
      return Float64Array.from([sigmoid(-o[at]), sigmoid(o[at])]);
    }
    return softmaxJs(o, at, k);
  }

  conditional(position: number, row: Float32Array): Float64Array {
    return this.probabilities(this.outputsJs(row), position);
  }

  sample(rows: Float32Array[], rng: Rng): void {
    // (A stacked member keeps its group's copy: 783 members re-reading it would cost more than drawing.)
    this.net?.invalidate();
    const t = this.factor.targets;
    const u = new Float64Array(this.inputs.width);
    for (const row of rows) {
      // Every target reads the same parents y: one forward pass per row.
      const o = this.outputsJs(row, u);
      for (let i = 0; i < t.length; i++) {
        const p = this.probabilities(o, i);
        const r = rng.uniform();
        let acc = 0;
        let v = p.length - 1;
        for (let j = 0; j < p.length; j++) {
          acc += p[j];
          if (r < acc) {
            v = j;
            break;
          }
        }
        row[t[i]] = v;
      }
    }
  }

  invalidate(): void {
    this.net?.invalidate();
    this.group?.invalidate();
  }

  dispose(): void {
    this.group?.dispose();
    this.net?.dispose();
    this.inputs.dispose();
    this.targetCols.dispose();
    for (const c of this.runCols) c.dispose();
  }
}
