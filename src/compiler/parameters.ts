/**
 * Counting (LANGUAGE.md §5): the exact BigInt parameter count of every factor, from the final
 * graph; the per-family formulas live in count.ts.
 */
import { logisticParams, nadeParams, networkParams, productOfOutcomes, tableParams, withCommas } from "./count";
import { type Domain, type FactorIR, type NetworkSpec, outcomes } from "./ir";
import { MAX_INTEGER_BITS } from "./values";
import { ModelContext } from "./context";

/** An upper bound on the bits of a table family's parameter count (0 for the networks). */
function countBits(
  family: string,
  structure: FactorIR["structure"],
  targets: readonly Domain[],
  context: readonly Domain[],
): number {
  if (!["joint", "independent", "table", "chain", "markov"].includes(family)) return 0;
  const log = (d: Domain) => Math.log2(outcomes(d) ?? 1);
  const ctxBits = context.reduce((a, d) => a + log(d), 0);
  if (structure.kind === "none" || structure.kind === "window") {
    const k = structure.kind === "window" ? structure.k : 0;
    const widest = targets.reduce((a, d) => Math.max(a, log(d)), 0);
    return ctxBits + (Math.min(k, targets.length) + 1) * widest + Math.log2(targets.length + 1);
  }
  return ctxBits + targets.reduce((a, d) => a + log(d), 0);
}

/** Every factor with its exact count; null after reporting a count too large to compute. */
export function countParameters(ctx: ModelContext): FactorIR[] | null {
  const out: FactorIR[] = [];
  const graph = ctx.graph!;
  for (let id = 0; id < ctx.drafts.length; id++) {
    const d = ctx.drafts[id];
    const tDomains = ctx.domainsOf(d.targets);
    let params = 0n;
    let closedForm: string | undefined;
    const n = d.targets.length;
    const allBinary = tDomains.every((x) => x.kind === "bernoulli");
    const pristine = d.structure.kind !== "explicit" && d.context.length === 0;
    // Refuse a count too long to compute and print, before computing it (named size and limit).
    const bits = countBits(d.family, d.structure, tDomains, ctx.domainsOf(d.context));
    if (bits > MAX_INTEGER_BITS) {
      ctx.diags.error(
        "E0309",
        `the parameter count of \`${d.source}\` has about ${withCommas(BigInt(Math.round(bits * Math.LOG10E * Math.LN2)))} digits; gm counts exactly up to ${withCommas(BigInt(MAX_INTEGER_BITS))} bits (${withCommas(BigInt(Math.floor(MAX_INTEGER_BITS * Math.LOG10E * Math.LN2)))} digits)`,
        d.span,
        {
          hint: "assume independencies (`assume …`), or use `markov(k = …)`, `logistic` or `nade(hidden = …)`, whose counts grow slowly",
        },
      );
      return null;
    }
    switch (d.family) {
      case "joint": {
        const all = productOfOutcomes(tDomains.map((x) => outcomes(x)!));
        params = (all - 1n) * productOfOutcomes(ctx.domainsOf(d.context).map((x) => outcomes(x)!));
        if (d.context.length === 0) closedForm = allBinary ? `2^n − 1 (n = ${n})` : "Π k − 1";
        break;
      }
      case "independent":
      case "table":
      case "chain":
      case "markov": {
        const ctxKs = ctx.domainsOf(d.context).map((x) => outcomes(x)!);
        if (d.structure.kind === "explicit") {
          d.targets.forEach((t, j) => {
            const ps = (d.structure as { kind: "explicit"; parents: Int32Array[] }).parents[j];
            params += tableParams(
              tDomains[j],
              Array.from(ps, (p) => outcomes(ctx.varOf(p).domain)!),
            );
          });
        } else if (d.structure.kind === "prefix") {
          // Σ (k_i − 1) Π_{j<i} k_j · Π context telescopes to (Π k − 1) · Π context: no running
          // product, whose cost grows with the square of the count's length.
          params = (productOfOutcomes(tDomains.map((x) => outcomes(x)!)) - 1n) * productOfOutcomes(ctxKs);
        } else {
          const ctx = productOfOutcomes(ctxKs);
          const k = d.structure.kind === "window" ? d.structure.k : 0;
          const kinds = new Map<number, number>();
          for (const dom of tDomains) kinds.set(outcomes(dom)!, (kinds.get(outcomes(dom)!) ?? 0) + 1);
          if (kinds.size === 1 || k === 0) {
            // Closed forms: Σ (k_j − 1) without a window; with one k for all, the first K = min(k, n)
            // elements have 0 … K − 1 parents, the rest K: (k^K − 1) + (n − K)(k − 1)k^K.
            let sum = 0n;
            if (k === 0) for (const [kk, count] of kinds) sum += BigInt(kk - 1) * BigInt(count);
            else {
              const kk = BigInt([...kinds.keys()][0]);
              const K = Math.min(k, n);
              const full = kk ** BigInt(K);
              sum = full - 1n + BigInt(n - K) * (kk - 1n) * full;
            }
            params = sum * ctx;
          } else {
            const ks = tDomains.map((x) => BigInt(outcomes(x)!));
            // A sliding product of the k previous outcomes (exact division drops the one leaving).
            let window = 1n;
            for (let j = 0; j < n; j++) {
              params += (ks[j] - 1n) * window * ctx;
              window *= ks[j];
              if (j - k >= 0) window /= ks[j - k];
            }
          }
        }
        if (pristine && allBinary) {
          if (d.family === "independent") closedForm = `n (n = ${n})`;
          if (d.family === "chain") closedForm = `2^n − 1 (n = ${n})`;
          if (d.family === "markov") {
            const k = d.args.k as number;
            closedForm = k === 1 ? `2n − 1 (n = ${n})` : `2^k − 1 + (n − k)·2^k (n = ${n}, k = ${k})`;
            if (n < k) closedForm = `2^n − 1 (n = ${n} < k = ${k})`;
          }
        } else if (pristine && d.family === "independent") closedForm = "Σ (k − 1)";
        if (d.family === "table" && d.targets.length === 1) closedForm = "(k − 1)·Π k_parents";
        break;
      }
      case "logistic":
        for (let j = 0; j < n; j++) params += logisticParams(tDomains[j], graph.parentCount(d.targets[j]));
        if (pristine && allBinary) closedForm = `n(n+1)/2 (n = ${n})`;
        break;
      case "nade": {
        const nw = d.network as Extract<NetworkSpec, { kind: "nade" }>;
        params = nadeParams(nw.d, nw.hidden, nw.conditions ?? 0);
        closedForm = nw.conditions
          ? `2nH + n + H + H·|y| (n = ${nw.d}, H = ${nw.hidden}, |y| = ${nw.conditions})`
          : `2nH + n + H (n = ${nw.d}, H = ${nw.hidden})`;
        break;
      }
      case "pixelrnn":
      case "mlp":
      case "implicit":
        params = networkParams(d.network!);
        break;
      case "normal":
      case "uniform":
      case "mixture":
        params = 0n;
        break;
    }
    out.push({
      id,
      family: d.family,
      args: d.args,
      targets: d.targets,
      context: d.context,
      structure: d.structure,
      params,
      closedForm,
      source: d.source,
      span: d.span,
      network: d.network,
    });
  }
  return out;
}
