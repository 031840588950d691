/**
 * Independence queries against a compiled model (`gm query`), answered by d-separation on the
 * model's graph — the same code `check` lines use.
 */
import type * as A from "../dsl/ast";
import { DiagnosticBag, type Diagnostic } from "../dsl/diagnostics";
import { withCommas } from "./count";
import { dSeparated, formatTrail, MAX_DSEP_WORK, searchSize, type TrailStep } from "./dsep";
import { elementName, formatElements } from "./elements";
import { ElementGraph } from "./graph";
import type { ModelIR, VariableIR } from "./ir";
import { evalRef } from "./refs";

/** The answer to a query. */
export interface QueryAnswer {
  readonly independent: boolean;
  /** The claim with its sets written out, e.g. `x[5] ⊥ x[1] | x[3]`. */
  readonly claim: string;
  /** An active trail when dependent. */
  readonly trail?: string;
  readonly trailSteps?: readonly TrailStep[];
}

/** Evaluates a claim against `ir`. Errors (unknown names, overlapping sets) come back as diagnostics. */
export function query(
  ir: ModelIR,
  claim: A.IndependenceClaim,
  file = "<query>",
  graph?: ElementGraph,
): { answer?: QueryAnswer; diagnostics: Diagnostic[] } {
  const diags = new DiagnosticBag(file);
  const scope = {
    byName: new Map<string, VariableIR>(ir.variables.map((v) => [v.name, v])),
    constants: new Set(ir.constants.keys()),
  };
  const env = { values: ir.constants, variables: new Set(scope.byName.keys()) };
  const sets: number[][] = [];
  for (const side of [claim.left, claim.right, claim.given]) {
    const els: number[] = [];
    for (const r of side) {
      const e = evalRef(r, scope, env, diags, "claim");
      if (!e) return { diagnostics: diags.items };
      els.push(...e);
    }
    sets.push([...new Set(els)]);
  }
  const [x, y, z] = sets;
  const zs = new Set(z);
  const ys = new Set(y);
  const overlap = x.find((e) => ys.has(e) || zs.has(e)) ?? y.find((e) => zs.has(e));
  if (overlap !== undefined) {
    diags.error("E0501", `\`${elementName(ir.variables, overlap)}\` appears on two sides of the query`, claim.span, {
      hint: "the sets in `A ⊥ B | C` must not overlap",
    });
    return { diagnostics: diags.items };
  }
  const g = graph ?? new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
  if (searchSize(g) > MAX_DSEP_WORK) {
    diags.error(
      "E0506",
      `this query is too large to answer: the graph has ${withCommas(BigInt(g.n))} elements and ${withCommas(BigInt(g.edgeCount()))} edges; gm searches at most ${withCommas(BigInt(MAX_DSEP_WORK))} elements and edges per query`,
      claim.span,
      { hint: "query a smaller model (fewer elements, or fewer parents: `markov`, `assume`)" },
    );
    return { diagnostics: diags.items };
  }
  const r = dSeparated(g, x, y, z);
  const text = `${formatElements(ir.variables, x)} ⊥ ${formatElements(ir.variables, y)}${z.length ? ` | ${formatElements(ir.variables, z)}` : ""}`;
  return {
    answer: {
      independent: r.independent,
      claim: text,
      trail: r.trail ? formatTrail(r.trail, (e) => elementName(ir.variables, e)) : undefined,
      trailSteps: r.trail,
    },
    diagnostics: diags.items,
  };
}
