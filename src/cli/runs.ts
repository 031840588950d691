/**
 * What train and score share on the command line: reading `--data`. The source is parsed by
 * src/models/run.ts; here its diagnostics are printed and a bad one is a usage error.
 */
import type { DataSourceIR } from "../compiler/ir";
import { parseDataSource } from "../models/run";
import { printDiagnostics, UsageError } from "./io";

/** Parses `--data` (a source expression or a path), printing the diagnostics of a bad one. */
export function parseDataFlag(text: string): DataSourceIR {
  const { source, diagnostics } = parseDataSource(text);
  if (source) return source;
  printDiagnostics(diagnostics, text);
  throw new UsageError(
    `cannot read --data ${JSON.stringify(text)}`,
    'write a source like `mnist`, `idx("train.gz", binarize = 0.5)`, `images("dir")`, or a path',
  );
}
