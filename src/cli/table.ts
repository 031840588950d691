/** Plain-text tables for terminal output (long cells wrap so the table stays readable). */

const MAX_CELL = 48;

function wrap(s: string, width: number): string[] {
  if (s.length <= width) return [s];
  const out: string[] = [];
  let line = "";
  for (const word of s.split(/(\s+)/)) {
    if ((line + word).length > width && line.trim()) {
      out.push(line.trimEnd());
      line = word.trimStart();
    } else line += word;
    while (line.length > width) {
      out.push(line.slice(0, width));
      line = line.slice(width);
    }
  }
  if (line.trim()) out.push(line.trimEnd());
  return out;
}

/** Renders rows under a header; `right[i]` right-aligns column i. */
export function table(header: string[], rows: string[][], right: boolean[] = []): string {
  const cells = [header, ...rows].map((r) => r.map((c) => wrap(c, MAX_CELL)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => Math.max(...r[i].map((l) => [...l].length)))));
  const pad = (s: string, i: number) => {
    const len = [...s].length;
    return right[i] ? " ".repeat(widths[i] - len) + s : s + " ".repeat(widths[i] - len);
  };
  const lines: string[] = [];
  const rule = widths.map((w) => "─".repeat(w)).join("  ");
  cells.forEach((r, ri) => {
    const height = Math.max(...r.map((c) => c.length));
    for (let l = 0; l < height; l++)
      lines.push(
        r
          .map((c, i) => pad(c[l] ?? "", i))
          .join("  ")
          .trimEnd(),
      );
    if (ri === 0) lines.push(rule);
  });
  return lines.join("\n");
}
