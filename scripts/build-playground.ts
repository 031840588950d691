/**
 * Builds the browser playground into dist/playground/: playground/main.ts bundled with esbuild
 * (gm's front end and compiler from src/index.ts, KaTeX with its CSS and fonts), the Web Worker
 * playground/graph-worker.ts as graph-worker.js beside it (Graphviz as WebAssembly inlined by
 * @hpcc-js/wasm-graphviz; a classic script, so every browser can start it from a plain file URL
 * of the page's own server), the lecture's examples embedded as the
 * virtual module `gm:examples`, and index.html. Nothing is fetched at run time from anywhere
 * but the page's own server.
 *
 *     node --import tsx scripts/build-playground.ts [--dev]
 *
 * Prints the bundle's size, raw and gzip.
 */
import { build, type BuildOptions, type Plugin } from "esbuild";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "dist", "playground");

/** The examples as `{ name, text }`, in file order. */
function examples(): Array<{ name: string; text: string }> {
  const dir = join(ROOT, "examples");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".gm"))
    .sort()
    .map((f) => ({ name: f.replace(/\.gm$/, ""), text: readFileSync(join(dir, f), "utf8") }));
}

/** `import examples from "gm:examples"` resolves to the examples folder, read at build time. */
const examplesPlugin: Plugin = {
  name: "gm-examples",
  setup(b) {
    b.onResolve({ filter: /^gm:examples$/ }, () => ({ path: "examples", namespace: "gm-examples" }));
    b.onLoad({ filter: /.*/, namespace: "gm-examples" }, () => ({
      contents: `export default ${JSON.stringify(examples())};`,
      loader: "js",
      watchFiles: readdirSync(join(ROOT, "examples")).map((f) => join(ROOT, "examples", f)),
    }));
  },
};

/** Whether dist/playground is newer than everything it is built from (the page, the examples, src/). */
export function playgroundUpToDate(): boolean {
  const built = join(OUT, "main.js");
  if (!existsSync(built) || !existsSync(join(OUT, "index.html")) || !existsSync(join(OUT, "graph-worker.js")))
    return false;
  const at = statSync(built).mtimeMs;
  const inputs = [
    join(ROOT, "playground"),
    join(ROOT, "examples"),
    join(ROOT, "src"),
    join(ROOT, "scripts", "build-playground.ts"),
  ];
  return inputs.every((p) => (statSync(p).isDirectory() ? files(p) : [p]).every((f) => statSync(f).mtimeMs < at));
}

/** Digits embedded for training in the page: this many of each class, interleaved 0, 1, …, 9, 0, … */
const DIGITS_PER_CLASS = 40;

/**
 * `import digits from "gm:digits"`: MNIST digits from the `mnist` package, binarized at 0.5 and
 * packed 8 pixels a byte (784 pixels = 98 bytes each), in base64 — 400 digits in 52 KiB.
 */
const digitsPlugin: Plugin = {
  name: "gm-digits",
  setup(b) {
    b.onResolve({ filter: /^gm:digits$/ }, () => ({ path: "digits", namespace: "gm-digits" }));
    b.onLoad({ filter: /.*/, namespace: "gm-digits" }, () => {
      const dir = join(dirname(createRequire(import.meta.url).resolve("mnist/package.json")), "src", "digits");
      const byClass = Array.from(
        { length: 10 },
        (_, d) => (JSON.parse(readFileSync(join(dir, `${d}.json`), "utf8")) as { data: number[] }).data,
      );
      const bytes = Buffer.alloc(DIGITS_PER_CLASS * 10 * 98);
      let k = 0;
      for (let i = 0; i < DIGITS_PER_CLASS; i++)
        for (let d = 0; d < 10; d++, k++)
          for (let p = 0; p < 784; p++) if (byClass[d][i * 784 + p] > 0.5) bytes[k * 98 + (p >> 3)] |= 1 << (p & 7);
      return {
        contents: `export default ${JSON.stringify({ count: k, pixels: 784, base64: bytes.toString("base64") })};`,
        loader: "js",
      };
    });
  },
};

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/**
 * Builds dist/playground; returns the files written with their sizes. The page is built beside
 * it and swapped in by two renames, so a server reading the old page never sees a half-built one.
 */
export async function buildPlayground(
  opts: { dev?: boolean } = {},
): Promise<Array<{ file: string; raw: number; gzip: number }>> {
  const tmp = `${OUT}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const common: BuildOptions = {
    outdir: tmp,
    bundle: true,
    platform: "browser",
    target: ["chrome110", "firefox110", "safari16"],
    minify: !opts.dev,
    sourcemap: opts.dev ? "inline" : false,
    legalComments: "none",
    logLevel: "warning",
  };
  await build({ ...common, entryPoints: [join(ROOT, "playground", "graph-worker.ts")], format: "iife" });
  await build({
    ...common,
    entryPoints: [join(ROOT, "playground", "main.ts")],
    format: "esm",
    // KaTeX's fonts: Chromium, Firefox and Safari all read woff2, so the older formats stay out.
    loader: { ".woff2": "file", ".woff": "empty", ".ttf": "empty" },
    assetNames: "fonts/[name]",
    plugins: [examplesPlugin, digitsPlugin],
  });
  // The woff/ttf fallbacks left as `url()` by the empty loader: drop them from every @font-face.
  const css = join(tmp, "main.css");
  writeFileSync(css, readFileSync(css, "utf8").replace(/,url\(\) format\("(?:woff|truetype)"\)/g, ""));
  copyFileSync(join(ROOT, "playground", "index.html"), join(tmp, "index.html"));
  const old = `${OUT}.old-${process.pid}`;
  if (existsSync(OUT)) renameSync(OUT, old);
  renameSync(tmp, OUT);
  rmSync(old, { recursive: true, force: true });
  return files(OUT).map((f) => {
    const data = readFileSync(f);
    return { file: relative(OUT, f), raw: data.length, gzip: gzipSync(data, { level: 9 }).length };
  });
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const written = await buildPlayground({ dev: process.argv.includes("--dev") });
  const total = written.reduce((a, f) => ({ raw: a.raw + f.raw, gzip: a.gzip + f.gzip }), { raw: 0, gzip: 0 });
  const main = written.filter((f) => !f.file.startsWith("fonts"));
  for (const f of main)
    process.stdout.write(`  ${f.file.padEnd(16)} ${kb(f.raw).padStart(11)}  gzip ${kb(f.gzip).padStart(10)}\n`);
  const fonts = written.filter((f) => f.file.startsWith("fonts"));
  process.stdout.write(`  fonts/ (${fonts.length} woff2) ${kb(fonts.reduce((a, f) => a + f.raw, 0))}\n`);
  process.stdout.write(`dist/playground: ${kb(total.raw)} raw, ${kb(total.gzip)} gzip\n`);
}
