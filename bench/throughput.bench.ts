/**
 * `throughput`: training-step time on the default backend (wasm), next to the PyTorch reference.
 *
 * Models, batch 100, D = 784, Adam(1e-3):
 *   - nade:        gm's NadeModule, H = 500 (compiled from `p(x) = nade(hidden = 500)` and built
 *                  by buildExplicitModel) as `gm train` runs it (its fused kernel, where gm has
 *                  one), stepped exactly as gm's Trainer does: tf.variableGrads on the mean NLL,
 *                  read the loss, applyGradients, invalidate;
 *   - nade-cumsum: the same module forced to its cumulative-sum form (`impl = "cumsum"`: a
 *                  [B, H, D] tensor differentiated by tf autograd) — the algorithm the PyTorch
 *                  reference runs, so this ratio compares like with like;
 *   - vae:         the VAE family gm trains (src/models/vae.ts + latent.ts on networks/mlp.ts),
 *                  784-400-20, built by buildModel from bench/vae.ts's VAE_GM and trained by
 *                  src/models/fit.ts's Fitter; a step is the time between two `onBatch` calls;
 *   - vae-ops:     the same network written directly in tf ops (bench/vae.ts's makeVae), the
 *                  bench's former VAE: what the family's layering costs on top of it.
 * `--models a,b` picks some (default: nade, nade-cumsum, vae).
 * Protocol (the reference's): `--warmup` (3) untimed steps, then the median of `--steps` (20)
 * timed steps; data are random binary images with 13 % ones (MNIST's density), cycled in batches.
 *
 * Each gm model runs in its own Node process so that its wasm heap figure is its own: wasm memory
 * only grows, so the heap size after the steps is the peak. Also reported: the peak bytes of
 * live tensors during one step (tf.profile), and the process RSS / peak RSS.
 *
 * The reference, in the same run: `/usr/bin/python3 $GM_TORCH_REFERENCE nade|vae --threads T`
 * (default ../shared/reference/torch_reference.py, T = `--torch-threads`, default 2) with
 * OpenBLAS and the malloc settings of its docstring. Missing → skipped with a message;
 * `--no-reference` skips it. `--repeat R` alternates gm and PyTorch R times and reports medians.
 * `--profile` prints the kernels that take the most time in one gm step.
 * CPU time: the VAE family also reports CPU ms per step (user + system of the whole process,
 * every thread), and for it the reference runs a second time with its step timer switched to
 * `time.process_time` — on a loaded machine wall times swing by 2-10× while CPU times move far less,
 * so `gm / PyTorch (CPU)` is the ratio to read there (with `--torch-threads 1`: two OpenBLAS
 * threads spin while they wait for a descheduled partner, which inflates PyTorch's CPU time too).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as path from "node:path";
import {
  machine,
  median,
  mib,
  Options,
  printMachine,
  printTable,
  processMemory,
  round,
  withBackend,
  writeResult,
  type Machine,
  randomImages,
  TORCH_REFERENCE,
} from "./common";

const MODELS = ["nade", "nade-cumsum", "vae", "vae-ops"] as const;
type ModelName = (typeof MODELS)[number];
/** The PyTorch reference bench each gm model is compared with. */
const TORCH_OF: Record<ModelName, "nade" | "vae"> = {
  nade: "nade",
  "nade-cumsum": "nade",
  vae: "vae",
  "vae-ops": "vae",
};
const RESULT_TAG = "GM_THROUGHPUT_RESULT ";

interface GmResult {
  model: ModelName;
  machine: Machine;
  batch: number;
  steps: number;
  warmup: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  imgPerS: number;
  /** Size of the wasm module's memory after the steps (it only grows: the peak). */
  wasmHeapMiB: number | null;
  /** tf.memory().numBytes after the steps (live tensors: weights, Adam moments). */
  liveTensorMiB: number;
  /** Peak bytes of live tensors during one step (tf.profile). */
  stepPeakTensorMiB: number;
  rssMiB: number;
  maxRssMiB: number;
  lastLoss: number;
  /**
   * Median CPU ms (user + system, all threads) per step, where measured (the VAE family): on a
   * loaded machine it moves far less than the wall time.
   */
  cpuMs?: number;
  /** How the model was computed (NADE: gm's fused kernel or the cumulative-sum form). */
  impl: string;
  profile?: Array<{ kernel: string; ms: number; calls: number; share: number }>;
}

interface TorchResult {
  bench: string;
  impl: string;
  threads: number;
  median_ms: number;
  min_ms: number;
  max_ms: number;
  img_per_s: number;
}

/**
 * Picks NADE's implementation: gm's default (a fused kernel, where this version of gm has one) or,
 * for `nade-cumsum`, the cumulative-sum form differentiated by tf autograd (the form the PyTorch
 * reference uses). Returns a label.
 */
async function nadeImpl(mod: { impl?: string }, cumsum: boolean): Promise<string> {
  if (mod.impl === undefined) return "cumsum form (tf autograd)"; // a gm without the fused kernel
  if (cumsum) {
    mod.impl = "cumsum";
    return "cumsum form (tf autograd)";
  }
  // Which fused kernel loads: looked up loosely, since the kernel module is young.
  const spec = "../src/models/kernels/nade-kernel";
  try {
    const k = (await import(spec)) as { nadeKernel?: (w: string) => { name: string } };
    const name = k.nadeKernel?.(mod.impl).name;
    return `fused kernel (${name ?? mod.impl})`;
  } catch {
    return `impl ${mod.impl}`;
  }
}

/** One gm model, in this process. */
async function runGmModel(model: ModelName, opts: Options): Promise<GmResult> {
  const m = await withBackend(machine());
  const tf = await import("@tensorflow/tfjs");
  const steps = Math.max(1, opts.num("steps", 20));
  const warmup = opts.num("warmup", 3);
  const B = Math.max(1, opts.num("batch", 100));
  const D = 784;
  const N = 10_000;
  const data = randomImages(N, D, 0.13, 12345);
  let cursor = 0;
  const nextBatch = (): import("@tensorflow/tfjs").Tensor2D => {
    // As the Trainer does: a fresh tensor from a JS buffer each step.
    const x = tf.tensor2d(data.subarray(cursor * D, (cursor + B) * D), [B, D]);
    cursor = (cursor + B) % (N - B);
    return x;
  };

  let step: (x: import("@tensorflow/tfjs").Tensor2D) => Promise<number>;
  let dispose: () => void;
  let impl = "tf ops + project matMul";
  if (model === "nade" || model === "nade-cumsum") {
    const { compileText } = await import("../src/compiler/compile");
    const { buildExplicitModel } = await import("../src/models/explicit");
    const ir = compileText("model Nade {\n  x : Bernoulli[28, 28]\n  p(x) = nade(hidden = 500)\n}\n", "<bench>", {
      checks: false,
    }).models[0];
    const gm = buildExplicitModel(ir, { seed: 1 });
    impl = await nadeImpl(gm.modules[0] as unknown as { impl?: string }, model === "nade-cumsum");
    const variables = gm.modules.filter((mod) => mod.gradient).flatMap((mod) => mod.variables);
    // The optimizer of gm's Fitter: tf's Adam with the fused update (kernels/adam.ts).
    const opt = (await import("../src/models/kernels/adam")).fusedAdam(1e-3);
    step = async (x) => {
      const { value, grads } = tf.variableGrads(
        () => tf.neg(tf.mean(gm.logProb(x))) as import("@tensorflow/tfjs").Scalar,
        variables,
      );
      const l = (await value.data())[0];
      value.dispose();
      opt.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
      tf.dispose(grads);
      gm.invalidate();
      return l;
    };
    dispose = () => {
      gm.dispose();
      opt.dispose();
    };
  } else if (model === "vae") {
    return runFamilyVae(m, data, B, steps, warmup, opts);
  } else {
    const { makeVae } = await import("./vae");
    const vae = makeVae();
    step = (x) => vae.step(x);
    dispose = () => vae.dispose();
  }

  let lastLoss = NaN;
  const timed = async () => {
    const t0 = performance.now();
    const x = nextBatch();
    lastLoss = await step(x);
    x.dispose();
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) await timed();
  const ts: number[] = [];
  for (let i = 0; i < steps; i++) ts.push(await timed());

  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  const heap = backend.wasm?.HEAPU8?.buffer.byteLength;
  const live = tf.memory().numBytes;
  // One more step under tf.profile: peak tensor bytes, and (with --profile) time per kernel.
  const xb = nextBatch();
  const info = await tf.profile(async () => {
    lastLoss = await step(xb);
  });
  xb.dispose();
  // tf.customGrad ops (gm's fused NADE kernel) show up as "unnamed scope".
  const profile = opts.flag("profile")
    ? kernelProfile(info.kernels, 12, (name) => (name === "unnamed scope" ? "customGrad op (unnamed scope)" : name))
    : undefined;
  const mem = processMemory();
  dispose();
  return {
    ...timing({ model, machine: m, batch: B, steps, warmup }, ts, heap, live, info.peakBytes, mem, lastLoss),
    impl,
    profile,
  };
}

/**
 * Time per kernel of one tf.profile run, the `top` heaviest first, each with its share of the
 * total; `label` renames a kernel.
 */
function kernelProfile(
  kernels: ReadonlyArray<{ name: string; kernelTimeMs: unknown }>,
  top: number,
  label: (name: string) => string = (name) => name,
): NonNullable<GmResult["profile"]> {
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of kernels) {
    const ms = Number(k.kernelTimeMs);
    const name = label(k.name);
    const e = byKernel.get(name) ?? { ms: 0, calls: 0 };
    e.ms += Number.isFinite(ms) ? ms : 0;
    e.calls++;
    byKernel.set(name, e);
  }
  const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
  return [...byKernel.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, top)
    .map(([kernel, e]) => ({ kernel, ms: round(e.ms), calls: e.calls, share: round(e.ms / Math.max(total, 1e-9)) }));
}

/** The measured fields of a result: step times (ms), memory (bytes, reported in MiB) and the last loss. */
function timing(
  run: Pick<GmResult, "model" | "machine" | "batch" | "steps" | "warmup">,
  ts: number[],
  heap: number | undefined,
  live: number,
  peakBytes: number,
  mem: { rssMiB: number; maxRssMiB: number },
  lastLoss: number,
): Omit<GmResult, "impl" | "cpuMs" | "profile"> {
  const med = median(ts);
  return {
    ...run,
    medianMs: round(med),
    minMs: round(Math.min(...ts)),
    maxMs: round(Math.max(...ts)),
    imgPerS: round((run.batch / med) * 1000),
    wasmHeapMiB: heap != null ? mib(heap) : null,
    liveTensorMiB: mib(live),
    stepPeakTensorMiB: mib(peakBytes),
    rssMiB: mem.rssMiB,
    maxRssMiB: mem.maxRssMiB,
    lastLoss: round(lastLoss),
  };
}

/**
 * The VAE family, trained by gm's Fitter (bench/vae.ts's timeFamilyVae). The profile and the
 * step's peak tensor bytes come from one more one-step Fitter run under tf.profile.
 */
async function runFamilyVae(
  m: Machine,
  data: Float32Array,
  B: number,
  steps: number,
  warmup: number,
  opts: Options,
): Promise<GmResult> {
  const tf = await import("@tensorflow/tfjs");
  const { timeFamilyVae } = await import("./vae");
  const { ms: ts, cpuMs, lastLoss } = await timeFamilyVae(data, B, warmup, steps);
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  const heap = backend.wasm?.HEAPU8?.buffer.byteLength;
  const live = tf.memory().numBytes;
  const info = await tf.profile(async () => {
    await timeFamilyVae(data, B, 0, 1);
  });
  const profile = opts.flag("profile") ? kernelProfile(info.kernels, 16) : undefined;
  const mem = processMemory();
  return {
    ...timing({ model: "vae", machine: m, batch: B, steps, warmup }, ts, heap, live, info.peakBytes, mem, lastLoss),
    impl: "gm's VAE family (buildModel + Fitter)",
    cpuMs: round(median(cpuMs)),
    profile,
  };
}

/** Runs one gm model in a child process (its own wasm heap). */
function spawnGm(model: ModelName, argv: readonly string[]): GmResult | { error: string } {
  const runTs = path.join(path.dirname(fileURLToPath(import.meta.url)), "run.ts");
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", runTs, "--child", "throughput", ...argv, "--model", model],
    {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const line = r.stdout.split("\n").find((l) => l.startsWith(RESULT_TAG));
  if (r.status !== 0 || !line) {
    const text = (r.stderr || r.stdout).trim().split("\n");
    const why = text.find((l) => /Error|error TS|SyntaxError/.test(l)) ?? text.slice(-3).join(" / ");
    return { error: `gm ${model} failed (exit ${r.status ?? r.signal}): ${why.trim()}` };
  }
  return JSON.parse(line.slice(RESULT_TAG.length)) as GmResult;
}

/**
 * Runs the reference with its step timer switched from wall time to the process's CPU time (all
 * threads): the reference itself is unchanged, `time.perf_counter` is replaced before it runs.
 */
const CPU_TIMER =
  "import sys, time; time.perf_counter = time.process_time; s = sys.argv[1]; sys.argv = sys.argv[1:]; exec(compile(open(s).read(), s, 'exec'))";

/** The PyTorch reference for one model (`cpu`: CPU ms per step instead of wall ms), or why it was skipped. */
function runTorch(model: "nade" | "vae", opts: Options, cpu = false): TorchResult | { skipped: string } {
  if (opts.flag("no-reference")) return { skipped: "--no-reference" };
  const script = TORCH_REFERENCE;
  const python = opts.str("python", "/usr/bin/python3");
  if (!existsSync(script)) return { skipped: `reference script ${script} not found (set GM_TORCH_REFERENCE)` };
  if (!existsSync(python)) return { skipped: `${python} not found (Debian's python3 with python3-torch; --python)` };
  const threads = String(opts.num("torch-threads", 2));
  const openblas = "/usr/lib/x86_64-linux-gnu/openblas-pthread";
  const env = {
    ...process.env,
    // The set-up of the reference's docstring: OpenBLAS instead of reference BLAS, and a malloc
    // that keeps big buffers instead of re-faulting them every op.
    LD_LIBRARY_PATH: [openblas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
    OPENBLAS_NUM_THREADS: threads,
    MALLOC_MMAP_MAX_: "0",
    MALLOC_TRIM_THRESHOLD_: "100000000000",
  };
  const args = [
    script,
    model,
    "--threads",
    threads,
    "--steps",
    String(opts.num("steps", 20)),
    "--warmup",
    String(opts.num("warmup", 3)),
    "--batch",
    String(opts.num("batch", 100)),
  ];
  const r = spawnSync(python, cpu ? ["-c", CPU_TIMER, ...args] : args, { env, encoding: "utf8", timeout: 20 * 60_000 });
  const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) {
    const why = r.error ? r.error.message : (r.stderr ?? "").trim().split("\n").slice(-2).join(" / ");
    return { skipped: `the reference failed (exit ${r.status ?? r.signal}): ${why}` };
  }
  return JSON.parse(line) as TorchResult;
}

export async function runThroughput(opts: Options): Promise<Record<string, unknown> | undefined> {
  const only = opts.raw("model") as ModelName | undefined;
  if (only !== undefined) {
    if (!MODELS.includes(only)) throw new Error(`--model must be one of ${MODELS.join(", ")}`);
    const r = await runGmModel(only, opts);
    console.log(`${RESULT_TAG}${JSON.stringify(r)}`);
    return undefined;
  }
  const m0 = machine();
  const models = (opts.str("models", "nade,nade-cumsum,vae").split(",") as ModelName[]).filter((x) =>
    MODELS.includes(x),
  );
  const repeat = Math.max(1, opts.num("repeat", 1));
  const passArgs: string[] = [];
  for (const k of ["steps", "warmup", "batch"]) if (opts.raw(k) !== undefined) passArgs.push(`--${k}`, opts.raw(k)!);
  if (opts.flag("profile")) passArgs.push("--profile");

  const gm: Record<string, GmResult[]> = {};
  const torch: Record<string, TorchResult[]> = {};
  /** PyTorch's CPU ms per step, for the models whose gm side reports CPU time (the VAE family). */
  const torchCpu: Record<string, TorchResult[]> = {};
  const notes: string[] = [];
  for (let rep = 0; rep < repeat; rep++) {
    const torchDone = new Set<string>();
    for (const model of models) {
      const g = spawnGm(model, passArgs);
      if ("error" in g) notes.push(g.error);
      else (gm[model] ??= []).push(g);
      const tb = TORCH_OF[model];
      if (torchDone.has(tb)) continue;
      torchDone.add(tb);
      const t = runTorch(tb, opts);
      if ("skipped" in t) {
        if (rep === 0) notes.push(`PyTorch ${tb}: skipped — ${t.skipped}`);
      } else (torch[tb] ??= []).push(t);
      if (model === "vae" && !("skipped" in t)) {
        const c = runTorch(tb, opts, true);
        if (!("skipped" in c)) (torchCpu[tb] ??= []).push(c);
      }
    }
  }
  // The machine line: the gm children's backend, the load when the bench started.
  const first = Object.values(gm)[0]?.[0]?.machine;
  const m: Machine = {
    ...m0,
    tfjs: first?.tfjs,
    backend: first?.backend,
    threads: first?.threads,
    backendNotes: first?.backendNotes,
  };
  printMachine("throughput", m);
  const steps = opts.num("steps", 20);
  const warmup = opts.num("warmup", 3);
  console.log(
    `batch ${opts.num("batch", 100)}, ${warmup} warm-up steps, median of ${steps} steps${repeat > 1 ? `, median over ${repeat} alternating runs` : ""}; PyTorch: ${TORCH_REFERENCE}, ${opts.num("torch-threads", 2)} thread(s), OpenBLAS\n`,
  );

  const rows = models.map((model) => {
    const g = gm[model] ?? [];
    const t = torch[TORCH_OF[model]] ?? [];
    const gmMs = g.length ? median(g.map((r) => r.medianMs)) : NaN;
    const tMs = t.length ? median(t.map((r) => r.median_ms)) : NaN;
    const last = g[g.length - 1];
    return {
      model,
      impl: last?.impl ?? null,
      gmMs: round(gmMs),
      gmRange: g.length
        ? `${round(Math.min(...g.map((r) => r.minMs)))}–${round(Math.max(...g.map((r) => r.maxMs)))}`
        : null,
      gmImgPerS: round((100 / gmMs) * 1000),
      gmCpuMs: g.some((r) => r.cpuMs != null)
        ? round(median(g.filter((r) => r.cpuMs != null).map((r) => r.cpuMs!)))
        : null,
      torchMs: t.length ? round(tMs) : null,
      torchRange: t.length
        ? `${round(Math.min(...t.map((r) => r.min_ms)))}–${round(Math.max(...t.map((r) => r.max_ms)))}`
        : null,
      torchImgPerS: t.length ? round((100 / tMs) * 1000) : null,
      torchImpl: t[0]?.impl ?? null,
      ratio: t.length && g.length ? round(gmMs / tMs) : null,
      /** Best step against best step: less sensitive to other work on the cores than the medians. */
      ratioOfMins:
        t.length && g.length ? round(Math.min(...g.map((r) => r.minMs)) / Math.min(...t.map((r) => r.min_ms))) : null,
      torchCpuMs: torchCpu[TORCH_OF[model]]?.length
        ? round(median(torchCpu[TORCH_OF[model]].map((r) => r.median_ms)))
        : null,
      /** gm CPU ms / PyTorch CPU ms per step: the ratio that other work on the cores disturbs least. */
      cpuRatio: (() => {
        const gc = g.filter((r) => r.cpuMs != null).map((r) => r.cpuMs!);
        const tc = (torchCpu[TORCH_OF[model]] ?? []).map((r) => r.median_ms);
        return gc.length && tc.length ? round(median(gc) / median(tc)) : null;
      })(),
      wasmHeapMiB: last?.wasmHeapMiB ?? null,
      liveTensorMiB: last?.liveTensorMiB ?? null,
      stepPeakTensorMiB: last?.stepPeakTensorMiB ?? null,
      rssMiB: last?.rssMiB ?? null,
      maxRssMiB: last?.maxRssMiB ?? null,
      runs: { gm: g.map((r) => r.medianMs), torch: t.map((r) => r.median_ms) },
    };
  });
  printTable(
    [
      "model",
      "gm implementation",
      "gm ms/step",
      "gm range",
      "gm img/s",
      "PyTorch ms/step",
      "PyTorch range",
      "PyTorch img/s",
      "gm / PyTorch",
      "gm / PyTorch (min / min)",
      "gm CPU ms/step",
      "PyTorch CPU ms/step",
      "gm / PyTorch (CPU)",
    ],
    rows.map((r) => [
      r.model,
      r.impl,
      r.gmMs,
      r.gmRange,
      r.gmImgPerS,
      r.torchMs,
      r.torchRange,
      r.torchImgPerS,
      r.ratio != null ? `${r.ratio}×` : null,
      r.ratioOfMins != null ? `${r.ratioOfMins}×` : null,
      r.gmCpuMs,
      r.torchCpuMs,
      r.cpuRatio != null ? `${r.cpuRatio}×` : null,
    ]),
  );
  console.log("gm memory (wasm heap = the module's memory after the steps, which only grows: the peak):\n");
  printTable(
    ["model", "wasm heap MiB", "live tensors MiB", "peak tensors in a step MiB", "RSS MiB", "peak RSS MiB"],
    rows.map((r) => [r.model, r.wasmHeapMiB, r.liveTensorMiB, r.stepPeakTensorMiB, r.rssMiB, r.maxRssMiB]),
  );
  for (const model of models) {
    const p = gm[model]?.[0]?.profile;
    if (!p) continue;
    console.log(`kernels of one gm ${model} step (tf.profile, wall time per kernel, top 12):\n`);
    printTable(
      ["kernel", "ms", "calls", "share"],
      p.map((k) => [k.kernel, k.ms, k.calls, `${Math.round(k.share * 100)} %`]),
    );
  }
  for (const r of rows) {
    const t = torch[TORCH_OF[r.model]] ?? [];
    // A median well above the best step means the steps were competing with other work.
    const spread = t.length ? Math.max(...t.map((x) => x.median_ms / x.min_ms)) : 1;
    if (spread > 2 && !notes.some((n) => n.includes(`PyTorch ${TORCH_OF[r.model]} steps`))) {
      notes.push(
        `PyTorch ${TORCH_OF[r.model]} median step was ${round(spread)}× its best step: its threads were competing with other work on the cores, so its median is inflated; compare the min / min column, or rerun on a quiet machine`,
      );
    }
  }
  for (const n of notes) console.log(`note: ${n}`);
  return writeResult("throughput", {
    bench: "throughput",
    machine: m,
    batch: opts.num("batch", 100),
    steps,
    warmup,
    repeat,
    rows,
    profiles: Object.fromEntries(models.map((k) => [k, gm[k]?.[0]?.profile ?? null])),
    notes,
  });
}
