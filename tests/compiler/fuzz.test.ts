/**
 * The whole compiler never falls over on what a page will feed it on every keystroke: generated
 * and mutated inputs go through `compileText` (parse, every phase, every `check` line) and
 * through `format`; none may throw, and every diagnostic's span lies inside the file with a
 * line/column that agree with its offset. No time is asserted: an input that hangs fails the
 * test by its timeout, and the inputs include the ones that used to run for minutes.
 *
 * Inputs:
 * - token-level mutations of every example (delete, duplicate, swap, replace a token with a
 *   keyword, an operator, a huge number, or a name JavaScript objects already have);
 * - deep nesting (parentheses, brackets, unary minus, chained `^`, nested `for`) at any depth;
 * - huge shapes under every factorization, with and without a `check`;
 * - `constructor`, `toString`, `__proto__`, … in every position a name can take.
 *
 * Planted bugs these properties caught (each planted, seen failing, then removed):
 * - `lookup` in src/compiler/families.ts reading `table[w.name.name]` instead of `ownEntry`, with
 *   the tables given back their Object prototype: "names JavaScript objects already have" failed
 *   after 2 runs, counterexample `model M { x : Bernoulli[3]  p(x) = constructor }`, "TypeError:
 *   s.params is not iterable" (the very crash the issue reports from bindArgs).
 * - `MAX_NESTING` in src/dsl/parse.ts raised to 100000: "deep nesting" failed on its first run,
 *   a few hundred nested parentheses, "RangeError: Maximum call stack size exceeded".
 *
 * Property runs: 150 per property (`GM_PROPERTY_RUNS` overrides), 40 for huge shapes (each
 * compiles up to a million elements).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile.js";
import type { Span } from "../../src/dsl/ast.js";
import { renderDiagnostic } from "../../src/dsl/diagnostics.js";
import { format } from "../../src/dsl/format.js";
import { gmLexer } from "../../src/dsl/tokens.js";
import { exampleFiles } from "../dsl/helpers.js";
import { KEYWORDS } from "../../src/dsl/tokens";

const NUM_RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 150);

/** Names every JavaScript object already has. */
const PROTO_NAMES = [
  "constructor",
  "toString",
  "valueOf",
  "__proto__",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__defineGetter__",
];

/** Line and column of `offset`, counting `\n` as the only line break. */
function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function spanInside(span: Span, text: string): string[] {
  const problems: string[] = [];
  for (const p of [span.start, span.end]) {
    if (!(p.offset >= 0 && p.offset <= text.length)) problems.push(`offset ${p.offset} outside [0, ${text.length}]`);
    else {
      const at = positionOf(text, p.offset);
      if (at.line !== p.line || at.column !== p.column)
        problems.push(`${p.line}:${p.column} but offset ${p.offset} is ${at.line}:${at.column}`);
    }
  }
  if (span.start.offset > span.end.offset) problems.push("start after end");
  return problems;
}

/** The invariant: compiles, formats and renders without throwing; spans inside the file. */
function compilerHolds(text: string): void {
  const r = compileText(text, "fuzz.gm");
  for (const d of r.diagnostics) {
    expect(spanInside(d.span, text), `${d.code} ${d.message}`).toEqual([]);
    for (const rel of d.related ?? []) expect(spanInside(rel.span, text), `${d.code} related`).toEqual([]);
    // Warnings too: a mutation can leave a file that only warns (`adversarial(on = z, Bernoulli = …)`
    // is W0609), which an `error[`-only check once failed on, one CI run in four.
    expect(renderDiagnostic(d, text)).toContain(`${d.severity}[${d.code}]`);
  }
  format(text);
}

const examples = exampleFiles();

/** Tokens to put in place of others: keywords, operators, numbers (huge ones too), names. */
const REPLACEMENTS = [
  ...KEYWORDS,
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ":",
  "=",
  "==",
  "..",
  "|",
  "⊥",
  "_|_",
  "^",
  "-",
  "*",
  "/",
  "+",
  "<",
  "0",
  "1",
  "2",
  "1000",
  "10000000",
  "9007199254740993",
  "1e308",
  "0.5",
  "-1",
  "2^100000",
  "x",
  "z",
  "p",
  "q",
  "n",
  "Bernoulli",
  "Categorical(3)",
  "joint",
  "chain",
  "markov",
  "table",
  "mlp",
  "nade(hidden = 5)",
  "elbo",
  ...PROTO_NAMES,
];

/** A token-level mutation of an example: a list of (token index, operation, replacement). */
const mutated = fc
  .record({
    file: fc.integer({ min: 0, max: Math.max(0, examples.length - 1) }),
    edits: fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom("delete", "duplicate", "swap", "replace", "insert"),
        with: fc.constantFrom(...REPLACEMENTS),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  })
  .map(({ file, edits }) => {
    let text = examples[file]?.text ?? "model M { x : Bernoulli  p(x) = table }";
    for (const e of edits) {
      const tokens = gmLexer.tokenize(text).tokens;
      if (tokens.length === 0) break;
      const i = e.at % tokens.length;
      const t = tokens[i];
      const start = t.startOffset;
      const end = (t.endOffset ?? t.startOffset) + 1;
      const next = tokens[i + 1];
      switch (e.op) {
        case "delete":
          text = text.slice(0, start) + text.slice(end);
          break;
        case "duplicate":
          text = `${text.slice(0, end)} ${t.image}${text.slice(end)}`;
          break;
        case "replace":
          text = `${text.slice(0, start)}${e.with}${text.slice(end)}`;
          break;
        case "insert":
          text = `${text.slice(0, start)}${e.with} ${text.slice(start)}`;
          break;
        case "swap":
          if (next)
            text = `${text.slice(0, start)}${next.image}${text.slice(end, next.startOffset)}${t.image}${text.slice((next.endOffset ?? next.startOffset) + 1)}`;
          break;
      }
    }
    return text;
  });

/** An expression nested `depth` deep in one of several ways. */
const deep = fc
  .record({
    depth: fc.integer({ min: 1, max: 3000 }),
    how: fc.constantFrom("parens", "minus", "caret", "brackets", "for", "sum", "calls", "mixed"),
  })
  .map(({ depth, how }) => {
    const d = how === "sum" ? depth * 4 : depth;
    switch (how) {
      case "parens":
        return `model M {\n  const n = ${"(".repeat(d)}2${")".repeat(d)}\n  x : Bernoulli[n]\n  p(x) = chain\n}\n`;
      case "minus":
        return `model M {\n  const n = ${"-".repeat(d)}3\n  x : Bernoulli[4]\n  p(x) = chain\n}\n`;
      case "caret":
        return `model M {\n  const n = ${Array(d).fill("1").join("^")}\n  x : Bernoulli[n]\n  p(x) = chain\n}\n`;
      case "brackets":
        return `model M {\n  x : Bernoulli[2]\n  p(x | z) = mlp(hidden = ${"[".repeat(d)}4${"]".repeat(d)})\n}\n`;
      case "for":
        return `model M {\n  x : Bernoulli[2]\n  ${"for i in 1..1: ".repeat(d)}p(x[1]) = table\n}\n`;
      case "sum":
        return `model M {\n  const n = ${Array(d).fill("1").join(" + ")}\n  x : Bernoulli[3]\n  p(x) = chain\n  check params == n\n}\n`;
      case "calls":
        return `model M {\n  x : Bernoulli[2]\n  p(x) = chain\n  train { data = ${"f(".repeat(d)}1${")".repeat(d)} }\n}\n`;
      default:
        return `model M {\n  const n = ${"(-2^".repeat(d)}1${")".repeat(d)}\n}\n`;
    }
  });

/** Huge shapes under every factorization, some with a `check`. */
const huge = fc
  .record({
    dims: fc.array(
      fc.constantFrom("1", "2", "28", "1000", "3000", "100000", "10000000", "9007199254740993", "2^53", "0", "-4"),
      { minLength: 1, maxLength: 3 },
    ),
    type: fc.constantFrom(
      "Bernoulli",
      "Categorical(256)",
      "Categorical(2^53)",
      "Categorical(9007199254740993)",
      "Normal",
    ),
    family: fc.constantFrom(
      "joint",
      "chain",
      "independent",
      "markov",
      "markov(k = 1000)",
      "logistic",
      "nade(hidden = 100000)",
      "pixelrnn(hidden = 4)",
      "table",
    ),
    check: fc.constantFrom("", "check params > 0", "check x ⊥ x", "check params == 2^100000"),
  })
  .map(({ dims, type, family, check }) => {
    const first = dims.map(() => "1").join(", ");
    const claim = check === "check x ⊥ x" ? `check x[${first}] not ⊥ x[${dims.join(", ")}]` : check;
    return `model M {\n  x : ${type}[${dims.join(", ")}]\n  p(x) = ${family}\n  ${claim}\n}\n`;
  });

/** A name JavaScript objects already have, in each position a name can take. */
const protoNames = fc
  .record({ name: fc.constantFrom(...PROTO_NAMES), at: fc.integer({ min: 0, max: 15 }) })
  .map(({ name: n, at }) => {
    const templates = [
      `model M { x : Bernoulli[3]  p(x) = ${n} }`,
      `model M { x : Bernoulli[3]  p(x) = ${n}(k = 1) }`,
      `model M { x : Bernoulli[3]  p(x) = chain  fit ${n} }`,
      `model M { x : Bernoulli[3]  order x ${n}  p(x) = chain }`,
      `model M { x : Bernoulli[3]  p(x) = chain  train { data = ${n} } }`,
      `model M { x : Bernoulli[3]  p(x) = chain  train { ${n} = 1 } }`,
      `model M { latent z : Normal[2]  p(z) = ${n}  x : Bernoulli[4]  p(x | z) = mlp  q(z | x) = mlp  fit elbo }`,
      `model M { latent z : Normal[2]  x : Real(0, 1)[4, 4]  x = generator(z) by ${n}  fit adversarial(critic = ${n}) }`,
      `model M { latent z : Normal[2]  x : Real(0, 1)[4, 4]  x = generator(z) by mlp  fit adversarial(critic = mlp(${n} = 1)) }`,
      `model M { x : Bernoulli[3]  p(x) = markov(${n} = 1) }`,
      `model M { const ${n} = 3  x : Bernoulli[${n}]  p(x) = chain }`,
      `model M { ${n} : Bernoulli[3]  p(${n}) = chain  check ${n}[1] ⊥ ${n}[3] }`,
      `model M { x : ${n}[3]  p(x) = chain }`,
      `model M { x : Bernoulli[3]  p(x) = chain  train { data = mnist(${n} = 1) } }`,
      `model ${n} { x : Bernoulli[3]  p(x) = chain }\nmodel ${n} { x : Bernoulli }`,
      `model M { x : Bernoulli[3]  for ${n} in 1..3: p(x[${n}]) = table  check params == ${n} }`,
    ];
    return templates[at];
  });

describe("compileText never throws and keeps spans inside the file", () => {
  it("on token-level mutations of every example", () => {
    fc.assert(fc.property(mutated, compilerHolds), { numRuns: NUM_RUNS * 2 });
  }, 120_000);

  it("on a mutation with a warning (found by the property above: `critic` replaced by `Bernoulli`)", () => {
    const aae = examples.find((e) => e.name.includes("13-aae"))!.text.replace("critic = mlp", "Bernoulli = mlp");
    const r = compileText(aae, "fuzz.gm");
    expect(r.diagnostics.map((d) => `${d.severity} ${d.code}`)).toContain("warning W0609");
    compilerHolds(aae);
  });

  it("on deep nesting of every kind", () => {
    fc.assert(fc.property(deep, compilerHolds), { numRuns: NUM_RUNS });
  }, 120_000);

  it("on huge shapes under every factorization", () => {
    fc.assert(fc.property(huge, compilerHolds), { numRuns: Math.ceil(NUM_RUNS / 4) });
  }, 240_000);

  it("on names JavaScript objects already have, in every position", () => {
    fc.assert(fc.property(protoNames, compilerHolds), { numRuns: NUM_RUNS });
  }, 60_000);

  it("reports a name like `constructor` as unknown, never as a member of Object.prototype", () => {
    for (const n of PROTO_NAMES) {
      const r = compileText(`model M { x : Bernoulli[3]  p(x) = ${n} }`);
      expect(r.diagnostics.map((d) => d.code)).toEqual(["E0205"]);
      expect(r.diagnostics[0].message).toBe(`unknown family \`${n}\``);
    }
  });
});
