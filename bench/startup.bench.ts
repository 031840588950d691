/**
 * `startup`: how long the built `gm` takes from the shell, a hyperfine-like loop (never a test).
 *
 * Runs each command `--runs` times (default 15, interleaved) as a child process and prints the
 * median and minimum wall-clock time beside `node -e 0` (Node's own start). It measures the
 * built CLI, dist/cli/main.js: run `npm run build` first. The front-end commands load no
 * TensorFlow.js and, with chevrotain and lodash-es bundled (tsup.config.ts), no 647-module
 * lodash-es tree either.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { machine, median, Options, printMachine, printTable, round, writeResult } from "./common";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export async function runStartup(opts: Options): Promise<Record<string, unknown>> {
  const m = machine();
  printMachine("startup", m);
  const main = path.join(REPO, "dist", "cli", "main.js");
  if (!existsSync(main)) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  const runs = Math.max(1, opts.num("runs", 15));
  const commands: Array<[string, string[]]> = [
    ["node -e 0", ["-e", "0"]],
    ["gm --version", [main, "--version"]],
    ["gm check examples/01-coin.gm", [main, "check", "examples/01-coin.gm"]],
    ["gm params examples/07-markov.gm", [main, "params", "examples/07-markov.gm"]],
    ["gm query examples/07-markov.gm …", [main, "query", "examples/07-markov.gm", "x[5] ⊥ x[1] | x[3]"]],
  ];
  const times: number[][] = commands.map(() => []);
  for (let r = -1; r < runs; r++) {
    commands.forEach(([label, args], j) => {
      const t = process.hrtime.bigint();
      const res = spawnSync(process.execPath, args, {
        cwd: REPO,
        env: { ...process.env, NO_COLOR: "1" },
        stdio: "ignore",
      });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (res.status !== 0) throw new Error(`${label} exited ${res.status}`);
      if (r >= 0) times[j].push(ms); // r = -1 warms the file cache
    });
  }
  console.log(`${runs} runs each after 1 warm-up, interleaved; wall clock of the whole child process\n`);
  const rows = commands.map(([label], j) => ({
    command: label,
    medianMs: round(median(times[j]), 1),
    minMs: round(Math.min(...times[j]), 1),
  }));
  printTable(
    ["command", "median ms", "min ms"],
    rows.map((r) => [r.command, r.medianMs, r.minMs]),
  );
  return writeResult("startup", { bench: "startup", machine: m, runs, rows });
}
