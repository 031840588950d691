/**
 * The printed factorization (src/compiler/notation.ts) says exactly what the compiled graph says.
 *
 * - Property: for random models written as text (whole-variable families, one-by-one conditionals
 *   with `table`, `logistic` and `mlp` under `for`, `chain` pruned by `assume`, conditions on
 *   other variables, several targets, orders, latent decoders and encoders, generators,
 *   mixtures), `readBack` evaluates the printed text — products, index arithmetic, order
 *   positions `x_(j)`, ranges — into a parent set per element, and each element is printed once
 *   with exactly its graph parents.
 *   Planted bug (how it was shown to fail): merged one-element `mlp` factors printed as
 *   `p(x[2..5])`, the conditions dropped (the bug of `gm factor` this file was written for);
 *   the property failed after 15 runs, shrunk to a VAE with a scalar x: "x: printed parents []
 *   but the graph has [z[1]]". A second plant, orderRun's head of a window ending one position
 *   early (`lo + k − 2`), failed on `p(y) = markov(k = 1)` over a [2, 2, 2] array: "y[1, 1, 1]
 *   printed 0 times in p(x, y) = p(x₁) · ∏_{j=2}^{8} p(y_(j) | y_(j−1))". A third, LaTeX names
 *   unescaped, failed KaTeX on a variable `im_g` after 27 runs: "Double subscript … p(im_g_{1})".
 *   A fourth, a folded run of repeated statements one term short (`base + (j − i) − 2`), failed
 *   at once on `for r in 2..4: p(x[r, *]) = joint`: "x[4, 1] printed 0 times".
 * - Symbolic and bounded: a chain, markov, independent, joint over 1000×1000 prints from the
 *   structure without walking an edge (ElementGraph's parent walks are counted: zero).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import katex from "katex";
import { ElementGraph } from "../../src/compiler/graph.js";
import type { ModelIR, VariableIR } from "../../src/compiler/ir.js";
import { elementName, flatten } from "../../src/compiler/elements.js";
import { encoderMath, factorization, MAX_TERMS } from "../../src/compiler/notation.js";
import { graphOf, onlyModel } from "./helpers.js";

const RUNS = (n: number) => Number(process.env.GM_PROPERTY_RUNS ?? n);

// ---------------------------------------------------------------------------------------------
// Reading the printed text back

const SUBS = "₀₁₂₃₄₅₆₇₈₉";

interface ReadBack {
  /** Printed parents of each element (by element id). */
  parents: Map<number, Set<number>>;
  /** Elements printed with several others in one head (a joint table): parents outside the head. */
  jointHeads: Array<{ head: Set<number>; given: Set<number> }>;
  /** How often each element was printed as a target. */
  printed: Map<number, number>;
  notes: string[];
  /** Elements printed in the summary `∏_{e ∈ …} p(e | pa(e))` (parents not written out). */
  summarized: Set<number>;
}

/** Index of the bracket closing the one at `open`. */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const ch = s[i];
    if (ch === "(" || ch === "{" || ch === "[") depth++;
    else if (ch === ")" || ch === "}" || ch === "]") {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new Error(`unclosed bracket at ${open} in ${s}`);
}

/** Splits at top-level occurrences of `sep`. */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "(" || ch === "{" || ch === "[") depth++;
    else if (ch === ")" || ch === "}" || ch === "]") depth--;
    else if (depth === 0 && s.startsWith(sep, i)) {
      out.push(s.slice(from, i));
      from = i + sep.length;
      i += sep.length - 1;
    }
  }
  out.push(s.slice(from));
  return out;
}

/** Reads the unicode factorization of `ir` back into parent sets. */
function readBack(ir: ModelIR, text: string): ReadBack {
  const rb: ReadBack = { parents: new Map(), jointHeads: [], printed: new Map(), notes: [], summarized: new Set() };
  const eq = text.indexOf(" = ");
  const body = text.slice(eq + 3);
  const env = new Map<string, number>();
  const elEnv = new Map<string, number>();
  const symbols = new Map<string, number>();
  for (const [k, v] of ir.constants) symbols.set(k, Number(v));
  for (const v of ir.variables) v.shapeText.forEach((t, a) => symbols.set(t, v.shape[a]));

  const num = (e: string): number => {
    // Sums and differences of integers, bound letters and constants: `c−e−2`, `i+1`.
    const parts = e.replace(/−/g, "-").match(/[+-]?[^+-]+/g) ?? [];
    let total = 0;
    for (const p of parts) {
      const sign = p.startsWith("-") ? -1 : 1;
      const t = p.replace(/^[+-]/, "").trim();
      const val = /^\d+$/.test(t) ? Number(t) : (env.get(t) ?? symbols.get(t));
      if (val === undefined) throw new Error(`unbound ${t} in ${e}`);
      total += sign * val;
    }
    return total;
  };
  /** Values of one axis: `*`, `a..b`, `<i`, or one index. */
  const axis = (t: string, size: number): number[] => {
    if (t === "*") return Array.from({ length: size }, (_, i) => i + 1);
    if (t.startsWith("<")) return Array.from({ length: num(t.slice(1)) - 1 }, (_, i) => i + 1);
    const r = t.split("..");
    if (r.length === 2) {
      const out: number[] = [];
      for (let i = num(r[0]); i <= num(r[1]); i++) out.push(i);
      return out;
    }
    return [num(t)];
  };
  const varFor = (s: string): { v: VariableIR; rest: string } => {
    const byLength = [...ir.variables].sort((a, b) => b.name.length - a.name.length);
    for (const v of byLength)
      if (s.startsWith(v.name) && /^($|_|\[|[₀-₉])/.test(s.slice(v.name.length)))
        return { v, rest: s.slice(v.name.length) };
    throw new Error(`no variable in "${s}"`);
  };
  /** Elements an expression names; `clip` drops indices outside the shape (parents), else they throw. */
  const elements = (s: string, clip: boolean): number[] => {
    s = s.trim();
    if (elEnv.has(s)) return [elEnv.get(s)!];
    const { v, rest } = varFor(s);
    if (rest === "") return Array.from({ length: v.size }, (_, i) => v.offset + i);
    let axes: string[];
    if (/^[₀-₉]+$/.test(rest)) axes = [String(Number([...rest].map((d) => SUBS.indexOf(d)).join("")))];
    else if (rest.startsWith("_{(")) {
      // Positions in v's order: (j), (<j), (a..b).
      const inner = rest.slice(3, rest.length - 2);
      const pos = axis(inner, v.size).filter((j) => (clip ? j >= 1 && j <= v.size : true));
      return pos.map((j) => {
        if (j < 1 || j > v.size) throw new Error(`position ${j} outside ${v.name}`);
        return v.offset + v.visit[j - 1];
      });
    } else if (rest.startsWith("_{")) axes = splitTop(rest.slice(2, -1), ",");
    else if (rest.startsWith("_")) axes = [rest.slice(1)];
    else if (rest.startsWith("[")) axes = splitTop(rest.slice(1, -1), ", ").map((a) => a.trim());
    else throw new Error(`cannot read "${s}"`);
    expect(axes.length).toBe(v.shape.length);
    let tuples: number[][] = [[]];
    axes.forEach((a, k) => {
      const vals = axis(a, v.shape[k]);
      tuples = tuples.flatMap((t) => vals.map((x) => [...t, x]));
    });
    const out: number[] = [];
    for (const t of tuples) {
      const inside = t.every((x, k) => x >= 1 && x <= v.shape[k]);
      if (!inside) {
        if (clip) continue;
        throw new Error(`${s} names ${v.name}[${t.join(", ")}] outside the shape`);
      }
      out.push(v.offset + flatten(v.shape, t));
    }
    return out;
  };
  const record = (head: string, given: string) => {
    const targets = splitTop(head, ", ").flatMap((h) => elements(h, false));
    const pa = /^pa\((\w+)\)$/.exec(given.trim());
    if (pa && elEnv.has(pa[1])) {
      // The summary: each element's parents are pa(e) by definition; expectTrue checks when it may be used.
      for (const t of targets) {
        rb.printed.set(t, (rb.printed.get(t) ?? 0) + 1);
        rb.summarized.add(t);
      }
      return;
    }
    const ps = new Set(given ? splitTop(given, ", ").flatMap((g) => elements(g, true)) : []);
    for (const t of targets) rb.printed.set(t, (rb.printed.get(t) ?? 0) + 1);
    if (targets.length === 1) rb.parents.set(targets[0], ps);
    else rb.jointHeads.push({ head: new Set(targets), given: ps });
  };
  /** Reads one term at `i`: a product, a conditional or a point mass; returns where it ends. */
  const term = (s: string, i: number): number => {
    if (s.startsWith("∏_{", i)) {
      const close = closing(s, i + 2);
      const bind = s.slice(i + 3, close);
      if (bind.includes(" ∈ ")) {
        const [name, set] = bind.split(" ∈ ");
        const els = splitTop(set, ", ").flatMap((x) => elements(x, false));
        let end = i;
        for (const e of els) {
          elEnv.set(name, e);
          end = term(s, close + 2);
        }
        elEnv.delete(name);
        return els.length ? end : skipTerm(s, close + 2);
      }
      const [name, lo] = bind.split("=");
      expect(s[close + 1]).toBe("^");
      const hiClose = closing(s, close + 2);
      const from = num(lo);
      const to = num(s.slice(close + 3, hiClose));
      let end = hiClose + 2;
      if (to < from) return skipTerm(s, hiClose + 2);
      for (let x = from; x <= to; x++) {
        env.set(name, x);
        end = term(s, hiClose + 2);
      }
      env.delete(name);
      return end;
    }
    if (s.startsWith("p(", i)) {
      const close = closing(s, i + 1);
      const [head, given] = splitTop(s.slice(i + 2, close), " | ");
      record(head, given ?? "");
      return close + 1;
    }
    if (s.startsWith("δ(", i)) {
      const close = closing(s, i + 1);
      const [head, g] = s.slice(i + 2, close).split(" − G(");
      record(head, g.slice(0, -1));
      return close + 1;
    }
    throw new Error(`unexpected text at ${i}: "${s.slice(i, i + 30)}"`);
  };
  const skipTerm = (s: string, i: number): number => {
    while (s.startsWith("∏_{", i)) {
      const c = closing(s, i + 2);
      i = s[c + 1] === "^" ? closing(s, c + 2) + 2 : c + 2;
    }
    return closing(s, i + 1) + 1;
  };
  let i = 0;
  while (i < body.length) {
    if (body[i] === " " || body[i] === "·") i++;
    else if (body[i] === "(") {
      const close = closing(body, i);
      rb.notes.push(body.slice(i + 1, close));
      i = close + 1;
    } else i = term(body, i);
  }
  return rb;
}

/** Every element printed once, with exactly its graph parents. */
function expectTrue(ir: ModelIR, text: string): void {
  const rb = readBack(ir, text);
  const g = graphOf(ir);
  const name = (e: number) => elementName(ir.variables, e);
  const names = (s: Iterable<number>) =>
    `[${[...s]
      .sort((a, b) => a - b)
      .map(name)
      .join(", ")}]`;
  for (let e = 0; e < ir.n; e++) {
    if (ir.factorOf[e] < 0) continue;
    expect(rb.printed.get(e) ?? 0, `${name(e)} printed ${rb.printed.get(e) ?? 0} times in\n${text}`).toBe(1);
  }
  for (const [e, ps] of rb.parents) {
    const want = new Set(g.parents(e));
    expect(names(ps), `${name(e)}: printed parents ${names(ps)} but the graph has ${names(want)}\n${text}`).toBe(
      names(want),
    );
  }
  for (const { head, given } of rb.jointHeads)
    for (const t of head) {
      const outside = [...g.parents(t)].filter((p) => !head.has(p));
      expect(names(given), `${name(t)} in a joint head\n${text}`).toBe(names(outside));
    }
  // The summary only where docs/language.md says: a group of more than 24 elements without a
  // pattern (e.g. a markov window across two variables), with a note saying so.
  if (rb.summarized.size) {
    expect(rb.summarized.size, text).toBeGreaterThan(24);
    expect(
      rb.notes.some((n) => n.includes("without a common pattern")),
      text,
    ).toBe(true);
  } else expect(text).not.toContain("pa(e)");
}

// ---------------------------------------------------------------------------------------------
// Random models as text

interface Var {
  name: string;
  shape: number[];
  dom: string;
}

const size = (v: Var) => v.shape.reduce((a, b) => a * b, 1);
const ref = (v: Var, flat: number) => {
  if (v.shape.length === 0) return v.name;
  const idx: number[] = [];
  let f = flat;
  for (let a = v.shape.length - 1; a >= 0; a--) {
    idx[a] = (f % v.shape[a]) + 1;
    f = Math.floor(f / v.shape[a]);
  }
  return `${v.name}[${idx.join(", ")}]`;
};

/** One observed variable's statements, given the variables declared before it. */
function varStatements(v: Var, before: Var[], pick: (n: number) => number): string[] {
  const n = size(v);
  const cond = before.length && pick(2) ? ` | ${before.map((b) => b.name).join(", ")}` : "";
  const bern = v.dom === "Bernoulli";
  const hidden = `mlp(hidden = [${1 + pick(3)}])`;
  switch (pick(10)) {
    case 0:
      return [`p(${v.name}${cond}) = ${["chain", "independent", "joint", "logistic"][pick(4)]}`];
    case 1:
      return [`p(${v.name}${cond}) = markov(k = ${1 + pick(3)})`];
    case 2:
      return [`p(${v.name}${cond}) = ${bern ? "nade(hidden = 2)" : "chain"}`];
    case 3:
      return cond ? [`p(${v.name}${cond}) = ${hidden}`] : [`p(${v.name}) = independent`];
    case 4: {
      // One conditional per element, parents drawn among earlier elements (flat order) and other variables.
      const out: string[] = [];
      for (let f = 0; f < n; f++) {
        const ps: string[] = [];
        for (let q = 0; q < f; q++) if (pick(3) === 0 || (q === f - 1 && pick(2))) ps.push(ref(v, q));
        for (const b of before) if (pick(4) === 0) ps.push(pick(2) ? b.name : ref(b, pick(size(b))));
        const fam = ps.length ? ["table", "logistic", hidden][pick(3)] : ["table", "logistic"][pick(2)];
        out.push(`p(${ref(v, f)}${ps.length ? ` | ${ps.join(", ")}` : ""}) = ${fam}`);
      }
      return out;
    }
    case 5: {
      if (v.shape.length !== 1) return [`p(${v.name}) = chain`];
      // The shape of the reported bug: a first element, then a `for` over the rest.
      const k = 1 + pick(2);
      const ps = Array.from({ length: k }, (_, d) => `x[i-${d + 1}]`.replace("x", v.name)).join(", ");
      const fam = ["table", "logistic", hidden][pick(3)];
      return [`p(${v.name}[1]) = table`, `for i in 2..${v.shape[0]}: p(${v.name}[i] | ${ps}) = ${fam}`];
    }
    case 6: {
      // chain pruned by assume: element f loses some predecessors in flat (raster) order.
      const out = [`p(${v.name}) = chain`];
      for (let f = 2; f < n; f++) {
        if (pick(2)) continue;
        const b: string[] = [];
        const c: string[] = [];
        for (let q = 0; q < f; q++) (pick(2) ? b : c).push(ref(v, q));
        if (b.length) out.push(`assume ${ref(v, f)} ⊥ ${b.join(", ")}${c.length ? ` | ${c.join(", ")}` : ""}`);
      }
      return out;
    }
    case 7: {
      if (v.shape.length !== 1 || n < 3) return [`p(${v.name}${cond}) = independent`];
      // Part of a variable under one family, the rest one by one.
      const cut = 1 + pick(n - 1);
      return [
        `p(${v.name}[1..${cut}]${cond}) = ${["chain", "markov(k = 1)", "independent", "joint"][pick(4)]}`,
        `for i in ${cut + 1}..${n}: p(${v.name}[i] | ${v.name}[i-1]) = ${["table", hidden][pick(2)]}`,
      ];
    }
    case 8: {
      if (v.shape.length !== 2) return [`p(${v.name}${cond}) = independent`];
      // Rows under `for`, each given the row before: printed as one product when there are 3 or more.
      const fam = () => ["joint", "independent", "chain", "markov(k = 1)"][pick(4)];
      const given = pick(2) ? ` | ${v.name}[r-1, *]` : "";
      return [`p(${v.name}[1, *]) = ${fam()}`, `for r in 2..${v.shape[0]}: p(${v.name}[r, *]${given}) = ${fam()}`];
    }
    default:
      return [`p(${v.name}${cond}) = independent`];
  }
}

const modelArb = fc
  .record({
    seeds: fc.array(fc.integer({ min: 0, max: 1 << 30 }), { minLength: 64, maxLength: 64 }),
    kind: fc.integer({ min: 0, max: 5 }),
  })
  .map(({ seeds, kind }) => {
    let at = 0;
    const pick = (n: number) => (n <= 1 ? 0 : seeds[at++ % seeds.length] % n);
    const shapes = [[], [1 + pick(6)], [1 + pick(5), 1 + pick(4)], [2, 2, 2], [7]];
    const orders = ["raster", "column", "snake", "zigzag", "index", "random(seed = 3)"];
    const lines: string[] = [];
    const vars: Var[] = [];
    const count = 1 + pick(4);
    for (let j = 0; j < count; j++) {
      const v: Var = {
        name: ["x", "y", "c", "im_g"][j],
        shape: shapes[pick(shapes.length)],
        dom: pick(2) ? "Bernoulli" : `Categorical(${2 + pick(2)})`,
      };
      lines.push(`${v.name} : ${v.dom}${v.shape.length ? `[${v.shape.join(", ")}]` : ""}`);
      const stmts = varStatements(v, vars, pick);
      // Orders change nothing for statements naming elements: only where a family visits the variable.
      if (v.shape.length && !stmts.some((s) => s.startsWith("assume")) && pick(2))
        lines.push(`order ${v.name} ${orders[pick(orders.length)]}`);
      lines.push(...stmts);
      vars.push(v);
    }
    if (kind === 1 && vars.length >= 2) {
      // Several variables under one family.
      const [a, b] = vars;
      const keep = lines.filter((l) => !l.startsWith("p(") && !l.startsWith("for") && !l.startsWith("assume"));
      const rest = vars.slice(2).map((v) => `p(${v.name}) = independent`);
      return `model M {\n  ${[...keep, `p(${a.name}, ${b.name}) = ${["chain", "independent", "joint", "markov(k = 2)"][pick(4)]}`, ...rest].join("\n  ")}\n}\n`;
    }
    if (kind === 2) {
      const d = 1 + pick(3);
      const x = vars[0];
      const det = pick(2) === 0;
      return `model M {\n  latent z : Normal[${d}]\n  ${x.name} : Bernoulli${x.shape.length ? `[${x.shape.join(", ")}]` : ""}\n  p(${x.name} | z) = mlp(hidden = [3])\n  q(z | ${x.name}) = mlp(hidden = [3]${det ? ", deterministic" : ""})\n  fit ${det ? "reconstruction + adversarial(on = z, critic = mlp(hidden = [2]))" : "elbo"}\n}\n`;
    }
    if (kind === 3)
      return `model M {\n  latent z : Normal[${1 + pick(3)}]\n  x : Real(0, 1)[${1 + pick(3)}, 2]\n  x = generator(z) by mlp(hidden = [3])\n  fit adversarial(critic = mlp(hidden = [2]))\n}\n`;
    if (kind === 5) {
      // Rows under `for`: folded into one product when 3 or more print alike.
      const v: Var = { name: "x", shape: [3 + pick(4), 1 + pick(4)], dom: "Bernoulli" };
      const fams = ["joint", "independent", "chain", "markov(k = 1)"];
      const rows = [`x : Bernoulli[${v.shape.join(", ")}]`, `p(x[1, *]) = ${fams[pick(4)]}`];
      const fam = fams[pick(4)];
      const given = pick(2) ? " | x[r-1, *]" : "";
      rows.push(`for r in 2..${v.shape[0]}: p(x[r, *]${given}) = ${fam}`);
      return `model M {\n  ${rows.join("\n  ")}\n}\n`;
    }
    if (kind === 4) {
      const n = 1 + pick(6);
      return `model M {\n  latent c : Categorical(3)\n  x : Bernoulli[${n}]\n  p(c) = table\n  for i in 1..${n}: p(x[i] | c) = table\n  fit likelihood\n}\n`;
    }
    return `model M {\n  ${lines.join("\n  ")}\n}\n`;
  });

describe("the printed factorization conditions on exactly the graph's parents", () => {
  it("random models (whole variables, one by one, assume, several targets, latent, generators, mixtures)", () => {
    fc.assert(
      fc.property(modelArb, (text) => {
        const ir = onlyModel(text);
        expectTrue(ir, factorization(ir));
        // The playground renders the LaTeX with KaTeX: it must parse (underscores in names escaped).
        katex.renderToString(factorization(ir, "latex"), { throwOnError: true });
        const q = encoderMath(ir, "latex");
        if (q) katex.renderToString(q, { throwOnError: true });
      }),
      { numRuns: RUNS(300) },
    );
  });

  it("a markov window across two variables (32 elements): the summary, with its note (seed -793425793)", () => {
    const ir = onlyModel(
      "model M {\n  x : Categorical(2)[4, 4]\n  order x raster\n  y : Categorical(2)[4, 4]\n  order y raster\n  p(x, y) = markov(k = 2)\n}\n",
    );
    const text = factorization(ir);
    expect(text).toContain("p(e | pa(e))");
    expectTrue(ir, text);
  });

  it("the reported case: a table then mlp conditionals under `for`", () => {
    const ir = onlyModel(
      "model M {\n  x : Bernoulli[5]\n  p(x[1]) = table\n  for i in 2..5: p(x[i] | x[i-1]) = mlp(hidden = [4])\n}\n",
    );
    expect(factorization(ir)).toBe("p(x) = p(x₁) ∏_{i=2}^{5} p(x_i | x_{i−1})");
    expect(factorization(ir, "latex")).toBe("p(x) = p(x_{1}) \\prod_{i=2}^{5} p(x_{i} \\mid x_{i-1})");
    const two = onlyModel(
      "model M {\n  x : Bernoulli[3]\n  p(x[1]) = table\n  p(x[2] | x[1]) = mlp(hidden = [4])\n  p(x[3] | x[1], x[2]) = mlp(hidden = [4])\n}\n",
    );
    expect(factorization(two)).toBe("p(x) = ∏_{i=1}^{3} p(x_i | x_{<i})");
    expectTrue(two, factorization(two));
  });

  it("encoders print what they condition on: Gaussian q(z | x) factorizes over z, a deterministic one is a point mass", () => {
    const vae = onlyModel(
      "model V {\n  latent z : Normal[4]\n  x : Bernoulli[3, 3]\n  p(x | z) = mlp(hidden = [8])\n  q(z | x) = mlp(hidden = [8])\n  fit elbo\n}\n",
    );
    expect(encoderMath(vae)).toBe("q(z | x) = ∏_{i=1}^{4} q(z_i | x)");
    expect(encoderMath(vae, "latex")).toBe("q(z \\mid x) = \\prod_{i=1}^{4} q(z_{i} \\mid x)");
    const aae = onlyModel(
      "model A {\n  latent z : Normal[2]\n  x : Bernoulli[4]\n  p(x | z) = mlp(hidden = [8])\n  q(z | x) = mlp(hidden = [8], deterministic)\n  fit reconstruction + adversarial(on = z, critic = mlp(hidden = [4]))\n}\n",
    );
    expect(encoderMath(aae)).toBe("q(z | x) = δ(z − E(x))");
    expect(encoderMath(onlyModel("model M {\n  x : Bernoulli[2]\n  p(x) = chain\n}\n"))).toBeNull();
  });

  it("index letters never take a variable's name (a latent `c` beside an image)", () => {
    const ir = onlyModel(
      "model M {\n  latent c : Categorical(3)\n  x : Bernoulli[2, 2]\n  p(c) = table\n  p(x | c) = independent\n}\n",
    );
    const text = factorization(ir);
    expect(text).toBe("p(c, x) = p(c) · ∏_{u=1}^{2} ∏_{v=1}^{2} p(x_{u,v} | c)");
    expectTrue(ir, text);
  });

  it("the Row LSTM's receptive field as a formula", () => {
    const ir = onlyModel(
      "model P {\n  x : Bernoulli[4, 5]\n  p(x) = pixelrnn(kind = row_lstm, hidden = 4, layers = 2)\n}\n",
    );
    expect(factorization(ir)).toBe(
      "p(x) = ∏_{r=1}^{4} ∏_{c=1}^{5} p(x_{r,c} | x_{r,c−2..c−1}, x_{r−e,c−e−2..min(c+e−1, 4)} (1 ≤ e < r))" +
        "   (the Row LSTM's receptive field, 2 layers; columns outside 1..5 are dropped)",
    );
    katex.renderToString(factorization(ir, "latex"), { throwOnError: true });
  });

  it("many elements without a pattern are summarized, and say so", () => {
    const n = MAX_TERMS + 6;
    const lines = [`x : Bernoulli[${n}]`, "p(x[1]) = table"];
    for (let i = 2; i <= n; i++) lines.push(`p(x[${i}] | x[${i % 2 ? 1 : i - 1}]) = table`);
    const ir = onlyModel(`model M {\n  ${lines.join("\n  ")}\n}\n`);
    const text = factorization(ir);
    expect(text).toContain("∏_{e ∈ x} p(e | pa(e))");
    expect(text).toContain(`${n} elements without a common pattern`);
    katex.renderToString(factorization(ir, "latex"), { throwOnError: true });
  });
});

// ---------------------------------------------------------------------------------------------
// Symbolic printing: no edge is walked for structured factors

describe("printing is symbolic where a closed form exists", () => {
  const SHAPES = "1000, 1000";
  const cases: Array<[string, string, string]> = [
    ["chain", `p(x) = chain`, "p(x) = ∏_{j=1}^{1000000} p(x_{(j)} | x_{(<j)})"],
    ["markov", `p(x) = markov(k = 1)`, "p(x) = p(x_{(1)}) ∏_{j=2}^{1000000} p(x_{(j)} | x_{(j−1)})"],
    ["markov(k = 5)", `p(x) = markov(k = 5)`, "p(x) = ∏_{j=1}^{5} p(x_{(j)} | x_{(<j)}) ∏_{j=6}^{1000000}"],
    ["independent", `p(x) = independent`, "p(x) = ∏_{r=1}^{1000} ∏_{c=1}^{1000} p(x_{r,c})"],
    ["joint", `p(x) = joint`, "p(x) = p(x)"],
    ["nade", `p(x) = nade(hidden = 2)`, "p(x) = ∏_{j=1}^{1000000} p(x_{(j)} | x_{(<j)})"],
  ];
  it.each(cases)("%s over 1000×1000 walks no parent list", (_, stmt, start) => {
    const ir = onlyModel(`model M {\n  x : Bernoulli[${SHAPES}]\n  ${stmt}\n}\n`);
    const proto = ElementGraph.prototype;
    const walk = proto.forEachParent;
    const list = proto.parents;
    let calls = 0;
    proto.forEachParent = function (this: ElementGraph, ...a: Parameters<typeof walk>) {
      calls++;
      return walk.apply(this, a);
    };
    proto.parents = function (this: ElementGraph, ...a: Parameters<typeof list>) {
      calls++;
      return list.apply(this, a);
    };
    try {
      expect(factorization(ir).startsWith(start)).toBe(true);
      expect(factorization(ir, "latex").length).toBeLessThan(300);
    } finally {
      proto.forEachParent = walk;
      proto.parents = list;
    }
    expect(calls).toBe(0);
  });

  it("a 2-D causal neighbourhood stated by assume prints as a product", () => {
    const ir = onlyModel(
      "model C {\n  const n = 24\n  x : Bernoulli[n, n]\n  p(x) = chain\n  assume for r in 1..n, c in 1..n: x[r, c] ⊥ x[1..r-2, *], x[r-1, 1..c-2], x[r-1, c+2..n], x[r, 1..c-2] | x[r-1, c-1..c+1], x[r, c-1]\n}\n",
    );
    expect(factorization(ir)).toBe(
      "p(x) = ∏_{r=1}^{n} ∏_{c=1}^{n} p(x_{r,c} | x_{r−1,c−1}, x_{r−1,c}, x_{r−1,c+1}, x_{r,c−1})   (parents outside the shape are dropped)",
    );
    expectTrue(ir, factorization(ir));
  });
});
