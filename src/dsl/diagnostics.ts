/**
 * One diagnostic type for the whole project: the parser, the checker, the compiler and the
 * `check` lines all report through it. A diagnostic never throws; it is collected and rendered.
 *
 * Rendered form (see `renderDiagnostic`):
 *
 *     coin.gm:3:9: error[E0201]: unknown distribution `Bernouli`
 *       3 |   x : Bernouli
 *         |       ^^^^^^^^
 *     hint: did you mean `Bernoulli`?
 */
import type { Span } from "./ast";

/** Error stops compilation; a warning is shown but the file still checks. */
export type Severity = "error" | "warning";

/** A related place in the source, e.g. the first declaration of a duplicated name. */
export interface RelatedInfo {
  readonly message: string;
  readonly span: Span;
}

/** A problem found in a `.gm` file, with its stable code and exact place. */
export interface Diagnostic {
  /** Stable code, `E` + 4 digits; the table lives in docs/diagnostics.md. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  /** The file name as the user gave it (may be "<input>"). */
  readonly file: string;
  readonly span: Span;
  readonly hint?: string;
  /** Extra lines printed under the excerpt (an active trail, a cycle, a derivation). */
  readonly notes?: readonly string[];
  readonly related?: readonly RelatedInfo[];
}

/** Builds diagnostics for one file. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  constructor(readonly file: string) {}

  error(
    code: string,
    message: string,
    span: Span,
    extra: Partial<Pick<Diagnostic, "hint" | "notes" | "related">> = {},
  ): Diagnostic {
    const d: Diagnostic = { code, severity: "error", message, file: this.file, span, ...extra };
    this.items.push(d);
    return d;
  }

  warning(
    code: string,
    message: string,
    span: Span,
    extra: Partial<Pick<Diagnostic, "hint" | "notes" | "related">> = {},
  ): Diagnostic {
    const d: Diagnostic = { code, severity: "warning", message, file: this.file, span, ...extra };
    this.items.push(d);
    return d;
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }
}

/** True when any diagnostic is an error. */
export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === "error");
}

/** Sorts by position, then code, so output is stable. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => a.span.start.offset - b.span.start.offset || a.code.localeCompare(b.code));
}

/** Styling hooks so the CLI can colour output without this module knowing about terminals. */
export interface RenderStyle {
  error(s: string): string;
  warning(s: string): string;
  caret(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const plain: RenderStyle = { error: (s) => s, warning: (s) => s, caret: (s) => s, dim: (s) => s, bold: (s) => s };

/**
 * Renders `file:LINE:COL: error[CODE]: message`, the source line with a caret under the span,
 * then `hint: …` and any notes. `source` is the text of the file the diagnostic points into.
 */
export function renderDiagnostic(d: Diagnostic, source: string, style: RenderStyle = plain): string {
  const { line, column } = d.span.start;
  const sev = d.severity === "error" ? style.error(`error[${d.code}]`) : style.warning(`warning[${d.code}]`);
  const out: string[] = [`${style.bold(`${d.file}:${line}:${column}:`)} ${sev}: ${style.bold(d.message)}`];
  out.push(...excerpt(source, d.span, style));
  for (const r of d.related ?? []) {
    out.push(`${style.dim("note:")} ${r.message} (${d.file}:${r.span.start.line}:${r.span.start.column})`);
  }
  for (const n of d.notes ?? []) out.push(`${style.dim("note:")} ${n}`);
  if (d.hint) out.push(`${style.dim("hint:")} ${d.hint}`);
  return out.join("\n");
}

/** The source line of the span's start with line number gutter and carets under the span. */
export function excerpt(source: string, span: Span, style: RenderStyle = plain): string[] {
  const lines = source.split(/\r\n?|\n/);
  const lineNo = span.start.line;
  const text = lines[lineNo - 1];
  if (text === undefined) return [];
  const gutter = String(lineNo);
  const pad = " ".repeat(gutter.length);
  const startCol = span.start.column;
  // A span that runs past its first line is underlined to the end of that line.
  const endCol =
    span.end.line === lineNo ? Math.max(span.end.column, startCol + 1) : Math.max(text.length + 1, startCol + 1);
  const width = Math.max(1, endCol - startCol);
  const expanded = text.replace(/\t/g, " ");
  return [
    `${style.dim(`${gutter} |`)} ${expanded}`,
    `${style.dim(`${pad} |`)} ${" ".repeat(startCol - 1)}${style.caret("^".repeat(width))}`,
  ];
}

/** The machine-readable form used by `--json` and by golden tests. */
export interface DiagnosticJson {
  code: string;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  hint?: string;
  notes?: string[];
}

/** Plain-object form of a diagnostic (stable field order). */
export function diagnosticToJson(d: Diagnostic): DiagnosticJson {
  const j: DiagnosticJson = {
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: d.file,
    line: d.span.start.line,
    column: d.span.start.column,
    endLine: d.span.end.line,
    endColumn: d.span.end.column,
  };
  if (d.hint) j.hint = d.hint;
  if (d.notes?.length) j.notes = [...d.notes];
  return j;
}
