/**
 * The factorization in mathematical notation for `gm factor`, `--latex` and the playground's
 * KaTeX: indexed families collapse into products (`p(x) = p(x₁) ∏_{i=2}^{n} p(x_i | x_{i−1})`),
 * keeping the symbols the user wrote for the shape. Every printed factor conditions on exactly
 * the compiled graph's parents of its element (tests/compiler/notation.test.ts reads the text
 * back and compares).
 *
 * Printing is symbolic and bounded: factors whose parents follow from their structure
 * (`none`, `prefix`, `window`, `joint`, `cone`) print from that structure without visiting an
 * element or an edge, so `p(x) = chain` over a 1000×1000 image prints `∏_{j=1}^{1000000}
 * p(x_(j) | x_(<j))` at once. Parent lists (factors pruned by `assume`, conditionals stated one
 * by one) are read once, O(listed edges): a pattern in visiting order (window or prefix) or in
 * index space (a fixed neighbourhood) prints as a product; at most MAX_TERMS elements are
 * written out one by one; beyond that the group is summarized and says so. A chain pruned by
 * `assume` prints the same as `markov(k = 1)`: both go through the same renderer.
 */
import { elementName, formatElements, unflatten, variableOf } from "./elements";
import { ElementGraph } from "./graph";
import type { DerivationStep, FactorIR, ModelIR, VariableIR } from "./ir";

/** Unicode or LaTeX. */
export type Style = "unicode" | "latex";

/** Most elements of one group written out one term each; more are a product or a summary. */
export const MAX_TERMS = 24;

/** Most elements of one context named one by one (`x_{1,1}, x_{1,2}`); more are written as ranges. */
const MAX_NAMED = 6;

const SUB_DIGITS = "₀₁₂₃₄₅₆₇₈₉";
/** Index letters per rank, first choice first; a choice that names a variable or a constant of the model is skipped. */
const AXIS_VARS = [
  [["i"], ["j"], ["l"], ["t"]],
  [
    ["r", "c"],
    ["u", "v"],
    ["a", "b"],
  ],
  [
    ["r", "c", "k"],
    ["u", "v", "w"],
    ["a", "b", "d"],
  ],
];
/** Letters for positions in an order (`x_(j)`). */
const ORDER_VARS = ["j", "l", "t", "s"];

/** Index letters for an array of `rank` axes that no name of the model uses (`c` stays free for a variable `c`). */
function axisVars(rank: number, taken: ReadonlySet<string> = new Set()): string[] {
  for (const vs of AXIS_VARS[rank - 1] ?? []) if (vs.every((x) => !taken.has(x))) return vs;
  for (let t = 0; ; t++) {
    const vs = Array.from({ length: rank }, (_, a) => `i${a + 1}${"′".repeat(t)}`);
    if (vs.every((x) => !taken.has(x))) return vs;
  }
}

function orderVar(taken: ReadonlySet<string>): string {
  return ORDER_VARS.find((x) => !taken.has(x)) ?? "j′";
}

/** A name as math text: in LaTeX its underscores escaped (`_x_2` is `\\_x\\_2`, not two subscripts). */
function texName(name: string, style: Style): string {
  return style === "latex" ? name.replace(/(?<!\\)_/g, "\\_") : name;
}

/** `x₁`, `x_i`, `x_{i−1}`, `x_{r,c−1}` (LaTeX: `x_{1}`, `x_{i-1}`). */
function sub(rawName: string, parts: string[], style: Style): string {
  const name = texName(rawName, style);
  const text = parts.join(",");
  if (text === "") return name; // a scalar: `y`, never `y_{}`
  if (style === "latex") return `${name}_{${text.replace(/−/g, "-")}}`;
  if (/^\d+$/.test(text)) return name + [...text].map((d) => SUB_DIGITS[Number(d)]).join("");
  if (/^[a-z]$/.test(text)) return `${name}_${text}`;
  return `${name}_{${text}}`;
}

function offsetText(v: string, d: number): string {
  return d === 0 ? v : d > 0 ? `${v}+${d}` : `${v}−${-d}`;
}

function cond(target: string, parents: readonly string[], style: Style, letter = "p"): string {
  if (parents.length === 0) return `${letter}(${target})`;
  return `${letter}(${target} ${style === "latex" ? "\\mid" : "|"} ${parents.join(", ")})`;
}

function prod(lo: string, hi: string, v: string, body: string, style: Style): string {
  hi = texName(hi, style);
  return style === "latex" ? `\\prod_{${v}=${lo}}^{${hi}} ${body}` : `∏_{${v}=${lo}}^{${hi}} ${body}`;
}

/** A remark after a product: `   (…)`, in LaTeX `\quad\text{(…)}`. */
function note(text: string, style: Style): string {
  return style === "latex" ? `\\quad\\text{(${texName(text, style)})}` : `   (${text})`;
}

/** A set of elements in the language's notation (`x[1..3, *]`), for math text. */
function elementsMath(vars: readonly VariableIR[], els: Iterable<number>, style: Style): string {
  const text = formatElements(vars, els);
  return style === "latex" ? texName(text, style).replace(/…/g, "\\ldots").replace(/∅/g, "\\emptyset") : text;
}

/** Name of a single element in math notation. */
function elementMath(vars: readonly VariableIR[], e: number, style: Style): string {
  const v = variableOf(vars, e);
  if (v.shape.length === 0) return texName(v.name, style);
  return sub(v.name, unflatten(v.shape, e - v.offset).map(String), style);
}

/**
 * A set of context elements: whole variables by name, a few elements by name (`x_{1,2}`), more
 * as ranges (`x[1, *]`). Linear in the number of elements, never quadratic.
 */
function contextMath(ir: ModelIR, ctx: ArrayLike<number>, style: Style): string[] {
  if (ctx.length === 0) return [];
  const byVar = new Map<VariableIR, number[]>();
  for (let j = 0; j < ctx.length; j++) {
    const e = ctx[j];
    const v = variableOf(ir.variables, e);
    let l = byVar.get(v);
    if (!l) byVar.set(v, (l = []));
    l.push(e);
  }
  const out: string[] = [];
  for (const v of ir.variables) {
    const els = byVar.get(v);
    if (!els) continue;
    const uniq = new Set(els);
    if (uniq.size === v.size) out.push(texName(v.name, style));
    else if (uniq.size <= 3) for (const e of uniq) out.push(elementMath(ir.variables, e, style));
    else {
      // One block (`x[1, *]`, `x[2..7]`) reads best as a range; a few scattered elements by name.
      const ranges = elementsMath(ir.variables, uniq, style);
      const oneBlock = !ranges.includes(", ", ranges.indexOf("]"));
      if (!oneBlock && uniq.size <= MAX_NAMED) for (const e of uniq) out.push(elementMath(ir.variables, e, style));
      else out.push(ranges);
    }
  }
  return out;
}

/** A group of targets printed together: one factor, or one-element factors of one variable merged. */
interface Group {
  /** The first factor of the group (its family and structure when not merged). */
  readonly factor: FactorIR;
  readonly targets: Int32Array;
  /** Merged one-element factors: parents are read per element (`lists`, in the order of `targets`). */
  readonly merged: boolean;
  readonly lists?: readonly Int32Array[];
}

/**
 * Factors as a reader groups them: one-element factors stated one by one (`for …: p(x[i] | …) =
 * table`, `= mlp(…)`, `= logistic`) merge per variable, whatever their family, so they print as
 * one product (`p(x₁) ∏_{i=2}^{n} p(x_i | x_{i−1})`). A merged group is returned as a factor with
 * `explicit` parent lists (each element's own conditions); the others unchanged.
 */
export function displayGroups(ir: ModelIR): FactorIR[] {
  const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
  return groupsOf(ir).map((d) =>
    d.merged
      ? {
          ...d.factor,
          targets: d.targets,
          context: new Int32Array(0),
          structure: { kind: "explicit", parents: d.lists ? [...d.lists] : Array.from(d.targets, (e) => g.parents(e)) },
        }
      : d.factor,
  );
}

function groupsOf(ir: ModelIR): Group[] {
  const out: Array<{ factor: FactorIR; v?: VariableIR; count: number }> = [];
  const merged = new Map<VariableIR, { factor: FactorIR; v?: VariableIR; count: number }>();
  for (const f of ir.factors) {
    if (f.targets.length === 1 && f.family !== "implicit") {
      const v = variableOf(ir.variables, f.targets[0]);
      const m = merged.get(v);
      if (m) m.count++;
      else {
        const entry = { factor: f, v, count: 1 };
        merged.set(v, entry);
        out.push(entry);
      }
      continue;
    }
    out.push({ factor: f, count: f.targets.length });
  }
  return out.map((d): Group => {
    if (!d.v) return { factor: d.factor, targets: d.factor.targets, merged: false };
    // One-element factors of v in v's visiting order (a bucket per position: linear), each with its own parents.
    const v = d.v;
    const targets = new Int32Array(d.count);
    const lists: Int32Array[] = [];
    let n = 0;
    for (let j = 0; j < v.size; j++) {
      const e = v.offset + v.visit[j];
      const f = ir.factors[ir.factorOf[e]];
      if (!f || f.targets.length !== 1 || f.family === "implicit") continue;
      targets[n++] = e;
      lists.push(f.structure.kind === "explicit" ? f.structure.parents[0] : f.context);
    }
    return { factor: d.factor, targets, merged: true, lists };
  });
}

/** The whole factorization of a model: `p(x, z) = p(z) ∏ … `, priors of latent variables first. */
export function factorization(ir: ModelIR, style: Style = "unicode"): string {
  const names = [...ir.variables.filter((v) => v.latent), ...ir.variables.filter((v) => !v.latent)]
    .map((v) => texName(v.name, style))
    .join(", ");
  const printer = new Printer(ir, style);
  const groups = printer.groups;
  const latent = (d: Group) => variableOf(ir.variables, d.targets[0]).latent;
  const terms = [...groups.filter(latent), ...groups.filter((d) => !latent(d))].map((d) => printer.group(d));
  const folded = foldRuns(terms, printer.letters(), style);
  return `p(${names}) = ${folded.length ? folded.join(style === "latex" ? " \\cdot " : " · ") : "1"}`;
}

/** Shortest run of consecutive terms folded into one product. */
const MIN_RUN = 3;

/**
 * Folds runs of terms that differ only in numbers rising by one from term to term (a statement
 * under `for`: `p(y[2, *] | y[1, *]) · p(y[3, *] | y[2, *]) · …`) into one product over a new
 * letter: `∏_{i=2}^{1000} p(y[i, *] | y[i−1, *])`. Numbers that stay the same stay; the rest of the
 * text must be equal. Linear in the length of the text.
 */
function foldRuns(terms: string[], letters: string[], style: Style): string[] {
  const split = (t: string) => {
    const nums: number[] = [];
    const shape = t.replace(/\d+/g, (m) => {
      nums.push(Number(m));
      return "#";
    });
    return { shape, nums };
  };
  const parts = terms.map(split);
  const out: string[] = [];
  let i = 0;
  while (i < terms.length) {
    const a = parts[i];
    let j = i + 1;
    let steps: number[] | null = null;
    while (j < terms.length && parts[j].shape === a.shape && a.nums.length > 0) {
      // Each number rises by 0 or 1 per term, the same way for the whole run, at least one by 1.
      const d = parts[j].nums.map((x, k) => x - parts[j - 1].nums[k]);
      if (!d.every((x) => x === 0 || x === 1) || !d.includes(1)) break;
      if (steps && d.some((x, k) => x !== steps![k])) break;
      steps = d;
      j++;
    }
    if (!steps || j - i < MIN_RUN) {
      out.push(terms[i]);
      i++;
      continue;
    }
    const letter = letters.find((l) => !new RegExp(`(^|[^A-Za-z])${l}([^A-Za-z]|$)`).test(a.shape)) ?? "t";
    const base = a.nums[steps.indexOf(1)];
    let k = 0;
    const body = a.shape.replace(/#/g, () => {
      const x = a.nums[k];
      const rises = steps![k++] === 1;
      return rises ? offsetText(letter, x - base).replace(/−/g, style === "latex" ? "-" : "−") : String(x);
    });
    out.push(prod(String(base), String(base + (j - i) - 1), letter, body, style));
    i = j;
  }
  return out;
}

/**
 * The encoder of a latent-variable model, or null when there is none: a Gaussian `q(z | x) =
 * mlp(…)` has independent outputs given its inputs (`q(z | x) = ∏_{i=1}^{d} q(z_i | x)`), a
 * deterministic one is a point mass (`q(z | x) = δ(z − E(x))`).
 */
export function encoderMath(ir: ModelIR, style: Style = "unicode"): string | null {
  const nw = ir.networks.find((n) => n.role === "posterior");
  if (!nw || nw.outputs.length === 0) return null;
  const printer = new Printer(ir, style);
  const given = contextMath(ir, nw.inputs, style);
  const head = cond(printer.headOf(nw.outputs), given, style, "q");
  const deterministic = nw.network.kind === "mlp" && nw.network.output === "code";
  if (deterministic) {
    const outs = printer.headOf(nw.outputs);
    return `${head} = ${style === "latex" ? `\\delta(${outs} - E(${given.join(", ")}))` : `δ(${outs} − E(${given.join(", ")}))`}`;
  }
  const product = printer.independent(nw.outputs, given, "q");
  return product === head ? head : `${head} = ${product}`;
}

/** One factor group in notation (a factor of `ir`, or one of `displayGroups(ir)`). */
export function factorMath(ir: ModelIR, f: FactorIR, style: Style = "unicode"): string {
  const printer = new Printer(ir, style);
  if (f.structure.kind === "explicit")
    return printer.listed({ factor: f, targets: f.targets, merged: false }, f.structure.parents);
  return printer.group({ factor: f, targets: f.targets, merged: false });
}

/** A run of targets of one variable, in the factor's (or the group's) order. */
interface Segment {
  readonly v: VariableIR;
  /** Index of the first target of the run in the group. */
  readonly from: number;
  /** The run's targets. */
  readonly targets: Int32Array;
}

/** The box `[lo_a, hi_a]` (1-based, per axis) the targets fill exactly, or null. */
function boxOf(v: VariableIR, targets: Int32Array): { lo: number[]; hi: number[] } | null {
  const rank = v.shape.length;
  const lo = new Array<number>(rank).fill(Infinity);
  const hi = new Array<number>(rank).fill(-Infinity);
  for (const e of targets) {
    let flat = e - v.offset;
    for (let a = rank - 1; a >= 0; a--) {
      const x = (flat % v.shape[a]) + 1;
      flat = Math.floor(flat / v.shape[a]);
      if (x < lo[a]) lo[a] = x;
      if (x > hi[a]) hi[a] = x;
    }
  }
  let count = 1;
  for (let a = 0; a < rank; a++) count *= hi[a] - lo[a] + 1;
  return count === targets.length ? { lo, hi } : null; // targets are distinct: the count decides
}

/** Visiting positions (1-based) ja..jb when the targets are exactly that run of v's order, sorted; else null. */
function rankRun(v: VariableIR, targets: Int32Array): { ja: number; jb: number } | null {
  const ja = v.rank[targets[0] - v.offset] + 1;
  for (let j = 0; j < targets.length; j++) if (v.rank[targets[j] - v.offset] + 1 !== ja + j) return null;
  return { ja, jb: ja + targets.length - 1 };
}

/** Prints the groups of one model; holds the graph so parent lists are read once. */
class Printer {
  readonly groups: Group[];
  private graph?: ElementGraph;
  /** Names a bound index letter must not take: variables, constants, symbols of shapes. */
  private readonly taken: Set<string>;

  constructor(
    readonly ir: ModelIR,
    readonly style: Style,
  ) {
    this.groups = groupsOf(ir);
    this.taken = new Set([...ir.variables.map((v) => v.name), ...ir.constants.keys()]);
    for (const v of ir.variables) for (const t of v.shapeText) this.taken.add(t);
  }

  private axes(rank: number): string[] {
    return axisVars(rank, this.taken);
  }

  /** Letters free for a product over repeated statements. */
  letters(): string[] {
    return ["i", "j", "l", "t", "s", "m"].filter((l) => !this.taken.has(l));
  }

  private g(): ElementGraph {
    return (this.graph ??= new ElementGraph(this.ir.n, this.ir.factors, this.ir.factorOf, this.ir.positionOf));
  }

  /** One group in notation. */
  group(d: Group): string {
    const { ir, style } = this;
    const f = d.factor;
    if (d.merged) return this.listed(d, d.lists ?? Array.from(d.targets, (e) => this.g().parents(e)));
    const ctx = contextMath(ir, f.context, style);
    const s = f.structure;
    if (f.family === "implicit")
      return style === "latex"
        ? `\\delta(${this.head(d.targets)} - G(${ctx.join(", ")}))`
        : `δ(${this.head(d.targets)} − G(${ctx.join(", ")}))`;
    switch (s.kind) {
      case "joint": {
        const one = cond(this.head(d.targets), ctx, style);
        return f.family === "joint" && ctx.length === 0
          ? one +
              note(
                style === "latex" ? "one table: no factorization" : "one table over every outcome: no factorization",
                style,
              )
          : one;
      }
      case "explicit":
        return this.listed(d, s.parents);
      case "cone":
        return this.cone(d, ctx, s);
      case "none":
      case "prefix":
      case "window":
        return this.structured(d, ctx, s.kind === "none" ? 0 : s.kind === "window" ? s.k : Infinity);
    }
  }

  /** Elements independent given `given`, per variable a product over its box (`∏_{i=1}^{d} q(z_i | x)`). */
  independent(targets: Int32Array, given: string[], letter: string): string {
    const { style } = this;
    return segments(this.ir, targets)
      .map((sgm) => {
        const box = boxOf(sgm.v, sgm.targets);
        const body = (ax: string[]) => cond(sub(sgm.v.name, ax, style), given, style, letter);
        return box ? this.boxProduct(sgm.v, box, body) : this.overSet(sgm.targets, given, letter);
      })
      .join(style === "latex" ? " \\cdot " : " · ");
  }

  /** Whole variables by name, else the elements' ranges: `z, c`, `x[1, *]`. */
  headOf(targets: Int32Array): string {
    return segments(this.ir, targets)
      .map((sgm) => this.head(sgm.targets))
      .join(", ");
  }

  /** The head of a joint factor: whole variables by name, else the elements' ranges. */
  private head(targets: Int32Array): string {
    const vars = this.ir.variables;
    const first = variableOf(vars, targets[0]);
    const last = variableOf(vars, targets[targets.length - 1]);
    if (first === last && targets.length === first.size) return texName(first.name, this.style);
    return elementsMath(this.ir.variables, targets, this.style);
  }

  /**
   * A factor whose parents follow from its structure: target at position p depends on the
   * context and the `k` targets before it (k = 0: none, Infinity: all of them). Split into runs
   * of one variable; each run prints from a formula, never from a list of edges.
   */
  private structured(d: Group, ctx: string[], k: number): string {
    const { ir, style } = this;
    const segs = segments(ir, d.targets);
    if (segs.length > 1 && k !== 0 && k !== Infinity) {
      // A window across variables: written out when small, else summarized.
      return this.enumerate(d.targets, (e) => this.g().parents(e)) ?? this.summary(d.targets);
    }
    const parts: string[] = [];
    for (const sgm of segs) {
      // Earlier runs of a chain are parents of every element of this one.
      const before = k === Infinity && sgm.from > 0 ? contextMath(ir, d.targets.subarray(0, sgm.from), style) : [];
      const others = [...before, ...ctx];
      if (k === 0) {
        const box = boxOf(sgm.v, sgm.targets);
        parts.push(
          box
            ? this.boxProduct(sgm.v, box, (ax) => cond(sub(sgm.v.name, ax, style), others, style))
            : this.overSet(sgm.targets, others),
        );
        continue;
      }
      const run = rankRun(sgm.v, sgm.targets);
      if (run) {
        parts.push(this.orderRun(sgm.v, run.ja, run.jb, run.ja, k, others));
        continue;
      }
      // A chain over elements that are not a run of the variable's order (`p(x[1..2, 1..2]) = chain`).
      parts.push(this.enumerate(sgm.targets, (e) => this.g().parents(e)) ?? this.sequence(sgm, k, others));
    }
    return parts.join(" ");
  }

  /** `∏_{e ∈ x[…]} p(e | others)`: elements independent given the same parents. */
  private overSet(targets: Int32Array, others: string[], letter = "p"): string {
    const { style } = this;
    const set = elementsMath(this.ir.variables, targets, style);
    return style === "latex"
      ? `\\prod_{e \\in ${set}} ${cond("e", others, style, letter)}`
      : `∏_{e ∈ ${set}} ${cond("e", others, style, letter)}`;
  }

  /** A chain over a set that is not a run of the order: the set named, its j-th element as e_j. */
  private sequence(sgm: Segment, k: number, others: string[]): string {
    const { style } = this;
    const n = sgm.targets.length;
    const e = (i: string) => sub("e", [i], style);
    const own = k === Infinity ? [e("<j")] : k <= 3 ? [] : [e(`j−${k}..j−1`)];
    if (k !== Infinity && k <= 3) for (let i = k; i >= 1; i--) own.push(e(`j−${i}`));
    const set = elementsMath(this.ir.variables, sgm.targets, style);
    const clip = k === Infinity ? "" : `, e_1 … e_${k} given the ones before them`;
    return (
      prod("1", String(n), "j", cond(e("j"), [...own, ...others], style), style) +
      note(`e_j: the j-th of ${set} in ${sgm.v.order.kind} order${clip}`, style)
    );
  }

  /**
   * The elements at visiting positions ja..jb of v, each given the elements at positions
   * max(lo, j − k)..j − 1 and `others`: `∏_{i=1}^{n} p(x_i | x_{<i})`, `p(x₁) ∏_{i=2}^{n} p(x_i |
   * x_{i−1})`, `∏_{j=…} p(x_(j) | …)` (positions in the order, with a note) unless v is a 1-D array
   * in index order.
   */
  private orderRun(v: VariableIR, ja: number, jb: number, lo: number, k: number, others: string[]): string {
    const { style } = this;
    const plain = v.shape.length === 1 && (v.order.kind === "raster" || v.order.kind === "index");
    const name = (idx: string) => (plain ? sub(v.name, [idx], style) : sub(v.name, [`(${idx})`], style));
    const bound = (j: number) =>
      plain && j === v.size ? (v.shapeText[0] ?? String(j)) : !plain && j === v.size ? String(v.size) : String(j);
    const orderName = v.order.kind === "random" ? `random(seed = ${v.order.seed})` : v.order.kind;
    const tail = plain
      ? ""
      : note(
          style === "latex"
            ? `${orderName} order`
            : `x_(j) is the j-th element of ${v.name} in ${orderName} order`.replace(/^x_/, `${v.name}_`),
          style,
        );
    const jv = plain ? this.axes(1)[0] : orderVar(this.taken);
    if (v.shape.length === 0) return cond(texName(v.name, style), others, style);
    const before = (from: number) => (from === 1 ? name(`<${jv}`) : name(`${from}..${offsetText(jv, -1)}`));
    const terms: string[] = [];
    if (k === 0 && ja === jb) terms.push(cond(name(String(ja)), others, style));
    else if (k === 0) terms.push(prod(String(ja), bound(jb), jv, cond(name(jv), others, style), style));
    else if (k >= jb - lo) {
      // Every element is given all of lo..j−1: the chain rule (from lo).
      if (ja === jb) terms.push(this.oneInRun(name, ja, lo, others));
      else terms.push(prod(String(ja), bound(jb), jv, cond(name(jv), [before(lo), ...others], style), style));
    } else {
      // Head: positions before lo + k see all of lo..j−1; the body a window of k.
      const headEnd = Math.min(jb, lo + k - 1);
      if (ja <= headEnd) {
        if (k <= 3 || headEnd - ja < 3)
          for (let j = ja; j <= headEnd; j++) terms.push(this.oneInRun(name, j, lo, others));
        else terms.push(prod(String(ja), String(headEnd), jv, cond(name(jv), [before(lo), ...others], style), style));
      }
      const bodyStart = Math.max(ja, lo + k);
      if (bodyStart <= jb) {
        const window =
          k <= 3
            ? Array.from({ length: k }, (_, i) => name(offsetText(jv, -(k - i))))
            : [name(`${offsetText(jv, -k)}..${offsetText(jv, -1)}`)];
        if (bodyStart === jb) {
          const ps = Array.from({ length: Math.min(k, jb - lo) }, (_, i) =>
            name(String(jb - Math.min(k, jb - lo) + i)),
          );
          terms.push(cond(name(String(jb)), [...ps, ...others], style));
        } else terms.push(prod(String(bodyStart), bound(jb), jv, cond(name(jv), [...window, ...others], style), style));
      }
    }
    return terms.join(" ") + tail;
  }

  /** One element at position j given positions lo..j−1, written out (`p(x₂ | x₁)`). */
  private oneInRun(name: (idx: string) => string, j: number, lo: number, others: string[]): string {
    const ps = j - lo > 3 ? [name(`${lo}..${j - 1}`)] : Array.from({ length: j - lo }, (_, i) => name(String(lo + i)));
    return cond(name(String(j)), [...ps, ...others], this.style);
  }

  /**
   * `∏_{r=a}^{b} ∏_{c=…} body` over a box of v (bounds in the user's symbols where they are the
   * shape). A body given as a function of the index letters gets the number itself for an axis the
   * box fixes (`∏_{c=1}^{W} p(x_{5,c})`, not `∏_{r=5}^{5}`).
   */
  private boxProduct(
    v: VariableIR,
    box: { lo: number[]; hi: number[] },
    body: string | ((ax: string[]) => string),
  ): string {
    const rank = v.shape.length;
    const ax = this.axes(rank);
    const fixed = (a: number) => typeof body !== "string" && box.lo[a] === box.hi[a];
    const idx = ax.map((x, a) => (fixed(a) ? String(box.lo[a]) : x));
    let inner = typeof body === "string" ? body : body(idx);
    if (rank === 0) return inner;
    for (let a = rank - 1; a >= 0; a--) {
      if (fixed(a)) continue;
      const hi = box.hi[a] === v.shape[a] ? (v.shapeText[a] ?? String(v.shape[a])) : String(box.hi[a]);
      inner = prod(String(box.lo[a]), hi, ax[a], inner, this.style);
    }
    return inner;
  }

  /**
   * A group whose parents are listed per element (pruned by `assume`, or one-element factors
   * merged): per variable, a pattern in visiting order, then in index space; else one term per
   * element when few, else a summary. Reads each list once.
   */
  listed(d: Group, parents: readonly Int32Array[]): string {
    const parts: string[] = [];
    for (const sgm of segments(this.ir, d.targets)) {
      const lists = parents.slice(sgm.from, sgm.from + sgm.targets.length);
      parts.push(
        this.pattern(sgm, lists) ?? this.enumerate(sgm.targets, (_e, j) => lists[j]) ?? this.summary(sgm.targets),
      );
    }
    return parts.join(" ");
  }

  /** A pattern over one run of a variable, or null. */
  private pattern(sgm: Segment, lists: Int32Array[]): string | null {
    const { ir, style } = this;
    const v = sgm.v;
    const lo = v.offset;
    const hi = v.offset + v.size;
    if (v.shape.length === 0 || sgm.targets.length === 1) return null; // one element reads best by its name
    // Parents in other variables must be the same for every element: they print as context.
    const shared: number[] = [];
    for (const p of lists[0]) if (p < lo || p >= hi) shared.push(p);
    for (let i = 1; i < lists.length; i++) {
      const l = lists[i];
      let j = 0;
      for (let t = 0; t < l.length; t++) {
        const p = l[t];
        if (p >= lo && p < hi) continue;
        if (j >= shared.length || shared[j] !== p) return null;
        j++;
      }
      if (j !== shared.length) return null;
    }
    const others = contextMath(ir, shared, style);
    const plain1d = v.shape.length === 1 && (v.order.kind === "raster" || v.order.kind === "index");
    const run = rankRun(v, sgm.targets);
    if (run) {
      const w = orderWindow(v, run.ja, lists);
      if (w && !(w.k === 0 && !plain1d)) return this.orderRun(v, run.ja, run.jb, w.lo, w.k, others);
    }
    return this.indexPattern(sgm, lists, others);
  }

  /**
   * Index-space pattern: a set S of offsets with pa(x[i]) = {x[i + δ] : δ ∈ S} ∩ shape for every
   * element of a box of v. Clipped elements at the start of a 1-D array are written out
   * (`p(x₁) p(x₂) ∏_{i=3}^{n} p(x_i | x_{i−2})`); elsewhere a note says parents outside the
   * shape are dropped.
   */
  private indexPattern(sgm: Segment, lists: Int32Array[], others: string[]): string | null {
    const { style } = this;
    const v = sgm.v;
    const rank = v.shape.length;
    const box = boxOf(v, sgm.targets);
    if (!box) return null;
    // Offsets only accumulate: more than 8 is no pattern. Lists hold no repeats, so every parent's
    // offset is in S by construction and only the counts need checking. Flat arithmetic, no arrays per element.
    const MAXS = 8;
    const shape = v.shape;
    const first = v.offset;
    const end = v.offset + v.size;
    const flatS = new Int32Array(MAXS * rank);
    let ns = 0;
    const idx = new Int32Array(rank);
    const fill = (flat: number) => {
      for (let a = rank - 1; a >= 0; a--) {
        const q = Math.floor(flat / shape[a]);
        idx[a] = flat - q * shape[a];
        flat = q;
      }
    };
    const me = new Int32Array(rank);
    for (let j = 0; j < lists.length; j++) {
      const l = lists[j];
      fill(sgm.targets[j] - first);
      me.set(idx);
      for (let t = 0; t < l.length; t++) {
        const p = l[t];
        if (p < first || p >= end) continue;
        fill(p - first);
        let found = false;
        for (let k = 0; k < ns && !found; k++) {
          let same = true;
          for (let a = 0; a < rank && same; a++) same = flatS[k * rank + a] === idx[a] - me[a];
          found = same;
        }
        if (!found) {
          if (ns >= MAXS) return null;
          for (let a = 0; a < rank; a++) flatS[ns * rank + a] = idx[a] - me[a];
          ns++;
        }
      }
    }
    let clipped = false;
    let clippedLate = false;
    for (let j = 0; j < lists.length; j++) {
      fill(sgm.targets[j] - first);
      let expect = 0;
      for (let k = 0; k < ns; k++) {
        let inside = true;
        let early = false;
        for (let a = 0; a < rank && inside; a++) {
          const x = idx[a] + flatS[k * rank + a];
          inside = x >= 0 && x < shape[a];
          early = x < 0;
        }
        if (inside) expect++;
        else {
          clipped = true;
          if (rank !== 1 || !early) clippedLate = true;
        }
      }
      const l = lists[j];
      let own = 0;
      for (let t = 0; t < l.length; t++) if (l[t] >= first && l[t] < end) own++;
      if (own !== expect) return null;
    }
    const S = Array.from({ length: ns }, (_, k) => Array.from(flatS.subarray(k * rank, k * rank + rank)));
    // Offsets as a reader expects: farthest first (x_{i−2}, x_{i−1}).
    S.sort((a, b) => {
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
      return 0;
    });
    const ax = this.axes(rank);
    // An axis the box fixes is a number: its offsets are numbers too, and those outside the shape are left out.
    const shift = (x: string, d: number) => (/^\d+$/.test(x) ? String(Number(x) + d) : offsetText(x, d));
    const inShape = (idx: string[], d: number[]) =>
      d.every((x, a) => !/^\d+$/.test(idx[a]) || (Number(idx[a]) + x >= 1 && Number(idx[a]) + x <= v.shape[a]));
    const genericAt = (idx: string[]) =>
      cond(
        sub(v.name, idx, style),
        [
          ...S.filter((d) => inShape(idx, d)).map((d) =>
            sub(
              v.name,
              d.map((x, a) => shift(idx[a], x)),
              style,
            ),
          ),
          ...others,
        ],
        style,
      );
    const generic = genericAt(ax);
    const dropped = note("parents outside the shape are dropped", style);
    if (rank === 1 && !clippedLate) {
      // Only the first elements lose parents: write them out when few.
      const reach = S.reduce((m, d) => Math.max(m, -d[0]), 0);
      const a = box.lo[0];
      const headEnd = Math.min(box.hi[0], reach);
      if (headEnd - a < 3) {
        const head: string[] = [];
        for (let i = a; i <= headEnd; i++) {
          const ps = S.filter((d) => i + d[0] >= 1).map((d) => sub(v.name, [String(i + d[0])], style));
          head.push(cond(sub(v.name, [String(i)], style), [...ps, ...others], style));
        }
        const start = Math.max(a, reach + 1);
        if (start > box.hi[0]) return head.join(" ");
        return [...head, this.boxProduct(v, { lo: [start], hi: box.hi }, generic)].join(" ");
      }
    }
    return this.boxProduct(v, box, genericAt) + (clipped ? dropped : "");
  }

  /** One term per element of the group when there are at most MAX_TERMS; else null. */
  private enumerate(targets: Int32Array, parentsOf: (e: number, j: number) => Int32Array): string | null {
    if (targets.length > MAX_TERMS) return null;
    return Array.from(targets, (e, j) =>
      cond(
        elementMath(this.ir.variables, e, this.style),
        contextMath(this.ir, parentsOf(e, j), this.style),
        this.style,
      ),
    ).join(" ");
  }

  /** Too many elements without a pattern: the set, and where to see each element's parents. */
  private summary(targets: Int32Array): string {
    const { style } = this;
    const set = elementsMath(this.ir.variables, targets, style);
    const n = targets.length;
    const body = cond("e", [style === "latex" ? "\\mathrm{pa}(e)" : "pa(e)"], style);
    const text = `${n} elements without a common pattern, more than ${MAX_TERMS} to write out: \`gm query\` or \`gm graph --pixel\` shows pa(e)`;
    return (style === "latex" ? `\\prod_{e \\in ${set}} ${body}` : `∏_{e ∈ ${set}} ${body}`) + note(text, style);
  }

  /**
   * The Row LSTM's receptive field (receptive.ts) as a formula, 1-based: pixel (r, c) given row r,
   * columns c − L … c − 1, and each row r − e above (1 ≤ e < r), columns c − e − L … min(c + e − 1,
   * W − 1); with C channels, also the pixel's earlier channels and channels 1 … C − 1 of column
   * min(c + e, W) of each row above.
   */
  private cone(d: Group, ctx: string[], s: { width: number; channels: number; reach: number }): string {
    const { style } = this;
    const v = variableOf(this.ir.variables, d.targets[0]);
    const { width: W, channels: C, reach: L } = s;
    const [r, c, k] = this.axes(v.shape.length);
    const e = r === "e" || c === "e" ? "f" : "e";
    const at = (row: string, col: string, ch?: string) =>
      sub(v.name, ch === undefined ? [row, col] : [row, col, ch], style);
    const all = C > 1 ? "*" : undefined;
    const span = (from: string, to: string) => (from === to ? from : `${from}..${to}`);
    const above = `${r}−${e}`;
    const range = style === "latex" ? `(1 \\le ${e} < ${r})` : `(1 ≤ ${e} < ${r})`;
    const parents = [
      at(r, span(`${c}−${L}`, `${c}−1`), all),
      `${at(above, `${c}−${e}−${L}..min(${c}+${e}−1, ${W - 1})`, all)} ${range}`,
    ];
    if (C > 1) parents.push(at(r, c, `<${k}`), `${at(above, `min(${c}+${e}, ${W})`, `<${C}`)} ${range}`);
    const head = C > 1 ? at(r, c, k) : at(r, c);
    const box = { lo: v.shape.map(() => 1), hi: [...v.shape] };
    return (
      this.boxProduct(v, box, cond(head, [...parents, ...ctx], style)) +
      note(
        `the Row LSTM's receptive field, ${L} layer${L === 1 ? "" : "s"}; columns outside 1..${W} are dropped`,
        style,
      )
    );
  }
}

/** Splits targets into runs of one variable. */
function segments(ir: ModelIR, targets: Int32Array): Segment[] {
  const out: Segment[] = [];
  let from = 0;
  while (from < targets.length) {
    const v = variableOf(ir.variables, targets[from]);
    let to = from + 1;
    while (to < targets.length && targets[to] >= v.offset && targets[to] < v.offset + v.size) to++;
    out.push({ v, from, targets: targets.subarray(from, to) });
    from = to;
  }
  return out;
}

/**
 * Visiting-order pattern over positions ja.. (one list per position, in order): every element at
 * position j has, among v's elements, exactly the positions max(lo, j − k)..j − 1, for one lo ≤ ja
 * and k (Infinity: every position from lo). Null otherwise.
 */
function orderWindow(v: VariableIR, ja: number, lists: Int32Array[]): { lo: number; k: number } | null {
  const first = v.offset;
  const end = v.offset + v.size;
  let lo = 0;
  let k = -1; // the window, once an element sees fewer than all of lo..j−1
  for (let i = 0; i < lists.length; i++) {
    const j = ja + i;
    const l = lists[i];
    let c = 0;
    for (let t = 0; t < l.length; t++) if (l[t] >= first && l[t] < end) c++;
    for (let t = 0; t < l.length; t++) {
      const p = l[t];
      if (p < first || p >= end) continue;
      const q = v.rank[p - first] + 1;
      if (q < j - c || q > j - 1) return null; // distinct positions in [j − c, j − 1]: a contiguous run
    }
    if (i === 0) lo = ja - c;
    else if (k < 0) {
      if (c !== j - lo) {
        // The window starts binding here: every earlier element saw all of lo..j−1, fewer than c.
        if (c > j - lo || j - 1 - lo > c) return null;
        k = c;
      }
    } else if (c !== Math.min(j - lo, k)) return null;
  }
  return { lo, k: k < 0 ? Infinity : k };
}

/** One derivation step: `p(x[5] | x[1..4]) → p(x[5] | x[4]) by \`assume …\` at line 7`. */
export function derivationStep(ir: ModelIR, s: DerivationStep): string {
  const e = elementName(ir.variables, s.element);
  const before = s.before.length ? `p(${e} | ${formatElements(ir.variables, s.before)})` : `p(${e})`;
  const after = s.after.length ? `p(${e} | ${formatElements(ir.variables, s.after)})` : `p(${e})`;
  return `${before} → ${after}   by \`${s.by}\` at line ${s.span.start.line}`;
}
