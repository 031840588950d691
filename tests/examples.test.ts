/**
 * The examples/ folder is the lecture's path (coin → categorical → RGB pixel → … → GAN), one
 * idea per numbered file. Every file is a test: it compiles with no error, every `check` line
 * holds (compileText proves them), it is already in `gm fmt` layout, it opens with a header
 * comment that teaches the idea, and each model states its parameter count with
 * `check params == …`. The CLI is run once over all of them, as a user would.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compileText } from "../src/compiler/compile.js";
import { renderDiagnostic } from "../src/dsl/diagnostics.js";
import { format } from "../src/dsl/format.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DIR = join(ROOT, "examples");

const names = readdirSync(DIR)
  .filter((f) => f.endsWith(".gm"))
  .sort();
const examples = names.map((name) => ({ name, path: `examples/${name}`, text: readFileSync(join(DIR, name), "utf8") }));

/** The comment lines before the first `model`. */
function header(text: string): string[] {
  const lines = text.split("\n");
  const end = lines.findIndex((l) => /^\s*model\b/.test(l));
  return lines.slice(0, end < 0 ? lines.length : end).filter((l) => l.startsWith("//"));
}

describe("examples/", () => {
  it("walks the lecture's path: at least 14 files, numbered NN-name.gm with distinct numbers", () => {
    expect(names.length).toBeGreaterThanOrEqual(14);
    for (const n of names) expect(n).toMatch(/^\d{2}-[a-z0-9-]+\.gm$/);
    const numbers = names.map((n) => n.slice(0, 2));
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  describe.each(examples)("$path", ({ path, text }) => {
    const r = compileText(text, path);

    it("compiles with no errors and every `check` line holds", () => {
      const errors = r.diagnostics.filter((d) => d.severity === "error").map((d) => renderDiagnostic(d, text));
      expect(errors).toEqual([]);
      expect(r.models.length).toBe(r.ast.models.length);
      expect(r.models.length).toBeGreaterThan(0);
    });

    it("has no warnings", () => {
      expect(r.diagnostics.map((d) => renderDiagnostic(d, text))).toEqual([]);
    });

    it("is already formatted (gm fmt --check)", () => {
      const f = format(text, path);
      expect(f.ok).toBe(true);
      if (f.ok) expect(f.text).toBe(text);
    });

    it("opens with a header comment of 10–25 lines", () => {
      expect(text.startsWith("//")).toBe(true);
      const h = header(text);
      expect(h.length).toBeGreaterThanOrEqual(10);
      expect(h.length).toBeLessThanOrEqual(25);
    });

    it("states the parameter count of every model with `check params`, and checks an independence", () => {
      let independence = 0;
      for (const m of r.ast.models) {
        const checks = m.body.filter((s) => s.kind === "Check");
        const params = checks.filter((s) => s.kind === "Check" && s.claim.kind === "Params");
        expect(params.length, `model ${m.name.name}`).toBeGreaterThan(0);
        independence += checks.length - params.length;
      }
      expect(independence).toBeGreaterThan(0);
    });
  });

  it("`gm check examples/*.gm` exits 0 and reports every file ok", () => {
    const files = examples.map((e) => e.path);
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "check", ...files], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 60_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    for (const f of files) expect(run.stdout).toMatch(new RegExp(`^ok ${f.replace(/[.]/g, "\\.")}: `, "m"));
  });
});
