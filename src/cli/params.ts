/**
 * `gm params FILE [--model M] [--json]`: exact parameter counts per factor group, the total
 * in full (and in scientific notation when long), closed forms, and the lecture's reference
 * points for every observed variable.
 */
import { scientific, withCommas } from "../compiler/count";
import { paramsReport, reportJson, type ParamsReport } from "../compiler/report";
import { colors, compileOrReport, diagnosticsJson, EXIT, pickModel } from "./io";
import { table } from "./table";

/** Options of `gm params`. */
export interface ParamsOptions {
  json?: boolean;
  model?: string;
}

function count(n: bigint): string {
  const s = n.toString();
  return s.length > 24 ? `${scientific(n)} (${s.length} digits)` : withCommas(n);
}

/** Renders one model's report as text. */
export function renderReport(r: ParamsReport, out: NodeJS.WriteStream = process.stdout): string {
  const c = colors(out);
  const lines: string[] = [c.bold(`model ${r.model}`)];
  const rows = r.rows.map((row) => [row.group, row.parents, row.shape, count(row.params), row.closedForm ?? ""]);
  lines.push(
    table(["factor group", "parents", "table shape / network", "parameters", "closed form"], rows, [
      false,
      false,
      false,
      true,
      false,
    ]),
  );
  const total = r.total.toString();
  lines.push(
    `${c.bold("total")}: ${withCommas(r.total)}${total.length > 15 ? `\n       = ${scientific(r.total)} (${total.length} digits)` : ""}`,
  );
  const discrete = r.reference.filter((x) => x.fullyDependent !== null);
  if (discrete.length) {
    lines.push("reference points (observed variables):");
    lines.push(
      table(
        ["variable", "elements", "fully dependent Π k − 1", "fully independent Σ (k − 1)"],
        discrete.map((x) => [x.variable, String(x.elements), count(x.fullyDependent!), count(x.fullyIndependent!)]),
        [false, true, true, true],
      ),
    );
  }
  return lines.join("\n");
}

/** Runs `gm params`. */
export function runParams(file: string, opts: ParamsOptions): number {
  const r = compileOrReport(file, { json: opts.json, empty: { models: [] } });
  if (!r) return EXIT.diagnostics;
  const models = opts.model ? [pickModel(r.models, opts.model, file)] : r.models;
  const reports = models.map(paramsReport);
  if (opts.json) {
    const out = { models: reports.map(reportJson), diagnostics: diagnosticsJson(r.diagnostics) };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return EXIT.ok;
  }
  process.stdout.write(`${reports.map((x) => renderReport(x)).join("\n\n")}\n`);
  return EXIT.ok;
}
