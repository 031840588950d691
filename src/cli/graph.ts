/**
 * `gm graph FILE --format dot|svg|png [-o out] [--pixel R,C]`: the Bayesian network through
 * Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz: no system binary needed), PNG
 * through resvg. `--pixel` draws an image variable's grid with the pixel, its parents and its
 * Markov blanket.
 */
import { GRAPH_BUDGET, graphPlan, MAX_LAYOUT_WORK, toDot, pixelSvg } from "../compiler/dot";
import type { ModelIR } from "../compiler/ir";
import { writeFileAtomic } from "../data/atomic";
import { compileOrReport, EXIT, pickModel, UsageError } from "./io";
import { svgToPng } from "./render";

/** Options of `gm graph`. */
export interface GraphOptions {
  format: string;
  out?: string;
  model?: string;
  pixel?: string;
  elements?: boolean;
}

/** Renders DOT to SVG with Graphviz (wasm). */
export async function dotToSvg(dot: string): Promise<string> {
  const { Graphviz } = await import("@hpcc-js/wasm-graphviz");
  const gv = await Graphviz.load();
  return gv.dot(dot, "svg");
}

function imageVariable(m: ModelIR) {
  const v = m.variables.find((x) => !x.latent && (x.shape.length === 2 || x.shape.length === 3));
  if (!v) throw new UsageError(`model ${m.name} has no image-shaped variable ([H, W] or [H, W, C]) for --pixel`);
  return v;
}

/** Runs `gm graph`. */
export async function runGraph(file: string, opts: GraphOptions): Promise<number> {
  const r = compileOrReport(file);
  if (!r) return EXIT.diagnostics;
  const m = pickModel(r.models, opts.model, file);
  const format =
    opts.out && /\.(png|svg|dot|gv)$/i.test(opts.out) && opts.format === "svg"
      ? opts.out.split(".").pop()!.toLowerCase().replace("gv", "dot")
      : opts.format;
  let svg: string | undefined;
  let dot: string | undefined;
  if (opts.pixel) {
    const match = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(opts.pixel);
    if (!match) throw new UsageError(`--pixel takes R,C (1-based), e.g. --pixel 14,14; got ${opts.pixel}`);
    const v = imageVariable(m);
    const [row, col] = [Number(match[1]), Number(match[2])];
    if (row < 1 || row > v.shape[0] || col < 1 || col > v.shape[1])
      throw new UsageError(`pixel (${row}, ${col}) is outside ${v.name} (${v.shape[0]}×${v.shape[1]})`);
    if (format === "dot") throw new UsageError("--pixel draws a grid: use --format svg or png");
    svg = pixelSvg(m, v, row, col);
  } else {
    const plan = graphPlan(m, { elements: opts.elements });
    if (format !== "dot" && plan.elements && !plan.withinBudget) {
      const count = (x: number) => x.toLocaleString("en-US");
      const size = `${count(plan.nodes)} elements and ${count(plan.edges)} edges (layout work ${count(plan.work ?? 0)})`;
      if ((plan.work ?? 0) > MAX_LAYOUT_WORK)
        throw new UsageError(
          `model ${m.name} is too large to lay out element by element: ${size}, at most ${count(MAX_LAYOUT_WORK)}`,
          "--format dot writes the element graph without laying it out; without --elements it is drawn by variable",
        );
      process.stderr.write(
        `note: drawing ${size} one by one, over the budget (${GRAPH_BUDGET.elements} elements, ${GRAPH_BUDGET.edges} edges, layout work ${count(GRAPH_BUDGET.work)}): the layout may take a while\n`,
      );
    }
    dot = toDot(m, { plan });
    if (format !== "dot") svg = await dotToSvg(dot);
  }
  if (format === "png") {
    if (!opts.out) throw new UsageError("--format png needs -o FILE.png");
    writeFileAtomic(opts.out, await svgToPng(svg!));
  } else {
    const text = format === "dot" ? dot! : svg!;
    if (opts.out) writeFileAtomic(opts.out, text);
    else process.stdout.write(text);
  }
  if (opts.out) process.stderr.write(`wrote ${opts.out}\n`);
  return EXIT.ok;
}
