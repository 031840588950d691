/**
 * Tokens of the `.gm` language (LANGUAGE.md §1). Keywords come before `Identifier` and use
 * `longer_alt` so `orders` or `model_1` stay identifiers. `p` and `q` are plain identifiers:
 * the parser recognizes a factorization by `Identifier (`.
 */
import { createToken, Lexer, type TokenType } from "chevrotain";

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(word: string): TokenType {
  return createToken({
    name: word[0].toUpperCase() + word.slice(1),
    pattern: new RegExp(`${word}\\b`),
    longer_alt: Identifier,
    label: `\`${word}\``,
  });
}

export const Model = keyword("model");
export const Const = keyword("const");
export const Latent = keyword("latent");
export const Order = keyword("order");
export const For = keyword("for");
export const In = keyword("in");
export const Assume = keyword("assume");
export const Check = keyword("check");
export const Fit = keyword("fit");
export const Train = keyword("train");
export const Not = keyword("not");
export const By = keyword("by");
export const Params = keyword("params");
export const Generator = keyword("generator");

/** The reserved words, for diagnostics ("`order` is a keyword"). */
export const KEYWORDS: readonly string[] = [
  "model",
  "const",
  "latent",
  "order",
  "for",
  "in",
  "assume",
  "check",
  "fit",
  "train",
  "not",
  "by",
  "params",
  "generator",
];

export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/,
  group: Lexer.SKIPPED,
});
export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\n\r]*/, group: "comments" });
export const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[\s\S]*?\*\//,
  group: "comments",
  line_breaks: true,
});
/** Matches only when a block comment never closes; the lexer wrapper reports it (E0102). */
export const UnterminatedComment = createToken({
  name: "UnterminatedComment",
  pattern: /\/\*[\s\S]*/,
  group: "comments",
  line_breaks: true,
});

/** `_|_`, `⊥` (U+22A5) or `⫫` (U+2AEB): independence. Must precede `Identifier` (`_` starts one). */
export const Indep = createToken({ name: "Indep", pattern: /_\|_|\u22a5|\u2aeb/, label: "`⊥`" });

export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /"(?:[^"\\\n\r]|\\.)*"/,
  label: "a string",
});
/** Matches only when a string never closes on its line; reported as E0103. */
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\n\r]|\\.)*/,
  label: "a string",
});

/** `784`, `1_000`, `0.5`, `1e-3`. `2..n` lexes as `2`, `..`, `n`. */
export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?/,
  label: "a number",
});

export const DotDot = createToken({ name: "DotDot", pattern: /\.\./, label: "`..`" });
export const EqEq = createToken({ name: "EqEq", pattern: /==/, label: "`==`" });
export const NotEq = createToken({ name: "NotEq", pattern: /!=/, label: "`!=`" });
export const LtEq = createToken({ name: "LtEq", pattern: /<=/, label: "`<=`" });
export const GtEq = createToken({ name: "GtEq", pattern: />=/, label: "`>=`" });
export const Lt = createToken({ name: "Lt", pattern: /</, label: "`<`" });
export const Gt = createToken({ name: "Gt", pattern: />/, label: "`>`" });
export const Eq = createToken({ name: "Eq", pattern: /=/, label: "`=`" });
export const Plus = createToken({ name: "Plus", pattern: /\+/, label: "`+`" });
export const Minus = createToken({ name: "Minus", pattern: /-|\u2212/, label: "`-`" });
export const Star = createToken({ name: "Star", pattern: /\*|\u00d7/, label: "`*`" });
export const Slash = createToken({ name: "Slash", pattern: /\//, label: "`/`" });
export const Caret = createToken({ name: "Caret", pattern: /\^/, label: "`^`" });
export const Bar = createToken({ name: "Bar", pattern: /\|/, label: "`|`" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "`(`" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "`)`" });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "`[`" });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: "`]`" });
export const LBrace = createToken({ name: "LBrace", pattern: /\{/, label: "`{`" });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/, label: "`}`" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "`,`" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "`:`" });
export const Semicolon = createToken({ name: "Semicolon", pattern: /;/, label: "`;`" });
/**
 * Never produced by the lexer: `parse` inserts it where a line break ends a statement (the next
 * line begins a new statement and the previous line does not end in an operator or separator).
 * It lets the parser recover at the right place when a statement is incomplete.
 */
export const StatementEnd = createToken({ name: "StatementEnd", pattern: Lexer.NA, label: "the end of the line" });

/** Token order matters: comments before `/`, `_|_` before identifiers, keywords before identifiers. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  Indep,
  StringLiteral,
  UnterminatedString,
  NumberLiteral,
  DotDot,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  Lt,
  Gt,
  Eq,
  Plus,
  Minus,
  Star,
  Slash,
  Caret,
  Bar,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Semicolon,
  StatementEnd,
  Model,
  Const,
  Latent,
  Order,
  For,
  In,
  Assume,
  Check,
  Fit,
  Train,
  Not,
  By,
  Params,
  Generator,
  Identifier,
];

/** The one lexer instance (chevrotain lexers are stateless between calls). */
export const gmLexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });
