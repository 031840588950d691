/**
 * What every command shares: reading `.gm` files, rendering diagnostics (colour only on a TTY
 * and never with NO_COLOR), exit codes, and the two kinds of failure a user can see — a usage
 * error (exit 2) and an error in their input (exit 1). An internal error never shows a stack.
 */
import pc from "picocolors";
import { compileText, type CompileResult } from "../compiler/compile";
import { GmError, UsageError, USAGE_CODES } from "../errors";
import { readSource } from "./source";
import { renderDiagnostic, diagnosticToJson, hasErrors, type Diagnostic, type RenderStyle } from "../dsl/diagnostics";

/**
 * Exit codes: 0 success, 1 diagnostics or a runtime error (GmError codes D/B/M/C/R/I), 2 a usage
 * error (U codes, or a flag commander rejects), 70 an internal error (a bug in gm), 130 a run
 * stopped by Ctrl-C, SIGTERM or SIGHUP after saving its checkpoint, 141 (128 + SIGPIPE, what a shell
 * reports for a Unix tool killed by a closed pipe) when the reader of stdout or stderr went away
 * (`gm score RUN --per-image | head -5`): gm stops quietly, without a message.
 */
export const EXIT = { ok: 0, diagnostics: 1, usage: 2, internal: 70, interrupted: 130, brokenPipe: 141 } as const;

/**
 * Makes a closed pipe on stdout or stderr end the process quietly with {@link EXIT.brokenPipe}, as
 * `head` closing its input ends `yes` or `cat` (Node ignores SIGPIPE, so a write to a closed pipe
 * raises EPIPE; unhandled, it printed a 23-line stack trace). Any other stream error is a bug: it
 * is reported in one line (on stderr, unless stderr is what failed) and exits 70. Installed once,
 * by the `gm` executable, for every command.
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(EXIT.brokenPipe);
      if (stream !== process.stderr) process.stderr.write(internalErrorText(e));
      process.exit(EXIT.internal);
    });
  }
}

// UsageError (exit 2) and InputError (exit 1) live in the browser-safe src/errors.ts so that any
// layer may raise them; commands import them from here.
export { GmError, InputError, UsageError, USAGE_CODES, INPUT_CODES } from "../errors";

/** Whether to colour a stream: a TTY, and NO_COLOR unset or empty (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream): boolean {
  const no = process.env.NO_COLOR;
  if (no !== undefined && no !== "") return false;
  return Boolean(stream.isTTY);
}

/** Colours for a stream. */
export function colors(stream: NodeJS.WriteStream = process.stderr): ReturnType<typeof pc.createColors> {
  return pc.createColors(useColor(stream));
}

/** A diagnostic style for a stream. */
export function styleFor(stream: NodeJS.WriteStream): RenderStyle {
  const c = colors(stream);
  return {
    error: (s) => c.bold(c.red(s)),
    warning: (s) => c.bold(c.yellow(s)),
    caret: (s) => c.red(s),
    dim: (s) => c.cyan(s),
    bold: c.bold,
  };
}

/** Reads a text file or throws a UsageError naming it. */
export function readText(path: string): string {
  return readSource(path);
}

/** Reads and compiles a `.gm` file. */
export function compileFile(path: string, options: Parameters<typeof compileText>[2] = {}): CompileResult {
  return compileText(readText(path), path, options);
}

/** Prints diagnostics (rendered to stderr, or as JSON lines collected by the caller). */
export function printDiagnostics(
  ds: readonly Diagnostic[],
  text: string,
  stream: NodeJS.WriteStream = process.stderr,
): void {
  const style = styleFor(stream);
  for (const d of ds) stream.write(`${renderDiagnostic(d, text, style)}\n\n`);
}

/** JSON form of diagnostics. */
export function diagnosticsJson(ds: readonly Diagnostic[]): object[] {
  return ds.map(diagnosticToJson);
}

/**
 * Compiles a file for a command that needs its models: prints diagnostics and returns null
 * when it has errors, so the command exits 1.
 */
export function compileOrReport(
  path: string,
  opts: { json?: boolean; checks?: boolean; empty?: Record<string, unknown> } = {},
): CompileResult | null {
  const r = compileFile(path, { checks: opts.checks ?? false });
  const errors = hasErrors(r.diagnostics);
  if (opts.json) {
    // The command's own shape with nothing in it, and the diagnostics: one shape on success and failure.
    if (errors)
      process.stdout.write(
        `${JSON.stringify({ ...opts.empty, diagnostics: diagnosticsJson(r.diagnostics) }, null, 2)}\n`,
      );
  } else if (r.diagnostics.length) printDiagnostics(r.diagnostics, r.text);
  return errors ? null : r;
}

/** Picks one model from a file: `--model NAME`, or the only one. */
export function pickModel<T extends { name: string }>(models: readonly T[], name: string | undefined, file: string): T {
  if (name) {
    const m = models.find((x) => x.name === name);
    if (!m)
      throw new UsageError(
        `${file} has no model named ${name}`,
        `its models: ${models.map((x) => x.name).join(", ")}`,
        USAGE_CODES.noSuchModel,
        file,
      );
    return m;
  }
  if (models.length === 1) return models[0];
  if (models.length === 0) throw new UsageError(`${file} has no model`, undefined, USAGE_CODES.noModel, file);
  throw new UsageError(
    `${file} has ${models.length} models; choose one with --model NAME`,
    `its models: ${models.map((x) => x.name).join(", ")}`,
    USAGE_CODES.ambiguousModel,
    file,
  );
}

/**
 * Writes an error to stderr: `error[CODE]: message` (or `error: message` without a code), then
 * `hint: …` when there is one.
 */
export function printError(message: string, hint?: string, code?: string): void {
  const c = colors(process.stderr);
  process.stderr.write(`${c.bold(c.red(code ? `error[${code}]` : "error"))}: ${message}\n`);
  if (hint) process.stderr.write(`${c.cyan("hint:")} ${hint}\n`);
}

/** The rendered text of a runtime error (no colour): what `gm` prints for it. */
export function renderGmError(e: GmError): string {
  return `error[${e.code}]: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ""}`;
}

/** Prints a {@link GmError} (see {@link printError}) and returns its exit status. */
/** A GmError as `--json` prints it. */
export function gmErrorJson(e: GmError): { code: string; message: string; hint: string | null; file: string | null } {
  return { code: e.code, message: e.message, hint: e.hint ?? null, file: e.path ?? null };
}

export function reportGmError(e: GmError): number {
  printError(e.message, e.hint, e.code);
  return e.exitStatus;
}

/** The message printed for an internal error (a bug in gm): one line, no stack, then exit 70. */
export function internalErrorText(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return `gm: internal error: ${m.split("\n")[0]}\nThis is a bug in gm; please report it with the command you ran and the .gm file.\n`;
}
