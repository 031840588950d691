/**
 * `gm query FILE "A ⊥ B | C" [--model M] [--json]`: `independent` or `dependent` (with an
 * active trail), by d-separation on the compiled graph.
 */
import { query } from "../compiler/query";
import { hasErrors } from "../dsl/diagnostics";
import { parseClaim } from "../dsl/parse";
import { colors, compileOrReport, diagnosticsJson, EXIT, pickModel, printDiagnostics } from "./io";

/** Options of `gm query`. */
export interface QueryOptions {
  json?: boolean;
  model?: string;
}

/** Runs `gm query`. */
export function runQuery(file: string, text: string, opts: QueryOptions): number {
  const r = compileOrReport(file, { json: opts.json });
  if (!r) return EXIT.diagnostics;
  const parsed = parseClaim(text);
  const report = (ds: Parameters<typeof printDiagnostics>[0]) => {
    if (opts.json) process.stdout.write(`${JSON.stringify({ diagnostics: diagnosticsJson(ds) }, null, 2)}\n`);
    else printDiagnostics(ds, text);
    return EXIT.diagnostics;
  };
  if (!parsed.claim || hasErrors(parsed.diagnostics)) return report(parsed.diagnostics);
  // Without --model, a file of several models is asked in each model where the names exist.
  if (!opts.model && r.models.length > 1) {
    const claim = parsed.claim;
    const answered = r.models.map((m) => ({ m, res: query(m, claim) })).filter((x) => x.res.answer);
    if (answered.length === 0) return report(query(r.models[0], claim).diagnostics);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ answers: answered.map(({ m, res }) => ({ model: m.name, query: res.answer!.claim, answer: res.answer!.independent ? "independent" : "dependent", ...(res.answer!.trail ? { trail: res.answer!.trail } : {}) })) }, null, 2)}\n`);
      return EXIT.ok;
    }
    const c = colors(process.stdout);
    for (const { m, res } of answered) {
      const a = res.answer!;
      process.stdout.write(`${c.bold(m.name)}: ${a.independent ? c.green("independent") : c.yellow("dependent")}${a.trail ? ` — active trail: ${a.trail}` : ""}\n`);
    }
    return EXIT.ok;
  }
  const model = pickModel(r.models, opts.model, file);
  const { answer, diagnostics } = query(model, parsed.claim);
  if (!answer) return report(diagnostics);
  const dependentClaim = parsed.claim.negated;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ model: model.name, query: answer.claim, answer: answer.independent ? "independent" : "dependent", ...(answer.trail ? { trail: answer.trail } : {}) }, null, 2)}\n`);
    return EXIT.ok;
  }
  const c = colors(process.stdout);
  process.stdout.write(`${answer.independent ? c.green("independent") : c.yellow("dependent")}: ${answer.claim}${answer.independent ? "" : " does not hold"}\n`);
  if (answer.trail) process.stdout.write(`active trail: ${answer.trail}\n`);
  else process.stdout.write("every trail between them is blocked (d-separated)\n");
  if (dependentClaim) process.stdout.write(`(the query asked for dependence: it ${answer.independent ? "does not hold" : "holds"})\n`);
  return EXIT.ok;
}
