/**
 * `generative`: training-step time of the last two families on the default backend (wasm).
 *
 *   dcgan            14-gan.gm's DcGan (b = 32, z 100, 28×28): one critic step and one generator
 *                    step per iteration (Adam, betas 0.5/0.999), as fit.ts runs them — the shapes
 *                    of ../shared/reference/torch_reference.py gan_conv
 *   row_lstm         PixelRNN Row LSTM, h = 64, L = 2, Bernoulli 28×28: one Adam step on the NLL
 *   diagonal_bilstm  PixelRNN Diagonal BiLSTM, same sizes
 *
 * Options: `--batch-gan` (100, the reference's default), `--batch-pixelrnn` (64), `--steps` (5),
 * `--warmup` (1), `--models a,b`. Data: random binary images with 13 % ones (the reference's).
 * Each model runs in its own Node process (`--one NAME`), so that its wasm heap figure is its own
 * and a heap that runs out (wasm32 stops at 4 GiB) fails that model only.
 * The PyTorch side runs in the same bench when `torch` imports (`/usr/bin/python3
 * $GM_TORCH_REFERENCE gan_conv --batch B --threads T`); without it the ratio is left out and
 * docs/benchmarks.md's earlier PyTorch figure stands.
 */
import { spawnSync } from "node:child_process";
import type * as TF from "@tensorflow/tfjs";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  machine,
  median,
  mib,
  Options,
  printMachine,
  printTable,
  processMemory,
  randomImages,
  round,
  withBackend,
  writeResult,
  TORCH_REFERENCE,
} from "./common";

const MODELS = ["dcgan", "row_lstm", "diagonal_bilstm"] as const;
type ModelName = (typeof MODELS)[number];
const TAG = "GM_GENERATIVE_RESULT ";
const REFERENCE = TORCH_REFERENCE;

interface OneResult {
  model: ModelName;
  batch: number;
  medianMs: number;
  imgPerS: number;
  wasmHeapMiB: number | null;
  maxRssMiB: number;
  params: number;
}

async function one(model: ModelName, opts: Options): Promise<OneResult> {
  const tf = await import("@tensorflow/tfjs");
  await withBackend(machine());
  const { compileText } = await import("../src/compiler/compile");
  const steps = opts.num("steps", 5);
  const warmup = opts.num("warmup", 1);
  const times: number[] = [];
  let params: number;
  let batch: number;
  if (model === "dcgan") {
    batch = opts.num("batch-gan", 100);
    const { Gan } = await import("../src/models/gan");
    const ir = compileText(
      "model D {\n  latent z : Normal[100]\n  x : Real(0, 1)[28, 28]\n  x = generator(z) by dcgan(base = 32)\n  fit adversarial(critic = dcgan(base = 32))\n}\n",
      "bench.gm",
      { checks: false },
    ).models[0];
    const gan = new Gan(ir, 1);
    params = gan.paramCount();
    const objective = gan.objective({ lr: 2e-4 });
    const opt = objective.steps.map((s) => tf.train.adam(2e-4, s.optimizer?.beta1, s.optimizer?.beta2));
    const x = tf.tensor2d(randomImages(batch, 784, 0.13, 1), [batch, 784]);
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      objective.steps.forEach((s, k) => {
        const l = opt[k].minimize(() => s.loss(x, { step: i, seed: 1 }), true, s.variables)!;
        l.dataSync();
        l.dispose();
      });
      if (i >= warmup) times.push(performance.now() - t0);
    }
  } else {
    batch = opts.num("batch-pixelrnn", 64);
    const { PixelRnnModule } = await import("../src/models/pixelrnn");
    const ir = compileText(
      `model P {\n  x : Bernoulli[28, 28]\n  p(x) = pixelrnn(kind = ${model}, hidden = 64, layers = 2)\n}\n`,
      "bench.gm",
      { checks: false },
    ).models[0];
    const m = new PixelRnnModule(ir.factors[0], ir, "bench", 1);
    params = m.net.paramCount();
    const opt = tf.train.adam(1e-3);
    const x = tf.tensor2d(randomImages(batch, 784, 0.13, 1), [batch, 784]);
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      const l = opt.minimize(() => tf.neg(tf.mean(m.logProb(x))) as TF.Scalar, true, m.variables)!;
      l.dataSync();
      l.dispose();
      if (i >= warmup) times.push(performance.now() - t0);
    }
  }
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.byteLength;
  const med = median(times);
  return {
    model,
    batch,
    medianMs: round(med, 1),
    imgPerS: round((1000 * batch) / med, 1),
    wasmHeapMiB: heap ? mib(heap) : null,
    maxRssMiB: processMemory().maxRssMiB,
    params,
  };
}

/** PyTorch's gan_conv step (ms), or null when torch is missing. */
function torchGanConv(batch: number, threads: number): { ms: number | null; note: string } {
  if (!existsSync(REFERENCE)) return { ms: null, note: `no reference at ${REFERENCE}` };
  const probe = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) return { ms: null, note: "PyTorch is not installed here (python3 -c 'import torch' fails)" };
  const r = spawnSync(
    "/usr/bin/python3",
    [REFERENCE, "gan_conv", "--batch", String(batch), "--threads", String(threads)],
    {
      encoding: "utf8",
      env: {
        // the reference's docstring settings: OpenBLAS (not reference BLAS), glibc malloc kept warm
        ...process.env,
        LD_LIBRARY_PATH: ["/usr/lib/x86_64-linux-gnu/openblas-pthread", process.env.LD_LIBRARY_PATH]
          .filter(Boolean)
          .join(":"),
        OPENBLAS_NUM_THREADS: String(threads),
        MALLOC_MMAP_MAX_: "0",
        MALLOC_TRIM_THRESHOLD_: "100000000000",
      },
    },
  );
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    const j = JSON.parse(line) as { median_ms?: number; ms?: number };
    return { ms: j.median_ms ?? j.ms ?? null, note: "" };
  } catch {
    return { ms: null, note: `reference failed: ${r.stderr.trim().split("\n").pop()}` };
  }
}

/** This process's `--option value` pairs, without the runner's own (`--child NAME`, `--in-process`). */
function forwarded(): string[] {
  const a = process.argv.slice(2);
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "--child" || a[i] === "--one") i++;
    else if (a[i].startsWith("--") && a[i] !== "--in-process") {
      out.push(a[i]);
      if (i + 1 < a.length && !a[i + 1].startsWith("--")) out.push(a[++i]);
    }
  }
  return out;
}

/** The bench: every model in its own process, then PyTorch's gan_conv. */
export async function runGenerative(opts: Options): Promise<void> {
  const oneAt = process.argv.indexOf("--one");
  if (oneAt >= 0) {
    const r = await one(process.argv[oneAt + 1] as ModelName, opts);
    console.log(`${TAG}${JSON.stringify(r)}`);
    return;
  }
  const m = machine();
  printMachine("generative (DCGAN and PixelRNN steps)", await withBackend(m));
  const chosen = opts.str("models", MODELS.join(",")).split(",") as ModelName[];
  const runner = fileURLToPath(new URL("./run.ts", import.meta.url));
  const results: Array<OneResult | { model: ModelName; failed: string }> = [];
  for (const name of chosen) {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", runner, "--child", "generative", "--one", name, ...forwarded()],
      { encoding: "utf8", maxBuffer: 1 << 26 },
    );
    const line = r.stdout.split("\n").find((l) => l.startsWith(TAG));
    if (line) results.push(JSON.parse(line.slice(TAG.length)) as OneResult);
    else
      results.push({
        model: name,
        failed: `${
          (r.stderr || r.stdout)
            .trim()
            .split("\n")
            .filter((l) => /Error|Abort|heap|memory/i.test(l))
            .pop()
            ?.slice(0, 160) ?? `exit ${r.status}`
        }`,
      });
  }
  const gan = results.find((r): r is OneResult => r.model === "dcgan" && "medianMs" in r);
  const torch = gan ? torchGanConv(gan.batch, opts.num("torch-threads", 2)) : { ms: null, note: "" };
  printTable(
    ["model", "batch", "params", "ms/step (median)", "images/s", "wasm heap MiB", "max RSS MiB", "vs PyTorch"],
    results.map((r) =>
      "failed" in r
        ? [r.model, null, null, `failed: ${r.failed}`, null, null, null, null]
        : [
            r.model,
            r.batch,
            r.params,
            r.medianMs,
            r.imgPerS,
            r.wasmHeapMiB,
            r.maxRssMiB,
            r.model === "dcgan" && torch.ms ? `${round(r.medianMs / torch.ms, 2)}× (${torch.ms} ms)` : null,
          ],
    ),
  );
  if (torch.note) console.log(`PyTorch gan_conv: ${torch.note}\n`);
  writeResult("generative", { machine: m, results, torchGanConvMs: torch.ms, torchNote: torch.note });
}
