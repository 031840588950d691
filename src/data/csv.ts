/**
 * CSV data: a header row naming the columns, then one example per row, one column per element
 * of the model variable (row-major, as the variable's elements are numbered). Values are
 * numbers taken as they are (dataset kind `real`); a `Real(lo, hi)` variable then requires every
 * value to lie in [lo, hi] (`checkRealRange`, which names the offending row and column).
 *
 * Accepted: `,` separators, optional spaces around cells, `"quoted"` cells (no embedded commas),
 * `\r\n` line ends, blank lines (skipped), numbers as JavaScript reads them (`1e-3`, `-0.5`).
 * Errors are DataError D0501 with the file, the line and the column:
 * `points.csv:7: column 2 ("y"): "abc" is not a number`.
 */
import * as fs from "node:fs";
import * as nodePath from "node:path";
import type { Dataset } from "./dataset.js";
import { DataError } from "./errors.js";

function csvError(path: string, message: string, hint?: string): never {
  throw new DataError("D0501", `${path}: ${message}`, { path, ...(hint ? { hint } : {}) });
}

function cells(line: string): string[] {
  return line.split(",").map((c) => {
    const t = c.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
  });
}

/** Parses CSV text (see the file comment); `path` names the file in messages. */
export function parseCsv(text: string, path: string): Dataset {
  const lines = text.split(/\r?\n/);
  let at = lines.findIndex((l) => l.trim() !== "");
  if (at < 0) csvError(path, "empty CSV file: expected a header row and at least one row of numbers");
  const header = cells(lines[at]);
  if (header.every((h) => h !== "" && Number.isFinite(Number(h)))) {
    csvError(
      path,
      `line ${at + 1}: the first row holds only numbers; a CSV data file starts with a header row naming its columns`,
      `add a header such as ${header.map((_, i) => `x${i + 1}`).join(",")}`,
    );
  }
  const cols = header.length;
  const values: number[] = [];
  let n = 0;
  for (at = at + 1; at < lines.length; at++) {
    if (lines[at].trim() === "") continue;
    const row = cells(lines[at]);
    if (row.length !== cols)
      csvError(
        path,
        `line ${at + 1}: ${row.length} value${row.length === 1 ? "" : "s"}, but the header names ${cols} column${cols === 1 ? "" : "s"}`,
      );
    row.forEach((c, j) => {
      const v = c === "" ? NaN : Number(c);
      if (!Number.isFinite(v))
        csvError(
          path,
          `line ${at + 1}: column ${j + 1} ("${header[j]}"): ${c === "" ? "an empty cell" : `"${c}"`} is not a number`,
        );
      values.push(v);
    });
    n++;
  }
  if (n === 0) csvError(path, "no rows of numbers after the header");
  return { name: nodePath.basename(path), x: Float32Array.from(values), n, shape: [cols], kind: "real" };
}

/** Reads a CSV file (D0101 when it is missing). */
export function loadCsv(path: string): Dataset {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new DataError("D0101", `CSV file not found: ${path}`, { path, cause: e });
  }
  return parseCsv(text, path);
}

/**
 * Checks that every value of a `real` dataset (taken as it is) lies in [lo, hi]: D0406 naming
 * the first offending example (its CSV line when `csvLines`, the header being line 1) and column.
 */
export function checkRealRange(ds: Dataset, lo: number, hi: number, csvLines: boolean): void {
  const d = ds.x.length / Math.max(ds.n, 1);
  for (let i = 0; i < ds.x.length; i++) {
    const v = ds.x[i];
    if (v >= lo && v <= hi) continue;
    const row = Math.floor(i / d);
    const where = csvLines ? `line ${row + 2} (example ${row + 1})` : `example ${row + 1}`;
    throw new DataError(
      "D0406",
      `${ds.name}: ${where}, column ${(i % d) + 1}: ${v} is outside [${lo}, ${hi}], the range of the model's Real(${lo}, ${hi})`,
      {
        hint: `declare the variable as Real(lo, hi) with a range that holds the data, or rescale the data`,
      },
    );
  }
}
