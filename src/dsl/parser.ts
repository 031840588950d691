/**
 * The chevrotain CST parser for `.gm` (LANGUAGE.md §2–§8). Recovery is on, so one file reports
 * several syntax errors; `toAst.ts` turns the CST into the typed AST. Every rule carries its
 * production from grammar/gm.ebnf as a comment; tests/dsl/grammar.test.ts keeps the two in sync.
 */
import {
  CstParser,
  EOF,
  type IParserErrorMessageProvider,
  type IOrAlt,
  type TokenType,
  type IToken,
  defaultParserErrorProvider,
  isRecognitionException,
  LLkLookaheadStrategy,
  type OptionalProductionType,
  type Rule,
} from "chevrotain";
import * as T from "./tokens";

/** Words for rule names in messages: "expected `]` to close the subscript". */
const RULE_WORDS: Record<string, string> = {
  file: "the file",
  model: "a model block",
  statement: "a statement",
  constDecl: "a constant declaration",
  varDecl: "a variable declaration",
  typeExpr: "the type",
  shape: "the shape",
  orderDecl: "an order declaration",
  forStmt: "a `for` statement",
  quantifiers: "the `for` quantifiers",
  quantifier: "a quantifier",
  factorStmt: "a factorization",
  assumeStmt: "an `assume` statement",
  checkStmt: "a `check` statement",
  claim: "an independence claim",
  paramsClaim: "a `check params` claim",
  implicitStmt: "an implicit definition",
  fitStmt: "a `fit` statement",
  trainBlock: "the train block",
  trainEntry: "a train entry",
  family: "a family",
  args: "the arguments",
  arg: "an argument",
  value: "a value",
  list: "a list",
  refs: "a list of variables",
  ref: "a variable reference",
  subscript: "the subscript",
  indexItem: "an index",
  expr: "an expression",
  unary: "an expression",
  atom: "an expression",
};

/** What a closing bracket closes, by the rule that expected it. */
const CLOSE_WORDS: Record<string, string> = {
  model: "the model block",
  trainBlock: "the train block",
  shape: "the shape",
  ref: "the subscript",
  subscript: "the tuple",
  typeExpr: "the type's arguments",
  family: "the arguments",
  value: "the arguments",
  list: "the list",
  atom: "the parentheses",
  paramsClaim: "`params(…)`",
  factorStmt: "`p(…)`",
  implicitStmt: "`generator(…)`",
};

/** What a rule's alternatives are, where that reads better than the rule's own name. */
const CHOICE_WORDS: Record<string, string> = {
  forStmt: "a statement after `for …:`",
  checkStmt: "a claim after `check`",
  paramsClaim: "a comparison after `params`",
};

function describeToken(t: IToken): string {
  if (t.tokenType.name === "EOF") return "the end of the file";
  if (t.tokenType.name === "StatementEnd") return "the end of the line";
  return `\`${t.image}\``;
}

function label(t: TokenType): string {
  if (t.name === "Identifier") return "a name";
  if (t.name === "EOF") return "the end of the file";
  return (t.LABEL as string | undefined) ?? t.name;
}

/** Messages in the user's words. */
export const gmErrorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, ruleName }) {
    if (expected.name === "EOF") return `expected \`model Name { … }\`, found ${describeToken(actual)}`;
    // A block that goes on with something that is not a statement: say what may come instead.
    if (expected.name === "RBrace" && actual.tokenType.name !== "EOF" && actual.tokenType.name !== "Model") {
      if (ruleName === "model") return `expected a statement or \`}\`, found ${describeToken(actual)}`;
      if (ruleName === "trainBlock")
        return `expected a train entry (\`name = value\`) or \`}\`, found ${describeToken(actual)}`;
    }
    const closes = expected.name === "RBracket" || expected.name === "RParen" || expected.name === "RBrace";
    if (closes)
      return `expected ${label(expected)} to close ${CLOSE_WORDS[ruleName] ?? "the block"}, found ${describeToken(actual)}`;
    return `expected ${label(expected)} in ${RULE_WORDS[ruleName] ?? ruleName}, found ${describeToken(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `expected \`model Name { … }\`, found ${describeToken(firstRedundant)}`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
    const starts = new Set<string>();
    // `;` and line ends are always allowed between statements; listing them helps nobody.
    for (const alt of expectedPathsPerAlt)
      for (const path of alt)
        if (path[0] && path[0].name !== "Semicolon" && path[0].name !== "StatementEnd") starts.add(label(path[0]));
    const list = [...starts].slice(0, 10).join(", ");
    return `expected ${CHOICE_WORDS[ruleName] ?? RULE_WORDS[ruleName] ?? ruleName}${list ? ` (${list})` : ""}, found ${describeToken(actual[0])}`;
  },
  buildEarlyExitMessage(options) {
    const { actual, ruleName } = options;
    if (!RULE_WORDS[ruleName]) return defaultParserErrorProvider.buildEarlyExitMessage(options);
    return `expected ${RULE_WORDS[ruleName]}, found ${describeToken(actual[0])}`;
  },
};

/**
 * LL(k) lookahead, except for the statements of a model block: that loop goes on at any token but
 * `}`, `model` and the end of the file, so a line that cannot begin a statement (`x Bernoulli[3]`,
 * `= chain`) is reported as a bad statement and skipped (see `GmParser.model`) instead of ending
 * the block, which made every later statement "outside every model" (E0107).
 */
class GmLookahead extends LLkLookaheadStrategy {
  override buildLookaheadForOptional(options: {
    prodOccurrence: number;
    prodType: OptionalProductionType;
    rule: Rule;
    maxLookahead: number;
    dynamicTokensEnabled: boolean;
  }): () => boolean {
    if (options.rule.name !== "model" || options.prodType !== "Repetition")
      return super.buildLookaheadForOptional(options);
    return function (this: GmParser) {
      const t = this.LA(1).tokenType;
      return t !== T.RBrace && t !== T.Model && t !== EOF;
    };
  }
}

/** The parser. Rules are class properties so chevrotain can record the grammar. */
export class GmParser extends CstParser {
  /**
   * Each `OR`'s alternatives, made once: a literal array of `{ ALT }` closures is otherwise built on
   * every call (chevrotain's "caching arrays of alternatives"). Safe because no alternative captures
   * a rule's arguments or locals, only `this`.
   */
  private readonly alts: Array<Array<IOrAlt<unknown>>> = [];

  constructor() {
    // NOTE: no CST node locations: the AST takes its spans from tokens, and tracking them made a
    // location object per node (a 10,000-line file spent most of its parse in garbage collection).
    super(T.allTokens, {
      recoveryEnabled: true,
      nodeLocationTracking: "none",
      maxLookahead: 3,
      lookaheadStrategy: new GmLookahead({ maxLookahead: 3 }),
      errorMessageProvider: gmErrorMessages,
    });
    this.performSelfAnalysis();
  }

  /** file = { model | ";" | NEWLINE } ; */
  public file = this.RULE("file", () => {
    this.MANY(() =>
      this.OR(
        (this.alts[0] ??= [
          { ALT: () => this.SUBRULE(this.model) },
          { ALT: () => this.CONSUME(T.Semicolon) },
          { ALT: () => this.CONSUME(T.StatementEnd) },
        ]),
      ),
    );
  });

  /**
   * model = "model" Identifier "{" { statement } "}" ;
   *
   * A statement that does not parse (its error is already recorded) is skipped up to where the
   * next one begins (`skipStatement`), so recovery stays inside the block.
   */
  public model = this.RULE("model", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      const start = this.LA(1);
      try {
        this.SUBRULE(this.statement);
      } catch (e) {
        if (!(e instanceof Error) || !isRecognitionException(e)) throw e;
        this.ACTION(() => this.skipStatement(start));
      }
    });
    this.CONSUME(T.RBrace);
  });

  /**
   * After a statement failed: skips to the next statement boundary — a line break that begins a
   * statement (`StatementEnd`), `;`, the `}` that closes the model (not one the statement opened,
   * as in `train { … }`), `model` or the end of the file — and always past `start`, the token the
   * statement began with, so the model's loop moves on.
   */
  private skipStatement(start: IToken): void {
    // Braces the broken statement opened and did not close (`train {`).
    let depth = 0;
    for (let k = 0; this.LA(1) !== start; k--) {
      const t = this.LA(k);
      if (t.tokenType === EOF) break;
      if (t.tokenType === T.LBrace) depth++;
      else if (t.tokenType === T.RBrace) depth--;
      if (t === start) break;
    }
    depth = Math.max(0, depth);
    for (let moved = this.LA(1) !== start; ; moved = true) {
      const t = this.LA(1).tokenType;
      if (t === EOF || t === T.Model) return;
      if (moved && (t === T.StatementEnd || t === T.Semicolon)) return;
      if (t === T.RBrace) {
        if (depth === 0) return;
        depth--;
      } else if (t === T.LBrace) depth++;
      this.SKIP_TOKEN();
    }
  }

  /**
   * statement = constDecl | varDecl | orderDecl | forStmt | factorStmt | assumeStmt | checkStmt | implicitStmt |
   * fitStmt | trainBlock | ";" | NEWLINE ;
   *
   * No resync of its own: a failure goes to `model`, which skips the rest of the statement.
   */
  public statement = this.RULE(
    "statement",
    () => {
      this.OR(
        (this.alts[1] ??= [
          { ALT: () => this.SUBRULE(this.constDecl) },
          { ALT: () => this.SUBRULE(this.varDecl) },
          { ALT: () => this.SUBRULE(this.orderDecl) },
          { ALT: () => this.SUBRULE(this.forStmt) },
          { ALT: () => this.SUBRULE(this.factorStmt) },
          { ALT: () => this.SUBRULE(this.assumeStmt) },
          { ALT: () => this.SUBRULE(this.checkStmt) },
          { ALT: () => this.SUBRULE(this.implicitStmt) },
          { ALT: () => this.SUBRULE(this.fitStmt) },
          { ALT: () => this.SUBRULE(this.trainBlock) },
          { ALT: () => this.CONSUME(T.Semicolon) },
          { ALT: () => this.CONSUME(T.StatementEnd) },
        ]),
      );
    },
    { resyncEnabled: false },
  );

  /** constDecl = "const" Identifier "=" expr ; */
  public constDecl = this.RULE("constDecl", () => {
    this.CONSUME(T.Const);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Eq);
    this.SUBRULE(this.expr);
  });

  /** varDecl = [ "latent" ] Identifier ":" typeExpr [ shape ] ; */
  public varDecl = this.RULE("varDecl", () => {
    this.OPTION(() => this.CONSUME(T.Latent));
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
    this.OPTION2(() => this.SUBRULE(this.shape));
  });

  /** typeExpr = Identifier [ "(" expr { "," expr } ")" ] ; */
  public typeExpr = this.RULE("typeExpr", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.SUBRULE(this.expr);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.expr);
      });
      this.CONSUME(T.RParen);
    });
  });

  /** shape = "[" expr { "," expr } "]" ; */
  public shape = this.RULE("shape", () => {
    this.CONSUME(T.LBracket);
    this.SUBRULE(this.expr);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.expr);
    });
    this.CONSUME(T.RBracket);
  });

  /** orderDecl = "order" Identifier family ; */
  public orderDecl = this.RULE("orderDecl", () => {
    this.CONSUME(T.Order);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.family);
  });

  /** forStmt = quantifiers ":" ( forStmt | factorStmt | assumeStmt | checkStmt ) ; */
  public forStmt = this.RULE("forStmt", () => {
    this.SUBRULE(this.quantifiers);
    this.CONSUME(T.Colon);
    this.OR(
      (this.alts[2] ??= [
        { ALT: () => this.SUBRULE(this.forStmt) },
        { ALT: () => this.SUBRULE(this.factorStmt) },
        { ALT: () => this.SUBRULE(this.assumeStmt) },
        { ALT: () => this.SUBRULE(this.checkStmt) },
      ]),
    );
  });

  /** quantifiers = "for" quantifier { "," quantifier } ; */
  public quantifiers = this.RULE("quantifiers", () => {
    this.CONSUME(T.For);
    this.SUBRULE(this.quantifier);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.quantifier);
    });
  });

  /** quantifier = Identifier "in" expr ".." expr ; */
  public quantifier = this.RULE("quantifier", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.In);
    this.SUBRULE(this.expr);
    this.CONSUME(T.DotDot);
    this.SUBRULE2(this.expr);
  });

  /** factorStmt = Identifier "(" refs [ "|" refs ] ")" "=" family ;   (the Identifier is `p` or `q`) */
  public factorStmt = this.RULE("factorStmt", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.refs);
    this.OPTION(() => {
      this.CONSUME(T.Bar);
      this.SUBRULE2(this.refs);
    });
    this.CONSUME(T.RParen);
    this.CONSUME(T.Eq);
    this.SUBRULE(this.family);
  });

  /**
   * assumeStmt = "assume" { quantifiers ":" } claim ;
   * (`assume for r …: for c …: …` means `assume for r …, c …: …`.)
   */
  public assumeStmt = this.RULE("assumeStmt", () => {
    this.CONSUME(T.Assume);
    this.MANY(() => {
      this.SUBRULE(this.quantifiers);
      this.CONSUME(T.Colon);
    });
    this.SUBRULE(this.claim);
  });

  /** checkStmt = "check" { quantifiers ":" } ( paramsClaim | claim ) ; */
  public checkStmt = this.RULE("checkStmt", () => {
    this.CONSUME(T.Check);
    this.MANY(() => {
      this.SUBRULE(this.quantifiers);
      this.CONSUME(T.Colon);
    });
    this.OR(
      (this.alts[3] ??= [{ ALT: () => this.SUBRULE(this.paramsClaim) }, { ALT: () => this.SUBRULE(this.claim) }]),
    );
  });

  /** claim = refs [ "not" ] "⊥" refs [ "|" refs ] ; */
  public claim = this.RULE("claim", () => {
    this.SUBRULE(this.refs);
    this.OPTION(() => this.CONSUME(T.Not));
    this.CONSUME(T.Indep);
    this.SUBRULE2(this.refs);
    this.OPTION2(() => {
      this.CONSUME(T.Bar);
      this.SUBRULE3(this.refs);
    });
  });

  /**
   * paramsClaim = "params" [ "(" Identifier { "," Identifier } ")" ] ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) expr ;
   */
  public paramsClaim = this.RULE("paramsClaim", () => {
    this.CONSUME(T.Params);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.CONSUME(T.Identifier);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.CONSUME2(T.Identifier);
      });
      this.CONSUME(T.RParen);
    });
    this.OR(
      (this.alts[4] ??= [
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LtEq) },
        { ALT: () => this.CONSUME(T.GtEq) },
        { ALT: () => this.CONSUME(T.Lt) },
        { ALT: () => this.CONSUME(T.Gt) },
      ]),
    );
    this.SUBRULE(this.expr);
  });

  /** implicitStmt = Identifier "=" "generator" "(" refs ")" "by" family ; */
  public implicitStmt = this.RULE("implicitStmt", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Eq);
    this.CONSUME(T.Generator);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.refs);
    this.CONSUME(T.RParen);
    this.CONSUME(T.By);
    this.SUBRULE(this.family);
  });

  /** fitStmt = "fit" family { "+" family } ; */
  public fitStmt = this.RULE("fitStmt", () => {
    this.CONSUME(T.Fit);
    this.SUBRULE(this.family);
    this.MANY(() => {
      this.CONSUME(T.Plus);
      this.SUBRULE2(this.family);
    });
  });

  /** trainBlock = "train" "{" { trainEntry } "}" ; */
  public trainBlock = this.RULE("trainBlock", () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.trainEntry));
    this.CONSUME(T.RBrace);
  });

  /** trainEntry = Identifier "=" value [ ";" | "," | NEWLINE ] ; */
  public trainEntry = this.RULE("trainEntry", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Eq);
    this.SUBRULE(this.value);
    this.OPTION(() =>
      this.OR(
        (this.alts[5] ??= [
          { ALT: () => this.CONSUME(T.Semicolon) },
          { ALT: () => this.CONSUME(T.Comma) },
          { ALT: () => this.CONSUME(T.StatementEnd) },
        ]),
      ),
    );
  });

  /** family = Identifier [ "(" [ args ] ")" ] ; */
  public family = this.RULE("family", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.OPTION2(() => this.SUBRULE(this.args));
      this.CONSUME(T.RParen);
    });
  });

  /** args = arg { "," arg } ; */
  public args = this.RULE("args", () => {
    this.SUBRULE(this.arg);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.arg);
    });
  });

  /** arg = [ Identifier "=" ] value ; */
  public arg = this.RULE("arg", () => {
    this.OPTION(() => {
      this.CONSUME(T.Identifier);
      this.CONSUME(T.Eq);
    });
    this.SUBRULE(this.value);
  });

  /** value = StringLiteral | list | Identifier "(" [ args ] ")" | expr ; */
  public value = this.RULE("value", () => {
    this.OR(
      (this.alts[6] ??= [
        { ALT: () => this.CONSUME(T.StringLiteral) },
        { ALT: () => this.SUBRULE(this.list) },
        {
          GATE: () => this.LA(2).tokenType === T.LParen,
          ALT: () => {
            this.CONSUME(T.Identifier);
            this.CONSUME(T.LParen);
            this.OPTION(() => this.SUBRULE(this.args));
            this.CONSUME(T.RParen);
          },
        },
        { ALT: () => this.SUBRULE(this.expr) },
      ]),
    );
  });

  /** list = "[" [ value { "," value } ] "]" ; */
  public list = this.RULE("list", () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.value);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.value);
      });
    });
    this.CONSUME(T.RBracket);
  });

  /** refs = ref { "," ref } ; */
  public refs = this.RULE("refs", () => {
    this.SUBRULE(this.ref);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.ref);
    });
  });

  /** ref = Identifier [ "[" subscript "]" ] ; */
  public ref = this.RULE("ref", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      this.SUBRULE(this.subscript);
      this.CONSUME(T.RBracket);
    });
  });

  /** subscript = "<" ( "(" expr { "," expr } ")" | expr ) | indexItem { "," indexItem } ; */
  public subscript = this.RULE("subscript", () => {
    this.OR(
      (this.alts[7] ??= [
        {
          ALT: () => {
            this.CONSUME(T.Lt);
            // `<(r, c)` is a tuple; `<(i)` reads the same either way, so the overlap is harmless.
            this.OR2([
              {
                IGNORE_AMBIGUITIES: true,
                ALT: () => {
                  this.CONSUME(T.LParen);
                  this.SUBRULE(this.expr);
                  this.MANY(() => {
                    this.CONSUME(T.Comma);
                    this.SUBRULE2(this.expr);
                  });
                  this.CONSUME(T.RParen);
                },
              },
              { ALT: () => this.SUBRULE3(this.expr) },
            ]);
          },
        },
        {
          ALT: () => {
            this.SUBRULE(this.indexItem);
            this.MANY2(() => {
              this.CONSUME2(T.Comma);
              this.SUBRULE2(this.indexItem);
            });
          },
        },
      ]),
    );
  });

  /** indexItem = "*" | expr [ ".." expr ] ; */
  public indexItem = this.RULE("indexItem", () => {
    this.OR(
      (this.alts[8] ??= [
        { ALT: () => this.CONSUME(T.Star) },
        {
          ALT: () => {
            this.SUBRULE(this.expr);
            this.OPTION(() => {
              this.CONSUME(T.DotDot);
              this.SUBRULE2(this.expr);
            });
          },
        },
      ]),
    );
  });

  // One flat chain: the AST builder gives `*` and `/` precedence over `+` and `-`. (A rule per
  // precedence level made six CST nodes for every number in the file.)
  /** expr = unary { ( "+" | "-" | "*" | "/" ) unary } ; */
  public expr = this.RULE("expr", () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.OR(
        (this.alts[9] ??= [
          { ALT: () => this.CONSUME(T.Plus) },
          { ALT: () => this.CONSUME(T.Minus) },
          { ALT: () => this.CONSUME(T.Star) },
          { ALT: () => this.CONSUME(T.Slash) },
        ]),
      );
      this.SUBRULE2(this.unary);
    });
  });

  /** unary = "-" unary | atom [ "^" unary ] ; */
  public unary = this.RULE("unary", () => {
    this.OR(
      (this.alts[10] ??= [
        {
          ALT: () => {
            this.CONSUME(T.Minus);
            this.SUBRULE(this.unary);
          },
        },
        {
          ALT: () => {
            this.SUBRULE(this.atom);
            this.OPTION(() => {
              this.CONSUME(T.Caret);
              this.SUBRULE2(this.unary);
            });
          },
        },
      ]),
    );
  });

  /** atom = NumberLiteral | Identifier | "(" expr ")" ; */
  public atom = this.RULE("atom", () => {
    this.OR(
      (this.alts[11] ??= [
        { ALT: () => this.CONSUME(T.NumberLiteral) },
        { ALT: () => this.CONSUME(T.Identifier) },
        {
          ALT: () => {
            this.CONSUME(T.LParen);
            this.SUBRULE(this.expr);
            this.CONSUME(T.RParen);
          },
        },
      ]),
    );
  });
}

/** One shared parser instance (chevrotain parsers are reusable: set `input`, call a rule). */
export const gmParser = new GmParser();
