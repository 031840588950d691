/**
 * `nll`: density estimation on binarized MNIST, the way `gm train` does it.
 *
 * Data: the fixed MNIST split (src/data/mnist.ts: 8,000 train / 2,000 held-out digits of the
 * embedded sample, split seed 42), binarized at 0.5 — `loadModelData(ir, mnist(binarize = 0.5))`,
 * as `gm train` loads it. Each family is a `.gm` text compiled with `compileText` and built with
 * `buildModel` (seed 1); tables are fitted in closed form (Laplace α = 1, gm's default),
 * neural families by gm's `Fitter` running the model's objective (one `nll` step: Adam, lr 1e-3,
 * batch 100, seed 1) with the held-out NLL after every epoch (`objective.evaluate`).
 *
 *   independent   p(x) = independent
 *   markov1       p(x) = markov(k = 1)
 *   markov4       p(x) = markov(k = 4)      (raster order)
 *   logistic      p(x) = logistic           (FVSBN, 307,720 parameters)
 *   nade          p(x) = nade(hidden = 500) (785,284 parameters)
 *
 * Options: --families a,b,…  --epochs-logistic N (default 100)  --epochs-nade N (default 100)
 * --nade-impl auto|wasm|js|cumsum (default gm's own: its fused kernel) --eval-batch N (default
 * `score`'s, 500, as `gm train`; 100 with --nade-impl cumsum, whose [500, 500, 784] tensors
 * need more than the 4 GB wasm heap).
 */
import { compileText } from "../src/compiler/compile";
import { hasErrors } from "../src/dsl/diagnostics";
import type { EpochRecord } from "../src/models/checkpoint";
import { ExplicitModel, meanNegative } from "../src/models/explicit";
import { Fitter } from "../src/models/fit";
import { buildModel } from "../src/models/registry";
import { loadModelData } from "../src/models/run";
import { machine, Options, printMachine, printTable, processMemory, round, withBackend, writeResult } from "./common";

const FAMILIES: Record<string, { statement: string; epochsDefault: number }> = {
  independent: { statement: "p(x) = independent", epochsDefault: 0 },
  markov1: { statement: "p(x) = markov(k = 1)", epochsDefault: 0 },
  markov4: { statement: "order x raster\n  p(x) = markov(k = 4)", epochsDefault: 0 },
  logistic: { statement: "p(x) = logistic", epochsDefault: 100 },
  nade: { statement: "p(x) = nade(hidden = 500)", epochsDefault: 100 },
};

const LN2 = Math.log(2);
/** Fixed decimals (NLLs in nats: 2; bits/dim: 4). */
const fixed = (x: number, d: number) => (Number.isFinite(x) ? Number(x.toFixed(d)) : x);

export async function runNll(opts: Options): Promise<Record<string, unknown>> {
  const m = await withBackend(machine());
  printMachine("nll", m);
  const families = opts
    .str("families", Object.keys(FAMILIES).join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const f of families)
    if (!FAMILIES[f]) throw new Error(`unknown family ${f}; choose from ${Object.keys(FAMILIES).join(", ")}`);
  const nadeImpl = opts.raw("nade-impl");
  const evalBatch = Math.max(1, opts.num("eval-batch", nadeImpl === "cumsum" ? 100 : 500));
  const progressEvery = Math.max(1, opts.num("progress-every", 20));
  const batch = 100;
  const lr = 1e-3;
  const seed = 1;
  const epochsOf = (f: string) => Math.max(1, Math.floor(opts.num(`epochs-${f}`, FAMILIES[f].epochsDefault)));
  const chosen = families.map((f) => `${f}${FAMILIES[f].epochsDefault ? ` ${epochsOf(f)} epochs` : " (closed form)"}`);
  console.log(
    `data: mnist(binarize = 0.5), the fixed split; Adam lr ${lr}, batch ${batch}, seed ${seed}; held-out NLL after every epoch, in batches of ${evalBatch}${nadeImpl ? `; NADE impl ${nadeImpl}` : ""}`,
  );
  console.log(`chosen: ${chosen.join(", ")} (set with --epochs-logistic / --epochs-nade or GM_BENCH_EPOCHS_*)\n`);

  const rows: Array<Record<string, unknown>> = [];
  for (const family of families) {
    const text = `model Bench {\n  x : Bernoulli[28, 28]\n  ${FAMILIES[family].statement}\n}\n`;
    const compiled = compileText(text, `<${family}>`);
    if (hasErrors(compiled.diagnostics))
      throw new Error(`${family}: ${compiled.diagnostics.map((d) => d.message).join("; ")}`);
    const ir = compiled.models[0];
    const data = loadModelData(ir, { source: "mnist", binarize: 0.5 }, [0.8, 0.2]);
    const dim = ir.n;
    const built = buildModel(ir, { seed });
    if (!(built instanceof ExplicitModel)) throw new Error(`${family}: not an explicit model`);
    const model = built;
    if (nadeImpl !== undefined)
      for (const mod of model.modules) if ("impl" in mod) (mod as { impl: string }).impl = nadeImpl;
    const params = model.paramCount();
    let evalSeconds = 0;
    let evals = 0;
    const nll = (x: Float32Array, n: number) => meanNegative(model.score(x, n, { batch: evalBatch }).values);
    const objective = {
      ...model.objective({ lr }),
      evaluate: (x: Float32Array, n: number) => {
        const t0 = performance.now();
        const r = { nll: nll(x, n) };
        evalSeconds += (performance.now() - t0) / 1000;
        evals++;
        return r;
      },
    };
    const t0 = performance.now();
    objective.fitClosedForm?.(data.train.x, data.train.n, { smoothing: 1 });
    const fitSeconds = (performance.now() - t0) / 1000;
    const history: EpochRecord[] = [];
    let epochs = 0;
    let status = "done";
    const gradient = objective.steps.length > 0;
    if (!gradient) {
      const testNll = objective.evaluate(data.test.x, data.test.n).nll;
      const trainNll = nll(data.train.x, data.train.n);
      history.push({
        epoch: 0,
        train: { nll: trainNll },
        test: { nll: testNll },
        seconds: fitSeconds,
        imagesPerSecond: data.train.n / Math.max(fitSeconds, 1e-9),
      });
      console.log(`${family}: closed form in ${fitSeconds.toFixed(2)} s, held-out NLL ${testNll.toFixed(2)} nats`);
    } else {
      epochs = epochsOf(family);
      const fitter = new Fitter({
        objective,
        train: data.train,
        test: data.test,
        dim,
        epochs,
        batch,
        lr,
        seed,
        onBatch: (b) => {
          if (b.batch % progressEvery === 0 && b.batch < b.batches)
            console.log(
              `  ${family} epoch ${b.epoch} batch ${b.batch}/${b.batches}: loss ${b.losses.nll.toFixed(2)}, ${b.imagesPerSecond.toFixed(0)} img/s`,
            );
        },
        onEpochEnd: (r) => {
          history.push(r);
          console.log(
            `${family} epoch ${r.epoch}/${epochs}: train ${r.train.nll.toFixed(2)}, held-out ${r.test.nll.toFixed(2)} nats (${(r.test.nll / (dim * LN2)).toFixed(4)} bits/dim), ${r.seconds.toFixed(1)} s, ${r.imagesPerSecond.toFixed(0)} img/s`,
          );
        },
      });
      const outcome = await fitter.run();
      status = outcome.status;
      fitter.dispose();
    }
    const last = history[history.length - 1];
    const best = history.reduce((a, r) => (r.test.nll < a.test.nll ? r : a), history[0]);
    const trainSeconds = gradient ? history.reduce((a, r) => a + r.seconds, 0) : fitSeconds;
    rows.push({
      family,
      params,
      epochs: gradient ? history.length : "closed form",
      status,
      trainNll: fixed(last?.train.nll ?? NaN, 2),
      testNll: fixed(last?.test.nll ?? NaN, 2),
      bitsPerDim: fixed((last?.test.nll ?? NaN) / (dim * LN2), 4),
      bestTestNll: fixed(best?.test.nll ?? NaN, 2),
      bestEpoch: gradient ? best?.epoch : null,
      trainSeconds: round(trainSeconds),
      secondsPerEpoch: gradient ? round(trainSeconds / Math.max(history.length, 1)) : null,
      evalSecondsEach: round(evalSeconds / Math.max(evals, 1)),
      imgPerS: round(last?.imagesPerSecond ?? NaN),
      history: history.map((r) => ({
        epoch: r.epoch,
        trainNll: fixed(r.train.nll, 2),
        testNll: fixed(r.test.nll, 2),
        seconds: round(r.seconds),
      })),
      memory: processMemory(),
    });
    model.dispose();
  }
  console.log("");
  printTable(
    [
      "family",
      "params",
      "epochs",
      "held-out NLL (nats)",
      "bits/dim",
      "best held-out (epoch)",
      "train NLL",
      "train time s",
      "s/epoch",
      "eval s",
      "img/s",
    ],
    rows.map((r) => [
      r.family as string,
      (r.params as number).toLocaleString("en-US"),
      String(r.epochs),
      (r.testNll as number).toFixed(2),
      (r.bitsPerDim as number).toFixed(4),
      r.bestEpoch != null ? `${(r.bestTestNll as number).toFixed(2)} (${r.bestEpoch})` : null,
      (r.trainNll as number).toFixed(2),
      r.trainSeconds as number,
      r.secondsPerEpoch as number | null,
      r.evalSecondsEach as number,
      r.imgPerS as number,
    ]),
  );
  return writeResult("nll", {
    bench: "nll",
    machine: m,
    data: "mnist(binarize = 0.5), split [0.8, 0.2] seed 42",
    batch,
    lr,
    seed,
    evalBatch,
    nadeImpl: nadeImpl ?? "gm default",
    rows,
  });
}
