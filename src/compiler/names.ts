/**
 * Names and shapes (LANGUAGE.md §2–§4): constants, variables and their domains, use before
 * declaration, unknown names with suggestions, orders and the element layout.
 */
import type * as A from "../dsl/ast";
import { printExpr } from "../dsl/printer";
import { plural, withCommas } from "./count";
import {
  bindArgs,
  FACTOR_FAMILIES,
  lookup,
  NETWORKS,
  OBJECTIVES,
  ORDERS,
  ownEntry,
  PRIOR_FAMILIES,
  type Written,
} from "./families";
import type { Domain, OrderKind, VariableIR } from "./ir";
import { inverse, visitOrder } from "./orders";
import { constantAsVariableHint } from "./refs";
import { suggest } from "./suggest";
import { evalInt, evalReal, evalSmallInt } from "./values";
import { ModelContext } from "./context";

export function duplicate(ctx: ModelContext, name: A.Ident): boolean {
  const prev = ctx.declared(name);
  if (!prev) return false;
  ctx.diags.error("E0202", `\`${name.name}\` is already declared`, name.span, {
    related: [{ message: `\`${name.name}\` was first declared here`, span: prev.span }],
    hint: `a name is declared once (one declaration covers every element): delete this one, or give it a free name such as \`${freeName(ctx, name.name)}\``,
  });
  return true;
}

/** `x2`, `x3`, …: the first of these that is not declared yet. */
function freeName(ctx: ModelContext, base: string): string {
  for (let i = 2; ; i++)
    if (!ctx.constDecls.has(`${base}${i}`) && !ctx.varDecls.has(`${base}${i}`)) return `${base}${i}`;
}

export function declareConst(ctx: ModelContext, s: A.ConstDecl): void {
  if (duplicate(ctx, s.name)) return;
  const before = ctx.diags.items.length;
  const v = namesOk(ctx, s.value) ? evalInt(s.value, ctx.env(), ctx.diags, `constant \`${s.name.name}\``) : null;
  ctx.constDecls.set(s.name.name, s);
  // A constant that failed is declared but has no value: its uses stay quiet (see `namesOk`).
  if (v !== null && ctx.diags.items.length === before) ctx.consts.set(s.name.name, v);
}

/**
 * Checks the names of an expression in a declaration as other statements' names are checked
 * (used before its declaration, unknown, a random variable); false when the expression must not
 * be evaluated: a name was reported, or it is a constant whose own declaration failed.
 */
export function namesOk(ctx: ModelContext, e: A.Expr): boolean {
  const before = ctx.diags.items.length;
  knownNames(ctx, e, new Set(), true);
  return ctx.diags.items.length === before && !usesFailedConst(ctx, e);
}

/** Whether `e` names a constant whose declaration failed (an explicit stack: no recursion). */
export function usesFailedConst(ctx: ModelContext, e: A.Expr): boolean {
  for (const x of leaves(e))
    if (x.kind === "Name" && ctx.constDecls.has(x.name) && !ctx.consts.has(x.name)) return true;
  return false;
}

/** The names and numbers of an expression, left to right, walked with an explicit stack. */
export function leaves(e: A.Expr): Array<A.NameExpr | A.NumberLit> {
  const out: Array<A.NameExpr | A.NumberLit> = [];
  const stack: A.Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === "Unary") stack.push(x.operand);
    else if (x.kind === "Binary") stack.push(x.right, x.left);
    else out.push(x);
  }
  return out;
}

export function declareVar(ctx: ModelContext, s: A.VarDecl): void {
  if (duplicate(ctx, s.name)) return;
  ctx.varDecls.set(s.name.name, s);
  const domain = typeDomain(ctx, s.type);
  const shape: number[] = [];
  let ok = domain !== null;
  for (const e of s.shape ?? []) {
    const d = namesOk(ctx, e) ? evalSmallInt(e, ctx.env(), ctx.diags, "a shape") : null;
    if (d === null) {
      ok = false;
      continue;
    }
    if (d < 1) {
      const axes = (s.shape ?? []).map((x) => (x === e ? "1" : printExpr(x))).join(", ");
      ctx.diags.error("E0304", `every axis of a shape must be at least 1, found ${d}`, e.span, {
        hint: `an axis counts elements from 1${printExpr(e) === String(d) ? "" : ` (here \`${printExpr(e)}\` is ${d})`}: write a size of at least 1, e.g. \`${s.name.name} : ${ctx.src(s.type.span)}[${axes}]\``,
      });
      ok = false;
      continue;
    }
    shape.push(d);
  }
  if (!ok || !domain) return;
  const exact = shape.reduce((a, b) => a * BigInt(b), 1n); // a float product may overflow to Infinity
  const size = Number(exact);
  if (exact > BigInt(ctx.maxElements)) {
    ctx.diags.error(
      "E0304",
      `\`${s.name.name}\` has ${withCommas(exact)} ${plural(exact, "element")}; gm handles at most ${withCommas(BigInt(ctx.maxElements))} per model`,
      s.span,
      { hint: tooManyHint(ctx, s.name.name, shape) },
    );
    return;
  }
  // The running total, so many large variables are refused here, before any is laid out.
  const total = ctx.declaredElements + size;
  if (total > ctx.maxElements) {
    ctx.diags.error(
      "E0304",
      `with \`${s.name.name}\` the model has ${withCommas(BigInt(total))} ${plural(total, "element")}; gm handles at most ${withCommas(BigInt(ctx.maxElements))} per model`,
      s.span,
      { hint: tooManyHint(ctx, s.name.name, shape) },
    );
    return;
  }
  const v: VariableIR = {
    name: s.name.name,
    latent: s.latent,
    domain,
    shape,
    shapeText: (s.shape ?? []).map((e) => printExpr(e)),
    size,
    offset: 0,
    order: { kind: "raster" },
    visit: new Int32Array(0),
    rank: new Int32Array(0),
    span: s.span,
  };
  ctx.vars.push(v);
  ctx.varByName.set(v.name, v);
  ctx.declaredElements += size;
}

/** The hint of a model over the element limit: a smaller shape for `name`, e.g. images resized to 28×28. */
function tooManyHint(ctx: ModelContext, name: string, shape: readonly number[]): string {
  const decl = ctx.varDecls.get(name);
  const type = decl ? ctx.src(decl.type.span) : "…";
  const image =
    shape.length >= 2
      ? `, e.g. images resized to 28×28: \`${name} : ${type}[${[28, 28, ...shape.slice(2)].join(", ")}]\` with \`data = images("dir", size = [28, 28])\``
      : "";
  return `give \`${name}\` a smaller shape (the model may hold ${withCommas(BigInt(ctx.maxElements))} elements in all)${image}`;
}

export function typeDomain(ctx: ModelContext, t: A.TypeExpr): Domain | null {
  const name = t.name.name;
  const args = t.args ?? [];
  const want = (n: number, example: string): boolean => {
    if (args.length === n) return true;
    ctx.diags.error(
      "E0306",
      `\`${name}\` takes ${n === 0 ? "no arguments" : n === 1 ? "one argument" : `${n} arguments`}`,
      t.span,
      { hint: `write \`${example}\`` },
    );
    return false;
  };
  switch (name) {
    case "Bernoulli":
      return want(0, "Bernoulli") ? { kind: "bernoulli" } : null;
    case "Normal":
      return want(0, "Normal") ? { kind: "normal" } : null;
    case "Categorical": {
      if (!want(1, "Categorical(k)")) return null;
      const big = namesOk(ctx, args[0]) ? evalInt(args[0], ctx.env(), ctx.diags, "the number of categories") : null;
      if (big === null) return null;
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
        // NOTE: counts stay exact BigInts, but a domain's k is an outcome index everywhere else
        // (tables, one-hot outputs, sampling), so it must be an exact JavaScript integer.
        ctx.diags.error(
          "E0304",
          `\`Categorical(${big > 10n ** 20n ? `${big.toString().slice(0, 6)}…` : big})\` has too many categories: gm handles at most 2^53 − 1 = ${withCommas(BigInt(Number.MAX_SAFE_INTEGER))}`,
          args[0].span,
          {
            hint: "outcomes are indexed by JavaScript numbers, exact only below 2^53; no table or network could hold that many outcomes anyway",
          },
        );
        return null;
      }
      const k = Number(big);
      if (k < 2) {
        ctx.diags.error("E0306", `a categorical needs at least 2 outcomes, found ${k}`, args[0].span, {
          hint:
            k === 1
              ? "a variable with one outcome is a constant, not random: leave it out, or write `Categorical(2)` (or `Bernoulli`) for two outcomes"
              : "write the number of outcomes, at least 2: `Categorical(2)` (or `Bernoulli`), `Categorical(10)` for a digit",
        });
        return null;
      }
      return { kind: "categorical", k };
    }
    case "Real": {
      if (!want(2, "Real(lo, hi)")) return null;
      if (!namesOk(ctx, args[0]) || !namesOk(ctx, args[1])) return null;
      const lo = evalReal(args[0], ctx.env(), ctx.diags);
      const hi = evalReal(args[1], ctx.env(), ctx.diags);
      if (lo === null || hi === null) return null;
      if (!(lo < hi)) {
        ctx.diags.error("E0306", `\`Real(lo, hi)\` needs lo < hi, found ${lo} and ${hi}`, t.span, {
          hint:
            lo > hi
              ? `write the lower bound first: \`Real(${printExpr(args[1])}, ${printExpr(args[0])})\``
              : `the interval is empty: give it a width, e.g. \`Real(${printExpr(args[0])}, ${lo + 1})\``,
        });
        return null;
      }
      return { kind: "real", lo, hi };
    }
    default: {
      const guess = suggest(name, ["Bernoulli", "Categorical", "Normal", "Real"]);
      ctx.diags.error("E0204", `unknown distribution \`${name}\``, t.name.span, {
        hint: guess ? `did you mean \`${guess}\`?` : "the types are Bernoulli, Categorical(k), Normal and Real(lo, hi)",
      });
      return null;
    }
  }
}

/** A loop variable name (`i`, `j`, `k`, …, then `i2`, …) that `quants` and the declarations do not use. */
function freeLoopName(ctx: ModelContext, quants: readonly A.Quantifier[]): string {
  const used = new Set(quants.map((q) => q.variable.name));
  for (const c of ["i", "j", "k", "l", "m", "r", "c", "t"])
    if (!used.has(c) && !ctx.constDecls.has(c) && !ctx.varDecls.has(c)) return c;
  for (let i = 2; ; i++)
    if (!used.has(`i${i}`) && !ctx.constDecls.has(`i${i}`) && !ctx.varDecls.has(`i${i}`)) return `i${i}`;
}

/** Reports names used before their declaration (or never declared) in a statement. */
export function checkNamesUsed(ctx: ModelContext, s: A.Statement): void {
  const loopVars = new Set<string>();
  const quants = "quantifiers" in s ? s.quantifiers : [];
  for (const q of quants) {
    const shadow = ctx.declared(q.variable);
    if (shadow)
      ctx.diags.error(
        "E0209",
        `loop variable \`${q.variable.name}\` hides the declaration of \`${q.variable.name}\``,
        q.variable.span,
        {
          related: [{ message: "declared here", span: shadow.span }],
          hint: `give the loop variable a name of its own, e.g. \`for ${freeLoopName(ctx, quants)} in …\``,
        },
      );
    if (loopVars.has(q.variable.name))
      ctx.diags.error(
        "E0202",
        `loop variable \`${q.variable.name}\` is already bound in this statement`,
        q.variable.span,
        {
          hint: `give each loop variable its own name: \`for ${quants
            .map((x) => (x === q ? `${freeLoopName(ctx, quants)} in …` : `${x.variable.name} in …`))
            .join(", ")}:\``,
        },
      );
    loopVars.add(q.variable.name);
  }
  const refs: A.Ref[] = [];
  const exprs: A.Expr[] = [];
  for (const q of quants) exprs.push(q.lo, q.hi);
  const known = (
    w: Written,
    table: Record<string, unknown>,
    kind: Parameters<typeof lookup>[2],
    also: Record<string, unknown> = {},
  ) => {
    if (ownEntry(table, w.name.name) !== undefined || ownEntry(also, w.name.name) !== undefined) return;
    lookup(w, table as never, kind, ctx.diags, also as never);
  };
  switch (s.kind) {
    case "Order":
      knownVariable(ctx, s.target);
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
        for (const id of s.claim.of ?? []) knownVariable(ctx, id);
        exprs.push(s.claim.value);
      }
      break;
    case "Implicit":
      knownVariable(ctx, s.target);
      known(s.network, NETWORKS, "network");
      refs.push(...s.inputs);
      break;
    default:
      return;
  }
  for (const r of refs) {
    knownVariable(ctx, r.name);
    if (r.subscript?.kind === "Index")
      for (const it of r.subscript.items) {
        if (it.kind === "Range") exprs.push(it.lo, it.hi);
        else if (it.kind !== "All") exprs.push(it);
      }
    if (r.subscript?.kind === "Before") exprs.push(...r.subscript.at);
  }
  for (const e of exprs) knownNames(ctx, e, loopVars);
}

export function knownVariable(ctx: ModelContext, id: A.Ident): void {
  // A declaration that failed was reported already; its uses stay quiet.
  if (ctx.varByName.has(id.name) || ctx.varDecls.has(id.name)) return;
  if (ctx.consts.has(id.name)) {
    ctx.diags.error("E0211", `\`${id.name}\` is a constant, not a random variable`, id.span, {
      hint: constantAsVariableHint(id.name, ctx.vars[0]?.name),
    });
    return;
  }
  const later = ctx.m.body.find(
    (st) => st.kind === "Var" && st.name.name === id.name && st.span.start.offset > id.span.start.offset,
  );
  if (later) {
    ctx.diags.error("E0203", `\`${id.name}\` is used before it is declared`, id.span, {
      related: [{ message: "declared here", span: (later as A.VarDecl).name.span }],
      hint: "move the declaration above its first use",
    });
    return;
  }
  const guess = suggest(id.name, ctx.varByName.keys());
  ctx.diags.error("E0201", `unknown random variable \`${id.name}\``, id.span, {
    hint: guess ? `did you mean \`${guess}\`?` : `declare it first, e.g. \`${id.name} : Bernoulli\``,
  });
}

/** Reports every name in `e` that is not a constant or loop variable in scope. */
export function knownNames(
  ctx: ModelContext,
  expr: A.Expr,
  loopVars: ReadonlySet<string>,
  inDeclaration = false,
): void {
  for (const e of leaves(expr)) {
    if (e.kind !== "Name") continue;
    // A constant whose declaration failed was reported there; its uses stay quiet.
    if (ctx.consts.has(e.name) || ctx.constDecls.has(e.name) || loopVars.has(e.name)) continue;
    if (ctx.varByName.has(e.name)) {
      ctx.diags.error("E0210", `\`${e.name}\` is a random variable, not a number`, e.span, {
        hint: "indices use constants and loop variables",
      });
      continue;
    }
    const later = ctx.m.body.find(
      (st) => st.kind === "Const" && st.name.name === e.name && st.span.start.offset > e.span.start.offset,
    );
    if (later) {
      ctx.diags.error("E0203", `\`${e.name}\` is used before it is declared`, e.span, {
        related: [{ message: "declared here", span: (later as A.ConstDecl).name.span }],
        hint: "move the declaration above its first use",
      });
      continue;
    }
    const guess = suggest(e.name, [...ctx.consts.keys(), ...loopVars]);
    const fix = inDeclaration
      ? `declare it first: \`const ${e.name} = …\``
      : `declare it: \`const ${e.name} = …\`, or bind it: \`for ${e.name} in 1..n:\``;
    ctx.diags.error("E0201", `unknown name \`${e.name}\``, e.span, {
      hint: guess ? `did you mean \`${guess}\`?` : fix,
    });
  }
}

export function declareOrder(ctx: ModelContext, s: A.OrderDecl): void {
  const v = ctx.varByName.get(s.target.name);
  if (!v) return;
  const prev = ctx.orderDecls.get(v.name);
  if (prev) {
    ctx.diags.error("E0202", `\`${v.name}\` already has an order`, s.span, {
      related: [{ message: "first order here", span: prev.span }],
      hint: `a variable is visited in one order: keep \`${ctx.src(prev.span)}\` or this line, not both`,
    });
    return;
  }
  ctx.orderDecls.set(v.name, s);
  const sch = lookup(s.order, ORDERS, "order", ctx.diags);
  if (!sch) return;
  const args = bindArgs(s.order, sch, ctx.env(), ctx.diags);
  if (!args) return;
  (v as { order: VariableIR["order"] }).order = {
    kind: sch.name as OrderKind,
    ...(sch.name === "random" ? { seed: args.seed as number } : {}),
  };
}

export function layout(ctx: ModelContext): void {
  let offset = 0;
  for (const v of ctx.vars) {
    const visit = visitOrder(v.shape, v.order.kind, v.order.seed);
    Object.assign(v as object, { offset, visit, rank: inverse(visit) });
    offset += v.size;
  }
  ctx.n = offset;
  if (ctx.n > ctx.maxElements)
    ctx.diags.error(
      "E0304",
      `the model has ${withCommas(BigInt(ctx.n))} ${plural(ctx.n, "element")}; gm handles at most ${withCommas(BigInt(ctx.maxElements))}`,
      ctx.m.name.span,
      {
        hint: ((big) => tooManyHint(ctx, big.name, big.shape))(ctx.vars.reduce((a, b) => (b.size > a.size ? b : a))),
      },
    );
}
