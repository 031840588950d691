/**
 * Elements: naming (`x[3, 7]`, 1-based as in the math), and writing sets of elements back in
 * the language's own notation (`x[1..4]`, `x[2, *]`, `x`), compressed into ranges.
 */
import type { VariableIR } from "./ir";

/** Finds the variable an element belongs to (variables are sorted by offset). */
export function variableOf(vars: readonly VariableIR[], element: number): VariableIR {
  let lo = 0;
  let hi = vars.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (vars[mid].offset <= element) lo = mid;
    else hi = mid - 1;
  }
  return vars[lo];
}

/** 1-based multi-index of a flat index. */
export function unflatten(shape: readonly number[], flat: number): number[] {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = (flat % shape[a]) + 1;
    flat = Math.floor(flat / shape[a]);
  }
  return idx;
}

/** Flat index of a 1-based multi-index (no bounds check). */
export function flatten(shape: readonly number[], idx: readonly number[]): number {
  let f = 0;
  for (let a = 0; a < shape.length; a++) f = f * shape[a] + (idx[a] - 1);
  return f;
}

/** `x[3, 7]`, or `x` for a scalar. */
export function elementName(vars: readonly VariableIR[], element: number): string {
  const v = variableOf(vars, element);
  if (v.shape.length === 0) return v.name;
  return `${v.name}[${unflatten(v.shape, element - v.offset).join(", ")}]`;
}

/** Writes a set of elements compactly: `x[1..4], y`, `x[1..3, *], x[4, 1..5]`. */
export function formatElements(vars: readonly VariableIR[], elements: Iterable<number>, maxParts = 12): string {
  const byVar = new Map<VariableIR, number[]>();
  for (const e of elements) {
    const v = variableOf(vars, e);
    let list = byVar.get(v);
    if (!list) byVar.set(v, (list = []));
    list.push(e - v.offset);
  }
  const parts: string[] = [];
  for (const v of vars) {
    const flats = byVar.get(v);
    if (!flats) continue;
    flats.sort((a, b) => a - b);
    const uniq = flats.filter((f, i) => i === 0 || flats[i - 1] !== f);
    if (v.shape.length === 0) parts.push(v.name);
    else if (uniq.length === v.size) parts.push(v.name);
    else for (const p of compress(v.shape, uniq)) parts.push(`${v.name}[${p}]`);
  }
  if (parts.length === 0) return "∅";
  if (parts.length > maxParts) return `${parts.slice(0, maxParts).join(", ")}, … (${parts.length - maxParts} more)`;
  return parts.join(", ");
}

/** Subscripts covering the sorted flat indices, axis by axis. */
function compress(shape: readonly number[], flats: number[]): string[] {
  if (shape.length === 1)
    return runs(
      flats.map((f) => f + 1),
      shape[0],
    );
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  // Group by the first index, describe each group's remainder, then merge equal neighbours.
  const groups: Array<{ first: number; rest: string[] }> = [];
  let i = 0;
  while (i < flats.length) {
    const first = Math.floor(flats[i] / inner);
    const sub: number[] = [];
    while (i < flats.length && Math.floor(flats[i] / inner) === first) sub.push(flats[i++] - first * inner);
    const rest =
      sub.length === inner
        ? [
            shape
              .slice(1)
              .map(() => "*")
              .join(", "),
          ]
        : compress(shape.slice(1), sub);
    groups.push({ first: first + 1, rest });
  }
  const out: string[] = [];
  let g = 0;
  while (g < groups.length) {
    let h = g;
    const key = groups[g].rest.join("|");
    while (h + 1 < groups.length && groups[h + 1].first === groups[h].first + 1 && groups[h + 1].rest.join("|") === key)
      h++;
    const head = h > g ? `${groups[g].first}..${groups[h].first}` : `${groups[g].first}`;
    for (const r of groups[g].rest) out.push(`${head}, ${r}`);
    g = h + 1;
  }
  return out;
}

/** `1..4`, `7`, `*` from sorted 1-based indices. */
function runs(ix: number[], n: number): string[] {
  if (ix.length === n) return ["*"];
  const out: string[] = [];
  let s = 0;
  while (s < ix.length) {
    let e = s;
    while (e + 1 < ix.length && ix[e + 1] === ix[e] + 1) e++;
    out.push(e > s ? `${ix[s]}..${ix[e]}` : `${ix[s]}`);
    s = e + 1;
  }
  return out;
}
