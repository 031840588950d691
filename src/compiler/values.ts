/**
 * Arithmetic over constants and loop variables (LANGUAGE.md §2). Integers are exact BigInts,
 * so `2^784 - 1` is an ordinary value; a decimal literal, a non-exact division or a negative
 * power makes the result a JS number. Where an integer is required, a number is an error.
 */
import type * as A from "../dsl/ast";
import type { DiagnosticBag } from "../dsl/diagnostics";
import { suggest } from "./suggest";

/** An exact integer or a real. */
export type Num = bigint | number;

/** Names visible to expressions. */
export interface Env {
  readonly values: ReadonlyMap<string, Num>;
  /** Random variables, for a friendly "x is a random variable" message. */
  readonly variables?: { has(name: string): boolean };
}

/** Largest exponent we evaluate exactly (2^100000 has 30,103 digits). */
const MAX_EXPONENT = 100_000n;

/** Parses a number literal's text (`1_000`, `0.5`, `1e-3`). */
export function literalValue(text: string): Num {
  const clean = text.replace(/_/g, "");
  if (/^\d+$/.test(clean)) return BigInt(clean);
  return Number(clean);
}

/** Evaluates `e`; reports and returns null on an unknown name or an impossible operation. */
export function evalExpr(e: A.Expr, env: Env, diags: DiagnosticBag): Num | null {
  switch (e.kind) {
    case "Number":
      return literalValue(e.text);
    case "Name": {
      const v = env.values.get(e.name);
      if (v !== undefined) return v;
      if (env.variables?.has(e.name)) {
        diags.error("E0210", `\`${e.name}\` is a random variable, not a number`, e.span, { hint: "arithmetic uses constants (`const n = 16`) and loop variables" });
        return null;
      }
      const s = suggest(e.name, [...env.values.keys()]);
      diags.error("E0201", `unknown name \`${e.name}\``, e.span, s ? { hint: `did you mean \`${s}\`?` } : { hint: "declare it first: `const " + e.name + " = …`" });
      return null;
    }
    case "Unary": {
      const v = evalExpr(e.operand, env, diags);
      return v === null ? null : -v;
    }
    case "Binary": {
      const l = evalExpr(e.left, env, diags);
      const r = evalExpr(e.right, env, diags);
      if (l === null || r === null) return null;
      return binary(e, l, r, diags);
    }
  }
}

function binary(e: A.BinaryExpr, l: Num, r: Num, diags: DiagnosticBag): Num | null {
  if (typeof l === "bigint" && typeof r === "bigint") {
    switch (e.op) {
      case "+": return l + r;
      case "-": return l - r;
      case "*": return l * r;
      case "/":
        if (r === 0n) return divZero(e, diags);
        return l % r === 0n ? l / r : Number(l) / Number(r);
      case "^":
        if (r < 0n) return Number(l) ** Number(r);
        if (r > MAX_EXPONENT && l !== 0n && l !== 1n && l !== -1n) {
          diags.error("E0305", `\`${Number(r)}\` is too large an exponent to evaluate exactly`, e.span);
          return null;
        }
        return l ** r;
    }
  }
  const a = Number(l);
  const b = Number(r);
  switch (e.op) {
    case "+": return a + b;
    case "-": return a - b;
    case "*": return a * b;
    case "/": return b === 0 ? divZero(e, diags) : a / b;
    case "^": return a ** b;
  }
}

function divZero(e: A.BinaryExpr, diags: DiagnosticBag): null {
  diags.error("E0305", "division by zero", e.span);
  return null;
}

/** Evaluates an expression that must be an integer (a shape, an index, `k`). */
export function evalInt(e: A.Expr, env: Env, diags: DiagnosticBag, what: string): bigint | null {
  const v = evalExpr(e, env, diags);
  if (v === null) return null;
  if (typeof v === "number") {
    if (Number.isInteger(v) && Number.isSafeInteger(v)) return BigInt(v);
    diags.error("E0303", `${what} must be an integer, but this is ${formatNum(v)}`, e.span);
    return null;
  }
  return v;
}

/** Evaluates an integer that must also fit in a JS number (sizes, indices). */
export function evalSmallInt(e: A.Expr, env: Env, diags: DiagnosticBag, what: string): number | null {
  const v = evalInt(e, env, diags, what);
  if (v === null) return null;
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
    diags.error("E0304", `${what} is too large (${v})`, e.span);
    return null;
  }
  return Number(v);
}

/** Evaluates a real number. */
export function evalReal(e: A.Expr, env: Env, diags: DiagnosticBag): number | null {
  const v = evalExpr(e, env, diags);
  return v === null ? null : Number(v);
}

/** `16`, `0.5`, `1e-3` */
export function formatNum(v: Num): string {
  return typeof v === "bigint" ? v.toString() : String(v);
}
