/**
 * Arithmetic over constants and loop variables (LANGUAGE.md §2). Integers are exact BigInts,
 * so `2^784 - 1` is an ordinary value; a decimal literal, a non-exact division or a negative
 * power makes the result a JS number. Where an integer is required, a number is an error.
 */
import type * as A from "../dsl/ast";
import type { DiagnosticBag } from "../dsl/diagnostics";
import { printExpr } from "../dsl/printer";
import { withCommas } from "./count";
import { suggest } from "./suggest";

/** An exact integer or a real. */
export type Num = bigint | number;

/** Names visible to expressions. */
export interface Env {
  readonly values: ReadonlyMap<string, Num>;
  /** Random variables, for a friendly "x is a random variable" message. */
  readonly variables?: { has(name: string): boolean };
  /** The ranges of the loop variables bound (a `for` statement's), for messages that name them. */
  readonly loops?: ReadonlyMap<string, { readonly lo: bigint; readonly hi: bigint }>;
}

/** Literals already read: a `for` evaluates the same few (`1`, `r-1`) once per instance. */
const literals = new Map<string, Num>();

/** Parses a number literal's text (`1_000`, `0.5`, `1e-3`). */
export function literalValue(text: string): Num {
  const known = literals.get(text);
  if (known !== undefined) return known;
  const clean = text.replace(/_/g, "");
  const v = /^\d+$/.test(clean) ? BigInt(clean) : Number(clean);
  if (literals.size >= 4096) literals.clear(); // a bound, for a page that compiles on every keystroke
  literals.set(text, v);
  return v;
}

/**
 * Largest integer gm computes, in bits (2^21 bits: 631,306 decimal digits; 2^1000000 − 1, the
 * count of a joint table over a 1000×1000 binary image, fits). Sizes are bounded before
 * computing, so `(3^100000)^100000` is refused at once instead of after minutes.
 */
export const MAX_INTEGER_BITS = 1 << 21;

/** Largest exponent evaluated exactly (2^r has r + 1 bits). */
const MAX_EXPONENT = BigInt(MAX_INTEGER_BITS);

/** Bit length of |v| (0 for 0), without building a string for small values. */
export function bitLength(v: bigint): number {
  const a = v < 0n ? -v : v;
  if (a < 0x20000000000000n) return a === 0n ? 0 : Math.floor(Math.log2(Number(a))) + 1;
  return a.toString(16).length * 4;
}

/**
 * Evaluates `e`; reports and returns null on an unknown name or an impossible operation.
 * Left-associative chains (`1 + 1 + … + 1`, 10,000 terms) and runs of unary minus are walked
 * in a loop, so the JavaScript stack is bounded by how deeply the text nests (the parser caps
 * that), never by an expression's length.
 */
export function evalExpr(e: A.Expr, env: Env, diags: DiagnosticBag): Num | null {
  switch (e.kind) {
    case "Number":
      return literalValue(e.text);
    case "Name": {
      const v = env.values.get(e.name);
      if (v !== undefined) return v;
      if (env.variables?.has(e.name)) {
        diags.error("E0210", `\`${e.name}\` is a random variable, not a number`, e.span, {
          hint: "arithmetic uses constants (`const n = 16`) and loop variables",
        });
        return null;
      }
      const s = suggest(e.name, [...env.values.keys()]);
      diags.error(
        "E0201",
        `unknown name \`${e.name}\``,
        e.span,
        s ? { hint: `did you mean \`${s}\`?` } : { hint: "declare it first: `const " + e.name + " = …`" },
      );
      return null;
    }
    case "Unary": {
      let negations = 0;
      let x: A.Expr = e;
      while (x.kind === "Unary") {
        negations++;
        x = x.operand;
      }
      const v = evalExpr(x, env, diags);
      return v === null ? null : negations % 2 === 0 ? v : -v;
    }
    case "Binary": {
      // The left spine, innermost first: ((a op1 b) op2 c) … is [op1-node, op2-node, …].
      const spine: A.BinaryExpr[] = [];
      let x: A.Expr = e;
      while (x.kind === "Binary") {
        spine.push(x);
        x = x.left;
      }
      let acc = evalExpr(x, env, diags);
      for (let i = spine.length - 1; i >= 0; i--) {
        const r = evalExpr(spine[i].right, env, diags);
        acc = acc === null || r === null ? null : binary(spine[i], acc, r, diags);
      }
      return acc;
    }
  }
}

function tooLarge(e: A.BinaryExpr, bits: number, diags: DiagnosticBag): null {
  diags.error(
    "E0305",
    `this ${e.op === "^" ? "power" : "product"} has about ${Math.round(bits * Math.LOG10E * Math.LN2).toLocaleString("en-US")} digits; gm computes integers of at most ${MAX_INTEGER_BITS.toLocaleString("en-US")} bits (${Math.floor(MAX_INTEGER_BITS * Math.LOG10E * Math.LN2).toLocaleString("en-US")} digits)`,
    e.span,
    { hint: `write a smaller expression: ${TOO_LARGE_WHY}` },
  );
  return null;
}

/** Why a number too large to compute exactly is no loss (the end of its hint). */
const TOO_LARGE_WHY =
  "every size, index or count gm handles is far below this (a joint table over a 1000×1000 binary image has 2^1000000 − 1 parameters, which fits)";

function binary(e: A.BinaryExpr, l: Num, r: Num, diags: DiagnosticBag): Num | null {
  if (typeof l === "bigint" && typeof r === "bigint") {
    switch (e.op) {
      case "+":
        return l + r;
      case "-":
        return l - r;
      case "*": {
        const bits = bitLength(l) + bitLength(r);
        return bits > MAX_INTEGER_BITS ? tooLarge(e, bits, diags) : l * r;
      }
      case "/":
        if (r === 0n) return divZero(e, diags);
        return l % r === 0n ? l / r : Number(l) / Number(r);
      case "^": {
        if (r < 0n) return Number(l) ** Number(r);
        if (l === 0n || l === 1n) return r === 0n ? 1n : l;
        if (l === -1n) return r % 2n === 0n ? 1n : -1n;
        if (r > MAX_EXPONENT) {
          diags.error(
            "E0305",
            `\`${r > 10n ** 15n ? r.toString().slice(0, 6) + "…" : r}\` is too large an exponent to evaluate exactly (at most ${withCommas(MAX_EXPONENT)})`,
            e.span,
            {
              hint: `make the exponent \`${printExpr(e.right)}\` at most ${withCommas(MAX_EXPONENT)}: ${TOO_LARGE_WHY}`,
            },
          );
          return null;
        }
        // |l|^r has about r·log2|l| bits: refuse before computing it.
        const a = l < 0n ? -l : l;
        const bits = Math.ceil(Number(r) * (a < 0x20000000000000n ? Math.log2(Number(a)) : bitLength(a)));
        return bits > MAX_INTEGER_BITS ? tooLarge(e, bits, diags) : l ** r;
      }
    }
  }
  const a = Number(l);
  const b = Number(r);
  switch (e.op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return b === 0 ? divZero(e, diags) : a / b;
    case "^":
      return a ** b;
  }
}

function divZero(e: A.BinaryExpr, diags: DiagnosticBag): null {
  const d = printExpr(e.right);
  diags.error("E0305", "division by zero", e.span, {
    hint:
      e.right.kind === "Number"
        ? `divide by a number other than 0, or drop \`/ ${d}\``
        : `\`${d}\` is 0 here: divide by an expression that is never 0`,
  });
  return null;
}

/** Evaluates an expression that must be an integer (a shape, an index, `k`). */
export function evalInt(e: A.Expr, env: Env, diags: DiagnosticBag, what: string): bigint | null {
  const v = evalExpr(e, env, diags);
  if (v === null) return null;
  if (typeof v === "number") {
    if (Number.isInteger(v) && Number.isSafeInteger(v)) return BigInt(v);
    diags.error("E0303", `${what} must be an integer, but this is ${formatNum(v)}`, e.span, {
      hint: integerHint(e, v),
    });
    return null;
  }
  return v;
}

/**
 * The hint of E0303: the whole numbers either side, and why a written `/` or decimal is not
 * whole (exported for the argument binder, families.ts).
 */
export function integerHint(e: A.Expr | null, v: number): string {
  const near = Number.isFinite(v)
    ? `write a whole number, e.g. ${Math.floor(v)} or ${Math.ceil(v)}`
    : "write a whole number";
  let slash = false;
  const stack: A.Expr[] = e ? [e] : [];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === "Binary") {
      if (x.op === "/") slash = true;
      stack.push(x.left, x.right);
    } else if (x.kind === "Unary") stack.push(x.operand);
  }
  return slash ? `${near}; \`a / b\` is whole only when b divides a` : near;
}

/** Evaluates an integer that must also fit in a JS number (sizes, indices). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function evalSmallInt(e: A.Expr, env: Env, diags: DiagnosticBag, what: string): number | null {
  const v = evalInt(e, env, diags, what);
  if (v === null) return null;
  if (v > MAX_SAFE || v < -MAX_SAFE) {
    diags.error("E0304", `${what} is too large (${v})`, e.span, {
      hint: `${what} must be at most 2^53 − 1 (${withCommas(MAX_SAFE)}); no shape or index gm handles comes near it`,
    });
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
