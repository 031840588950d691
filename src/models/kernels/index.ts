/**
 * Project-wide fixes to TensorFlow.js kernels and gradients (see docs/backends.md).
 *
 * `installKernelFixes()` is called by `initBackend()`; it is idempotent and cheap, and model code
 * that does not go through `initBackend()` (tests, benches) may call it directly.
 */
import * as tf from "@tensorflow/tfjs";
// Registers the wasm backend and its kernels, so that the wasm kernels below can be wrapped and
// completed. (Registration only: the wasm module itself is instantiated by `tf.setBackend`.)
import "@tensorflow/tfjs-backend-wasm";
import { makeConv2DBackpropFilterConfig } from "./conv-filter";
import { installConvInputFix, uninstallConvInputFix } from "./conv-input";
import { installConvSameFix, uninstallConvSameFix } from "./conv-same";
import {
  installMatMulGradFix,
  installMatMulKernelFix,
  uninstallMatMulGradFix,
  uninstallMatMulKernelFix,
} from "./matmul";
import { makeUnsortedSegmentSumConfig } from "./segment-sum";
import { installSliceFix, uninstallSliceFix } from "./slice";
import { GM_FIX, type FixedKernelConfig } from "./util";

export {
  matMul,
  batchMatMulGradConfig,
  explicitTransposeGradConfig,
  installMatMulGradFix,
  installMatMulKernelFix,
  uninstallMatMulGradFix,
  uninstallMatMulKernelFix,
} from "./matmul";
export { unsortedSegmentSumJs } from "./segment-sum";
export { enableWasmThreads, resolveWasmThreads, type WasmThreadsSetup } from "./wasm-threads";

export interface KernelFixOptions {
  /** Backends whose kernels are wrapped / completed. Default: ["wasm"]. */
  backends?: string[];
  /** Re-register the gradient of BatchMatMul (all backends). Default: true. */
  gradients?: boolean;
  /**
   * Write that gradient with explicit transposes (plain matmuls only). Default: false — the wasm
   * kernel wrapper already makes transposed matmuls plain, and native backends prefer the flags.
   */
  explicitTransposeGradient?: boolean;
}

const added = new Map<string, string[]>(); // backend → kernels we registered (missing ones)
let gradientsInstalled = false;

function addMissing(config: FixedKernelConfig, into: string[]): void {
  const current = tf.getKernel(config.kernelName, config.backendName);
  if (current != null) return; // registered upstream (a newer tfjs) or by us already
  tf.registerKernel(config);
  into.push(config.kernelName);
}

/**
 * Installs the project's kernel fixes. Idempotent: a second call changes nothing and returns [].
 * Returns a line per fix installed by this call, e.g.
 * "BatchMatMul@wasm: transposed forms as transpose + plain matmul".
 */
export function installKernelFixes(options: KernelFixOptions = {}): string[] {
  const done: string[] = [];
  if (options.gradients !== false) {
    const explicit = options.explicitTransposeGradient === true;
    if (installMatMulGradFix(explicit)) {
      done.push(`gradient of BatchMatMul: sums broadcast batch dims${explicit ? ", explicit transposes" : ""}`);
    }
    gradientsInstalled = true;
  }
  for (const backendName of options.backends ?? ["wasm"]) {
    for (const k of installMatMulKernelFix(backendName))
      done.push(`${k}: transposed forms as transpose + plain matmul`);
    if (backendName !== "wasm") continue; // the fixes below are for wasm only
    for (const k of installConvSameFix(backendName)) done.push(`${k}: "same" padding made explicit`);
    for (const k of installConvInputFix(backendName)) done.push(`${k}: as an XNNPACK convolution`);
    for (const k of installSliceFix(backendName)) done.push(`${k}: copies only the slice, not the whole input`);
    const mine = added.get(backendName) ?? [];
    const before = mine.length;
    addMissing(makeUnsortedSegmentSumConfig(backendName), mine);
    addMissing(makeConv2DBackpropFilterConfig(backendName), mine);
    added.set(backendName, mine);
    for (const k of mine.slice(before)) done.push(`${k}@${backendName}: registered (missing upstream)`);
  }
  return done;
}

/** Removes every fix (restores the stock kernels and gradient). Meant for tests and benches. */
export function uninstallKernelFixes(): void {
  uninstallMatMulGradFix();
  gradientsInstalled = false;
  uninstallMatMulKernelFix();
  uninstallConvSameFix();
  uninstallConvInputFix();
  uninstallSliceFix();
  for (const [backendName, names] of added) {
    for (const kernelName of names) {
      const k = tf.getKernel(kernelName, backendName) as FixedKernelConfig | undefined;
      if (k != null && k[GM_FIX] != null) tf.unregisterKernel(kernelName, backendName);
    }
  }
  added.clear();
}

/** Whether the gradient fix is in place (for `gm backends` and tests). */
export function kernelFixesInstalled(): boolean {
  return gradientsInstalled;
}
