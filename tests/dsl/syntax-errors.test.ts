/**
 * Syntax diagnostics, exactly as the user sees them.
 *
 * Golden files: every tests/fixtures/syntax/NAME.gm is parsed as `NAME.gm` and its diagnostics,
 * rendered with `renderDiagnostic` and separated by blank lines, must equal NAME.expected.
 * A fixture named `E01xx-…` must report exactly one diagnostic, with that code.
 * `GM_UPDATE_GOLDEN=1 npx vitest run tests/dsl/syntax-errors.test.ts` rewrites the .expected files
 * (review the diff before committing).
 */
import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NonTerminal, RepetitionMandatory, RepetitionMandatoryWithSeparator, type IProduction } from "chevrotain";
import { stripSpans } from "../../src/dsl/ast.js";
import { renderDiagnostic, type Diagnostic } from "../../src/dsl/diagnostics.js";
import { parse } from "../../src/dsl/parse.js";
import { gmParser } from "../../src/dsl/parser.js";
import { print } from "../../src/dsl/printer.js";
import { KEYWORDS } from "../../src/dsl/tokens.js";
import { REPO } from "./helpers.js";

const FIXTURES = join(REPO, "tests/fixtures/syntax");
const UPDATE = process.env.GM_UPDATE_GOLDEN === "1";

function render(text: string, file: string): string {
  return parse(text, file)
    .diagnostics.map((d) => renderDiagnostic(d, text))
    .join("\n\n");
}

const where = (d: Diagnostic) => `${d.span.start.line}:${d.span.start.column} ${d.code}`;

describe("golden syntax diagnostics (tests/fixtures/syntax)", () => {
  const fixtures = readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".gm"))
    .sort();

  for (const f of fixtures) {
    it(f, () => {
      const text = readFileSync(join(FIXTURES, f), "utf8");
      const actual = `${render(text, f)}\n`;
      const expectedPath = join(FIXTURES, f.replace(/\.gm$/, ".expected"));
      if (UPDATE) writeFileSync(expectedPath, actual);
      expect(existsSync(expectedPath), `${expectedPath} is missing (GM_UPDATE_GOLDEN=1 writes it)`).toBe(true);
      expect(actual).toBe(readFileSync(expectedPath, "utf8"));

      const code = /^(E01\d\d)-/.exec(f)?.[1];
      if (code) expect(parse(text, f).diagnostics.map((d) => d.code)).toEqual([code]);
    });
  }

  it("covers every syntax code that the grammar can produce", () => {
    const covered = new Set(fixtures.map((f) => /^(E01\d\d)-/.exec(f)?.[1]).filter(Boolean));
    // E0106 is unreachable today (see below).
    expect([...covered].sort()).toEqual(["E0101", "E0102", "E0103", "E0104", "E0105", "E0107", "E0108", "E0111"]);
  });

  it("E0106 (a required repetition is empty) cannot occur: the grammar has no AT_LEAST_ONE", () => {
    // Every required list is written `x { , x }`, so an empty one is reported as E0104/E0105 at
    // its first element. If a rule starts using AT_LEAST_ONE(_SEP), this fails: add an
    // `E0106-….gm` fixture and list E0106 above.
    const mandatory: string[] = [];
    const walk = (rule: string, ps: IProduction[]) => {
      for (const p of ps) {
        if (p instanceof RepetitionMandatory || p instanceof RepetitionMandatoryWithSeparator) mandatory.push(rule);
        // A NonTerminal's `definition` is the referenced rule's: every rule is walked on its own.
        const nested = p instanceof NonTerminal ? undefined : (p as { definition?: IProduction[] }).definition;
        if (nested) walk(rule, nested);
      }
    };
    for (const [name, rule] of Object.entries(gmParser.getGAstProductions())) walk(name, rule.definition);
    expect(mandatory).toEqual([]);
    // The empty list that would be E0106 with AT_LEAST_ONE:
    const r = parse("model M {\n  check ⊥ y\n}\n", "e.gm");
    expect(r.diagnostics.map(where)).toEqual(["2:9 E0105"]);
  });
});

describe("exact messages (inline)", () => {
  const cases: Array<[string, string, string]> = [
    [
      "E0101 `'` for a string",
      "model M {\n  train { data = idx('imgs.gz') }\n}\n",
      [
        "m.gm:2:22: error[E0101]: unexpected character `'`",
        "2 |   train { data = idx('imgs.gz') }",
        "  |                      ^",
        'hint: strings use double quotes: "…"',
      ].join("\n"),
    ],
    [
      "E0101 outside any model, astral character",
      "😀\n",
      [
        "m.gm:1:1: error[E0101]: unexpected character `😀` (U+1F600)",
        "1 | 😀",
        "  | ^^",
        "hint: names use ASCII letters, digits and `_`; the operators `⊥`, `×` and `−` are the only other symbols",
      ].join("\n"),
    ],
    [
      "E0104 missing `}` at the end of the file points after the last token",
      "model M {\n  x : Bernoulli\n",
      [
        "m.gm:2:16: error[E0104]: expected `}` to close the model block, found the end of the file",
        "2 |   x : Bernoulli",
        "  |                ^",
        "hint: add `}` to close `model M {` (line 1)",
      ].join("\n"),
    ],
    [
      "E0104 missing `}` before the next model",
      "model A {\n  x : Bernoulli\n\nmodel B {}\n",
      [
        "m.gm:2:16: error[E0104]: expected `}` to close the model block, found `model`",
        "2 |   x : Bernoulli",
        "  |                ^",
        "hint: add `}` to close `model A {` (line 1)",
      ].join("\n"),
    ],
    [
      "E0105 no claim after check",
      "model M {\n  check ⊥ y\n}\n",
      [
        "m.gm:2:9: error[E0105]: expected a claim after `check` (`params`, a name), found `⊥`",
        "2 |   check ⊥ y",
        "  |         ^",
        "hint: a check reads `check x[3] ⊥ x[1] | x[2]`, `check x[2] not ⊥ x[1]` or `check params == 2*n - 1`",
      ].join("\n"),
    ],
    [
      "E0105 something that cannot start a statement",
      "model M {\n  42\n}\n",
      [
        "m.gm:2:3: error[E0105]: expected a statement (`const`, `latent`, a name, `order`, `for`, `assume`, `check`, `fit`, `train`), found `42`",
        "2 |   42",
        "  |   ^^",
        "hint: a statement is `const n = 16`, `x : Bernoulli[n]`, `p(x) = chain`, `assume …`, `check …`, `order x raster`, `fit …` or `train { … }`",
      ].join("\n"),
    ],
    [
      "E0105 a statement keyword with nothing after it lists what can start one",
      "model M {\n  for i in 1..3: 42\n}\n",
      [
        "m.gm:2:18: error[E0105]: expected a statement after `for …:` (`for`, a name, `assume`, `check`), found `42`",
        "2 |   for i in 1..3: 42",
        "  |                  ^^",
        "hint: a loop reads `for i in 2..n: p(x[i] | x[i-1]) = table`",
      ].join("\n"),
    ],
    [
      "E0104 `:` for `=` in a train block",
      "model M {\n  train {\n    epochs : 3\n    lr = 1e-3\n  }\n}\n",
      [
        "m.gm:3:12: error[E0104]: expected `=` in a train entry, found `:`",
        "3 |     epochs : 3",
        "  |            ^",
        "hint: write `=` instead of `:`: a train entry reads `name = value`, e.g. `epochs = 10`",
      ].join("\n"),
    ],
    [
      "E0104 keyword before `:`",
      "model M {\n  fit : Bernoulli\n}\n",
      [
        "m.gm:2:3: error[E0104]: expected a name, found the keyword `fit`",
        "2 |   fit : Bernoulli",
        "  |   ^^^",
        "hint: `fit` is a keyword; choose another name",
      ].join("\n"),
    ],
  ];
  for (const [title, text, expected] of cases) {
    it(title, () => expect(render(text, "m.gm")).toBe(expected));
  }
});

describe("fault tolerance", () => {
  it("reports three independent errors on three lines, and parses the statements around them", () => {
    const text = readFileSync(join(FIXTURES, "three-errors.gm"), "utf8");
    const r = parse(text, "three-errors.gm");
    expect(r.diagnostics.map(where)).toEqual(["3:18 E0104", "5:16 E0105", "6:12 E0105"]);
    expect(print(r.ast)).toBe(
      [
        "model Broken {",
        "  const n = 16",
        "  x : Bernoulli[n]",
        "  y : Bernoulli[n]",
        "  p(x) = chain",
        "  p(y) = chain",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("reports errors in several models and keeps the good models", () => {
    const text = [
      "model A {",
      "  x : Bernoulli[",
      "}",
      "model B {",
      "  y : Bernoulli",
      "  p(y) = joint",
      "}",
      "model C {",
      "  check params = 1",
      "}",
    ].join("\n");
    const r = parse(text, "m.gm");
    expect(r.diagnostics.map(where)).toEqual(["3:1 E0105", "9:16 E0105"]);
    expect(r.ast.models.map((m) => m.name.name)).toEqual(["A", "B", "C"]);
    expect(print({ ...r.ast, models: [r.ast.models[1]] })).toBe("model B {\n  y : Bernoulli\n  p(y) = joint\n}\n");
  });

  /** Lines that stop in the middle of a statement (none leaves a bracket open across lines but one). */
  const UNFINISHED = [
    "check x[1] ⊥",
    "check x[1] ⊥ x[2] |",
    "check x[1] ⊥ x[2],",
    "assume x[1] not",
    "assume for i in 2..3: x[i] ⊥",
    "const n = 2 *",
    "const n =",
    "check params ==",
    "x : Bernoulli[3",
    "x : Categorical(",
    "p(x | y) = mlp(hidden = [3]",
    "order x",
    "fit elbo +",
    "fit",
    "p(x) =",
    "y = generator(z) by",
  ];
  const NEXT = [
    "p(x) = chain",
    "q(z | x) = mlp",
    "const k = 1",
    "w : Bernoulli",
    "latent u : Normal",
    "v = generator(z) by mlp",
    "fit elbo",
    "train {}",
    "order x raster",
    "for i in 1..3: p(x[i]) = table",
    "assume x[1] ⊥ x[2]",
    "check params == 1",
  ];

  it(`an unfinished line is reported once, at its end, and the next statement still parses (${UNFINISHED.length}×${NEXT.length} pairs)`, () => {
    const failures: string[] = [];
    for (const u of UNFINISHED) {
      for (const n of NEXT) {
        const text = `model M {\n  x : Bernoulli[3]\n  ${u}\n  ${n}\n}\n`;
        const r = parse(text, "m.gm");
        const alone = parse(`model M {\n  ${n}\n}\n`).ast.models[0].body;
        const got = r.ast.models[0]?.body.at(-1);
        const ok =
          r.diagnostics.length === 1 &&
          r.diagnostics[0].span.start.line === 3 &&
          r.diagnostics[0].span.start.column === `  ${u}`.length + 1 &&
          JSON.stringify(stripSpans(got)) === JSON.stringify(stripSpans(alone.at(-1)));
        if (!ok)
          failures.push(
            `${JSON.stringify(u)} then ${JSON.stringify(n)}: ${r.diagnostics.map(where).join(", ")}; last statement ${got ? print({ ...r.ast, models: [{ ...r.ast.models[0], body: [got] }] }).split("\n")[1] : "none"}`,
          );
      }
    }
    expect(failures).toEqual([]);
  });

  it("the golden unfinished line: one caret just past `⊥`, then `p(x) = chain` parses", () => {
    const text = readFileSync(join(FIXTURES, "unfinished-line.gm"), "utf8");
    const r = parse(text, "unfinished-line.gm");
    expect(r.diagnostics.map(where)).toEqual(["3:15 E0104"]);
    expect(r.diagnostics[0].span.start.offset).toBe(text.indexOf("⊥") + 1);
    expect(print(r.ast)).toBe("model Unfinished {\n  x : Bernoulli[3]\n  p(x) = chain\n}\n");
  });

  it("statements may continue on the next line where the line is unfinished on purpose", () => {
    const text = [
      "model M {",
      "  latent",
      "    z : Normal[4]",
      "  order z",
      "    random(seed = 7)",
      "  for i in 1..",
      "      4:",
      "    assume z[i] ⊥ z[1]",
      "  for i in 2..4:",
      "    check z[i] ⊥ z[1]",
      "  for i in 2..4:",
      "    p(z[i] |",
      "      z[i - 1]) =",
      "      table",
      "  const n = 2 *",
      "    3",
      "  fit elbo +",
      "    adversarial(on = z)",
      "}",
    ].join("\n");
    const r = parse(text, "m.gm");
    expect(r.diagnostics.map((d) => renderDiagnostic(d, text))).toEqual([]);
    expect(print(r.ast)).toBe(
      [
        "model M {",
        "  latent z : Normal[4]",
        "  order z random(seed = 7)",
        "  assume for i in 1..4: z[i] ⊥ z[1]",
        "  check for i in 2..4: z[i] ⊥ z[1]",
        "  for i in 2..4: p(z[i] | z[i-1]) = table",
        "  const n = 2*3",
        "  fit elbo + adversarial(on = z)",
        "}",
        "",
      ].join("\n"),
    );
  });
});

describe("keywords used as names", () => {
  const PLACES = [
    (k: string) => `const ${k} = 1`,
    (k: string) => `${k} : Bernoulli`,
    (k: string) => `latent ${k} : Normal`,
    (k: string) => `w : Bernoulli[${k}]`,
    (k: string) => `p(${k}) = chain`,
    (k: string) => `order ${k} raster`,
    (k: string) => `fit ${k}`,
    (k: string) => `check ${k} ⊥ x`,
    (k: string) => `y = generator(${k}) by mlp`,
    (k: string) => `train { ${k} = 1 }`,
    (k: string) => `p(x) = mlp(${k} = 1)`,
  ];

  it(`every keyword in ${PLACES.length} places: one error with the keyword hint, and the next statement parses`, () => {
    const failures: string[] = [];
    for (const k of KEYWORDS) {
      for (const place of PLACES) {
        const line = place(k);
        const text = `model M {\n  x : Bernoulli[3]\n  ${line}\n  p(x) = chain\n}\n`;
        const r = parse(text, "m.gm");
        const ok =
          r.diagnostics.length === 1 &&
          r.diagnostics[0].span.start.line === 3 &&
          r.diagnostics[0].hint === `\`${k}\` is a keyword; choose another name` &&
          r.ast.models[0]?.body.at(-1)?.kind === "Factor";
        if (!ok)
          failures.push(
            `${JSON.stringify(line)}: ${r.diagnostics.map((d) => `${where(d)} ${d.message} [${d.hint ?? ""}]`).join("; ")}`,
          );
      }
    }
    expect(failures).toEqual([]);
  });

  it("points at the keyword itself", () => {
    const text = "model M {\n  latent in : Normal\n  check params(x) == 1\n}\n";
    const r = parse(text, "m.gm");
    expect(r.diagnostics.map((d) => renderDiagnostic(d, text))).toEqual([
      [
        "m.gm:2:10: error[E0104]: expected a name, found the keyword `in`",
        "2 |   latent in : Normal",
        "  |          ^^",
        "hint: `in` is a keyword; choose another name",
      ].join("\n"),
    ]);
  });

  it("names that merely start with a keyword are fine", () => {
    const text =
      "model model_1 {\n  orders : Bernoulli\n  const fitness = 2\n  p(orders) = chain\n  check paramsx ⊥ notx\n}\n";
    expect(parse(text).diagnostics).toEqual([]);
  });
});
