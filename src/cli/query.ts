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

/** `gm query --json`, one shape whatever happens: {answers, skipped, diagnostics}. */
function writeJson(answers: object[], skipped: object[], ds: Parameters<typeof diagnosticsJson>[0]): void {
  process.stdout.write(`${JSON.stringify({ answers, skipped, diagnostics: diagnosticsJson(ds) }, null, 2)}\n`);
}

/** Runs `gm query`. */
export function runQuery(file: string, text: string, opts: QueryOptions): number {
  const r = compileOrReport(file, { json: opts.json, empty: { answers: [], skipped: [] } });
  if (!r) return EXIT.diagnostics;
  const parsed = parseClaim(text);
  const report = (ds: Parameters<typeof printDiagnostics>[0]) => {
    if (opts.json) writeJson([], [], ds);
    else printDiagnostics(ds, text);
    return EXIT.diagnostics;
  };
  if (!parsed.claim || hasErrors(parsed.diagnostics)) return report(parsed.diagnostics);
  // Without --model, every model of the file is asked; those where the query does not apply
  // (a name it lacks, an index outside its shape) are listed as skipped, with the reason.
  const claim = parsed.claim;
  const models = opts.model ? [pickModel(r.models, opts.model, file)] : r.models;
  if (models.length === 0) return report([]);
  const results = models.map((m) => ({ m, res: query(m, claim) }));
  const answered = results.filter((x) => x.res.answer);
  const skipped = results
    .filter((x) => !x.res.answer)
    .map(({ m, res }) => ({
      model: m.name,
      reason: res.diagnostics.find((d) => d.severity === "error")?.message ?? "the query does not apply",
    }));
  if (opts.json) {
    // One shape for one model or several, answered or not.
    if (answered.length === 0) {
      writeJson([], skipped, results[0].res.diagnostics);
      return EXIT.diagnostics;
    }
    const answers = answered.map(({ m, res }) => ({
      model: m.name,
      query: res.answer!.claim,
      answer: res.answer!.independent ? "independent" : "dependent",
      ...(res.answer!.trail ? { trail: res.answer!.trail } : {}),
    }));
    writeJson(answers, skipped, r.diagnostics);
    return EXIT.ok;
  }
  if (answered.length === 0) {
    // No model answers: the first model's diagnostics, then why each other model does not.
    for (const sk of skipped.slice(1))
      process.stderr.write(`note: model ${sk.model} does not answer it either: ${sk.reason}\n`);
    return report(results[0].res.diagnostics);
  }
  const note = () => {
    const c = colors(process.stderr);
    for (const sk of skipped) process.stderr.write(`${c.cyan("note:")} skipped model ${sk.model}: ${sk.reason}\n`);
  };
  if (models.length > 1) {
    const c = colors(process.stdout);
    for (const { m, res } of answered) {
      const a = res.answer!;
      process.stdout.write(
        `${c.bold(m.name)}: ${a.independent ? c.green("independent") : c.yellow("dependent")}${a.trail ? ` — active trail: ${a.trail}` : ""}\n`,
      );
    }
    note();
    return EXIT.ok;
  }
  const answer = answered[0].res.answer!;
  const dependentClaim = claim.negated;
  const c = colors(process.stdout);
  process.stdout.write(
    `${answer.independent ? c.green("independent") : c.yellow("dependent")}: ${answer.claim}${answer.independent ? "" : " does not hold"}\n`,
  );
  if (answer.trail) process.stdout.write(`active trail: ${answer.trail}\n`);
  else process.stdout.write("every trail between them is blocked (d-separated)\n");
  if (dependentClaim)
    process.stdout.write(`(the query asked for dependence: it ${answer.independent ? "does not hold" : "holds"})\n`);
  return EXIT.ok;
}
