/**
 * AST → canonical text. `print` is what `gm fmt` writes (with comments woven back in by
 * `format`), so `parse(print(ast))` equals `ast` up to spans, and formatting is idempotent.
 *
 * Layout: two-space indent, one statement per line, `x : T[shape]`, `k = 1` in arguments,
 * compact arithmetic inside subscripts and ranges (`x[i-1]`, `1..i-2`), spaced `+`/`-` elsewhere
 * (`2*n - 1`), and independence written `⊥`.
 */
import type * as A from "./ast";

/** Binding strength: higher binds tighter. */
const PREC = { add: 1, mul: 2, unary: 3, pow: 4, atom: 5 } as const;

function precOf(e: A.Expr): number {
  switch (e.kind) {
    case "Number":
    case "Name":
      return PREC.atom;
    case "Unary":
      return PREC.unary;
    case "Binary":
      return e.op === "+" || e.op === "-" ? PREC.add : e.op === "^" ? PREC.pow : PREC.mul;
  }
}

/** Prints an expression; `compact` drops the spaces around `+` and `-`. */
export function printExpr(e: A.Expr, compact = false): string {
  // Parentheses the user wrote stay, even where precedence does not need them.
  if (e.parens) return `(${printBare(e, compact)})`;
  return printBare(e, compact);
}

function printBare(e: A.Expr, compact: boolean): string {
  const wrap = (x: A.Expr, min: number) =>
    x.parens || precOf(x) >= min ? printExpr(x, compact) : `(${printExpr(x, compact)})`;
  switch (e.kind) {
    case "Number":
      return e.text;
    case "Name":
      return e.name;
    case "Unary": {
      // `-(-a)` prints as `--a`, which the lexer reads back as two minus signs; a run of them in a loop.
      let minus = "-";
      let x = e.operand;
      while (x.kind === "Unary" && !x.parens) {
        minus += "-";
        x = x.operand;
      }
      return `${minus}${wrap(x, PREC.unary)}`;
    }
    case "Binary": {
      if (e.op === "^") return `${wrap(e.left, PREC.atom)}^${wrap(e.right, PREC.unary)}`;
      // A left-associative chain (`1 + 1 + … + 1`) is printed in a loop down its left spine, so a
      // 10,000-term sum does not recurse 10,000 deep.
      const prec = precOf(e);
      const spine: A.BinaryExpr[] = [];
      let x: A.Expr = e;
      while (x.kind === "Binary" && precOf(x) === prec && (x === e || !x.parens)) {
        spine.push(x);
        x = x.left;
      }
      let out = wrap(x, prec);
      for (let i = spine.length - 1; i >= 0; i--) {
        const b = spine[i];
        if (prec === PREC.mul) {
          out += `${b.op}${wrap(b.right, PREC.unary)}`;
          continue;
        }
        // A right operand that starts with `-` needs a space so `a - -1` does not read as `a--1`… which lexes fine,
        // but reads badly; keep it legible.
        const right = wrap(b.right, PREC.mul);
        out += `${compact && right.startsWith("-") ? ` ${b.op} ` : compact ? b.op : ` ${b.op} `}${right}`;
      }
      return out;
    }
  }
}

function printIndexItem(it: A.IndexItem): string {
  if (it.kind === "All") return "*";
  if (it.kind === "Range") return `${printExpr(it.lo, true)}..${printExpr(it.hi, true)}`;
  return printExpr(it, true);
}

/** `x`, `x[i, j]`, `x[<i]`, `x[<(r, c)]`. */
export function printRef(r: A.Ref): string {
  if (!r.subscript) return r.name.name;
  if (r.subscript.kind === "Index") return `${r.name.name}[${r.subscript.items.map(printIndexItem).join(", ")}]`;
  const at = r.subscript.at;
  if (at.length === 1) {
    const s = printExpr(at[0], true);
    // `<(i-1)*2` would read as a tuple; keep a single expression starting with `(` in its own parentheses.
    return `${r.name.name}[<${s.startsWith("(") ? `(${s})` : s}]`;
  }
  return `${r.name.name}[<(${at.map((e) => printExpr(e, true)).join(", ")})]`;
}

function printRefs(rs: readonly A.Ref[]): string {
  return rs.map(printRef).join(", ");
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
}

/** Prints an argument value. */
export function printValue(v: A.Value): string {
  switch (v.kind) {
    case "String":
      return quote(v.value);
    case "List":
      return `[${v.items.map(printValue).join(", ")}]`;
    case "Call":
      return `${v.callee.name}(${printArgs(v.args)})`;
    default:
      return printExpr(v);
  }
}

function printArgs(args: readonly A.Arg[]): string {
  return args.map((a) => (a.name ? `${a.name.name} = ${printValue(a.value)}` : printValue(a.value))).join(", ");
}

/** `markov(k = 1)`, `chain`, `chain()`. */
export function printFamily(f: A.FamilyRef): string {
  return f.args === null ? f.name.name : `${f.name.name}(${printArgs(f.args)})`;
}

function printQuantifiers(qs: readonly A.Quantifier[]): string {
  return `for ${qs.map((q) => `${q.variable.name} in ${printExpr(q.lo, true)}..${printExpr(q.hi, true)}`).join(", ")}: `;
}

/** `A ⊥ B | C`, `A not ⊥ B`. */
export function printClaim(c: A.IndependenceClaim): string {
  const given = c.given.length ? ` | ${printRefs(c.given)}` : "";
  return `${printRefs(c.left)} ${c.negated ? "not ⊥" : "⊥"} ${printRefs(c.right)}${given}`;
}

function printType(t: A.TypeExpr): string {
  return t.args === null ? t.name.name : `${t.name.name}(${t.args.map((a) => printExpr(a)).join(", ")})`;
}

/** One statement on one line (a train block spans several), without indentation. */
export function printStatement(s: A.Statement, indent = "  "): string {
  switch (s.kind) {
    case "Const":
      return `const ${s.name.name} = ${printExpr(s.value)}`;
    case "Var":
      return `${s.latent ? "latent " : ""}${s.name.name} : ${printType(s.type)}${s.shape ? `[${s.shape.map((e) => printExpr(e, true)).join(", ")}]` : ""}`;
    case "Order":
      return `order ${s.target.name} ${printFamily(s.order)}`;
    case "Factor": {
      const q = s.quantifiers.length ? printQuantifiers(s.quantifiers) : "";
      const given = s.given.length ? ` | ${printRefs(s.given)}` : "";
      return `${q}${s.dist}(${printRefs(s.targets)}${given}) = ${printFamily(s.family)}`;
    }
    case "Assume":
      return `assume ${s.quantifiers.length ? printQuantifiers(s.quantifiers) : ""}${printClaim(s.claim)}`;
    case "Check": {
      const q = s.quantifiers.length ? printQuantifiers(s.quantifiers) : "";
      if (s.claim.kind === "Params") {
        const of = s.claim.of ? `(${s.claim.of.map((i) => i.name).join(", ")})` : "";
        return `check ${q}params${of} ${s.claim.op} ${printExpr(s.claim.value)}`;
      }
      return `check ${q}${printClaim(s.claim)}`;
    }
    case "Implicit":
      return `${s.target.name} = generator(${printRefs(s.inputs)}) by ${printFamily(s.network)}`;
    case "Fit":
      return `fit ${s.objectives.map(printFamily).join(" + ")}`;
    case "Train":
      if (s.entries.length === 0) return "train {}";
      return `train {\n${s.entries.map((e) => `${indent}  ${printTrainEntry(e)}`).join("\n")}\n${indent}}`;
  }
}

/** `key = value` */
export function printTrainEntry(e: A.TrainEntry): string {
  return `${e.key.name} = ${printValue(e.value)}`;
}

/** Prints a whole file without comments (see `format` for the comment-preserving form). */
export function print(file: A.GmFile): string {
  return file.models
    .map((m) =>
      m.body.length
        ? `model ${m.name.name} {\n${m.body.map((s) => `  ${printStatement(s)}`).join("\n")}\n}\n`
        : `model ${m.name.name} {}\n`,
    )
    .join("\n");
}
