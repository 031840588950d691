/**
 * MLP conditionals: ms per training step (batch 100, Adam) of examples/16's `Neighbours` model —
 * 783 `mlp(hidden = [16])` factors over 28×28 pixels — with the factors of one layout stored
 * stacked and computed as one batched network (what gm builds), and with every factor's network
 * run alone (`new MlpConditionalModule`), on random binary data. Prints the machine (load
 * included: other work on the cores skews times), a markdown table and one JSON line.
 *
 *   node --import tsx bench/mlp-conditional.bench.ts [steps = 6]
 *
 * A figure, never an assertion; not part of `npm test`.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { compileText } from "../src/compiler/compile";
import { initBackend } from "../src/models/backend";
import { buildExplicitModel, type ExplicitModel } from "../src/models/explicit";
import { MlpConditionalModule } from "../src/models/mlp-conditional";
import { Rng } from "../src/rng";
import { machine } from "./common";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** ms per step (median over `steps` after one warm-up) and the model's variable count. */
function time(m: ExplicitModel, steps: number): { ms: number; variables: number } {
  const B = 100;
  const rng = new Rng(1);
  const x = tf.tensor2d(
    Float32Array.from({ length: B * m.dim }, () => (rng.uniform() < 0.2 ? 1 : 0)),
    [B, m.dim],
  );
  const vars = m.variables;
  const opt = tf.train.adam(1e-3);
  const times: number[] = [];
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(m.logProb(x))) as tf.Scalar, vars);
    opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
    value.dataSync();
    vars[vars.length - 1].dataSync();
    value.dispose();
    tf.dispose(grads);
    m.invalidate();
    if (s > 0) times.push(performance.now() - t0);
  }
  x.dispose();
  opt.dispose();
  return { ms: median(times), variables: vars.length };
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 6);
  const setup = await initBackend("wasm", { threads: 1, quiet: true });
  const text = readFileSync(path.join(ROOT, "examples", "16-mlp-conditionals.gm"), "utf8");
  const ir = compileText(text, "16-mlp-conditionals.gm", { checks: false }).models.find(
    (m) => m.name === "Neighbours",
  )!;
  const rows: Array<{ how: string; variables: number; ms: number }> = [];
  for (const how of ["grouped", "alone"] as const) {
    const m = buildExplicitModel(
      ir,
      how === "alone"
        ? { seed: 1, families: { mlp: (f, ir2, _g, name, seed) => new MlpConditionalModule(f, ir2, name, seed) } }
        : { seed: 1 },
    );
    try {
      rows.push({ how, ...time(m, steps) });
    } finally {
      m.dispose();
    }
  }
  console.log(JSON.stringify({ machine: { ...machine(), backend: setup.name } }));
  console.log(
    `\nexamples/16 Neighbours: ${ir.factors.length - 1} mlp(hidden = [16]) factors, ${ir.params} parameters, batch 100, median of ${steps} steps\n`,
  );
  console.log("| factors computed | trainable variables | ms per step |\n| --- | --- | --- |");
  for (const r of rows)
    console.log(
      `| ${r.how === "grouped" ? "stacked by layout, one batched network per group" : "each network alone"} | ${r.variables} | ${r.ms.toFixed(0)} |`,
    );
  console.log(JSON.stringify({ bench: "mlp-conditional", rows }));
}

await main();
