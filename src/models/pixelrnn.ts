/**
 * `p(x) = pixelrnn(kind = row_lstm | diagonal_bilstm, hidden = h, layers = L)`: PixelRNN
 * (van den Oord, Kalchbrenner & Kavukcuoglu, ICML 2016) over an image x of shape [H, W] or
 * [H, W, C], elements in raster order (rows, then columns, then channels):
 *
 *   p(x) = Π_i p(x_i | x_<i)        each conditional read off one network (networks/pixelrnn.ts)
 *
 * in which x_i sees exactly the pixels of its receptive field (the compiled parents: every
 * predecessor for the Diagonal BiLSTM, a triangle above the pixel for the Row LSTM; see
 * docs/counting.md). Bernoulli pixels get one logit each; Categorical(k) pixels a k-way softmax
 * per channel. The network reads a pixel as one number: 0/1, or v / (k − 1).
 *
 * - `logProb`: exact log-likelihood of a batch in one pass (the network is causal).
 * - `sample`: ancestral, element by element in raster order, the whole batch on the backend per
 *   element, one image row per evaluation (`PixelRnn.rowForward`: the states of the row above are
 *   kept), so a 28×28 image costs about 28 full passes, not 784.
 */
import * as tf from "@tensorflow/tfjs";
import { variableOf } from "../compiler/elements";
import type { FactorIR, ModelIR } from "../compiler/ir";
import type { Rng } from "../rng";
import { inputScale } from "./logistic";
import { PixelRnn, rowCacheTensors, type PixelRnnSpec, type RowCache } from "./networks/pixelrnn";
import { ModelError, type FactorModule } from "./types";

/** Rows of a batch drawn together in `sample` (bounds the backend's memory). */
const SAMPLE_BATCH = 256;

/** Builds the network; a test passes a subclass (a planted mask bug). */
export type PixelRnnFactory = (prefix: string, spec: PixelRnnSpec, seed: number) => PixelRnn;

/** The PixelRNN factor module. */
export class PixelRnnModule implements FactorModule {
  readonly gradient = true;
  readonly net: PixelRnn;
  readonly variables: tf.Variable[];
  /** First element of the image (its targets are offset … offset + size − 1 in raster order). */
  private readonly offset: number;
  private readonly size: number;
  private readonly scale: number;
  private readonly bernoulli: boolean;

  constructor(
    readonly factor: FactorIR,
    ir: ModelIR,
    name: string,
    seed: number,
    make: PixelRnnFactory = (p, s, sd) => new PixelRnn(p, s, sd),
  ) {
    const spec = factor.network;
    if (spec?.kind !== "pixelrnn")
      throw new ModelError(`\`${factor.source}\`: no PixelRNN network in the factor`, "M0102");
    const v = variableOf(ir.variables, factor.targets[0]);
    this.offset = v.offset;
    this.size = v.size;
    if (factor.targets.some((t, i) => t !== v.offset + i)) {
      throw new ModelError(`\`${factor.source}\`: PixelRNN visits the whole image in raster order`, "M0102");
    }
    this.scale = inputScale(v);
    this.bernoulli = v.domain.kind === "bernoulli";
    if (spec.hidden < spec.channels) {
      throw new ModelError(
        `\`${factor.source}\`: hidden (${spec.hidden}) must be at least the number of channels (${spec.channels})`,
        "M0102",
      );
    }
    this.net = make(name, spec, seed);
    this.variables = this.net.variables;
  }

  private get spec(): PixelRnnSpec {
    return this.net.spec;
  }

  /** The image columns of x [B, n] as the network's input [B, H, W, C], scaled to [0, 1]. */
  images(x: tf.Tensor2D): tf.Tensor4D {
    const { height: H, width: W, channels: C } = this.spec;
    const cols =
      x.shape[1] === this.size && this.offset === 0 ? x : tf.slice(x, [0, this.offset], [x.shape[0], this.size]);
    return tf.mul(cols, this.scale).reshape([x.shape[0], H, W, C]);
  }

  /**
   * log p(x_i | parents) of every element [B, size], the network reading `input`'s image and the
   * outcomes taken from `values` (by default the same tensor; a gradient test passes them apart).
   */
  elementLogProbs(input: tf.Tensor2D, values: tf.Tensor2D = input): tf.Tensor2D {
    return tf.tidy(() => {
      const B = input.shape[0];
      const logits = this.net.logits(this.images(input));
      const xv =
        values.shape[1] === this.size && this.offset === 0
          ? values
          : tf.slice(values, [0, this.offset], [B, this.size]);
      if (this.bernoulli) {
        const l = logits.reshape([B, this.size]);
        // log σ(l) = −softplus(−l); log(1 − σ(l)) = −softplus(l)
        return tf.neg(tf.add(tf.mul(xv, tf.softplus(tf.neg(l))), tf.mul(tf.sub(1, xv), tf.softplus(l)))) as tf.Tensor2D;
      }
      const K = this.spec.outPerChannel;
      const logp = tf.logSoftmax(logits.reshape([B, this.size, K]), 2);
      return tf.sum(tf.mul(logp, tf.oneHot(tf.cast(xv, "int32"), K)), 2) as tf.Tensor2D;
    });
  }

  logProb(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.sum(this.elementLogProbs(x), 1) as tf.Tensor1D);
  }

  /** Probabilities of element `position` for each image of `imgs` [n, H, W, C] (raw values), rows 0..r fed. */
  private distributions(imgs: Float32Array, n: number, position: number): Float64Array[] {
    const { height: H, width: W, channels: C, outPerChannel: K } = this.spec;
    const r = Math.floor(position / (W * C));
    const c = Math.floor(position / C) % W;
    const ch = position % C;
    const rows = r + 1;
    const l = tf.tidy(() => {
      const x = tf.tensor4d(imgs.subarray(0, n * H * W * C), [n, H, W, C]);
      const top = rows === H ? x : tf.slice(x, [0, 0, 0, 0], [n, rows, W, C]);
      return tf
        .slice(this.net.logits(tf.mul(top, this.scale) as tf.Tensor4D), [0, r, c, ch, 0], [n, 1, 1, 1, K])
        .reshape([n, K]);
    });
    const v = l.dataSync();
    l.dispose();
    const out: Float64Array[] = [];
    for (let b = 0; b < n; b++) out.push(this.probabilities(v, b));
    return out;
  }

  conditional(position: number, row: Float32Array): Float64Array {
    return this.distributions(row.slice(this.offset, this.offset + this.size), 1, position)[0];
  }

  sample(rows: Float32Array[], rng: Rng): void {
    const S = this.size;
    const { height: H, width: W, channels: C, outPerChannel: K } = this.spec;
    const rowSize = W * C;
    for (let start = 0; start < rows.length; start += SAMPLE_BATCH) {
      const chunk = rows.slice(start, start + SAMPLE_BATCH);
      const n = chunk.length;
      const imgs = new Float32Array(n * S);
      const rowOf = (r: number) => {
        const v = new Float32Array(n * rowSize);
        for (let b = 0; b < n; b++) v.set(imgs.subarray(b * S + r * rowSize, b * S + (r + 1) * rowSize), b * rowSize);
        return tf.mul(tf.tensor3d(v, [n, W, C]), this.scale) as tf.Tensor3D;
      };
      let cache: RowCache | null = null;
      try {
        for (let r = 0; r < H; r++) {
          for (let q = 0; q < rowSize; q++) {
            const c = Math.floor(q / C);
            const ch = q % C;
            const v = tf.tidy(() =>
              tf.slice(this.net.rowForward(rowOf(r), cache, false).logits, [0, c, ch, 0], [n, 1, 1, K]).dataSync(),
            );
            for (let b = 0; b < n; b++) imgs[b * S + r * rowSize + q] = draw(this.probabilities(v, b), rng.uniform());
          }
          const next: RowCache = tf.tidy(() => {
            const nx = this.net.rowForward(rowOf(r), cache, true).next!;
            for (const t of rowCacheTensors(nx)) tf.keep(t);
            return nx as unknown as tf.TensorContainer;
          }) as unknown as RowCache;
          if (cache) tf.dispose(rowCacheTensors(cache));
          cache = next;
        }
      } finally {
        if (cache) tf.dispose(rowCacheTensors(cache));
      }
      chunk.forEach((row, b) => row.set(imgs.subarray(b * S, (b + 1) * S), this.offset));
    }
  }

  /** The distribution of example b's element from its logits (1 Bernoulli logit or K per example). */
  private probabilities(v: ArrayLike<number>, b: number): Float64Array {
    const K = this.spec.outPerChannel;
    if (this.bernoulli) {
      // σ(−l), not 1 − σ(l), which underflows float64 for a confident logit.
      return Float64Array.from([1 / (1 + Math.exp(v[b])), 1 / (1 + Math.exp(-v[b]))]);
    }
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, v[b * K + k]);
    const p = new Float64Array(K);
    let z = 0;
    for (let k = 0; k < K; k++) z += p[k] = Math.exp(v[b * K + k] - m);
    for (let k = 0; k < K; k++) p[k] /= z;
    return p;
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** The outcome whose cumulative probability first exceeds u. */
function draw(p: Float64Array, u: number): number {
  let acc = 0;
  for (let k = 0; k < p.length; k++) {
    acc += p[k];
    if (u < acc) return k;
  }
  return p.length - 1;
}
