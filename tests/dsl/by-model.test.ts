/**
 * Parsing one model at a time (src/dsl/parse.ts, `parseByModel`) is only a way to make less
 * garbage: for any file it must give exactly what one parse of the whole file gives — the same
 * AST with the same spans, the same diagnostics, the same comments.
 *
 * Inputs: files made of the examples' model blocks in random order, joined by blank lines,
 * comments and `;`, some of them then broken by a token-level mutation (a stray `}`, a deleted
 * token, a `model` keyword dropped in the middle), so that both the fast path and its fallback to
 * the whole-file parse are exercised.
 *
 * Planted bugs this property caught (each planted, seen failing, then removed):
 * - the block loop in `parseByModel` stopping at `i < tokens.length`, which drops the last model:
 *   failed on its first run.
 * - no fallback after a block's syntax error (its partial CST kept): failed after a few runs on a
 *   stray `}` (`model } Coin { … }`).
 * Cutting at every `model` token, braces ignored, is not a bug this can catch: the block before
 * the cut then lacks its `}`, and the fallback parses the file whole, as it should.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "../../src/dsl/parse.js";
import { gmLexer } from "../../src/dsl/tokens.js";
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
const SEPARATORS = ["\n", "\n\n", "\n// a comment between models\n", " ; ", "\n/* a block\n comment */\n", "\n;\n"];

/** Applies one token-level change at a random token: a stray `}`, a deleted token, or `model` inserted. */
function mutate(text: string, at: number, kind: number): string {
  const { tokens } = gmLexer.tokenize(text);
  if (tokens.length === 0) return text;
  const t = tokens[at % tokens.length];
  const end = (t.endOffset ?? t.startOffset) + 1;
  if (kind === 0) return `${text.slice(0, end)} }${text.slice(end)}`;
  if (kind === 1) return text.slice(0, t.startOffset) + text.slice(end);
  return `${text.slice(0, end)}\nmodel Inner {\n${text.slice(end)}`;
}

const files = fc
  .record({
    picks: fc.array(fc.nat(BLOCKS.length - 1), { minLength: 1, maxLength: 6 }),
    seps: fc.array(fc.constantFrom(...SEPARATORS), { minLength: 7, maxLength: 7 }),
    mutation: fc.option(fc.record({ at: fc.nat(), kind: fc.nat(2) }), { freq: 2 }),
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

  it("gives the same answer for every example", () => {
    for (const { name, text } of exampleFiles()) {
      const byModel = parse(text, name);
      const whole = parse(text, name, { byModel: false });
      expect(byModel.ast, name).toEqual(whole.ast);
      expect(byModel.diagnostics, name).toEqual(whole.diagnostics);
    }
  });
});
