/**
 * `gm fmt`: the canonical layout of a file, with its comments kept. Comments attach to the
 * nearest statement: on the same line after it (trailing), or on the lines before it (leading).
 * Runs of blank lines collapse to one. `format(format(s)) === format(s)` for every file that parses.
 */
import type * as A from "./ast";
import type { Diagnostic } from "./diagnostics";
import { hasErrors } from "./diagnostics";
import { parse, type Comment } from "./parse";
import { printStatement, printTrainEntry } from "./printer";

/** The formatted text, or the diagnostics that stopped formatting. */
export type FormatResult = { ok: true; text: string } | { ok: false; diagnostics: Diagnostic[] };

interface Item {
  span: A.Span;
  /** Lines of the item itself (without comments), or a nested container. */
  render(indent: string, out: Line[]): void;
  inner?: { items: Item[]; open: string; close: string; emptyForm: string };
}

interface Line {
  text: string;
  blankBefore: boolean;
}

/** Formats `text`; refuses (returns diagnostics) when the file has syntax errors. */
export function format(text: string, file = "<input>"): FormatResult {
  const r = parse(text, file);
  const syntax = r.diagnostics.filter((d) => d.code.startsWith("E01"));
  if (hasErrors(syntax)) return { ok: false, diagnostics: syntax };
  const lines: Line[] = [];
  const top: Item[] = r.ast.models.map(modelItem);
  emit(top, r.comments.slice(), "", lines, true);
  let out = "";
  lines.forEach((l, i) => {
    if (l.blankBefore && i > 0) out += "\n";
    out += `${l.text.replace(/[ \t]+$/gm, "")}\n`;
  });
  return { ok: true, text: out };
}

function modelItem(m: A.ModelDecl): Item {
  return {
    span: m.span,
    render: () => undefined,
    inner: {
      items: m.body.map(statementItem),
      open: `model ${m.name.name} {`,
      close: "}",
      emptyForm: `model ${m.name.name} {}`,
    },
  };
}

function statementItem(s: A.Statement): Item {
  if (s.kind === "Train") {
    return {
      span: s.span,
      render: () => undefined,
      inner: {
        items: s.entries.map((e) => ({
          span: e.span,
          render: (indent, out) => out.push({ text: indent + printTrainEntry(e), blankBefore: false }),
        })),
        open: "train {",
        close: "}",
        emptyForm: "train {}",
      },
    };
  }
  return { span: s.span, render: (indent, out) => out.push({ text: indent + printStatement(s), blankBefore: false }) };
}

function inside(c: Comment, span: A.Span): boolean {
  return c.span.start.offset >= span.start.offset && c.span.end.offset <= span.end.offset;
}

/**
 * Emits `items` with the comments that fall among them. `comments` holds only comments inside
 * the container; they are consumed in source order.
 */
function emit(items: Item[], comments: Comment[], indent: string, out: Line[], topLevel: boolean): void {
  let lastLine = -1; // source line where the previous emitted thing ended
  const gap = (line: number) => lastLine >= 0 && line > lastLine + 1;
  const takeBefore = (offset: number) => {
    const taken: Comment[] = [];
    while (comments.length && comments[0].span.start.offset < offset) taken.push(comments.shift()!);
    return taken;
  };
  for (let idx = 0; idx < items.length; idx++) {
    const item = items[idx];
    const before = takeBefore(item.span.start.offset);
    let ownComments = 0;
    for (const c of before) {
      // A comment on the same line as the previous item's end trails it.
      if (lastLine === c.span.start.line && out.length) {
        out[out.length - 1].text += ` ${c.text}`;
        lastLine = c.span.end.line;
        continue;
      }
      pushComment(
        c,
        indent,
        out,
        gap(c.span.start.line) || (topLevel && out.length > 0 && (lastLine < 0 || ownComments === 0)),
      );
      ownComments++;
      lastLine = c.span.end.line;
    }
    const blank = gap(item.span.start.line) || (topLevel && idx > 0 && ownComments === 0);
    const mine = [] as Comment[];
    while (comments.length && inside(comments[0], item.span)) mine.push(comments.shift()!);
    if (item.inner) {
      const { items: children, open, close, emptyForm } = item.inner;
      if (children.length === 0 && mine.length === 0) {
        out.push({ text: indent + emptyForm, blankBefore: blank });
      } else {
        out.push({ text: indent + open, blankBefore: blank });
        const startLine = item.span.start.line;
        const before = out.length;
        emitInner(children, mine, `${indent}  `, out, startLine);
        void before;
        out.push({ text: indent + close, blankBefore: false });
      }
    } else {
      // Comments written inside a one-line statement move to the line above it.
      const start = out.length;
      for (const c of mine) pushComment(c, indent, out, false);
      item.render(indent, out);
      if (out.length > start) out[start].blankBefore = blank;
    }
    lastLine = item.span.end.line;
  }
  // Comments after the last item: trailing on its line, else on their own lines.
  for (const c of comments.splice(0)) {
    if (lastLine === c.span.start.line && out.length) out[out.length - 1].text += ` ${c.text}`;
    else pushComment(c, indent, out, gap(c.span.start.line) || (topLevel && out.length > 0 && lastLine < 0));
    lastLine = c.span.end.line;
  }
}

/** Like `emit`, for the inside of a block whose `{` is on `openLine`. */
function emitInner(items: Item[], comments: Comment[], indent: string, out: Line[], openLine: number): void {
  // Comments on the line of `{` trail the opening line.
  while (
    comments.length &&
    comments[0].span.start.line === openLine &&
    (items.length === 0 || comments[0].span.start.offset < items[0].span.start.offset)
  ) {
    out[out.length - 1].text += ` ${comments.shift()!.text}`;
  }
  const mark = out.length;
  emit(items, comments, indent, out, false);
  if (out.length > mark) out[mark].blankBefore = false; // never a blank line right after `{`
}

function pushComment(c: Comment, indent: string, out: Line[], blankBefore: boolean): void {
  out.push({ text: indent + c.text, blankBefore });
}
