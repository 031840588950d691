/**
 * Wasm `Conv2D` / `FusedConv2D` with `pad: "same"` hands XNNPACK its TensorFlow-SAME flag, and for
 * some shapes (a stride that skips the last input rows, or an input smaller than the filter, e.g.
 * H=3 K=2 S=3, or H=1 K=2) the result is wrong — zeros or shifted windows. With the padding spelled
 * out (the amounts tfjs itself computes for "same") XNNPACK is right, so the wrapper does that.
 */
import * as tf from "@tensorflow/tfjs";
import { GM_FIX, type FixedKernelConfig, replaceKernel, restoreKernel } from "./util";

function explicitSame(config: tf.KernelConfig): FixedKernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const attrs = args.attrs as Record<string, unknown>;
    if (attrs.pad !== "same") return config.kernelFunc(args);
    const x = args.inputs.x as tf.TensorInfo;
    const filter = args.inputs.filter as tf.TensorInfo;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides as number | [number, number],
      (attrs.dilations as number | [number, number] | undefined) ?? 1,
      "same",
      undefined,
      false,
      tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as "NHWC" | "NCHW" | undefined) ?? "NHWC"),
    );
    const { top, bottom, left, right } = info.padInfo;
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    return config.kernelFunc({ ...args, attrs: { ...attrs, pad } as unknown as tf.NamedAttrMap });
  };
  return { ...config, kernelFunc, [GM_FIX]: { stock: config } };
}

const replaced = new Map<string, tf.KernelConfig | undefined>();

/** Wraps wasm Conv2D and FusedConv2D (idempotent); returns the kernels it wrapped. */
export function installConvSameFix(backendName = "wasm"): string[] {
  const done: string[] = [];
  for (const kernelName of [tf.Conv2D, tf.FusedConv2D]) {
    const current = tf.getKernel(kernelName, backendName) as FixedKernelConfig | undefined;
    if (current == null || current[GM_FIX] != null) continue;
    replaced.set(`${kernelName}@${backendName}`, replaceKernel(explicitSame(current)));
    done.push(`${kernelName}@${backendName}`);
  }
  return done;
}

export function uninstallConvSameFix(): void {
  for (const [key, stock] of replaced) {
    const [kernelName, backendName] = key.split("@");
    restoreKernel(kernelName, backendName, stock);
  }
  replaced.clear();
}
