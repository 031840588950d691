/**
 * The PixelRNN network (van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural
 * Networks", ICML 2016) for an H×W×C image, layer for layer as src/compiler/count.ts counts it:
 *
 *   Row LSTM layer       gates(r) = K_is ⊛ x(r)  +  K_ss ⊛ h(r − 1)        row by row
 *                        K_is: 1×3 masked convolution along the row (d_in → 4h, bias)
 *                        K_ss: 1×3 convolution over the previous row's states (h → 4h)
 *   Diagonal BiLSTM      skew the map (row r shifted right by r), then per direction a
 *                        column-wise LSTM: gates(j) = K_is ⊛ x(j) + K_ss ⊛ h(j − 1) with
 *                        K_is 1×1 (d_in → 4h, bias) and K_ss 2×1 over the previous column
 *                        (h → 4h); unskew. The right-to-left direction (the image mirrored)
 *                        is shifted down one row so that it only sees rows above.
 *   LSTM cell            i, f, o = σ(·), g = tanh(·); c = f ⊙ c_prev + i ⊙ g; h = o ⊙ tanh(c)
 *   residual             layer l > 1 adds its input to its output (d_in = h)
 *   output               1×1 masked convolution h → C·out (bias): 1 Bernoulli logit or k
 *                        Categorical logits per channel
 *
 * Masks. Hidden unit j belongs to channel group ⌊j·C/h⌋ (so h ≥ C). At the centre tap, mask A
 * lets group g read input groups < g (the first layer: the pixel's earlier channels) and mask B
 * groups ≤ g (every later layer and the output); taps right of the centre are zero. In the
 * Diagonal BiLSTM the 1×1 input-to-state convolution has no left tap, so mask A on the first
 * layer is realized by reading the input one element back in raster order (x shifted by one
 * channel position, the previous pixel's last channel entering at channel 0) under mask B.
 * NOTE: the paper starts with a 7×7 mask-A convolution; gm's count (and so its network) does
 * not have it, and the shift gives the first layer the same causal context.
 *
 * The receptive field of this network is what src/compiler/receptive.ts derives and the
 * compiler draws as each pixel's parents; tests/models/pixelrnn.test.ts holds the two equal by
 * gradients.
 */
import * as tf from "@tensorflow/tfjs";
import type { NetworkSpec } from "../../compiler/ir";
import { tfSeed } from "../../rng";

/** The compiler's layer-level description of a PixelRNN. */
export type PixelRnnSpec = Extract<NetworkSpec, { kind: "pixelrnn" }>;

/** Group (channel) of hidden unit j among h units split over C channels. */
export function hiddenGroup(j: number, h: number, channels: number): number {
  return Math.floor((j * channels) / h);
}

/** A masked kernel: the variable, its constant 0/1 mask and their product for the forward pass. */
interface Masked {
  readonly w: tf.Variable;
  readonly mask: tf.Tensor2D | null;
}

interface RowLayer {
  readonly is: Masked; // [3·d_in, 4h]: taps (c − 1, c, c + 1) stacked along the rows
  readonly bias: tf.Variable; // [4h]
  readonly ss: tf.Variable; // [3h, 4h]
}

interface DiagDirection {
  readonly is: Masked; // [d_in, 4h]
  readonly bias: tf.Variable; // [4h]
  readonly ss: tf.Variable; // [2h, 4h]: taps (row − 1, row) of the previous column
}

type Layer = { kind: "row"; row: RowLayer } | { kind: "diag"; lr: DiagDirection; rl: DiagDirection };

/** The network: `logits(x)` for every element of a batch of images in one pass. */
export class PixelRnn {
  readonly variables: tf.Variable[] = [];
  private readonly layers: Layer[] = [];
  private readonly out: Masked;
  private readonly outBias: tf.Variable;
  private readonly consts: tf.Tensor[] = [];
  readonly H: number;
  readonly W: number;
  readonly C: number;
  readonly h: number;
  /** Outputs per channel: 1 Bernoulli logit or k Categorical logits. */
  readonly K: number;

  constructor(
    prefix: string,
    readonly spec: PixelRnnSpec,
    seed: number,
  ) {
    const { height: H, width: W, channels: C, hidden: h, outPerChannel: K } = spec;
    if (h < C) throw new RangeError(`pixelrnn: hidden (${h}) must be at least the channels (${C})`);
    this.H = H;
    this.W = W;
    this.C = C;
    this.h = h;
    this.K = K;
    let s = seed;
    const normal = (shape: number[], fanIn: number, name: string) =>
      this.track(
        tf.variable(tf.randomNormal(shape, 0, 1 / Math.sqrt(fanIn), "float32", tfSeed(s++)), true, `${prefix}/${name}`),
      );
    const bias = (name: string) => {
      // forget gates start at 1 (remember), the rest at 0
      const b = new Float32Array(4 * h);
      b.fill(1, h, 2 * h);
      return this.track(tf.variable(tf.tensor1d(b), true, `${prefix}/${name}`));
    };
    for (let l = 0; l < spec.layers; l++) {
      const din = l === 0 ? C : h;
      if (spec.variant === "row_lstm") {
        const is = { w: normal([3 * din, 4 * h], 2 * din, `l${l}/is`), mask: this.keep(this.rowMask(l, din)) };
        this.layers.push({
          kind: "row",
          row: { is, bias: bias(`l${l}/is_bias`), ss: normal([3 * h, 4 * h], 3 * h, `l${l}/ss`) },
        });
      } else {
        const dir = (d: string): DiagDirection => ({
          is: {
            w: normal([din, 4 * h], din, `l${l}/${d}/is`),
            mask: d === "lr" ? this.keep(this.diagMask(l, din)) : null,
          },
          bias: bias(`l${l}/${d}/is_bias`),
          ss: normal([2 * h, 4 * h], 2 * h, `l${l}/${d}/ss`),
        });
        this.layers.push({ kind: "diag", lr: dir("lr"), rl: dir("rl") });
      }
    }
    this.out = { w: normal([h, C * K], h, "out"), mask: this.keep(this.outMask()) };
    this.outBias = this.track(tf.variable(tf.zeros([C * K]), true, `${prefix}/out_bias`));
  }

  /** The centre-tap mask of layer `l`: "A" on the input (a pixel never sees itself), "B" after. */
  protected maskKind(l: number): "A" | "B" {
    return l === 0 ? "A" : "B";
  }

  /** Rows the right-to-left direction of the Diagonal BiLSTM is shifted down (1: causal). */
  protected rightToLeftShift(): number {
    return 1;
  }

  /** Group of input feature i of layer l (a channel on the first layer, a hidden unit after). */
  private inGroup(l: number, i: number): number {
    return l === 0 ? i : hiddenGroup(i, this.h, this.C);
  }

  /** Whether output group go may read input group gi at the centre tap. */
  private static allowed(kind: "A" | "B", gi: number, go: number): boolean {
    return kind === "A" ? gi < go : gi <= go;
  }

  private rowMask(l: number, din: number): tf.Tensor2D {
    const { h, C } = this;
    const kind = this.maskKind(l);
    const m = new Float32Array(3 * din * 4 * h);
    for (let t = 0; t < 3; t++)
      for (let i = 0; i < din; i++)
        for (let q = 0; q < 4 * h; q++) {
          const go = hiddenGroup(q % h, h, C);
          const keep = t === 0 ? true : t === 1 ? PixelRnn.allowed(kind, this.inGroup(l, i), go) : false;
          m[(t * din + i) * 4 * h + q] = keep ? 1 : 0;
        }
    return tf.tensor2d(m, [3 * din, 4 * h]);
  }

  private diagMask(l: number, din: number): tf.Tensor2D {
    const { h, C } = this;
    // First layer with mask A: the input is shifted one element back and read under mask B.
    const m = new Float32Array(din * 4 * h);
    for (let i = 0; i < din; i++)
      for (let q = 0; q < 4 * h; q++) {
        m[i * 4 * h + q] = PixelRnn.allowed("B", this.inGroup(l, i), hiddenGroup(q % h, h, C)) ? 1 : 0;
      }
    return tf.tensor2d(m, [din, 4 * h]);
  }

  private outMask(): tf.Tensor2D {
    const { h, C, K } = this;
    const m = new Float32Array(h * C * K);
    for (let j = 0; j < h; j++)
      for (let o = 0; o < C * K; o++) m[j * C * K + o] = hiddenGroup(j, h, C) <= Math.floor(o / K) ? 1 : 0;
    return tf.tensor2d(m, [h, C * K]);
  }

  private track(v: tf.Variable): tf.Variable {
    this.variables.push(v);
    return v;
  }

  private keep<T extends tf.Tensor>(t: T): T {
    this.consts.push(tf.keep(t));
    return t;
  }

  private kernel(m: Masked): tf.Tensor2D {
    return (m.mask ? tf.mul(m.w, m.mask) : m.w) as tf.Tensor2D;
  }

  /** Number of trainable parameters (masked weights included, as the compiler counts them). */
  paramCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  /**
   * Logits of every element: x [B, H', W, C] (values scaled to [0, 1]; H' ≤ H rows, the
   * network is causal so the first rows suffice) → [B, H', W, C, K].
   */
  logits(x: tf.Tensor4D): tf.Tensor {
    return tf.tidy(() => {
      const [B, Hr, W, C] = x.shape;
      let inp: tf.Tensor4D = x;
      this.layers.forEach((layer, l) => {
        let out =
          layer.kind === "row"
            ? this.rowLstm(inp, layer.row)
            : this.diagBiLstm(inp, layer.lr, layer.rl, l === 0 && this.maskKind(0) === "A");
        if (l > 0) out = tf.add(out, inp); // residual
        inp = out;
      });
      const flat = inp.reshape([B * Hr * W, this.h]);
      const logits = tf.add(tf.matMul(flat, this.kernel(this.out)), this.outBias);
      return logits.reshape([B, Hr, W, C, this.K]);
    });
  }

  /** One Row LSTM layer over x [B, H, W, D] → [B, H, W, h]. */
  private rowLstm(x: tf.Tensor4D, p: RowLayer): tf.Tensor4D {
    const [B, H, W, D] = x.shape;
    const h = this.h;
    // input-to-state for every row at once: taps c − 1, c, c + 1 side by side, one matmul
    const taps = tf.concat([shiftW(x, 1), x, shiftW(x, -1)], 3).reshape([B * H * W, 3 * D]);
    const is = tf.add(tf.matMul(taps, this.kernel(p.is)), p.bias).reshape([B, H, W, 4 * h]);
    const rows = unstackAxis(is, 1); // H × [B, W, 4h]
    let hp: tf.Tensor3D | null = null;
    let cp: tf.Tensor2D | null = null;
    const outs: tf.Tensor3D[] = [];
    for (let r = 0; r < H; r++) {
      let z = rows[r].reshape([B * W, 4 * h]) as tf.Tensor2D;
      if (hp !== null)
        z = tf.add(z, tf.matMul(tf.concat([shiftW3(hp, 1), hp, shiftW3(hp, -1)], 2).reshape([B * W, 3 * h]), p.ss));
      const [hn, cn] = lstmCell(z, cp, h);
      const hr = hn.reshape([B, W, h]) as tf.Tensor3D;
      hp = hr;
      cp = cn;
      outs.push(hr);
    }
    return stackAxis(outs, 1) as tf.Tensor4D;
  }

  /** One Diagonal BiLSTM layer over x [B, H, W, D] → [B, H, W, h]. */
  private diagBiLstm(x: tf.Tensor4D, lr: DiagDirection, rl: DiagDirection, firstShift: boolean): tf.Tensor4D {
    const lrIn = firstShift ? shiftRaster(x) : x;
    const left = this.diagLstm(lrIn, lr);
    const right = tf.reverse(this.diagLstm(tf.reverse(x, 2), rl), 2);
    return tf.add(left, shiftH(right, this.rightToLeftShift())) as tf.Tensor4D;
  }

  /** The left-to-right diagonal LSTM: skew, column by column, unskew. */
  private diagLstm(x: tf.Tensor4D, p: DiagDirection): tf.Tensor4D {
    const [B, H, W, D] = x.shape;
    const h = this.h;
    const is = tf
      .add(tf.matMul(x.reshape([B * H * W, D]), this.kernel(p.is)), p.bias)
      .reshape([B, H, W, 4 * h]) as tf.Tensor4D;
    const Ws = W + H - 1;
    const cols = unstackAxis(skew(is), 2); // Ws × [B, H, 4h]
    let hp: tf.Tensor3D | null = null;
    let cp: tf.Tensor2D | null = null;
    const outs: tf.Tensor3D[] = [];
    for (let j = 0; j < Ws; j++) {
      let z = cols[j].reshape([B * H, 4 * h]) as tf.Tensor2D;
      if (hp !== null) z = tf.add(z, tf.matMul(tf.concat([shiftH3(hp, 1), hp], 2).reshape([B * H, 2 * h]), p.ss));
      const [hn, cn] = lstmCell(z, cp, h);
      // Skewed positions outside the image (row r, column j − r ∉ [0, W)) hold no state.
      const valid = validColumn(j, H, W);
      const hv = tf.mul(hn.reshape([B, H, h]), valid) as tf.Tensor3D;
      hp = hv;
      cp = tf.mul(cn.reshape([B, H, h]), valid).reshape([B * H, h]) as tf.Tensor2D;
      outs.push(hv);
    }
    return unskew(stackAxis(outs, 2) as tf.Tensor4D, W);
  }

  /**
   * Incremental evaluation for sampling, one image row at a time: the logits of row r
   * ([B, W, C, K]) from that row's values xRow [B, W, C] (scaled; elements not drawn yet are
   * ignored by causality) and the states of row r − 1 in `cache`. With `finish`, also the cache
   * for row r + 1 (xRow must then be final). A row costs 1/H of a full pass, so drawing all H·W·C
   * elements costs about W·C full passes instead of H·W·C. Equal to `logits` (tests).
   */
  rowForward(xRow: tf.Tensor3D, cache: RowCache | null, finish: boolean): { logits: tf.Tensor; next?: RowCache } {
    const [B, W, C] = xRow.shape;
    const h = this.h;
    const inputs: tf.Tensor3D[] = [];
    const states: RowLayerCache[] = [];
    let inp = xRow;
    this.layers.forEach((layer, l) => {
      const prev = cache?.layers[l];
      inputs.push(inp);
      let out: tf.Tensor3D;
      if (layer.kind === "row") {
        const p = layer.row;
        const taps = tf.concat([shiftW3(inp, 1), inp, shiftW3(inp, -1)], 2).reshape([B * W, 3 * inp.shape[2]]);
        let z = tf.add(tf.matMul(taps, this.kernel(p.is)), p.bias) as tf.Tensor2D;
        if (prev?.h)
          z = tf.add(
            z,
            tf.matMul(tf.concat([shiftW3(prev.h, 1), prev.h, shiftW3(prev.h, -1)], 2).reshape([B * W, 3 * h]), p.ss),
          );
        const [hn, cn] = lstmCell(z, prev?.c ? (prev.c.reshape([B * W, h]) as tf.Tensor2D) : null, h);
        out = hn.reshape([B, W, h]) as tf.Tensor3D;
        states.push({ h: out, c: cn.reshape([B, W, h]) as tf.Tensor3D });
      } else {
        let u = inp;
        if (l === 0) {
          // the input one element back in raster order: the previous row's last value enters at (c = 0, k = 0)
          const first = cache?.x ? tf.slice(cache.x.reshape([B, W * C]), [0, W * C - 1], [B, 1]) : tf.zeros([B, 1]);
          u = tf
            .concat([first, tf.slice(inp.reshape([B, W * C]), [0, 0], [B, W * C - 1])], 1)
            .reshape([B, W, C]) as tf.Tensor3D;
        }
        const lr = this.diagRow(u, layer.lr, prev?.h ?? null);
        states.push({ h: lr, c: null });
        out = lr;
        if (prev?.rlH) out = tf.add(out, prev.rlH) as tf.Tensor3D; // right-to-left, one row down
      }
      if (l > 0) out = tf.add(out, inp) as tf.Tensor3D;
      inp = out;
    });
    const logits = tf
      .add(tf.matMul(inp.reshape([B * W, h]), this.kernel(this.out)), this.outBias)
      .reshape([B, W, C, this.K]);
    if (!finish) return { logits };
    const next: RowCache = {
      x: xRow,
      layers: this.layers.map((layer, l) => {
        if (layer.kind === "row") return { ...states[l], rlH: null };
        const mirrored = (t: tf.Tensor3D | null) => (t ? (tf.reverse(t, 1) as tf.Tensor3D) : null);
        const rl = tf.reverse(
          this.diagRow(mirrored(inputs[l])!, layer.rl, mirrored(cache?.layers[l]?.rlH ?? null)),
          1,
        ) as tf.Tensor3D;
        return { h: states[l].h, c: null, rlH: rl };
      }),
    };
    return { logits, next };
  }

  /** The diagonal LSTM along one row, left to right: state (r, c) from (r, c − 1) and (r − 1, c). */
  private diagRow(u: tf.Tensor3D, p: DiagDirection, above: tf.Tensor3D | null): tf.Tensor3D {
    const [B, W, D] = u.shape;
    const h = this.h;
    const is = tf.add(tf.matMul(u.reshape([B * W, D]), this.kernel(p.is)), p.bias).reshape([B, W, 4 * h]);
    const cols = unstackAxis(is, 1) as tf.Tensor2D[];
    const aboveCols = above ? (unstackAxis(above, 1) as tf.Tensor2D[]) : null;
    let hl: tf.Tensor2D | null = null;
    let cl: tf.Tensor2D | null = null;
    const outs: tf.Tensor2D[] = [];
    for (let c = 0; c < W; c++) {
      let z = cols[c];
      if (aboveCols || hl) {
        const top = aboveCols ? aboveCols[c] : tf.zeros([B, h]);
        const left = hl ?? tf.zeros([B, h]);
        z = tf.add(z, tf.matMul(tf.concat([top, left], 1), p.ss)) as tf.Tensor2D;
      }
      [hl, cl] = lstmCell(z, cl, h);
      outs.push(hl);
    }
    return stackAxis(outs, 1) as tf.Tensor3D;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
    for (const c of this.consts) c.dispose();
  }
}

/** One layer's states of the previous row while sampling. */
export interface RowLayerCache {
  /** Row LSTM: h; Diagonal BiLSTM: the left-to-right h ([B, W, h]). */
  h: tf.Tensor3D | null;
  /** Row LSTM: the cell state ([B, W, h]). */
  c: tf.Tensor3D | null;
  /** Diagonal BiLSTM: the right-to-left h of the previous row (its output for this row). */
  rlH?: tf.Tensor3D | null;
}

/** What `rowForward` carries from one row to the next. */
export interface RowCache {
  /** The previous row's values [B, W, C]. */
  x: tf.Tensor3D;
  layers: RowLayerCache[];
}

/** Every tensor a row cache holds. */
export function rowCacheTensors(c: RowCache): tf.Tensor[] {
  return [c.x, ...c.layers.flatMap((l) => [l.h, l.c, l.rlH ?? null])].filter((t): t is tf.Tensor3D => t !== null);
}

/** One LSTM cell on pre-activations z [N, 4h] (gates i, f, o, g) and the previous cell state. */
function lstmCell(z: tf.Tensor2D, cPrev: tf.Tensor2D | null, h: number): [tf.Tensor2D, tf.Tensor2D] {
  const [i, f, o, g] = tf.split(z, [h, h, h, h], 1);
  const ig = tf.mul(tf.sigmoid(i), tf.tanh(g));
  const c = (cPrev ? tf.add(tf.mul(tf.sigmoid(f), cPrev), ig) : ig) as tf.Tensor2D;
  return [tf.mul(tf.sigmoid(o), tf.tanh(c)) as tf.Tensor2D, c];
}

/** x [B, H, W, D] moved `by` columns right (by > 0) or left (by < 0), zeros entering. */
function shiftW(x: tf.Tensor4D, by: number): tf.Tensor4D {
  const [B, H, W, D] = x.shape;
  const k = Math.abs(by);
  if (k >= W) return tf.zerosLike(x);
  return by > 0
    ? tf.pad(tf.slice(x, [0, 0, 0, 0], [B, H, W - k, D]), [
        [0, 0],
        [0, 0],
        [k, 0],
        [0, 0],
      ])
    : tf.pad(tf.slice(x, [0, 0, k, 0], [B, H, W - k, D]), [
        [0, 0],
        [0, 0],
        [0, k],
        [0, 0],
      ]);
}

/** x [B, W, D] moved `by` columns right or left, zeros entering. */
function shiftW3(x: tf.Tensor3D, by: number): tf.Tensor3D {
  return shiftW(x.expandDims(1) as tf.Tensor4D, by).squeeze([1]) as tf.Tensor3D;
}

/** x [B, H, W, D] moved `by` rows down, zeros entering at the top. */
function shiftH(x: tf.Tensor4D, by: number): tf.Tensor4D {
  const [B, H, W, D] = x.shape;
  if (by === 0) return x;
  if (by >= H) return tf.zerosLike(x);
  return tf.pad(tf.slice(x, [0, 0, 0, 0], [B, H - by, W, D]), [
    [0, 0],
    [by, 0],
    [0, 0],
    [0, 0],
  ]);
}

/** x [B, H, D] moved `by` rows down. */
function shiftH3(x: tf.Tensor3D, by: number): tf.Tensor3D {
  return shiftH(x.expandDims(2) as tf.Tensor4D, by).squeeze([2]) as tf.Tensor3D;
}

/** Every element moved one place later in raster order over (row, column, channel); zero first. */
function shiftRaster(x: tf.Tensor4D): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const flat = x.reshape([B, H * W * C]);
  return tf
    .pad(tf.slice(flat, [0, 0], [B, H * W * C - 1]), [
      [0, 0],
      [1, 0],
    ])
    .reshape([B, H, W, C]);
}

/**
 * [B, H, W, D] → [B, H, W + H − 1, D]: row r moved r columns right. By reshapes instead of a
 * slice per row: pad each row to W + H, flatten, keep the first H·(W + H − 1) positions and read
 * them as rows of W + H − 1 — row r then starts r places earlier, i.e. r columns later.
 */
function skew(x: tf.Tensor4D): tf.Tensor4D {
  const [B, H, W, D] = x.shape;
  const L = W + H - 1;
  const flat = tf
    .pad(x, [
      [0, 0],
      [0, 0],
      [0, H],
      [0, 0],
    ])
    .reshape([B, H * (W + H), D]);
  return tf.slice(flat, [0, 0, 0], [B, H * L, D]).reshape([B, H, L, D]);
}

/**
 * The inverse of `skew`: [B, H, W + H − 1, D] → [B, H, W, D]. Flattened rows of L = W + H − 1
 * read as rows of L + 1 start one place later each, which undoes the shift; then the first W columns.
 */
function unskew(x: tf.Tensor4D, W: number): tf.Tensor4D {
  const [B, H, L, D] = x.shape;
  const flat = tf
    .pad(x.reshape([B, H * L, D]), [
      [0, 0],
      [0, H],
      [0, 0],
    ])
    .reshape([B, H, L + 1, D]);
  return tf.slice(flat, [0, 0, 0, 0], [B, H, W, D]) as tf.Tensor4D;
}

/** [1, H, 1]: 1 where skewed column j of row r is inside the image (0 ≤ j − r < W). */
function validColumn(j: number, H: number, W: number): tf.Tensor3D {
  const v = new Float32Array(H);
  for (let r = 0; r < H; r++) v[r] = j - r >= 0 && j - r < W ? 1 : 0;
  return tf.tensor3d(v, [1, H, 1]);
}

/**
 * `tf.unstack` along `axis`, as a transpose that brings the axis first and an unstack of the
 * leading axis (whose slices are contiguous: wasm's Unpack along an inner axis copies element by
 * element in JavaScript, 1.3 s a step at batch 8); a size-1 axis is squeezed (tfjs cannot
 * differentiate the unstack of one slice).
 */
function unstackAxis(x: tf.Tensor, axis: number): tf.Tensor[] {
  if (x.shape[axis] === 1) return [tf.squeeze(x, [axis])];
  if (axis === 0) return tf.unstack(x, 0);
  const perm = [axis, ...x.shape.map((_, i) => i).filter((i) => i !== axis)];
  return tf.unstack(tf.transpose(x, perm), 0);
}

/** `tf.stack` along `axis` (the counterpart of `unstackAxis`): stacked first, then transposed. */
function stackAxis(xs: tf.Tensor[], axis: number): tf.Tensor {
  if (xs.length === 1) return tf.expandDims(xs[0], axis);
  const s = tf.stack(xs, 0);
  if (axis === 0) return s;
  const rank = s.shape.length;
  // s has the new axis first; move it to `axis`.
  const perm: number[] = [];
  for (let i = 1; i < rank; i++) {
    if (perm.length === axis) perm.push(0);
    perm.push(i);
  }
  if (perm.length < rank) perm.push(0);
  return tf.transpose(s, perm);
}
