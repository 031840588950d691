/**
 * What the benches of bench/run.ts share: the machine header, medians, markdown tables, the
 * result file in bench/out/, and reading options from `--flag value` arguments or environment
 * variables. Benchmarks print figures; they never assert times.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The PyTorch yardstick: ../shared/reference/torch_reference.py beside the checkout (the project's
 * shared folder), or GM_TORCH_REFERENCE.
 */
export const TORCH_REFERENCE =
  process.env.GM_TORCH_REFERENCE ??
  fileURLToPath(new URL("../../shared/reference/torch_reference.py", import.meta.url));

/** bench/out/, git-ignored. */
export const OUT_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "out");

/** The machine a bench ran on (printed at the top of every bench and stored in its JSON). */
export interface Machine {
  date: string;
  cpuModel: string;
  cpus: number;
  /** 1-, 5- and 15-minute load averages when the bench started: other work on the same cores skews times. */
  loadavg: number[];
  memGiB: number;
  node: string;
  platform: string;
  tfjs?: string;
  backend?: string;
  /** wasm threads (1 = single-threaded); null when the backend reports none. */
  threads?: number | null;
  backendNotes?: string[];
}

export function machine(): Machine {
  return {
    date: new Date().toISOString(),
    cpuModel: os.cpus()[0]?.model?.trim() ?? "?",
    cpus: typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

/** Starts the default backend the way `gm train` does (wasm here) and records it in `m`. */
export async function withBackend(m: Machine): Promise<Machine> {
  const tf = await import("@tensorflow/tfjs");
  const { initBackend } = await import("../src/models/backend");
  const { getThreadsCount } = await import("@tensorflow/tfjs-backend-wasm");
  const name = process.env.GM_BENCH_BACKEND ?? "wasm";
  const r = await initBackend(name as "wasm", { quiet: true });
  tf.env().set("PROD", true); // as `gm train` (startBackend) does
  let threads: number | null = null;
  if (r.name === "wasm") {
    try {
      threads = getThreadsCount();
    } catch {
      threads = null;
    }
  }
  return { ...m, tfjs: tf.version.tfjs, backend: r.name, threads, backendNotes: r.notes };
}

export function printMachine(title: string, m: Machine): void {
  const tfjs = m.backend
    ? `tfjs ${m.tfjs}, backend ${m.backend}${m.threads != null ? `, ${m.threads} thread(s)` : ""}${m.backendNotes?.length ? ` (${m.backendNotes.join("; ")})` : ""}`
    : "tfjs: not used by this bench";
  console.log(`\n## bench ${title} — ${m.date}`);
  console.log(`machine: ${m.cpuModel}, ${m.cpus} CPUs, ${m.memGiB} GiB, ${m.platform}; node ${m.node}; ${tfjs}`);
  console.log(`load average at start: ${m.loadavg.join(", ")} (other work on these cores skews every time below)\n`);
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Times `fn` `runs` times after `warmup` untimed runs; returns every time in ms. */
export function timeSync(fn: () => unknown, runs: number, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return ts;
}

/**
 * Times several functions round-robin — run 1 of each, then run 2 of each, … — so that a burst of
 * other work on the machine hits every one alike. Returns the times in ms, per function.
 */
export function timeInterleaved(fns: ReadonlyArray<() => unknown>, runs: number, warmup = 1): number[][] {
  for (let i = 0; i < warmup; i++) for (const fn of fns) fn();
  const ts = fns.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    fns.forEach((fn, j) => {
      const t0 = performance.now();
      fn();
      ts[j].push(performance.now() - t0);
    });
  }
  return ts;
}

/** Rounds for printing and JSON: 3 significant digits below 100, integers above. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  if (Math.abs(x) >= 100) return Math.round(x * 10) / 10;
  return Number(x.toPrecision(digits));
}

export function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

/** A markdown table. */
export function printTable(headers: string[], rows: Array<Array<string | number | null | undefined>>): void {
  // A "|" inside a cell (a `A ⊥ B | C` query) would end the cell: escape it.
  const cell = (v: string | number | null | undefined) =>
    v == null ? "—" : typeof v === "number" ? String(round(v)) : v.replace(/\|/g, "\\|");
  console.log(`| ${headers.join(" | ")} |`);
  console.log(`| ${headers.map(() => "---").join(" | ")} |`);
  for (const r of rows) console.log(`| ${r.map(cell).join(" | ")} |`);
  console.log("");
}

/** Writes bench/out/NAME.json and prints the one-line JSON summary. */
export function writeResult(name: string, result: Record<string, unknown>): Record<string, unknown> {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
  console.log(`(wrote ${path.relative(process.cwd(), file)})`);
  return result;
}

/** Options given as `--name value` (after the bench names) or as env `GM_BENCH_NAME`. */
export class Options {
  constructor(private readonly argv: readonly string[]) {}

  raw(name: string): string | undefined {
    const i = this.argv.indexOf(`--${name}`);
    if (i >= 0 && i + 1 < this.argv.length) return this.argv[i + 1];
    const env = process.env[`GM_BENCH_${name.toUpperCase().replace(/-/g, "_")}`];
    return env !== undefined && env.trim() !== "" ? env : undefined;
  }

  num(name: string, fallback: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0, got ${v}`);
    return n;
  }

  str(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  flag(name: string): boolean {
    return (
      this.argv.includes(`--${name}`) ||
      ["1", "true", "yes"].includes(
        (process.env[`GM_BENCH_${name.toUpperCase().replace(/-/g, "_")}`] ?? "").toLowerCase(),
      )
    );
  }
}

/** Process memory now: RSS and the peak RSS so far (MiB). */
export function processMemory(): { rssMiB: number; maxRssMiB: number } {
  return {
    rssMiB: mib(process.memoryUsage().rss),
    maxRssMiB: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
  };
}

/** Random binary images (n × D, a fraction `density` of ones), seeded xorshift32. */
export function randomImages(n: number, D: number, density: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n * D);
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2 ** 32 < density ? 1 : 0;
  }
  return out;
}
