/**
 * How much memory a model's network needs, estimated from the IR alone, so that a network that
 * cannot fit (`nade(hidden = 10^12)`, or `hidden = 100000` on 784 pixels) is refused with a
 * clear error before anything is allocated — instead of dying inside the backend with "Invalid
 * typed array length" or "memory access out of bounds".
 *
 *   bytes ≈ 4 · (5 · P  +  B · A)
 *
 * P = trainable parameters (the compiler's exact count): the weights, their gradients, Adam's
 * two moments and the JavaScript copy some families cache for sampling; A = floats of
 * activations per example (per factor: its targets plus what its network keeps per example — a
 * NADE's running pre-activation and hidden units, an MLP's layers, a PixelRNN's states),
 * B = examples per backend call.
 */
import type { ModelIR, NetworkSpec } from "../compiler/ir";
import { MAX_TABLE_ENTRIES } from "./table";
import { ModelError } from "./types";

const TABLE_FAMILIES = new Set(["joint", "independent", "table", "chain", "markov"]);

/**
 * Memory a backend can give one model, in bytes: wasm's 32-bit heap holds 2 GiB of it; the others are held to 16 GiB.
 */
export function memoryLimit(backend: string): number {
  return backend === "wasm" || backend === "" ? 2 * 1024 ** 3 : 16 * 1024 ** 3;
}

function activationsPerExample(network: NetworkSpec | undefined, targets: number): bigint {
  const t = BigInt(targets);
  if (!network) return t;
  switch (network.kind) {
    case "nade":
      // The fused kernel keeps one running pre-activation per example (O(H)); its gradient recomputes.
      return t + BigInt(network.d) + 2n * BigInt(network.hidden);
    case "mlp":
      return t + network.sizes.reduce((a, s) => a + BigInt(s), 0n);
    case "pixelrnn": {
      // Every LSTM step keeps its gates, their activations, cell, state and shifted state for the
      // backward pass: H·W positions per Row LSTM layer, 2·H·(W + H − 1) skewed ones per Diagonal
      // BiLSTM layer. Floats per position and hidden unit, from tf.profile's peak at 28×28, h = 64,
      // L = 2, batch 8: Row LSTM 448 MB → 140; Diagonal BiLSTM 1,865 MB → 148.
      const { height: H, width: W } = network;
      const diagonal = network.variant === "diagonal_bilstm";
      const positions = diagonal ? 2 * H * (W + H - 1) : H * W;
      return t + BigInt(positions) * BigInt(network.layers) * BigInt(network.hidden) * (diagonal ? 148n : 140n);
    }
    default:
      return t * 64n;
  }
}

/** Estimated bytes to train `ir` with `batch` examples per backend call (see the formula above). */
export function estimateBytes(ir: ModelIR, batch: number): bigint {
  let activations = 0n;
  for (const f of ir.factors) activations += activationsPerExample(f.network, f.targets.length);
  for (const a of ir.networks) activations += activationsPerExample(a.network, a.outputs.length);
  return 4n * (5n * ir.params + BigInt(batch) * activations);
}

/**
 * The largest batch, at most `max`, whose training estimate fits on `backend` (at least 1): scoring
 * runs forward only, so a batch that could train can be scored. A PixelRNN scored 500 images at a
 * time aborted the wasm module after its first epoch.
 */
export function largestBatch(ir: ModelIR, backend: string, max: number): number {
  const limit = BigInt(memoryLimit(backend));
  if (estimateBytes(ir, max) <= limit) return max;
  let lo = 1;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (estimateBytes(ir, mid) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Bytes in words: 3.1 GiB, 512 MiB, 2.0e12 GiB. */
export function formatBytes(bytes: bigint | number): string {
  const b = typeof bytes === "bigint" ? Number(bytes) : bytes;
  const gib = b / 1024 ** 3;
  if (gib >= 1e6) return `${gib.toExponential(1)} GiB`;
  if (gib >= 1) return `${gib.toFixed(1)} GiB`;
  return `${Math.ceil(b / 1024 ** 2)} MiB`;
}

/**
 * Refuses a model whose network would not fit on `backend` (ModelError M0106, saying how much it
 * would need), before any tensor is allocated.
 */
export function checkFits(ir: ModelIR, options: { batch: number; backend: string }): void {
  // A table past gm's table limit gets the table builder's own, more specific error (M0101).
  if (ir.factors.some((f) => TABLE_FAMILIES.has(f.family) && f.params > BigInt(MAX_TABLE_ENTRIES))) return;
  const need = estimateBytes(ir, options.batch);
  const limit = memoryLimit(options.backend);
  if (need > BigInt(limit)) {
    throw new ModelError(
      `model ${ir.name} needs about ${formatBytes(need)} to train (${ir.params.toLocaleString("en-US")} parameters, batch ${options.batch}); the ${options.backend || "current"} backend can give it ${formatBytes(limit)}`,
      "M0106",
      "use a smaller network (e.g. `nade(hidden = 500)`), prune parents with `assume`, or a smaller --batch",
    );
  }
}
