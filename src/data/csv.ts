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
  return {
    name: nodePath.basename(path),
    x: Float32Array.from(values),
    n,
    shape: [cols],
    kind: "real",
    columns: header,
  };
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

/**
 * Names of a variable's elements as CSV columns, the names `gm sample --format csv` writes:
 * `x` for a scalar, `x_1`, `x_2_3` (1-based indices, row-major) otherwise.
 */
export function elementNames(name: string, shape: readonly number[]): string[] {
  const size = shape.reduce((a, b) => a * b, 1);
  const out: string[] = [];
  for (let f = 0; f < size; f++) {
    const idx: number[] = [];
    let r = f;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx.unshift((r % shape[a]) + 1);
      r = Math.floor(r / shape[a]);
    }
    out.push(idx.length ? `${name}_${idx.join("_")}` : name);
  }
  return out;
}

/** The model variables a CSV file fills: the data variable (by name) and an optional scalar label column. */
export interface CsvTarget {
  /** The data variable's name and shape: a header naming its elements (`x_1`, …) is read by those names. */
  name?: string;
  shape: readonly number[];
  /** A scalar label variable with `k` outcomes, read from the column of its name. */
  label?: { name: string; k: number };
}

/**
 * The columns of a parsed CSV that feed `target`: when the header names every element of the
 * variable (and the label variable, if any), those columns by name, in the variable's order, with
 * the label column as the examples' labels (other columns are ignored); otherwise every column in
 * order, as the variable's elements (the label then is not in the file). The label column's values
 * must be whole numbers 0..k-1 (D0406 naming file, line, column and value).
 */
export function selectCsvColumns(ds: Dataset, target: CsvTarget, path: string): Dataset {
  const header = ds.columns;
  if (!header || target.name === undefined) return ds;
  const wanted = elementNames(target.name, target.shape);
  const pos = new Map<string, number>();
  header.forEach((h, j) => {
    if (!pos.has(h)) pos.set(h, j);
  });
  const all = [...wanted, ...(target.label ? [target.label.name] : [])];
  if (!all.every((c) => pos.has(c))) return ds;
  const cols = wanted.map((c) => pos.get(c)!);
  const d = header.length;
  const x = new Float32Array(ds.n * cols.length);
  for (let i = 0; i < ds.n; i++) for (let j = 0; j < cols.length; j++) x[i * cols.length + j] = ds.x[i * d + cols[j]];
  const out: Dataset = { ...ds, x, shape: [cols.length], columns: wanted };
  filePositions.set(out, cols);
  if (target.label) {
    const { name, k } = target.label;
    const c = pos.get(name)!;
    const labels = new Int32Array(ds.n);
    for (let i = 0; i < ds.n; i++) {
      const v = ds.x[i * d + c];
      if (!(Number.isInteger(v) && v >= 0 && v < k))
        outsideDomain(path, i, c, name, v, `whole numbers 0..${k - 1}, the outcomes of label ${name}`);
      labels[i] = v;
    }
    out.labels = labels;
  }
  return out;
}

/** The file's column (0-based) of each column of a dataset made by {@link selectCsvColumns}. */
const filePositions = new WeakMap<Dataset, number[]>();

function outsideDomain(
  path: string,
  row: number,
  col: number,
  name: string | undefined,
  v: number,
  what: string,
): never {
  throw new DataError(
    "D0406",
    `${path}: line ${row + 2} (example ${row + 1}), column ${col + 1}${name !== undefined ? ` ("${name}")` : ""}: ${+v.toPrecision(7)} is not in the model's domain: ${what}`,
    {
      path,
      hint: "write each column in its variable's own domain, as `gm sample --format csv` writes it (Categorical(k): 0..k-1, Bernoulli: 0 or 1, Real(lo, hi): lo..hi)",
    },
  );
}

/** The domain a CSV column is read in (the data layer's `TargetDomain`, repeated to keep csv.ts free of spec.ts). */
export type CsvDomain =
  | { kind: "bernoulli" }
  | { kind: "categorical"; k: number }
  | { kind: "real"; lo: number; hi: number }
  | { kind: "normal" };

/**
 * Reads the values of a CSV dataset in the model variable's own domain, as `gm sample --format
 * csv` writes them: Categorical(k) whole numbers 0..k-1 (kind `levels`), Bernoulli 0 or 1 (kind
 * `binary`; with `greyBernoulli`, for an explicit `binarize` threshold, any value in [0, 1]),
 * Real(lo, hi) values in [lo, hi], Normal any number (kind `real`). A value outside is D0406
 * naming the file, line, column and value; nothing is clamped or rescaled.
 */
export function checkCsvDomain(ds: Dataset, domain: CsvDomain, path: string, greyBernoulli = false): Dataset {
  const d = ds.x.length / Math.max(ds.n, 1);
  let ok: (v: number) => boolean;
  let what: string;
  switch (domain.kind) {
    case "categorical":
      ok = (v) => Number.isInteger(v) && v >= 0 && v < domain.k;
      what = `Categorical(${domain.k}) takes whole numbers 0..${domain.k - 1}`;
      break;
    case "bernoulli":
      ok = greyBernoulli ? (v) => v >= 0 && v <= 1 : (v) => v === 0 || v === 1;
      what = greyBernoulli ? "Bernoulli with a binarize threshold takes values in [0, 1]" : "Bernoulli takes 0 or 1";
      break;
    case "real":
      ok = (v) => v >= domain.lo && v <= domain.hi;
      what = `Real(${domain.lo}, ${domain.hi}) takes values in [${domain.lo}, ${domain.hi}]`;
      break;
    case "normal":
      return ds;
  }
  for (let i = 0; i < ds.x.length; i++) {
    if (ok(ds.x[i])) continue;
    const col = i % d;
    outsideDomain(path, Math.floor(i / d), filePositions.get(ds)?.[col] ?? col, ds.columns?.[col], ds.x[i], what);
  }
  if (domain.kind === "categorical") return { ...ds, kind: "levels", levels: domain.k };
  if (domain.kind === "bernoulli" && !greyBernoulli) return { ...ds, kind: "binary" };
  return ds;
}
