/**
 * The `gm` command line. Each command lives in its own file and is loaded only when used, so
 * `gm check` never loads TensorFlow.js. Usage errors exit 2, input errors exit 1, and an
 * internal error prints one line asking to report it — never a stack trace.
 */
import { Command, CommanderError, Option } from "commander";
import { EXIT, GmError, gmErrorJson, internalErrorText, reportGmError } from "./io";

import { VERSION } from "../version";

type Action = (...args: never[]) => Promise<number> | number;

let exitCode: number = EXIT.ok;

/** Wraps a command's action so its return value becomes the exit code. */
function run(fn: Action) {
  return async (...args: unknown[]) => {
    exitCode = await (fn as (...a: unknown[]) => Promise<number> | number)(...args);
  };
}

function buildProgram(): Command {
  const program = new Command();
  program
    .name("gm")
    .description(
      "gm — a modeling language for generative models: check .gm files, count parameters, query independence, train, sample and score.",
    )
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run gm --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("check")
    .description("parse and compile .gm files and prove their `check` lines")
    .argument("<files...>", ".gm files")
    .option("--json", "machine-readable diagnostics")
    .action(run(async (files: string[], o: { json?: boolean }) => (await import("./check")).runCheck(files, o)));

  program
    .command("fmt")
    .description("print .gm files in the canonical layout")
    .argument("<files...>", ".gm files")
    .option("-w, --write", "rewrite the files in place")
    .option("-c, --check", "exit 1 when a file is not formatted")
    .action(
      run(async (files: string[], o: { write?: boolean; check?: boolean }) => (await import("./fmt")).runFmt(files, o)),
    );

  program
    .command("params")
    .description("count the parameters of every factor, exactly")
    .argument("<file>", ".gm file")
    .option("--model <name>", "only this model")
    .option("--json", "JSON output")
    .action(
      run(async (file: string, o: { json?: boolean; model?: string }) => (await import("./params")).runParams(file, o)),
    );

  program
    .command("factor")
    .description("print the factorization in mathematical notation")
    .argument("<file>", ".gm file")
    .option("--model <name>", "only this model")
    .option("--latex", "LaTeX instead of Unicode")
    .option("--steps", "the derivation from the chain rule, one assumption at a time")
    .action(
      run(async (file: string, o: { latex?: boolean; steps?: boolean; model?: string }) =>
        (await import("./factor")).runFactor(file, o),
      ),
    );

  program
    .command("query")
    .description('answer an independence query by d-separation, e.g. "x[5] ⊥ x[1] | x[3]"')
    .argument("<file>", ".gm file")
    .argument("<query>", "A ⊥ B | C (or A _|_ B | C)")
    .option("--model <name>", "the model to query")
    .option("--json", "JSON output")
    .action(
      run(async (file: string, q: string, o: { json?: boolean; model?: string }) =>
        (await import("./query")).runQuery(file, q, o),
      ),
    );

  program
    .command("graph")
    .description("draw the Bayesian network (DOT or SVG), or one pixel's parents and Markov blanket")
    .argument("<file>", ".gm file")
    .addOption(new Option("--format <format>", "output format").choices(["dot", "svg", "png"]).default("svg"))
    .option("-o, --out <path>", "output file (default: stdout for dot/svg)")
    .option("--model <name>", "the model to draw")
    .option("--pixel <r,c>", "draw the image grid around pixel (r, c): its parents and Markov blanket")
    .option(
      "--elements",
      "draw every element even beyond the layout budget (100 elements, 400 edges, edges spanning few ranks): " +
        "Graphviz's layout time grows with the ranks the edges cross (a 64-element chain takes seconds, a 100-element " +
        "one about 10 s); refused above 2,000,000 edges, and for svg/png above about a minute of layout",
    )
    .action(
      run(
        async (file: string, o: { format: string; out?: string; model?: string; pixel?: string; elements?: boolean }) =>
          (await import("./graph")).runGraph(file, o),
      ),
    );

  program
    .command("train")
    .description("train a model on data (tables in closed form, neural families with Adam)")
    .argument("<file>", ".gm file")
    .option("--model <name>", "the model to train")
    .option("--epochs <n>", "epochs (default: train block, else 10)")
    .option("--batch <n>", "batch size (default: train block, else 100)")
    .option("--lr <rate>", "Adam learning rate (default: train block, else 1e-3)")
    .option("--data <source>", 'mnist, idx("file.gz", binarize = 0.5), images("dir"), or a path')
    .option("--seed <n>", "seed for weights, batches and sampling (default: train block, else 1)")
    .option("--smoothing <alpha>", "Laplace smoothing of tables (default 1)")
    .option("--critic-steps <k>", "a GAN's critic steps per generator step (default: train block, else 1)")
    .option("--backend <name>", "auto | tensorflow-gpu | tensorflow | wasm | cpu", "auto")
    .option("--out <dir>", "run directory (default: runs/<model>)")
    .option("--resume", "continue the run in --out")
    .option("-q, --quiet", "no progress bar")
    .action(run(async (file: string, o: Record<string, string>) => (await import("./train")).runTrain(file, o)));

  program
    .command("sample")
    .description("draw samples from a trained run as a PNG grid")
    .argument("<run>", "run directory")
    .option("-n, --n <count>", "number of samples", "64")
    .option("--seed <n>", "sampling seed", "1")
    .option("-o, --out <file>", "output file (default: RUN/samples-seedS.png, .csv or .json)")
    .option("--format <format>", "png (an image grid), csv (a header, one row per sample) or json", "png")
    .option("--json", "also print the samples as JSON")
    .option(
      "--manifold <side>",
      "a 2-D latent model's decoder over a side × side grid of z (default -o RUN/manifold.png)",
    )
    .option("--backend <name>", "auto | tensorflow-gpu | tensorflow | wasm | cpu", "auto")
    .action(run(async (dir: string, o: Record<string, string>) => (await import("./sample")).runSample(dir, o)));

  program
    .command("fid")
    .description(
      "sample quality: Fréchet distance of each run's samples to held-out images in gm's classifier features, with the real-image floor",
    )
    .argument("<runs...>", "run directories")
    .option("--data <dataset>", "mnist or fashion_mnist", "mnist")
    .option("-n, --n <count>", "samples per run (and training images for the floor)", "1000")
    .option("--seed <n>", "sampling seed", "1")
    .option("--json", "JSON output")
    .option("--backend <name>", "auto | tensorflow-gpu | tensorflow | wasm | cpu", "auto")
    .action(run(async (dirs: string[], o: Record<string, string>) => (await import("./fid")).runFid(dirs, o)));

  program
    .command("score")
    .description("held-out negative log-likelihood (nats, bits/dim) and per-image log-likelihoods")
    .argument("<run>", "run directory")
    .option("--data <source>", "data to score (default: the run's held-out split)")
    .option("--json", "JSON output")
    .option("--per-image", "per-image log-likelihoods (least likely first)")
    .option("--samples <K>", "importance samples of a latent model's IWAE estimate", "1000")
    .option("--seed <n>", "seed of a GAN's generator samples that its critic scores", "1")
    .option("--backend <name>", "auto | tensorflow-gpu | tensorflow | wasm | cpu", "auto")
    .action(run(async (dir: string, o: Record<string, string>) => (await import("./score")).runScore(dir, o)));

  program
    .command("embed")
    .description(
      "codes of the data through a latent-variable model: CSV/JSON, a linear probe beside pixels and a random projection, a latent scatter",
    )
    .argument("<run>", "run directory")
    .option("--data <source>", "data to embed (default: the run's held-out split)")
    .option("-o, --out <file>", "codes.csv or codes.json: one row per example (z1 … zd, label)")
    .option(
      "--probe",
      "linear softmax probe: train split → test accuracy, on codes, raw pixels and a random projection",
    )
    .option("--plot <png>", "scatter of the codes coloured by label (PCA to 2-D when d > 2)")
    .option("--limit <n>", "at most n examples per split")
    .option("--json", "JSON output (without -o, it holds the codes: codes, labels)")
    .option("--backend <name>", "auto | tensorflow-gpu | tensorflow | wasm | cpu", "auto")
    .action(run(async (dir: string, o: Record<string, string>) => (await import("./embed")).runEmbed(dir, o)));

  program
    .command("anomaly")
    .description(
      "anomaly detection with the model's score: AUROC, AUPRC and FPR at 95 % TPR of a normal vs an anomalous set",
    )
    .argument("<run>", "run directory")
    .option("--normal <source>", "normal examples (default: the run's held-out split)")
    .option("--anomalous <source>", "anomalous examples: a data source or path, fashion_mnist, noise or inverted")
    .option("--samples <K>", "importance samples of a VAE's IWAE estimate", "100")
    .option("--limit <n>", "at most n examples of each set")
    .option("--plot <png>", "histograms of the two sets' scores")
    .option("--json", "JSON output")
    .option("--backend <name>", "auto | tensorflow-gpu | tensorflow | wasm | cpu", "auto")
    .action(run(async (dir: string, o: Record<string, string>) => (await import("./anomaly")).runAnomaly(dir, o)));

  program
    .command("verify")
    .description(
      "check the model's own network: densities normalize, the chain rule is consistent, assumptions hold, samples match",
    )
    .argument("<file>", ".gm file")
    .option("--model <name>", "only this model")
    .option("--runs <n>", "random parameter draws per property", "20")
    .option("--seed <n>", "fast-check seed")
    .option("--backend <name>", "auto | tensorflow-gpu | tensorflow | wasm | cpu", "auto")
    .action(run(async (file: string, o: Record<string, string>) => (await import("./verify")).runVerify(file, o)));

  program
    .command("backends")
    .description("list the TensorFlow.js backends and whether each can run here")
    .option("--json", "JSON output")
    .action(run(async (o: { json?: boolean }) => (await import("./backends")).runBackends(o)));

  program
    .command("playground")
    .description(
      "serve the browser playground on 127.0.0.1: edit a .gm file and see its factorization, counts, graph, checks and queries live",
    )
    .argument("[file]", ".gm file to open in the editor")
    .option("--port <n>", "port (0 picks a free one)", "8080")
    .option("--open", "open the page in the system's browser")
    .action(
      run(async (file: string | undefined, o: { port?: string; open?: boolean }) =>
        (await import("./playground")).runPlayground(file, o),
      ),
    );

  return program;
}

/** Entry point: returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // `gm` alone is a usage error: print the help where errors go, and exit 2.
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help")
        return EXIT.ok;
      return EXIT.usage;
    }
    // Every error gm raises on purpose is a GmError: `error[CODE]: message`, `hint: …`, its exit status.
    if (e instanceof GmError) {
      // With --json, the error is JSON on stdout too (`{"error": {code, message, hint, file}}`), so a
      // script reading stdout always gets something it can parse.
      if (argv.includes("--json")) process.stdout.write(`${JSON.stringify({ error: gmErrorJson(e) }, null, 2)}\n`);
      return reportGmError(e);
    }
    // Anything else is a bug in gm.
    process.stderr.write(internalErrorText(e));
    return EXIT.internal;
  }
}
