/**
 * The compiler driver: `parse → names & shapes → factors → assumptions → graph → counts →
 * objectives → checks`, one model at a time. User errors come back as diagnostics (never
 * thrown); `compileText` is what `gm check` runs.
 */
import type * as A from "../dsl/ast";
import { DiagnosticBag, hasErrors, sortDiagnostics, type Diagnostic } from "../dsl/diagnostics";
import { parse } from "../dsl/parse";
import { printClaim, printExpr, printFamily } from "../dsl/printer";
import {
  dcganCriticParams, dcganGeneratorParams, logisticParams, mlpParams, nadeParams, networkParams, outputsPerElement,
  productOfOutcomes, scientific, tableParams, withCommas,
} from "./count";
import { dSeparated, formatTrail } from "./dsep";
import { elementName, formatElements } from "./elements";
import {
  bindArgs, DATA_SOURCES, FACTOR_FAMILIES, lookup, NETWORKS, OBJECTIVES, ORDERS, PRIOR_FAMILIES, TRAIN_ENTRIES,
  type Written,
} from "./families";
import { ElementGraph } from "./graph";
import type {
  AuxNetworkIR, DataSourceIR, DerivationStep, Domain, FactorIR, FactorStructure, FamilyName, ModelIR, NetworkSpec,
  ObjectiveIR, OrderKind, TrainConfigIR, VariableIR,
} from "./ir";
import { domainName, outcomes } from "./ir";
import { inverse, visitOrder } from "./orders";
import { evalRef, resolveVariable, type RefRole, type VarScope } from "./refs";
import { suggest } from "./suggest";
import { dataSourceFromValue } from "./datasource";
import { evalInt, evalReal, evalSmallInt, formatNum, type Env, type Num } from "./values";

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
export interface CompileOptions {
  /** Evaluate `check` lines (default true). */
  readonly checks?: boolean;
  /** Largest number of elements a model may have (default 10 million). */
  readonly maxElements?: number;
}

/** Parses and compiles `text`. Syntax errors stop before the compiler runs. */
export function compileText(text: string, file = "<input>", options: CompileOptions = {}): CompileResult {
  const parsed = parse(text, file);
  if (hasErrors(parsed.diagnostics)) return { models: [], diagnostics: parsed.diagnostics, ast: parsed.ast, text, file };
  const bag = new DiagnosticBag(file);
  const models: ModelIR[] = [];
  const seen = new Map<string, A.ModelDecl>();
  for (const m of parsed.ast.models) {
    const prev = seen.get(m.name.name);
    if (prev) {
      bag.error("E0208", `a model named \`${m.name.name}\` is already defined`, m.name.span, { related: [{ message: "first defined here", span: prev.name.span }] });
      continue;
    }
    seen.set(m.name.name, m);
    const own = new DiagnosticBag(file);
    const ir = new ModelCompiler(m, text, own, options).compile();
    bag.items.push(...own.items);
    // A failed `check` line (E05xx) is a finding about a model that compiled: keep the model.
    const failed = own.items.some((d) => d.severity === "error" && !d.code.startsWith("E05"));
    if (ir && !failed) models.push(ir);
  }
  return { models, diagnostics: sortDiagnostics([...parsed.diagnostics, ...bag.items]), ast: parsed.ast, text, file };
}

/** A factor under construction (mutable until counted). */
interface Draft {
  family: FamilyName;
  args: Record<string, unknown>;
  targets: Int32Array;
  context: Int32Array;
  structure: FactorStructure;
  source: string;
  span: A.Span;
  network?: NetworkSpec;
  /** Network spec of an `implicit` generator before counting. */
}

const MAX_INSTANCES = 5_000_000;

/** Compiles one `model { … }` block. */
class ModelCompiler {
  private readonly consts = new Map<string, Num>();
  private readonly constDecls = new Map<string, A.ConstDecl>();
  private readonly vars: VariableIR[] = [];
  private readonly varByName = new Map<string, VariableIR>();
  private readonly varDecls = new Map<string, A.VarDecl>();
  private readonly orderDecls = new Map<string, A.OrderDecl>();
  private n = 0;
  private drafts: Draft[] = [];
  private factorOf = new Int32Array(0);
  private positionOf = new Int32Array(0);
  private factorSpans: A.Span[] = [];
  private readonly networks: AuxNetworkIR[] = [];
  private readonly derivation: DerivationStep[] = [];
  private graph?: ElementGraph;
  private encoderRejected = false;
  private readonly maxElements: number;

  constructor(
    private readonly m: A.ModelDecl,
    private readonly text: string,
    private readonly diags: DiagnosticBag,
    private readonly options: CompileOptions,
  ) {
    this.maxElements = options.maxElements ?? 10_000_000;
  }

  private get scope(): VarScope {
    return { byName: this.varByName, constants: new Set(this.consts.keys()) };
  }

  private env(extra?: ReadonlyMap<string, Num>): Env {
    const values = extra && extra.size ? new Map([...this.consts, ...extra]) : this.consts;
    return { values, variables: new Set(this.varByName.keys()) };
  }

  private src(span: A.Span): string {
    return this.text.slice(span.start.offset, span.end.offset).replace(/\s+/g, " ");
  }

  compile(): ModelIR | null {
    const body = this.m.body;
    // 1. Names and shapes, in statement order (a name is declared before it is used).
    for (const s of body) {
      if (s.kind === "Const") this.declareConst(s);
      else if (s.kind === "Var") this.declareVar(s);
      else this.checkNamesUsed(s);
    }
    if (this.diags.hasErrors) return null;
    // 2. Orders, then element layout.
    for (const s of body) if (s.kind === "Order") this.declareOrder(s);
    if (this.diags.hasErrors) return null;
    this.layout();
    if (this.diags.hasErrors) return null;
    // 3. Factors from `p(…) = …` and `x = generator(z) by …`; default priors; coverage.
    this.factorOf = new Int32Array(this.n).fill(-1);
    this.positionOf = new Int32Array(this.n).fill(-1);
    for (const s of body) {
      if (s.kind === "Factor" && s.dist === "p") this.factorStatement(s);
      else if (s.kind === "Implicit") this.implicitStatement(s);
    }
    if (this.diags.hasErrors) return null;
    this.defaultPriors();
    if (!this.coverage()) return null;
    // 4. The graph must be acyclic before assumptions are read against the chain rule.
    this.graph = new ElementGraph(this.n, this.drafts, this.factorOf, this.positionOf);
    const cycle = this.graph.findCycle();
    if (cycle) {
      const names = cycle.map((e) => elementName(this.vars, e));
      const f = this.drafts[this.factorOf[cycle[0]]];
      this.diags.error("E0403", `the factors form a cycle: ${names.join(" → ")}`, f.span, {
        hint: "a Bayesian network is acyclic: each element's parents must come before it",
        notes: [`cycle: ${names.join(" → ")}`],
      });
      return null;
    }
    // 5. Assumptions prune the chain rule.
    for (const s of body) if (s.kind === "Assume") this.assume(s);
    if (this.diags.hasErrors) return null;
    this.graph = new ElementGraph(this.n, this.drafts, this.factorOf, this.positionOf);
    // 6. Counts.
    const factors = this.count();
    if (!factors) return null;
    // 7. Encoders, objectives, train block.
    const beforeEncoders = this.diags.items.length;
    for (const s of body) if (s.kind === "Factor" && s.dist === "q") this.posterior(s);
    // An encoder that was refused was reported; objectives do not report it missing as well.
    this.encoderRejected = this.diags.items.length > beforeEncoders;
    const kind: ModelIR["kind"] = factors.some((f) => f.family === "implicit") ? "implicit" : this.vars.some((v) => v.latent) ? "latent" : "explicit";
    const objectives = this.objectives(kind);
    const train = this.trainBlock();
    if (this.diags.hasErrors) return null;
    const params = factors.reduce((a, f) => a + f.params, 0n) + this.networks.reduce((a, nw) => a + nw.params, 0n);
    const ir: ModelIR = {
      name: this.m.name.name,
      span: this.m.span,
      variables: this.vars,
      n: this.n,
      factors,
      factorOf: this.factorOf,
      positionOf: this.positionOf,
      networks: this.networks,
      objectives,
      train,
      derivation: this.derivation,
      params,
      constants: new Map(this.consts),
      kind,
    };
    // 8. Checks.
    if (this.options.checks !== false) for (const s of body) if (s.kind === "Check") this.check(s, ir);
    return ir;
  }

  // ------------------------------------------------------------------------------------------
  // Names and shapes

  private declared(name: A.Ident): A.Ident | undefined {
    return this.constDecls.get(name.name)?.name ?? this.varDecls.get(name.name)?.name;
  }

  private duplicate(name: A.Ident): boolean {
    const prev = this.declared(name);
    if (!prev) return false;
    this.diags.error("E0202", `\`${name.name}\` is already declared`, name.span, { related: [{ message: `\`${name.name}\` was first declared here`, span: prev.span }] });
    return true;
  }

  private declareConst(s: A.ConstDecl): void {
    if (this.duplicate(s.name)) return;
    const before = this.diags.items.length;
    const v = this.namesOk(s.value) ? evalInt(s.value, this.env(), this.diags, `constant \`${s.name.name}\``) : null;
    this.constDecls.set(s.name.name, s);
    // A constant that failed is declared but has no value: its uses stay quiet (see `namesOk`).
    if (v !== null && this.diags.items.length === before) this.consts.set(s.name.name, v);
  }

  /**
   * Checks the names of an expression in a declaration as other statements' names are checked
   * (used before its declaration, unknown, a random variable); false when the expression must not
   * be evaluated: a name was reported, or it is a constant whose own declaration failed.
   */
  private namesOk(e: A.Expr): boolean {
    const before = this.diags.items.length;
    this.knownNames(e, new Set(), true);
    return this.diags.items.length === before && !this.usesFailedConst(e);
  }

  private usesFailedConst(e: A.Expr): boolean {
    if (e.kind === "Name") return this.constDecls.has(e.name) && !this.consts.has(e.name);
    if (e.kind === "Unary") return this.usesFailedConst(e.operand);
    if (e.kind === "Binary") return this.usesFailedConst(e.left) || this.usesFailedConst(e.right);
    return false;
  }

  private declareVar(s: A.VarDecl): void {
    if (this.duplicate(s.name)) return;
    this.varDecls.set(s.name.name, s);
    const domain = this.domain(s.type);
    const shape: number[] = [];
    let ok = domain !== null;
    for (const e of s.shape ?? []) {
      const d = this.namesOk(e) ? evalSmallInt(e, this.env(), this.diags, "a shape") : null;
      if (d === null) {
        ok = false;
        continue;
      }
      if (d < 1) {
        this.diags.error("E0304", `every axis of a shape must be at least 1, found ${d}`, e.span);
        ok = false;
        continue;
      }
      shape.push(d);
    }
    if (!ok || !domain) return;
    const size = shape.reduce((a, b) => a * b, 1);
    if (size > this.maxElements) {
      this.diags.error("E0304", `\`${s.name.name}\` has ${withCommas(BigInt(size))} elements; gm handles at most ${withCommas(BigInt(this.maxElements))} per model`, s.span);
      return;
    }
    const v: VariableIR = {
      name: s.name.name, latent: s.latent, domain, shape, shapeText: (s.shape ?? []).map((e) => printExpr(e)), size, offset: 0, order: { kind: "raster" },
      visit: new Int32Array(0), rank: new Int32Array(0), span: s.span,
    };
    this.vars.push(v);
    this.varByName.set(v.name, v);
  }

  private domain(t: A.TypeExpr): Domain | null {
    const name = t.name.name;
    const args = t.args ?? [];
    const want = (n: number, example: string): boolean => {
      if (args.length === n) return true;
      this.diags.error("E0306", `\`${name}\` takes ${n === 0 ? "no arguments" : n === 1 ? "one argument" : `${n} arguments`}`, t.span, { hint: `write \`${example}\`` });
      return false;
    };
    switch (name) {
      case "Bernoulli":
        return want(0, "Bernoulli") ? { kind: "bernoulli" } : null;
      case "Normal":
        return want(0, "Normal") ? { kind: "normal" } : null;
      case "Categorical": {
        if (!want(1, "Categorical(k)")) return null;
        const k = this.namesOk(args[0]) ? evalSmallInt(args[0], this.env(), this.diags, "the number of categories") : null;
        if (k === null) return null;
        if (k < 2) {
          this.diags.error("E0306", `a categorical needs at least 2 outcomes, found ${k}`, args[0].span);
          return null;
        }
        return { kind: "categorical", k };
      }
      case "Real": {
        if (!want(2, "Real(lo, hi)")) return null;
        if (!this.namesOk(args[0]) || !this.namesOk(args[1])) return null;
        const lo = evalReal(args[0], this.env(), this.diags);
        const hi = evalReal(args[1], this.env(), this.diags);
        if (lo === null || hi === null) return null;
        if (!(lo < hi)) {
          this.diags.error("E0306", `\`Real(lo, hi)\` needs lo < hi, found ${lo} and ${hi}`, t.span);
          return null;
        }
        return { kind: "real", lo, hi };
      }
      default: {
        const guess = suggest(name, ["Bernoulli", "Categorical", "Normal", "Real"]);
        this.diags.error("E0204", `unknown distribution \`${name}\``, t.name.span, { hint: guess ? `did you mean \`${guess}\`?` : "the types are Bernoulli, Categorical(k), Normal and Real(lo, hi)" });
        return null;
      }
    }
  }

  /** Reports names used before their declaration (or never declared) in a statement. */
  private checkNamesUsed(s: A.Statement): void {
    const loopVars = new Set<string>();
    const quants = "quantifiers" in s ? s.quantifiers : [];
    for (const q of quants) {
      const shadow = this.declared(q.variable);
      if (shadow) this.diags.error("E0209", `loop variable \`${q.variable.name}\` hides the declaration of \`${q.variable.name}\``, q.variable.span, { related: [{ message: "declared here", span: shadow.span }], hint: "choose another name for the loop variable" });
      if (loopVars.has(q.variable.name)) this.diags.error("E0202", `loop variable \`${q.variable.name}\` is already bound in this statement`, q.variable.span);
      loopVars.add(q.variable.name);
    }
    const refs: A.Ref[] = [];
    const exprs: A.Expr[] = [];
    for (const q of quants) exprs.push(q.lo, q.hi);
    const silent = new DiagnosticBag(this.diags.file);
    const known = (w: Written, table: Record<string, unknown>, kind: Parameters<typeof lookup>[2], also: Record<string, unknown> = {}) => {
      if (w.name.name in table || w.name.name in also) return;
      lookup(w, table as never, kind, this.diags, also as never);
    };
    void silent;
    switch (s.kind) {
      case "Order":
        this.knownVariable(s.target);
        known(s.order, ORDERS, "order");
        return;
      case "Fit":
        for (const o of s.objectives) known(o, OBJECTIVES, "objective");
        return;
      case "Factor":
        refs.push(...s.targets, ...s.given);
        if (s.dist === "p") known(s.family, FACTOR_FAMILIES, "family", PRIOR_FAMILIES);
        break;
      case "Assume":
        refs.push(...s.claim.left, ...s.claim.right, ...s.claim.given);
        break;
      case "Check":
        if (s.claim.kind === "Independence") refs.push(...s.claim.left, ...s.claim.right, ...s.claim.given);
        else {
          for (const id of s.claim.of ?? []) this.knownVariable(id);
          exprs.push(s.claim.value);
        }
        break;
      case "Implicit":
        this.knownVariable(s.target);
        known(s.network, NETWORKS, "network");
        refs.push(...s.inputs);
        break;
      default:
        return;
    }
    for (const r of refs) {
      this.knownVariable(r.name);
      if (r.subscript?.kind === "Index") for (const it of r.subscript.items) {
        if (it.kind === "Range") exprs.push(it.lo, it.hi);
        else if (it.kind !== "All") exprs.push(it);
      }
      if (r.subscript?.kind === "Before") exprs.push(...r.subscript.at);
    }
    for (const e of exprs) this.knownNames(e, loopVars);
  }

  private knownVariable(id: A.Ident): void {
    // A declaration that failed was reported already; its uses stay quiet.
    if (this.varByName.has(id.name) || this.varDecls.has(id.name)) return;
    if (this.consts.has(id.name)) {
      this.diags.error("E0211", `\`${id.name}\` is a constant, not a random variable`, id.span);
      return;
    }
    const later = this.m.body.find((st) => st.kind === "Var" && st.name.name === id.name && st.span.start.offset > id.span.start.offset);
    if (later) {
      this.diags.error("E0203", `\`${id.name}\` is used before it is declared`, id.span, { related: [{ message: "declared here", span: (later as A.VarDecl).name.span }], hint: "move the declaration above its first use" });
      return;
    }
    const guess = suggest(id.name, this.varByName.keys());
    this.diags.error("E0201", `unknown random variable \`${id.name}\``, id.span, { hint: guess ? `did you mean \`${guess}\`?` : `declare it first, e.g. \`${id.name} : Bernoulli\`` });
  }

  private knownNames(e: A.Expr, loopVars: ReadonlySet<string>, inDeclaration = false): void {
    if (e.kind === "Name") {
      // A constant whose declaration failed was reported there; its uses stay quiet.
      if (this.consts.has(e.name) || this.constDecls.has(e.name) || loopVars.has(e.name)) return;
      if (this.varByName.has(e.name)) {
        this.diags.error("E0210", `\`${e.name}\` is a random variable, not a number`, e.span, { hint: "indices use constants and loop variables" });
        return;
      }
      const later = this.m.body.find((st) => st.kind === "Const" && st.name.name === e.name && st.span.start.offset > e.span.start.offset);
      if (later) {
        this.diags.error("E0203", `\`${e.name}\` is used before it is declared`, e.span, { related: [{ message: "declared here", span: (later as A.ConstDecl).name.span }], hint: "move the declaration above its first use" });
        return;
      }
      const guess = suggest(e.name, [...this.consts.keys(), ...loopVars]);
      const fix = inDeclaration ? `declare it first: \`const ${e.name} = …\`` : `declare it: \`const ${e.name} = …\`, or bind it: \`for ${e.name} in 1..n:\``;
      this.diags.error("E0201", `unknown name \`${e.name}\``, e.span, { hint: guess ? `did you mean \`${guess}\`?` : fix });
    } else if (e.kind === "Unary") this.knownNames(e.operand, loopVars, inDeclaration);
    else if (e.kind === "Binary") {
      this.knownNames(e.left, loopVars, inDeclaration);
      this.knownNames(e.right, loopVars, inDeclaration);
    }
  }

  private declareOrder(s: A.OrderDecl): void {
    const v = this.varByName.get(s.target.name);
    if (!v) return;
    const prev = this.orderDecls.get(v.name);
    if (prev) {
      this.diags.error("E0202", `\`${v.name}\` already has an order`, s.span, { related: [{ message: "first order here", span: prev.span }] });
      return;
    }
    this.orderDecls.set(v.name, s);
    const sch = lookup(s.order, ORDERS, "order", this.diags);
    if (!sch) return;
    const args = bindArgs(s.order, sch, this.env(), this.diags);
    if (!args) return;
    (v as { order: VariableIR["order"] }).order = { kind: sch.name as OrderKind, ...(sch.name === "random" ? { seed: args.seed as number } : {}) };
  }

  private layout(): void {
    let offset = 0;
    for (const v of this.vars) {
      const visit = visitOrder(v.shape, v.order.kind, v.order.seed);
      Object.assign(v as object, { offset, visit, rank: inverse(visit) });
      offset += v.size;
    }
    this.n = offset;
    if (this.n > this.maxElements) this.diags.error("E0304", `the model has ${withCommas(BigInt(this.n))} elements; gm handles at most ${withCommas(BigInt(this.maxElements))}`, this.m.name.span);
  }

  // ------------------------------------------------------------------------------------------
  // Quantifiers

  /** Calls `fn` once per binding of the statement's loop variables; false if it failed. */
  private forEachInstance(quants: readonly A.Quantifier[], fn: (env: Env, bound: ReadonlyMap<string, Num>) => boolean | void): boolean {
    // Count first (the innermost range by its length), so a statement that is too large is
    // refused at once instead of after millions of instances.
    if (quants.length && this.instancesAtLeast(quants, MAX_INSTANCES + 1)) {
      this.diags.error("E0308", `this statement expands to more than ${withCommas(BigInt(MAX_INSTANCES))} instances`, quants[0].span);
      return false;
    }
    let count = 0;
    const bound = new Map<string, Num>();
    const rec = (i: number): boolean => {
      if (i === quants.length) {
        if (++count > MAX_INSTANCES) {
          this.diags.error("E0308", `this statement expands to more than ${withCommas(BigInt(MAX_INSTANCES))} instances`, quants[0].span);
          return false;
        }
        return fn(this.env(bound), bound) !== false;
      }
      const q = quants[i];
      const lo = evalInt(q.lo, this.env(bound), this.diags, "a loop bound");
      const hi = evalInt(q.hi, this.env(bound), this.diags, "a loop bound");
      if (lo === null || hi === null) return false;
      for (let v = lo; v <= hi; v++) {
        bound.set(q.variable.name, v);
        if (!rec(i + 1)) return false;
      }
      bound.delete(q.variable.name);
      return true;
    };
    return rec(0);
  }

  /**
   * Whether the quantifiers bind at least `limit` instances (each binding of an outer loop
   * counts too: it is work even when the inner range is empty). Bounds that fail to evaluate
   * count as empty; the main pass reports them.
   */
  private instancesAtLeast(quants: readonly A.Quantifier[], limit: number): boolean {
    const silent = new DiagnosticBag(this.diags.file);
    const bound = new Map<string, Num>();
    let count = 0;
    const rec = (i: number): boolean => {
      const q = quants[i];
      const lo = evalInt(q.lo, this.env(bound), silent, "a loop bound");
      const hi = evalInt(q.hi, this.env(bound), silent, "a loop bound");
      if (lo === null || hi === null || hi < lo) return false;
      if (i === quants.length - 1) {
        count += Number(hi - lo + 1n);
        return count >= limit;
      }
      for (let v = lo; v <= hi; v++) {
        bound.set(q.variable.name, v);
        if (++count >= limit || rec(i + 1)) return true;
      }
      bound.delete(q.variable.name);
      return false;
    };
    return rec(0);
  }

  private refsToElements(refs: readonly A.Ref[], env: Env, role: RefRole): Int32Array[] | null {
    const out: Int32Array[] = [];
    for (const r of refs) {
      const els = evalRef(r, this.scope, env, this.diags, role);
      if (!els) return null;
      out.push(els);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Factors

  private factorStatement(s: A.FactorStmt): void {
    const fam = s.family;
    const allPrior = s.targets.every((r) => this.varByName.get(r.name.name)?.latent);
    const isPrior = fam.name.name in PRIOR_FAMILIES;
    const table = isPrior ? PRIOR_FAMILIES : FACTOR_FAMILIES;
    const sch = lookup(fam, table, "family", this.diags, allPrior ? FACTOR_FAMILIES : PRIOR_FAMILIES);
    if (!sch && !(fam.name.name in FACTOR_FAMILIES) && !(fam.name.name in PRIOR_FAMILIES)) return;
    if (!sch) return;
    const args = bindArgs(fam, sch, this.env(), this.diags);
    if (!args) return;
    this.forEachInstance(s.quantifiers, (env) => {
      const targetLists = this.refsToElements(s.targets, env, "child");
      const givenLists = this.refsToElements(s.given, env, "parent");
      if (!targetLists || !givenLists) return false;
      // Targets in head order, each variable's elements in its visiting order.
      const targets: number[] = [];
      const seen = new Set<number>();
      for (const list of targetLists) {
        const sorted = Array.from(list).sort((a, b) => this.rankOf(a) - this.rankOf(b));
        for (const e of sorted) {
          if (seen.has(e)) {
            this.diags.error("E0402", `\`${elementName(this.vars, e)}\` appears twice on the left of \`|\``, s.span);
            return false;
          }
          seen.add(e);
          targets.push(e);
        }
      }
      if (targets.length === 0) return true; // an empty range names nothing
      const context = Array.from(new Set(givenLists.flatMap((l) => Array.from(l)))).sort((a, b) => a - b);
      const both = context.find((e) => seen.has(e));
      if (both !== undefined) {
        this.diags.error("E0415", `\`${elementName(this.vars, both)}\` is both a target and a condition of this factor`, s.span);
        return false;
      }
      const draft = this.makeDraft(s, sch.name as FamilyName, args, Int32Array.from(targets), Int32Array.from(context));
      if (!draft) return false;
      this.addDraft(draft);
      return true;
    });
  }

  private rankOf(e: number): number {
    const v = this.varOf(e);
    return v.offset + v.rank[e - v.offset];
  }

  private varOf(e: number): VariableIR {
    let lo = 0;
    let hi = this.vars.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.vars[mid].offset <= e) lo = mid;
      else hi = mid - 1;
    }
    return this.vars[lo];
  }

  private domainsOf(els: Int32Array): Domain[] {
    return Array.from(els, (e) => this.varOf(e).domain);
  }

  /** Validates a family against the domains it is applied to and builds the draft factor. */
  private makeDraft(s: A.FactorStmt, family: FamilyName, args: Record<string, unknown>, targets: Int32Array, context: Int32Array): Draft | null {
    const span = s.span;
    const source = this.src(s.span);
    const tDomains = this.domainsOf(targets);
    const cDomains = this.domainsOf(context);
    const famName = printFamily(s.family);
    const firstContinuous = (els: Int32Array, ds: Domain[]) => {
      const i = ds.findIndex((d) => outcomes(d) === null);
      return i < 0 ? null : { e: els[i], d: ds[i] };
    };
    const needDiscreteTargets = (): boolean => {
      const c = firstContinuous(targets, tDomains);
      if (!c) return true;
      this.diags.error("E0410", `\`${s.family.name.name}\` needs discrete elements, but \`${elementName(this.vars, c.e)}\` is ${domainName(c.d)}`, s.family.span, {
        hint: this.varOf(c.e).latent ? "a latent Normal takes a prior: `p(z) = normal`" : "continuous elements need a network: `p(x | z) = mlp(hidden = [...])`",
      });
      return false;
    };
    const needDiscreteContext = (): boolean => {
      const c = firstContinuous(context, cDomains);
      if (!c) return true;
      this.diags.error("E0411", `a table cannot condition on \`${elementName(this.vars, c.e)}\`, which is ${domainName(c.d)}`, s.family.span, { hint: "condition continuous variables through `mlp(hidden = [...])` or `logistic`" });
      return false;
    };
    const noContext = (): boolean => {
      if (context.length === 0) return true;
      this.diags.error("E0412", `\`${s.family.name.name}\` does not take conditions (\`| …\`)`, s.family.span, { hint: s.family.name.name === "nade" || s.family.name.name === "pixelrnn" ? "conditional autoregressive models are not supported yet (docs/language.md)" : undefined });
      return false;
    };
    const base = { family, args, targets, context, source, span };
    switch (family) {
      case "joint":
        if (!needDiscreteTargets() || !needDiscreteContext()) return null;
        return { ...base, structure: targets.length > 1 ? { kind: "joint" } : { kind: "none" } };
      case "independent":
      case "table":
        if (!needDiscreteTargets() || !needDiscreteContext()) return null;
        if (family === "table" && targets.length > 1) return { ...base, family: "joint", structure: { kind: "joint" } };
        return { ...base, structure: { kind: "none" } };
      case "chain":
        if (!needDiscreteTargets() || !needDiscreteContext()) return null;
        return { ...base, structure: { kind: "prefix" } };
      case "markov":
        if (!needDiscreteTargets() || !needDiscreteContext()) return null;
        return { ...base, structure: { kind: "window", k: args.k as number } };
      case "logistic":
        if (!needDiscreteTargets()) return null;
        return { ...base, structure: { kind: "prefix" } };
      case "nade": {
        if (!noContext()) return null;
        const c = tDomains.findIndex((d) => d.kind !== "bernoulli");
        if (c >= 0) {
          this.diags.error("E0410", `\`nade\` models Bernoulli elements; \`${elementName(this.vars, targets[c])}\` is ${domainName(tDomains[c])}`, s.family.span, { hint: "binarize the data (`Bernoulli`), or use `pixelrnn` or `logistic` for categorical pixels" });
          return null;
        }
        return { ...base, structure: { kind: "prefix" }, network: { kind: "nade", d: targets.length, hidden: args.hidden as number } };
      }
      case "pixelrnn": {
        if (!noContext() || !needDiscreteTargets()) return null;
        const v = this.varOf(targets[0]);
        if (targets.length !== v.size || (v.shape.length !== 2 && v.shape.length !== 3)) {
          this.diags.error("E0413", "`pixelrnn` models a whole image: `p(x) = pixelrnn(…)` with x of shape [H, W] or [H, W, C]", s.span);
          return null;
        }
        if (v.order.kind !== "raster") {
          this.diags.error("E0413", `\`pixelrnn\` visits pixels in raster order, but \`${v.name}\` is ordered ${v.order.kind}`, s.family.span, { hint: `remove \`order ${v.name} ${v.order.kind}\`` });
          return null;
        }
        const channels = v.shape.length === 3 ? v.shape[2] : 1;
        const variant = args.kind as "row_lstm" | "diagonal_bilstm";
        return {
          ...base, structure: { kind: "prefix" },
          network: { kind: "pixelrnn", variant, height: v.shape[0], width: v.shape[1], channels, outPerChannel: outputsPerElement(v.domain), hidden: args.hidden as number, layers: args.layers as number },
        };
      }
      case "mlp": {
        if (context.length === 0) {
          this.diags.error("E0414", "`mlp` is a conditional: it needs something to condition on", s.span, { hint: `write \`p(${s.targets.map((r) => r.name.name).join(", ")} | z) = ${famName}\`, or use \`table\` / \`joint\` without conditions` });
          return null;
        }
        if (args.deterministic) {
          this.diags.error("E0414", "`deterministic` applies to an encoder `q(z | x) = mlp(…, deterministic)`", s.family.span);
          return null;
        }
        const out = tDomains.reduce((a, d) => a + outputsPerElement(d), 0);
        return { ...base, structure: { kind: "none" }, network: { kind: "mlp", sizes: [context.length, ...(args.hidden as number[]), out], output: "per-element" } };
      }
      case "normal":
      case "uniform":
      case "mixture": {
        if (!noContext()) return null;
        const c = tDomains.findIndex((d) => outcomes(d) !== null);
        if (c >= 0) {
          this.diags.error("E0410", `\`${family}\` is a prior over real values; \`${elementName(this.vars, targets[c])}\` is ${domainName(tDomains[c])}`, s.family.span);
          return null;
        }
        if (family === "uniform" && !((args.lo as number) < (args.hi as number))) {
          this.diags.error("E0306", `\`uniform(lo, hi)\` needs lo < hi, found ${args.lo} and ${args.hi}`, s.family.span);
          return null;
        }
        if (family === "mixture" && tDomains.some((d) => d.kind !== "normal")) {
          this.diags.error("E0410", "`mixture` is a prior over Normal latent variables", s.family.span);
          return null;
        }
        return { ...base, structure: family === "mixture" && targets.length > 1 ? { kind: "joint" } : { kind: "none" } };
      }
      default:
        return null;
    }
  }

  private addDraft(d: Draft): void {
    const id = this.drafts.length;
    for (let j = 0; j < d.targets.length; j++) {
      const e = d.targets[j];
      const prev = this.factorOf[e];
      if (prev >= 0) {
        this.diags.error("E0402", `\`${elementName(this.vars, e)}\` has two factors`, d.span, {
          related: [{ message: `its first factor: \`${this.drafts[prev].source}\``, span: this.drafts[prev].span }],
          hint: "every element needs exactly one factor",
        });
        return;
      }
    }
    for (let j = 0; j < d.targets.length; j++) {
      this.factorOf[d.targets[j]] = id;
      this.positionOf[d.targets[j]] = j;
    }
    this.drafts.push(d);
    this.factorSpans.push(d.span);
  }

  private implicitStatement(s: A.ImplicitStmt): void {
    const v = resolveVariable(s.target, this.scope, this.diags);
    if (!v) return;
    if (v.latent) {
      this.diags.error("E0416", `\`${v.name}\` is latent; \`generator\` defines an observed variable from latent ones`, s.target.span);
      return;
    }
    const lists = this.refsToElements(s.inputs, this.env(), "claim");
    if (!lists) return;
    const context = Int32Array.from(new Set(lists.flatMap((l) => Array.from(l)))).sort();
    if (context.some((e) => this.varOf(e) === v)) {
      this.diags.error("E0415", `\`${v.name}\` cannot be generated from itself`, s.span);
      return;
    }
    const sch = lookup(s.network, NETWORKS, "network", this.diags);
    if (!sch) return;
    const args = bindArgs(s.network, sch, this.env(), this.diags);
    if (!args) return;
    const network = this.networkSpec(sch.name, args, context.length, v, "generator", s.network.span);
    if (!network) return;
    const targets = Int32Array.from(v.visit, (f) => v.offset + f);
    this.addDraft({ family: "implicit", args, targets, context, structure: { kind: "none" }, source: this.src(s.span), span: s.span, network });
  }

  /** Builds a generator or critic network spec for `v` (the image it makes or reads). */
  private networkSpec(name: string, args: Record<string, unknown>, inputs: number, v: VariableIR, role: "generator" | "critic", span: A.Span): NetworkSpec | null {
    if (name === "mlp") {
      if (args.deterministic) {
        this.diags.error("E0414", "`deterministic` applies to an encoder `q(z | x) = mlp(…, deterministic)`", span);
        return null;
      }
      const sizes = role === "generator" ? [inputs, ...(args.hidden as number[]), v.size] : [v.size, ...(args.hidden as number[]), 1];
      return { kind: "mlp", sizes, output: role === "generator" ? "values" : "logit" };
    }
    // dcgan: images [H, W] or [H, W, C] with H and W divisible by 4.
    const [H, W, C] = [v.shape[0], v.shape[1], v.shape.length === 3 ? v.shape[2] : 1];
    if ((v.shape.length !== 2 && v.shape.length !== 3) || H % 4 !== 0 || W % 4 !== 0) {
      this.diags.error("E0417", `\`dcgan\` works on images whose height and width are multiples of 4; \`${v.name}\` has shape [${v.shape.join(", ")}]`, span, { hint: "use `mlp(hidden = [...])`" });
      return null;
    }
    const base = args.base as number;
    return role === "generator"
      ? { kind: "dcgan-generator", zdim: inputs, base, height: H, width: W, channels: C }
      : { kind: "dcgan-critic", base, height: H, width: W, channels: C };
  }

  private defaultPriors(): void {
    for (const v of this.vars) {
      if (!v.latent) continue;
      let missing = 0;
      for (let f = 0; f < v.size; f++) if (this.factorOf[v.offset + f] < 0) missing++;
      if (missing !== v.size) continue;
      if (v.domain.kind === "normal" || v.domain.kind === "real") {
        const family: FamilyName = v.domain.kind === "normal" ? "normal" : "uniform";
        const args = v.domain.kind === "real" ? { lo: v.domain.lo, hi: v.domain.hi } : {};
        const targets = Int32Array.from(v.visit, (f) => v.offset + f);
        this.addDraft({ family, args, targets, context: new Int32Array(0), structure: { kind: "none" }, source: `p(${v.name}) = ${family === "normal" ? "normal" : `uniform(${v.domain.kind === "real" ? `${v.domain.lo}, ${v.domain.hi}` : ""})`} (default)`, span: v.span });
      }
    }
  }

  /** Every element has exactly one factor (duplicates were reported when added). */
  private coverage(): boolean {
    let ok = !this.diags.hasErrors;
    for (const v of this.vars) {
      const missing: number[] = [];
      for (let f = 0; f < v.size; f++) if (this.factorOf[v.offset + f] < 0) missing.push(v.offset + f);
      if (missing.length === 0) continue;
      ok = false;
      const what = formatElements(this.vars, missing);
      const all = missing.length === v.size;
      this.diags.error("E0401", all ? `\`${v.name}\` has no factor` : `\`${what}\` ${missing.length === 1 ? "has" : "have"} no factor`, v.span, {
        hint: all ? (v.latent ? `give it a prior: \`p(${v.name}) = …\`` : `say how it is distributed: \`p(${v.name}) = chain\`, \`= independent\`, …`) : "every element needs exactly one factor: check the ranges of the `for` statements",
      });
    }
    return ok;
  }

  // ------------------------------------------------------------------------------------------
  // Assumptions (LANGUAGE.md §6)

  private assume(s: A.AssumeStmt): void {
    const by = this.src(s.span);
    const claim = s.claim;
    if (claim.negated) {
      this.diags.error("E0405", "an assumption states an independence; `not ⊥` is a claim to `check`", claim.span, { hint: `write \`check ${printClaim(claim)}\`` });
      return;
    }
    this.forEachInstance(s.quantifiers, (env) => {
      const A = this.refsToElements(claim.left, env, "child");
      const B = this.refsToElements(claim.right, env, "parent");
      const C = this.refsToElements(claim.given, env, "parent");
      if (!A || !B || !C) return false;
      const a = new Set(A.flatMap((l) => Array.from(l)));
      const b = new Set(B.flatMap((l) => Array.from(l)));
      const c = new Set(C.flatMap((l) => Array.from(l)));
      for (const [x, y, what] of [[a, b, "both sides of ⊥"], [a, c, "both the left side and the condition"], [b, c, "both the right side and the condition"]] as const) {
        const both = [...x].find((e) => y.has(e));
        if (both !== undefined) {
          this.diags.error("E0404", `this assumption cannot apply: \`${elementName(this.vars, both)}\` is on ${what}`, claim.span);
          return false;
        }
      }
      if (b.size === 0) return true; // e.g. x[1..i-2] when i = 2: nothing to remove
      for (const el of a) if (!this.prune(el, b, c, s, by)) return false;
      return true;
    });
  }

  /** Removes `b` from the parents of `el` (one step of the derivation). */
  private prune(el: number, b: Set<number>, c: Set<number>, s: A.AssumeStmt, by: string): boolean {
    const fi = this.factorOf[el];
    const f = this.drafts[fi];
    const name = elementName(this.vars, el);
    if (!["chain", "markov", "logistic"].includes(f.family)) {
      const why = f.family === "joint" ? `\`${f.source}\` is one table over every outcome; it has no parents to remove`
        : f.family === "nade" || f.family === "pixelrnn" ? `\`${f.family}\` shares one network across all predecessors; its parents cannot be pruned`
        : f.family === "table" || f.family === "independent" ? `the factor of \`${name}\` lists its parents explicitly (\`${f.source}\`)`
        : `the factor of \`${name}\` is \`${f.family}\`, not a chain rule`;
      this.diags.error("E0405", `this assumption cannot apply to \`${name}\`: ${why}`, s.claim.span, {
        related: [{ message: "the factor", span: f.span }],
        hint: f.family === "joint" || f.family === "table" || f.family === "independent" ? "assumptions prune `p(x) = chain`: write the chain rule and let `assume` remove parents" : undefined,
      });
      return false;
    }
    const pos = this.positionOf[el];
    const inContext = new Set(f.context);
    const isPred = (e: number) => inContext.has(e) || (this.factorOf[e] === fi && this.positionOf[e] < pos);
    for (const [set, side] of [[b, "right side"], [c, "condition"]] as const) {
      const bad = [...set].filter((e) => !isPred(e));
      if (bad.length) {
        const v = this.varOf(el);
        this.diags.error("E0406", `this assumption cannot apply to \`${name}\`: \`${formatElements(this.vars, bad)}\` ${bad.length === 1 ? "is" : "are"} not among its predecessors (${side})`, s.claim.span, {
          hint: `\`assume A ⊥ B | C\` removes B from A's parents in the chain rule, so B and C must come before A in ${v.order.kind} order`,
        });
        return false;
      }
    }
    const graph = new ElementGraph(this.n, this.drafts, this.factorOf, this.positionOf);
    if (f.structure.kind !== "explicit") {
      const parents = Array.from(f.targets, (t) => graph.parents(t));
      f.structure = { kind: "explicit", parents };
    }
    const lists = (f.structure as { kind: "explicit"; parents: Int32Array[] }).parents;
    const before = lists[pos];
    const after = before.filter((p) => !b.has(p));
    if (after.length !== before.length) {
      lists[pos] = after;
      this.derivation.push({ element: el, before, after, by, span: s.span });
    }
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // Counting

  private count(): FactorIR[] | null {
    const out: FactorIR[] = [];
    const graph = this.graph!;
    for (let id = 0; id < this.drafts.length; id++) {
      const d = this.drafts[id];
      const tDomains = this.domainsOf(d.targets);
      let params = 0n;
      let closedForm: string | undefined;
      const n = d.targets.length;
      const allBinary = tDomains.every((x) => x.kind === "bernoulli");
      const pristine = d.structure.kind !== "explicit" && d.context.length === 0;
      switch (d.family) {
        case "joint": {
          const all = productOfOutcomes(tDomains.map((x) => outcomes(x)!));
          params = (all - 1n) * productOfOutcomes(this.domainsOf(d.context).map((x) => outcomes(x)!));
          if (d.context.length === 0) closedForm = allBinary ? `2^n − 1 (n = ${n})` : "Π k − 1";
          break;
        }
        case "independent":
        case "table":
        case "chain":
        case "markov": {
          const ctxKs = this.domainsOf(d.context).map((x) => outcomes(x)!);
          if (d.structure.kind === "explicit") {
            d.targets.forEach((t, j) => {
              const ps = (d.structure as { kind: "explicit"; parents: Int32Array[] }).parents[j];
              params += tableParams(tDomains[j], Array.from(ps, (p) => outcomes(this.varOf(p).domain)!));
            });
          } else if (d.structure.kind === "prefix") {
            // Σ (k_i − 1) Π_{j<i} k_j · Π context = (Π k − 1) · Π context, computed by a running product.
            let prefix = productOfOutcomes(ctxKs);
            for (const dom of tDomains) {
              const k = BigInt(outcomes(dom)!);
              params += (k - 1n) * prefix;
              prefix *= k;
            }
          } else {
            const ctx = productOfOutcomes(ctxKs);
            const k = d.structure.kind === "window" ? d.structure.k : 0;
            const ks = tDomains.map((x) => BigInt(outcomes(x)!));
            for (let j = 0; j < n; j++) {
              let p = ctx;
              for (let i = Math.max(0, j - k); i < j; i++) p *= ks[i];
              params += (ks[j] - 1n) * p;
            }
          }
          if (pristine && allBinary) {
            if (d.family === "independent") closedForm = `n (n = ${n})`;
            if (d.family === "chain") closedForm = `2^n − 1 (n = ${n})`;
            if (d.family === "markov") {
              const k = d.args.k as number;
              closedForm = k === 1 ? `2n − 1 (n = ${n})` : `2^k − 1 + (n − k)·2^k (n = ${n}, k = ${k})`;
              if (n < k) closedForm = `2^n − 1 (n = ${n} < k = ${k})`;
            }
          } else if (pristine && d.family === "independent") closedForm = "Σ (k − 1)";
          if (d.family === "table" && d.targets.length === 1) closedForm = "(k − 1)·Π k_parents";
          break;
        }
        case "logistic":
          for (let j = 0; j < n; j++) params += logisticParams(tDomains[j], graph.parentCount(d.targets[j]));
          if (pristine && allBinary) closedForm = `n(n+1)/2 (n = ${n})`;
          break;
        case "nade": {
          const nw = d.network as Extract<NetworkSpec, { kind: "nade" }>;
          params = nadeParams(nw.d, nw.hidden);
          closedForm = `2nH + n + H (n = ${nw.d}, H = ${nw.hidden})`;
          break;
        }
        case "pixelrnn":
        case "mlp":
        case "implicit":
          params = networkParams(d.network!);
          break;
        case "normal":
        case "uniform":
        case "mixture":
          params = 0n;
          break;
      }
      out.push({ id, family: d.family, args: d.args, targets: d.targets, context: d.context, structure: d.structure, params, closedForm, source: d.source, span: d.span, network: d.network });
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Encoders, objectives, train block (LANGUAGE.md §7, §8)

  private posterior(s: A.FactorStmt): void {
    if (s.quantifiers.length) {
      this.diags.error("E0418", "an encoder `q(z | x) = …` is stated once for the whole latent variable, not per element", s.span);
      return;
    }
    const targets = this.refsToElements(s.targets, this.env(), "claim");
    const given = this.refsToElements(s.given, this.env(), "claim");
    if (!targets || !given) return;
    const t = Int32Array.from(targets.flatMap((l) => Array.from(l)));
    const g = Int32Array.from(given.flatMap((l) => Array.from(l)));
    const observedTarget = Array.from(t).find((e) => !this.varOf(e).latent);
    if (observedTarget !== undefined) {
      this.diags.error("E0418", `\`q(…)\` is the posterior of latent variables; \`${this.varOf(observedTarget).name}\` is observed`, s.span);
      return;
    }
    if (g.length === 0) {
      this.diags.error("E0418", "an encoder conditions on the data: write `q(z | x) = mlp(hidden = [...])`", s.span);
      return;
    }
    if (s.family.name.name !== "mlp") {
      this.diags.error("E0418", `an encoder is an \`mlp(hidden = [...])\`, found \`${s.family.name.name}\``, s.family.span);
      return;
    }
    const args = bindArgs(s.family, FACTOR_FAMILIES.mlp, this.env(), this.diags);
    if (!args) return;
    if (this.networks.some((nw) => nw.role === "posterior")) {
      this.diags.error("E0418", "the model already has an encoder `q(…)`", s.span);
      return;
    }
    const out = args.deterministic ? t.length : 2 * t.length;
    const network: NetworkSpec = { kind: "mlp", sizes: [g.length, ...(args.hidden as number[]), out], output: args.deterministic ? "code" : "gaussian" };
    this.networks.push({ role: "posterior", inputs: g, outputs: t, network, params: mlpParams(network.sizes), source: this.src(s.span), span: s.span });
  }

  private objectives(kind: ModelIR["kind"]): ObjectiveIR[] {
    const fits = this.m.body.filter((s): s is A.FitStmt => s.kind === "Fit");
    for (const extra of fits.slice(1)) this.diags.error("E0607", "a model has one `fit` statement; combine objectives with `+`", extra.span, { related: [{ message: "the first `fit`", span: fits[0].span }] });
    const encoder = this.networks.find((nw) => nw.role === "posterior");
    const latents = this.vars.filter((v) => v.latent);
    const nonNormal = latents.filter((v) => {
      const f = this.drafts[this.factorOf[v.offset]];
      return f.family !== "normal";
    });
    if (fits.length === 0) {
      if (kind === "explicit") return [{ name: "likelihood", args: {}, span: this.m.name.span }];
      if (kind === "implicit") {
        this.diags.error("E0605", "an implicit model `x = generator(z) by …` is trained against a critic", this.m.name.span, { hint: "add `fit adversarial(critic = mlp(hidden = [512, 256]))`" });
        return [];
      }
      if (encoder && nonNormal.length === 0) return [{ name: "elbo", args: {}, span: this.m.name.span }];
      if (this.encoderRejected) return [];
      this.diags.error("E0604", "a latent-variable model needs an encoder and an objective", this.m.name.span, { hint: "add `q(z | x) = mlp(hidden = [...])` and `fit elbo`" });
      return [];
    }
    const fit = fits[0];
    const out: ObjectiveIR[] = [];
    for (const o of fit.objectives) {
      const sch = lookup(o, OBJECTIVES, "objective", this.diags);
      if (!sch) continue;
      const args = bindArgs(o, sch, this.env(), this.diags);
      if (!args) continue;
      const name = sch.name as ObjectiveIR["name"];
      switch (name) {
        case "likelihood":
          if (kind !== "explicit") this.diags.error("E0606", `\`likelihood\` needs an explicit density; this model is ${kind === "latent" ? "a latent-variable model: use `elbo`" : "implicit: use `adversarial(…)`"}`, o.span);
          break;
        case "elbo":
        case "iwae":
          if (kind !== "latent") {
            this.diags.error("E0601", `\`${name}\` needs latent variables with an encoder \`q(z | x)\``, o.span);
            break;
          }
          if (!encoder) {
            if (!this.encoderRejected) this.diags.error("E0602", `\`${name}\` needs an encoder`, o.span, { hint: "add `q(z | x) = mlp(hidden = [...])`" });
          } else if (encoder.network.kind === "mlp" && encoder.network.output === "code") this.diags.error("E0608", `\`${name}\` needs a Gaussian encoder; this one is \`deterministic\``, o.span, { hint: "drop `deterministic`, or fit `reconstruction + adversarial(on = z, critic = …)` (an AAE)" });
          for (const v of nonNormal) {
            const f = this.drafts[this.factorOf[v.offset]];
            this.diags.error("E0603", `\`${name}\` needs the KL divergence to the prior in closed form, which needs \`p(${v.name}) = normal\`; \`${v.name}\` has prior \`${f.source.replace(/^[^=]*=\s*/, "")}\``, o.span, {
              hint: `match q to the prior adversarially instead (an AAE): \`fit reconstruction + adversarial(on = ${v.name}, critic = mlp(hidden = [256, 256]))\``,
              related: [{ message: "the prior", span: f.span }],
            });
          }
          break;
        case "reconstruction":
          if (!encoder && !this.encoderRejected) this.diags.error("E0602", "`reconstruction` needs an encoder `q(z | x)` and a decoder `p(x | z)`", o.span);
          break;
        case "adversarial": {
          const onArg = args.on as { name: string; span: A.Span } | undefined;
          let on: VariableIR | undefined;
          if (onArg) {
            on = this.varByName.get(onArg.name);
            if (!on) {
              this.diags.error("E0201", `unknown random variable \`${onArg.name}\``, onArg.span);
              break;
            }
          } else on = this.vars.find((v) => !v.latent);
          if (!on) break;
          if (kind === "explicit") this.diags.error("E0601", "`adversarial` trains an implicit generator or matches an encoder to a prior; this model has neither", o.span);
          if (on.latent && !encoder && !this.encoderRejected) this.diags.error("E0602", `\`adversarial(on = ${on.name}, …)\` matches the encoder's codes to the prior; add \`q(${on.name} | x) = mlp(hidden = [...], deterministic)\``, o.span);
          const critic = args.critic as Written;
          const csch = lookup(critic, NETWORKS, "network", this.diags);
          if (!csch) break;
          const cargs = bindArgs(critic, csch, this.env(), this.diags);
          if (!cargs) break;
          const spec = this.networkSpec(csch.name, cargs, on.size, on, "critic", critic.span);
          if (!spec) break;
          const inputs = Int32Array.from({ length: on.size }, (_, i) => on!.offset + i);
          this.networks.push({ role: "critic", inputs, outputs: new Int32Array(0), network: spec, params: networkParams(spec), source: this.src(critic.span), span: critic.span });
          break;
        }
      }
      out.push({ name, args, span: o.span });
    }
    if (kind === "implicit" && !out.some((o) => o.name === "adversarial")) this.diags.error("E0605", "an implicit model is trained against a critic: add `adversarial(critic = …)` to `fit`", fit.span);
    if (out.some((o) => o.name === "reconstruction") && latents.length && !out.some((o) => o.name === "adversarial" || o.name === "elbo") && nonNormal.length) {
      this.diags.warning("W0609", "`reconstruction` alone does not match the codes to the prior; samples from p(z) may decode poorly", fit.span, { hint: "add `adversarial(on = z, critic = …)`" });
    }
    return out;
  }

  private trainBlock(): TrainConfigIR {
    const blocks = this.m.body.filter((s): s is A.TrainBlock => s.kind === "Train");
    for (const extra of blocks.slice(1)) this.diags.error("E0704", "a model has one `train { }` block", extra.span, { related: [{ message: "the first block", span: blocks[0].span }] });
    const cfg: { -readonly [K in keyof TrainConfigIR]: TrainConfigIR[K] } = {};
    const block = blocks[0];
    if (!block) return cfg;
    const seen = new Map<string, A.TrainEntry>();
    for (const e of block.entries) {
      const key = e.key.name;
      if (!(TRAIN_ENTRIES as readonly string[]).includes(key)) {
        const guess = suggest(key, TRAIN_ENTRIES);
        this.diags.error("E0701", `unknown train setting \`${key}\``, e.key.span, { hint: guess ? `did you mean \`${guess}\`?` : `the settings: ${TRAIN_ENTRIES.join(", ")}` });
        continue;
      }
      if (seen.has(key)) {
        this.diags.error("E0703", `\`${key}\` is set twice`, e.key.span, { related: [{ message: "first set here", span: seen.get(key)!.span }] });
        continue;
      }
      seen.set(key, e);
      const v = e.value;
      const num = (what: string, integer: boolean, min: number): number | undefined => {
        if (v.kind === "String" || v.kind === "List" || v.kind === "Call") {
          this.diags.error("E0702", `\`${key}\` must be ${what}`, v.span);
          return undefined;
        }
        const x = integer ? evalSmallInt(v, this.env(), this.diags, `\`${key}\``) : evalReal(v, this.env(), this.diags);
        if (x === null) return undefined;
        if (x < min || (!integer && min === 0 && x === 0)) {
          this.diags.error("E0702", `\`${key}\` must be ${what}, found ${x}`, v.span);
          return undefined;
        }
        return x;
      };
      switch (key) {
        case "epochs": cfg.epochs = num("a whole number ≥ 1", true, 1); break;
        case "batch": cfg.batch = num("a whole number ≥ 1", true, 1); break;
        case "lr": cfg.lr = num("a positive number", false, 0); break;
        case "seed": cfg.seed = num("a whole number ≥ 0", true, 0); break;
        case "split": {
          if (v.kind !== "List" || v.items.length !== 2) {
            this.diags.error("E0702", "`split` is [train, test], e.g. [0.8, 0.2]", v.span);
            break;
          }
          const parts = v.items.map((it) => (it.kind === "String" || it.kind === "List" || it.kind === "Call" ? null : evalReal(it, this.env(), this.diags)));
          if (parts.some((p) => p === null || !(p > 0))) {
            this.diags.error("E0702", "`split` fractions must be positive numbers", v.span);
            break;
          }
          const [a, b] = parts as number[];
          if (Math.abs(a + b - 1) > 1e-9) {
            this.diags.error("E0702", `\`split\` fractions must add up to 1, found ${a} + ${b} = ${a + b}`, v.span);
            break;
          }
          cfg.split = [a, b];
          break;
        }
        case "data": {
          const ds = dataSourceFromValue(v, this.env(), this.diags);
          if (ds) cfg.data = ds;
          break;
        }
      }
    }
    return cfg;
  }

  // ------------------------------------------------------------------------------------------
  // Checks (LANGUAGE.md §6)

  private check(s: A.CheckStmt, ir: ModelIR): void {
    const claim = s.claim;
    if (claim.kind === "Params") {
      if (s.quantifiers.length) {
        this.diags.error("E0505", "`check params` is one claim about the whole model; it takes no `for`", s.span);
        return;
      }
      const want = evalInt(claim.value, this.env(), this.diags, "a parameter count");
      if (want === null) return;
      let have = ir.params;
      let what = "the model has";
      if (claim.of) {
        const names = new Set(claim.of.map((i) => i.name));
        have = 0n;
        for (const f of ir.factors) if (Array.from(f.targets).some((e) => names.has(this.varOf(e).name))) have += f.params;
        for (const nw of ir.networks) if (nw.role === "posterior" && Array.from(nw.outputs).some((e) => names.has(this.varOf(e).name))) have += nw.params;
        what = `the factors of ${claim.of.map((i) => `\`${i.name}\``).join(", ")} have`;
      }
      const holds = compare(have, claim.op, want);
      if (!holds) {
        const show = (n: bigint) => (n.toString().length > 24 ? `${scientific(n)} (${n.toString().length} digits)` : withCommas(n));
        // Long counts that print alike in scientific notation: say how far apart they are.
        const gap = want - have;
        const apart = show(have) === show(want) && gap !== 0n ? `, ${withCommas(gap < 0n ? -gap : gap)} ${gap < 0n ? "fewer" : "more"} than counted` : "";
        this.diags.error("E0504", `check failed: params ${claim.op} ${printExpr(claim.value)}: ${what} ${show(have)} parameters, the claim says ${show(want)}${apart}`, s.span, {
          notes: [`counted:  ${have}`, `claimed:  ${want}${printExpr(claim.value) !== want.toString() ? ` (= ${printExpr(claim.value)})` : ""}`],
          hint: "`gm params` shows the count of every factor",
        });
      }
      return;
    }
    const graph = this.graph!;
    let reported = 0;
    this.forEachInstance(s.quantifiers, (env, bound) => {
      const X = this.refsToElements(claim.left, env, "claim");
      const Y = this.refsToElements(claim.right, env, "claim");
      const Z = this.refsToElements(claim.given, env, "claim");
      if (!X || !Y || !Z) return false;
      const x = X.flatMap((l) => Array.from(l));
      const y = Y.flatMap((l) => Array.from(l));
      const z = Z.flatMap((l) => Array.from(l));
      const zs = new Set(z);
      const ys = new Set(y);
      const overlap = x.find((e) => ys.has(e) || zs.has(e)) ?? y.find((e) => zs.has(e));
      if (overlap !== undefined) {
        this.diags.error("E0501", `\`${elementName(this.vars, overlap)}\` appears on two sides of the claim`, claim.span, { hint: "the sets in `A ⊥ B | C` must not overlap" });
        return false;
      }
      if (x.length === 0 || y.length === 0) return true;
      const r = dSeparated(graph, x, y, z);
      const at = bound.size ? ` (at ${[...bound].map(([k, v]) => `${k} = ${formatNum(v)}`).join(", ")})` : "";
      const claimText = `${formatElements(this.vars, x)} ⊥ ${formatElements(this.vars, y)}${z.length ? ` | ${formatElements(this.vars, z)}` : ""}`;
      if (!claim.negated && !r.independent) {
        const trail = formatTrail(r.trail!, (e) => elementName(this.vars, e));
        this.diags.error("E0502", `check failed: ${claimText} does not hold${at}`, claim.span, {
          notes: [`active trail: ${trail}`],
          hint: z.length ? "conditioning on more variables, or an `assume`, can block this trail" : "an `assume` that removes a parent along this trail would make it hold",
        });
        return ++reported < 3;
      }
      if (claim.negated && r.independent) {
        this.diags.error("E0503", `check failed: ${claimText} holds${at}, so they are not dependent`, claim.span, { notes: ["every trail between them is blocked"] });
        return ++reported < 3;
      }
      return true;
    });
  }
}

function compare(a: bigint, op: A.CompareOp, b: bigint): boolean {
  switch (op) {
    case "==": return a === b;
    case "!=": return a !== b;
    case "<": return a < b;
    case "<=": return a <= b;
    case ">": return a > b;
    case ">=": return a >= b;
  }
}

export { dcganCriticParams, dcganGeneratorParams };
