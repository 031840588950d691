/**
 * `compile-scale`: compile time against a file's size, to show it grows near-linearly.
 *
 * For each size in `--sizes` (default 1,000, 10,000 and 100,000 variables) a generated file
 * declares that many scalar binary variables and chains them with one explicit conditional each
 * (`x1 : Bernoulli` … `p(x2 | x1) = table` …), plus a parameter-count check and a d-separation
 * check across the whole chain — the shape of file that took 5 s at 4,000 variables, 45 s at
 * 8,000 and 420 s at 22,000 when every statement copied the set of names. Prints, per size,
 * the median of `--runs` runs of `compileText` (parse, every phase, both checks), µs per
 * variable, and the growth against the previous size (≈ the size ratio when linear).
 */
import { compileText } from "../src/compiler/compile";
import { hasErrors } from "../src/dsl/diagnostics";
import { machine, median, Options, printMachine, printTable, round, timeSync, writeResult } from "./common";

/** A chain over `n` scalar binary variables, one statement per line. */
export function chainFile(n: number): string {
  const lines = ["model Chain {"];
  for (let i = 1; i <= n; i++) lines.push(`  x${i} : Bernoulli`);
  lines.push("  p(x1) = table");
  for (let i = 2; i <= n; i++) lines.push(`  p(x${i} | x${i - 1}) = table`);
  lines.push(`  check params == ${2 * n - 1}`);
  lines.push(`  check x${n} ⊥ x1 | x${Math.max(2, n >> 1)}`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

export async function runCompileScale(opts: Options): Promise<Record<string, unknown>> {
  const m = machine();
  printMachine("compile-scale", m);
  const sizes = String(opts.str("sizes", "1000,10000,100000")).split(",").map(Number);
  const runs = Math.max(1, opts.num("runs", 5));
  const rows: Array<{
    variables: number;
    lines: number;
    kib: number;
    medianMs: number;
    usPerVariable: number;
    growth: number | null;
  }> = [];
  for (const n of sizes) {
    const text = chainFile(n);
    const once = compileText(text, "<bench>");
    if (hasErrors(once.diagnostics))
      throw new Error(`the generated chain of ${n} does not compile: ${once.diagnostics[0].message}`);
    const ms = median(timeSync(() => compileText(text, "<bench>"), n >= 100_000 ? Math.min(runs, 3) : runs, 1));
    const prev = rows[rows.length - 1];
    rows.push({
      variables: n,
      lines: 2 * n + 3,
      kib: round(text.length / 1024, 1),
      medianMs: round(ms),
      usPerVariable: round((ms * 1000) / n, 2),
      growth: prev ? round(ms / prev.medianMs, 2) : null,
    });
  }
  console.log(
    `median of ${runs} runs after 1 warm-up (3 at 100,000 variables and above); growth = time / time of the previous size\n`,
  );
  printTable(
    ["variables", "lines", "KiB", "median ms", "µs / variable", "growth"],
    rows.map((r) => [
      r.variables.toLocaleString("en-US"),
      r.lines.toLocaleString("en-US"),
      r.kib,
      r.medianMs,
      r.usPerVariable,
      r.growth === null ? "—" : `×${r.growth}`,
    ]),
  );
  return writeResult("compile-scale", { bench: "compile-scale", machine: m, runs, rows });
}
