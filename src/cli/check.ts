/**
 * `gm check FILE...`: parse, compile and prove every `check` line. Exit 0 when every file is
 * clean, 1 when any has an error, 2 on a usage error (a missing file).
 */
import { compileText } from "../compiler/compile";
import { hasErrors, type Diagnostic } from "../dsl/diagnostics";
import { colors, diagnosticsJson, EXIT, printDiagnostics, readText } from "./io";

/** Options of `gm check`. */
export interface CheckOptions {
  json?: boolean;
}

/** Runs `gm check`; returns the exit code. */
export function runCheck(files: string[], opts: CheckOptions): number {
  const texts = files.map((f) => ({ file: f, text: readText(f) })); // usage errors first, before any output
  const results: Array<{ file: string; diagnostics: Diagnostic[]; models: number; checks: number }> = [];
  let failed = false;
  for (const { file, text } of texts) {
    const r = compileText(text, file);
    const checks = r.ast.models.reduce((a, m) => a + m.body.filter((s) => s.kind === "Check").length, 0);
    results.push({ file, diagnostics: r.diagnostics, models: r.models.length, checks });
    if (hasErrors(r.diagnostics)) failed = true;
    if (!opts.json) {
      printDiagnostics(r.diagnostics, text);
      if (!hasErrors(r.diagnostics)) {
        const c = colors(process.stdout);
        const warn = r.diagnostics.length
          ? `, ${r.diagnostics.length} warning${r.diagnostics.length > 1 ? "s" : ""}`
          : "";
        process.stdout.write(
          `${c.green("ok")} ${file}: ${r.models.length} model${r.models.length === 1 ? "" : "s"}, ${checks} check${checks === 1 ? "" : "s"} passed${warn}\n`,
        );
      }
    }
  }
  if (opts.json) {
    const out = results.map((r) => ({
      file: r.file,
      ok: !hasErrors(r.diagnostics),
      models: r.models,
      checks: r.checks,
      diagnostics: diagnosticsJson(r.diagnostics),
    }));
    // One shape for one file or several.
    process.stdout.write(`${JSON.stringify({ ok: !failed, files: out }, null, 2)}\n`);
  } else if (failed) {
    const errors = results.reduce((a, r) => a + r.diagnostics.filter((d) => d.severity === "error").length, 0);
    process.stderr.write(
      `${colors(process.stderr).red(`${errors} error${errors === 1 ? "" : "s"}`)} in ${results.filter((r) => hasErrors(r.diagnostics)).length} of ${files.length} file${files.length === 1 ? "" : "s"}\n`,
    );
  }
  return failed ? EXIT.diagnostics : EXIT.ok;
}
