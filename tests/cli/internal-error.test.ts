/**
 * An internal error (a bug in gm, not in the user's file) prints one line naming it, asks for
 * a report, never shows a stack trace, and exits 70. Simulated by mocking the compiler to
 * throw; this file has its own module registry, so the mock reaches nothing else.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";

vi.mock("../../src/compiler/compile", () => ({
  compileText: () => {
    throw new TypeError("simulated failure inside the compiler");
  },
}));

const { main } = await import("../../src/cli/program.js");

const dir = mkdtempSync(join(tmpdir(), "gm-internal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((c: unknown) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((c: unknown) => ((err += String(c)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("internal errors", () => {
  it.each([["check"], ["params"], ["query"]])(
    "gm %s: one line naming the error, no stack trace, exit 70",
    async (cmd) => {
      const path = join(dir, "coin.gm");
      writeFileSync(path, "model Coin {\n  x : Bernoulli\n  p(x) = table\n}\n");
      const r = await capture(cmd === "query" ? [cmd, path, "x ⊥ x"] : [cmd, path]);
      expect(r.code).toBe(70);
      expect(r.out).toBe("");
      const lines = r.err.trimEnd().split("\n");
      expect(lines[0]).toBe("gm: internal error: simulated failure inside the compiler");
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(r.err).not.toContain("TypeError");
      // At most one more line: the request to report it.
      expect(lines.slice(1)).toEqual([
        "This is a bug in gm; please report it with the command you ran and the .gm file.",
      ]);
    },
  );
});
