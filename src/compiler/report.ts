/**
 * The parameter report behind `gm params`: one row per factor group and network, the exact
 * total, the closed form where the family has one, and for every observed group the lecture's
 * two reference points — fully dependent (Π k − 1) and fully independent (Σ (k − 1)).
 */
import { plural, productOfOutcomes } from "./count";
import { formatElements, variableOf } from "./elements";
import { ElementGraph } from "./graph";
import type { FactorIR, ModelIR, NetworkSpec, VariableIR } from "./ir";
import { outcomes } from "./ir";

/** One row of the report. */
export interface ParamsRow {
  readonly role: "factor" | "posterior" | "critic";
  /** The statement, e.g. `p(x) = markov(k = 1)`. */
  readonly group: string;
  readonly targets: string;
  readonly parents: string;
  /** Table shape or network layout. */
  readonly shape: string;
  readonly params: bigint;
  readonly closedForm?: string;
  readonly line: number;
}

/** Reference points for one observed variable. */
export interface ReferencePoint {
  readonly variable: string;
  readonly elements: number;
  /** Π k − 1, or null for continuous variables. */
  readonly fullyDependent: bigint | null;
  /** Σ (k − 1), or null for continuous variables. */
  readonly fullyIndependent: bigint | null;
}

/** The whole report of one model. */
export interface ParamsReport {
  readonly model: string;
  readonly rows: ParamsRow[];
  readonly total: bigint;
  readonly reference: ReferencePoint[];
}

/** `65536`, or `2^784` for a large power of two. */
export function powerText(n: bigint): string {
  if (n > 1n && (n & (n - 1n)) === 0n && n.toString().length > 6) return `2^${n.toString(2).length - 1}`;
  const s = n.toString();
  return s.length <= 15 ? s : `${s.slice(0, 4)}…e+${s.length - 1}`;
}

function networkText(s: NetworkSpec): string {
  switch (s.kind) {
    case "mlp":
      return `MLP ${s.sizes.join(" → ")}`;
    case "nade":
      return `NADE D = ${s.d}, H = ${s.hidden}${s.conditions ? `, |y| = ${s.conditions}` : ""}`;
    case "pixelrnn":
      return `PixelRNN ${s.variant}, ${s.layers} layer${s.layers > 1 ? "s" : ""} × ${s.hidden}, ${s.height}×${s.width}×${s.channels}`;
    case "dcgan-generator":
      return `DCGAN generator, base ${s.base}, ${s.zdim} → ${s.height}×${s.width}×${s.channels}`;
    case "dcgan-critic":
      return `DCGAN critic, base ${s.base}, ${s.height}×${s.width}×${s.channels} → 1`;
  }
}

function orderName(v: VariableIR): string {
  return v.order.kind === "random" ? `random(seed = ${v.order.seed})` : v.order.kind;
}

function describe(ir: ModelIR, f: FactorIR, g: ElementGraph): { parents: string; shape: string } {
  const vars = ir.variables;
  const v = variableOf(vars, f.targets[0]);
  const ctx = f.context.length ? formatElements(vars, f.context) : "";
  const withCtx = (s: string) => (ctx ? (s ? `${s}; ${ctx}` : ctx) : s || "—");
  const maxRows = () => {
    const k = (e: number) => BigInt(outcomes(variableOf(vars, e).domain) ?? 1);
    const s = f.structure;
    if (s.kind === "prefix" || s.kind === "joint" || s.kind === "window" || s.kind === "none") {
      // From the structure, without walking 5·10^11 edges: the rows of position j are Π of the
      // outcomes of its parents; the context is shared, the own part is a sliding window.
      let ctxRows = 1n;
      for (const c of f.context) ctxRows *= k(c);
      // All predecessors: the last position has the most rows (every k ≥ 2).
      if (s.kind === "prefix" || s.kind === "joint")
        return (
          ctxRows *
          productOfOutcomes(Array.from(f.targets.subarray(0, -1), (e) => outcomes(variableOf(vars, e).domain) ?? 1))
        );
      const reach = s.kind === "window" ? s.k : 0;
      let window = 1n;
      let best = 1n;
      for (let j = 0; j < f.targets.length; j++) {
        if (window > best) best = window;
        window *= k(f.targets[j]);
        if (j - reach >= 0) window /= k(f.targets[j - reach]);
      }
      return best * ctxRows;
    }
    let m = 0n;
    for (const t of f.targets) {
      let rows = 1n;
      g.forEachParent(t, (p) => {
        rows *= BigInt(outcomes(variableOf(vars, p).domain) ?? 1);
      });
      if (rows > m) m = rows;
    }
    return m;
  };
  const n = f.targets.length;
  switch (f.family) {
    case "joint": {
      const all = productOfOutcomes(Array.from(f.targets, (e) => outcomes(variableOf(vars, e).domain)!));
      return { parents: withCtx(""), shape: `one table over ${powerText(all)} outcomes` };
    }
    case "independent":
      return { parents: withCtx(""), shape: `${n} table${n > 1 ? "s" : ""}, no parents` };
    case "table":
      return {
        parents: withCtx(""),
        shape: ((rows) => `table of ${powerText(rows)} row${rows === 1n ? "" : "s"}`)(maxRows()),
      };
    case "chain":
    case "markov":
    case "logistic": {
      const pruned = f.structure.kind === "explicit";
      const base =
        f.family === "markov"
          ? `previous ${f.args.k} in ${orderName(v)} order`
          : `predecessors in ${orderName(v)} order`;
      const parents = withCtx(pruned ? `${base}, pruned by assume` : base);
      if (f.family === "logistic") return { parents, shape: `${n} logistic unit${n > 1 ? "s" : ""}` };
      return {
        parents,
        shape: ((rows) =>
          n === 1
            ? `1 table of ${powerText(rows)} ${plural(rows, "row")}`
            : `${n} tables of up to ${powerText(rows)} ${plural(rows, "row")}`)(maxRows()),
      };
    }
    case "nade":
    case "pixelrnn":
    case "mlp":
    case "implicit":
      return {
        parents: withCtx(f.family === "nade" || f.family === "pixelrnn" ? `predecessors in ${orderName(v)} order` : ""),
        shape: networkText(f.network!),
      };
    case "normal":
      return { parents: "—", shape: "fixed N(0, 1)" };
    case "uniform":
      return { parents: "—", shape: `fixed U(${f.args.lo}, ${f.args.hi})` };
    case "mixture":
      return {
        parents: "—",
        shape: `fixed mixture of ${f.args.k} ${plural(f.args.k as number, "Gaussian")}, radius ${f.args.radius}`,
      };
  }
}

/** Builds the report for one model. */
export function paramsReport(ir: ModelIR): ParamsReport {
  const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
  const rows: ParamsRow[] = ir.factors.map((f) => {
    const d = describe(ir, f, g);
    return {
      role: "factor",
      group: f.source,
      targets: formatElements(ir.variables, f.targets),
      parents: d.parents,
      shape: d.shape,
      params: f.params,
      closedForm: f.closedForm,
      line: f.span.start.line,
    };
  });
  for (const nw of ir.networks) {
    rows.push({
      role: nw.role,
      group: nw.role === "posterior" ? nw.source : `critic ${nw.source}`,
      targets: nw.outputs.length ? formatElements(ir.variables, nw.outputs) : "—",
      parents: formatElements(ir.variables, nw.inputs),
      shape: networkText(nw.network),
      params: nw.params,
      line: nw.span.start.line,
    });
  }
  const reference: ReferencePoint[] = ir.variables
    .filter((v) => !v.latent)
    .map((v) => {
      const k = outcomes(v.domain);
      return {
        variable: v.name,
        elements: v.size,
        fullyDependent: k === null ? null : BigInt(k) ** BigInt(v.size) - 1n,
        fullyIndependent: k === null ? null : BigInt(k - 1) * BigInt(v.size),
      };
    });
  return { model: ir.name, rows, total: ir.params, reference };
}

/** The JSON of `gm params --json` for one model (BigInts as decimal strings). */
export function reportJson(r: ParamsReport): object {
  return {
    name: r.model,
    total: r.total.toString(),
    factors: r.rows.map((row) => ({
      role: row.role,
      group: row.group,
      targets: row.targets,
      parents: row.parents,
      shape: row.shape,
      params: row.params.toString(),
      closedForm: row.closedForm ?? null,
      line: row.line,
    })),
    reference: r.reference.map((x) => ({
      variable: x.variable,
      elements: x.elements,
      fullyDependent: x.fullyDependent?.toString() ?? null,
      fullyIndependent: x.fullyIndependent?.toString() ?? null,
    })),
  };
}
