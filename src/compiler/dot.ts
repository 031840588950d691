/**
 * Pictures of a compiled model, as text: Graphviz DOT of the Bayesian network (every element
 * for small models, one node per variable with its factor family for large ones), and an SVG
 * grid of an image variable showing one pixel, its parents and its Markov blanket.
 * Rendering DOT to SVG/PNG happens in the CLI; this module stays browser-safe.
 */
import { elementName, flatten, unflatten, variableOf } from "./elements";
import { ElementGraph } from "./graph";
import type { ModelIR, VariableIR } from "./ir";
import { domainName } from "./ir";

/** Above this many edges per element, an element graph counts as dense (see `mclimit` in toDot). */
export const DENSE_EDGES_PER_ELEMENT = 4;

/** Above this many elements the default picture is one node per variable. */
export const ELEMENT_LIMIT = 100;

function q(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** DOT of the whole model. */
export function toDot(ir: ModelIR, opts: { elements?: boolean } = {}): string {
  const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
  const elements = opts.elements ?? ir.n <= ELEMENT_LIMIT;
  const lines = [
    `digraph ${q(ir.name)} {`,
    "  rankdir=LR;",
    // A dense element graph (a complete DAG on 16 elements has 120 edges) has no drawing without
    // crossings; dot's crossing minimization then spends most of the layout (40 ms of 60 for
    // 04-binary-image-joint-vs-independent) for no visible gain, so it gets a tenth of its passes,
    // and its edges are drawn as polylines (straight segments around the nodes: a fifth less
    // layout time than curves, and no harder to follow among 120 edges).
    ...(elements && g.edgeCount() > DENSE_EDGES_PER_ELEMENT * ir.n ? ["  mclimit=0.1;", "  splines=polyline;"] : []),
    '  node [shape=circle, fontname="Helvetica", fontsize=11];',
    '  edge [color="#555555"];',
  ];
  if (elements) {
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
        `  ${q(v.name)} [shape=box, label=${q(`${v.name} : ${domainName(v.domain)}${v.shape.length ? `[${v.shape.join(", ")}]` : ""}${v.latent ? "\\n(latent)" : ""}`)}${v.latent ? ', style=filled, fillcolor="#eeeeee"' : ""}];`,
      );
    }
    const seen = new Set<string>();
    for (const f of ir.factors) {
      const tv = new Set(Array.from(f.targets, (e) => variableOf(ir.variables, e).name));
      const within = f.structure.kind === "none" ? "" : f.family;
      for (const t of tv) {
        if (within && !seen.has(`${t}/${f.family}`)) {
          seen.add(`${t}/${f.family}`);
          lines.push(`  ${q(t)} -> ${q(t)} [label=${q(within)}, style=dashed];`);
        }
      }
      const cv = new Set(Array.from(f.context, (e) => variableOf(ir.variables, e).name));
      for (const c of cv)
        for (const t of tv) {
          const key = `${c}->${t}`;
          if (!seen.has(key)) {
            seen.add(key);
            lines.push(`  ${q(c)} -> ${q(t)}${f.family === "implicit" ? ' [label="generator"]' : ""};`);
          }
        }
    }
    // Edges between variables created element by element (explicit tables).
    for (let e = 0; e < ir.n; e++) {
      const ve = variableOf(ir.variables, e).name;
      g.forEachParent(e, (p) => {
        const vp = variableOf(ir.variables, p).name;
        if (vp === ve) return;
        const key = `${vp}->${ve}`;
        if (!seen.has(key)) {
          seen.add(key);
          lines.push(`  ${q(vp)} -> ${q(ve)};`);
        }
      });
    }
    lines.push(
      `  label=${q(`${ir.n} elements, ${g.edgeCount()} edges (gm graph --elements draws every element)`)}; fontsize=10;`,
    );
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
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
