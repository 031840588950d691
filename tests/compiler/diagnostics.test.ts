/**
 * Golden diagnostics: every `tests/fixtures/bad/NAME.gm` compiles to exactly the diagnostics
 * in `NAME.expected` — each rendered by `renderDiagnostic` without colour (file:line:col,
 * code, message, the source line with carets, notes, hint), separated by blank lines.
 *
 * A fixture's name starts with the code it is about (`E0403-cycle.gm`), and that code must be
 * among its diagnostics. Every code the front end and the compiler can emit (found by reading
 * src/compiler/*.ts, src/dsl/parse.ts and src/dsl/toAst.ts) must have a fixture, and every code
 * must have a row in docs/diagnostics.md.
 *
 * Update the goldens after an intended change of wording (then read every diff!):
 *   UPDATE_GOLDEN=1 npx vitest run tests/compiler/diagnostics.test.ts
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile.js";
import { renderDiagnostic } from "../../src/dsl/diagnostics.js";
import { REPO } from "../dsl/helpers.js";

const DIR = join(REPO, "tests", "fixtures", "bad");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

const fixtures = readdirSync(DIR)
  .filter((f) => f.endsWith(".gm"))
  .sort();

/** The rendered diagnostics of a fixture, as the golden file holds them. */
function render(name: string): { text: string; codes: string[] } {
  const source = readFileSync(join(DIR, name), "utf8");
  const r = compileText(source, name);
  const text = r.diagnostics.map((d) => renderDiagnostic(d, source)).join("\n\n");
  return { text: `${text}\n`, codes: r.diagnostics.map((d) => d.code) };
}

/**
 * Codes the sources mention but no input can produce, with the reason (checked below, so the
 * exemption goes away when the reason does).
 */
const UNREACHABLE: Record<string, { reason: string; stillTrue: () => boolean }> = {
  E0106: {
    reason: "chevrotain raises EarlyExitException only from AT_LEAST_ONE rules, and src/dsl/parser.ts has none",
    stillTrue: () => !/AT_LEAST_ONE/.test(readFileSync(join(REPO, "src", "dsl", "parser.ts"), "utf8")),
  },
};

/** Every diagnostic code in the sources that emit `.gm` diagnostics. */
function codesInSource(): string[] {
  const files = [
    ...readdirSync(join(REPO, "src", "compiler"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(REPO, "src", "compiler", f)),
    join(REPO, "src", "dsl", "parse.ts"),
    join(REPO, "src", "dsl", "toAst.ts"),
  ];
  const codes = new Set<string>();
  for (const f of files) for (const m of readFileSync(f, "utf8").matchAll(/"([EW]0\d{3})"/g)) codes.add(m[1]);
  return [...codes].sort();
}

describe("golden diagnostics (tests/fixtures/bad)", () => {
  it.each(fixtures)("%s", (name) => {
    const { text, codes } = render(name);
    const code = name.slice(0, 5);
    expect(codes, `${name} should report ${code}`).toContain(code);
    const golden = join(DIR, name.replace(/\.gm$/, ".expected"));
    if (UPDATE || !existsSync(golden)) {
      if (!UPDATE)
        expect.fail(`${golden} is missing; run UPDATE_GOLDEN=1 npx vitest run tests/compiler/diagnostics.test.ts`);
      writeFileSync(golden, text);
      return;
    }
    expect(text).toBe(readFileSync(golden, "utf8"));
  });

  it("every code the compiler and the parser can emit has a fixture", () => {
    const covered = new Set(fixtures.map((f) => f.slice(0, 5)));
    const missing = codesInSource().filter((c) => !covered.has(c) && !UNREACHABLE[c]);
    expect(missing, "codes without a fixture in tests/fixtures/bad").toEqual([]);
  });

  it.each(Object.entries(UNREACHABLE))("%s is exempt only while it cannot happen", (code, { reason, stillTrue }) => {
    expect(stillTrue(), `${code} can happen now (${reason} no longer holds): add a fixture`).toBe(true);
  });

  it("every fixture's code exists in the sources, and no .expected file is orphaned", () => {
    const known = new Set(codesInSource());
    expect(fixtures.map((f) => f.slice(0, 5)).filter((c) => !known.has(c))).toEqual([]);
    const orphans = readdirSync(DIR).filter(
      (f) => f.endsWith(".expected") && !fixtures.includes(f.replace(/\.expected$/, ".gm")),
    );
    expect(orphans).toEqual([]);
  });

  it("docs/diagnostics.md has a row for every code", () => {
    const doc = readFileSync(join(REPO, "docs", "diagnostics.md"), "utf8");
    const missing = codesInSource().filter((c) => !new RegExp(`^\\| \`?${c}\`? \\|`, "m").test(doc));
    expect(missing, "codes missing from docs/diagnostics.md").toEqual([]);
  });
});
