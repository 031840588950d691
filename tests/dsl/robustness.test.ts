/**
 * The front end never throws and never points outside the file, whatever it is given: random
 * strings, strings of the language's own tokens, and valid files broken by token-level
 * mutations (delete, duplicate, swap, insert) or cut off anywhere.
 *
 * For every input: `parse` returns; every diagnostic (and every AST node) has a span inside the
 * text whose line/column agree with its offset; `renderDiagnostic` renders it; `print` of the
 * partial AST reads back without errors to the same AST; `format` returns, and when it accepts
 * the text its output is a fixed point with the same AST.
 *
 * Property runs: 300 per property (fixed; `GM_PROPERTY_RUNS` overrides for local searches).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { stripSpans, type Span } from "../../src/dsl/ast.js";
import { renderDiagnostic } from "../../src/dsl/diagnostics.js";
import { format } from "../../src/dsl/format.js";
import { parse } from "../../src/dsl/parse.js";
import { print } from "../../src/dsl/printer.js";
import { gmLexer } from "../../src/dsl/tokens.js";
import { nonEmptyFile } from "./arbitraries.js";
import { KEYWORDS } from "../../src/dsl/tokens";

const NUM_RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 300);

// ---------------------------------------------------------------------------------------------
// The invariant

/** Line/column of `offset`; a line break is `\n`, `\r\n` or a lone `\r` (as spans count them). */
function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split(/\r\n|\r|\n/);
  // An offset between the `\r` and `\n` of a `\r\n` is still on the line the pair ends.
  const inPair = offset > 0 && text[offset - 1] === "\r" && text[offset] === "\n";
  if (inPair) {
    const last = before[before.length - 2] ?? "";
    return { line: before.length - 1, column: last.length + 2 };
  }
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

function spanProblems(span: Span, text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  const problems: string[] = [];
  for (const [which, p] of [
    ["start", span.start],
    ["end", span.end],
  ] as const) {
    if (!Number.isInteger(p.offset) || p.offset < 0 || p.offset > text.length)
      problems.push(`${which}.offset ${p.offset} outside [0, ${text.length}]`);
    if (!(p.line >= 1 && p.line <= lines.length)) problems.push(`${which}.line ${p.line} outside [1, ${lines.length}]`);
    else if (!(p.column >= 1 && p.column <= lines[p.line - 1].length + 1))
      problems.push(`${which}.column ${p.column} outside [1, ${lines[p.line - 1].length + 1}] on line ${p.line}`);
    if (p.offset >= 0 && p.offset <= text.length) {
      const at = positionOf(text, p.offset);
      if (at.line !== p.line || at.column !== p.column)
        problems.push(`${which} says ${p.line}:${p.column} but offset ${p.offset} is ${at.line}:${at.column}`);
    }
  }
  if (span.start.offset > span.end.offset) problems.push(`start ${span.start.offset} after end ${span.end.offset}`);
  return problems;
}

/** Every object with a `span` in the AST. */
function* spans(node: unknown, path = "ast"): Generator<[string, Span]> {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) yield* spans(node[i], `${path}[${i}]`);
  } else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "span") yield [`${path} (${(node as { kind?: string }).kind})`, v as Span];
      else yield* spans(v, `${path}.${k}`);
    }
  }
}

/** Runs the whole front end on `text` and checks the invariant; returns nothing, throws on a violation. */
function frontEndHolds(text: string): void {
  const r = parse(text, "fuzz.gm");
  for (const d of r.diagnostics) {
    expect(spanProblems(d.span, text), `${d.code} ${d.message}`).toEqual([]);
    const rendered = renderDiagnostic(d, text);
    expect(rendered.startsWith(`fuzz.gm:${d.span.start.line}:${d.span.start.column}: error[${d.code}]: `)).toBe(true);
    expect(d.code).toMatch(/^E01\d\d$/);
  }
  for (const [where, s] of spans(r.ast)) expect(spanProblems(s, text), where).toEqual([]);
  for (const c of r.comments) expect(spanProblems(c.span, text), `comment ${JSON.stringify(c.text)}`).toEqual([]);

  // What was salvaged is a well-formed AST: it prints and reads back unchanged.
  const printed = print(r.ast);
  const again = parse(printed, "partial.gm");
  expect(again.diagnostics.map((d) => renderDiagnostic(d, printed))).toEqual([]);
  expect(stripSpans(again.ast)).toEqual(stripSpans(r.ast));

  const f = format(text);
  if (f.ok) {
    expect(r.diagnostics.filter((d) => d.code.startsWith("E01"))).toEqual([]);
    const twice = format(f.text);
    expect(twice.ok && twice.text).toBe(f.text);
    expect(stripSpans(parse(f.text).ast)).toEqual(stripSpans(r.ast));
  } else {
    expect(f.diagnostics.length).toBeGreaterThan(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs

/** Pieces of the language (and near misses): every token, broken tokens, odd characters. */
const TOKEN_ALPHABET = [
  ...KEYWORDS,
  "x",
  "y",
  "z",
  "p",
  "q",
  "n",
  "i",
  "Bernoulli",
  "Categorical",
  "Normal",
  "Real",
  "markov",
  "chain",
  "table",
  "mlp",
  "elbo",
  "model_1",
  "0",
  "1",
  "16",
  "1_000",
  "0.5",
  "1e-3",
  "2..n",
  ".5",
  "1.",
  "1e",
  '"a"',
  '"',
  '"unterminated',
  '"esc\\"aped"',
  "⊥",
  "_|_",
  "⫫",
  "|",
  "_",
  "..",
  "...",
  "==",
  "!=",
  "<=",
  ">=",
  "<",
  ">",
  "=",
  "+",
  "-",
  "−",
  "*",
  "×",
  "/",
  "^",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ":",
  ";",
  "// c",
  "/* c */",
  "/*",
  "*/",
  "/* a\nb */",
  "\n",
  "\r\n",
  "\r",
  "\t",
  " ",
  "\u00a0",
  "\ufeff",
  "@",
  "#",
  "$",
  "%",
  "&",
  "!",
  "?",
  "'",
  "`",
  "~",
  "\\",
  ".",
  "é",
  "😀",
  "\ud800",
  "\u2028",
];

const separator = fc.constantFrom("", " ", " ", " ", "\n", "\n  ", "\t");

/** A sequence of tokens joined by random whitespace (often nearly well-formed). */
const tokenSoup: fc.Arbitrary<string> = fc
  .array(fc.tuple(fc.constantFrom(...TOKEN_ALPHABET), separator), { maxLength: 60 })
  .map((parts) => parts.map(([t, s]) => t + s).join(""));

/** A model wrapped around token soup, so the statement rules get exercised, not just `file`. */
const soupInModel: fc.Arbitrary<string> = tokenSoup.map((s) => `model M {\n  ${s}\n}\n`);

type Mutation =
  | { op: "delete" | "duplicate" | "swap"; at: number }
  | { op: "insert"; at: number; token: string }
  | { op: "truncate"; at: number }
  | { op: "char"; at: number; ch: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom("delete" as const, "duplicate" as const, "swap" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), token: fc.constantFrom(...TOKEN_ALPHABET) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("char" as const),
    at: fc.nat(),
    ch: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  }),
);

function mutate(text: string, m: Mutation): string {
  if (m.op === "truncate") return text.slice(0, m.at % (text.length + 1));
  if (m.op === "char") {
    const at = m.at % (text.length + 1);
    return text.slice(0, at) + m.ch + text.slice(at + 1);
  }
  const toks = gmLexer.tokenize(text).tokens;
  if (toks.length === 0) return text;
  const t = toks[m.at % toks.length];
  const start = t.startOffset;
  const end = (t.endOffset ?? t.startOffset) + 1;
  switch (m.op) {
    case "delete":
      return text.slice(0, start) + text.slice(end);
    case "duplicate":
      return `${text.slice(0, end)} ${t.image}${text.slice(end)}`;
    case "insert":
      return `${text.slice(0, start)}${m.token} ${text.slice(start)}`;
    case "swap": {
      const u = toks[(m.at % toks.length) + 1];
      if (!u) return text;
      const uEnd = (u.endOffset ?? u.startOffset) + 1;
      return text.slice(0, start) + u.image + text.slice(end, u.startOffset) + t.image + text.slice(uEnd);
    }
  }
}

/** A valid printed file with one to four mutations applied. */
const mutatedFile: fc.Arbitrary<string> = fc
  .tuple(nonEmptyFile, fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([ast, ms]) => ms.reduce(mutate, print(ast)));

// ---------------------------------------------------------------------------------------------

describe("the front end never throws and stays inside the file", () => {
  it(`arbitrary ASCII-ish strings (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), frontEndHolds), { numRuns: NUM_RUNS });
  });

  it(`arbitrary Unicode strings, lone surrogates included (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 80 }), frontEndHolds), { numRuns: NUM_RUNS });
  });

  it(`strings of the language's tokens (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(tokenSoup, frontEndHolds), { numRuns: NUM_RUNS });
  });

  it(`token strings inside a model block (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(soupInModel, frontEndHolds), { numRuns: NUM_RUNS });
  });

  it(`valid files with tokens deleted, duplicated, swapped, inserted, characters replaced, or cut anywhere (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(mutatedFile, frontEndHolds), { numRuns: NUM_RUNS });
  });

  it("every prefix of a realistic file", () => {
    const text = [
      "// Markov chain, the long way",
      "model Chain {",
      "  const n = 16",
      "  x : Bernoulli[n]",
      "  latent z : Normal[4]",
      "  order x random(seed = 7)",
      "  p(x) = chain",
      "  assume for i in 3..n: x[i] ⊥ x[1..i-2] | x[i-1]",
      "  for r in 1..4, c in 1..4: p(img[r, c] | img[<(r, c)]) = table",
      "  check x[5] not ⊥ x[1] | x[3]",
      "  check params(x) == 2*n - 1",
      "  y = generator(z) by dcgan(base = 32)",
      "  fit reconstruction + adversarial(on = z, critic = mlp(hidden = [256]))",
      '  train { data = idx("imgs.gz", labels = "lbl.gz") /* c */ split = [0.8, 0.2]; lr = 1e-3 }',
      "}",
      "",
    ].join("\n");
    for (let i = 0; i <= text.length; i++) frontEndHolds(text.slice(0, i));
  });

  it("edge inputs", () => {
    for (const text of [
      "",
      "\n",
      "\r",
      "\r\n",
      "\ufeff",
      "model",
      "model M",
      "model M {",
      "model M {}",
      "}",
      "{",
      "/*",
      '"',
      "model M { x : Bernoulli[",
      "\ud83d",
      "model M {\r\n",
      "model M {\r",
    ]) {
      frontEndHolds(text);
    }
  });
});
