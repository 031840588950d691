/**
 * NADE training step: the fused kernel (src/models/kernels/nade*.ts) against the stock
 * cumulative-sum form, and the PyTorch reference, in one run.
 *
 *   node --import tsx bench/nade-kernel.bench.ts [--steps 20] [--warmup 3] [--batch 100]
 *        [--hidden 500] [--density 0.13] [--paths fused,cumsum,js] [--repeat 1] [--no-reference]
 *
 * A step is exactly gm's Trainer's: tf.variableGrads on the mean NLL, read the loss, Adam's
 * applyGradients, invalidate; on the default backend (wasm), batch 100, D = 784, H = 500, data
 * random binary images with 13 % ones (the reference's). Median of `--steps` timed steps after
 * `--warmup` untimed ones. Each path runs in its own Node process, so its peak RSS and heap sizes
 * are its own: tfjs's wasm heap and the NADE kernel's own wasm memory (both only grow: the
 * figures after the steps are the peaks). Paths: `fused` (NadeModule.impl = "auto": the wasm
 * kernel), `js` (the kernel's JavaScript fallback), `cumsum` (the reference form, tf autograd).
 * `--repeat R` runs every path and the reference R times, alternating, and reports medians (the
 * machine is shared: other work on its cores moves every figure).
 * The reference: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=2
 * MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 /usr/bin/python3
 * ../shared/reference/torch_reference.py nade --threads 2 (GM_TORCH_REFERENCE to move it).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as os from "node:os";
import { fileURLToPath } from "node:url";
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
  randomImages,
  TORCH_REFERENCE,
} from "./common";

const TAG = "GM_NADE_KERNEL_RESULT ";
const PATHS = ["fused", "js", "cumsum"] as const;
type PathName = (typeof PATHS)[number];

interface PathResult {
  path: PathName;
  medianMs: number;
  /** Process CPU time (all threads) per timed step: less sensitive than wall time to other work on the cores. */
  cpuMsPerStep: number;
  minMs: number;
  maxMs: number;
  lastLoss: number;
  tfWasmHeapMiB: number | null;
  kernelHeapMiB: number | null;
  rssMiB: number;
  maxRssMiB: number;
  calls: Record<string, number>;
  /** Threads of the fused kernel (GM_NADE_THREADS; 2 by default on 2+ cores). */
  kernelThreads: number | null;
}

async function child(which: PathName, opts: Options): Promise<PathResult> {
  await withBackend(machine());
  const tf = await import("@tensorflow/tfjs");
  const { compileText } = await import("../src/compiler/compile");
  const { buildExplicitModel } = await import("../src/models/explicit");
  const { NadeModule } = await import("../src/models/nade");
  const { nadeOpStats } = await import("../src/models/kernels/nade-op");
  const { wasmNadeKernel } = await import("../src/models/kernels/nade-kernel");
  const steps = Math.max(1, opts.num("steps", 20));
  const warmup = opts.num("warmup", 3);
  const B = Math.max(1, opts.num("batch", 100));
  const H = Math.max(1, opts.num("hidden", 500));
  const D = 784;
  const N = 10_000;
  const data = randomImages(N, D, opts.num("density", 0.13), 12345);
  const ir = compileText(`model Nade {\n  x : Bernoulli[28, 28]\n  p(x) = nade(hidden = ${H})\n}\n`, "<bench>", {
    checks: false,
  }).models[0];
  const gm = buildExplicitModel(ir, { seed: 1 });
  for (const m of gm.modules) if (m instanceof NadeModule) m.impl = which === "fused" ? "auto" : which;
  const variables = gm.modules.filter((m) => m.gradient).flatMap((m) => m.variables);
  const opt = tf.train.adam(1e-3);
  let cursor = 0;
  let lastLoss = NaN;
  const step = async () => {
    const t0 = performance.now();
    const x = tf.tensor2d(data.subarray(cursor * D, (cursor + B) * D), [B, D]);
    cursor = (cursor + B) % (N - B);
    const { value, grads } = tf.variableGrads(
      () => tf.neg(tf.mean(gm.logProb(x))) as import("@tensorflow/tfjs").Scalar,
      variables,
    );
    lastLoss = (await value.data())[0];
    value.dispose();
    x.dispose();
    opt.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
    tf.dispose(grads);
    gm.invalidate();
    return performance.now() - t0;
  };
  if (which === "fused") await wasmNadeKernel()?.threadsReady(); // (GM_NADE_THREADS=1: one thread)
  for (let i = 0; i < warmup; i++) await step();
  const ts: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) ts.push(await step());
  const cpu = process.cpuUsage(cpu0);
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  const heap = backend.wasm?.HEAPU8?.buffer.byteLength;
  const mem = processMemory();
  const kernelHeap = which === "fused" ? (wasmNadeKernel()?.heapBytes ?? null) : null;
  const med = median(ts);
  return {
    path: which,
    medianMs: round(med),
    cpuMsPerStep: round((cpu.user + cpu.system) / 1000 / steps),
    minMs: round(Math.min(...ts)),
    maxMs: round(Math.max(...ts)),
    lastLoss: round(lastLoss),
    tfWasmHeapMiB: heap != null ? mib(heap) : null,
    kernelHeapMiB: kernelHeap != null ? mib(kernelHeap) : null,
    rssMiB: mem.rssMiB,
    maxRssMiB: mem.maxRssMiB,
    calls: { ...nadeOpStats },
    kernelThreads: which === "fused" ? (wasmNadeKernel()?.threads ?? null) : null,
  };
}

function spawnPath(which: PathName, argv: readonly string[]): PathResult | { error: string } {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ["--import", "tsx", self, "--child", which, ...argv], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith(TAG));
  if (r.status !== 0 || !line)
    return {
      error: `${which} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().split("\n").slice(-5).join(" / ")}`,
    };
  return JSON.parse(line.slice(TAG.length)) as PathResult;
}

interface TorchResult {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  impl: string;
  threads: number;
}

function runTorch(opts: Options): TorchResult | { skipped: string } {
  const script = TORCH_REFERENCE;
  if (!existsSync(script)) return { skipped: `${script} not found` };
  if (!existsSync("/usr/bin/python3")) return { skipped: "/usr/bin/python3 not found" };
  const r = spawnSync(
    "/usr/bin/python3",
    [
      script,
      "nade",
      "--threads",
      String(opts.num("torch-threads", 2)),
      "--batch",
      String(opts.num("batch", 100)),
      "--steps",
      String(opts.num("steps", 20)),
      "--warmup",
      String(opts.num("warmup", 3)),
    ],
    {
      encoding: "utf8",
      env: {
        ...process.env,
        LD_LIBRARY_PATH: "/usr/lib/x86_64-linux-gnu/openblas-pthread",
        OPENBLAS_NUM_THREADS: String(opts.num("torch-threads", 2)),
        MALLOC_MMAP_MAX_: "0",
        MALLOC_TRIM_THRESHOLD_: "100000000000",
      },
    },
  );
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as TorchResult;
  } catch {
    return { skipped: `reference failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-2).join(" / ")}` };
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = new Options(argv);
  const at = argv.indexOf("--child");
  if (at >= 0) {
    const r = await child(argv[at + 1] as PathName, opts);
    console.log(TAG + JSON.stringify(r));
    return;
  }
  const m = machine();
  printMachine("nade-kernel", m);
  const paths = opts
    .str("paths", "fused,cumsum")
    .split(",")
    .filter((p): p is PathName => (PATHS as readonly string[]).includes(p));
  const repeat = Math.max(1, opts.num("repeat", 1));
  const runs = new Map<string, PathResult[]>();
  const torch: TorchResult[] = [];
  let torchSkipped: string | undefined;
  for (let r = 0; r < repeat; r++) {
    if (!opts.flag("no-reference")) {
      const t = runTorch(opts);
      if ("skipped" in t) torchSkipped = t.skipped;
      else {
        torch.push(t);
        console.log(`  run ${r + 1}/${repeat} pytorch: ${t.median_ms} ms/step (load ${os.loadavg()[0].toFixed(2)})`);
      }
    }
    for (const p of paths) {
      const res = spawnPath(p, argv);
      if ("error" in res) throw new Error(res.error);
      runs.set(p, [...(runs.get(p) ?? []), res]);
      console.log(`  run ${r + 1}/${repeat} ${p}: ${res.medianMs} ms/step (load ${os.loadavg()[0].toFixed(2)})`);
    }
  }
  const torchMs = torch.length ? median(torch.map((t) => t.median_ms)) : NaN;
  const rows = [...runs.entries()].map(([p, rs]) => {
    const ms = median(rs.map((x) => x.medianMs));
    const last = rs[rs.length - 1];
    const label = last.kernelThreads != null ? `${p} (kernel threads: ${last.kernelThreads})` : p;
    const cpu = median(rs.map((x) => x.cpuMsPerStep));
    return [
      label,
      ms,
      Math.min(...rs.map((x) => x.minMs)),
      cpu,
      round(torchMs / ms),
      last.maxRssMiB,
      last.tfWasmHeapMiB,
      last.kernelHeapMiB,
      last.lastLoss,
    ];
  });
  if (torch.length)
    rows.push([
      `pytorch (${torch[0].impl}, ${torch[0].threads} threads)`,
      torchMs,
      Math.min(...torch.map((t) => t.min_ms)),
      null,
      1,
      null,
      null,
      null,
      null,
    ]);
  console.log("");
  printTable(
    [
      "path",
      "median ms/step",
      "min ms",
      "CPU ms/step",
      "PyTorch ms / this ms",
      "peak RSS MiB",
      "tfjs wasm heap MiB",
      "kernel heap MiB",
      "last loss",
    ],
    rows,
  );
  if (torchSkipped) console.log(`PyTorch reference skipped: ${torchSkipped}`);
  writeResult("nade-kernel", { machine: m, paths: Object.fromEntries(runs), torch, torchMedianMs: torchMs });
}

await main();
