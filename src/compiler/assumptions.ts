/**
 * Assumptions (LANGUAGE.md §6): each `assume A ⊥ B | C` removes B from the chain-rule parents
 * of every element of A, one recorded derivation step at a time.
 */
import type * as A from "../dsl/ast";
import { DiagnosticBag } from "../dsl/diagnostics";
import { printClaim, printExpr, printRef } from "../dsl/printer";
import { elementName, formatElements } from "./elements";
import { withCommas } from "./count";
import { ElementGraph } from "./graph";
import { outcomes } from "./ir";
import { ModelContext } from "./context";
import { evalExpr, type Env } from "./values";

/**
 * Most elements one `assume` statement may name over all its instances (A, B and C together). Its
 * work grows with what it names: a 2-D neighbourhood written as `assume for r, c: x[r, c] ⊥
 * x[1..r-2, *] | …` names O(n) elements per pixel, O(n²) in all — 0.3 s for 28 × 28, minutes for
 * 200 × 200. Past this the statement is refused (E0407) within about a second, with the
 * factorization to write instead.
 */
export const MAX_ASSUME_WORK = 10_000_000;

/** Most chain-rule parents a factor's first pruning may list one by one (E0407 past it): 80 MB of indices. */
export const MAX_PRUNED_ENTRIES = 20_000_000;

/** A set of elements for one instance of a claim: membership by epoch marks, no allocation per instance. */
export class ElementMarks {
  private readonly mark: Uint32Array;
  private epoch = 0;
  /** The elements, each once, in the order first named. */
  readonly items: number[] = [];

  constructor(n: number) {
    this.mark = new Uint32Array(n);
  }

  /** Empties the set and fills it with the elements of `lists`. */
  fill(lists: readonly Int32Array[]): this {
    this.epoch++;
    this.items.length = 0;
    for (const l of lists)
      for (let i = 0; i < l.length; i++) {
        const e = l[i];
        if (this.mark[e] !== this.epoch) {
          this.mark[e] = this.epoch;
          this.items.push(e);
        }
      }
    return this;
  }

  has(e: number): boolean {
    return this.mark[e] === this.epoch;
  }

  get size(): number {
    return this.items.length;
  }
}

export function applyAssumption(ctx: ModelContext, s: A.AssumeStmt): void {
  const by = ctx.src(s.span);
  const claim = s.claim;
  if (claim.negated) {
    ctx.diags.error("E0405", "an assumption states an independence; `not ⊥` is a claim to `check`", claim.span, {
      hint: `write \`check ${printClaim(claim)}\``,
    });
    return;
  }
  const [a, b, c] = [new ElementMarks(ctx.n), new ElementMarks(ctx.n), new ElementMarks(ctx.n)];
  let work = 0;
  let instances = 0;
  ctx.forEachInstance(s.quantifiers, (env) => {
    const A = ctx.refsToElements(claim.left, env, "child");
    const B = ctx.refsToElements(claim.right, env, "parent");
    const C = ctx.refsToElements(claim.given, env, "parent");
    if (!A || !B || !C) return false;
    a.fill(A);
    b.fill(B);
    c.fill(C);
    instances++;
    work += a.size + b.size + c.size;
    if (work > MAX_ASSUME_WORK) {
      ctx.diags.error(
        "E0407",
        `this assumption names more than ${withCommas(BigInt(MAX_ASSUME_WORK))} elements over its first ${withCommas(BigInt(instances))} instances, past gm's limit for deriving a factorization from \`assume\``,
        s.span,
        {
          hint: "state the pruned factorization directly, which gm reads without enumerating predecessors: `p(x) = markov(k = …)`, or `for r in …, c in …: p(x[r, c] | x[r-1, c], x[r, c-1]) = table` for a causal neighbourhood",
        },
      );
      return false;
    }
    for (const [x, y, what, side] of [
      [a, b, "both sides of ⊥", "right"],
      [a, c, "both the left side and the condition", "given"],
      [b, c, "both the right side and the condition", "right"],
    ] as const) {
      const both = x.items.find((e) => y.has(e));
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
    for (const el of a.items) if (!prune(ctx, el, b, c, s, by)) return false;
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
  b: ElementMarks,
  c: ElementMarks,
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
    const bad = set.items.filter((e) => !isPred(e));
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
  if (f.structure.kind !== "explicit") {
    // The first pruning lists every element's parents in the chain rule: Σ (|context| + position) entries.
    const m = f.targets.length;
    const entries = m * f.context.length + (m * (m - 1)) / 2;
    if (entries > MAX_PRUNED_ENTRIES) {
      ctx.diags.error(
        "E0407",
        `pruning \`${f.source}\` with \`assume\` lists its ${withCommas(BigInt(entries))} chain-rule parents one by one, past gm's limit of ${withCommas(BigInt(MAX_PRUNED_ENTRIES))}`,
        s.span,
        {
          hint: "state the pruned factorization directly, which gm reads without listing predecessors: `p(x) = markov(k = …)`, or `for r in …, c in …: p(x[r, c] | x[r-1, c], x[r, c-1]) = table` for a causal neighbourhood",
        },
      );
      return false;
    }
    const graph = new ElementGraph(ctx.n, ctx.drafts, ctx.factorOf, ctx.positionOf);
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
