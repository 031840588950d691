/**
 * `parse(text, file)`: text → AST + diagnostics + comments. Never throws on user input: lexer
 * errors, syntax errors (several per file, thanks to recovery) and the few structural errors
 * found while building the AST all come back as diagnostics.
 */
import type { CstNode, IToken, IRecognitionException } from "chevrotain";
import { distance } from "fastest-levenshtein";
import type { GmFile, IndependenceClaim, ModelDecl, Position, Span, Value } from "./ast";
import { DiagnosticBag, sortDiagnostics, type Diagnostic } from "./diagnostics";
import { gmParser } from "./parser";
import {
  BlockComment,
  gmLexer,
  Identifier,
  KEYWORDS,
  LineComment,
  Model,
  NumberLiteral,
  StatementEnd,
  StringLiteral,
  UnterminatedString,
} from "./tokens";

const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);
import { AstBuilder, endOfText, tokenSpan } from "./toAst";

/** A comment with its place, kept for the formatter. */
export interface Comment {
  readonly text: string;
  readonly span: Span;
}

/** The result of parsing one file. `ast` is always present; it holds what could be parsed. */
export interface ParseResult {
  readonly ast: GmFile;
  readonly diagnostics: Diagnostic[];
  readonly comments: Comment[];
  readonly text: string;
  readonly file: string;
}

/**
 * Position of a character offset in `text`. A line break is `\n`, `\r\n` or a lone `\r` (as the
 * lexer counts them), so files saved with classic Mac line endings report the right lines.
 */
export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset, line, column: offset - lineStart + 1 };
}

/** The offset of the line break (`\n` or `\r`) that ends the line holding `offset`, or the text's length. */
function lineEnd(text: string, offset: number): number {
  for (let i = offset; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return text.length;
}

function spanAt(text: string, offset: number, length: number): Span {
  return {
    start: positionAt(text, offset),
    end: positionAt(text, Math.min(text.length, offset + Math.max(1, length))),
  };
}

/** How to parse; tests compare the two ways. */
export interface ParseOptions {
  /** Parse a file without syntax errors one model at a time (default true); false parses it whole. */
  readonly byModel?: boolean;
}

/** Parses one `.gm` file. */
export function parse(text: string, file = "<input>", options: ParseOptions = {}): ParseResult {
  // The common case, a file without syntax errors, is read one model at a time (see parseByModel).
  const byModel = options.byModel !== false ? parseByModel(text, file) : null;
  if (byModel) return byModel;
  const bag = new DiagnosticBag(file);
  // Lines break at `\n`, `\r\n` and a lone `\r`: chevrotain's token lines, positionAt, endOfText
  // and the renderer all count them so.
  const lexed = gmLexer.tokenize(text);

  /** Lines where the parser's view is already broken (a bad character, a string that never closes). */
  const brokenLines = new Set<number>();
  /** Offset ranges [from, to) whose tokens the parser does not see (the rest of a nested comment). */
  const hidden: Array<[number, number]> = [];
  /** Strings written with curly quotes: one error each, then read as the string they were meant to be. */
  const curly: Array<{ from: number; to: number }> = [];
  let quotedUntil = -1; // a 'single-quoted' or “curly-quoted” string is one error, not one per character in it
  // Block comments do not nest: `/* a /* b */ c */` ends at the first `*/`. Say so once, and hide
  // the rest up to the `*/` the writer meant, so it does not come back as a cascade of errors.
  for (const t of (lexed.groups.comments ?? []) as IToken[]) {
    if (t.tokenType.name !== "BlockComment") continue;
    const inner = t.image.indexOf("/*", 2);
    if (inner < 0) continue;
    const end = (t.endOffset ?? t.startOffset) + 1;
    const stray = text.indexOf("*/", end);
    const d = bag.error(
      "E0110",
      "block comments do not nest: this `/*` does not open a comment",
      spanAt(text, t.startOffset + inner, 2),
      {
        notes: [
          `the comment that opens at line ${t.startLine} ends at the first \`*/\`, on line ${t.endLine}${stray >= 0 ? `; gm skips what follows up to the next \`*/\`, as you meant` : ""}`,
        ],
        hint: "close the inner comment first, or use `//` line comments inside a block comment",
      },
    );
    brokenLines.add(d.span.start.line);
    if (stray >= 0) hidden.push([end, stray + 2]);
  }
  const isHidden = (offset: number) => hidden.length > 0 && hidden.some(([a, b]) => offset >= a && offset < b);
  for (const e of lexed.errors) {
    if (e.offset <= quotedUntil || isHidden(e.offset)) continue;
    const ch = text.slice(e.offset, e.offset + Math.max(1, e.length));
    const first = [...ch][0] ?? ch;
    const cp = first.codePointAt(0) ?? 0;
    const eol = lineEnd(text, e.offset);
    if (CURLY_QUOTES.has(first)) {
      // “imgs.gz” → one error; the parser reads it as "imgs.gz".
      let close = -1;
      for (let i = e.offset + first.length; i < text.length && !/[\n\r]/.test(text[i]); i++) {
        if (CURLY_QUOTES.has(text[i])) {
          close = i;
          break;
        }
      }
      if (close > 0) {
        quotedUntil = close;
        curly.push({ from: e.offset, to: close + 1 });
        brokenLines.add(positionAt(text, e.offset).line);
        bag.error(
          "E0101",
          `unexpected character \`${first}\` (${codePoint(cp)}, a curly quote)`,
          spanAt(text, e.offset, close + 1 - e.offset),
          {
            hint: `strings use straight double quotes: "${text.slice(e.offset + first.length, close)}"`,
          },
        );
        continue;
      }
    }
    const invisible = INVISIBLE[cp];
    const lookalike = LOOKALIKES[first];
    const shown = invisible
      ? `invisible character ${codePoint(cp)} (${invisible})`
      : cp < 0x20 || cp === 0x7f
        ? `invisible character ${codePoint(cp)} (a control character)`
        : cp > 0x7e
          ? `\`${first}\` (${codePoint(cp)}${lookalike ? `, ${lookalike.script}` : ""})`
          : `\`${first}\``;
    const hint = characterHint(text, e.offset, first, cp);
    if (first === "'") {
      const close = text.indexOf("'", e.offset + 1);
      if (close > 0 && close < eol) quotedUntil = close;
    }
    const d = bag.error(
      "E0101",
      `unexpected ${shown.startsWith("invisible") ? "" : "character "}${shown}`,
      spanAt(text, e.offset, first.length),
      { hint },
    );
    brokenLines.add(d.span.start.line);
  }

  const tokens: IToken[] = [];
  let openString = false;
  for (const t of lexed.tokens) {
    if (isHidden(t.startOffset)) continue;
    const q = curly.length > 0 ? curly.find((c) => t.startOffset >= c.from && t.startOffset < c.to) : undefined;
    if (q) {
      // The first token inside becomes the string; the others are dropped.
      if (tokens[tokens.length - 1]?.startOffset === q.from) continue;
      const image = `"${text.slice(q.from + 1, q.to - 1)}"`;
      const startColumn = (t.startColumn ?? 1) - (t.startOffset - q.from);
      tokens.push({
        ...t,
        image,
        startOffset: q.from,
        endOffset: q.to - 1,
        startColumn,
        endLine: t.startLine,
        endColumn: startColumn + (q.to - 1 - q.from),
        tokenType: StringLiteral,
        tokenTypeIdx: StringLiteral.tokenTypeIdx!,
      });
      continue;
    }
    if (t.tokenType === NumberLiteral && badSeparator(t.image)) {
      bag.error("E0111", `\`${t.image}\`: a digit separator \`_\` stands between two digits`, tokenSpan(t), {
        hint: `write \`${fixSeparators(t.image)}\``,
      });
      brokenLines.add(t.startLine ?? 1);
      // Read as the number it was meant to be, so what is salvaged prints as valid text.
      tokens.push({ ...t, image: fixSeparators(t.image) });
      continue;
    }
    if (t.tokenType.name === "UnterminatedString") {
      bag.error("E0103", "this string is never closed", tokenSpan(t), { hint: 'add a closing `"` on the same line' });
      openString = true;
      brokenLines.add(t.startLine ?? 1);
      // The parser reads it as the string it was meant to be, so the rest of the line is not reported again.
      tokens.push({ ...t, image: `${t.image}"`, tokenType: StringLiteral, tokenTypeIdx: StringLiteral.tokenTypeIdx! });
      continue;
    }
    tokens.push(t);
  }
  let openComment = false;

  const comments: Comment[] = [];
  for (const t of (lexed.groups.comments ?? []) as IToken[]) {
    if (t.tokenType.name === "UnterminatedComment") {
      bag.error("E0102", "this block comment is never closed", spanAt(text, t.startOffset, 2), {
        hint: "close it with `*/`",
      });
      openComment = true;
      continue;
    }
    comments.push({ text: t.image, span: tokenSpan(t) });
  }

  // A keyword where a name belongs (`latent in : Normal`) is reported once, then read as that name
  // (its statement left out of the AST), so recovery does not lose the rest of the model. No
  // statement has a keyword right before `:` or `=` (`check params =` is a misspelt `==`), or one
  // other than `not` / `check` / `assume` before `⊥`: `fit : Bernoulli`, `train { order = 1 }` and
  // `check params ⊥ x` are caught before parsing, the others from the parser's errors (four rounds
  // at most). `seen`: lines already reported; any other syntax error there follows from the first.
  const seen = new Set<number>(brokenLines);
  let input = tokens.map((t, i) => {
    if (!keywordMisused(tokens, i)) return t;
    bag.error("E0104", `expected a name, found the keyword \`${t.image}\``, tokenSpan(t), {
      hint: `\`${t.image}\` is a keyword; choose another name`,
    });
    seen.add(t.startLine ?? 1);
    return asName(t);
  });
  // A model header the parser would lose its whole block over (each later statement then E0107):
  // reported once here, then read as the header it was meant to be.
  input = repairHeaders(input, (message, t, hint) => {
    bag.error(
      t.tokenType === Identifier && message.startsWith("expected `model") ? "E0107" : "E0104",
      message,
      tokenSpan(t),
      { hint },
    );
    seen.add(t.startLine ?? 1);
  });
  const misuses: RecognitionError[] = [];
  let errors: RecognitionError[];
  let cst: CstNode;
  // Nesting deeper than the parser's recursion can take is one diagnostic, not a stack overflow.
  let separated = insertStatementEnds(input); // the parser's input; again after a keyword is read as a name
  const tooDeep = nestingTooDeep(separated);
  if (tooDeep) {
    bag.error("E0108", `this nests more than ${MAX_NESTING} levels deep`, tokenSpan(tooDeep), {
      hint: `gm reads expressions, lists and \`for\` quantifiers nested at most ${MAX_NESTING} levels deep (parentheses, brackets, \`^\`, unary \`-\`); name a part with \`const\``,
    });
    return {
      ast: { kind: "File", models: [], span: { start: { offset: 0, line: 1, column: 1 }, end: endOfText(text) } },
      diagnostics: sortDiagnostics(bag.items),
      comments,
      text,
      file,
    };
  }
  for (let round = 0; ; round++) {
    if (round > 0) separated = insertStatementEnds(input);
    gmParser.input = separated;
    cst = gmParser.file();
    errors = [...gmParser.errors];
    const found = round < 4 ? errors.filter((e) => keywordAsName(e)) : [];
    if (found.length === 0) break;
    misuses.push(...found);
    const retype = new Set(found.map((e) => keywordAsName(e)!));
    input = input.map((t) => (retype.has(t) ? asName(t) : t));
  }
  for (const e of [...misuses, ...errors]) {
    // A comment that never closes hides the rest of the file, and a string that never closes the
    // rest of its line (often the `)` and `}` that close it): "expected `}`" at the end adds nothing.
    if ((openComment || openString) && e.token.tokenType.name === "EOF") continue;
    const d = syntaxDiagnostic(e, text, tokens);
    // After one error, recovery may misread the rest of that line (`check ⊥ y` would also report
    // `y`); keep the first syntax error per line.
    if (seen.has(d.span.start.line)) continue;
    seen.add(d.span.start.line);
    const code =
      e.name === "NoViableAltException"
        ? "E0105"
        : e.name === "EarlyExitException"
          ? "E0106"
          : e.name === "NotAllInputParsedException" || d.message.startsWith("expected `model")
            ? "E0107"
            : "E0104";
    bag.error(code, d.message, d.span, d.hint ? { hint: d.hint } : {});
  }

  const ast = new AstBuilder(bag).file(cst, text);
  return { ast, diagnostics: sortDiagnostics(bag.items), comments, text, file };
}

type RecognitionError = IRecognitionException & { previousToken?: IToken };

/**
 * LANGUAGE.md §1 writes `1_000`: `_` separates digits. One at the end (`1_`), before the point or
 * the exponent (`1_.5`, `1_e3`) or doubled (`1__000`) is E0111 rather than silently dropped.
 */
function badSeparator(image: string): boolean {
  return /_(?![0-9])/.test(image);
}

/** `1__000` → `1_000`, `1_` → `1`: the literal with only separators between digits. */
function fixSeparators(image: string): string {
  return image.replace(/_+(?![0-9])/g, "").replace(/_+/g, "_");
}

/**
 * What is wrong with the model header at `tokens[i]`, if anything, outside every block (`depth`
 * 0): a misspelt `model` (`Model M {`, `modle M {`) or a name that is not one (`model 3 {`,
 * `model in {`). Null for a header the parser reads as it is.
 */
function headerProblem(
  tokens: readonly IToken[],
  i: number,
): { kind: "keyword" | "name"; message: string; hint: string } | null {
  const t = tokens[i];
  const a = tokens[i + 1]?.tokenType.name;
  const b = tokens[i + 2]?.tokenType.name;
  if (t.tokenType === Identifier && a === "Identifier" && b === "LBrace") {
    if (distance(t.image.toLowerCase(), "model") > 2) return null;
    return {
      kind: "keyword",
      message: `expected \`model Name { … }\`, found \`${t.image}\``,
      hint: "did you mean `model`? Keywords are lowercase",
    };
  }
  // (`model {` needs no repair: the parser inserts the missing name and goes on.)
  if (t.tokenType.name !== "Model" || a === "Identifier" || a === "LBrace" || b !== "LBrace" || !a) return null;
  const name = tokens[i + 1];
  return {
    kind: "name",
    message: `expected a name in a model block, found \`${name.image}\``,
    hint: KEYWORD_SET.has(name.image)
      ? `\`${name.image}\` is a keyword; choose another name`
      : "a name is a letter or `_`, then letters, digits and `_`: `model M3 { … }`",
  };
}

/** The tokens with every header problem (see headerProblem) reported through `report` and repaired. */
function repairHeaders(tokens: IToken[], report: (message: string, at: IToken, hint: string) => void): IToken[] {
  const out: IToken[] = [];
  let changed = false;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const name = t.tokenType.name;
    if (name === "LBrace") depth++;
    else if (name === "RBrace") depth = Math.max(0, depth - 1);
    const problem = depth === 0 ? headerProblem(tokens, i) : null;
    if (!problem) {
      out.push(t);
      continue;
    }
    changed = true;
    if (problem.kind === "keyword") {
      report(problem.message, t, problem.hint);
      out.push({ ...t, tokenType: Model, tokenTypeIdx: Model.tokenTypeIdx! });
      continue;
    }
    out.push(t);
    const next = tokens[i + 1];
    report(problem.message, next, problem.hint);
    // The name that is no name, read as one that toAst leaves out (`isInsertedInRecovery`), so the
    // block parses without a cascade.
    out.push(asName(next));
    i++;
  }
  return changed ? out : tokens;
}

/** Is `tokens[i]` a keyword written where a name belongs (see parse)? */
function keywordMisused(tokens: readonly IToken[], i: number): boolean {
  const t = tokens[i];
  if (t.tokenType === Identifier || !KEYWORD_SET.has(t.image)) return false;
  const after = tokens[i + 1]?.tokenType.name;
  const checkParams = t.image === "params" && ["Check", "Colon"].includes(tokens[i - 1]?.tokenType.name ?? "");
  return (
    after === "Colon" ||
    (after === "Eq" && !checkParams) ||
    (after === "Indep" && !["not", "check", "assume"].includes(t.image))
  );
}

/**
 * Where the text can be cut into blocks that lex and parse on their own: the start of every line
 * whose first word is `model`, outside braces, comments and strings (offset 0 first). Null when
 * the scan is unsure (a lone `\r`, a string or comment left open, braces that do not balance):
 * the caller then reads the file whole.
 */
function modelCuts(text: string): number[] | null {
  const cuts = [0];
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n;) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      i++;
      if (depth !== 0) continue;
      let j = i;
      while (j < n && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) j++;
      if (text.startsWith("model", j) && !/[A-Za-z0-9_]/.test(text.charAt(j + 5))) cuts.push(i);
      continue;
    }
    if (c === 13 && text.charCodeAt(i + 1) !== 10) return null;
    if (c === 123) depth++;
    else if (c === 125 && --depth < 0) return null;
    else if (c === 47 && text.charCodeAt(i + 1) === 47) {
      // a line comment runs to the line's end (the newline itself is read above)
      const eol = text.indexOf("\n", i);
      i = eol < 0 ? n : eol;
      continue;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const close = text.indexOf("*/", i + 2);
      if (close < 0) return null;
      i = close + 2;
      continue;
    } else if (c === 34) {
      // a string ends at the next unescaped `"` on its line
      for (i++; ; i++) {
        const d = text.charCodeAt(i);
        if (i >= n || d === 10 || d === 13) return null;
        if (d === 92) i++;
        else if (d === 34) break;
      }
    }
    i++;
  }
  return depth === 0 ? cuts : null;
}

/**
 * Reads the file one top-level `model` block at a time — lexed, parsed and turned into AST at
 * once — so each block's tokens and concrete syntax tree die young instead of living, with every
 * other block's, until the whole file is read: a 10,000-line file spent a third of its parse in
 * the garbage collector copying them. Blocks are cut at line starts (see modelCuts), so only line
 * numbers and offsets move; the file rule is a sequence of models, so blocks that all read cleanly
 * give the models, spans and comments of one parse of the file. Null at the first thing that is not
 * clean — a character the lexer rejects, an open or nested comment, a keyword used as a name,
 * nesting too deep, a syntax error — and the caller reads the whole file, so every diagnostic and
 * its recovery are those of one parse.
 */
function parseByModel(text: string, file: string): ParseResult | null {
  const cuts = modelCuts(text);
  if (!cuts) return null;
  const bag = new DiagnosticBag(file);
  const builder = new AstBuilder(bag);
  const models: ModelDecl[] = [];
  const comments: Comment[] = [];
  let line = 1;
  for (let k = 0; k < cuts.length; k++) {
    const from = cuts[k];
    const block = text.slice(from, k + 1 < cuts.length ? cuts[k + 1] : text.length);
    const lexed = gmLexer.tokenize(block);
    if (lexed.errors.length > 0) return null;
    const shift = (t: IToken) => {
      t.startOffset += from;
      t.endOffset = (t.endOffset ?? t.startOffset) + from;
      t.startLine = (t.startLine ?? 1) + line - 1;
      t.endLine = (t.endLine ?? t.startLine) + line - 1;
    };
    for (const t of (lexed.groups.comments ?? []) as IToken[]) {
      if (t.tokenType !== BlockComment && t.tokenType !== LineComment) return null; // never closed
      if (t.tokenType === BlockComment && t.image.indexOf("/*", 2) >= 0) return null; // nested
      shift(t);
      comments.push({ text: t.image, span: tokenSpan(t) });
    }
    const tokens = lexed.tokens;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t.tokenType === UnterminatedString || keywordMisused(tokens, i)) return null;
      if (t.tokenType === NumberLiteral && badSeparator(t.image)) return null;
      if (headerProblem(tokens, i)) return null;
      shift(tokens[i]);
    }
    const separated = insertStatementEnds(tokens);
    if (nestingTooDeep(separated)) return null;
    gmParser.input = separated;
    const cst = gmParser.file();
    if (gmParser.errors.length > 0) return null;
    for (const m of builder.file(cst, "").models) models.push(m);
    for (let i = 0; i < block.length; i++) if (block.charCodeAt(i) === 10) line++;
  }
  const ast: GmFile = {
    kind: "File",
    models,
    span: { start: { offset: 0, line: 1, column: 1 }, end: endOfText(text) },
  };
  return { ast, diagnostics: sortDiagnostics(bag.items), comments, text, file };
}

/** The hint under E0101 for the character `first` (code point `cp`) at `offset`. */
function characterHint(text: string, offset: number, first: string, cp: number): string {
  const invisible = INVISIBLE[cp];
  const lookalike = LOOKALIKES[first];
  if (first === "." && /\d/.test(text.charAt(offset + 1))) return "decimals start with a digit: write `0.5`, not `.5`";
  if (first === "." && /\d/.test(text.charAt(offset - 1))) {
    const digits = /\d[\d_]*$/.exec(text.slice(Math.max(0, offset - 40), offset))?.[0] ?? "1";
    return `a decimal has digits after the point: write \`${digits}.0\` or \`${digits}\``;
  }
  if (first === "&" || first === "!") return "independence is written `⊥` or `_|_`; dependence `not ⊥`";
  if (first === "'" || CURLY_QUOTES.has(first)) return 'strings use double quotes: "…"';
  if (invisible) return "delete it: it does not show, but gm reads it (it often comes with pasted text)";
  if (lookalike) return `it looks like the Latin \`${lookalike.latin}\`, which is what gm reads: retype it`;
  if (cp > 0x7e)
    return "names use ASCII letters, digits and `_`; the operators `⊥`, `×` and `−` are the only other symbols";
  if (cp < 0x20 || cp === 0x7f) return "delete it: it does not show, but gm reads it (a control character)";
  if (first === "#") return "comments start with `//` (to the end of the line) or `/* … */`";
  return `delete it: gm has no \`${first}\` (names use letters, digits and \`_\`; the symbols are \`( ) [ ] { } , : ; = + - * / ^ < > .. | ⊥\`)`;
}

/** Curly quotes that word processors put in place of `"` and `'`. */
const CURLY_QUOTES = new Set(["\u201c", "\u201d", "\u201e", "\u201f", "\u2018", "\u2019", "\u00ab", "\u00bb"]);

/** Characters that do not show, by code point. */
const INVISIBLE: Record<number, string> = {
  0x200b: "zero width space",
  0x200c: "zero width non-joiner",
  0x200d: "zero width joiner",
  0x2060: "word joiner",
  0x00ad: "soft hyphen",
  0x200e: "left-to-right mark",
  0x200f: "right-to-left mark",
  0x202a: "left-to-right embedding",
  0x202b: "right-to-left embedding",
  0x202c: "pop directional formatting",
  0x202d: "left-to-right override",
  0x202e: "right-to-left override",
  0x2066: "left-to-right isolate",
  0x2067: "right-to-left isolate",
  0x2068: "first strong isolate",
  0x2069: "pop directional isolate",
};

/** Letters of other scripts that look like the Latin letters of gm's names and keywords. */
const LOOKALIKES: Record<string, { latin: string; script: string }> = Object.fromEntries([
  ..."аеорсухіјѕԁԛԝ".split("").map((c, i) => [c, { latin: "aeopcyxijsdqw"[i], script: "a Cyrillic letter" }]),
  ..."АВЕКМНОРСТХІЈЅ".split("").map((c, i) => [c, { latin: "ABEKMHOPCTXIJS"[i], script: "a Cyrillic letter" }]),
  ..."αονρτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"
    .split("")
    .map((c, i) => [c, { latin: "aovptuxABEZHIKMNOPTYX"[i], script: "a Greek letter" }]),
  ..."０１２３４５６７８９".split("").map((c, i) => [c, { latin: String(i), script: "a full-width digit" }]),
]);

/** `U+0440` */
function codePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** How deeply a file may nest (parentheses, brackets, `^`, unary `-`, `for` quantifiers). */
export const MAX_NESTING = 64;

/** Tokens after which a `-` is a sign, not a subtraction. */
const BEFORE_OPERAND = new Set([
  "LParen",
  "LBracket",
  "Comma",
  "Eq",
  "EqEq",
  "NotEq",
  "LtEq",
  "GtEq",
  "Lt",
  "Gt",
  "Plus",
  "Minus",
  "Star",
  "Slash",
  "Caret",
  "Colon",
  "DotDot",
  "In",
  "Const",
  "StatementEnd",
  "Semicolon",
  "LBrace",
]);

/** Tokens that end an operand's right-recursive tail (`^ …`, `- - …`) at the current bracket level. */
const ENDS_TAIL = new Set([
  "Plus",
  "Star",
  "Slash",
  "Comma",
  "Colon",
  "Eq",
  "EqEq",
  "NotEq",
  "LtEq",
  "GtEq",
  "Lt",
  "Gt",
  "DotDot",
  "Bar",
  "Indep",
  "StatementEnd",
  "Semicolon",
  "LBrace",
  "RBrace",
]);

/**
 * The first token at which the parser's recursion would pass `MAX_NESTING` levels, or null.
 * Each open bracket is a level, and so is each `^` and each sign `-` in the operand under way
 * (they nest to the right: `2^2^2`, `- - x`); `+ - * /` between operands end that tail. Each
 * `for` quantifier of one statement is a level too. Chains that the parser reads in a loop
 * (`1 + 1 + … + 1`, lists, statements) do not nest, however long.
 */
function nestingTooDeep(tokens: readonly IToken[]): IToken | null {
  const tails: number[] = [0]; // per open bracket: the `^` / sign run of its current operand
  let open = 0;
  let quantifiers = 0;
  let tail = 0; // Σ tails
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const name = t.tokenType.name;
    if (name === "LParen" || name === "LBracket") {
      tails.push(0);
      open++;
    } else if (name === "RParen" || name === "RBracket") {
      if (tails.length > 1) {
        tail -= tails.pop()!;
        open--;
      }
    } else if (
      name === "Caret" ||
      (name === "Minus" && (i === 0 || BEFORE_OPERAND.has(tokens[i - 1].tokenType.name)))
    ) {
      tails[tails.length - 1]++;
      tail++;
    } else if (name === "In") quantifiers++;
    else if (name === "Minus" || ENDS_TAIL.has(name)) {
      tail -= tails[tails.length - 1];
      tails[tails.length - 1] = 0;
    }
    if (name === "StatementEnd" || name === "Semicolon" || name === "LBrace" || name === "RBrace") {
      quantifiers = 0;
      if (name !== "LBrace") {
        // Statements end: brackets left open by a broken line do not count against the next one.
        tails.length = 1;
        tails[0] = 0;
        tail = 0;
        open = 0;
      }
    }
    if (open + tail + quantifiers > MAX_NESTING) return t;
  }
  return null;
}

/** A keyword where the parser wanted a name (`const order = 3`, `x : Bernoulli[in]`). */
function keywordAsName(e: RecognitionError): IToken | undefined {
  const t = e.token;
  if (t.tokenType === Identifier || !KEYWORDS.includes(t.image) || t.isInsertedInRecovery) return undefined;
  if (e.name === "MismatchedTokenException" && e.message.startsWith("expected a name")) return t;
  if (e.name === "NoViableAltException" && /[(,] a name[,)]/.test(e.message)) return t;
  return undefined;
}

/** A keyword read as the name it was meant to be; `isInsertedInRecovery` keeps its statement out of the AST. */
function asName(t: IToken): IToken {
  return { ...t, tokenType: Identifier, tokenTypeIdx: Identifier.tokenTypeIdx!, isInsertedInRecovery: true };
}

/** Tokens after which a statement always continues on the next line. */
const CONTINUES = new Set([
  "Comma",
  "Bar",
  "Indep",
  "Not",
  "Eq",
  "EqEq",
  "NotEq",
  "LtEq",
  "GtEq",
  "Lt",
  "Gt",
  "Plus",
  "Minus",
  "Star",
  "Slash",
  "Caret",
  "Colon",
  "LParen",
  "LBracket",
  "LBrace",
  "DotDot",
  "By",
  "In",
  "For",
  "Assume",
  "Check",
  "Fit",
  "Order",
  "Const",
  "Latent",
  "Model",
  "Params",
  "Generator",
  "Semicolon",
]);

/** Tokens after which (outside brackets) only variables follow, so `name(` on the next line starts a statement. */
const BEFORE_REFS = new Set(["Indep", "Not", "Bar", "Comma"]);

/** `p(…) =` starting at `tokens[i]`: a factorization's head (no value or reference looks like it). */
function isFactorHead(tokens: IToken[], i: number): boolean {
  let depth = 0;
  for (let j = i + 1; j < tokens.length && j < i + 500; j++) {
    const name = tokens[j].tokenType.name;
    if (name === "LParen" || name === "LBracket") depth++;
    else if (name === "RParen" || name === "RBracket") {
      if (--depth === 0) return tokens[j + 1]?.tokenType.name === "Eq";
    } else if (name === "LBrace" || name === "RBrace") return false;
  }
  return false;
}

/** Tokens after which a statement other than `const` / `check` / `assume` may be under way. */
const NEW_STATEMENT = new Set(["Order", "Fit", "Train", "Latent", "Model", "LBrace", "RBrace", "Semicolon"]);

/** Keywords that only ever begin a statement. */
const STARTS = new Set(["Const", "Latent", "Order", "For", "Assume", "Check", "Fit", "Train", "Model"]);

/**
 * Inserts a virtual `StatementEnd` token where a line break ends a statement: the next line
 * begins with something that only starts a statement (`check`, `x :`, `p(`, `y = generator`)
 * and the line before does not end in an operator or separator. Statements never need it to
 * parse; it only lets error recovery stop at the end of a broken line instead of eating the next.
 */
function insertStatementEnds(tokens: IToken[]): IToken[] {
  const out: IToken[] = [];
  let depth = 0;
  let inFor = false; // between `for` and the `:` that ends its quantifiers
  let afterForColon = false; // the previous token is that `:`
  let noCalls = false; // in a `const`, `check` or `assume`, where `name(` never continues the statement
  let inTrain = false; // inside `train { … }`: entries need no separator, and `x :` there is a typo for `x =`
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const prev = out[out.length - 1];
    const name = t.tokenType.name;
    if (prev && !inTrain && (t.startLine ?? 0) > (prev.endLine ?? 0) && prev.tokenType !== StatementEnd) {
      const next = tokens[i + 1]?.tokenType.name;
      const prevName = prev.tokenType.name;
      // These only ever begin a statement, whatever the line before: the statement keywords (but
      // `assume` / `check` / `:` may be followed by `for`, and `for …:` by `assume` / `check`), `x :`
      // (but `latent` + `x :`, and a `for` header's `n:` after an operator), `x = generator`, and a
      // factor head `p(…) =` (except as the body of `for …:`).
      const alwaysStarts =
        (STARTS.has(name) &&
          !(name === "For" && (prevName === "Assume" || prevName === "Check" || prevName === "Colon")) &&
          !(afterForColon && (name === "Assume" || name === "Check"))) ||
        (name === "Identifier" && next === "Colon" && prevName !== "Latent" && !(inFor && CONTINUES.has(prevName))) ||
        (name === "Identifier" && next === "Eq" && tokens[i + 2]?.tokenType.name === "Generator") ||
        (name === "Identifier" && next === "LParen" && !afterForColon && isFactorHead(tokens, i));
      // `name(` most likely begins one too, unless the line before is unfinished; `order x` +
      // newline + `random(seed = 7)` is one statement.
      const orderFamily = prevName === "Identifier" && out[out.length - 2]?.tokenType.name === "Order";
      const startsHere = name === "Identifier" && !orderFamily && next === "LParen";
      if (
        alwaysStarts ||
        (depth === 0 && startsHere && (!CONTINUES.has(prevName) || BEFORE_REFS.has(prevName) || noCalls))
      ) {
        depth = 0;
        inFor = false;
        noCalls = false;
        out.push({
          ...prev,
          image: "",
          tokenType: StatementEnd,
          tokenTypeIdx: StatementEnd.tokenTypeIdx!,
          startOffset: prev.endOffset ?? prev.startOffset,
          startColumn: prev.endColumn,
          startLine: prev.endLine,
        } as IToken);
      }
    }
    afterForColon = inFor && name === "Colon";
    if (name === "LBrace") inTrain = prev?.tokenType.name === "Train";
    else if (name === "RBrace") inTrain = false;
    const next = tokens[i + 1]?.tokenType.name;
    if (name === "Const" || name === "Check" || name === "Assume") noCalls = true;
    else if (
      NEW_STATEMENT.has(name) ||
      (name === "For" && !["Assume", "Check", "Colon"].includes(prev?.tokenType.name ?? "")) ||
      (name === "Identifier" &&
        depth === 0 &&
        (next === "LParen" || next === "Colon" || (next === "Eq" && tokens[i + 2]?.tokenType.name === "Generator")))
    )
      noCalls = false;
    if (name === "For") inFor = true;
    else if (name === "Colon" || name === "LBrace" || name === "RBrace") inFor = false;
    if (name === "LParen" || name === "LBracket") depth++;
    else if ((name === "RParen" || name === "RBracket") && depth > 0) depth--;
    else if (name === "LBrace" || name === "RBrace") depth = 0;
    out.push(t);
  }
  return out;
}

/**
 * The place just after `s`: one character wide where that character is on the same line, else
 * empty (the renderer still draws one caret), so a span never runs past its line or the file.
 */
function after(s: Span, text: string): Span {
  const ch = text.charCodeAt(s.end.offset);
  const inLine = s.end.offset < text.length && ch !== 10 && ch !== 13;
  return { start: s.end, end: inLine ? { ...s.end, offset: s.end.offset + 1, column: s.end.column + 1 } : s.end };
}

function syntaxDiagnostic(
  e: RecognitionError,
  text: string,
  tokens: IToken[],
): { message: string; span: Span; hint?: string } {
  const t = e.token;
  let span: Span;
  if (t.tokenType.name === "StatementEnd") {
    // Point just after the last character of the unfinished line.
    span = after(tokenSpan(e.previousToken ?? t), text);
  } else if (t.tokenType.name === "EOF" || Number.isNaN(t.startOffset)) {
    // At the end of input: point just after the last real token.
    const last =
      e.previousToken && !Number.isNaN(e.previousToken.startOffset) ? e.previousToken : tokens[tokens.length - 1];
    if (last) {
      span = after(tokenSpan(last), text);
    } else {
      const end = endOfText(text);
      span = { start: end, end };
    }
  } else if (
    e.previousToken &&
    !Number.isNaN(e.previousToken.startOffset) &&
    (t.startLine ?? 0) > (e.previousToken.endLine ?? 0) &&
    /^expected `[\])}]`/.test(e.message)
  ) {
    // A missing closer: point just after the line it belongs to, not at the next line.
    span = after(tokenSpan(e.previousToken), text);
  } else span = tokenSpan(t);
  let hint: string | undefined;
  const image = e.token.image;
  if (KEYWORDS.includes(image) && e.token.tokenType.name !== "EOF") {
    const expectedName = /expected (a name|an? [a-z ]+)/.exec(e.message);
    if (expectedName && /name/.test(e.message)) hint = `\`${image}\` is a keyword; choose another name`;
  }
  if (keywordAsName(e)) hint = `\`${image}\` is a keyword; choose another name`;
  if (/found `=`/.test(e.message) && /`==`/.test(e.message)) hint = "compare with `==`";

  // `a_|_b`: a name may end in `_`, so the lexer reads `a_`, `|`, `_b`.
  const prev = e.previousToken;
  const glued = (name: IToken | undefined): name is IToken =>
    name !== undefined &&
    name.tokenType === Identifier &&
    name.image.endsWith("_") &&
    name.endOffset !== undefined &&
    text.startsWith("|_", name.endOffset + 1);
  const bar = image === "|" && glued(prev) && prev.endOffset! + 1 === e.token.startOffset ? prev : glued(t) ? t : null;
  if (bar) {
    const rest = /^[A-Za-z0-9_]*/.exec(text.slice(bar.endOffset! + 2))![0];
    hint = `\`${bar.image}|${rest}\` reads as the name \`${bar.image}\`, then \`|\`, then the name \`${rest}\` (names may end in \`_\`): write \`${`${bar.image.slice(0, -1)} _|_ ${rest.slice(1)}`.trim()}\` or \`${`${bar.image.slice(0, -1)} ⊥ ${rest.slice(1)}`.trim()}\``;
  }
  return { message: e.message, span, hint: hint ?? syntaxHint(e, text, tokens) };
}

/** How each rule is written, for the hint under a syntax error in it (innermost rule first). */
const RULE_FORMS: Record<string, string> = {
  file: "every statement lives inside `model Name { … }`",
  model: "a model reads `model Name { … }`, its statements between the braces",
  statement:
    "a statement is `const n = 16`, `x : Bernoulli[n]`, `p(x) = chain`, `assume …`, `check …`, `order x raster`, `fit …` or `train { … }`",
  constDecl: "a constant reads `const n = 16`",
  varDecl: "a variable reads `x : Bernoulli[28, 28]` (`latent z : Normal[16]` for a latent one)",
  typeExpr: "a type is `Bernoulli`, `Categorical(k)`, `Normal` or `Real(lo, hi)`",
  shape: "a shape reads `[n]` or `[28, 28]`",
  orderDecl: "an order reads `order x raster` (or `column`, `snake`, `zigzag`, `index`, `random(seed = 7)`)",
  forStmt: "a loop reads `for i in 2..n: p(x[i] | x[i-1]) = table`",
  quantifiers: "a loop header reads `for i in 1..n:` or `for r in 1..h, c in 1..w:`",
  quantifier: "a loop variable reads `i in 1..n`",
  factorStmt: "a factorization reads `p(x) = chain` or `p(x[i] | x[i-1]) = table`",
  assumeStmt: "an assumption reads `assume x[3] ⊥ x[1] | x[2]` or `assume for i in 3..n: x[i] ⊥ x[1..i-2] | x[i-1]`",
  checkStmt: "a check reads `check x[3] ⊥ x[1] | x[2]`, `check x[2] not ⊥ x[1]` or `check params == 2*n - 1`",
  claim: "a claim reads `x[3] ⊥ x[1] | x[2]` (`_|_` for `⊥`; `not ⊥` for dependence; `| …` optional)",
  paramsClaim: "a count check reads `check params == 2*n - 1` (or `!=`, `<`, `<=`, `>`, `>=`)",
  implicitStmt: "an implicit variable reads `x = generator(z) by mlp(hidden = [256])`",
  fitStmt: "an objective reads `fit elbo` or `fit reconstruction + adversarial(on = z, critic = mlp(hidden = [64]))`",
  trainBlock: "a train block reads `train { data = mnist(binarize = 0.5)  epochs = 10 }`",
  trainEntry: "a train entry reads `name = value`, e.g. `epochs = 10`",
  family: "a family reads `chain` or `markov(k = 1)`",
  args: "arguments read `name = value`, separated by `,`: `mlp(hidden = [512, 256])`",
  arg: "an argument reads `name = value` (or a bare value): `k = 1`",
  value: 'a value is a number, a name, a string `"…"`, a list `[512, 256]` or a call `mnist(binarize = 0.5)`',
  list: "a list reads `[512, 256]`",
  refs: "variables are separated by `,`: `x[1], x[2], y`",
  ref: "a variable is written `x`, `x[i]`, `x[r, c]`, `x[1..i-2]`, `x[*, c]` or `x[<i]`",
  subscript: "an index is `i`, `i-1`, a range `1..i-2`, `*` (a whole axis) or `<i` (the predecessors)",
  indexItem: "an index is `i`, `i-1`, a range `1..i-2` or `*` (a whole axis)",
  expr: "an expression is a number, a constant or loop variable, or arithmetic of them: `2*n - 1`",
  unary: "an expression is a number, a constant or loop variable, or arithmetic of them: `2*n - 1`",
  atom: "an expression is a number, a constant or loop variable, or arithmetic of them: `2*n - 1`",
};

/**
 * The unclosed bracket (`(`, `[` or `{`) before token index `end`: the one a missing closer
 * belongs to. Null when every bracket before it is closed.
 */
function openBracket(tokens: readonly IToken[], end: number, kind: string): IToken | null {
  let depth = 0;
  for (let i = Math.min(end, tokens.length) - 1; i >= 0; i--) {
    const name = tokens[i].tokenType.name;
    if (name === "RParen" || name === "RBracket" || name === "RBrace") depth++;
    else if (name === "LParen" || name === "LBracket" || name === "LBrace") {
      if (depth === 0) return name === kind ? tokens[i] : null;
      depth--;
    }
  }
  return null;
}

/** The index of the first token at or after `offset` (tokens are in offset order). */
function tokenIndexAt(tokens: readonly IToken[], offset: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid].startOffset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The rest of the line from `offset`, without a trailing comment or spaces. */
function restOfLine(text: string, offset: number): string {
  return text
    .slice(offset, lineEnd(text, offset))
    .replace(/\s*\/\/.*$/, "")
    .trim();
}

/**
 * A hint for a syntax error that has no more specific one: the fix where the tokens show it
 * (`x Bernoulli` → `x : Bernoulli`, the `(` a `)` would close, `1e` without digits), else how the
 * construct being read is written (RULE_FORMS).
 */
function syntaxHint(e: RecognitionError, text: string, tokens: readonly IToken[]): string | undefined {
  const t = e.token;
  const name = t.tokenType.name;
  const real = !Number.isNaN(t.startOffset) && name !== "EOF" && name !== "StatementEnd";
  // Where the error is among the tokens: at the token, or (at a line end or the file's end, which
  // are not tokens there) just after the token before it.
  const prevTok = e.previousToken && !Number.isNaN(e.previousToken.startOffset) ? e.previousToken : undefined;
  const at = real
    ? tokenIndexAt(tokens, t.startOffset)
    : prevTok
      ? tokenIndexAt(tokens, prevTok.startOffset) + 1
      : tokens.length;
  const before = tokens[at - 1];
  const next = real ? tokens[at + 1] : undefined;
  const adjacent = (a: IToken | undefined, b: IToken | undefined) =>
    a !== undefined && b !== undefined && (a.endOffset ?? a.startOffset) + 1 === b.startOffset;
  const rules = e.context?.ruleStack ?? [];
  const rule = rules[rules.length - 1] ?? "file";

  // A number the lexer cut short: `1e` (no exponent digits), `0x10` (no hexadecimal).
  if (real && name === "Identifier" && before?.tokenType === NumberLiteral && adjacent(before, t)) {
    if (/^[eE]/.test(t.image)) return `an exponent needs digits: \`${before.image}e3\`, \`${before.image}e-3\``;
    if (before.image === "0" && /^[xX][0-9a-fA-F]+$/.test(t.image))
      return `numbers are decimal: write \`${parseInt(t.image.slice(1), 16)}\` for \`0${t.image}\``;
    return `a name cannot start with a digit: \`${before.image}${t.image}\` reads as \`${before.image}\`, then \`${t.image}\``;
  }
  // A missing closer: say which bracket it closes.
  const closer = /^expected `([\])}])`/.exec(e.message)?.[1];
  if (closer === "}") {
    // The model block or the train block: its keyword is the last one before the error.
    const keyword = / the train block/.test(e.message) ? "Train" : "Model";
    for (let i = Math.min(at, tokens.length) - 1; i >= 0; i--) {
      if (tokens[i].tokenType.name !== keyword) continue;
      const head = keyword === "Train" ? "train {" : `model ${tokens[i + 1]?.image ?? "…"} {`;
      return `add \`}\` to close \`${head}\` (line ${tokens[i].startLine})`;
    }
  } else if (closer) {
    const open = openBracket(tokens, at, closer === ")" ? "LParen" : "LBracket");
    if (open)
      return `add \`${closer}\` to close the \`${open.image}\` at line ${open.startLine}, column ${open.startColumn}`;
  }
  if (e.message.startsWith("expected `model")) {
    if (name === "RBrace") return "this `}` closes no block: delete it (or add the `{` it was meant to close)";
    if (name === "Identifier" && distance(t.image.toLowerCase(), "model") <= 2)
      return `did you mean \`model\`? A file holds \`model Name { … }\` blocks`;
    return "every statement lives inside `model Name { … }`";
  }
  // Empty brackets: `Bernoulli[]`, `x[]`.
  if (name === "RBracket" && before?.tokenType.name === "LBracket") {
    if (rules.includes("shape"))
      return "a shape lists one or more sizes: `Bernoulli[n]`; without `[…]` the variable is one element";
    if (rules.includes("ref"))
      return "an index list names one or more indices: `x[i]`; `x` alone is the whole variable";
  }
  // `model M` without `{`.
  if (rule === "model" && /^expected `\{`/.test(e.message) && before?.tokenType === Identifier)
    return `add \`{\` after \`model ${before.image}\`: \`model ${before.image} { … }\``;
  // `model { … }`: the name is missing.
  if (rule === "model" && name === "LBrace") return "name the model: `model Name { … }`";
  if (rule === "statement" && real) {
    const nextName = next?.tokenType.name;
    if (name === "RParen" || name === "RBracket")
      return `this \`${t.image}\` has no \`${name === "RParen" ? "(" : "["}\` to close: delete it`;
    if (name === "Identifier" && nextName === "Identifier")
      return `declare a variable with \`:\`: \`${t.image} : ${restOfLine(text, next!.startOffset)}\``;
    if (name === "Identifier" && nextName === "Eq")
      return `declare a constant with \`const\`: \`const ${restOfLine(text, t.startOffset)}\` (\`=\` alone only defines \`y = generator(z) by …\`)`;
    if (
      name === "Identifier" &&
      (nextName === "LBracket" || nextName === "Indep" || nextName === "Comma" || nextName === "Not")
    )
      return "a claim starts with `check` (to prove it) or `assume` (to take it as true): `check x[3] ⊥ x[1] | x[2]`";
  }
  // `n = 16` reads as the start of `y = generator(…) by …`.
  if (rule === "implicitStmt" && /^expected `generator`/.test(e.message)) {
    const eq = tokens[at - 1];
    const lhs = tokens[at - 2];
    if (eq?.tokenType.name === "Eq" && lhs?.tokenType === Identifier)
      return `declare a constant with \`const\`: \`const ${restOfLine(text, lhs.startOffset)}\` (\`y = …\` alone only defines \`y = generator(z) by …\`)`;
  }
  // A claim where a comparison of the parameter count was meant: `check m == 512`.
  if (rule === "claim" && ["EqEq", "NotEq", "LtEq", "GtEq", "Lt", "Gt", "Eq"].includes(name))
    return "to compare the parameter count write `check params == …`; a claim reads `x ⊥ y | z`";
  // Nothing after a separator: `x[1] ⊥ x[2] |`, `x[1],`.
  if (rule === "ref" && before && ["Bar", "Indep", "Comma"].includes(before.tokenType.name)) {
    const sep = before.tokenType.name === "Bar" ? "`|`" : before.tokenType.name === "Indep" ? "`⊥`" : "`,`";
    return before.tokenType.name === "Bar"
      ? "name what the claim is conditioned on after `|`, or drop the `|`"
      : `name a variable after ${sep}: \`x[1] ⊥ x[2] | x[3]\``;
  }
  // One token missing (`p(x) chain`, `for i 1..n`): say where it goes, then how the construct reads.
  const missing = /^expected `([^`]+)` in /.exec(e.message)?.[1];
  const form = rules
    .slice()
    .reverse()
    .map((r) => RULE_FORMS[r])
    .find(Boolean);
  if (missing && real && form)
    return /^[A-Za-z0-9_"]/.test(t.image)
      ? `add \`${missing}\` before \`${t.image}\`: ${form}`
      : `write \`${missing}\` instead of \`${t.image}\`: ${form}`;
  if (form) return form;
  return RULE_FORMS[rule];
}

/** The result of parsing an independence query such as `x[5] ⊥ x[1] | x[3]`. */
export interface ClaimParseResult {
  readonly claim: IndependenceClaim | null;
  readonly diagnostics: Diagnostic[];
}

/**
 * Parses a fragment with one grammar rule (the CLI's query and `--data` arguments): lexer and
 * syntax errors as diagnostics, then `build` on the CST when there are none.
 */
function parseFragment<T>(
  text: string,
  file: string,
  rule: (p: typeof gmParser) => CstNode,
  build: (b: AstBuilder, cst: CstNode) => T | null,
): { node: T | null; diagnostics: Diagnostic[] } {
  const bag = new DiagnosticBag(file);
  const lexed = gmLexer.tokenize(text);
  for (const e of lexed.errors) {
    const first = [...text.slice(e.offset, e.offset + Math.max(1, e.length))][0] ?? "";
    bag.error(
      "E0101",
      `unexpected character \`${text.slice(e.offset, e.offset + Math.max(1, e.length))}\``,
      spanAt(text, e.offset, e.length),
      {
        hint: characterHint(text, e.offset, first, first.codePointAt(0) ?? 0),
      },
    );
  }
  for (const t of lexed.tokens)
    if (t.tokenType === NumberLiteral && badSeparator(t.image))
      bag.error("E0111", `\`${t.image}\`: a digit separator \`_\` stands between two digits`, tokenSpan(t), {
        hint: `write \`${fixSeparators(t.image)}\``,
      });
  gmParser.input = lexed.tokens.filter((t) => t.tokenType.name !== "UnterminatedString");
  const tooDeep = nestingTooDeep(gmParser.input);
  if (tooDeep) {
    bag.error("E0108", `this nests more than ${MAX_NESTING} levels deep`, tokenSpan(tooDeep), {
      hint: `gm reads expressions and lists nested at most ${MAX_NESTING} levels deep`,
    });
    return { node: null, diagnostics: bag.items };
  }
  const cst = rule(gmParser);
  for (const e of gmParser.errors) {
    const d = syntaxDiagnostic(e, text, lexed.tokens);
    // Left-over input after the fragment: not a missing `model` block.
    if (d.message.startsWith("expected `model"))
      bag.error("E0107", d.message.replace(/^expected `model Name \{ … \}`/, "expected the end of the input"), d.span);
    else bag.error("E0104", d.message, d.span, d.hint ? { hint: d.hint } : {});
  }
  if (bag.hasErrors) return { node: null, diagnostics: bag.items };
  return { node: build(new AstBuilder(bag), cst), diagnostics: bag.items };
}

/** Parses a standalone claim `A ⊥ B | C` (as `gm query` takes it). */
export function parseClaim(text: string, file = "<query>"): ClaimParseResult {
  const r = parseFragment(
    text,
    file,
    (p) => p.claim(),
    (b, cst) => b.claim(cst),
  );
  return { claim: r.node, diagnostics: r.diagnostics };
}

/** Parses a standalone argument value, e.g. `idx("a.gz", binarize = 0.5)` (the CLI's `--data`). */
export function parseValue(text: string, file = "<argument>"): { value: Value | null; diagnostics: Diagnostic[] } {
  const r = parseFragment(
    text,
    file,
    (p) => p.value(),
    (b, cst) => b.value(cst),
  );
  return { value: r.node, diagnostics: r.diagnostics };
}
