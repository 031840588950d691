/**
 * Backend bench: training-step times on wasm, stock kernels vs the project's kernel fixes, single-
 * vs multi-threaded.
 *
 *   node --import tsx bench/backend.bench.ts [--steps 20] [--warmup 3] [--threads 1,2] [--repeat 3] [--no-conv]
 *
 * Each thread count runs in its own child process (the wasm module's thread pool is fixed when it
 * starts), `--repeat` times, interleaved, so that a busy neighbour on a shared machine skews all
 * columns alike. Within a process the fixes are switched on and off with install/
 * uninstallKernelFixes(). Prints a markdown table: median ms per step (median over the repeats of
 * each process's median), with the range over the repeats.
 *
 * Models (batch 100, Adam):
 * - vae-ops:    784-400-20 VAE written with tf ops (matMul + add), Bernoulli likelihood + KL.
 * - vae-layers: the same network with tf.layers.dense (tf.fused.matMul and its custom gradient).
 * - conv:       a small DCGAN-like critic, conv 1→32 (4x4/2) → 64 (4x4/2) → dense, on 28x28;
 *               stock wasm cannot train it at all (no Conv2DBackpropFilter), so it is only timed
 *               with the fixes.
 * - gen-fwd:    forward pass (no training) of a DCGAN-like generator, dense → 7x7x128 →
 *               conv2dTranspose 64 (4x4/2) → 14x14 → conv2dTranspose 1 (4x4/2) → 28x28; the
 *               transposed convolutions are the Conv2DBackpropInput kernel.
 */
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/models/backend";
import { installKernelFixes, uninstallKernelFixes } from "../src/models/kernels/index";

interface Options {
  steps: number;
  warmup: number;
  threads: number[];
  conv: boolean;
  /** Child processes per thread count, interleaved; the table shows the median over them. */
  repeat: number;
}

function parseArgs(argv: string[]): Options & { child?: number } {
  const get = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  const threads = (get("--threads") ?? (cores > 1 ? `1,${Math.min(cores, 4)}` : "1")).split(",").map(Number);
  const child = get("--child");
  return {
    steps: Number(get("--steps") ?? 20),
    warmup: Number(get("--warmup") ?? 3),
    threads,
    conv: !argv.includes("--no-conv"),
    repeat: Number(get("--repeat") ?? 3),
    child: child === undefined ? undefined : Number(child),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function timeSteps(step: () => tf.Scalar, warmup: number, steps: number): Promise<number> {
  for (let i = 0; i < warmup; i++) {
    const l = step();
    await l.data();
    l.dispose();
  }
  const ts: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const l = step();
    await l.data(); // wait for the step to finish
    ts.push(performance.now() - t0);
    l.dispose();
  }
  return median(ts);
}

function glorot(shape: [number, number]): tf.Variable {
  const limit = Math.sqrt(6 / (shape[0] + shape[1]));
  return tf.variable(tf.randomUniform(shape, -limit, limit));
}

/** 784-400-20 VAE written with tf ops. */
function makeVaeOps(): { step: () => tf.Scalar; dispose: () => void } {
  const [D, H, Z, B] = [784, 400, 20, 100];
  const vars = {
    w1: glorot([D, H]),
    b1: tf.variable(tf.zeros([H])),
    wMu: glorot([H, Z]),
    bMu: tf.variable(tf.zeros([Z])),
    wLv: glorot([H, Z]),
    bLv: tf.variable(tf.zeros([Z])),
    w2: glorot([Z, H]),
    b2: tf.variable(tf.zeros([H])),
    w3: glorot([H, D]),
    b3: tf.variable(tf.zeros([D])),
  };
  const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([B, D]), 0.5), "float32"));
  const opt = tf.train.adam(1e-3);
  const loss = (): tf.Scalar =>
    tf.tidy(() => {
      const h = tf.relu(tf.add(tf.matMul(x, vars.w1), vars.b1));
      const mu = tf.add(tf.matMul(h, vars.wMu), vars.bMu);
      const logvar = tf.add(tf.matMul(h, vars.wLv), vars.bLv);
      const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), tf.randomNormal([B, Z])));
      const h2 = tf.relu(tf.add(tf.matMul(z, vars.w2), vars.b2));
      const logits = tf.add(tf.matMul(h2, vars.w3), vars.b3);
      // Bernoulli log-likelihood with logits: x·l − softplus(l)
      const rec = tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)));
      const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logvar), tf.square(mu)), tf.exp(logvar))));
      return tf.div(tf.sub(kl, rec), B) as tf.Scalar;
    });
  return {
    step: () => opt.minimize(loss, true, Object.values(vars)) as tf.Scalar,
    dispose: () => {
      Object.values(vars).forEach((v) => v.dispose());
      x.dispose();
      opt.dispose();
    },
  };
}

/** The same VAE with tf.layers.dense (fused matmul with its own custom gradient). */
function makeVaeLayers(): { step: () => tf.Scalar; dispose: () => void } {
  const [D, H, Z, B] = [784, 400, 20, 100];
  const enc = tf.layers.dense({ units: H, activation: "relu", inputShape: [D] });
  const mu = tf.layers.dense({ units: Z });
  const lv = tf.layers.dense({ units: Z });
  const dec1 = tf.layers.dense({ units: H, activation: "relu", inputShape: [Z] });
  const dec2 = tf.layers.dense({ units: D });
  const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([B, D]), 0.5), "float32"));
  const opt = tf.train.adam(1e-3);
  const loss = (): tf.Scalar =>
    tf.tidy(() => {
      const h = enc.apply(x) as tf.Tensor;
      const m = mu.apply(h) as tf.Tensor;
      const l = lv.apply(h) as tf.Tensor;
      const z = tf.add(m, tf.mul(tf.exp(tf.mul(l, 0.5)), tf.randomNormal([B, Z])));
      const logits = dec2.apply(dec1.apply(z) as tf.Tensor) as tf.Tensor;
      const rec = tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)));
      const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, l), tf.square(m)), tf.exp(l))));
      return tf.div(tf.sub(kl, rec), B) as tf.Scalar;
    });
  // Build the layers once so that their weights exist.
  tf.tidy(() => loss());
  const weights = [enc, mu, lv, dec1, dec2].flatMap((layer) =>
    layer.trainableWeights.map((w) => w.read() as tf.Variable),
  );
  return {
    step: () => opt.minimize(loss, true, weights) as tf.Scalar,
    dispose: () => {
      [enc, mu, lv, dec1, dec2].forEach((layer) => layer.dispose());
      x.dispose();
      opt.dispose();
    },
  };
}

/** A small conv critic on 28x28: conv 32 4x4/2 → leaky relu → conv 64 4x4/2 → leaky relu → dense 1. */
function makeConv(): { step: () => tf.Scalar; dispose: () => void } {
  const B = 100;
  const vars = {
    k1: tf.variable(tf.mul(tf.randomNormal([4, 4, 1, 32]), 0.05)),
    k2: tf.variable(tf.mul(tf.randomNormal([4, 4, 32, 64]), 0.05)),
    w: tf.variable(tf.mul(tf.randomNormal([7 * 7 * 64, 1]), 0.01)),
  };
  const x = tf.randomUniform([B, 28, 28, 1]);
  const opt = tf.train.adam(1e-4);
  const loss = (): tf.Scalar =>
    tf.tidy(() => {
      const h1 = tf.leakyRelu(tf.conv2d(x as tf.Tensor4D, vars.k1 as tf.Tensor4D, 2, "same"), 0.2);
      const h2 = tf.leakyRelu(tf.conv2d(h1, vars.k2 as tf.Tensor4D, 2, "same"), 0.2);
      const out = tf.matMul(tf.reshape(h2, [B, 7 * 7 * 64]), vars.w);
      return tf.mean(tf.square(out)) as tf.Scalar;
    });
  return {
    step: () => opt.minimize(loss, true, Object.values(vars)) as tf.Scalar,
    dispose: () => {
      Object.values(vars).forEach((v) => v.dispose());
      x.dispose();
      opt.dispose();
    },
  };
}

/** Forward pass of a DCGAN-like generator (conv2dTranspose is the Conv2DBackpropInput kernel). */
function makeGenForward(): { step: () => tf.Scalar; dispose: () => void } {
  const B = 100;
  const w = tf.mul(tf.randomNormal([100, 7 * 7 * 128]), 0.05);
  const k1 = tf.mul(tf.randomNormal([4, 4, 64, 128]), 0.05); // [h, w, out, in] for conv2dTranspose
  const k2 = tf.mul(tf.randomNormal([4, 4, 1, 64]), 0.05);
  const z = tf.randomNormal([B, 100]);
  return {
    step: () =>
      tf.tidy(() => {
        const h0 = tf.reshape(tf.relu(tf.matMul(z, w)), [B, 7, 7, 128]) as tf.Tensor4D;
        const h1 = tf.relu(tf.conv2dTranspose(h0, k1 as tf.Tensor4D, [B, 14, 14, 64], 2, "same"));
        const x = tf.sigmoid(tf.conv2dTranspose(h1, k2 as tf.Tensor4D, [B, 28, 28, 1], 2, "same"));
        return tf.mean(x) as tf.Scalar;
      }),
    dispose: () => tf.dispose([w, k1, k2, z]),
  };
}

interface Row {
  threads: number;
  model: string;
  stock: number | null;
  fixed: number;
}

async function child(threads: number, o: Options): Promise<void> {
  const init = await initBackend("wasm", { threads, quiet: true });
  const rows: Row[] = [];
  const models: Array<[string, () => { step: () => tf.Scalar; dispose: () => void }, boolean]> = [
    ["vae-ops", makeVaeOps, true],
    ["vae-layers", makeVaeLayers, true],
  ];
  if (o.conv) models.push(["conv", makeConv, false], ["gen-fwd", makeGenForward, true]);
  for (const [name, make, stockToo] of models) {
    let stock: number | null = null;
    if (stockToo) {
      uninstallKernelFixes();
      const m = make();
      stock = await timeSteps(m.step, o.warmup, o.steps);
      m.dispose();
    }
    installKernelFixes();
    const m = make();
    const fixed = await timeSteps(m.step, o.warmup, name === "conv" ? Math.min(o.steps, 10) : o.steps);
    m.dispose();
    rows.push({ threads, model: name, stock, fixed });
  }
  process.stdout.write(`${JSON.stringify({ notes: init.notes, rows })}\n`);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const childThreads = parseArgs(process.argv.slice(2)).child;
  if (childThreads !== undefined) {
    await child(childThreads, o);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const runs = new Map<string, Row[]>(); // "model|threads" → one row per repeat
  for (let rep = 0; rep < o.repeat; rep++) {
    for (const threads of o.threads) {
      const args = [
        "--import",
        "tsx",
        self,
        "--child",
        String(threads),
        "--steps",
        String(o.steps),
        "--warmup",
        String(o.warmup),
      ];
      if (!o.conv) args.push("--no-conv");
      const r = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, GM_WASM_THREADS: "" } });
      const line = r.stdout.trim().split("\n").pop() ?? "";
      if (r.status !== 0 || !line.startsWith("{")) {
        console.error(`threads=${threads}: child failed (status ${r.status})\n${r.stderr}`);
        continue;
      }
      const { notes, rows } = JSON.parse(line) as { notes: string[]; rows: Row[] };
      if (rep === 0) console.error(`threads=${threads}: ${notes.join("; ")}`);
      for (const row of rows) {
        const key = `${row.model}|${row.threads}`;
        runs.set(key, [...(runs.get(key) ?? []), row]);
      }
    }
  }
  const fmt = (xs: Array<number | null>) => {
    const v = xs.filter((x): x is number => x != null);
    if (v.length === 0) return "—";
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    return v.length > 1 ? `${median(v).toFixed(1)} (${lo.toFixed(0)}–${hi.toFixed(0)})` : median(v).toFixed(1);
  };
  const cpu = os.cpus()[0]?.model ?? "?";
  console.log(
    `\nwasm training step, batch 100: ms per step, median over ${o.repeat} process(es) of the median of ${o.steps} steps after ${o.warmup} warm-up (${cpu}, ${os.cpus().length} CPUs)\n`,
  );
  console.log("| model | threads | stock | fixed | speed-up |");
  console.log("| --- | --- | --- | --- | --- |");
  const models = [...new Set([...runs.keys()].map((k) => k.split("|")[0]))];
  for (const model of models) {
    for (const threads of o.threads) {
      const rows = runs.get(`${model}|${threads}`);
      if (!rows) continue;
      const stock = rows.map((r) => r.stock);
      const fixed = rows.map((r) => r.fixed);
      const st = stock.filter((x): x is number => x != null);
      const up = st.length ? `${(median(st) / median(fixed)).toFixed(1)}×` : "—";
      console.log(`| ${model} | ${threads} | ${fmt(stock)} | ${fmt(fixed)} | ${up} |`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

export { main as runBackendBench };
