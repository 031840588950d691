/**
 * Factors (LANGUAGE.md §5, §7): `p(…) = …` statements and `x = generator(z) by …` become
 * draft factors over elements, checked against the domains their family supports; default
 * priors for latent variables; every element must end up with exactly one factor.
 */
import type * as A from "../dsl/ast";
import { printFamily, printRef } from "../dsl/printer";
import { inputsPerElement, outputsPerElement } from "./count";
import { elementName, formatElements } from "./elements";
import { bindArgs, FACTOR_FAMILIES, lookup, NETWORKS, ownEntry, PRIOR_FAMILIES } from "./families";
import { type Domain, type FamilyName, type NetworkSpec, type VariableIR, domainName, outcomes } from "./ir";
import { resolveVariable } from "./refs";
import { pixelRnnStructure } from "./receptive";
import { ModelContext, type Draft } from "./context";

export function factorStatement(ctx: ModelContext, s: A.FactorStmt): void {
  const fam = s.family;
  const allPrior = s.targets.every((r) => ctx.varByName.get(r.name.name)?.latent);
  const isPrior = ownEntry(PRIOR_FAMILIES, fam.name.name) !== undefined;
  const table = isPrior ? PRIOR_FAMILIES : FACTOR_FAMILIES;
  const sch = lookup(fam, table, "family", ctx.diags, allPrior ? FACTOR_FAMILIES : PRIOR_FAMILIES);
  if (!sch && ownEntry(FACTOR_FAMILIES, fam.name.name) === undefined && !isPrior) return;
  if (!sch) return;
  const args = bindArgs(fam, sch, ctx.env(), ctx.diags);
  if (!args) return;
  ctx.forEachInstance(s.quantifiers, (env) => {
    const targetLists = ctx.refsToElements(s.targets, env, "child");
    const givenLists = ctx.refsToElements(s.given, env, "parent");
    if (!targetLists || !givenLists) return false;
    // Targets in head order, each variable's elements in its visiting order. Typed arrays and a
    // mark per element, not Sets: `p(x) = chain` over ten million elements stays linear and fast.
    const targets = new Int32Array(targetLists.reduce((a, l) => a + l.length, 0));
    const seen = ctx.marks();
    let filled = 0;
    const clear = () => {
      for (let j = 0; j < filled; j++) seen[targets[j]] = 0;
    };
    for (const list of targetLists) {
      for (const e of inVisitingOrder(ctx, list)) {
        if (seen[e]) {
          clear();
          ctx.diags.error("E0402", `\`${elementName(ctx.vars, e)}\` appears twice on the left of \`|\``, s.span, {
            hint: `name each element once on the left of \`|\`: \`${elementName(ctx.vars, e)}\` is in more than one of \`${s.targets.map(printRef).join(", ")}\``,
          });
          return false;
        }
        seen[e] = 1;
        targets[filled++] = e;
      }
    }
    if (targets.length === 0) return true; // an empty range names nothing
    const context = sortedUnique(givenLists);
    const both = context.find((e) => seen[e] === 1);
    clear();
    if (both !== undefined) {
      ctx.diags.error(
        "E0415",
        `\`${elementName(ctx.vars, both)}\` is both a target and a condition of this factor`,
        s.span,
        { hint: selfConditionHint(ctx, s, givenLists, both) },
      );
      return false;
    }
    const draft = makeDraft(ctx, s, sch.name as FamilyName, args, targets, context);
    if (!draft) return false;
    addDraft(ctx, draft);
    return true;
  });
}

/**
 * The hint of E0415 for `p(…)`: the statement without the condition that names only `el`
 * (`p(x[i] | x[i-1], x[i])` → `p(x[i] | x[i-1])`), else which conditions hold it.
 */
function selfConditionHint(ctx: ModelContext, s: A.FactorStmt, givenLists: Int32Array[], el: number): string {
  const only = givenLists.findIndex((l) => l.length === 1 && l[0] === el);
  if (only >= 0) {
    const rest = s.given.filter((_, j) => j !== only);
    const head = `${s.targets.map(printRef).join(", ")}${rest.length ? ` | ${rest.map(printRef).join(", ")}` : ""}`;
    return `an element is not its own parent: write \`${s.dist}(${head}) = ${printFamily(s.family)}\``;
  }
  const holding = s.given.filter((_, j) => givenLists[j].includes(el)).map(printRef);
  return `an element is not its own parent: leave \`${elementName(ctx.vars, el)}\` out of \`${holding.join(", ")}\` after \`|\``;
}

/** The elements of one reference (all of one variable) in that variable's visiting order. */
function inVisitingOrder(ctx: ModelContext, list: Int32Array): Int32Array {
  if (list.length === 0) return list;
  const v = ctx.varOf(list[0]);
  const out = new Int32Array(list.length);
  if (list.length === v.size) {
    for (let j = 0; j < out.length; j++) out[j] = v.offset + v.visit[j];
    return out;
  }
  for (let j = 0; j < out.length; j++) out[j] = v.rank[list[j] - v.offset];
  out.sort();
  for (let j = 0; j < out.length; j++) out[j] = v.offset + v.visit[out[j]];
  return out;
}

/** The union of element lists, sorted and without repeats. */
function sortedUnique(lists: readonly Int32Array[]): Int32Array {
  const all = new Int32Array(lists.reduce((a, l) => a + l.length, 0));
  let at = 0;
  for (const l of lists) {
    all.set(l, at);
    at += l.length;
  }
  all.sort();
  let n = 0;
  for (let j = 0; j < all.length; j++) if (j === 0 || all[j] !== all[j - 1]) all[n++] = all[j];
  return all.slice(0, n);
}

/** Validates a family against the domains it is applied to and builds the draft factor. */
export function makeDraft(
  ctx: ModelContext,
  s: A.FactorStmt,
  family: FamilyName,
  args: Record<string, unknown>,
  targets: Int32Array,
  context: Int32Array,
): Draft | null {
  const span = s.span;
  const source = ctx.src(s.span);
  const tDomains = ctx.domainsOf(targets);
  const cDomains = ctx.domainsOf(context);
  const famName = printFamily(s.family);
  const firstContinuous = (els: Int32Array, ds: Domain[]) => {
    const i = ds.findIndex((d) => outcomes(d) === null);
    return i < 0 ? null : { e: els[i], d: ds[i] };
  };
  const needDiscreteTargets = (): boolean => {
    const c = firstContinuous(targets, tDomains);
    if (!c) return true;
    ctx.diags.error(
      "E0410",
      `\`${s.family.name.name}\` needs discrete elements, but \`${elementName(ctx.vars, c.e)}\` is ${domainName(c.d)}`,
      s.family.span,
      {
        hint: ctx.varOf(c.e).latent
          ? "a latent Normal takes a prior: `p(z) = normal`"
          : "continuous elements need a network: `p(x | z) = mlp(hidden = [...])`",
      },
    );
    return false;
  };
  const needDiscreteContext = (): boolean => {
    const c = firstContinuous(context, cDomains);
    if (!c) return true;
    ctx.diags.error(
      "E0411",
      `a table cannot condition on \`${elementName(ctx.vars, c.e)}\`, which is ${domainName(c.d)}`,
      s.family.span,
      { hint: "condition continuous variables through `mlp(hidden = [...])` or `logistic`" },
    );
    return false;
  };
  const noContext = (): boolean => {
    if (context.length === 0) return true;
    ctx.diags.error("E0412", `\`${s.family.name.name}\` does not take conditions (\`| …\`)`, s.family.span, {
      hint:
        s.family.name.name === "pixelrnn"
          ? "a conditional PixelRNN is not supported yet; `nade` takes discrete conditions (docs/language.md)"
          : `a prior is unconditional: write \`p(${s.targets.map(printRef).join(", ")}) = ${famName}\``,
    });
    return false;
  };
  const base = { family, args, targets, context, source, span };
  switch (family) {
    case "joint":
      if (!needDiscreteTargets() || !needDiscreteContext()) return null;
      return { ...base, structure: targets.length > 1 ? { kind: "joint" } : { kind: "none" } };
    case "independent":
    case "table":
      if (!needDiscreteTargets() || !needDiscreteContext()) return null;
      if (family === "table" && targets.length > 1) return { ...base, family: "joint", structure: { kind: "joint" } };
      return { ...base, structure: { kind: "none" } };
    case "chain":
      if (!needDiscreteTargets() || !needDiscreteContext()) return null;
      return { ...base, structure: { kind: "prefix" } };
    case "markov":
      if (!needDiscreteTargets() || !needDiscreteContext()) return null;
      return { ...base, structure: { kind: "window", k: args.k as number } };
    case "logistic":
      if (!needDiscreteTargets()) return null;
      return { ...base, structure: { kind: "prefix" } };
    case "nade": {
      // Conditions (`p(x | y) = nade(…)`) must be discrete: they enter the hidden layer one-hot.
      const cont = firstContinuous(context, cDomains);
      if (cont) {
        ctx.diags.error(
          "E0411",
          `\`nade\` conditions on discrete elements; \`${elementName(ctx.vars, cont.e)}\` is ${domainName(cont.d)}`,
          s.family.span,
          { hint: "condition on continuous variables through `mlp(hidden = [...])`" },
        );
        return null;
      }
      const c = tDomains.findIndex((d) => d.kind !== "bernoulli");
      if (c >= 0) {
        ctx.diags.error(
          "E0410",
          `\`nade\` models Bernoulli elements; \`${elementName(ctx.vars, targets[c])}\` is ${domainName(tDomains[c])}`,
          s.family.span,
          { hint: "binarize the data (`Bernoulli`), or use `pixelrnn` or `logistic` for categorical pixels" },
        );
        return null;
      }
      const conditions = cDomains.reduce((a, d) => a + inputsPerElement(d), 0);
      return {
        ...base,
        structure: { kind: "prefix" },
        network: {
          kind: "nade",
          d: targets.length,
          hidden: args.hidden as number,
          ...(conditions ? { conditions } : {}),
        },
      };
    }
    case "pixelrnn": {
      if (!noContext() || !needDiscreteTargets()) return null;
      const v = ctx.varOf(targets[0]);
      if (targets.length !== v.size || (v.shape.length !== 2 && v.shape.length !== 3)) {
        ctx.diags.error(
          "E0413",
          "`pixelrnn` models a whole image: `p(x) = pixelrnn(…)` with x of shape [H, W] or [H, W, C]",
          s.span,
          { hint: pixelRnnShapeHint(ctx, v, targets.length, printFamily(s.family)) },
        );
        return null;
      }
      if (v.order.kind !== "raster") {
        ctx.diags.error(
          "E0413",
          `\`pixelrnn\` visits pixels in raster order, but \`${v.name}\` is ordered ${v.order.kind}`,
          s.family.span,
          { hint: `remove \`order ${v.name} ${v.order.kind}\`` },
        );
        return null;
      }
      const channels = v.shape.length === 3 ? v.shape[2] : 1;
      const variant = args.kind as "row_lstm" | "diagonal_bilstm";
      if ((args.hidden as number) < channels) {
        ctx.diags.error(
          "E0413",
          `\`pixelrnn\` splits its hidden units into one group per channel: hidden = ${args.hidden as number} is fewer than the ${channels} channels of \`${v.name}\``,
          s.family.span,
          { hint: `use hidden ≥ ${channels}` },
        );
        return null;
      }
      // The graph is the network's: each pixel's parents are its receptive field (receptive.ts).
      return {
        ...base,
        structure: pixelRnnStructure(variant, args.layers as number, v.shape[1], channels),
        network: {
          kind: "pixelrnn",
          variant,
          height: v.shape[0],
          width: v.shape[1],
          channels,
          outPerChannel: outputsPerElement(v.domain),
          hidden: args.hidden as number,
          layers: args.layers as number,
        },
      };
    }
    case "mlp": {
      if (context.length === 0) {
        ctx.diags.error("E0414", "`mlp` is a conditional: it needs something to condition on", s.span, {
          hint: `write \`p(${s.targets.map((r) => r.name.name).join(", ")} | z) = ${famName}\`, or use \`table\` / \`joint\` without conditions`,
        });
        return null;
      }
      if (args.deterministic) {
        const kept = (s.family.args ?? []).filter(
          (a) => a.name?.name !== "deterministic" && !(a.value.kind === "Name" && a.value.name === "deterministic"),
        );
        ctx.diags.error(
          "E0414",
          "`deterministic` applies to an encoder `q(z | x) = mlp(…, deterministic)`",
          s.family.span,
          {
            hint: `a decoder \`p(…)\` outputs a distribution: drop \`deterministic\`, \`${printFamily({ ...s.family, args: kept })}\``,
          },
        );
        return null;
      }
      const out = tDomains.reduce((a, d) => a + outputsPerElement(d), 0);
      // Conditions enter one-hot when categorical (inputsPerElement; docs/counting.md).
      const inputs = cDomains.reduce((a, d) => a + inputsPerElement(d), 0);
      return {
        ...base,
        structure: { kind: "none" },
        network: { kind: "mlp", sizes: [inputs, ...(args.hidden as number[]), out], output: "per-element" },
      };
    }
    case "normal":
    case "uniform":
    case "mixture": {
      if (!noContext()) return null;
      const c = tDomains.findIndex((d) => outcomes(d) !== null);
      if (c >= 0) {
        ctx.diags.error(
          "E0410",
          `\`${family}\` is a prior over real values; \`${elementName(ctx.vars, targets[c])}\` is ${domainName(tDomains[c])}`,
          s.family.span,
          {
            hint: `\`${ctx.varOf(targets[c]).name}\` is discrete: give it a table, \`p(${ctx.varOf(targets[c]).name}) = table\`, or declare it \`Normal\` for a \`${family}\` prior`,
          },
        );
        return null;
      }
      if (family === "uniform" && !((args.lo as number) < (args.hi as number))) {
        ctx.diags.error("E0306", `\`uniform(lo, hi)\` needs lo < hi, found ${args.lo} and ${args.hi}`, s.family.span, {
          hint:
            (args.lo as number) > (args.hi as number)
              ? `write the lower bound first: \`uniform(${args.hi}, ${args.lo})\``
              : `the interval is empty: give it a width, e.g. \`uniform(${args.lo}, ${(args.lo as number) + 1})\``,
        });
        return null;
      }
      if (family === "mixture" && tDomains.some((d) => d.kind !== "normal")) {
        const v = ctx.varOf(targets[tDomains.findIndex((d) => d.kind !== "normal")]);
        ctx.diags.error("E0410", "`mixture` is a prior over Normal latent variables", s.family.span, {
          hint: `declare \`${v.name}\` Normal, \`latent ${v.name} : Normal${v.shape.length ? `[${v.shapeText.join(", ")}]` : ""}\`${v.domain.kind === "real" ? `, or give it \`p(${v.name}) = uniform(${v.domain.lo}, ${v.domain.hi})\`` : ""}`,
        });
        return null;
      }
      return { ...base, structure: family === "mixture" && targets.length > 1 ? { kind: "joint" } : { kind: "none" } };
    }
    default:
      return null;
  }
}

/** The hint of E0413 (pixelrnn on a non-image or on part of one): the declaration or statement to write. */
function pixelRnnShapeHint(ctx: ModelContext, v: VariableIR, targets: number, family: string): string {
  if (v.shape.length === 2 || v.shape.length === 3)
    return `give \`pixelrnn\` all of \`${v.name}\`, without an index: \`p(${v.name}) = ${family}\``;
  const decl = ctx.varDecls.get(v.name);
  const type = decl ? ctx.src(decl.type.span) : "Bernoulli";
  const side = Math.round(Math.sqrt(v.size));
  const shape = side * side === v.size && side > 1 ? `${side}, ${side}` : "H, W";
  return `declare \`${v.name}\` with the image's rows and columns, e.g. \`${v.name} : ${type}[${shape}]\`${targets === v.size ? "" : `, and write \`p(${v.name}) = ${family}\``}`;
}

export function addDraft(ctx: ModelContext, d: Draft): void {
  const id = ctx.drafts.length;
  for (let j = 0; j < d.targets.length; j++) {
    const e = d.targets[j];
    const prev = ctx.factorOf[e];
    if (prev >= 0) {
      ctx.diags.error("E0402", `\`${elementName(ctx.vars, e)}\` has two factors`, d.span, {
        related: [{ message: `its first factor: \`${ctx.drafts[prev].source}\``, span: ctx.drafts[prev].span }],
        hint: `every element needs exactly one factor: take \`${elementName(ctx.vars, e)}\` out of this statement or out of \`${ctx.drafts[prev].source}\``,
      });
      return;
    }
  }
  for (let j = 0; j < d.targets.length; j++) {
    ctx.factorOf[d.targets[j]] = id;
    ctx.positionOf[d.targets[j]] = j;
  }
  ctx.drafts.push(d);
  ctx.factorSpans.push(d.span);
}

export function implicitStatement(ctx: ModelContext, s: A.ImplicitStmt): void {
  const v = resolveVariable(s.target, ctx.scope, ctx.diags);
  if (!v) return;
  if (v.latent) {
    const decl = ctx.varDecls.get(v.name);
    ctx.diags.error(
      "E0416",
      `\`${v.name}\` is latent; \`generator\` defines an observed variable from latent ones`,
      s.target.span,
      {
        hint: `generate the observed image: drop \`latent\` from \`${v.name}\` (\`${v.name} : ${decl ? ctx.src(decl.type.span) : "…"}${v.shape.length ? `[${v.shapeText.join(", ")}]` : ""}\`), or write \`x = generator(${v.name}) by …\` for an observed \`x\``,
      },
    );
    return;
  }
  const lists = ctx.refsToElements(s.inputs, ctx.env(), "claim");
  if (!lists) return;
  const context = Int32Array.from(new Set(lists.flatMap((l) => Array.from(l)))).sort();
  if (context.some((e) => ctx.varOf(e) === v)) {
    const codes = s.inputs.filter((r) => ctx.varByName.get(r.name.name)?.latent).map(printRef);
    ctx.diags.error("E0415", `\`${v.name}\` cannot be generated from itself`, s.span, {
      hint: codes.length
        ? `feed the generator latent codes only: \`${v.name} = generator(${codes.join(", ")}) by ${printFamily(s.network)}\``
        : `feed the generator latent codes: declare \`latent z : Normal[16]\` and write \`${v.name} = generator(z) by ${printFamily(s.network)}\``,
    });
    return;
  }
  const sch = lookup(s.network, NETWORKS, "network", ctx.diags);
  if (!sch) return;
  const args = bindArgs(s.network, sch, ctx.env(), ctx.diags);
  if (!args) return;
  const network = networkSpec(ctx, sch.name, args, context.length, v, "generator", s.network.span);
  if (!network) return;
  const targets = Int32Array.from(v.visit, (f) => v.offset + f);
  addDraft(ctx, {
    family: "implicit",
    args,
    targets,
    context,
    structure: { kind: "none" },
    source: ctx.src(s.span),
    span: s.span,
    network,
  });
}

/** Builds a generator or critic network spec for `v` (the image it makes or reads). */
export function networkSpec(
  ctx: ModelContext,
  name: string,
  args: Record<string, unknown>,
  inputs: number,
  v: VariableIR,
  role: "generator" | "critic",
  span: A.Span,
): NetworkSpec | null {
  if (name === "mlp") {
    if (args.deterministic) {
      ctx.diags.error("E0414", "`deterministic` applies to an encoder `q(z | x) = mlp(…, deterministic)`", span, {
        hint: `a ${role} is not an encoder: drop \`deterministic\`, \`mlp(hidden = [${(args.hidden as number[]).join(", ")}])\``,
      });
      return null;
    }
    const sizes =
      role === "generator" ? [inputs, ...(args.hidden as number[]), v.size] : [v.size, ...(args.hidden as number[]), 1];
    return { kind: "mlp", sizes, output: role === "generator" ? "values" : "logit" };
  }
  // dcgan: images [H, W] or [H, W, C] with H and W divisible by 4.
  const [H, W, C] = [v.shape[0], v.shape[1], v.shape.length === 3 ? v.shape[2] : 1];
  if ((v.shape.length !== 2 && v.shape.length !== 3) || H % 4 !== 0 || W % 4 !== 0) {
    ctx.diags.error(
      "E0417",
      `\`dcgan\` works on images whose height and width are multiples of 4; \`${v.name}\` has shape [${v.shape.join(", ")}]`,
      span,
      { hint: "use `mlp(hidden = [...])`" },
    );
    return null;
  }
  const base = args.base as number;
  return role === "generator"
    ? { kind: "dcgan-generator", zdim: inputs, base, height: H, width: W, channels: C }
    : { kind: "dcgan-critic", base, height: H, width: W, channels: C };
}

export function defaultPriors(ctx: ModelContext): void {
  for (const v of ctx.vars) {
    if (!v.latent) continue;
    let missing = 0;
    for (let f = 0; f < v.size; f++) if (ctx.factorOf[v.offset + f] < 0) missing++;
    if (missing !== v.size) continue;
    if (v.domain.kind === "normal" || v.domain.kind === "real") {
      const family: FamilyName = v.domain.kind === "normal" ? "normal" : "uniform";
      const args = v.domain.kind === "real" ? { lo: v.domain.lo, hi: v.domain.hi } : {};
      const targets = Int32Array.from(v.visit, (f) => v.offset + f);
      addDraft(ctx, {
        family,
        args,
        targets,
        context: new Int32Array(0),
        structure: { kind: "none" },
        source: `p(${v.name}) = ${family === "normal" ? "normal" : `uniform(${v.domain.kind === "real" ? `${v.domain.lo}, ${v.domain.hi}` : ""})`} (default)`,
        span: v.span,
      });
    }
  }
}

/** Every element has exactly one factor (duplicates were reported when added). */
export function coverage(ctx: ModelContext): boolean {
  let ok = !ctx.diags.hasErrors;
  for (const v of ctx.vars) {
    const missing: number[] = [];
    for (let f = 0; f < v.size; f++) if (ctx.factorOf[v.offset + f] < 0) missing.push(v.offset + f);
    if (missing.length === 0) continue;
    ok = false;
    const what = formatElements(ctx.vars, missing);
    const all = missing.length === v.size;
    ctx.diags.error(
      "E0401",
      all ? `\`${v.name}\` has no factor` : `\`${what}\` ${missing.length === 1 ? "has" : "have"} no factor`,
      v.span,
      {
        hint: all
          ? v.latent
            ? `give it a prior: \`p(${v.name}) = …\``
            : `say how it is distributed: \`p(${v.name}) = chain\`, \`= independent\`, …`
          : "every element needs exactly one factor: check the ranges of the `for` statements",
      },
    );
  }
  return ok;
}
