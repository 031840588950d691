/**
 * The factorization in mathematical notation for `gm factor`: indexed families collapse into
 * products (`p(x) = p(x₁) ∏_{i=2}^{n} p(x_i | x_{i−1})`), keeping the symbols the user wrote
 * for the shape. Patterns are found from the compiled graph, not from the source, so a chain
 * pruned by `assume` prints the same as `markov(k = 1)`.
 */
import { elementName, formatElements, unflatten, variableOf } from "./elements";
import { ElementGraph } from "./graph";
import type { DerivationStep, FactorIR, ModelIR, VariableIR } from "./ir";

/** Unicode or LaTeX. */
export type Style = "unicode" | "latex";

const SUB_DIGITS = "₀₁₂₃₄₅₆₇₈₉";
const AXIS_VARS = [["i"], ["r", "c"], ["r", "c", "k"]];

function axisVars(rank: number): string[] {
  return AXIS_VARS[rank - 1] ?? Array.from({ length: rank }, (_, a) => `i${a + 1}`);
}

/** `x₁`, `x_i`, `x_{i−1}`, `x_{r,c−1}` (LaTeX: `x_{1}`, `x_{i-1}`). */
function sub(name: string, parts: string[], style: Style): string {
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

function cond(target: string, parents: string[], style: Style): string {
  if (parents.length === 0) return `p(${target})`;
  return `p(${target} ${style === "latex" ? "\\mid" : "|"} ${parents.join(", ")})`;
}

function prod(lo: string, hi: string, v: string, body: string, style: Style): string {
  return style === "latex" ? `\\prod_{${v}=${lo}}^{${hi}} ${body}` : `∏_{${v}=${lo}}^{${hi}} ${body}`;
}

/** Name of a single element in math notation. */
function elementMath(vars: readonly VariableIR[], e: number, style: Style): string {
  const v = variableOf(vars, e);
  if (v.shape.length === 0) return v.name;
  return sub(v.name, unflatten(v.shape, e - v.offset).map(String), style);
}

/** A set of context elements: whole variables by name, else element names. */
function contextMath(ir: ModelIR, ctx: Int32Array, style: Style): string[] {
  if (ctx.length === 0) return [];
  const byVar = new Map<VariableIR, number>();
  for (const e of ctx) {
    const v = variableOf(ir.variables, e);
    byVar.set(v, (byVar.get(v) ?? 0) + 1);
  }
  const out: string[] = [];
  for (const [v, count] of byVar) {
    if (count === v.size) out.push(v.name);
    else for (const e of ctx) if (variableOf(ir.variables, e) === v) out.push(elementMath(ir.variables, e, style));
  }
  return out;
}

/**
 * Factors as a reader groups them: one-element factors stated one by one (`for …: p(x[i] | …) =
 * table`) merge per variable and family, so they print as one product.
 */
export function displayGroups(ir: ModelIR): FactorIR[] {
  const out: FactorIR[] = [];
  const merged = new Map<string, { base: FactorIR; targets: number[] }>();
  for (const f of ir.factors) {
    if (f.targets.length === 1 && (f.family === "table" || f.family === "mlp" || f.family === "logistic")) {
      const v = variableOf(ir.variables, f.targets[0]);
      const key = `${v.name}/${f.family}`;
      const m = merged.get(key);
      if (m) m.targets.push(f.targets[0]);
      else {
        const entry = { base: f, targets: [f.targets[0]] };
        merged.set(key, entry);
        out.push(f);
      }
      continue;
    }
    out.push(f);
  }
  return out.map((f) => {
    const m =
      f.targets.length === 1 ? merged.get(`${variableOf(ir.variables, f.targets[0]).name}/${f.family}`) : undefined;
    if (!m || m.base !== f || m.targets.length === 1) return f;
    const v = variableOf(ir.variables, f.targets[0]);
    const targets = Int32Array.from(m.targets).sort((a, b) => v.rank[a - v.offset] - v.rank[b - v.offset]);
    return { ...f, targets, context: new Int32Array(0), structure: { kind: "none" } as const };
  });
}

/** The whole factorization of a model: `p(x, z) = p(z) ∏ … `, priors of latent variables first. */
export function factorization(ir: ModelIR, style: Style = "unicode"): string {
  const names = [...ir.variables.filter((v) => v.latent), ...ir.variables.filter((v) => !v.latent)]
    .map((v) => v.name)
    .join(", ");
  const groups = displayGroups(ir);
  const latentFirst = [
    ...groups.filter((f) => variableOf(ir.variables, f.targets[0]).latent),
    ...groups.filter((f) => !variableOf(ir.variables, f.targets[0]).latent),
  ];
  const terms = latentFirst.map((f) => factorMath(ir, f, style));
  return `p(${names}) = ${terms.join(style === "latex" ? " \\cdot " : " · ")}`;
}

/** One factor group in notation. */
export function factorMath(ir: ModelIR, f: FactorIR, style: Style = "unicode"): string {
  const vars = ir.variables;
  const targetVars = [...new Set(Array.from(f.targets, (e) => variableOf(vars, e)))];
  const ctx = contextMath(ir, f.context, style);
  const wholeVars = targetVars.every(
    (v) => Array.from(f.targets).filter((e) => variableOf(vars, e) === v).length === v.size,
  );
  const headName = wholeVars ? targetVars.map((v) => v.name).join(", ") : formatElements(vars, f.targets);
  switch (f.family) {
    case "joint":
    case "mixture": {
      const one = cond(headName, ctx, style);
      return f.targets.length > 1 && ctx.length === 0 && f.family === "joint"
        ? `${one}${style === "latex" ? "\\quad\\text{(one table: no factorization)}" : "   (one table over every outcome: no factorization)"}`
        : one;
    }
    case "normal":
    case "uniform":
      return (
        oneVarProduct(targetVars, (v, idx) => cond(sub(v.name, idx, style), ctx, style), style, f) ??
        cond(headName, ctx, style)
      );
    case "implicit":
      return style === "latex"
        ? `\\delta(${headName} - G(${ctx.join(", ")}))`
        : `δ(${headName} − G(${ctx.join(", ")}))`;
    case "mlp":
      return (
        oneVarProduct(targetVars, (v, idx) => cond(sub(v.name, idx, style), ctx, style), style, f) ??
        cond(headName, ctx, style)
      );
    default:
      return structured(ir, f, targetVars, ctx, style);
  }
}

/** `∏_{i=1}^{n} body(x_i)` over one whole variable, or null when the factor is not that. */
function oneVarProduct(
  targetVars: VariableIR[],
  body: (v: VariableIR, idx: string[]) => string,
  style: Style,
  f: FactorIR,
): string | null {
  if (targetVars.length !== 1) return null;
  const v = targetVars[0];
  if (f.targets.length !== v.size) return null;
  if (v.shape.length === 0) return body(v, []);
  const ax = axisVars(v.shape.length);
  let inner = body(v, ax);
  for (let a = v.shape.length - 1; a >= 0; a--)
    inner = prod("1", v.shapeText[a] ?? String(v.shape[a]), ax[a], inner, style);
  return inner;
}

/** Chain-rule families: find a pattern of parents in index space or in visiting order. */
function structured(ir: ModelIR, f: FactorIR, targetVars: VariableIR[], ctx: string[], style: Style): string {
  const vars = ir.variables;
  const g = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
  if (targetVars.length === 1 && f.targets.length === targetVars[0].size && targetVars[0].shape.length > 0) {
    const v = targetVars[0];
    // Variables are contiguous element ranges, so `variableOf(p) === v` is a range test.
    const lo = v.offset;
    const hi = v.offset + v.size;
    const forEachOwn = (e: number, fn: (p: number) => void) =>
      g.forEachParent(e, (p) => {
        if (p >= lo && p < hi) fn(p);
      });
    const own = (e: number) => {
      const out: number[] = [];
      forEachOwn(e, (p) => out.push(p));
      return out;
    };
    // Context of merged one-element factors differs per element; name other variables' parents only when shared.
    const others = (e: number) => {
      const out: number[] = [];
      g.forEachParent(e, (p) => {
        if (p < lo || p >= hi) out.push(p);
      });
      return out;
    };
    const shared = others(f.targets[0]);
    const sameOthers = Array.from(f.targets).every((e) => {
      const o = others(e);
      return o.length === shared.length && o.every((p, i) => p === shared[i]);
    });
    if (sameOthers) {
      const ctx2 = ctx.length ? ctx : contextMath(ir, Int32Array.from(shared), style);
      const plain1d = v.shape.length === 1 && (v.order.kind === "raster" || v.order.kind === "index");
      // 1-D arrays in index order read best with offsets (x_{i−1}); images with their order,
      // unless the parents form a fixed neighbourhood (explicit tables).
      const tries = plain1d
        ? [
            () => orderPattern(v, f, forEachOwn, ctx2, style, true),
            () => indexPattern(v, own, ctx2, style, ir, f),
            () => orderPattern(v, f, forEachOwn, ctx2, style),
          ]
        : [() => orderPattern(v, f, forEachOwn, ctx2, style), () => indexPattern(v, own, ctx2, style, ir, f)];
      for (const t of tries) {
        const r = t();
        if (r) return r;
      }
    }
  }
  // A few elements: one term each. More: name the parents symbolically.
  if (f.targets.length <= 12) {
    const g2 = new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
    return Array.from(f.targets, (e) =>
      cond(elementMath(vars, e, style), contextMath(ir, g2.parents(e), style), style),
    ).join(" ");
  }
  const label = formatElements(vars, f.targets);
  return `∏_{e ∈ ${label}} ${cond("e", ["pa(e)"], style)}`;
}

/**
 * Index-space pattern: a set S of offsets with pa(x[i]) = {x[i + δ] : δ ∈ S} ∩ shape for every
 * element. Elements whose parents are clipped by the border at the start of a 1-D array are
 * written out (`p(x₁) p(x₂ | x₁) ∏_{i=3}^{n} …`).
 */
function indexPattern(
  v: VariableIR,
  own: (e: number) => number[],
  ctx: string[],
  style: Style,
  ir: ModelIR,
  f: FactorIR,
): string | null {
  const rank = v.shape.length;
  const deltas = new Map<string, number[]>();
  const parentIdx: number[][][] = [];
  for (let flat = 0; flat < v.size; flat++) {
    const idx = unflatten(v.shape, flat);
    const ps = own(v.offset + flat).map((p) => unflatten(v.shape, p - v.offset));
    parentIdx.push(ps);
    for (const p of ps) {
      const d = p.map((x, a) => x - idx[a]);
      deltas.set(d.join(","), d);
    }
    if (deltas.size > 8) return null; // offsets only accumulate: no pattern of at most 8
  }
  // Context must be shared by every element (it is, for these families) — checked by construction.
  const S = [...deltas.values()];
  for (let flat = 0; flat < v.size; flat++) {
    const idx = unflatten(v.shape, flat);
    const expect = S.map((d) => d.map((x, a) => x + idx[a])).filter((p) =>
      p.every((x, a) => x >= 1 && x <= v.shape[a]),
    );
    const got = parentIdx[flat];
    if (expect.length !== got.length) return null;
    const set = new Set(got.map((p) => p.join(",")));
    if (!expect.every((p) => set.has(p.join(",")))) return null;
  }
  // Order offsets as a reader expects: farthest first (x_{i−2}, x_{i−1}).
  S.sort((a, b) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
  });
  const ax = axisVars(rank);
  const parentsAt = (d: number[]) =>
    sub(
      v.name,
      d.map((x, a) => offsetText(ax[a], x)),
      style,
    );
  const generic = cond(sub(v.name, ax, style), [...S.map(parentsAt), ...ctx], style);
  if (rank === 1) {
    const reach = S.reduce((m, d) => Math.max(m, -d[0]), 0);
    const head: string[] = [];
    for (let i = 1; i <= Math.min(reach, v.size); i++) {
      const ps = parentIdx[i - 1].map((p) => sub(v.name, [String(p[0])], style));
      head.push(cond(sub(v.name, [String(i)], style), [...ps, ...ctx], style));
    }
    if (reach >= v.size) return head.join(" ");
    const body = prod(String(reach + 1), v.shapeText[0] ?? String(v.shape[0]), "i", generic, style);
    return [...head, body].join(" ");
  }
  let inner = generic;
  for (let a = rank - 1; a >= 0; a--) inner = prod("1", v.shapeText[a] ?? String(v.shape[a]), ax[a], inner, style);
  const clipped =
    S.length > 0
      ? style === "latex"
        ? "\\quad\\text{(parents outside the shape are dropped)}"
        : "   (parents outside the shape are dropped)"
      : "";
  void ir;
  void f;
  return inner + clipped;
}

/**
 * Visiting-order pattern: every element given the k elements before it in the order (k = all of
 * them for the chain rule). Written with order positions, x_(j), unless the order is the index
 * order of a 1-D array.
 */
function orderPattern(
  v: VariableIR,
  f: FactorIR,
  forEachOwn: (e: number, fn: (p: number) => void) => void,
  ctx: string[],
  style: Style,
  onlyPrefix = false,
): string | null {
  const t = f.targets;
  const n = t.length;
  if (n < 3) return null;
  // Position in the factor of each element of v (the targets are v's elements, own parents too).
  const at = new Int32Array(v.size).fill(-1);
  t.forEach((e, j) => (at[e - v.offset] = j));
  const pos = {
    get: (e: number) =>
      e >= v.offset && e < v.offset + v.size && at[e - v.offset] >= 0 ? at[e - v.offset] : undefined,
  };
  let k = 0;
  let prefix = true;
  for (let j = 0; j < n; j++) {
    // Walked without listing: every own parent must come earlier in the factor.
    let count = 0;
    let before = true;
    forEachOwn(t[j], (p) => {
      const q = pos.get(p) ?? -1;
      if (q < 0 || q >= j) before = false;
      count++;
    });
    if (!before) return null;
    if (count !== j) prefix = false;
    k = Math.max(k, count);
  }
  if (onlyPrefix && !prefix) return null;
  if (k === 0 && v.shape.length > 1) return null; // independent pixels read better as ∏_r ∏_c
  for (let j = 0; j < n && !prefix; j++) {
    const ps = new Set<number>();
    forEachOwn(t[j], (p) => ps.add(pos.get(p)!));
    const want = Math.min(j, k);
    if (ps.size !== want) return null;
    for (let d = 1; d <= want; d++) if (!ps.has(j - d)) return null;
  }
  const plain = v.shape.length === 1 && (v.order.kind === "raster" || v.order.kind === "index");
  const name = (idx: string) => (plain ? sub(v.name, [idx], style) : sub(v.name, [`(${idx})`], style));
  const total = plain ? (v.shapeText[0] ?? String(v.size)) : String(v.size);
  const orderName = v.order.kind === "random" ? `random(seed = ${v.order.seed})` : v.order.kind;
  const note = plain
    ? ""
    : style === "latex"
      ? `\\quad\\text{(${orderName} order)}`
      : `   (x_(j) is the j-th element of ${v.name} in ${orderName} order)`;
  const jv = plain ? "i" : "j";
  if (prefix) return prod("1", total, jv, cond(name(jv), [name(`<${jv}`), ...ctx], style), style) + note;
  if (k === 0) return prod("1", total, jv, cond(name(jv), ctx, style), style) + note;
  const head: string[] = [];
  for (let j = 1; j <= k; j++)
    head.push(cond(name(String(j)), [...Array.from({ length: j - 1 }, (_, i) => name(String(i + 1))), ...ctx], style));
  const window =
    k <= 3
      ? Array.from({ length: k }, (_, i) => name(offsetText(jv, -(k - i))))
      : [name(`${offsetText(jv, -k)}..${offsetText(jv, -1)}`)];
  return [...head, prod(String(k + 1), total, jv, cond(name(jv), [...window, ...ctx], style), style)].join(" ") + note;
}

/** One derivation step: `p(x[5] | x[1..4]) → p(x[5] | x[4]) by \`assume …\` at line 7`. */
export function derivationStep(ir: ModelIR, s: DerivationStep): string {
  const e = elementName(ir.variables, s.element);
  const before = s.before.length ? `p(${e} | ${formatElements(ir.variables, s.before)})` : `p(${e})`;
  const after = s.after.length ? `p(${e} | ${formatElements(ir.variables, s.after)})` : `p(${e})`;
  return `${before} → ${after}   by \`${s.by}\` at line ${s.span.start.line}`;
}
