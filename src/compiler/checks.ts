/**
 * Checks (LANGUAGE.md §6): independence claims proven by d-separation on the final graph, and
 * parameter-count claims compared exactly.
 */
import type * as A from "../dsl/ast";
import { printClaim, printExpr } from "../dsl/printer";
import { plural, scientific, withCommas } from "./count";
import { dSeparated, formatTrail, MAX_DSEP_WORK, searchSize } from "./dsep";
import { elementName, formatElements } from "./elements";
import type { ModelIR } from "./ir";
import { evalInt, formatNum } from "./values";
import { ModelContext } from "./context";

export function checkClaim(ctx: ModelContext, s: A.CheckStmt, ir: ModelIR): void {
  const claim = s.claim;
  if (claim.kind === "Params") {
    if (s.quantifiers.length) {
      ctx.diags.error("E0505", "`check params` is one claim about the whole model; it takes no `for`", s.span, {
        hint: `drop the \`for\`: \`check ${ctx.src(claim.span)}\``,
      });
      return;
    }
    const want = evalInt(claim.value, ctx.env(), ctx.diags, "a parameter count");
    if (want === null) return;
    let have = ir.params;
    let what = "the model has";
    if (claim.of) {
      const names = new Set(claim.of.map((i) => i.name));
      have = 0n;
      for (const f of ir.factors) if (Array.from(f.targets).some((e) => names.has(ctx.varOf(e).name))) have += f.params;
      for (const nw of ir.networks)
        if (nw.role === "posterior" && Array.from(nw.outputs).some((e) => names.has(ctx.varOf(e).name)))
          have += nw.params;
      what = `the factors of ${claim.of.map((i) => `\`${i.name}\``).join(", ")} have`;
    }
    const holds = compare(have, claim.op, want);
    if (!holds) {
      const show = (n: bigint) =>
        n.toString().length > 24 ? `${scientific(n)} (${n.toString().length} digits)` : withCommas(n);
      // Long counts that print alike in scientific notation: say how far apart they are.
      const gap = want - have;
      const apart =
        show(have) === show(want) && gap !== 0n
          ? `, ${withCommas(gap < 0n ? -gap : gap)} ${gap < 0n ? "fewer" : "more"} than counted`
          : "";
      ctx.diags.error(
        "E0504",
        `check failed: params ${claim.op} ${printExpr(claim.value)}: ${what} ${show(have)} ${plural(have, "parameter")}, the claim says ${show(want)}${apart}`,
        s.span,
        {
          notes: [
            `counted:  ${have}`,
            `claimed:  ${want}${printExpr(claim.value) !== want.toString() ? ` (= ${printExpr(claim.value)})` : ""}`,
          ],
          hint: "`gm params` shows the count of every factor",
        },
      );
    }
    return;
  }
  const graph = ctx.graph!;
  // Bound the search before running it: instances × (elements + edges).
  const size = searchSize(graph);
  const most = Math.floor(MAX_DSEP_WORK / size);
  if (most < 1 || (s.quantifiers.length && ctx.instancesAtLeast(s.quantifiers, most + 1))) {
    ctx.diags.error(
      "E0506",
      `this check is too large to prove: the graph has ${withCommas(BigInt(graph.n))} elements and ${withCommas(BigInt(graph.edgeCount()))} edges${most >= 1 ? `, and the \`for\` expands to more than ${withCommas(BigInt(most))} ${plural(most, "claim")}` : ""}; gm searches at most ${withCommas(BigInt(MAX_DSEP_WORK))} elements and edges per check`,
      s.span,
      {
        hint:
          most >= 1
            ? "check fewer instances"
            : "check the claim on a smaller model (fewer elements, or fewer parents: `markov`, `assume`)",
      },
    );
    return;
  }
  let reported = 0;
  ctx.forEachInstance(s.quantifiers, (env, bound) => {
    const X = ctx.refsToElements(claim.left, env, "claim");
    const Y = ctx.refsToElements(claim.right, env, "claim");
    const Z = ctx.refsToElements(claim.given, env, "claim");
    if (!X || !Y || !Z) return false;
    const x = concat(X);
    const y = concat(Y);
    const z = concat(Z);
    const overlap = firstOverlap(ctx.marks(), x, y, z);
    if (overlap !== undefined) {
      ctx.diags.error("E0501", `\`${elementName(ctx.vars, overlap)}\` appears on two sides of the claim`, claim.span, {
        hint: "the sets in `A ⊥ B | C` must not overlap",
      });
      return false;
    }
    if (x.length === 0 || y.length === 0) return true;
    const r = dSeparated(graph, x, y, z);
    // Written only for a failing check: most checks hold, and naming their elements costs more than proving them.
    const at = () => (bound.size ? ` (at ${[...bound].map(([k, v]) => `${k} = ${formatNum(v)}`).join(", ")})` : "");
    const claimText = () =>
      `${formatElements(ctx.vars, x)} ⊥ ${formatElements(ctx.vars, y)}${z.length ? ` | ${formatElements(ctx.vars, z)}` : ""}`;
    if (!claim.negated && !r.independent) {
      const trail = formatTrail(r.trail!, (e) => elementName(ctx.vars, e));
      // The same claim assumed above: say why the assumption does not make it hold.
      const assumed = ctx.m.body.find(
        (st): st is A.AssumeStmt => st.kind === "Assume" && printClaim(st.claim) === printClaim(claim),
      );
      ctx.diags.error("E0502", `check failed: ${claimText()} does not hold${at()}`, claim.span, {
        notes: [`active trail: ${trail}`],
        hint: assumed
          ? `\`assume ${printClaim(assumed.claim)}\` (line ${assumed.span.start.line}) removed parents of its left side only: pruning applies only to the factor's own predecessors, and the active trail runs through other factors`
          : z.length
            ? "conditioning on more variables, or an `assume`, can block this trail"
            : "an `assume` that removes a parent along this trail would make it hold",
        ...(assumed ? { related: [{ message: "the assumption", span: assumed.span }] } : {}),
      });
      return ++reported < 3;
    }
    if (claim.negated && r.independent) {
      ctx.diags.error("E0503", `check failed: ${claimText()} holds${at()}, so they are not dependent`, claim.span, {
        notes: ["every trail between them is blocked"],
        hint: `the independence holds: write \`check ${printClaim({ ...claim, negated: false })}\`${z.length ? ", or condition on a set that does not block every trail" : ""}`,
      });
      return ++reported < 3;
    }
    return true;
  });
}

/** The lists as one array. */
function concat(lists: readonly Int32Array[]): number[] {
  const out: number[] = [];
  for (const l of lists) for (let i = 0; i < l.length; i++) out.push(l[i]);
  return out;
}

/**
 * The first element of `x` that is also in `y` or `z`, else the first of `y` also in `z` (the
 * element an E0501 names); `marks` is the context's shared zeroed array, left zeroed.
 */
function firstOverlap(marks: Uint8Array, x: number[], y: number[], z: number[]): number | undefined {
  for (const e of z) marks[e] = 2;
  let found: number | undefined;
  for (const e of y) {
    if (found === undefined && marks[e] === 2) found = e; // y ∩ z, unless x overlaps first
    if (marks[e] === 0) marks[e] = 1;
  }
  let inX: number | undefined;
  for (const e of x) {
    if (marks[e] !== 0) {
      inX = e;
      break;
    }
  }
  for (const e of z) marks[e] = 0;
  for (const e of y) marks[e] = 0;
  return inX ?? found;
}

function compare(a: bigint, op: A.CompareOp, b: bigint): boolean {
  switch (op) {
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
}
