/**
 * The tester's syntax cases through the built `gm` (the CLI bundle built as `npm run build` builds
 * it, into node_modules/.cache), in a child process as a user runs it: exit status, and stderr as
 * printed. See recovery.test.ts for what each case did before.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "../cli/build-cli.js";
import { REPO } from "./helpers.js";

// Built inside the repository so the bundle finds its packages in node_modules.
const outDir = join(REPO, "node_modules", ".cache", "gm-syntax-test");
let dir = "";
let gm = "";

beforeAll(async () => {
  gm = await buildCli(outDir);
  dir = mkdtempSync(join(tmpdir(), "gm-syntax-"));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(name: string, text: string): { status: number | null; out: string } {
  const file = join(dir, name);
  writeFileSync(file, text);
  const r = spawnSync(process.execPath, [gm, "check", name], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("gm check on syntax errors (the built CLI)", () => {
  it("a missing `:` is one error with the fix as its hint, exit 1", () => {
    const r = check("colon.gm", "model M {\n  x Bernoulli[3]\n  p(x) = chain\n}\n");
    expect(r.status).toBe(1);
    expect(r.out).toContain("colon.gm:2:3: error[E0105]");
    expect(r.out).toContain("hint: declare a variable with `:`: `x : Bernoulli[3]`");
    expect(r.out).not.toContain("E0107");
    expect(r.out).toContain("1 error in 1 of 1 file");
  });

  it("a nested `for` after `assume for …:` checks clean, exit 0", () => {
    const r = check(
      "nested.gm",
      "model M {\n  x : Bernoulli[3, 3]\n  p(x) = chain\n  assume for r in 2..3: for c in 1..3: x[r, c] ⊥ x[1..r-2, *] | x[r-1, *], x[r, 1..c-1]\n  check for i in 1..2: for j in 3..3: x[j, 1] not ⊥ x[i, 1]\n}\n",
    );
    expect(r.out).toMatch(/^ok nested\.gm: 1 model, 1 check passed/);
    expect(r.status).toBe(0);
  });

  it("lone `\\r` line ends: the compiler's error at its line and column, with that line shown", () => {
    const r = check("cr.gm", "model M {\r  x : Bernoulli[3]\r  p(x) = chian\r}\r");
    expect(r.status).toBe(1);
    expect(r.out).toContain("cr.gm:3:10: error[E0205]: unknown family `chian`\n3 |   p(x) = chian\n  |          ^^^^^");
  });

  it("`1__000` is E0111, exit 1", () => {
    const r = check("sep.gm", "model M {\n  const n = 1__000\n  x : Bernoulli\n  p(x) = table\n}\n");
    expect(r.status).toBe(1);
    expect(r.out).toContain("sep.gm:2:13: error[E0111]");
    expect(r.out).toContain("hint: write `1_000`");
  });
});
