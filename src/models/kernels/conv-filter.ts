/**
 * `Conv2DBackpropFilter` for the wasm backend, which does not register it: without it the filters
 * of `conv2d`, `conv2dTranspose`, `conv1d` and `tf.layers.conv2d` cannot train.
 *
 * dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·sh + kh − top, ow·sw + kw − left, ci] · dy[n, oh, ow, co]
 *
 * That is itself a convolution, which XNNPACK runs fast: over a "batch" of the Ci input channels,
 * with x as the image (N as its channels) and dy as the filter (N → Co), dilated by the stride:
 *
 *   xt  = transpose(x)  to [Ci, H, W, N]
 *   dyt = transpose(dy) to [OH, OW, N, Co]
 *   g   = conv2d(xt, dyt, strides 1, dilations [sh, sw], the forward padding) → [Ci, KH, KW, Co]
 *   dW  = transpose(g)  to [KH, KW, Ci, Co]
 */
import * as tf from "@tensorflow/tfjs";
import { GM_FIX, type FixedKernelConfig, type KernelBackend, Scratch, type TensorInfo } from "./util";

export function makeConv2DBackpropFilterConfig(backendName = "wasm"): FixedKernelConfig {
  return {
    kernelName: tf.Conv2DBackpropFilter,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const at = attrs as Record<string, unknown>;
      let x = inputs.x as TensorInfo;
      let dy = inputs.dy as TensorInfo;
      const strides = at.strides as number | [number, number];
      const pad = at.pad as "valid" | "same" | number | tf.backend_util.ExplicitPadding;
      const dataFormat = (at.dataFormat as "NHWC" | "NCHW" | undefined) ?? "NHWC";
      const dimRoundingMode = at.dimRoundingMode as "floor" | "round" | "ceil" | undefined;
      const filterShape = at.filterShape as [number, number, number, number];
      const s = new Scratch(backendName, backend as KernelBackend);
      try {
        if (dataFormat === "NCHW") {
          x = s.run("Transpose", { x }, { perm: [0, 2, 3, 1] });
          dy = s.run("Transpose", { x: dy }, { perm: [0, 2, 3, 1] });
        }
        const info = tf.backend_util.computeConv2DInfo(
          x.shape as [number, number, number, number],
          filterShape,
          strides,
          1,
          pad,
          dimRoundingMode,
          false,
          "channelsLast",
        );
        const { inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
        const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
        const { top, left } = info.padInfo;
        const [, h, w] = x.shape;
        // Padded rows/columns that the taps read: (out - 1)·stride + filter (extra ones are cropped
        // from the result below).
        const bottom = Math.max(0, (oh - 1) * sh + kh - top - h);
        const right = Math.max(0, (ow - 1) * sw + kw - left - w);
        const xt = s.run("Transpose", { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, N]
        const dyt = s.run("Transpose", { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, N, Co]
        let g = s.run(
          "Conv2D",
          { x: xt, filter: dyt },
          {
            strides: [1, 1],
            dilations: [sh, sw],
            pad: [
              [0, 0],
              [top, bottom],
              [left, right],
              [0, 0],
            ],
            dataFormat: "NHWC",
          },
        ); // [Ci, ≥KH, ≥KW, Co]
        if (g.shape[1] !== kh || g.shape[2] !== kw) {
          g = s.run("Slice", { x: g }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] });
        }
        const out = s.run("Transpose", { x: g }, { perm: [1, 2, 0, 3] }); // [KH, KW, Ci, Co]
        s.release(out);
        return out;
      } catch (e) {
        s.release();
        throw e;
      }
    },
    [GM_FIX]: { stock: undefined },
  };
}
