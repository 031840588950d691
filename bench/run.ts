/**
 * gm's benchmarks: `npm run bench [-- NAME … ] [--option value …]`.
 *
 *   parse       parse / compile / check a generated 10,000-line .gm file
 *   dsep        d-separation queries on 28×28 chain, markov(k = 1) and pruned-chain models
 *   nll         train on the fixed MNIST split; held-out NLL, bits/dim, time, epochs per family
 *   throughput  ms per training step and images/s, NADE H = 500 and a 784-400-20 VAE, vs PyTorch
 *   compile-scale  compile time of a chain over 1,000, 10,000 and 100,000 variables (near-linear)
 *   startup     wall clock of the built `gm` from the shell (--version, check, params, query)
 *   generative  ms per step, images/s and wasm heap: DCGAN (vs PyTorch's gan_conv), PixelRNN both kinds
 * latent      VAE/AAE-family figures: gm's VAE step, held-out ELBO and IWAE NLL, the Bernoulli mixture, anomaly AUROCs
 *
 * No name runs all four. Each bench runs in its own Node process (so that one bench's wasm heap
 * does not show up in the next one's memory figures), prints the machine, a markdown table and
 * one JSON line, and writes bench/out/NAME.json. Options (also as env GM_BENCH_<OPTION>, e.g.
 * GM_BENCH_EPOCHS_NADE=3) are listed in docs/benchmarks.md. Benchmarks print figures; they never
 * assert times and are not part of `npm test`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Options } from "./common";

const BENCHES = ["parse", "dsep", "nll", "throughput", "generative", "latent", "compile-scale", "startup"] as const;
type BenchName = (typeof BENCHES)[number];

async function runOne(name: BenchName, opts: Options): Promise<void> {
  switch (name) {
    case "parse":
      await (await import("./parse.bench")).runParse(opts);
      break;
    case "dsep":
      await (await import("./dsep.bench")).runDsep(opts);
      break;
    case "nll":
      await (await import("./nll.bench")).runNll(opts);
      break;
    case "throughput":
      await (await import("./throughput.bench")).runThroughput(opts);
      break;
    case "compile-scale":
      await (await import("./compile-scale.bench")).runCompileScale(opts);
      break;
    case "startup":
      await (await import("./startup.bench")).runStartup(opts);
      break;
    case "generative":
      await (await import("./generative.bench")).runGenerative(opts);
      break;
    case "latent":
      await (await import("./latent.bench")).runLatent(opts);
      break;
  }
}

/** Arguments that are values of an option (`--epochs-nade 3`): not bench names. */
function positional(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) {
      if (i + 1 < argv.length && !argv[i + 1].startsWith("--") && !isFlag(argv[i])) i++;
      continue;
    }
    out.push(argv[i]);
  }
  return out;
}

/** Options without a value. */
const FLAGS = new Set(["--help", "--profile", "--no-reference", "--in-process"]);
// (`--one NAME` of the generative bench takes a value and is handled by that bench.)
const isFlag = (a: string) => FLAGS.has(a);

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const childAt = argv.indexOf("--child");
  if (childAt >= 0) {
    const name = argv[childAt + 1] as BenchName;
    const rest = argv.filter((_, i) => i !== childAt && i !== childAt + 1);
    await runOne(name, new Options(rest));
    return 0;
  }
  if (argv.includes("--help")) {
    console.log(
      `usage: npm run bench [-- ${BENCHES.join(" | ")} …] [--option value …]   (options: docs/benchmarks.md)`,
    );
    return 0;
  }
  const names = positional(argv);
  const unknown = names.filter((n) => !(BENCHES as readonly string[]).includes(n));
  if (unknown.length) {
    console.error(`unknown bench ${unknown.join(", ")}; choose from ${BENCHES.join(", ")}`);
    return 2;
  }
  const chosen = (names.length ? names : [...BENCHES]) as BenchName[];
  const options = argv.filter((a) => !chosen.includes(a as BenchName));
  if (argv.includes("--in-process")) {
    for (const name of chosen) await runOne(name, new Options(options));
    return 0;
  }
  const self = fileURLToPath(import.meta.url);
  let failed = 0;
  for (const name of chosen) {
    const r = spawnSync(process.execPath, ["--import", "tsx", self, "--child", name, ...options], { stdio: "inherit" });
    if (r.status !== 0) {
      console.error(`bench ${name} failed (exit ${r.status ?? r.signal})`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
