/**
 * Parsing one model at a time (src/dsl/parse.ts, `parseByModel`) is only a way to make less
 * garbage: for any file it must give exactly what one parse of the whole file gives — the same
 * AST with the same spans, the same diagnostics, the same comments.
 *
 * Inputs: files made of the examples' model blocks in random order, joined by blank lines,
 * comments (one with `model` at a line start inside it), `;`, CRLF line ends and indentation,
 * some then broken by a mutation (a stray `}`, a deleted token, `model` inserted at a line start,
 * a string or comment that never closes, a string holding a brace, a lone `\r`), so that both the
 * fast path and its fallback to the whole-file parse are exercised; the parse bench's generated
 * 10,000-line file; every example.
 *
 * Planted bugs this property caught (each planted, seen failing, then removed):
 * - the block loop in `parseByModel` skipping the last block (`k < cuts.length - 1`): every test
 *   failed on its first input.
 * - line numbers not carried from one block to the next: failed at once (`\nmodel Coin { … }`,
 *   whose only model starts on line 2).
 * - a block cut at the `model` keyword instead of its line's start (`cuts.push(j)`): failed after a
 *   few runs on an indented second model (`…}\n\t  model Coin { … }`): its columns moved.
 * - no fallback after a block's syntax error (an earlier, token-level version): failed on a stray
 *   `}` (`model } Coin { … }`).
 * Not catchable here, by design: a scanner that cuts inside a comment or string, or ignores
 * braces, makes a block that does not read cleanly, and the fallback then reads the file whole.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "../../src/dsl/parse.js";
import { gmLexer } from "../../src/dsl/tokens.js";
import { generateGm } from "../../bench/parse.bench.js";
import { exampleFiles } from "./helpers.js";

const NUM_RUNS = Number(process.env.GM_PROPERTY_RUNS ?? 150);

/** Every `model … { … }` block of the examples, as text (found by brace depth on the tokens). */
function modelBlocks(): string[] {
  const blocks: string[] = [];
  for (const { text } of exampleFiles()) {
    const { tokens } = gmLexer.tokenize(text);
    let depth = 0;
    let start = -1;
    for (const t of tokens) {
      if (t.image === "model" && depth === 0) start = t.startOffset;
      if (t.image === "{") depth++;
      if (t.image === "}" && --depth === 0 && start >= 0) {
        blocks.push(text.slice(start, t.startOffset + 1));
        start = -1;
      }
    }
  }
  return blocks;
}

const BLOCKS = modelBlocks();
const SEPARATORS = [
  "\n",
  "\n\n",
  "\n// a comment between models\n",
  " ; ",
  "\n/* a block\n comment */\n",
  "\n;\n",
  "\n/*\nmodel InAComment {\n}\n*/\n", // `model` at a line start inside a comment: no cut there
  "\n\t  ", // the next `model` indented
  " ", // `} model B {` on one line: no cut before B
  "\r\n// CRLF line ends\r\n",
];

/**
 * Applies one change after a random token: a stray `}`, the token deleted, `model` inserted at a
 * line start, a string or a comment that never closes, a string holding a brace, a lone `\r`.
 */
function mutate(text: string, at: number, kind: number): string {
  const { tokens } = gmLexer.tokenize(text);
  if (tokens.length === 0) return text;
  const t = tokens[at % tokens.length];
  const end = (t.endOffset ?? t.startOffset) + 1;
  const insert = (s: string) => text.slice(0, end) + s + text.slice(end);
  switch (kind) {
    case 0:
      return insert(" }");
    case 1:
      return text.slice(0, t.startOffset) + text.slice(end);
    case 2:
      return insert("\nmodel Inner {\n");
    case 3:
      return insert(' "never closed\n');
    case 4:
      return insert(" /* never closed\nmodel After {\n}\n");
    case 5:
      return insert(' "a { brace"');
    default:
      return insert("\r");
  }
}

const files = fc
  .record({
    picks: fc.array(fc.nat(BLOCKS.length - 1), { minLength: 1, maxLength: 6 }),
    seps: fc.array(fc.constantFrom(...SEPARATORS), { minLength: 7, maxLength: 7 }),
    mutation: fc.option(fc.record({ at: fc.nat(), kind: fc.nat(6) }), { freq: 2 }),
  })
  .map(({ picks, seps, mutation }) => {
    const text = seps[6] + picks.map((p, i) => BLOCKS[p] + seps[i]).join("");
    return mutation ? mutate(text, mutation.at, mutation.kind) : text;
  });

describe("parsing one model at a time", () => {
  it("finds model blocks in the examples", () => {
    expect(BLOCKS.length).toBeGreaterThan(20);
  });

  it("gives what one parse of the whole file gives, for valid and broken files", () => {
    let fast = 0;
    fc.assert(
      fc.property(files, (text) => {
        const byModel = parse(text, "f.gm");
        const whole = parse(text, "f.gm", { byModel: false });
        expect(byModel.ast).toEqual(whole.ast);
        expect(byModel.diagnostics).toEqual(whole.diagnostics);
        expect(byModel.comments).toEqual(whole.comments);
        if (byModel.diagnostics.length === 0) fast++;
      }),
      { numRuns: NUM_RUNS },
    );
    // Both paths ran: most unmutated files parse cleanly (the fast path), mutated ones mostly do not.
    expect(fast).toBeGreaterThan(NUM_RUNS / 10);
    expect(fast).toBeLessThan(NUM_RUNS);
  });

  it("gives the same answer for the parse bench's generated 10,000-line file", () => {
    const { text, models } = generateGm(10_000);
    const byModel = parse(text, "bench.gm");
    const whole = parse(text, "bench.gm", { byModel: false });
    expect(byModel.ast.models).toHaveLength(models);
    expect(byModel.diagnostics).toEqual([]);
    expect(byModel.ast).toEqual(whole.ast);
    expect(byModel.comments).toEqual(whole.comments);
  });

  it("gives the same answer for every example", () => {
    for (const { name, text } of exampleFiles()) {
      const byModel = parse(text, name);
      const whole = parse(text, name, { byModel: false });
      expect(byModel.ast, name).toEqual(whole.ast);
      expect(byModel.diagnostics, name).toEqual(whole.diagnostics);
    }
  });
});
