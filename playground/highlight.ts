/**
 * Syntax highlighting for the playground's editor: the scopes of grammar/gm.tmLanguage.json
 * (comments, keywords, declared types, factor heads, families, numbers, strings, `⊥`) as one
 * sticky regular expression over the text, producing HTML for the layer under the textarea.
 * Spans of diagnostics are underlined in the same pass. A hand-written pass keeps the bundle
 * free of an editor framework; the page's source of truth stays the real parser.
 */
import { KEYWORDS as GM_KEYWORDS } from "../src/dsl/tokens";

/** One underlined range (offsets into the text) and its severity. */
export interface Mark {
  readonly start: number;
  readonly end: number;
  readonly severity: "error" | "warning";
}

const KEYWORDS = new Set<string>(GM_KEYWORDS);

// One alternative per scope, tried in order at each position (as the TextMate grammar's patterns are).
const TOKEN = new RegExp(
  [
    String.raw`(?<comment>\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))`,
    String.raw`(?<string>"(?:[^"\\\n]|\\.)*"?)`,
    String.raw`(?<number>\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)`,
    String.raw`(?<indep>_\|_|\u22a5|\u2aeb)`,
    String.raw`(?<word>[A-Za-z_][A-Za-z0-9_]*)`,
    String.raw`(?<op>==|!=|<=|>=|\.\.|[=<>+\-\u2212*\u00d7/^|:,])`,
    String.raw`(?<other>[\s\S])`,
  ].join("|"),
  "gy",
);

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The scope class of a word from what precedes and follows it. */
function wordClass(word: string, before: string, after: string): string | null {
  if (KEYWORDS.has(word)) return "kw";
  if (/^\s*\(/.test(after) && (word === "p" || word === "q")) return "fn";
  if (/:\s*$/.test(before) && /^[A-Z]/.test(word)) return "type"; // x : Bernoulli
  if (/=\s*$/.test(before) && !/[=!<>]=\s*$/.test(before)) return "family"; // p(x) = chain
  if (/\bmodel\s+$/.test(before)) return "type";
  return null;
}

/** Classes of a token kind (null: plain text). */
function classOf(kind: string, text: string, source: string, at: number): string | null {
  switch (kind) {
    case "comment":
      return "cm";
    case "string":
      return "str";
    case "number":
      return "num";
    case "indep":
      return "indep";
    case "op":
      return "op";
    case "word":
      return wordClass(
        text,
        source.slice(Math.max(0, at - 40), at),
        source.slice(at + text.length, at + text.length + 3),
      );
    default:
      return null;
  }
}

/**
 * HTML of `source` with `<span class="…">` per token and `<mark>` around diagnostic spans
 * (a zero-width span underlines the character after it). Ends with a newline so a trailing
 * empty line keeps its height.
 */
export function highlight(source: string, marks: readonly Mark[] = []): string {
  // Boundaries where a mark opens or closes: split tokens there so tags nest.
  const cuts = new Set<number>();
  const ms = marks.map((m) => ({ ...m, end: Math.max(m.end, Math.min(m.start + 1, source.length)) }));
  for (const m of ms) {
    cuts.add(m.start);
    cuts.add(m.end);
  }
  const openAt = (i: number) => ms.filter((m) => m.start <= i && i < m.end);
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = TOKEN.exec(source))) {
    const at = match.index;
    const text = match[0];
    const kind = Object.entries(match.groups!).find(([, v]) => v !== undefined)![0];
    const cls = classOf(kind, text, source, at);
    // Split the token at mark boundaries.
    let from = 0;
    const points = [...cuts].filter((c) => c > at && c < at + text.length).sort((a, b) => a - b);
    for (const p of [...points, at + text.length]) {
      const piece = escapeHtml(text.slice(from, p - at));
      const open = openAt(at + from);
      let html = cls ? `<span class="${cls}">${piece}</span>` : piece;
      if (open.length)
        html = `<mark class="${open.some((m) => m.severity === "error") ? "err" : "warn"}">${html}</mark>`;
      out.push(html);
      from = p - at;
    }
  }
  // A mark at the very end (a missing `}`) underlines a space.
  if (ms.some((m) => m.start >= source.length)) out.push('<mark class="err"> </mark>');
  return `${out.join("")}\n`;
}
