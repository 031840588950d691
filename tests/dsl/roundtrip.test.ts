/**
 * Round trips of the front end: `parse ∘ print` is the identity on ASTs (up to spans), `print`
 * is a fixed point, `format` is idempotent, keeps every comment and never changes the AST.
 *
 * Property runs: 300 per property (fixed; the whole file runs in a few seconds on 2 cores).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { stripSpans } from "../../src/dsl/ast.js";
import { format } from "../../src/dsl/format.js";
import { parse } from "../../src/dsl/parse.js";
import { print } from "../../src/dsl/printer.js";
import { renderDiagnostic } from "../../src/dsl/diagnostics.js";
import { gmFile } from "./arbitraries.js";
import { exampleFiles, insertAt, normalizeComment, showFiles, tokenBoundaries } from "./helpers.js";

/**
 * Runs per property: 300, fixed so CI cost is stable (the seed varies per run); `GM_PROPERTY_RUNS=5000` for a deeper
 * local search.
 */
const NUM_RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 300);

const files = showFiles(gmFile);

function syntaxErrors(text: string, file = "<input>"): string[] {
  return parse(text, file).diagnostics.map((d) => renderDiagnostic(d, text));
}

function formatted(text: string): string {
  const r = format(text);
  if (!r.ok)
    throw new Error(
      `format refused:\n${r.diagnostics.map((d) => renderDiagnostic(d, text)).join("\n")}\n--- input ---\n${text}`,
    );
  return r.text;
}

describe("print/parse round trip (random ASTs)", () => {
  it(`parse(print(ast)) has no diagnostics and equals ast up to spans (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(files, (ast) => {
        const text = print(ast);
        const r = parse(text, "roundtrip.gm");
        expect(
          r.diagnostics.map((d) => renderDiagnostic(d, text)),
          `print wrote:\n${text}`,
        ).toEqual([]);
        expect(stripSpans(r.ast), `print wrote:\n${text}`).toEqual(stripSpans(ast));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it(`print is a fixed point: print(parse(print(ast)).ast) === print(ast) (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(files, (ast) => {
        const text = print(ast);
        expect(print(parse(text).ast)).toBe(text);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it(`print writes what gm fmt writes: format(print(ast)) === print(ast) (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(files, (ast) => {
        const text = print(ast);
        expect(formatted(text)).toBe(text);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Comments

const commentBody = fc
  .string({ unit: "grapheme", maxLength: 10 })
  .map((s) => s.replace(/[\r\n]/g, " ").replace(/\*\//g, "*"));
const lineComment = commentBody.map((b) => `// ${b}`);
const blockComment = commentBody.map((b) => `/* ${b} */`);
const multiLineBlock = fc
  .tuple(commentBody, commentBody, fc.constantFrom("", "  ", "\t"))
  .map(([a, b, ind]) => `/* ${a}\n${ind}${b} */`);

type Placement =
  | { kind: "inline"; at: number; text: string } // between two tokens of a line (a block comment, maybe spanning lines)
  | { kind: "trailing"; at: number; text: string } // at the end of a line
  | { kind: "ownLine"; at: number; text: string; indent: string } // on a line of its own
  | { kind: "blank"; at: number; count: number } // a run of blank lines
  | { kind: "head"; text: string }; // before everything

const placement: fc.Arbitrary<Placement> = fc.oneof(
  fc.record({ kind: fc.constant("inline" as const), at: fc.nat(), text: fc.oneof(blockComment, multiLineBlock) }),
  fc.record({
    kind: fc.constant("trailing" as const),
    at: fc.nat(),
    text: fc.oneof(lineComment, blockComment, multiLineBlock),
  }),
  fc.record({
    kind: fc.constant("ownLine" as const),
    at: fc.nat(),
    text: fc.oneof(lineComment, blockComment, multiLineBlock),
    indent: fc.constantFrom("", "  ", "      ", "\t"),
  }),
  fc.record({ kind: fc.constant("blank" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("head" as const), text: fc.oneof(lineComment, blockComment, multiLineBlock) }),
);

/** Puts comments and blank lines into printed text, only between tokens. */
function withComments(text: string, places: Placement[]): string {
  const bounds = tokenBoundaries(text);
  const lineEnds = bounds.filter((o) => text[o] === "\n");
  const inserts: Array<{ offset: number; text: string }> = [];
  for (const p of places) {
    if (p.kind === "head") {
      inserts.push({ offset: 0, text: `${p.text}\n` });
      continue;
    }
    const pool = p.kind === "inline" ? bounds : lineEnds;
    if (pool.length === 0) continue;
    const offset = pool[p.at % pool.length];
    // A `//` comment ends its line, so nothing inserted at the same place can land behind it.
    const end = p.kind !== "blank" && p.text.startsWith("//") ? "\n" : "";
    if (p.kind === "inline" || p.kind === "trailing") inserts.push({ offset, text: ` ${p.text} ${end}` });
    else if (p.kind === "ownLine") inserts.push({ offset, text: `\n${p.indent}${p.text}${end}` });
    else inserts.push({ offset, text: "\n".repeat(p.count) });
  }
  return insertAt(text, inserts);
}

describe("format keeps comments and meaning", () => {
  it(`printed random ASTs with random comments: parse unchanged, format idempotent, comments kept in order (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(files, fc.array(placement, { maxLength: 8 }), (ast, places) => {
        const source = withComments(print(ast), places);
        expect(syntaxErrors(source)).toEqual([]);
        const before = parse(source);
        expect(stripSpans(before.ast)).toEqual(stripSpans(ast));

        const once = formatted(source);
        expect(formatted(once)).toBe(once);
        const after = parse(once);
        expect(after.diagnostics).toEqual([]);
        expect(stripSpans(after.ast)).toEqual(stripSpans(ast));
        expect(after.comments.map(normalizeComment)).toEqual(before.comments.map(normalizeComment));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  const examples = exampleFiles();
  it(`every examples/**/*.gm parses, formats idempotently and keeps its AST and comments (${examples.length} found at test time)`, () => {
    for (const { name, text } of examples) {
      expect(syntaxErrors(text, name), name).toEqual([]);
      const once = formatted(text);
      expect(formatted(once), name).toBe(once);
      expect(stripSpans(parse(once).ast), name).toEqual(stripSpans(parse(text).ast));
      expect(parse(once).comments.map(normalizeComment), name).toEqual(parse(text).comments.map(normalizeComment));
    }
  });

  /** Hand-written files with comments in the odd places. */
  const samples: Record<string, string> = {
    "leading, trailing, inside a statement, in a train block, between models, at the end": [
      "// leading comment of the file",
      "",
      "",
      "model Coin {   // trailing the opening brace",
      "  x : Bernoulli   // trailing a statement",
      "  p(x /* inside the factor */) = joint",
      "",
      "",
      "",
      "  /* a block comment",
      "     spanning lines */",
      "  check params == 1 /* trailing block */ // and a line comment",
      "  train { // on the train line",
      "    // before the first entry",
      "    epochs = 10   // trailing an entry",
      "",
      "",
      "    data = mnist(binarize = 0.5) /* block",
      "    on two lines */",
      "    // after the last entry",
      "  }",
      "  // before the closing brace",
      "}",
      "// between models",
      "",
      "/* another",
      "   between */",
      "model Chain {",
      "  const n = 16 // the length",
      "  x : Bernoulli[n]",
      "  p(x) = chain",
      "  assume for i in 3..n: /* mid-claim */ x[i] ⊥ x[1..i-2] | x[i-1]",
      "  check params == 2*n - 1",
      "}",
      "// at the very end",
    ].join("\n"),
    "no trailing newline, comment as the last thing": "model M {\n  x : Bernoulli\n}\n/* end */",
    "only comments": "// nothing\n/* here */\n",
    "empty file": "",
    "comments in an empty model and an empty train block": "model M { // empty\n  train { /* none */ }\n}\n",
    "comment between `model` and the name, and before `{`": "model /* a */ M /* b */ {\n  x : Normal\n}\n",
    "crlf line endings": "model M {\r\n  // c\r\n  x : Bernoulli\r\n}\r\n",
    "tabs and blank-line runs": "\n\n\tmodel M {\n\n\n\t\tx : Bernoulli\n\n\n\n\t\tp(x) = independent\n\n}\n\n\n",
    "line breaks inside statements": [
      "model M {",
      "  latent",
      "    z : Normal[16]",
      "  for i in 1..",
      "      n:",
      "    assume x[i] ⊥ y",
      "  for r in 1..H,",
      "      c in 1..W:",
      "    p(img[r, c] |",
      "      img[r - 1, c]) =",
      "      table",
      "  fit elbo +",
      "    adversarial(on = z)",
      "}",
    ].join("\n"),
  };

  for (const [title, text] of Object.entries(samples)) {
    it(`sample: ${title}`, () => {
      expect(syntaxErrors(text, "sample.gm")).toEqual([]);
      const once = formatted(text);
      expect(formatted(once)).toBe(once);
      expect(stripSpans(parse(once).ast)).toEqual(stripSpans(parse(text).ast));
      expect(parse(once).comments.map(normalizeComment)).toEqual(parse(text).comments.map(normalizeComment));
    });
  }

  it("lays out the big sample as documented (golden)", () => {
    expect(
      formatted(samples["leading, trailing, inside a statement, in a train block, between models, at the end"]),
    ).toBe(
      [
        "// leading comment of the file",
        "",
        "model Coin { // trailing the opening brace",
        "  x : Bernoulli // trailing a statement",
        "  /* inside the factor */",
        "  p(x) = joint",
        "",
        "  /* a block comment",
        "     spanning lines */",
        "  check params == 1 /* trailing block */ // and a line comment",
        "  train { // on the train line",
        "    // before the first entry",
        "    epochs = 10 // trailing an entry",
        "",
        "    data = mnist(binarize = 0.5) /* block",
        "    on two lines */",
        "    // after the last entry",
        "  }",
        "  // before the closing brace",
        "}",
        "",
        "// between models",
        "",
        "/* another",
        "   between */",
        "model Chain {",
        "  const n = 16 // the length",
        "  x : Bernoulli[n]",
        "  p(x) = chain",
        "  /* mid-claim */",
        "  assume for i in 3..n: x[i] ⊥ x[1..i-2] | x[i-1]",
        "  check params == 2*n - 1",
        "}",
        "// at the very end",
        "",
      ].join("\n"),
    );
  });
});
