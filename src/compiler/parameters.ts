/**
 * Counting (LANGUAGE.md §5): the exact BigInt parameter count of every factor, from the final
 * graph; the per-family formulas live in count.ts.
 */
import { logisticParams, nadeParams, networkParams, productOfOutcomes, tableParams } from "./count";
import { type FactorIR, type NetworkSpec, outcomes } from "./ir";
import { ModelContext } from "./context";

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
            params += tableParams(tDomains[j], Array.from(ps, (p) => outcomes(ctx.varOf(p).domain)!));
          });
        } else if (d.structure.kind === "prefix") {
          // Σ (k_i − 1) Π_{j<i} k_j · Π context = (Π k − 1) · Π context, computed by a running product.
          let prefix = productOfOutcomes(ctxKs);
          for (const dom of tDomains) {
            const k = BigInt(outcomes(dom)!);
            params += (k - 1n) * prefix;
            prefix *= k;
          }
        } else {
          const ctx = productOfOutcomes(ctxKs);
          const k = d.structure.kind === "window" ? d.structure.k : 0;
          const ks = tDomains.map((x) => BigInt(outcomes(x)!));
          for (let j = 0; j < n; j++) {
            let p = ctx;
            for (let i = Math.max(0, j - k); i < j; i++) p *= ks[i];
            params += (ks[j] - 1n) * p;
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
        params = nadeParams(nw.d, nw.hidden);
        closedForm = `2nH + n + H (n = ${nw.d}, H = ${nw.hidden})`;
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
    out.push({ id, family: d.family, args: d.args, targets: d.targets, context: d.context, structure: d.structure, params, closedForm, source: d.source, span: d.span, network: d.network });
  }
  return out;
}
