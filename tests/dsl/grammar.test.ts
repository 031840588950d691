/**
 * grammar/gm.ebnf, the parser and grammar/diagrams.html stay in sync.
 *
 * The EBNF is parsed here into a small tree (sequence, alternatives, option, repetition,
 * terminal, non-terminal) and so is the grammar chevrotain records from src/dsl/parser.ts
 * (`getSerializedGastProductions()`), as is the `/** rule = … ; *\/` comment above every parser
 * rule. The three must agree rule by rule, so adding a rule, an alternative, an option or a
 * token to one and not the others fails here. Quoted terminals are mapped to tokens by the real
 * lexer (`"("` is whatever `gmLexer` makes of `(`), and the lexical section is checked against
 * src/dsl/tokens.ts. The diagrams page must equal what `npm run diagrams` writes now, load
 * nothing from the network, and draw every rule.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import vm from "node:vm";
import { fileURLToPath } from "node:url";
import type { ISerializedGast, TokenType } from "chevrotain";
import { describe, expect, it } from "vitest";
import { renderDiagrams } from "../../scripts/diagrams";
import { gmParser } from "../../src/dsl/parser";
import { allTokens, gmLexer, KEYWORDS } from "../../src/dsl/tokens";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const EBNF_PATH = join(ROOT, "grammar", "gm.ebnf");
const PARSER_PATH = join(ROOT, "src", "dsl", "parser.ts");
const DIAGRAMS_PATH = join(ROOT, "grammar", "diagrams.html");

// ---------------------------------------------------------------------------------------------
// A reader for the EBNF dialect of grammar/gm.ebnf
// ---------------------------------------------------------------------------------------------

/** An EBNF expression as written. */
type Expr =
  | { k: "seq"; items: Expr[] }
  | { k: "alt"; alts: Expr[] }
  | { k: "opt"; body: Expr }
  | { k: "rep"; body: Expr }
  | { k: "name"; name: string }
  | { k: "lit"; text: string }
  | { k: "special"; text: string };

interface Production {
  name: string;
  body: Expr;
  /** The regular expression of a `(* pattern: /…/ *)` note after the production, if any. */
  pattern?: string;
}

type Tok =
  | { kind: "name" | "lit" | "special" | "sym"; text: string; pos: number }
  | { kind: "pattern"; text: string; pos: number };

function lexEbnf(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (src.startsWith("(*", i)) {
      // A `pattern:` note runs to the end of its line: a regular expression may contain `*)`.
      const note = /^\(\*\s*pattern:\s*\/(.*)\/\s*\*\)[ \t]*$/m.exec(
        src.slice(i, src.indexOf("\n", i) < 0 ? src.length : src.indexOf("\n", i)),
      );
      if (note) {
        out.push({ kind: "pattern", text: note[1], pos: i });
        i += note[0].length;
      } else {
        const end = src.indexOf("*)", i + 2);
        if (end < 0) throw new Error(`unclosed comment at ${i}`);
        i = end + 2;
      }
    } else if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unclosed terminal at ${i}`);
      out.push({ kind: "lit", text: src.slice(i + 1, end), pos: i });
      i = end + 1;
    } else if (c === "?") {
      const end = src.indexOf("?", i + 1);
      if (end < 0) throw new Error(`unclosed special sequence at ${i}`);
      out.push({ kind: "special", text: src.slice(i + 1, end).trim(), pos: i });
      i = end + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ kind: "name", text: m[0], pos: i });
      i += m[0].length;
    } else if ("=;|[]{}()".includes(c)) {
      out.push({ kind: "sym", text: c, pos: i });
      i++;
    } else {
      throw new Error(`unexpected \`${c}\` at ${i} in the EBNF`);
    }
  }
  return out;
}

/** The text up to and including the first `;` outside quotes: a doc comment may go on in words. */
function firstProduction(src: string): string {
  let quote: string | undefined;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ";") return src.slice(0, i + 1);
  }
  return src;
}

/** Parses productions; with `firstOnly`, only the first (for the parser's doc comments). */
function parseEbnf(src: string, firstOnly = false): Production[] {
  const toks = lexEbnf(firstOnly ? firstProduction(src) : src);
  let i = 0;
  const peek = () => toks[i];
  const fail = (what: string): never => {
    const t = peek();
    const line = t ? src.slice(0, t.pos).split("\n").length : "end";
    throw new Error(`EBNF line ${line}: expected ${what}, found ${t ? `\`${t.text}\`` : "the end"}`);
  };
  const sym = (s: string) => {
    const t = peek();
    if (t?.kind !== "sym" || t.text !== s) fail(`\`${s}\``);
    i++;
  };
  const isSym = (s: string) => peek()?.kind === "sym" && peek()!.text === s;

  function alternation(): Expr {
    const alts = [sequence()];
    while (isSym("|")) {
      i++;
      alts.push(sequence());
    }
    return alts.length === 1 ? alts[0] : { k: "alt", alts };
  }
  function sequence(): Expr {
    const items: Expr[] = [];
    for (;;) {
      const t = peek();
      if (!t) break;
      if (t.kind === "name") items.push({ k: "name", name: t.text });
      else if (t.kind === "lit") items.push({ k: "lit", text: t.text });
      else if (t.kind === "special") items.push({ k: "special", text: t.text });
      else if (t.kind === "sym" && (t.text === "[" || t.text === "{" || t.text === "(")) {
        i++;
        const body = alternation();
        sym(t.text === "[" ? "]" : t.text === "{" ? "}" : ")");
        items.push(t.text === "[" ? { k: "opt", body } : t.text === "{" ? { k: "rep", body } : body);
        continue;
      } else break;
      i++;
    }
    if (items.length === 0) fail("a term");
    return items.length === 1 ? items[0] : { k: "seq", items };
  }

  const out: Production[] = [];
  while (i < toks.length) {
    const t = peek();
    if (t.kind === "pattern") {
      if (!out.length) fail("a production before the pattern note");
      out[out.length - 1].pattern = t.text;
      i++;
      continue;
    }
    if (t.kind !== "name") fail("a rule name");
    i++;
    sym("=");
    const body = alternation();
    sym(";");
    out.push({ name: t.text, body });
    if (firstOnly) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One normal form for the EBNF and for chevrotain's recorded grammar
// ---------------------------------------------------------------------------------------------

/** Terminals are token names (`LParen`, `Identifier`, `StatementEnd`); non-terminals are rule names. */
type Norm =
  | { k: "seq"; items: Norm[] }
  | { k: "alt"; alts: Norm[] }
  | { k: "opt"; body: Norm }
  | { k: "rep"; body: Norm }
  | { k: "t"; name: string }
  | { k: "nt"; name: string };

function seq(items: Norm[]): Norm {
  const flat = items.flatMap((n) => (n.k === "seq" ? n.items : [n]));
  return flat.length === 1 ? flat[0] : { k: "seq", items: flat };
}

/**
 * Alternatives keep their order (chevrotain tries them in order), except when every one is a
 * single token: then they can never compete, and `"<" | "<="` may be written in either order.
 */
function alt(alts: Norm[]): Norm {
  if (alts.length === 1) return alts[0];
  if (alts.every((a) => a.k === "t"))
    return { k: "alt", alts: [...alts].sort((a, b) => show(a).localeCompare(show(b))) };
  return { k: "alt", alts };
}

/** Renders a normal form as EBNF over token names: readable in a failing test's diff. */
function show(n: Norm): string {
  switch (n.k) {
    case "t":
      return n.name;
    case "nt":
      return n.name;
    case "seq":
      return n.items.map((x) => (x.k === "alt" ? `( ${show(x)} )` : show(x))).join(" ");
    case "alt":
      return n.alts.map(show).join(" | ");
    case "opt":
      return `[ ${show(n.body)} ]`;
    case "rep":
      return `{ ${show(n.body)} }`;
  }
}

const TOKEN_NAMES = new Set(allTokens.map((t) => t.name));

/** The token the real lexer makes of a quoted terminal: `"("` is `LParen`, `"⊥"` is `Indep`. */
function tokenOf(text: string): string {
  const r = gmLexer.tokenize(text);
  if (
    r.errors.length ||
    r.tokens.length !== 1 ||
    r.tokens[0].image !== text ||
    Object.values(r.groups).some((g) => g.length)
  ) {
    throw new Error(`the terminal "${text}" is not exactly one token`);
  }
  return r.tokens[0].tokenType.name;
}

/** Normalizes a syntactic EBNF expression; `rules` are the names of the syntactic rules. */
function normEbnf(e: Expr, rules: Set<string>): Norm {
  switch (e.k) {
    case "seq":
      return seq(e.items.map((x) => normEbnf(x, rules)));
    case "alt":
      return alt(e.alts.map((x) => normEbnf(x, rules)));
    case "opt":
      return { k: "opt", body: normEbnf(e.body, rules) };
    case "rep":
      return { k: "rep", body: normEbnf(e.body, rules) };
    case "lit":
      return { k: "t", name: tokenOf(e.text) };
    case "special":
      throw new Error(`a syntactic rule uses the special sequence ? ${e.text} ?`);
    case "name":
      if (rules.has(e.name)) return { k: "nt", name: e.name };
      if (e.name === "NEWLINE") return { k: "t", name: "StatementEnd" };
      if (TOKEN_NAMES.has(e.name)) return { k: "t", name: e.name };
      throw new Error(`\`${e.name}\` is neither a rule nor a token`);
  }
}

/** Normalizes one node of chevrotain's serialized grammar. */
function normGast(n: ISerializedGast): Norm {
  const body = (defs: ISerializedGast[] | undefined) => seq((defs ?? []).map(normGast));
  const g = n as ISerializedGast & { name?: string; separator?: ISerializedGast };
  switch (n.type) {
    case "Rule":
    case "Alternative":
      return body(n.definition);
    case "NonTerminal":
      return { k: "nt", name: g.name! };
    case "Terminal":
      return { k: "t", name: g.name! };
    case "Option":
      return { k: "opt", body: body(n.definition) };
    case "Repetition":
      return { k: "rep", body: body(n.definition) };
    case "RepetitionMandatory": {
      const b = body(n.definition);
      return seq([b, { k: "rep", body: b }]);
    }
    case "RepetitionWithSeparator":
    case "RepetitionMandatoryWithSeparator": {
      const b = body(n.definition);
      const more = seq([b, { k: "rep", body: seq([normGast(g.separator!), b]) }]);
      return n.type === "RepetitionWithSeparator" ? { k: "opt", body: more } : more;
    }
    case "Alternation":
      return alt((n.definition ?? []).map(normGast));
    default:
      throw new Error(`unknown grammar node ${n.type}`);
  }
}

// ---------------------------------------------------------------------------------------------

const ebnfText = readFileSync(EBNF_PATH, "utf8");
const productions = parseEbnf(ebnfText);
const isSyntactic = (p: Production) => /^[a-z]/.test(p.name);
const syntactic = productions.filter(isSyntactic);
const lexical = productions.filter((p) => !isSyntactic(p));
const ruleNames = new Set(syntactic.map((p) => p.name));
const gast = gmParser.getSerializedGastProductions() as (ISerializedGast & { name: string })[];

/** The `/** rule = … ; *\/` comments above the parser's rules, by rule name. */
function parserDocComments(): Map<string, Production> {
  const src = readFileSync(PARSER_PATH, "utf8");
  const out = new Map<string, Production>();
  const re = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*public\s+(\w+)\s*=\s*this\.RULE\(\s*"(\w+)"/g;
  for (const m of src.matchAll(re)) {
    const text = m[1].replace(/^\s*\*\s?/gm, " ");
    const [p] = parseEbnf(text, true);
    if (p.name !== m[3] || m[2] !== m[3])
      throw new Error(`parser.ts: the comment for ${m[3]} defines ${p.name} (property ${m[2]})`);
    out.set(p.name, p);
  }
  return out;
}

function collect(e: Expr, f: (e: Expr) => void): void {
  f(e);
  if (e.k === "seq") e.items.forEach((x) => collect(x, f));
  else if (e.k === "alt") e.alts.forEach((x) => collect(x, f));
  else if (e.k === "opt" || e.k === "rep") collect(e.body, f);
}

describe("grammar/gm.ebnf ↔ src/dsl/parser.ts", () => {
  it("defines every parser rule, in the parser's order, and no other syntactic rule", () => {
    expect(syntactic.map((p) => p.name)).toEqual(gast.map((r) => r.name));
    const dup = productions.map((p) => p.name).filter((n, i, a) => a.indexOf(n) !== i);
    expect(dup, "rules defined twice").toEqual([]);
  });

  it("gives every rule the structure the parser records (sequence, alternatives, options, repetitions, tokens, rules)", () => {
    const fromEbnf = Object.fromEntries(syntactic.map((p) => [p.name, show(normEbnf(p.body, ruleNames))]));
    const fromParser = Object.fromEntries(gast.map((r) => [r.name, show(normGast(r))]));
    expect(fromEbnf).toEqual(fromParser);
    // The rendering above is lossless, but compare the trees too.
    for (const p of syntactic) {
      const r = gast.find((g) => g.name === p.name);
      if (r) expect(normEbnf(p.body, ruleNames), p.name).toEqual(normGast(r));
    }
  });

  it("matches the `/** rule = … ; */` comment above every parser rule", () => {
    const docs = parserDocComments();
    expect([...docs.keys()]).toEqual(gast.map((r) => r.name));
    const fromDocs = Object.fromEntries([...docs].map(([name, p]) => [name, show(normEbnf(p.body, ruleNames))]));
    const fromEbnf = Object.fromEntries(syntactic.map((p) => [p.name, show(normEbnf(p.body, ruleNames))]));
    expect(fromDocs).toEqual(fromEbnf);
  });

  it("notices a changed rule (self-test of the comparison)", () => {
    const original = gast.find((r) => r.name === "unary")!;
    const same = parseEbnf('unary = "-" unary | atom [ "^" unary ] ;')[0];
    expect(show(normEbnf(same.body, ruleNames))).toEqual(show(normGast(original)));
    const changed = parseEbnf('unary = "-" unary | atom [ "^" unary ] | "+" unary ;')[0];
    expect(show(normEbnf(changed.body, ruleNames))).not.toEqual(show(normGast(original)));
    const reordered = parseEbnf('unary = atom [ "^" unary ] | "-" unary ;')[0];
    expect(show(normEbnf(reordered.body, ruleNames))).not.toEqual(show(normGast(original)));
    const optional = parseEbnf('unary = "-" unary | atom [ "^" unary ] [ "^" unary ] ;')[0];
    expect(show(normEbnf(optional.body, ruleNames))).not.toEqual(show(normGast(original)));
  });
});

describe("grammar/gm.ebnf ↔ src/dsl/tokens.ts", () => {
  const lexicalNames = new Set(lexical.map((p) => p.name));
  const byName = new Map(productions.map((p) => [p.name, p]));

  it("defines every capitalized name it uses", () => {
    const undefinedNames = new Set<string>();
    for (const p of productions)
      collect(p.body, (e) => {
        if (e.k === "name" && !byName.has(e.name)) undefinedNames.add(e.name);
      });
    expect([...undefinedNames]).toEqual([]);
  });

  it("lists exactly the keywords of the lexer", () => {
    const kw = byName.get("Keyword");
    expect(kw).toBeDefined();
    const words: string[] = [];
    collect(kw!.body, (e) => {
      if (e.k === "lit") words.push(e.text);
    });
    expect(words).toEqual([...KEYWORDS]);
    for (const w of words) expect(tokenOf(w)).toBe(w[0].toUpperCase() + w.slice(1));
  });

  it("spells each token the way the lexer reads it", () => {
    // A lexical production made only of quoted alternatives: each one is that token.
    for (const p of lexical) {
      if (p.name === "Keyword" || p.name === "Digit") continue;
      const alts = p.body.k === "alt" ? p.body.alts : [p.body];
      if (!alts.every((a) => a.k === "lit")) continue;
      expect(TOKEN_NAMES.has(p.name), `${p.name} is a token of tokens.ts`).toBe(true);
      for (const a of alts)
        expect(tokenOf((a as { text: string }).text), `"${(a as { text: string }).text}"`).toBe(p.name);
    }
    expect(tokenOf("⊥")).toBe("Indep");
    expect(tokenOf("_|_")).toBe("Indep");
    expect(tokenOf("⫫")).toBe("Indep");
  });

  it("quotes each token pattern of tokens.ts exactly", () => {
    const noted = lexical.filter((p) => p.pattern !== undefined);
    expect(noted.map((p) => p.name).sort()).toEqual([
      "BlockComment",
      "Identifier",
      "Indep",
      "LineComment",
      "NumberLiteral",
      "StringLiteral",
      "WhiteSpace",
    ]);
    for (const p of noted) {
      const token = allTokens.find((t) => t.name === p.name) as TokenType | undefined;
      expect(token, p.name).toBeDefined();
      expect(p.pattern, p.name).toBe((token!.PATTERN as RegExp).source);
    }
  });

  it("accounts for every token of the lexer", () => {
    const inSyntax = new Set<string>();
    for (const p of syntactic) {
      const walk = (n: Norm) => {
        if (n.k === "t") inSyntax.add(n.name);
        else if (n.k === "seq") n.items.forEach(walk);
        else if (n.k === "alt") n.alts.forEach(walk);
        else if (n.k === "opt" || n.k === "rep") walk(n.body);
      };
      walk(normEbnf(p.body, ruleNames));
    }
    const missing = allTokens
      .map((t) => t.name)
      .filter((name) => {
        if (inSyntax.has(name) || lexicalNames.has(name)) return false;
        if (KEYWORDS.some((w) => w[0].toUpperCase() + w.slice(1) === name)) return false;
        if (name === "StatementEnd") return !lexicalNames.has("NEWLINE");
        if (name.startsWith("Unterminated")) return !ebnfText.includes(name); // error tokens: described in a comment
        return true;
      });
    expect(missing).toEqual([]);
    // And the syntax uses every token that is not skipped, a comment or an error.
    const unused = allTokens
      .filter((t) => t.GROUP === undefined && !t.name.startsWith("Unterminated"))
      .map((t) => t.name)
      .filter((n) => !inSyntax.has(n));
    expect(unused).toEqual([]);
  });
});

describe("grammar/diagrams.html", () => {
  const committed = readFileSync(DIAGRAMS_PATH, "utf8").replace(/\r\n/g, "\n");

  it("is up to date with the parser (run `npm run diagrams`)", () => {
    const fresh = renderDiagrams();
    if (committed !== fresh) expect.fail("grammar/diagrams.html is stale: run `npm run diagrams`");
  });

  it("loads nothing from the network", () => {
    expect(committed).not.toMatch(/<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=/i);
    expect(committed).not.toContain("unpkg.com");
  });

  it("draws a diagram for every rule with its inlined scripts alone", () => {
    const scripts = [...committed.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    const target = { innerHTML: "" };
    const document = {
      getElementById: () => target,
      getElementsByClassName: () => [],
      querySelectorAll: () => [],
      addEventListener: () => undefined,
    };
    const context: Record<string, unknown> = { document, console };
    context.window = context;
    vm.createContext(context);
    for (const s of scripts) vm.runInContext(s, context);
    const headers = [...target.innerHTML.matchAll(/<h2 class="diagramHeader">(\w+)<\/h2>/g)].map((m) => m[1]);
    expect(headers).toEqual(gast.map((r) => r.name));
    expect((target.innerHTML.match(/<svg class="railroad-diagram"/g) ?? []).length).toBe(gast.length);
  });
});
