/**
 * Pictures of a compiled model, as text: Graphviz DOT of the Bayesian network (every element
 * for small models, one node per variable with its factor family for large ones), and an SVG
 * grid of an image variable showing one pixel, its parents and its Markov blanket.
 * Rendering DOT to SVG/PNG happens in the CLI; this module stays browser-safe.
 */
import { UsageError } from "../errors";
import { elementName, flatten, unflatten, variableOf } from "./elements";
import { ElementGraph } from "./graph";
import type { FactorIR, ModelIR, VariableIR } from "./ir";
import { domainName } from "./ir";

/** Above this many edges per element, an element graph counts as dense (see `mclimit` in toDot). */
export const DENSE_EDGES_PER_ELEMENT = 4;

/**
 * What `gm graph` and the playground draw element by element; beyond any of these, one node per
 * variable. `work` bounds the estimated cost of Graphviz's `dot` layout (see `layoutWork`): a
 * 100-element chain with 300 edges back to its first three elements is under the element and
 * edge limits but has 14,260 virtual nodes, 33 s of layout with dot's defaults and 0.3 s with
 * the cheap settings; every drawing under this budget takes at most about 0.3 s of layout.
 */
export const GRAPH_BUDGET = { elements: 100, edges: 400, work: 12_000 } as const;

/** Above this much layout work (see `layoutWork`), dot gets the cheap settings of `LayoutKind`. */
export const LIGHT_LAYOUT_WORK = 1_000;

/** Element-level DOT is never built above this many edges, even when asked for (text of ~15 bytes per edge). */
export const MAX_ELEMENT_EDGES = 2_000_000;

/**
 * Above this layout work an element-level layout is refused even when asked for: a 100-element
 * chain (166,750) takes about 6 s, so this is about a minute; the DOT text (`--format dot`) has no such limit.
 */
export const MAX_LAYOUT_WORK = 1_000_000;

/**
 * How dot lays out an element graph: `default` (dot's own settings); `dense`, for a light graph with
 * more than DENSE_EDGES_PER_ELEMENT edges per element (a tenth of the crossing minimization,
 * polyline edges); `cheap`, for a heavy one (a hundredth of the crossing minimization and no second
 * pass of it, a tenth of the network-simplex iterations, straight edges): a 40-element complete DAG
 * takes 0.2 s of layout instead of 14 s, a 64-element one about 1 s instead of minutes.
 */
export type LayoutKind = "default" | "dense" | "cheap";

/** How a model is drawn: element by element or one node per variable, and why. */
export interface GraphPlan {
  /** Whether every element is a node. */
  readonly elements: boolean;
  readonly nodes: number;
  readonly edges: number;
  /** Estimated layout work of the element graph (`layoutWork`); null where it was not computed (too many edges). */
  readonly work: number | null;
  /** Settings of an element-level layout (`default` for a drawing by variable). */
  readonly layout: LayoutKind;
  /** Whether the element graph is within GRAPH_BUDGET (what is drawn by element when nobody asks). */
  readonly withinBudget: boolean;
}

/**
 * The estimated cost of laying out an element graph with dot: nodes + edges + virtual nodes, where
 * an edge spanning `s` ranks costs `s - 1` virtual nodes (dot routes it through one per rank it
 * crosses; its layout time grows with them). Ranks are longest-path ranks, an upper bound of the
 * ranks dot's network simplex picks (exact for a complete DAG: n(n − 1)(n − 2)/6 virtual nodes).
 * Linear in nodes and edges.
 */
export function layoutWork(g: ElementGraph): number {
  const n = g.n;
  const waiting = new Int32Array(n);
  const rank = new Int32Array(n);
  const queue: number[] = [];
  for (let v = 0; v < n; v++) if ((waiting[v] = g.parentCount(v)) === 0) queue.push(v);
  while (queue.length) {
    const v = queue.pop()!;
    g.forEachChild(v, (c) => {
      if (rank[c] < rank[v] + 1) rank[c] = rank[v] + 1;
      if (--waiting[c] === 0) queue.push(c);
    });
  }
  let span = 0;
  for (let v = 0; v < n; v++) g.forEachParent(v, (p) => (span += rank[v] - rank[p] - 1));
  return n + g.edgeCount() + span;
}

/**
 * Decides how to draw `ir`: element by element when it is within GRAPH_BUDGET (or when
 * `elements: true` asks for it), else one node per variable (or `elements: false`). The
 * layout work is computed only for graphs within the element and edge limits or asked for, so
 * the decision for a 1000×1000 chain (5·10¹¹ edges) costs one pass over its elements.
 * Asking for more than MAX_ELEMENT_EDGES edges element by element is a UsageError.
 */
export function graphPlan(ir: ModelIR, opts: { elements?: boolean } = {}, g = elementGraph(ir)): GraphPlan {
  const nodes = ir.n;
  const edges = g.edgeCount();
  if (opts.elements && edges > MAX_ELEMENT_EDGES)
    throw new UsageError(
      `model ${ir.name} has ${edges.toLocaleString("en-US")} edges: too many to draw element by element (at most ${MAX_ELEMENT_EDGES.toLocaleString("en-US")})`,
      "leave out --elements: large models are drawn with one node per variable",
    );
  const small = nodes <= GRAPH_BUDGET.elements && edges <= GRAPH_BUDGET.edges;
  const work = small || opts.elements ? layoutWork(g) : null;
  const withinBudget = small && work !== null && work <= GRAPH_BUDGET.work;
  const elements = opts.elements ?? withinBudget;
  const layout: LayoutKind = !elements
    ? "default"
    : work === null || work > LIGHT_LAYOUT_WORK
      ? "cheap"
      : edges > DENSE_EDGES_PER_ELEMENT * nodes
        ? "dense"
        : "default";
  return { elements, nodes, edges, work, layout, withinBudget };
}

function elementGraph(ir: ModelIR): ElementGraph {
  return new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
}

/** A DOT string: backslashes and quotes escaped, a newline as dot's line break (`\n`). */
function q(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** The graph attributes of each layout kind. */
const LAYOUT_LINES: Record<LayoutKind, readonly string[]> = {
  default: [],
  // A dense element graph (a complete DAG on 16 elements has 120 edges) has no drawing without
  // crossings; dot's crossing minimization then spends most of the layout (40 ms of 60 for
  // 04-binary-image-joint-vs-independent) for no visible gain, so it gets a tenth of its passes,
  // and its edges are drawn as polylines (straight segments around the nodes: a fifth less
  // layout time than curves, and no harder to follow among 120 edges).
  dense: ["  mclimit=0.1;", "  splines=polyline;"],
  // A heavy one (many edges spanning many ranks): routing polylines around thousands of virtual
  // nodes and the network simplex's x-placement dominate; straight edges and bounded iterations
  // keep it linear-ish (a 40-element complete DAG: 14 s of layout -> 0.2 s).
  cheap: ["  mclimit=0.01;", "  remincross=false;", "  nslimit=0.1;", "  nslimit1=0.1;", "  splines=line;"],
};

/**
 * DOT of the whole model: every element (`graphPlan` decides, `elements` overrides it) or one
 * node per variable. The drawing by variable reads the factors' structures, never their edges:
 * it is linear in the elements, so a 1000×1000 chain is drawn as fast as it is compiled.
 */
export function toDot(ir: ModelIR, opts: { elements?: boolean; plan?: GraphPlan } = {}): string {
  const g = elementGraph(ir);
  const plan = opts.plan ?? graphPlan(ir, opts, g);
  const lines = [
    `digraph ${q(ir.name)} {`,
    "  rankdir=LR;",
    ...LAYOUT_LINES[plan.layout],
    '  node [shape=circle, fontname="Helvetica", fontsize=11];',
    '  edge [color="#555555"];',
  ];
  if (plan.elements) {
    for (const v of ir.variables) {
      lines.push(`  subgraph ${q(`cluster_${v.name}`)} {`);
      lines.push(
        `    label=${q(`${v.name} : ${domainName(v.domain)}${v.shape.length ? `[${v.shape.join(", ")}]` : ""}`)}; style=rounded; color="#999999";`,
      );
      for (let f = 0; f < v.size; f++) {
        const e = v.offset + f;
        lines.push(
          `    n${e} [label=${q(elementName(ir.variables, e))}${v.latent ? ', style=filled, fillcolor="#eeeeee"' : ""}];`,
        );
      }
      lines.push("  }");
    }
    for (let e = 0; e < ir.n; e++) g.forEachParent(e, (p) => lines.push(`  n${p} -> n${e};`));
  } else {
    for (const v of ir.variables) {
      lines.push(
        `  ${q(v.name)} [shape=box, label=${q(`${v.name} : ${domainName(v.domain)}${v.shape.length ? `[${v.shape.join(", ")}]` : ""}${v.latent ? "\n(latent)" : ""}`)}${v.latent ? ', style=filled, fillcolor="#eeeeee"' : ""}];`,
      );
    }
    lines.push(...variableEdges(ir, g));
    const count = (x: number) => x.toLocaleString("en-US");
    const why =
      plan.edges > MAX_ELEMENT_EDGES
        ? "too many to draw one by one"
        : plan.withinBudget
          ? "drawn by variable as asked"
          : "over the layout budget:\ngm graph --elements draws each";
    // Short lines in the nodes' font, and a margin: one long line in dot's default Times overflowed
    // the drawing when the PNG renderer substituted a wider font.
    lines.push(
      `  label=${q(`${count(plan.nodes)} elements, ${count(plan.edges)} edges\n${why}`)}; fontsize=10; fontname="Helvetica"; pad=0.2;`,
    );
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/**
 * The edges of the drawing by variable: a dashed loop labelled with the family on each variable
 * whose elements depend on one another, `c -> t` for each conditioning variable, and the edges
 * between target variables of one factor (`p(x, y) = chain`), read from the factor's structure:
 * for a prefix (chain rule, joint), u -> v when an element of u precedes one of v; for a window of
 * k, when one precedes within k. Pruned parent lists (`explicit`) are read as stored. Only a Row
 * LSTM's cone over several variables (pixelrnn draws one image) would be walked edge by edge.
 */
function variableEdges(ir: ModelIR, g: ElementGraph): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  const add = (from: string, to: string, attrs = "") => {
    const key = from === to ? `${to}/${attrs}` : `${from}->${to}`;
    if (seen.has(key)) return;
    seen.add(key);
    lines.push(`  ${q(from)} -> ${q(to)}${attrs};`);
  };
  const vars = ir.variables;
  const targetVars = ir.factors.map((f) => varIndexOf(vars, f.targets));
  const distinct = (ix: Int32Array) => [...new Set(ix)];
  // First the loops and the conditions, factor by factor.
  ir.factors.forEach((f, fi) => {
    const tv = distinct(targetVars[fi]).map((i) => vars[i].name);
    if (f.structure.kind !== "none") for (const t of tv) add(t, t, ` [label=${q(f.family)}, style=dashed]`);
    for (const c of distinct(varIndexOf(vars, f.context)).map((i) => vars[i].name))
      for (const t of tv) add(c, t, f.family === "implicit" ? ' [label="generator"]' : "");
  });
  // Then the edges between variables inside a factor.
  const pairs = new Set<number>();
  ir.factors.forEach((f, fi) =>
    withinFactorEdges(f, targetVars[fi], g, vars, (u, v) => {
      if (u === v || pairs.has(u * vars.length + v)) return;
      pairs.add(u * vars.length + v);
      add(vars[u].name, vars[v].name);
    }),
  );
  return lines;
}

/** Calls `emit(u, v)` (variable indices, repeats allowed) for each edge from an element of u to one of v in `f`. */
function withinFactorEdges(
  f: FactorIR,
  tvar: Int32Array,
  g: ElementGraph,
  vars: readonly VariableIR[],
  emit: (u: number, v: number) => void,
): void {
  const s = f.structure;
  if (s.kind === "explicit") {
    const pvar = (ps: Int32Array) => varIndexOf(vars, ps);
    s.parents.forEach((ps, j) => pvar(ps).forEach((u) => emit(u, tvar[j])));
    return;
  }
  if (s.kind === "none" || new Set(tvar).size < 2) return;
  if (s.kind === "prefix" || s.kind === "joint") {
    const first = new Map<number, number>();
    const last = new Map<number, number>();
    tvar.forEach((v, j) => {
      if (!first.has(v)) first.set(v, j);
      last.set(v, j);
    });
    for (const [u, fu] of first) for (const [v, lv] of last) if (fu < lv) emit(u, v);
    return;
  }
  if (s.kind === "window") {
    const lastSeen = new Map<number, number>();
    tvar.forEach((v, j) => {
      for (const [u, at] of lastSeen) if (at >= j - s.k) emit(u, v);
      lastSeen.set(v, j);
    });
    return;
  }
  // A cone over several variables (not made by today's compiler: pixelrnn draws one image): walk its edges.
  f.targets.forEach((t, j) => g.forEachParent(t, (p) => emit(vars.indexOf(variableOf(vars, p)), tvar[j])));
}

/** The index in `vars` of each element of `list` (one binary search per change of variable). */
function varIndexOf(vars: readonly VariableIR[], list: Int32Array): Int32Array {
  const out = new Int32Array(list.length);
  let cur = -1;
  for (let j = 0; j < list.length; j++) {
    const e = list[j];
    if (cur < 0 || e < vars[cur].offset || e >= vars[cur].offset + vars[cur].size)
      cur = vars.indexOf(variableOf(vars, e));
    out[j] = cur;
  }
  return out;
}

/** What the pixel picture shows. */
export interface PixelView {
  readonly variable: VariableIR;
  readonly pixel: number;
  readonly parents: number[];
  readonly children: number[];
  /** Parents, children and the children's other parents. */
  readonly blanket: number[];
}

/** The parents, children and Markov blanket of element `e`. */
export function markovBlanket(ir: ModelIR, e: number): { parents: number[]; children: number[]; blanket: number[] } {
  const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
  const parents = Array.from(g.parents(e));
  const children: number[] = [];
  g.forEachChild(e, (c) => children.push(c));
  const blanket = new Set<number>([...parents, ...children]);
  for (const c of children)
    g.forEachParent(c, (p) => {
      if (p !== e) blanket.add(p);
    });
  return { parents, children, blanket: [...blanket].sort((a, b) => a - b) };
}

/** SVG of an image variable's grid around pixel (r, c) (1-based). Channels fold into one cell. */
export function pixelSvg(ir: ModelIR, v: VariableIR, r: number, c: number): string {
  const [H, W] = v.shape;
  const C = v.shape.length === 3 ? v.shape[2] : 1;
  const first = v.offset + flatten(v.shape, v.shape.length === 3 ? [r, c, 1] : [r, c]);
  const cells = new Map<number, "pixel" | "parent" | "child" | "blanket">();
  const order = (e: number) => v.rank[e - v.offset];
  const pixels = Array.from({ length: C }, (_, k) => first + k);
  const info = pixels.map((e) => markovBlanket(ir, e));
  const cellOf = (e: number) => {
    if (variableOf(ir.variables, e) !== v) return -1;
    const idx = unflatten(v.shape, e - v.offset);
    return (idx[0] - 1) * W + (idx[1] - 1);
  };
  const mark = (e: number, kind: "parent" | "child" | "blanket") => {
    const cell = cellOf(e);
    if (cell < 0) return;
    const prev = cells.get(cell);
    const rankOf = { pixel: 4, parent: 3, child: 2, blanket: 1 } as const;
    if (!prev || rankOf[kind] > rankOf[prev]) cells.set(cell, kind);
  };
  for (const i of info) {
    i.blanket.forEach((e) => mark(e, "blanket"));
    i.children.forEach((e) => mark(e, "child"));
    i.parents.forEach((e) => mark(e, "parent"));
  }
  cells.set((r - 1) * W + (c - 1), "pixel");
  const size = Math.max(8, Math.min(24, Math.floor(560 / Math.max(H, W))));
  const pad = 20;
  const legendH = 70;
  const width = Math.max(W * size + 2 * pad, 440);
  const height = H * size + 2 * pad + legendH;
  const fill = { pixel: "#d62728", parent: "#1f77b4", child: "#ff7f0e", blanket: "#9edae5" } as const;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  const left = Math.floor((width - W * size) / 2);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const kind = cells.get(y * W + x);
      out.push(
        `<rect x="${left + x * size}" y="${pad + y * size}" width="${size}" height="${size}" fill="${kind ? fill[kind] : "#f7f7f7"}" stroke="#cccccc" stroke-width="0.5"/>`,
      );
    }
  const np = new Set(info.flatMap((i) => i.parents.map(cellOf).filter((x) => x >= 0))).size;
  const ly = pad + H * size + 18;
  const legend: Array<[string, string]> = [
    [fill.pixel, `${v.name}[${r}, ${c}] (order position ${order(first) + 1} of ${v.size}, ${v.order.kind})`],
    [fill.parent, `parents (${np} pixels)`],
    [fill.child, "children"],
    [fill.blanket, "rest of the Markov blanket (children's other parents)"],
  ];
  legend.forEach(([color, text], i) => {
    const yy = ly + i * 15;
    out.push(`<rect x="${pad}" y="${yy - 10}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${pad + 16}" y="${yy}">${text.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
