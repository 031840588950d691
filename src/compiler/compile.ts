/**
 * The compiler driver: `parse → names & shapes → factors → assumptions → graph → counts →
 * objectives → checks`, one model at a time. User errors come back as diagnostics (never
 * thrown); `compileText` is what `gm check` runs.
 */
import type * as A from "../dsl/ast";
import { DiagnosticBag, hasErrors, sortDiagnostics, type Diagnostic } from "../dsl/diagnostics";
import { parse, positionAt } from "../dsl/parse";
import { elementName } from "./elements";
import { ElementGraph } from "./graph";
import { outcomes, type ModelIR } from "./ir";
import { declareConst, declareVar, checkNamesUsed, declareOrder, layout } from "./names";
import { factorStatement, implicitStatement, defaultPriors, coverage } from "./factors";
import { applyAssumption } from "./assumptions";
import { countParameters } from "./parameters";
import { bindPosterior, bindObjectives, bindTrainBlock } from "./objectives";
import { checkClaim } from "./checks";
import { ModelContext, type CompileOptions } from "./context";

export type { CompileOptions };

/** Result of compiling a file: every model that compiled, and every diagnostic. */
export interface CompileResult {
  readonly models: ModelIR[];
  readonly diagnostics: Diagnostic[];
  /** The AST, for tools that print it back. */
  readonly ast: A.GmFile;
  readonly text: string;
  readonly file: string;
}

/** Options for `compileText`. */
/** Parses and compiles `text`. Syntax errors stop before the compiler runs. */
export function compileText(text: string, file = "<input>", options: CompileOptions = {}): CompileResult {
  const parsed = parse(text, file);
  if (hasErrors(parsed.diagnostics))
    return { models: [], diagnostics: parsed.diagnostics, ast: parsed.ast, text, file };
  const bag = new DiagnosticBag(file);
  const models: ModelIR[] = [];
  if (parsed.ast.models.length === 0) {
    // LANGUAGE.md §2: a file holds one or more models. Point where the first one would go.
    const start = firstCodeOffset(text);
    const at = positionAt(text, start);
    bag.error(
      "E0109",
      text.trim() === ""
        ? "this file is empty; a .gm file holds one or more `model Name { … }` blocks"
        : "this file has no model; a .gm file holds one or more `model Name { … }` blocks",
      { start: at, end: at },
      {
        hint: "start with `model Name { x : Bernoulli  p(x) = table }`",
      },
    );
  }
  const seen = new Map<string, A.ModelDecl>();
  for (const m of parsed.ast.models) {
    const prev = seen.get(m.name.name);
    if (prev) {
      const names = new Set(parsed.ast.models.map((x) => x.name.name));
      let k = 2;
      while (names.has(`${m.name.name}${k}`)) k++;
      bag.error("E0208", `a model named \`${m.name.name}\` is already defined`, m.name.span, {
        related: [{ message: "first defined here", span: prev.name.span }],
        hint: `models are picked by name (\`--model ${m.name.name}\`): rename this one, e.g. \`model ${m.name.name}${k} { … }\``,
      });
      continue;
    }
    seen.set(m.name.name, m);
    const own = new DiagnosticBag(file);
    const ir = compileModel(new ModelContext(m, text, own, options));
    bag.items.push(...own.items);
    // A failed `check` line (E05xx) is a finding about a model that compiled: keep the model.
    const failed = own.items.some((d) => d.severity === "error" && !d.code.startsWith("E05"));
    if (ir && !failed) models.push(ir);
  }
  return { models, diagnostics: sortDiagnostics([...parsed.diagnostics, ...bag.items]), ast: parsed.ast, text, file };
}

/** The offset just after leading whitespace and comments (the end of the text if nothing else). */
function firstCodeOffset(text: string): number {
  const m = /^(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*/.exec(text);
  return m ? m[0].length : 0;
}

/** Compiles one `model { … }` block through every phase; null when a phase reported errors. */
function compileModel(ctx: ModelContext): ModelIR | null {
  const body = ctx.m.body;
  // 1. Names and shapes, in statement order (a name is declared before it is used).
  for (const s of body) {
    if (s.kind === "Const") declareConst(ctx, s);
    else if (s.kind === "Var") declareVar(ctx, s);
    else checkNamesUsed(ctx, s);
  }
  if (ctx.diags.hasErrors) return null;
  // 2. Orders, then element layout.
  for (const s of body) if (s.kind === "Order") declareOrder(ctx, s);
  if (ctx.diags.hasErrors) return null;
  layout(ctx);
  if (ctx.diags.hasErrors) return null;
  // 3. Factors from `p(…) = …` and `x = generator(z) by …`; default priors; coverage.
  ctx.factorOf = new Int32Array(ctx.n).fill(-1);
  ctx.positionOf = new Int32Array(ctx.n).fill(-1);
  for (const s of body) {
    if (s.kind === "Factor" && s.dist === "p") factorStatement(ctx, s);
    else if (s.kind === "Implicit") implicitStatement(ctx, s);
  }
  if (ctx.diags.hasErrors) return null;
  defaultPriors(ctx);
  if (!coverage(ctx)) return null;
  // 4. The graph must be acyclic before assumptions are read against the chain rule.
  ctx.graph = new ElementGraph(ctx.n, ctx.drafts, ctx.factorOf, ctx.positionOf);
  const cycle = ctx.graph.findCycle();
  if (cycle) {
    const names = cycle.map((e) => elementName(ctx.vars, e));
    const f = ctx.drafts[ctx.factorOf[cycle[0]]];
    ctx.diags.error("E0403", `the factors form a cycle: ${names.join(" → ")}`, f.span, {
      hint: "a Bayesian network is acyclic: each element's parents must come before it",
      notes: [`cycle: ${names.join(" → ")}`],
    });
    return null;
  }
  // 5. Assumptions prune the chain rule.
  for (const s of body) if (s.kind === "Assume") applyAssumption(ctx, s);
  if (ctx.diags.hasErrors) return null;
  ctx.graph = new ElementGraph(ctx.n, ctx.drafts, ctx.factorOf, ctx.positionOf);
  // 6. Counts.
  const factors = countParameters(ctx);
  if (!factors) return null;
  // 7. Encoders, objectives, train block.
  const beforeEncoders = ctx.diags.items.length;
  for (const s of body) if (s.kind === "Factor" && s.dist === "q") bindPosterior(ctx, s);
  // An encoder that was refused was reported; objectives do not report it missing as well.
  ctx.encoderRejected = ctx.diags.items.length > beforeEncoders;
  // Discrete latent variables (`latent c : Categorical(k)`) without an encoder are summed out
  // exactly, p(x) = Σ_c p(c) p(x | c): such a model is explicit (docs/language.md).
  const encoded = ctx.networks.some((nw) => nw.role === "posterior");
  const latentKind = ctx.vars.some((v) => v.latent && (encoded || outcomes(v.domain) === null));
  const kind: ModelIR["kind"] = factors.some((f) => f.family === "implicit")
    ? "implicit"
    : latentKind
      ? "latent"
      : "explicit";
  const objectives = bindObjectives(ctx, kind);
  const train = bindTrainBlock(ctx);
  if (ctx.diags.hasErrors) return null;
  const params = factors.reduce((a, f) => a + f.params, 0n) + ctx.networks.reduce((a, nw) => a + nw.params, 0n);
  const ir: ModelIR = {
    name: ctx.m.name.name,
    span: ctx.m.span,
    variables: ctx.vars,
    n: ctx.n,
    factors,
    factorOf: ctx.factorOf,
    positionOf: ctx.positionOf,
    networks: ctx.networks,
    objectives,
    train,
    derivation: ctx.derivation,
    params,
    constants: new Map(ctx.consts),
    kind,
  };
  // 8. Checks.
  if (ctx.options.checks !== false) for (const s of body) if (s.kind === "Check") checkClaim(ctx, s, ir);
  return ir;
}
