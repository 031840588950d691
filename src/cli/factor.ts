/**
 * `gm factor FILE [--latex] [--steps]`: the factorization in mathematical notation, collapsed
 * for indexed families; `--steps` prints the derivation from the chain rule, one `assume` at a time.
 */
import { derivationStep, encoderMath, factorization } from "../compiler/notation";
import { colors, compileOrReport, EXIT, pickModel } from "./io";

/** Options of `gm factor`. */
export interface FactorOptions {
  latex?: boolean;
  steps?: boolean;
  model?: string;
}

/** Largest number of derivation steps printed per model before eliding. */
const MAX_STEPS = 200;

/** Runs `gm factor`. */
export function runFactor(file: string, opts: FactorOptions): number {
  const r = compileOrReport(file);
  if (!r) return EXIT.diagnostics;
  const models = opts.model ? [pickModel(r.models, opts.model, file)] : r.models;
  const c = colors(process.stdout);
  const out: string[] = [];
  for (const m of models) {
    if (models.length > 1 || !opts.latex) out.push(opts.latex ? `% model ${m.name}` : c.bold(`model ${m.name}`));
    if (opts.steps) {
      const chainLike = m.factors.filter(
        (f) => f.family === "chain" || f.family === "markov" || f.family === "logistic",
      );
      for (const f of chainLike)
        out.push(
          `  start: ${f.source}  (the chain rule in ${f.family === "markov" ? `a window of ${f.args.k}` : "the declared order"})`,
        );
      const steps = m.derivation;
      steps.slice(0, MAX_STEPS).forEach((s, i) => out.push(`  ${String(i + 1).padStart(3)}. ${derivationStep(m, s)}`));
      if (steps.length > MAX_STEPS) out.push(`  … ${steps.length - MAX_STEPS} more steps`);
      if (steps.length === 0) out.push("  (no assumption removed a parent)");
      out.push(`  result:`);
    }
    out.push(`${opts.steps ? "  " : ""}${factorization(m, opts.latex ? "latex" : "unicode")}`);
    // The encoder is not a factor of p; its own line says what it conditions on.
    const q = encoderMath(m, opts.latex ? "latex" : "unicode");
    if (q) out.push(`${opts.steps ? "  " : ""}${q}`);
  }
  process.stdout.write(`${out.join("\n")}\n`);
  return EXIT.ok;
}
