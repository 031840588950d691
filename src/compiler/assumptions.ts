/**
 * Assumptions (LANGUAGE.md §6): each `assume A ⊥ B | C` removes B from the chain-rule parents
 * of every element of A, one recorded derivation step at a time.
 */
import type * as A from "../dsl/ast";
import { DiagnosticBag } from "../dsl/diagnostics";
import { printClaim, printExpr, printRef } from "../dsl/printer";
import { elementName, formatElements } from "./elements";
import { ElementGraph } from "./graph";
import { outcomes } from "./ir";
import { ModelContext } from "./context";
import { evalExpr, type Env } from "./values";

export function applyAssumption(ctx: ModelContext, s: A.AssumeStmt): void {
  const by = ctx.src(s.span);
  const claim = s.claim;
  if (claim.negated) {
    ctx.diags.error("E0405", "an assumption states an independence; `not ⊥` is a claim to `check`", claim.span, {
      hint: `write \`check ${printClaim(claim)}\``,
    });
    return;
  }
  ctx.forEachInstance(s.quantifiers, (env) => {
    const A = ctx.refsToElements(claim.left, env, "child");
    const B = ctx.refsToElements(claim.right, env, "parent");
    const C = ctx.refsToElements(claim.given, env, "parent");
    if (!A || !B || !C) return false;
    const a = new Set(A.flatMap((l) => Array.from(l)));
    const b = new Set(B.flatMap((l) => Array.from(l)));
    const c = new Set(C.flatMap((l) => Array.from(l)));
    for (const [x, y, what, side] of [
      [a, b, "both sides of ⊥", "right"],
      [a, c, "both the left side and the condition", "given"],
      [b, c, "both the right side and the condition", "right"],
    ] as const) {
      const both = [...x].find((e) => y.has(e));
      if (both !== undefined) {
        ctx.diags.error(
          "E0404",
          `this assumption cannot apply: \`${elementName(ctx.vars, both)}\` is on ${what}`,
          claim.span,
          { hint: overlapHint(ctx, claim, side, both, env) },
        );
        return false;
      }
    }
    if (b.size === 0) return true; // e.g. x[1..i-2] when i = 2: nothing to remove
    for (const el of a) if (!prune(ctx, el, b, c, s, by)) return false;
    return true;
  });
}

/**
 * The hint of E0404: the claim rewritten without `el` on `side` when a range there ends (or
 * starts) on it (`x[1..i-1]` → `x[1..i-2]`), else which side to take it out of.
 */
function overlapHint(
  ctx: ModelContext,
  claim: A.IndependenceClaim,
  side: "right" | "given",
  el: number,
  env: Env,
): string {
  const v = ctx.varOf(el);
  const index = el - v.offset + 1;
  const silent = new DiagnosticBag("");
  const refs = claim[side];
  for (let r = 0; r < refs.length; r++) {
    const ref = refs[r];
    const sub = ref.subscript;
    if (ref.name.name !== v.name || v.shape.length !== 1 || sub?.kind !== "Index" || sub.items[0].kind !== "Range")
      continue;
    const range = sub.items[0];
    const lo = evalExpr(range.lo, env, silent);
    const hi = evalExpr(range.hi, env, silent);
    const item =
      hi !== null && Number(hi) === index
        ? { ...range, hi: shift(range.hi, -1) }
        : lo !== null && Number(lo) === index
          ? { ...range, lo: shift(range.lo, 1) }
          : null;
    if (!item) continue;
    // `x[1..1]` reads better as `x[1]`.
    const one = printExpr(item.lo) === printExpr(item.hi) ? item.lo : item;
    const fixed = refs.map((x, j) => (j === r ? { ...x, subscript: { ...sub, items: [one] } } : x));
    return `\`A ⊥ B | C\` takes three disjoint sets: write \`${printClaim({ ...claim, [side]: fixed })}\``;
  }
  const where = side === "right" ? "the right side" : "the condition";
  return `\`A ⊥ B | C\` takes three disjoint sets: take \`${elementName(ctx.vars, el)}\` out of ${where} (\`${refs.map(printRef).join(", ")}\`)`;
}

/** `e + d` as written text would have it: `i-1` shifted by −1 is `i-2`, `3` is `2`, `i` is `i-1`. */
function shift(e: A.Expr, d: number): A.Expr {
  const num = (k: number): A.Expr => ({ kind: "Number", text: String(k), span: e.span });
  if (e.kind === "Number" && /^\d+$/.test(e.text) && !e.parens) return num(Number(e.text) + d);
  if (
    e.kind === "Binary" &&
    !e.parens &&
    (e.op === "+" || e.op === "-") &&
    e.right.kind === "Number" &&
    /^\d+$/.test(e.right.text)
  ) {
    const k = (e.op === "+" ? 1 : -1) * Number(e.right.text) + d;
    if (k === 0) return e.left;
    return { ...e, op: k > 0 ? "+" : "-", right: num(Math.abs(k)) };
  }
  return { kind: "Binary", op: d > 0 ? "+" : "-", left: e, right: num(Math.abs(d)), span: e.span };
}

/** Removes `b` from the parents of `el` (one step of the derivation). */
export function prune(
  ctx: ModelContext,
  el: number,
  b: Set<number>,
  c: Set<number>,
  s: A.AssumeStmt,
  by: string,
): boolean {
  const fi = ctx.factorOf[el];
  const f = ctx.drafts[fi];
  const name = elementName(ctx.vars, el);
  if (!["chain", "markov", "logistic"].includes(f.family)) {
    const why =
      f.family === "joint"
        ? `\`${f.source}\` is one table over every outcome; it has no parents to remove`
        : f.family === "nade" || f.family === "pixelrnn"
          ? `\`${f.family}\` shares one network across all predecessors; its parents cannot be pruned`
          : f.family === "table" || f.family === "independent"
            ? `the factor of \`${name}\` lists its parents explicitly (\`${f.source}\`)`
            : `the factor of \`${name}\` is \`${f.family}\`, not a chain rule`;
    ctx.diags.error("E0405", `this assumption cannot apply to \`${name}\`: ${why}`, s.claim.span, {
      related: [{ message: "the factor", span: f.span }],
      hint:
        f.family === "joint" || f.family === "table" || f.family === "independent"
          ? "assumptions prune `p(x) = chain`: write the chain rule and let `assume` remove parents"
          : outcomes(ctx.varOf(el).domain) === null
            ? `\`assume\` prunes the parents of \`chain\`, \`markov\` and \`logistic\` factors only, over discrete elements: remove this assumption`
            : `\`assume\` prunes the parents of \`chain\`, \`markov\` and \`logistic\` factors only: write \`p(${ctx.varOf(el).name}) = chain\` (or \`logistic\`) to prune them, or remove this assumption`,
    });
    return false;
  }
  const pos = ctx.positionOf[el];
  const inContext = new Set(f.context);
  const isPred = (e: number) => inContext.has(e) || (ctx.factorOf[e] === fi && ctx.positionOf[e] < pos);
  for (const [set, side] of [
    [b, "right side"],
    [c, "condition"],
  ] as const) {
    const bad = [...set].filter((e) => !isPred(e));
    if (bad.length) {
      const v = ctx.varOf(el);
      ctx.diags.error(
        "E0406",
        `this assumption cannot apply to \`${name}\`: \`${formatElements(ctx.vars, bad)}\` ${bad.length === 1 ? "is" : "are"} not among its predecessors (${side})`,
        s.claim.span,
        {
          hint: `\`assume A ⊥ B | C\` removes B from A's parents in the chain rule, so B and C must come before A in ${v.order.kind} order`,
        },
      );
      return false;
    }
  }
  const graph = new ElementGraph(ctx.n, ctx.drafts, ctx.factorOf, ctx.positionOf);
  if (f.structure.kind !== "explicit") {
    const parents = Array.from(f.targets, (t) => graph.parents(t));
    f.structure = { kind: "explicit", parents };
  }
  const lists = (f.structure as { kind: "explicit"; parents: Int32Array[] }).parents;
  const before = lists[pos];
  const after = before.filter((p) => !b.has(p));
  if (after.length !== before.length) {
    lists[pos] = after;
    ctx.derivation.push({ element: el, before, after, by, span: s.span });
  }
  return true;
}
