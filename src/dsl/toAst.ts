/**
 * CST → AST. The parser recovers from errors, so a CST may have holes: every builder here
 * returns `null` for a node it cannot complete, and the statement holding it is dropped (its
 * syntax error was already reported). Nothing in this file throws on user input.
 */
import type { CstNode, IToken, CstElement } from "chevrotain";
import type * as A from "./ast";
import type { DiagnosticBag } from "./diagnostics";

type Children = Record<string, CstElement[] | undefined>;

function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}

function ok(t: IToken | undefined): t is IToken {
  return t !== undefined && !t.isInsertedInRecovery && !Number.isNaN(t.startOffset);
}

/** A span from a token. */
export function tokenSpan(t: IToken): A.Span {
  return {
    start: { offset: t.startOffset, line: t.startLine ?? 1, column: t.startColumn ?? 1 },
    end: {
      offset: (t.endOffset ?? t.startOffset) + 1,
      line: t.endLine ?? t.startLine ?? 1,
      column: (t.endColumn ?? t.startColumn ?? 1) + 1,
    },
  };
}

function span(a: A.Span | IToken, b: A.Span | IToken): A.Span {
  const sa = "image" in a ? tokenSpan(a) : a;
  const sb = "image" in b ? tokenSpan(b) : b;
  return { start: sa.start, end: sb.end };
}

function tok(c: Children, name: string, i = 0): IToken | undefined {
  const e = c[name]?.[i];
  return e && isToken(e) ? e : undefined;
}

function toks(c: Children, name: string): IToken[] {
  return (c[name] ?? []).filter(isToken);
}

function node(c: Children, name: string, i = 0): CstNode | undefined {
  const e = c[name]?.[i];
  return e && !isToken(e) ? e : undefined;
}

function nodes(c: Children, name: string): CstNode[] {
  return (c[name] ?? []).filter((e): e is CstNode => !isToken(e));
}

/** The operator tokens of `additive` and `multiplicative`. */
/** The binary operators of `expr` (token names) and what each means. */
const EXPR_OPS = ["Plus", "Minus", "Star", "Slash"] as const;
const OP_OF: Record<string, "+" | "-" | "*" | "/"> = { Plus: "+", Minus: "-", Star: "*", Slash: "/" };

function unescapeString(image: string): string {
  const body = image.slice(1, -1);
  return body.replace(/\\(.)/g, (_, ch: string) => (ch === "n" ? "\n" : ch === "t" ? "\t" : ch));
}

/** Converts a parsed CST of rule `file` to the AST; `diags` receives the few errors found here. */
export class AstBuilder {
  constructor(private readonly diags: DiagnosticBag) {}

  file(cst: CstNode, text: string): A.GmFile {
    const models: A.ModelDecl[] = [];
    for (const m of nodes(cst.children, "model")) {
      const model = this.model(m);
      if (model) models.push(model);
    }
    const end = endOfText(text);
    return { kind: "File", models, span: { start: { offset: 0, line: 1, column: 1 }, end } };
  }

  private ident(t: IToken | undefined): A.Ident | null {
    return ok(t) ? { kind: "Ident", name: t.image, span: tokenSpan(t) } : null;
  }

  /** model = "model" Identifier "{" { statement } "}" ; */
  model(n: CstNode): A.ModelDecl | null {
    const c = n.children;
    const kw = tok(c, "Model");
    const name = this.ident(tok(c, "Identifier"));
    if (!ok(kw) || !name) return null;
    const body: A.Statement[] = [];
    for (const s of nodes(c, "statement")) {
      const st = this.statement(s);
      if (st) body.push(st);
    }
    const close = tok(c, "RBrace");
    const last = ok(close) ? tokenSpan(close) : body.length ? body[body.length - 1].span : name.span;
    return { kind: "Model", name, body, span: span(kw, last) };
  }

  statement(n: CstNode): A.Statement | null {
    const c = n.children;
    // A statement node has one child (the alternative that matched): no need to sort.
    let sub: { name: string; el: CstElement } | undefined;
    for (const name in c) {
      const list = c[name];
      if (list && list.length) {
        sub = { name, el: list[0] };
        break;
      }
    }
    if (!sub || isToken(sub.el)) return null; // `;` or nothing
    switch (sub.name) {
      case "constDecl":
        return this.constDecl(sub.el);
      case "varDecl":
        return this.varDecl(sub.el);
      case "orderDecl":
        return this.orderDecl(sub.el);
      case "forStmt":
        return this.forStmt(sub.el, []);
      case "factorStmt":
        return this.factorStmt(sub.el, [], null);
      case "assumeStmt":
        return this.assumeStmt(sub.el, [], null);
      case "checkStmt":
        return this.checkStmt(sub.el, [], null);
      case "implicitStmt":
        return this.implicitStmt(sub.el);
      case "fitStmt":
        return this.fitStmt(sub.el);
      case "trainBlock":
        return this.trainBlock(sub.el);
      default:
        return null;
    }
  }

  /** constDecl = "const" Identifier "=" expr ; */
  constDecl(n: CstNode): A.ConstDecl | null {
    const c = n.children;
    const kw = tok(c, "Const");
    const name = this.ident(tok(c, "Identifier"));
    const ex = node(c, "expr");
    const value = ex ? this.expr(ex) : null;
    if (!ok(kw) || !name || !value) return null;
    return { kind: "Const", name, value, span: span(kw, value.span) };
  }

  /** varDecl = [ "latent" ] Identifier ":" typeExpr [ shape ] ; */
  varDecl(n: CstNode): A.VarDecl | null {
    const c = n.children;
    const latentTok = tok(c, "Latent");
    const name = this.ident(tok(c, "Identifier"));
    const tn = node(c, "typeExpr");
    const type = tn ? this.typeExpr(tn) : null;
    if (!name || !type) return null;
    let shape: A.Expr[] | null = null;
    let end: A.Span = type.span;
    const sh = node(c, "shape");
    if (sh) {
      const exprs = nodes(sh.children, "expr").map((e) => this.expr(e));
      if (exprs.some((e) => e === null) || exprs.length === 0) return null;
      shape = exprs as A.Expr[];
      const rb = tok(sh.children, "RBracket");
      end = ok(rb) ? tokenSpan(rb) : shape[shape.length - 1].span;
    }
    const start = ok(latentTok) ? tokenSpan(latentTok) : name.span;
    return { kind: "Var", latent: ok(latentTok), name, type, shape, span: span(start, end) };
  }

  /** typeExpr = Identifier [ "(" expr { "," expr } ")" ] ; */
  typeExpr(n: CstNode): A.TypeExpr | null {
    const c = n.children;
    const name = this.ident(tok(c, "Identifier"));
    if (!name) return null;
    if (!tok(c, "LParen")) return { kind: "Type", name, args: null, span: name.span };
    const args = nodes(c, "expr").map((e) => this.expr(e));
    const rp = tok(c, "RParen");
    if (args.some((a) => a === null) || !ok(rp)) return null;
    return { kind: "Type", name, args: args as A.Expr[], span: span(name.span, rp) };
  }

  /** orderDecl = "order" Identifier family ; */
  orderDecl(n: CstNode): A.OrderDecl | null {
    const c = n.children;
    const kw = tok(c, "Order");
    const target = this.ident(tok(c, "Identifier"));
    const fn = node(c, "family");
    const order = fn ? this.family(fn) : null;
    if (!ok(kw) || !target || !order) return null;
    return { kind: "Order", target, order, span: span(kw, order.span) };
  }

  /** forStmt = quantifiers ":" ( forStmt | factorStmt | assumeStmt | checkStmt ) ; */
  forStmt(n: CstNode, outer: A.Quantifier[]): A.Statement | null {
    const c = n.children;
    const qn = node(c, "quantifiers");
    const qs = qn ? this.quantifiers(qn) : null;
    if (!qs) return null;
    const all = [...outer, ...qs];
    // The statement starts at its first `for`, not at the loop variable.
    const forTok = tok(qn!.children, "For");
    const start = outer.length ? null : ok(forTok) ? span(forTok, qs[0].span) : qs[0].span;
    const inner = node(c, "forStmt");
    if (inner) return this.withStart(this.forStmt(inner, all), start);
    const f = node(c, "factorStmt");
    if (f) return this.factorStmt(f, all, start);
    const a = node(c, "assumeStmt");
    if (a) return this.assumeStmt(a, all, start);
    const k = node(c, "checkStmt");
    if (k) return this.checkStmt(k, all, start);
    return null;
  }

  private withStart<T extends A.Statement | null>(s: T, start: A.Span | null): T {
    if (!s || !start) return s;
    return { ...s, span: span(start, s.span) };
  }

  /** quantifiers = "for" quantifier { "," quantifier } ; */
  quantifiers(n: CstNode): A.Quantifier[] | null {
    const out: A.Quantifier[] = [];
    for (const q of nodes(n.children, "quantifier")) {
      const c = q.children;
      const variable = this.ident(tok(c, "Identifier"));
      const [lo, hi] = nodes(c, "expr").map((e) => this.expr(e));
      if (!variable || !lo || !hi) return null;
      out.push({ kind: "Quantifier", variable, lo, hi, span: span(variable.span, hi.span) });
    }
    return out.length ? out : null;
  }

  /**
   * The quantifiers of `assume` / `check`, every `for …:` group in order: `for r …: for c …:` is
   * `for r …, c …:`. Null when a group is broken, [] when there is none.
   */
  private quantifierGroups(c: Children): A.Quantifier[] | null {
    const out: A.Quantifier[] = [];
    for (const qn of nodes(c, "quantifiers")) {
      const qs = this.quantifiers(qn);
      if (!qs) return null;
      out.push(...qs);
    }
    return out;
  }

  /** factorStmt = Identifier "(" refs [ "|" refs ] ")" "=" family ; */
  factorStmt(n: CstNode, quantifiers: A.Quantifier[], start: A.Span | null): A.FactorStmt | null {
    const c = n.children;
    const head = tok(c, "Identifier");
    const [tn, gn] = nodes(c, "refs");
    const targets = tn ? this.refs(tn) : null;
    const given = gn ? this.refs(gn) : [];
    const fn = node(c, "family");
    const family = fn ? this.family(fn) : null;
    if (!ok(head) || !targets || !given || !family) return null;
    let dist: "p" | "q" = "p";
    if (head.image === "q") dist = "q";
    else if (head.image !== "p") {
      this.diags.error(
        "E0108",
        `a factorization starts with \`p(\` (or \`q(\` for an encoder), found \`${head.image}(\``,
        tokenSpan(head),
        {
          hint: `write \`p(${targets.map((r) => r.name.name).join(", ")}${given.length ? " | …" : ""}) = …\``,
        },
      );
    }
    return {
      kind: "Factor",
      dist,
      quantifiers,
      targets,
      given,
      family,
      span: span(start ?? tokenSpan(head), family.span),
    };
  }

  /** assumeStmt = "assume" { quantifiers ":" } claim ; */
  assumeStmt(n: CstNode, outer: A.Quantifier[], start: A.Span | null): A.AssumeStmt | null {
    const c = n.children;
    const kw = tok(c, "Assume");
    const qs = this.quantifierGroups(c);
    const cl = node(c, "claim");
    const claim = cl ? this.claim(cl) : null;
    if (!ok(kw) || !qs || !claim) return null;
    return { kind: "Assume", quantifiers: [...outer, ...qs], claim, span: span(start ?? tokenSpan(kw), claim.span) };
  }

  /** checkStmt = "check" { quantifiers ":" } ( paramsClaim | claim ) ; */
  checkStmt(n: CstNode, outer: A.Quantifier[], start: A.Span | null): A.CheckStmt | null {
    const c = n.children;
    const kw = tok(c, "Check");
    const qs = this.quantifierGroups(c);
    const pn = node(c, "paramsClaim");
    const cl = node(c, "claim");
    const claim = pn ? this.paramsClaim(pn) : cl ? this.claim(cl) : null;
    if (!ok(kw) || !qs || !claim) return null;
    return { kind: "Check", quantifiers: [...outer, ...qs], claim, span: span(start ?? tokenSpan(kw), claim.span) };
  }

  /** claim = refs [ "not" ] "⊥" refs [ "|" refs ] ; */
  claim(n: CstNode): A.IndependenceClaim | null {
    const c = n.children;
    const [ln, rn, gn] = nodes(c, "refs");
    const left = ln ? this.refs(ln) : null;
    const right = rn ? this.refs(rn) : null;
    const given = gn ? this.refs(gn) : [];
    if (!left || !right || !given || !ok(tok(c, "Indep"))) return null;
    const last = given.length ? given[given.length - 1] : right[right.length - 1];
    return {
      kind: "Independence",
      negated: ok(tok(c, "Not")),
      left,
      right,
      given,
      span: span(left[0].span, last.span),
    };
  }

  /** paramsClaim = "params" [ "(" Identifier { "," Identifier } ")" ] op expr ; */
  paramsClaim(n: CstNode): A.ParamsClaim | null {
    const c = n.children;
    const kw = tok(c, "Params");
    const ofToks = toks(c, "Identifier");
    const of = tok(c, "LParen") ? ofToks.map((t) => this.ident(t)) : null;
    const opTok = ["EqEq", "NotEq", "LtEq", "GtEq", "Lt", "Gt"].map((k) => tok(c, k)).find(ok);
    const ex = node(c, "expr");
    const value = ex ? this.expr(ex) : null;
    if (!ok(kw) || !opTok || !value || (of && of.some((i) => !i))) return null;
    return {
      kind: "Params",
      of: of as A.Ident[] | null,
      op: opTok.image as A.CompareOp,
      value,
      span: span(kw, value.span),
    };
  }

  /** implicitStmt = Identifier "=" "generator" "(" refs ")" "by" family ; */
  implicitStmt(n: CstNode): A.ImplicitStmt | null {
    const c = n.children;
    const target = this.ident(tok(c, "Identifier"));
    const rn = node(c, "refs");
    const inputs = rn ? this.refs(rn) : null;
    const fn = node(c, "family");
    const network = fn ? this.family(fn) : null;
    if (!target || !inputs || !network || !ok(tok(c, "By"))) return null;
    return { kind: "Implicit", target, inputs, network, span: span(target.span, network.span) };
  }

  /** fitStmt = "fit" family { "+" family } ; */
  fitStmt(n: CstNode): A.FitStmt | null {
    const c = n.children;
    const kw = tok(c, "Fit");
    const objectives = nodes(c, "family").map((f) => this.family(f));
    if (!ok(kw) || objectives.length === 0 || objectives.some((o) => !o)) return null;
    const objs = objectives as A.FamilyRef[];
    return { kind: "Fit", objectives: objs, span: span(kw, objs[objs.length - 1].span) };
  }

  /** trainBlock = "train" "{" { trainEntry } "}" ; */
  trainBlock(n: CstNode): A.TrainBlock | null {
    const c = n.children;
    const kw = tok(c, "Train");
    const close = tok(c, "RBrace");
    if (!ok(kw) || !ok(close)) return null;
    const entries: A.TrainEntry[] = [];
    for (const e of nodes(c, "trainEntry")) {
      const ec = e.children;
      const key = this.ident(tok(ec, "Identifier"));
      const vn = node(ec, "value");
      const value = vn ? this.value(vn) : null;
      if (!key || !value) continue;
      entries.push({ kind: "TrainEntry", key, value, span: span(key.span, value.span) });
    }
    return { kind: "Train", entries, span: span(kw, close) };
  }

  /** family = Identifier [ "(" [ args ] ")" ] ; */
  family(n: CstNode): A.FamilyRef | null {
    const c = n.children;
    const name = this.ident(tok(c, "Identifier"));
    if (!name) return null;
    if (!tok(c, "LParen")) return { kind: "Family", name, args: null, span: name.span };
    const rp = tok(c, "RParen");
    const an = node(c, "args");
    const args = an ? this.args(an) : [];
    if (!ok(rp) || !args) return null;
    return { kind: "Family", name, args, span: span(name.span, rp) };
  }

  /** args = arg { "," arg } ; */
  args(n: CstNode): A.Arg[] | null {
    const out: A.Arg[] = [];
    for (const a of nodes(n.children, "arg")) {
      const c = a.children;
      const nameTok = tok(c, "Identifier");
      const name = nameTok ? this.ident(nameTok) : null;
      if (nameTok && !name) return null;
      const vn = node(c, "value");
      const value = vn ? this.value(vn) : null;
      if (!value) return null;
      out.push({ kind: "Arg", name, value, span: span(name ? name.span : value.span, value.span) });
    }
    return out;
  }

  /** value = StringLiteral | list | Identifier "(" [ args ] ")" | expr ; */
  value(n: CstNode): A.Value | null {
    const c = n.children;
    const str = tok(c, "StringLiteral");
    if (str) return ok(str) ? { kind: "String", value: unescapeString(str.image), span: tokenSpan(str) } : null;
    const ln = node(c, "list");
    if (ln) {
      const lc = ln.children;
      const lb = tok(lc, "LBracket");
      const rb = tok(lc, "RBracket");
      const items = nodes(lc, "value").map((v) => this.value(v));
      if (!ok(lb) || !ok(rb) || items.some((i) => !i)) return null;
      return { kind: "List", items: items as A.Value[], span: span(lb, rb) };
    }
    const callee = tok(c, "Identifier");
    if (callee) {
      const name = this.ident(callee);
      const rp = tok(c, "RParen");
      const an = node(c, "args");
      const args = an ? this.args(an) : [];
      if (!name || !ok(rp) || !args) return null;
      return { kind: "Call", callee: name, args, span: span(name.span, rp) };
    }
    const ex = node(c, "expr");
    return ex ? this.expr(ex) : null;
  }

  /** refs = ref { "," ref } ; */
  refs(n: CstNode): A.Ref[] | null {
    const out: A.Ref[] = [];
    for (const r of nodes(n.children, "ref")) {
      const ref = this.ref(r);
      if (!ref) return null;
      out.push(ref);
    }
    return out.length ? out : null;
  }

  /** ref = Identifier [ "[" subscript "]" ] ; */
  ref(n: CstNode): A.Ref | null {
    const c = n.children;
    const name = this.ident(tok(c, "Identifier"));
    if (!name) return null;
    const sn = node(c, "subscript");
    if (!tok(c, "LBracket")) return { kind: "Ref", name, subscript: null, span: name.span };
    const lb = tok(c, "LBracket")!;
    const rb = tok(c, "RBracket");
    if (!sn || !ok(rb) || !ok(lb)) return null;
    const sc = sn.children;
    const subSpan = span(lb, rb);
    let subscript: A.Subscript;
    if (tok(sc, "Lt")) {
      const at = nodes(sc, "expr").map((e) => this.expr(e));
      if (at.length === 0 || at.some((e) => !e)) return null;
      subscript = { kind: "Before", at: at as A.Expr[], span: subSpan };
    } else {
      const items: A.IndexItem[] = [];
      for (const it of nodes(sc, "indexItem")) {
        const ic = it.children;
        const star = tok(ic, "Star");
        if (star) {
          if (!ok(star)) return null;
          items.push({ kind: "All", span: tokenSpan(star) });
          continue;
        }
        const [lo, hi] = nodes(ic, "expr").map((e) => this.expr(e));
        if (!lo) return null;
        if (tok(ic, "DotDot")) {
          if (!hi) return null;
          items.push({ kind: "Range", lo, hi, span: span(lo.span, hi.span) });
        } else items.push(lo);
      }
      if (items.length === 0) return null;
      subscript = { kind: "Index", items, span: subSpan };
    }
    return { kind: "Ref", name, subscript, span: span(name.span, rb) };
  }

  /** expr = unary { ( "+" | "-" | "*" | "/" ) unary } ; `*` and `/` bind tighter, all left-associative. */
  expr(n: CstNode): A.Expr | null {
    const c = n.children;
    const operands = (c.unary ?? []) as CstNode[];
    // Most expressions have no operator at all: one operand, nothing to merge.
    if (operands.length === 1) return this.unary(operands[0]);
    // The operators (four token kinds, each in its own list) in the order they were written.
    const ops: IToken[] = [];
    for (const kind of EXPR_OPS) for (const t of (c[kind] ?? []) as IToken[]) ops.push(t);
    ops.sort((x, y) => x.startOffset - y.startOffset);
    if (ops.length !== operands.length - 1 || ops.some((t) => !ok(t))) return null;
    let sum: A.Expr | null = null; // the `+`/`-` chain so far
    let sumOp: A.BinaryOp = "+";
    let term: A.Expr | null = null; // the `*`/`/` chain being built
    for (let i = 0; i < operands.length; i++) {
      const e = this.unary(operands[i]);
      if (!e) return null;
      const before = i === 0 ? null : OP_OF[ops[i - 1].tokenType.name];
      if (term !== null && (before === "*" || before === "/")) {
        term = { kind: "Binary", op: before, left: term, right: e, span: span(term.span, e.span) };
        continue;
      }
      if (term !== null)
        sum =
          sum === null ? term : { kind: "Binary", op: sumOp, left: sum, right: term, span: span(sum.span, term.span) };
      if (before === "+" || before === "-") sumOp = before;
      term = e;
    }
    if (term === null) return null;
    return sum === null ? term : { kind: "Binary", op: sumOp, left: sum, right: term, span: span(sum.span, term.span) };
  }

  /** unary = "-" unary | atom [ "^" unary ] ; */
  private unary(n: CstNode): A.Expr | null {
    const c = n.children;
    const minus = tok(c, "Minus");
    if (minus) {
      const u = node(c, "unary");
      const operand = u ? this.unary(u) : null;
      if (!ok(minus) || !operand) return null;
      return { kind: "Unary", op: "-", operand, span: span(minus, operand.span) };
    }
    const an = node(c, "atom");
    const base = an ? this.atom(an) : null;
    if (!base) return null;
    if (!tok(c, "Caret")) return base;
    const u = node(c, "unary");
    const exponent = u ? this.unary(u) : null;
    if (!exponent) return null;
    return { kind: "Binary", op: "^", left: base, right: exponent, span: span(base.span, exponent.span) };
  }

  /** atom = NumberLiteral | Identifier | "(" expr ")" ; */
  private atom(n: CstNode): A.Expr | null {
    const c = n.children;
    const num = tok(c, "NumberLiteral");
    if (num) return ok(num) ? { kind: "Number", text: num.image, span: tokenSpan(num) } : null;
    const id = tok(c, "Identifier");
    if (id) return ok(id) ? { kind: "Name", name: id.image, span: tokenSpan(id) } : null;
    const inner = node(c, "expr");
    const e = inner ? this.expr(inner) : null;
    const lp = tok(c, "LParen");
    const rp = tok(c, "RParen");
    if (!e || !ok(lp) || !ok(rp)) return null;
    // Parentheses leave no node, only a flag so the printer can keep the user's grouping.
    return { ...e, parens: true };
  }
}

/** The position just after the last character of `text` (lines break at `\n`, `\r\n` or a lone `\r`). */
export function endOfText(text: string): A.Position {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lastNl = i;
    }
  }
  return { offset: text.length, line, column: text.length - lastNl };
}
