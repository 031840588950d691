/**
 * Small helpers for writing kernels out of other registered kernels.
 *
 * A kernel function receives `TensorInfo`s (data ids plus shapes), not `Tensor`s, and may call the
 * kernel functions of its own backend directly; every intermediate result it makes must be released
 * with `backend.disposeData` (reshape-like kernels share data and only raise a reference count, so
 * releasing them is always right).
 */
import * as tf from "@tensorflow/tfjs";

export type TensorInfo = tf.TensorInfo;
export type KernelBackend = tf.KernelBackend;
export type NamedAttrMap = tf.NamedAttrMap;

/** Marks kernel configs and gradient configs that this project registered. */
export const GM_FIX = Symbol.for("gm.kernelFix");

export type FixedKernelConfig = tf.KernelConfig & { [GM_FIX]?: { stock: tf.KernelConfig | undefined } };

/** Runs another kernel of `backendName` on kernel-level inputs. */
export function runKernel(
  backendName: string,
  backend: KernelBackend,
  kernelName: string,
  inputs: Record<string, TensorInfo> | TensorInfo[],
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const config = tf.getKernel(kernelName, backendName);
  if (config == null) {
    throw new Error(`kernel ${kernelName} is not registered for backend ${backendName}`);
  }
  const out = config.kernelFunc({
    inputs: inputs as unknown as tf.NamedTensorInfoMap,
    backend,
    attrs: attrs as NamedAttrMap,
  });
  return Array.isArray(out) ? (out[0] as TensorInfo) : (out as TensorInfo);
}

/** Collects intermediate results of a kernel so that they can be released together. */
export class Scratch {
  private readonly items: TensorInfo[] = [];
  constructor(
    private readonly backendName: string,
    private readonly backend: KernelBackend,
  ) {}

  run(
    kernelName: string,
    inputs: Record<string, TensorInfo> | TensorInfo[],
    attrs: Record<string, unknown> = {},
  ): TensorInfo {
    const out = runKernel(this.backendName, this.backend, kernelName, inputs, attrs);
    this.items.push(out);
    return out;
  }

  /**
   * Releases every intermediate except the ones in `keep` (compared by object: a reshape of a kept
   * result holds its own reference to the shared data and is still released).
   */
  release(...keep: TensorInfo[]): void {
    const kept = new Set<TensorInfo>(keep);
    for (const t of this.items) {
      if (!kept.has(t)) this.backend.disposeData(t.dataId);
    }
    this.items.length = 0;
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The permutation that swaps the last two axes of a rank-`rank` tensor. */
export function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** Re-registers a kernel without tfjs's "already registered" warning; returns the config it replaced. */
export function replaceKernel(config: tf.KernelConfig): tf.KernelConfig | undefined {
  const previous = tf.getKernel(config.kernelName, config.backendName);
  if (previous != null) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
  return previous;
}

/** Puts back a kernel that `replaceKernel` replaced (or removes it when there was none). */
export function restoreKernel(kernelName: string, backendName: string, previous: tf.KernelConfig | undefined): void {
  if (tf.getKernel(kernelName, backendName) != null) tf.unregisterKernel(kernelName, backendName);
  if (previous != null) tf.registerKernel(previous);
}
