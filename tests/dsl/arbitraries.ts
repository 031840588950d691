/**
 * fast-check arbitraries for VALID `.gm` ASTs: every node kind of src/dsl/ast.ts, built so that
 * `print` can write them and `parse` can read them back. Spans are a dummy; comparisons go
 * through `stripSpans`.
 *
 * What "valid" means here (the parser's view, not the compiler's): names avoid the keywords,
 * number texts are lexemes the lexer reads whole, strings hold no `\r` (the lexer cannot read a
 * raw one and the printer has no escape for it), lists that the grammar requires non-empty are.
 */
import fc from "fast-check";
import type * as A from "../../src/dsl/ast.js";
import { KEYWORDS } from "../../src/dsl/tokens.js";

/** The one span every generated node carries. */
export const DUMMY_SPAN: A.Span = {
  start: { offset: 0, line: 1, column: 1 },
  end: { offset: 0, line: 1, column: 1 },
};
const span = DUMMY_SPAN;

// ---------------------------------------------------------------------------------------------
// Lexical pieces

/** Names that look like keywords but are identifiers (`longer_alt`), plus the usual suspects. */
const NAME_POOL = [
  "x",
  "y",
  "z",
  "img",
  "pixel",
  "n",
  "k",
  "i",
  "j",
  "r",
  "c",
  "H",
  "W",
  "p",
  "q",
  "_",
  "_x",
  "x_",
  "model_1",
  "orders",
  "constant",
  "latent2",
  "format",
  "fitness",
  "trains",
  "note",
  "by_",
  "params_x",
  "generators",
  "inn",
  "fork",
  "e",
  "E",
  "e1",
];

const isKeyword = (s: string) => KEYWORDS.includes(s);

/** An identifier that is not a keyword. */
export const identName: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NAME_POOL) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/).filter((s) => !isKeyword(s)) },
  // A keyword with a suffix stays an identifier.
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...KEYWORDS), fc.stringMatching(/^[A-Za-z0-9_]{1,3}$/)).map(([k, s]) => k + s),
  },
);

export const ident: fc.Arbitrary<A.Ident> = identName.map((name) => ({ kind: "Ident", name, span }));

/** The lexer's number pattern (src/dsl/tokens.ts); every generated text must match it whole. */
export const NUMBER_LEXEME = /^\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?$/;

export const numberText: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom("0", "1", "2", "16", "28", "784", "1_000", "0.5", "1e-3", "2.5e+2", "10E3", "3_2.0_1", "007"),
    fc.nat({ max: 100_000 }).map(String),
    fc.tuple(fc.nat({ max: 999 }), fc.nat({ max: 999 })).map(([a, b]) => `${a}.${b}`),
    fc
      .tuple(fc.nat({ max: 99 }), fc.constantFrom("e", "E", "e-", "e+", "E-"), fc.nat({ max: 30 }))
      .map(([a, e, b]) => `${a}${e}${b}`),
  )
  .filter((s) => NUMBER_LEXEME.test(s));

/** String contents: anything but `\r` (quotes, backslashes, tabs, newlines and non-ASCII included). */
export const stringContent: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", "imgs.gz", "data/train.idx", 'say "hi"', "back\\slash", "tab\there", "two\nlines", "π ≈ 3.14 ⊥"),
  fc.string({ maxLength: 12, unit: "grapheme" }).map((s) => s.replace(/\r/g, "")),
);

// ---------------------------------------------------------------------------------------------
// Expressions

const BINARY_OPS: A.BinaryOp[] = ["+", "-", "*", "/", "^"];

const leafExpr: fc.Arbitrary<A.Expr> = fc.oneof(
  numberText.map((text): A.Expr => ({ kind: "Number", text, span })),
  identName.map((name): A.Expr => ({ kind: "Name", name, span })),
);

/** Arithmetic expressions with every operator and unary minus, at most `depth` levels deep. */
export function expr(depth = 3): fc.Arbitrary<A.Expr> {
  if (depth <= 0) return leafExpr;
  const sub = expr(depth - 1);
  return fc.oneof(
    { weight: 2, arbitrary: leafExpr },
    { weight: 1, arbitrary: sub.map((operand): A.Expr => ({ kind: "Unary", op: "-", operand, span })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom(...BINARY_OPS), sub, sub)
        .map(([op, left, right]): A.Expr => ({ kind: "Binary", op, left, right, span })),
    },
  );
}

const smallExpr = expr(2);

// ---------------------------------------------------------------------------------------------
// Values, arguments, families

export function value(depth = 2): fc.Arbitrary<A.Value> {
  const leaves: fc.Arbitrary<A.Value>[] = [
    stringContent.map((v): A.Value => ({ kind: "String", value: v, span })),
    expr(2),
  ];
  if (depth <= 0) return fc.oneof(...leaves);
  const sub = value(depth - 1);
  return fc.oneof(
    ...leaves,
    fc.array(sub, { maxLength: 3 }).map((items): A.Value => ({ kind: "List", items, span })),
    fc.tuple(ident, argList(sub)).map(([callee, args]): A.Value => ({ kind: "Call", callee, args, span })),
  );
}

function argList(v: fc.Arbitrary<A.Value>): fc.Arbitrary<A.Arg[]> {
  return fc.array(
    fc.tuple(fc.option(ident, { freq: 2 }), v).map(([name, val]): A.Arg => ({ kind: "Arg", name, value: val, span })),
    { maxLength: 3 },
  );
}

/** `chain`, `chain()`, `markov(k = 1)`, `mlp(hidden = [512, 256], deterministic)`. */
export const family: fc.Arbitrary<A.FamilyRef> = fc
  .tuple(ident, fc.option(argList(value(1)), { freq: 2 }))
  .map(([name, args]) => ({ kind: "Family", name, args, span }));

// ---------------------------------------------------------------------------------------------
// References

const indexItem: fc.Arbitrary<A.IndexItem> = fc.oneof(
  { weight: 3, arbitrary: smallExpr },
  {
    weight: 2,
    arbitrary: fc.tuple(smallExpr, smallExpr).map(([lo, hi]): A.IndexItem => ({ kind: "Range", lo, hi, span })),
  },
  { weight: 1, arbitrary: fc.constant<A.IndexItem>({ kind: "All", span }) },
);

const subscript: fc.Arbitrary<A.Subscript> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .array(indexItem, { minLength: 1, maxLength: 3 })
      .map((items): A.Subscript => ({ kind: "Index", items, span })),
  },
  // `x[<i]`, `x[<(r, c)]`, and single expressions that print with a leading `(` (`x[<((i-1)*2)]`).
  {
    weight: 2,
    arbitrary: fc
      .array(smallExpr, { minLength: 1, maxLength: 3 })
      .map((at): A.Subscript => ({ kind: "Before", at, span })),
  },
);

export const ref: fc.Arbitrary<A.Ref> = fc
  .tuple(ident, fc.option(subscript, { freq: 2 }))
  .map(([name, sub]) => ({ kind: "Ref", name, subscript: sub, span }));

const refs = (max = 3) => fc.array(ref, { minLength: 1, maxLength: max });

// ---------------------------------------------------------------------------------------------
// Statements

export const quantifier: fc.Arbitrary<A.Quantifier> = fc
  .tuple(ident, smallExpr, smallExpr)
  .map(([variable, lo, hi]) => ({ kind: "Quantifier", variable, lo, hi, span }));

const quantifiers = (min = 0) => fc.array(quantifier, { minLength: min, maxLength: 3 });

export const constDecl: fc.Arbitrary<A.ConstDecl> = fc
  .tuple(ident, expr(3))
  .map(([name, v]) => ({ kind: "Const", name, value: v, span }));

/** Bernoulli, Categorical(k), Normal, Real(lo, hi), or any other name with or without arguments. */
export const typeExpr: fc.Arbitrary<A.TypeExpr> = fc.oneof(
  fc
    .constantFrom("Bernoulli", "Normal")
    .map((n): A.TypeExpr => ({ kind: "Type", name: { kind: "Ident", name: n, span }, args: null, span })),
  smallExpr.map((k): A.TypeExpr => ({
    kind: "Type",
    name: { kind: "Ident", name: "Categorical", span },
    args: [k],
    span,
  })),
  fc.tuple(smallExpr, smallExpr).map(([lo, hi]): A.TypeExpr => ({
    kind: "Type",
    name: { kind: "Ident", name: "Real", span },
    args: [lo, hi],
    span,
  })),
  fc
    .tuple(ident, fc.option(fc.array(smallExpr, { minLength: 1, maxLength: 3 })))
    .map(([name, args]): A.TypeExpr => ({ kind: "Type", name, args, span })),
);

export const varDecl: fc.Arbitrary<A.VarDecl> = fc
  .tuple(fc.boolean(), ident, typeExpr, fc.option(fc.array(smallExpr, { minLength: 1, maxLength: 3 })))
  .map(([latent, name, type, shape]) => ({ kind: "Var", latent, name, type, shape, span }));

export const orderDecl: fc.Arbitrary<A.OrderDecl> = fc
  .tuple(
    ident,
    fc.oneof(
      family,
      fc
        .constantFrom("raster", "column", "snake", "zigzag", "index")
        .map((n): A.FamilyRef => ({ kind: "Family", name: { kind: "Ident", name: n, span }, args: null, span })),
    ),
  )
  .map(([target, order]) => ({ kind: "Order", target, order, span }));

export const factorStmt: fc.Arbitrary<A.FactorStmt> = fc
  .tuple(fc.constantFrom<"p" | "q">("p", "q"), quantifiers(), refs(), fc.array(ref, { maxLength: 3 }), family)
  .map(([dist, qs, targets, given, fam]) => ({
    kind: "Factor",
    dist,
    quantifiers: qs,
    targets,
    given,
    family: fam,
    span,
  }));

export const independenceClaim: fc.Arbitrary<A.IndependenceClaim> = fc
  .tuple(fc.boolean(), refs(), refs(), fc.array(ref, { maxLength: 3 }))
  .map(([negated, left, right, given]) => ({ kind: "Independence", negated, left, right, given, span }));

const COMPARE_OPS: A.CompareOp[] = ["==", "!=", "<", "<=", ">", ">="];

export const paramsClaim: fc.Arbitrary<A.ParamsClaim> = fc
  .tuple(fc.option(fc.array(ident, { minLength: 1, maxLength: 3 })), fc.constantFrom(...COMPARE_OPS), expr(3))
  .map(([of, op, v]) => ({ kind: "Params", of, op, value: v, span }));

export const assumeStmt: fc.Arbitrary<A.AssumeStmt> = fc
  .tuple(quantifiers(), independenceClaim)
  .map(([qs, claim]) => ({ kind: "Assume", quantifiers: qs, claim, span }));

export const checkStmt: fc.Arbitrary<A.CheckStmt> = fc
  .tuple(quantifiers(), fc.oneof(independenceClaim, paramsClaim))
  .map(([qs, claim]) => ({ kind: "Check", quantifiers: qs, claim, span }));

export const implicitStmt: fc.Arbitrary<A.ImplicitStmt> = fc
  .tuple(ident, refs(), family)
  .map(([target, inputs, network]) => ({ kind: "Implicit", target, inputs, network, span }));

/** `fit elbo`, `fit reconstruction + adversarial(on = z)`. */
export const fitStmt: fc.Arbitrary<A.FitStmt> = fc
  .array(family, { minLength: 1, maxLength: 3 })
  .map((objectives) => ({ kind: "Fit", objectives, span }));

/** Train values: strings, lists, calls, numbers, names and arithmetic. */
export const trainEntry: fc.Arbitrary<A.TrainEntry> = fc
  .tuple(
    ident,
    fc.oneof(
      value(2),
      numberText.map((text): A.Value => ({ kind: "Number", text, span })),
    ),
  )
  .map(([key, v]) => ({ kind: "TrainEntry", key, value: v, span }));

export const trainBlock: fc.Arbitrary<A.TrainBlock> = fc
  .array(trainEntry, { maxLength: 4 })
  .map((entries) => ({ kind: "Train", entries, span }));

export const statement: fc.Arbitrary<A.Statement> = fc.oneof(
  constDecl,
  varDecl,
  orderDecl,
  factorStmt,
  assumeStmt,
  checkStmt,
  implicitStmt,
  fitStmt,
  trainBlock,
);

export const modelDecl: fc.Arbitrary<A.ModelDecl> = fc
  .tuple(ident, fc.array(statement, { maxLength: 8 }))
  .map(([name, body]) => ({ kind: "Model", name, body, span }));

/** A whole file: zero to three models. */
export const gmFile: fc.Arbitrary<A.GmFile> = fc
  .array(modelDecl, { maxLength: 3 })
  .map((models) => ({ kind: "File", models, span }));

/** A file with at least one model and one statement (for the mutation tests). */
export const nonEmptyFile: fc.Arbitrary<A.GmFile> = fc
  .array(fc.tuple(ident, fc.array(statement, { minLength: 1, maxLength: 6 })), { minLength: 1, maxLength: 2 })
  .map((ms) => ({
    kind: "File",
    models: ms.map(([name, body]): A.ModelDecl => ({ kind: "Model", name, body, span })),
    span,
  }));
