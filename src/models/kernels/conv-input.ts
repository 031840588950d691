/**
 * `Conv2DBackpropInput` for wasm through XNNPACK's forward convolution.
 *
 * The stock wasm kernel is a plain loop (~3 GFLOP/s here); it computes both the input gradient of
 * every conv2d and the forward pass of `conv2dTranspose` (DCGAN-style generators). Here it is
 * written as forward convolutions, which XNNPACK runs at ~20 GFLOP/s:
 *
 * - stride 1: dx = conv2d(dy, reverse(W)ᵀ, "full" padding) — W flipped in space, its channel axes
 *   swapped;
 * - stride s: the "sub-pixel" split. Input rows fall into s phases by (row + pad) mod s, and each
 *   phase only meets every s-th filter row, so dx is s_h·s_w stride-1 convolutions of dy with the
 *   sub-filters W[r::s] (flipped), interleaved (pack along inner axes, reshape) and cropped. No
 *   multiply-add is wasted on inserted zeros.
 *
 * Used from 4 input channels up (the convolutions' output channels) and for strides up to 2x2;
 * elsewhere the stock kernel is faster.
 */
import * as tf from "@tensorflow/tfjs";
import {
  GM_FIX,
  type FixedKernelConfig,
  type KernelBackend,
  Scratch,
  type TensorInfo,
  replaceKernel,
  restoreKernel,
} from "./util";

/**
 * One spatial dimension of the sub-pixel split. Input row i (padded position p = i + top) gets
 * dy[⌊p/s⌋ − m]·W[r + s·m] over m, with r = p mod s: for each phase r, a stride-1 correlation of dy
 * with the flipped taps W[r], W[r + s], …. All phases compute rows q ∈ [qLo, qLo + q) (a few beyond
 * the input are cropped after interleaving: interleaved row (q − qLo)·s + r is input row
 * q·s + r − top, so input row 0 sits at `offset`).
 */
export function plan1d(size: number, k: number, s: number, top: number, outSize: number) {
  const qLo = Math.ceil((top - s + 1) / s);
  const qHi = Math.ceil((size + top) / s);
  const phases: Array<{ r: number; taps: number; padT: number }> = [];
  for (let r = 0; r < s; r++) {
    const taps = Math.max(0, Math.ceil((k - r) / s));
    phases.push({ r, taps, padT: taps - 1 - qLo });
  }
  return { q: qHi - qLo, offset: top - s * qLo, padB: qHi - outSize, phases };
}

function makeConfig(stock: tf.KernelConfig): FixedKernelConfig {
  const { backendName } = stock;
  const kernelFunc: tf.KernelFunc = (args) => {
    const at = args.attrs as Record<string, unknown>;
    const backend = args.backend as KernelBackend;
    let dy = args.inputs.dy as TensorInfo;
    const filter = args.inputs.filter as TensorInfo;
    const dataFormat = (at.dataFormat as "NHWC" | "NCHW" | undefined) ?? "NHWC";
    let inputShape = at.inputShape as [number, number, number, number];
    const s = new Scratch(backendName, backend);
    try {
      if (dataFormat === "NCHW") {
        dy = s.run("Transpose", { x: dy }, { perm: [0, 2, 3, 1] });
        inputShape = [inputShape[0], inputShape[2], inputShape[3], inputShape[1]];
      }
      const info = tf.backend_util.computeConv2DInfo(
        inputShape,
        filter.shape as [number, number, number, number],
        at.strides as number | [number, number],
        1,
        at.pad as "same" | "valid" | number | tf.backend_util.ExplicitPadding,
        at.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
        false,
        "channelsLast",
      );
      const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
      const {
        outHeight: oh,
        outWidth: ow,
        strideHeight: sh,
        strideWidth: sw,
        filterHeight: kh,
        filterWidth: kw,
      } = info;
      const { top, left } = info.padInfo;
      // With very few input channels (the convolutions' output channels) XNNPACK is inefficient, and
      // from stride 3 on the 9+ small phase convolutions cost more than they save: the stock loop
      // is faster there (measured, docs/backends.md).
      if (ci < 4 || sh * sw > 4) {
        s.release();
        return stock.kernelFunc(args);
      }

      const ph = plan1d(h, kh, sh, top, oh);
      const pw = plan1d(w, kw, sw, left, ow);
      // One stride-1 convolution per (row phase, column phase), each with its sub-filter, then
      // interleaved: phase (rh, rw) row q, column p goes to row q·sh + rh, column p·sw + rw. (Packing
      // along inner axes then reshaping does that without a 6-D transpose, which wasm runs at
      // ~140 ns per element.)
      const rows: TensorInfo[] = [];
      for (const a of ph.phases) {
        const cols: TensorInfo[] = [];
        for (const b of pw.phases) {
          if (a.taps === 0 || b.taps === 0) {
            cols.push(s.run("Fill", [], { shape: [n, ph.q, pw.q, ci], value: 0, dtype: "float32" }));
            continue;
          }
          // Sub-filter W[r + s·m] (m = 0..taps−1), flipped in space, channels swapped: [mh, mw, Co, Ci].
          let sub = filter;
          if (sh > 1 || sw > 1) {
            sub = s.run(
              "StridedSlice",
              { x: filter },
              {
                begin: [a.r, b.r, 0, 0],
                end: [kh, kw, ci, co],
                strides: [sh, sw, 1, 1],
                beginMask: 0,
                endMask: 0,
                ellipsisMask: 0,
                newAxisMask: 0,
                shrinkAxisMask: 0,
              },
            );
          }
          const f = s.run("Transpose", { x: s.run("Reverse", { x: sub }, { dims: [0, 1] }) }, { perm: [0, 1, 3, 2] });
          // Negative padding crops dy instead.
          const [ct, cb, cl, cr] = [
            Math.max(0, -a.padT),
            Math.max(0, -ph.padB),
            Math.max(0, -b.padT),
            Math.max(0, -pw.padB),
          ];
          // Cropped to nothing (a window wholly in the padding, e.g. 1 input row under 2 rows of top
          // padding): this phase's rows are zero. A zero-size input to XNNPACK's Conv2D returned
          // uninitialized memory instead (seen as 0.0885 where cpu gives 0).
          if (oh - ct - cb <= 0 || ow - cl - cr <= 0) {
            cols.push(s.run("Fill", [], { shape: [n, ph.q, pw.q, ci], value: 0, dtype: "float32" }));
            continue;
          }
          let d = dy;
          if (ct || cb || cl || cr)
            d = s.run("Slice", { x: dy }, { begin: [0, ct, cl, 0], size: [n, oh - ct - cb, ow - cl - cr, co] });
          const pad = [
            [0, 0],
            [Math.max(0, a.padT), Math.max(0, ph.padB)],
            [Math.max(0, b.padT), Math.max(0, pw.padB)],
            [0, 0],
          ];
          cols.push(
            s.run("Conv2D", { x: d, filter: f }, { strides: [1, 1], dilations: [1, 1], pad, dataFormat: "NHWC" }),
          );
        }
        rows.push(
          sw > 1
            ? s.run("Reshape", { x: s.run("Pack", cols, { axis: 3 }) }, { shape: [n, ph.q, pw.q * sw, ci] }) // [N, Qh, Qw, sw, Ci] →
            : cols[0],
        );
      }
      let dx =
        sh > 1
          ? s.run("Reshape", { x: s.run("Pack", rows, { axis: 2 }) }, { shape: [n, ph.q * sh, pw.q * sw, ci] })
          : rows[0];
      if (dx.shape[1] !== h || dx.shape[2] !== w) {
        dx = s.run("Slice", { x: dx }, { begin: [0, ph.offset, pw.offset, 0], size: [n, h, w, ci] });
      }
      if (dataFormat === "NCHW") dx = s.run("Transpose", { x: dx }, { perm: [0, 3, 1, 2] });
      if (dx.shape[1] !== (dataFormat === "NCHW" ? ci : h))
        throw new Error(`Conv2DBackpropInput: internal shape error ${dx.shape}`);
      s.release(dx);
      return dx;
    } catch (e) {
      s.release();
      throw e;
    }
  };
  return { ...stock, kernelFunc, [GM_FIX]: { stock } };
}

let replaced: tf.KernelConfig | undefined;
let installed = false;

/** Replaces wasm's Conv2DBackpropInput (idempotent); returns what it replaced. */
export function installConvInputFix(backendName = "wasm"): string[] {
  const current = tf.getKernel(tf.Conv2DBackpropInput, backendName) as FixedKernelConfig | undefined;
  if (installed || current == null || current[GM_FIX] != null) return [];
  replaced = replaceKernel(makeConfig(current));
  installed = true;
  return [`${tf.Conv2DBackpropInput}@${backendName}`];
}

export function uninstallConvInputFix(backendName = "wasm"): void {
  if (!installed) return;
  restoreKernel(tf.Conv2DBackpropInput, backendName, replaced);
  installed = false;
}
