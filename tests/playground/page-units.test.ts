/**
 * The playground's DOM-free parts, as properties (fast-check): the editor's highlighting keeps
 * the text exactly and underlines exactly the diagnostics' spans, a shared link decodes to the
 * source it was made from, and training by counting estimates smoothed frequencies in an order
 * that puts parents first.
 *
 * Each property was seen to fail on a planted bug before it was trusted:
 * - `escapeHtml` not escaping `<`: "keeps the text" and "exactly the spans" both failed on the
 *   source `"<"` (the page would read a tag);
 * - marks closing one character late (`i <= m.end` in `openAt`): "exactly the spans" failed on
 *   `"><> = &}\"s\"chain ⊥ &amp;"` with an empty mark at 0 (two characters underlined, not one);
 * - `toBase64Url` leaving `+` as it is: the link property failed on `"\u0000\b"`, whose code has
 *   a `+` (URLSearchParams reads it as a space);
 * - the counting model's order left as the flat index: "parents first" failed on 09's `Column`
 *   model (element 12 came before its child 1);
 * - smoothing with (n₁ + 1) / (n + 1): "smoothed frequency" failed on no data (1 instead of 0.5),
 *   and so did the sampling test.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { highlight, type Mark } from "../../playground/highlight";
import { decodeHash, encodeSource } from "../../playground/share";
import { count, countingModel, nll, notCountable, probOne, sample } from "../../playground/train";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compileText } from "../../src/index";
import { Rng } from "../../src/rng";
import { REPO } from "../dsl/helpers.js";

const unescape = (s: string) =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");

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
const piece = fc.constantFrom(
  "model",
  " M ",
  "{",
  "}",
  "\n",
  "x",
  " : ",
  "Bernoulli",
  "[n]",
  "p(x)",
  " = ",
  "chain",
  "check",
  " ⊥ ",
  "_|_",
  "//c\n",
  "/* b */",
  '"s"',
  "<",
  ">",
  "&",
  "&amp;",
  "12",
  "..",
  "é",
  "𝔁",
);
const source = fc.array(piece, { maxLength: 30 }).map((a) => a.join(""));
const withMarks = source.chain((s) =>
  fc.tuple(
    fc.constant(s),
    fc.array(
      fc
        .tuple(fc.nat(s.length), fc.nat(s.length), fc.boolean())
        .map(([a, b, e]): Mark => ({ start: Math.min(a, b), end: Math.max(a, b), severity: e ? "error" : "warning" })),
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

describe("training by counting", () => {
  const models = (name: string) =>
    compileText(readFileSync(join(REPO, "examples", `${name}.gm`), "utf8")).models.filter(
      (m) => notCountable(m) === null,
    );

  it("orders every element after its parents (09's orders included)", () => {
    const ms = [...models("08-causal-neighbourhood"), ...models("09-orders"), ...models("07-markov")];
    expect(ms.length).toBeGreaterThan(5);
    for (const m of ms) {
      const cm = countingModel(m);
      const at = new Int32Array(cm.variable.size);
      cm.order.forEach((e, i) => (at[e] = i));
      expect(new Set(cm.order).size, m.name).toBe(cm.variable.size);
      cm.parents.forEach((ps, e) =>
        ps.forEach((p) => expect(at[p], `${m.name}: ${p} before ${e}`).toBeLessThan(at[e])),
      );
    }
  });

  it("estimates each conditional as its smoothed frequency (n₁ + 1) / (n + 2), and −log p(x) sums them", () => {
    const m = models("08-causal-neighbourhood")[0];
    const size = m.variables[0].size;
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: size, maxLength: size, min: 0, max: 1 }), { maxLength: 12 }),
        fc.uint8Array({ minLength: size, maxLength: size, min: 0, max: 1 }),
        (data, x) => {
          const cm = countingModel(m);
          data.forEach((d) => count(cm, d));
          let want = 0;
          for (let i = 0; i < size; i++) {
            const same = data.filter((d) => cm.parents[i].every((p) => d[p] === x[p]));
            const p1 = (same.filter((d) => d[i] === 1).length + 1) / (same.length + 2);
            expect(probOne(cm, i, x)).toBeCloseTo(p1, 12);
            want -= Math.log(x[i] ? p1 : 1 - p1);
          }
          expect(nll(cm, x)).toBeCloseTo(want, 9);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("samples each pixel with its conditional's frequency", () => {
    const m = models("07-markov").find((x) => x.variables[0].size === 8)!;
    const cm = countingModel(m);
    const rng = new Rng(7);
    for (let k = 0; k < 50; k++)
      count(
        cm,
        Uint8Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? 1 : rng.uniform() < 0.8 ? 1 : 0)),
      );
    const n = 4000;
    const ones = new Float64Array(8);
    for (let k = 0; k < n; k++) sample(cm, rng).forEach((b, i) => (ones[i] += b));
    // x[1] has no parent: its frequency must match (n₁ + 1) / (n + 2) = 51 / 52 within 4 standard errors.
    const p = 51 / 52;
    expect(Math.abs(ones[0] / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
  });

  it("says why a model cannot be counted", () => {
    expect(notCountable(models("07-markov")[0])).toBeNull();
    const chain = compileText("model C {\n  x : Bernoulli[20]\n  p(x) = chain\n}\n").models[0];
    expect(notCountable(chain)).toMatch(/19 parents: its table would have 2\^19 rows/);
    const vae = compileText(readFileSync(join(REPO, "examples", "12-vae.gm"), "utf8")).models[0];
    expect(notCountable(vae)).toMatch(/one observed variable and nothing else/);
  });
});
