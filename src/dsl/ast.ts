/**
 * The typed AST of a `.gm` file. Every node is a readonly tagged union member with a `span`
 * (its exact place in the source). Parenthesized expressions leave no node behind: the printer
 * re-inserts the parentheses precedence requires, so `parse(print(ast))` equals `ast` up to spans.
 *
 * Grammar: grammar/gm.ebnf (kept in sync with src/dsl/parser.ts by tests/dsl/grammar.test.ts).
 */

/** A position: 0-based offset, 1-based line and column (columns count UTF-16 code units). */
export interface Position {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/** A half-open source range: `end` is the position just after the last character. */
export interface Span {
  readonly start: Position;
  readonly end: Position;
}

/** An identifier occurrence. */
export interface Ident {
  readonly kind: "Ident";
  readonly name: string;
  readonly span: Span;
}

// ---------------------------------------------------------------------------------------------
// Expressions (integer/decimal arithmetic over constants and loop variables)

/** A number literal as written (`1_000`, `1e-3`); `text` keeps the spelling for the printer. */
export interface NumberLit {
  readonly kind: "Number";
  readonly text: string;
  /** Written inside parentheses the grammar did not need; the printer keeps them. */
  readonly parens?: boolean;
  readonly span: Span;
}

/** A name used as a value: a constant, a loop variable, or (in arguments) an option like `row_lstm`. */
export interface NameExpr {
  readonly kind: "Name";
  readonly name: string;
  /** Written inside parentheses the grammar did not need; the printer keeps them. */
  readonly parens?: boolean;
  readonly span: Span;
}

/** `-e` */
export interface UnaryExpr {
  readonly kind: "Unary";
  readonly op: "-";
  readonly operand: Expr;
  /** Written inside parentheses the grammar did not need; the printer keeps them. */
  readonly parens?: boolean;
  readonly span: Span;
}

/** Binary arithmetic operators, loosest first: `+ -`, `* /`, `^` (right-associative). */
export type BinaryOp = "+" | "-" | "*" | "/" | "^";

/** `a op b` */
export interface BinaryExpr {
  readonly kind: "Binary";
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  /** Written inside parentheses the grammar did not need; the printer keeps them. */
  readonly parens?: boolean;
  readonly span: Span;
}

/** Arithmetic expression. */
export type Expr = NumberLit | NameExpr | UnaryExpr | BinaryExpr;

// ---------------------------------------------------------------------------------------------
// Argument values (families, objectives, orders, train entries)

/** `"text"`; `value` is unescaped. */
export interface StringLit {
  readonly kind: "String";
  readonly value: string;
  readonly span: Span;
}

/** `[v, v, …]` */
export interface ListValue {
  readonly kind: "List";
  readonly items: readonly Value[];
  readonly span: Span;
}

/** `name(args)`; `name` alone (no parentheses) is a `NameExpr` in value position. */
export interface CallValue {
  readonly kind: "Call";
  readonly callee: Ident;
  readonly args: readonly Arg[];
  readonly span: Span;
}

/** An argument: positional (`-1`, `deterministic`) or named (`k = 1`). */
export interface Arg {
  readonly kind: "Arg";
  readonly name: Ident | null;
  readonly value: Value;
  readonly span: Span;
}

/** Anything that can stand after `=` in an argument or a train entry. */
export type Value = Expr | StringLit | ListValue | CallValue;

/**
 * A family, order, objective or data source: `markov(k = 1)`, `chain`, `random(seed = 7)`.
 * `args` is null when written without parentheses (`chain`), `[]` for `chain()`.
 */
export interface FamilyRef {
  readonly kind: "Family";
  readonly name: Ident;
  readonly args: readonly Arg[] | null;
  readonly span: Span;
}

// ---------------------------------------------------------------------------------------------
// References to random variables and their elements

/** One item inside `x[...]`: an index, a range `lo..hi`, or the whole axis `*`. */
export type IndexItem = Expr | RangeItem | AllItem;

/** `lo..hi` (inclusive; empty when hi < lo). */
export interface RangeItem {
  readonly kind: "Range";
  readonly lo: Expr;
  readonly hi: Expr;
  readonly span: Span;
}

/** `*` — the whole axis. */
export interface AllItem {
  readonly kind: "All";
  readonly span: Span;
}

/** Subscript forms: `x[i, j..k, *]` or the predecessors `x[<i]` / `x[<(r, c)]`. */
export type Subscript =
  | { readonly kind: "Index"; readonly items: readonly IndexItem[]; readonly span: Span }
  | { readonly kind: "Before"; readonly at: readonly Expr[]; readonly span: Span };

/** `x`, `x[i]`, `x[1..i-2]`, `x[<(r, c)]`. */
export interface Ref {
  readonly kind: "Ref";
  readonly name: Ident;
  readonly subscript: Subscript | null;
  readonly span: Span;
}

// ---------------------------------------------------------------------------------------------
// Statements

/** `for i in lo..hi` — one quantifier; a statement may carry several (`for r in 1..H, c in 1..W:`). */
export interface Quantifier {
  readonly kind: "Quantifier";
  readonly variable: Ident;
  readonly lo: Expr;
  readonly hi: Expr;
  readonly span: Span;
}

/** `const n = 16` */
export interface ConstDecl {
  readonly kind: "Const";
  readonly name: Ident;
  readonly value: Expr;
  readonly span: Span;
}

/** A domain: `Bernoulli`, `Categorical(256)`, `Normal`, `Real(-1, 1)`. `args` null without parentheses. */
export interface TypeExpr {
  readonly kind: "Type";
  readonly name: Ident;
  readonly args: readonly Expr[] | null;
  readonly span: Span;
}

/** `x : Bernoulli[28, 28]` or `latent z : Normal[16]`; `shape` null for a scalar. */
export interface VarDecl {
  readonly kind: "Var";
  readonly latent: boolean;
  readonly name: Ident;
  readonly type: TypeExpr;
  readonly shape: readonly Expr[] | null;
  readonly span: Span;
}

/** `order x raster`, `order img random(seed = 7)` */
export interface OrderDecl {
  readonly kind: "Order";
  readonly target: Ident;
  readonly order: FamilyRef;
  readonly span: Span;
}

/**
 * `p(x) = markov(k = 1)`, `for i in 2..n: p(x[i] | x[i-1]) = table`, `q(z | x) = mlp(…)`.
 * `dist` is `p` for the model, `q` for the variational posterior.
 */
export interface FactorStmt {
  readonly kind: "Factor";
  readonly dist: "p" | "q";
  readonly quantifiers: readonly Quantifier[];
  readonly targets: readonly Ref[];
  readonly given: readonly Ref[];
  readonly family: FamilyRef;
  readonly span: Span;
}

/** `A ⊥ B | C` (or `A not ⊥ B | C` when `negated`); `given` empty when `| C` is left out. */
export interface IndependenceClaim {
  readonly kind: "Independence";
  readonly negated: boolean;
  readonly left: readonly Ref[];
  readonly right: readonly Ref[];
  readonly given: readonly Ref[];
  readonly span: Span;
}

/** Comparison operators of `check params …`. */
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** `params == 2*n - 1`; `of` restricts the count to the factors of some variables: `params(x) == …`. */
export interface ParamsClaim {
  readonly kind: "Params";
  readonly of: readonly Ident[] | null;
  readonly op: CompareOp;
  readonly value: Expr;
  readonly span: Span;
}

/** `assume for i in 3..n: x[i] ⊥ x[1..i-2] | x[i-1]` */
export interface AssumeStmt {
  readonly kind: "Assume";
  readonly quantifiers: readonly Quantifier[];
  readonly claim: IndependenceClaim;
  readonly span: Span;
}

/** `check x[5] ⊥ x[1] | x[3]`, `check params == 2*n - 1` */
export interface CheckStmt {
  readonly kind: "Check";
  readonly quantifiers: readonly Quantifier[];
  readonly claim: IndependenceClaim | ParamsClaim;
  readonly span: Span;
}

/** `x = generator(z) by dcgan(base = 32)` */
export interface ImplicitStmt {
  readonly kind: "Implicit";
  readonly target: Ident;
  readonly inputs: readonly Ref[];
  readonly network: FamilyRef;
  readonly span: Span;
}

/** `fit elbo`, `fit reconstruction + adversarial(on = z, critic = mlp(hidden = [256]))` */
export interface FitStmt {
  readonly kind: "Fit";
  readonly objectives: readonly FamilyRef[];
  readonly span: Span;
}

/** `key = value` inside `train { … }` */
export interface TrainEntry {
  readonly kind: "TrainEntry";
  readonly key: Ident;
  readonly value: Value;
  readonly span: Span;
}

/** `train { data = mnist(binarize = 0.5) epochs = 10 }` */
export interface TrainBlock {
  readonly kind: "Train";
  readonly entries: readonly TrainEntry[];
  readonly span: Span;
}

/** Any statement of a model body. */
export type Statement =
  ConstDecl | VarDecl | OrderDecl | FactorStmt | AssumeStmt | CheckStmt | ImplicitStmt | FitStmt | TrainBlock;

/** `model Name { … }` */
export interface ModelDecl {
  readonly kind: "Model";
  readonly name: Ident;
  readonly body: readonly Statement[];
  readonly span: Span;
}

/** A whole `.gm` file. */
export interface GmFile {
  readonly kind: "File";
  readonly models: readonly ModelDecl[];
  readonly span: Span;
}

/** Every AST node type. */
export type Node =
  | GmFile
  | ModelDecl
  | Statement
  | TrainEntry
  | IndependenceClaim
  | ParamsClaim
  | Quantifier
  | TypeExpr
  | FamilyRef
  | Arg
  | Ref
  | IndexItem
  | Value
  | Ident;

/**
 * Returns a deep copy of `node` without `span`s and `parens` flags: for comparisons that ignore
 * positions and grouping the grammar does not need (`(a - b) + c` equals `a - b + c`).
 */
export function stripSpans<T>(node: T): T {
  if (Array.isArray(node)) return node.map(stripSpans) as T;
  if (node && typeof node === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k === "span" || k === "parens") continue;
      out[k] = stripSpans(v);
    }
    return out as T;
  }
  return node;
}

/** A span covering `a` through `b`. */
export function joinSpans(a: Span, b: Span): Span {
  return { start: a.start, end: b.end };
}
