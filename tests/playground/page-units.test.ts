/**
 * The playground's DOM-free parts, as properties (fast-check): the editor's highlighting keeps
 * the text exactly and underlines exactly the diagnostics' spans, and a shared link decodes to
 * the source it was made from.
 *
 * Each property was seen to fail on a planted bug before it was trusted:
 * - `escapeHtml` not escaping `<`: "keeps the text" and "exactly the spans" both failed on the
 *   source `"<"` (the page would read a tag);
 * - marks closing one character late (`i <= m.end` in `openAt`): "exactly the spans" failed on
 *   `"><> = &}\"s\"chain ⊥ &amp;"` with an empty mark at 0 (two characters underlined, not one);
 * - `toBase64Url` leaving `+` as it is: the link property failed on `"\u0000\b"`, whose code has
 *   a `+` (URLSearchParams reads it as a space).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { highlight, type Mark } from "../../playground/highlight";
import { decodeHash, encodeSource } from "../../playground/share";

const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");

/** The text of the HTML, and the offsets of the characters inside `<mark>`. */
function read(html: string): { text: string; marked: Set<number> } {
  let text = "";
  let depth = 0;
  const marked = new Set<number>();
  for (const part of html.split(/(<[^>]*>)/)) {
    if (part.startsWith("<mark")) depth++;
    else if (part === "</mark>") depth--;
    else if (part.startsWith("<")) continue;
    else {
      const t = unescape(part);
      if (depth > 0) for (let i = 0; i < t.length; i++) marked.add(text.length + i);
      text += t;
    }
  }
  return { text, marked };
}

// Sources mixing gm's tokens with characters HTML cares about.
const piece = fc.constantFrom("model", " M ", "{", "}", "\n", "x", " : ", "Bernoulli", "[n]", "p(x)", " = ", "chain", "check", " ⊥ ", "_|_", "//c\n", "/* b */", '"s"', "<", ">", "&", "&amp;", "12", "..", "é", "𝔁");
const source = fc.array(piece, { maxLength: 30 }).map((a) => a.join(""));
const withMarks = source.chain((s) =>
  fc.tuple(
    fc.constant(s),
    fc.array(
      fc.tuple(fc.nat(s.length), fc.nat(s.length), fc.boolean()).map(([a, b, e]): Mark => ({ start: Math.min(a, b), end: Math.max(a, b), severity: e ? "error" : "warning" })),
      { maxLength: 4 },
    ),
  ),
);

describe("the editor's highlighting", () => {
  it("keeps the text exactly (one newline at the end, one space for a mark past the end)", () => {
    fc.assert(
      fc.property(withMarks, ([s, marks]) => {
        const past = marks.some((m) => m.start >= s.length);
        expect(read(highlight(s, marks)).text).toBe(`${s}${past ? " " : ""}\n`);
      }),
      { numRuns: 500 },
    );
  });

  it("underlines exactly the diagnostics' spans (an empty span: the character after it)", () => {
    fc.assert(
      fc.property(withMarks, ([s, marks]) => {
        const want = new Set<number>();
        for (const m of marks) {
          const end = Math.max(m.end, Math.min(m.start + 1, s.length));
          for (let i = m.start; i < end; i++) want.add(i);
          if (m.start >= s.length) want.add(s.length); // the space past the end
        }
        const got = read(highlight(s, marks)).marked;
        expect([...got].sort((a, b) => a - b)).toEqual([...want].sort((a, b) => a - b));
      }),
      { numRuns: 500 },
    );
  });

  it("colours keywords, declared types, families and ⊥", () => {
    const html = highlight("model M {\n  x : Bernoulli\n  p(x) = table\n  check x ⊥ x\n}");
    expect(html).toContain('<span class="kw">model</span>');
    expect(html).toContain('<span class="type">Bernoulli</span>');
    expect(html).toContain('<span class="fn">p</span>');
    expect(html).toContain('<span class="family">table</span>');
    expect(html).toContain('<span class="indep">⊥</span>');
    expect(html).toContain('<span class="kw">check</span>');
  });
});

describe("shared links", () => {
  it("decode to the source they were made from", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(source, fc.string({ unit: "binary", maxLength: 200 })), async (s) => {
        const hash = await encodeSource(s);
        expect(hash).toMatch(/^#code=[A-Za-z0-9_-]*$/);
        expect(await decodeHash(hash)).toEqual({ source: s });
      }),
      { numRuns: 200 },
    );
  });

  it("name an example, or nothing, and a broken link is null rather than an exception", async () => {
    expect(await decodeHash("#example=07-markov")).toEqual({ example: "07-markov" });
    expect(await decodeHash("")).toEqual({});
    expect(await decodeHash("#code=%%%")).toBeNull();
    expect(await decodeHash("#code=AAAA")).toBeNull();
  });
});
