/**
 * `dsep`: d-separation queries (`gm query`, `check` lines) on 28×28 binary images.
 *
 * Three models of x : Bernoulli[28, 28]:
 *   - chain         `p(x) = chain`: every pixel a parent of every later one (306,936 edges);
 *   - markov1       `p(x) = markov(k = 1)`: one parent each (783 edges), the longest trails;
 *   - pruned chain  the chain with `assume for r in 3..28, c in 1..28: x[r, c] ⊥ x[1..r-2, *] | x[r-1, *]`
 *                   (728 assumptions: each pixel keeps the row above and its own row).
 * For each: the build time (`compileText`, checks off — what `gm query` compiles first), then
 * per query the median over `--runs` (default 21) of
 *   - query:  parseClaim + `query(ir, claim)` (which builds the element graph, then d-separates),
 *             what `gm query` does after compiling; the target is < 100 ms;
 *   - d-sep:  `dSeparated` alone on a prebuilt graph (what `check` lines pay).
 */
import { compileText } from "../src/compiler/compile";
import { dSeparated } from "../src/compiler/dsep";
import { ElementGraph } from "../src/compiler/graph";
import { query } from "../src/compiler/query";
import { hasErrors } from "../src/dsl/diagnostics";
import { parseClaim } from "../src/dsl/parse";
import { evalRef } from "../src/compiler/refs";
import { DiagnosticBag } from "../src/dsl/diagnostics";
import type { ModelIR, VariableIR } from "../src/compiler/ir";
import type * as A from "../src/dsl/ast";
import { machine, median, Options, printMachine, printTable, round, timeSync, writeResult } from "./common";

const MODELS: Array<{ name: string; text: string; queries: string[] }> = [
  {
    name: "chain",
    text: "model Chain {\n  x : Bernoulli[28, 28]\n  p(x) = chain\n}\n",
    queries: [
      "x[14, 14] ⊥ x[1, 1] | x[14, 13]",
      "x[28, 28] ⊥ x[1, 1]",
      "x[14, 14] ⊥ x[1, 1] | x[13, *]",
      "x[28, 28] ⊥ x[1, 1] | x[1, 2..28], x[2..27, *], x[28, 1..27]",
    ],
  },
  {
    name: "markov1",
    text: "model Markov1 {\n  x : Bernoulli[28, 28]\n  p(x) = markov(k = 1)\n}\n",
    queries: [
      "x[14, 14] ⊥ x[1, 1] | x[14, 13]",
      "x[28, 28] ⊥ x[1, 1]",
      "x[14, 14] ⊥ x[1, 1] | x[13, *]",
      "x[1, 1] ⊥ x[28, 28] | x[14, 14]",
    ],
  },
  {
    name: "pruned chain",
    text: "model PrunedChain {\n  x : Bernoulli[28, 28]\n  p(x) = chain\n  assume for r in 3..28, c in 1..28: x[r, c] ⊥ x[1..r-2, *] | x[r-1, *]\n}\n",
    queries: [
      "x[14, 14] ⊥ x[1, 1] | x[14, 13]",
      "x[28, 28] ⊥ x[1, 1]",
      "x[14, 14] ⊥ x[1, 1] | x[13, *]",
      "x[28, 28] ⊥ x[1, 1..28] | x[27, *]",
    ],
  },
];

/** The element sets of a claim (as `query` computes them), for timing `dSeparated` alone. */
function claimSets(ir: ModelIR, claim: A.IndependenceClaim): number[][] {
  const diags = new DiagnosticBag("<bench>");
  const scope = {
    byName: new Map<string, VariableIR>(ir.variables.map((v) => [v.name, v])),
    constants: new Set(ir.constants.keys()),
  };
  const env = { values: ir.constants, variables: new Set(scope.byName.keys()) };
  return [claim.left, claim.right, claim.given].map((side) => [
    ...new Set(side.flatMap((r) => Array.from(evalRef(r, scope, env, diags, "claim") ?? []))),
  ]);
}

export async function runDsep(opts: Options): Promise<Record<string, unknown>> {
  const m = machine();
  printMachine("dsep", m);
  const runs = Math.max(1, opts.num("runs", 21));
  const buildRuns = Math.max(1, opts.num("build-runs", 5));
  console.log(
    `median of ${runs} runs per query (1 warm-up), build: median of ${buildRuns}; target < 100 ms per query\n`,
  );
  const builds: Array<Record<string, unknown>> = [];
  const rows: Array<Record<string, unknown>> = [];
  for (const model of MODELS) {
    let ir: ModelIR | undefined;
    const ts = timeSync(
      () => {
        const r = compileText(model.text, `<${model.name}>`, { checks: false });
        if (hasErrors(r.diagnostics))
          throw new Error(`${model.name}: ${r.diagnostics.map((d) => d.message).join("; ")}`);
        ir = r.models[0];
      },
      buildRuns,
      1,
    );
    const graph = new ElementGraph(ir!.n, ir!.factors, ir!.factorOf, ir!.positionOf);
    builds.push({ model: model.name, elements: ir!.n, edges: graph.edgeCount(), buildMs: round(median(ts)) });
    for (const q of model.queries) {
      const parsed = parseClaim(q);
      if (!parsed.claim) throw new Error(`cannot parse ${q}`);
      const claim = parsed.claim;
      const answer = query(ir!, claim).answer!;
      const queryMs = median(timeSync(() => query(ir!, parseClaim(q).claim!), runs, 1));
      const [x, y, z] = claimSets(ir!, claim);
      const dsepMs = median(timeSync(() => dSeparated(graph, x, y, z), runs, 1));
      rows.push({
        model: model.name,
        query: q,
        answer: answer.independent ? "independent" : "dependent",
        trailLength: answer.trailSteps ? answer.trailSteps.length - 1 : null,
        queryMs: round(queryMs),
        dsepMs: round(dsepMs),
        under100ms: queryMs < 100,
      });
    }
  }
  console.log("build (compileText, checks off):\n");
  printTable(
    ["model", "elements", "edges", "build ms"],
    builds.map((b) => [
      b.model as string,
      b.elements as number,
      (b.edges as number).toLocaleString("en-US"),
      b.buildMs as number,
    ]),
  );
  console.log("queries (ms, median):\n");
  printTable(
    ["model", "query", "answer", "trail", "query ms", "d-sep only ms", "< 100 ms"],
    rows.map((r) => [
      r.model as string,
      `\`${r.query}\``,
      r.answer as string,
      r.trailLength as number | null,
      r.queryMs as number,
      r.dsepMs as number,
      r.under100ms ? "yes" : "NO",
    ]),
  );
  return writeResult("dsep", { bench: "dsep", machine: m, runs, builds, rows });
}
