/**
 * Data source expressions (LANGUAGE.md §8): `mnist`, `mnist(binarize = 0.5)`,
 * `fashion_mnist`, `idx("imgs.gz", labels = "lbl.gz")`, `images("dir", size = [28, 28])`.
 * The train block's `data = …` and the CLI's `--data …` share this binder.
 */
import type * as A from "../dsl/ast";
import type { DiagnosticBag } from "../dsl/diagnostics";
import { bindArgs, DATA_SOURCES, lookup, type Written } from "./families";
import type { DataSourceIR } from "./ir";
import type { Env } from "./values";

/** Binds a written data source; null after reporting. */
export function dataSourceFromValue(v: A.Value, env: Env, diags: DiagnosticBag): DataSourceIR | null {
  const w: Written | null =
    v.kind === "Call"
      ? { name: v.callee, args: v.args, span: v.span }
      : v.kind === "Name"
        ? { name: { kind: "Ident", name: v.name, span: v.span }, args: null, span: v.span }
        : null;
  if (!w) {
    diags.error("E0702", '`data` is a source: `mnist`, `fashion_mnist`, `idx("file.gz")` or `images("dir")`', v.span, {
      hint:
        v.kind === "String"
          ? `a file or folder is read through a source: \`data = idx("${v.value}")\` or \`data = images("${v.value}")\``
          : 'write e.g. `data = mnist`, `data = mnist(binarize = 0.5)` or `data = idx("train-images.gz")`',
    });
    return null;
  }
  const sch = lookup(w, DATA_SOURCES, "data source", diags);
  if (!sch) return null;
  const args = bindArgs(w, sch, env, diags);
  if (!args) return null;
  const ds: { -readonly [K in keyof DataSourceIR]: DataSourceIR[K] } = { source: sch.name as DataSourceIR["source"] };
  if (args.path !== undefined) ds.path = args.path as string;
  if (args.labels !== undefined) ds.labels = args.labels as string;
  if (args.binarize !== undefined) ds.binarize = args.binarize as number | "stochastic";
  if (args.size !== undefined) ds.size = args.size as number[];
  if (args.seed !== undefined) ds.seed = args.seed as number;
  if (args.exclude !== undefined) ds.exclude = args.exclude as number[];
  if (args.only !== undefined) ds.only = args.only as number[];
  return ds;
}
