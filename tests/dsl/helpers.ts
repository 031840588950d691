/** Shared helpers for the front-end tests. */
import fc from "fast-check";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stripSpans, type GmFile } from "../../src/dsl/ast.js";
import type { Comment } from "../../src/dsl/parse.js";
import { gmLexer } from "../../src/dsl/tokens.js";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Gives a generated AST a short description for fast-check's counterexample report: the tree
 * without spans, which is what the properties compare.
 */
export function shown<T extends object>(node: T): T {
  Object.defineProperty(node, fc.toStringMethod, { value: () => JSON.stringify(stripSpans(node)), enumerable: false });
  return node;
}

/** An arbitrary of files that report themselves without spans. */
export function showFiles(arb: fc.Arbitrary<GmFile>): fc.Arbitrary<GmFile> {
  return arb.map((f) => shown({ ...f }));
}

/** Every `.gm` file under examples/ (read at test time: the examples are still being written). */
export function exampleFiles(): Array<{ name: string; text: string }> {
  const dir = join(REPO, "examples");
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".gm"))
    .sort()
    .map((f) => ({ name: `examples/${f}`, text: readFileSync(join(dir, f), "utf8") }));
}

/** Offsets just after each token of `text` (the places where whitespace may go). */
export function tokenBoundaries(text: string): number[] {
  const { tokens } = gmLexer.tokenize(text);
  return tokens.map((t) => (t.endOffset ?? t.startOffset) + 1);
}

/** Inserts `pieces` at `offsets` (any order); offsets refer to the original text. */
export function insertAt(text: string, inserts: Array<{ offset: number; text: string }>): string {
  const sorted = inserts.map((x, i) => ({ ...x, i })).sort((a, b) => b.offset - a.offset || b.i - a.i);
  let out = text;
  for (const { offset, text: piece } of sorted) out = out.slice(0, offset) + piece + out.slice(offset);
  return out;
}

/** A comment's text as the formatter writes it (it strips trailing blanks from every line). */
export function normalizeComment(c: Comment | string): string {
  return (typeof c === "string" ? c : c.text).replace(/[ \t]+$/gm, "");
}
