/**
 * Evaluating references (`x`, `x[i, j]`, `x[1..i-2]`, `x[*, c]`, `x[<i]`, `x[<(r, c)]`) to
 * sets of elements under a binding of loop variables (LANGUAGE.md §3).
 *
 * Out-of-shape indices depend on the role of the reference: naming a *child* (the target of
 * `p(…)`, the left side of `assume`) or anything in a `check` outside the shape is an error;
 * in a *parent* list (the conditioning side of `p(…)`, the right side of `assume`) such
 * elements are dropped — pixels past the border do not exist.
 */
import type * as A from "../dsl/ast";
import { DiagnosticBag } from "../dsl/diagnostics";
import { printExpr } from "../dsl/printer";
import { flatten } from "./elements";
import type { VariableIR } from "./ir";
import { suggest } from "./suggest";
import { evalExpr, evalSmallInt, formatNum, type Env } from "./values";

/** How out-of-shape indices are treated. */
export type RefRole = "child" | "parent" | "claim";

/** Variables in scope. */
export interface VarScope {
  readonly byName: ReadonlyMap<string, VariableIR>;
  readonly constants: { has(name: string): boolean };
}

/** Looks up a variable for a reference, reporting unknown names with a suggestion. */
export function resolveVariable(name: A.Ident, scope: VarScope, diags: DiagnosticBag): VariableIR | null {
  const v = scope.byName.get(name.name);
  if (v) return v;
  if (scope.constants.has(name.name)) {
    diags.error("E0211", `\`${name.name}\` is a constant, not a random variable`, name.span, {
      hint: constantAsVariableHint(name.name, scope.byName.keys().next().value),
    });
    return null;
  }
  const guess = suggest(name.name, scope.byName.keys());
  diags.error("E0201", `unknown random variable \`${name.name}\``, name.span, {
    hint: guess ? `did you mean \`${guess}\`?` : `declare it first, e.g. \`${name.name} : Bernoulli\``,
  });
  return null;
}

/**
 * The hint of E0211 (a constant where a random variable goes): index a variable with it, or
 * declare a random variable. `some` is a declared variable to show, if any.
 */
export function constantAsVariableHint(name: string, some: string | undefined): string {
  return some
    ? `\`p(…)\`, \`assume\` and \`check\` name random variables: use \`${name}\` as an index, e.g. \`${some}[${name}]\`, or declare a random variable, e.g. \`${name}_var : Bernoulli\``
    : `\`p(…)\`, \`assume\` and \`check\` name random variables: declare one, e.g. \`${name}_var : Bernoulli\``;
}

/** Elements (global ids) named by `ref`, in row-major order; null after reporting an error. */
export function evalRef(ref: A.Ref, scope: VarScope, env: Env, diags: DiagnosticBag, role: RefRole): Int32Array | null {
  const v = resolveVariable(ref.name, scope, diags);
  if (!v) return null;
  const sub = ref.subscript;
  if (!sub) return range(v.offset, v.size);
  const rank = v.shape.length;
  if (sub.kind === "Before") {
    if (sub.at.length > rank || rank === 0) {
      arity(ref, v, sub.at.length, diags);
      return null;
    }
    const idx: number[] = [];
    for (let a = 0; a < sub.at.length; a++) {
      const i = evalSmallInt(sub.at[a], env, diags, "an index");
      if (i === null) return null;
      if (i < 1 || i > v.shape[a]) {
        outOfRange(sub.at[a], sub.at[a], v, a, i, env, diags);
        return null;
      }
      idx.push(i);
    }
    // The block addressed by a prefix of the indices; its earliest element in the order bounds the predecessors.
    const innerSize = v.shape.slice(idx.length).reduce((x, y) => x * y, 1);
    const first = flatten(v.shape.slice(0, idx.length), idx) * innerSize;
    let earliest = Infinity;
    for (let f = first; f < first + innerSize; f++) earliest = Math.min(earliest, v.rank[f]);
    const out = new Int32Array(earliest);
    for (let p = 0; p < earliest; p++) out[p] = v.offset + v.visit[p];
    out.sort();
    return out;
  }
  if (sub.items.length !== rank) {
    arity(ref, v, sub.items.length, diags);
    return null;
  }
  // Every axis selects a contiguous run of indices lo..hi (`*` is 1..n, `i` is i..i, an empty
  // range or a parent index outside the shape selects nothing), so the elements are a box:
  // walked in row-major order without building a list per axis.
  const lo: number[] = new Array<number>(rank);
  const hi: number[] = new Array<number>(rank);
  for (let a = 0; a < rank; a++) {
    const it = sub.items[a];
    const n = v.shape[a];
    if (it.kind === "All") {
      lo[a] = 1;
      hi[a] = n;
      continue;
    }
    if (it.kind === "Range") {
      const l = evalSmallInt(it.lo, env, diags, "a range bound");
      const h = evalSmallInt(it.hi, env, diags, "a range bound");
      if (l === null || h === null) return null;
      if (h < l) {
        lo[a] = 1;
        hi[a] = 0;
        continue;
      }
      if ((l < 1 || h > n) && role !== "parent") {
        outOfRange(it, l < 1 ? it.lo : it.hi, v, a, l < 1 ? l : h, env, diags);
        return null;
      }
      lo[a] = Math.max(1, l);
      hi[a] = Math.min(n, h);
      continue;
    }
    const i = evalSmallInt(it, env, diags, "an index");
    if (i === null) return null;
    if (i < 1 || i > n) {
      if (role === "parent") {
        lo[a] = 1;
        hi[a] = 0;
        continue;
      }
      outOfRange(it, it, v, a, i, env, diags);
      return null;
    }
    lo[a] = i;
    hi[a] = i;
  }
  let total = 1;
  for (let a = 0; a < rank; a++) total *= Math.max(0, hi[a] - lo[a] + 1);
  const out = new Int32Array(total);
  if (total === 0) return out;
  const cur = lo.slice();
  for (let k = 0; k < total; k++) {
    out[k] = v.offset + flatten(v.shape, cur);
    for (let a = rank - 1; a >= 0; a--) {
      if (cur[a] < hi[a]) {
        cur[a]++;
        break;
      }
      cur[a] = lo[a];
    }
  }
  return out;
}

function range(start: number, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i;
  return out;
}

function arity(ref: A.Ref, v: VariableIR, got: number, diags: DiagnosticBag): void {
  const rank = v.shape.length;
  const shape = `[${v.shape.join(", ")}]`;
  const axes = rank === 1 ? "1 axis" : `${rank} axes`;
  const has = rank ? `has ${axes} (shape ${shape})` : "is a scalar";
  diags.error(
    "E0301",
    `\`${v.name}\` ${has}, but ${got} ${got === 1 ? "index is" : "indices are"} given`,
    ref.subscript!.span,
    {
      hint:
        rank === 0
          ? `write \`${v.name}\` without brackets`
          : `write \`${v.name}[${Array.from({ length: rank }, (_, i) => "ijk"[i] ?? `i${i + 1}`).join(", ")}]\`; use \`*\` for a whole axis`,
    },
  );
}

/**
 * E0302 at `node`: `expr` (an index, or the bound of a range) is `i`, outside axis `axis` of `v`.
 * Under a `for`, the message names the loop variables of `expr` with their values, and the hint
 * the range of the one loop variable that keeps the index inside.
 */
function outOfRange(
  node: { span: A.Span },
  expr: A.Expr,
  v: VariableIR,
  axis: number,
  i: number,
  env: Env,
  diags: DiagnosticBag,
): void {
  const which = v.shape.length > 1 ? ` on axis ${axis + 1}` : "";
  const n = v.shape[axis];
  const loops = [...new Set(namesIn(expr))].filter((x) => env.loops?.has(x));
  const at = loops.length ? ` at ${loops.map((x) => `${x} = ${formatNum(env.values.get(x)!)}`).join(", ")}` : "";
  const text = printExpr(expr);
  let hint: string;
  if (loops.length === 1) {
    const name = loops[0];
    const r = env.loops!.get(name)!;
    const fit = fittingRange(expr, name, r, n, env);
    hint = fit
      ? `\`${name}\` runs over ${r.lo}..${r.hi}, but the index \`${text}\` is inside \`${v.name}\`${which} (1..${n}) only for ${name} in ${fit[0]}..${fit[1]}: write \`for ${name} in ${fit[0]}..${fit[1]}\``
      : fit === null
        ? `the index \`${text}\` is outside \`${v.name}\`${which} (1..${n}) for every ${name} in ${r.lo}..${r.hi}: ${text === name ? `write \`for ${name} in 1..${n}\`` : `index \`${v.name}\` with an expression that stays within 1..${n}`}`
        : `the index \`${text}\` must stay within 1..${n} for every value of \`${name}\` (${r.lo}..${r.hi}): narrow the range of \`${name}\``;
  } else if (loops.length > 1)
    hint = `keep \`${text}\` within 1..${n}: narrow the ranges of ${loops.map((x) => `\`${x}\``).join(" and ")}`;
  else if (i === 0) hint = "indices are 1-based: the first element is index 1";
  else
    hint =
      i > n
        ? `\`${v.name}\`${which} has indices 1..${n}: the last is ${n}${v.shape.length === 1 ? ` (\`${v.name}[${n}]\`)` : ""}`
        : `\`${v.name}\`${which} has indices 1..${n}: the first is 1${v.shape.length === 1 ? ` (\`${v.name}[1]\`)` : ""}`;
  diags.error("E0302", `index ${i} is outside \`${v.name}\`${which} (1..${n})${at}`, node.span, { hint });
}

/** The names in an expression (an explicit stack: no recursion on long chains). */
function namesIn(e: A.Expr): string[] {
  const out: string[] = [];
  const stack: A.Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === "Name") out.push(x.name);
    else if (x.kind === "Unary") stack.push(x.operand);
    else if (x.kind === "Binary") stack.push(x.right, x.left);
  }
  return out;
}

/**
 * The values of loop variable `name` within its range `r` for which `expr` is an index in
 * 1..n, as [first, last] when they are one run; null when there are none; undefined when the
 * range is too long to try or the values that fit are not one run.
 */
function fittingRange(
  expr: A.Expr,
  name: string,
  r: { lo: bigint; hi: bigint },
  n: number,
  env: Env,
): [bigint, bigint] | null | undefined {
  if (r.hi - r.lo > 1_000_000n) return undefined; // a `for` may bind 5,000,000 values: a bound on this error path
  const values = new Map(env.values);
  const silent = new DiagnosticBag("");
  let first: bigint | undefined;
  let last: bigint | undefined;
  for (let t = r.lo; t <= r.hi; t++) {
    values.set(name, t);
    const x = evalExpr(expr, { values }, silent);
    const inside = x !== null && Number(x) >= 1 && Number(x) <= n && Number.isInteger(Number(x));
    if (!inside) continue;
    if (last !== undefined && last !== t - 1n) return undefined;
    first ??= t;
    last = t;
  }
  return first === undefined || last === undefined ? null : [first, last];
}
