/**
 * What the tester's `.gm` files found in the front end, each pinned by a test that failed before
 * the fix (the failure is quoted with each test):
 * - nested `for` after `assume for …:` / `check for …:` (same meaning as the comma form);
 * - a bad statement ended its model block, so every later statement was "outside every model"
 *   (E0107): recovery now skips to the next statement and stays in the block;
 * - a syntax error with no hint (every E01xx diagnostic now has one);
 * - a file with lone `\r` line ends reported every position on line 1;
 * - `1_` and `1__000` read as numbers without a word (E0111).
 *
 * Properties, each seen failing on a planted bug (then removed):
 * - "a broken statement stays inside its model": planted the old recovery (`statement` with
 *   `resyncEnabled: true`, so it resyncs on its own follow set again): failed on its first input,
 *   examples/01-coin.gm with a bad line before line 26: `expected [ '27 E0107', '28 E0107' ] to
 *   deeply equal []` (the rest of the model read as text outside every model).
 * - "lone `\r` line ends give the positions of `\n`": planted `positionAt` and `endOfText` counting
 *   `\n` only (the old code): failed on its first file (the 54 span positions differ).
 * - "every E01xx diagnostic has a hint": planted `syntaxDiagnostic` without its fallback
 *   (`hint ?? syntaxHint(…)` → `hint`): failed with the counterexample `model M {\n  x\n}\n`
 *   (`.toMatch() expects to receive a string, but got undefined`).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stripSpans, type Span } from "../../src/dsl/ast.js";
import { parse } from "../../src/dsl/parse.js";
import { print } from "../../src/dsl/printer.js";
import { compileText } from "../../src/compiler/compile.js";
import { exampleFiles } from "./helpers.js";

const NUM_RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 100);

const where = (d: { span: Span; code: string }) => `${d.span.start.line}:${d.span.start.column} ${d.code}`;

describe("nested `for` after `assume for …:` and `check for …:`", () => {
  const nested = [
    "model M {",
    "  x : Bernoulli[3, 3]",
    "  p(x) = chain",
    "  assume for r in 2..3: for c in 1..3: x[r, c] ⊥ x[1..r-2, *] | x[r-1, *], x[r, 1..c-1]",
    "  check for i in 1..2: for j in 3..3: x[j, 1] not ⊥ x[i, 1]",
    "  check params == 15",
    "}",
    "",
  ].join("\n");
  const comma = nested
    .replace("for r in 2..3: for c in 1..3:", "for r in 2..3, c in 1..3:")
    .replace("for i in 1..2: for j in 3..3:", "for i in 1..2, j in 3..3:");

  it("parses, both ways, to the AST of the comma form", () => {
    // Before: `4:25 E0104 expected a name in a variable reference, found `for`` and `5:3 E0107`.
    for (const byModel of [true, false]) {
      const r = parse(nested, "n.gm", { byModel });
      expect(r.diagnostics.map(where)).toEqual([]);
      expect(stripSpans(r.ast)).toEqual(stripSpans(parse(comma, "c.gm").ast));
    }
    const assume = parse(nested, "n.gm").ast.models[0].body[2];
    expect(assume.kind).toBe("Assume");
    // The statement spans from `assume` to the end of its claim.
    expect(nested.slice(assume.span.start.offset, assume.span.end.offset)).toBe(nested.split("\n")[3].trim());
  });

  it("compiles to the same model and checks (the Markov field count: 1 + 2 + 2 + … )", () => {
    const a = compileText(nested, "n.gm");
    const b = compileText(comma, "c.gm");
    expect(a.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual(
      b.diagnostics.map((d) => `${d.code} ${d.message}`),
    );
    expect(a.models.length).toBe(1);
  });

  it("also after `for …:` and as three levels; the formatter writes the comma form", () => {
    const text =
      "model M {\n  x : Bernoulli[2, 2, 2]\n  p(x) = chain\n  for a in 2..2: assume for b in 1..2: for c in 1..2: x[a, b, c] ⊥ x[1, b, c]\n}\n";
    const r = parse(text, "t.gm");
    expect(r.diagnostics).toEqual([]);
    const s = r.ast.models[0].body[2];
    expect(s.kind === "Assume" && s.quantifiers.map((q) => q.variable.name)).toEqual(["a", "b", "c"]);
    expect(print(r.ast)).toContain("for a in 2..2, b in 1..2, c in 1..2: x[a, b, c] ⊥ x[1, b, c]");
  });

  it("keeps an error in an inner quantifier an error", () => {
    const r = parse("model M {\n  x : Bernoulli[3]\n  check for i in 1..2: for j 3..3: x[j] ⊥ x[i]\n}\n", "e.gm");
    expect(r.diagnostics.map(where)).toEqual(["3:30 E0104"]);
  });
});

describe("a bad statement does not end its model block", () => {
  it("a missing `:`: one error, with the fix as its hint; the next statements still parse", () => {
    // Before: `2:3 E0105 expected a statement …, found `x`` (no hint), then `3:3 E0107 expected
    // `model Name { … }`, found `p``.
    const text = "model M {\n  x Bernoulli[3]\n  p(x) = chain\n  check params == 7\n}\n";
    const r = parse(text, "m.gm");
    expect(r.diagnostics.map(where)).toEqual(["2:3 E0105"]);
    expect(r.diagnostics[0].hint).toBe("declare a variable with `:`: `x : Bernoulli[3]`");
    expect(r.ast.models[0].body.map((s) => s.kind)).toEqual(["Factor", "Check"]);
  });

  it.each([
    ["a line that cannot begin a statement", "  = chain", "Var Factor"],
    ["a number", "  42", "Var Factor"],
    ["a claim without `check`", "  x[1] ⊥ x[2]", "Var Factor"],
    ["a stray `)`", "  )", "Var Factor"],
    // The block stays, without the broken entry.
    ["a train entry without a value", "  train { epochs = }", "Var Train Factor"],
  ])("%s", (_, bad, kinds) => {
    const text = `model M {\n  x : Bernoulli[3]\n${bad}\n  p(x) = chain\n}\nmodel N {\n  y : Bernoulli\n  p(y) = table\n}\n`;
    const r = parse(text, "m.gm");
    expect(r.diagnostics.every((d) => d.span.start.line === 3)).toBe(true);
    expect(r.diagnostics.length).toBe(1);
    expect(r.ast.models.map((m) => `${m.name.name}: ${m.body.map((s) => s.kind).join(" ")}`)).toEqual([
      `M: ${kinds}`,
      "N: Var Factor",
    ]);
  });

  /** Lines that break the statement they are. */
  const BAD_LINES = [
    "x Bernoulli[3]",
    "= chain",
    "42",
    "check ⊥ y",
    "x[1] ⊥ x[2]",
    "const = 3",
    "for i in 1..3: 42",
    ")",
    "]",
    ": Bernoulli",
    "check params = = 3",
    "p(x | ) = table",
    "order x",
    "fit",
    "latent : Normal",
    "y = generator by mlp",
  ];
  /** Lines of an example before which a new statement may go (the line before ends a statement). */
  const STARTS = /^\s*(const |check |assume |fit |order |latent |[pq]\(|for |[A-Za-z_]\w*\s*:)/;
  const OPEN_END = /[,|=+\-*/^([{:⊥]\s*$|^\s*(train\b|model\b)/;
  const places = exampleFiles().flatMap(({ name, text }) => {
    const lines = text.split("\n");
    const out: Array<{ name: string; text: string; line: number }> = [];
    let inTrain = false;
    for (let i = 1; i < lines.length; i++) {
      if (/\btrain\s*\{/.test(lines[i - 1])) inTrain = !/\}/.test(lines[i - 1].split("train")[1]);
      else if (inTrain && /\}/.test(lines[i - 1])) inTrain = false;
      const prev = lines[i - 1].replace(/\/\/.*$/, "");
      if (
        !inTrain &&
        STARTS.test(lines[i]) &&
        !OPEN_END.test(prev) &&
        !/\/\*/.test(text.slice(0, text.indexOf(lines[i])))
      )
        out.push({ name, text, line: i });
    }
    return out;
  });

  it("has places to break (examples/ has statements)", () => expect(places.length).toBeGreaterThan(50));

  it(`a broken statement stays inside its model (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...places), fc.constantFrom(...BAD_LINES), ({ text, line }, bad) => {
        const lines = text.split("\n");
        const broken = [...lines.slice(0, line), `  ${bad}`, ...lines.slice(line)].join("\n");
        const r = parse(broken, "b.gm");
        // Errors only on the broken line, and the rest of the file as it was.
        expect(r.diagnostics.length).toBeGreaterThan(0);
        expect(
          r.diagnostics.map((d) => `${d.span.start.line} ${d.code}`).filter((d) => !d.startsWith(`${line + 1} `)),
        ).toEqual([]);
        expect(stripSpans(r.ast)).toEqual(stripSpans(parse(text, "ok.gm").ast));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("lone `\\r` line ends", () => {
  it("report the line and column a `\\n` file does (the tester's `1:39` for 3:10)", () => {
    const text = "model M {\r  x : Bernoulli[3]\r  p(x) = chian\r  check params = 3\r}\r";
    const r = parse(text, "cr.gm");
    // Before: `1:45 E0105` (every position on line 1).
    expect(r.diagnostics.map(where)).toEqual(["4:16 E0105"]);
    const c = compileText(text.replace("params = 3", "params == 3"), "cr.gm");
    expect(c.diagnostics.map(where)).toEqual(["3:10 E0205"]);
  });

  /** Every span in a tree, by path. */
  function* spans(node: unknown, path = "ast"): Generator<[string, Span]> {
    if (Array.isArray(node)) for (let i = 0; i < node.length; i++) yield* spans(node[i], `${path}[${i}]`);
    else if (node && typeof node === "object")
      for (const [k, v] of Object.entries(node)) {
        if (k === "span") yield [path, v as Span];
        else yield* spans(v, `${path}.${k}`);
      }
  }
  const lc = (s: Span) => `${s.start.line}:${s.start.column}-${s.end.line}:${s.end.column}`;

  it(`lone \`\\r\` line ends give the positions of \`\\n\` (${NUM_RUNS} runs)`, () => {
    const files = exampleFiles().map((f) => f.text);
    // Some broken, so there are diagnostics to compare too.
    const broken = files.map((t) => t.replace(/\n(\s*)p\(/, "\n$1x Bernoulli\n$1p(").replace(/==/, "="));
    fc.assert(
      fc.property(fc.constantFrom(...files, ...broken), fc.constantFrom("\r", "\r\n"), (lf, eol) => {
        const other = lf.replace(/\n/g, eol);
        const a = parse(lf, "f.gm");
        const b = parse(other, "f.gm");
        expect(b.diagnostics.map((d) => `${d.code} ${lc(d.span)} ${d.hint ?? ""}`)).toEqual(
          a.diagnostics.map((d) => `${d.code} ${lc(d.span)} ${d.hint ?? ""}`),
        );
        expect([...spans(b.ast)].map(([p, s]) => `${p} ${lc(s)}`)).toEqual(
          [...spans(a.ast)].map(([p, s]) => `${p} ${lc(s)}`),
        );
        expect(b.comments.map((c) => lc(c.span))).toEqual(a.comments.map((c) => lc(c.span)));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("digit separators (LANGUAGE.md §1: `1_000`)", () => {
  it.each([
    ["1_", "1"],
    ["1__000", "1_000"],
    ["1_000_", "1_000"],
    ["1_.5", "1.5"],
    ["2.5_e3", "2.5e3"],
    ["1_000__000", "1_000_000"],
  ])("`%s` is E0111, hint `%s`", (lit, fixed) => {
    // Before: `1_` read as 1 and `1__000` as 1000, no diagnostic.
    for (const byModel of [true, false]) {
      const r = parse(`model M {\n  const n = ${lit}\n}\n`, "n.gm", { byModel });
      expect(r.diagnostics.map((d) => `${where(d)} ${d.hint}`)).toEqual([`2:13 E0111 write \`${fixed}\``]);
    }
    expect(print(parse(`model M {\n  const n = ${fixed}\n}\n`).ast)).toContain(`const n = ${fixed}`);
  });

  it.each(["1_000", "1_000.000_1", "1e10", "0.5", "1_0e-3"])("`%s` is fine", (lit) => {
    expect(parse(`model M {\n  const n = ${lit}\n}\n`).diagnostics).toEqual([]);
  });
});

describe("hints", () => {
  const cases: Array<[string, string, string]> = [
    ["model M {\n  x : Bernoulli[3] $\n}\n", "2:20 E0101", "delete it: gm has no `$`"],
    ["model M {\n  x : Bernoulli[3]\n", "2:19 E0104", "add `}` to close `model M {` (line 1)"],
    ["model M {\n  x : Bernoulli\n  p(x = table\n}\n", "3:7 E0104", "add `)` to close the `(` at line 3, column 4"],
    ["model M {\n  check params == 1e\n}\n", "2:20 E0105", "an exponent needs digits: `1e3`, `1e-3`"],
    ["model M {\n  check params == 0x10\n}\n", "2:20 E0105", "numbers are decimal: write `16` for `0x10`"],
    ["model M {\n  check params == 5.\n}\n", "2:20 E0101", "a decimal has digits after the point: write `5.0` or `5`"],
    ["model M {\n  x : Bernoulli\n  check x not_|_ x\n}\n", "3:11 E0104", "`not_|_` reads as the name `not_`"],
    ["model M {\n  x : Bernoulli\n  check m == 512\n}\n", "3:11 E0104", "write `check params == …`"],
    ["model M {\n  n = 16\n}\n", "2:7 E0104", "declare a constant with `const`: `const n = 16`"],
    ["model { x : Bernoulli }\n", "1:7 E0104", "name the model: `model Name { … }`"],
    ["model M {\n}\n}\n", "3:1 E0107", "this `}` closes no block"],
    ["modle M {\n}\n", "1:1 E0107", "did you mean `model`?"],
    ["model M {\n  x : Bernoulli[]\n}\n", "2:17 E0105", "a shape lists one or more sizes"],
    [
      "model M {\n  x : Bernoulli\n  check x ⊥ x |\n}\n",
      "4:1 E0104",
      "name what the claim is conditioned on after `|`",
    ],
  ];
  it.each([
    ["Model M {", "1:1 E0107", "did you mean `model`?"],
    ["modle M {", "1:1 E0107", "did you mean `model`?"],
    ["model 3 {", "1:7 E0104", "a name is a letter or `_`"],
    ["model in {", "1:7 E0104", "`in` is a keyword"],
    ["model {", "1:7 E0104", "name the model: `model Name { … }`"],
    ["model M", "1:8 E0104", "add `{` after `model M`"],
  ])("a broken header `%s` is one error (%s), and the file's other models still parse", (head, at, hint) => {
    // Before, `Model M {`, `modle M {` and `model 3 {` lost their block: `1:7 E0104`, then
    // `2:3 E0107` and `3:3 E0107` for its statements.
    const text = `${head}\n  x : Bernoulli\n  p(x) = table\n}\nmodel N {\n  y : Bernoulli\n  p(y) = table\n}\n`;
    for (const byModel of [true, false]) {
      const r = parse(text, "h.gm", { byModel });
      expect(r.diagnostics.map(where)).toEqual([at]);
      expect(r.diagnostics[0].hint).toContain(hint);
      expect(r.ast.models.map((m) => m.name.name)).toContain("N");
    }
  });

  it.each(cases)("%j: %s", (text, at, hint) => {
    // Before: E0101 `$`, E0104 missing `}` and E0105 `x Bernoulli` (and most others) had no hint.
    const r = parse(text, "h.gm");
    expect(r.diagnostics.map(where)[0]).toBe(at);
    expect(r.diagnostics[0].hint).toContain(hint);
  });

  const PIECES = [
    "x",
    "p",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "=",
    "==",
    "⊥",
    "|",
    ",",
    "..",
    "1",
    "2_0",
    "Bernoulli",
    "check",
    "assume",
    "for",
    "in",
    "const",
    "latent",
    "order",
    "fit",
    "train",
    "params",
    "not",
    "generator",
    "by",
    "\n",
    ";",
    "$",
    '"s"',
    "-",
    "*",
    "^",
    "<",
    "model M {",
    "}",
    "1e",
    "0x1",
    "5.",
  ];
  it(`every E01xx diagnostic has a hint (${NUM_RUNS * 3} runs)`, () => {
    const soup = fc
      .array(fc.constantFrom(...PIECES), { maxLength: 30 })
      .map((ps) => `model M {\n  ${ps.join(" ")}\n}\n`);
    fc.assert(
      fc.property(soup, (text) => {
        for (const d of parse(text, "s.gm").diagnostics) expect(d.hint, `${where(d)} ${d.message}`).toMatch(/\S/);
      }),
      { numRuns: NUM_RUNS * 3 },
    );
  });
});
