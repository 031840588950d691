/**
 * `gm fmt FILE... [--write | --check]`: the canonical layout. Without flags it prints the
 * formatted text; `--write` rewrites files in place (atomically); `--check` exits 1 when a
 * file is not formatted. A file with syntax errors is never rewritten.
 */
import { format } from "../dsl/format";
import { writeFileAtomic } from "../data/atomic";
import { colors, EXIT, printDiagnostics, readText, UsageError } from "./io";

/** Options of `gm fmt`. */
export interface FmtOptions {
  write?: boolean;
  check?: boolean;
}

/** Runs `gm fmt`; returns the exit code. */
export function runFmt(files: string[], opts: FmtOptions): number {
  if (opts.write && opts.check) throw new UsageError("--write and --check cannot be used together");
  let code: number = EXIT.ok;
  for (const file of files) {
    const text = readText(file);
    const r = format(text, file);
    if (!r.ok) {
      printDiagnostics(r.diagnostics, text);
      code = EXIT.diagnostics;
      continue;
    }
    if (opts.check) {
      if (r.text !== text) {
        process.stdout.write(`${colors(process.stdout).yellow("would reformat")} ${file}\n`);
        code = EXIT.diagnostics;
      }
    } else if (opts.write) {
      if (r.text !== text) {
        writeFileAtomic(file, r.text);
        process.stdout.write(`formatted ${file}\n`);
      }
    } else process.stdout.write(r.text);
  }
  return code;
}
