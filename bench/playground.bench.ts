/**
 * Keystroke → update in the playground, per example, in Debian's Chromium (headless, through
 * playwright-core), served by the real `gm playground` from dist/ (run `npm run build` first).
 *
 *     node --import tsx bench/playground.bench.ts [--keys 20] [--screenshots]
 *
 * For each example it types real keys into the editor and reads the page's own timings
 * (`window.gm.timings`, measured from the input event's time stamp):
 * - `views`: keystroke → count, diagnostics, checks, factorization, query, pixels and derivation
 *   updated (the compile included), and `frame`: keystroke → the next frame painted;
 * - `graph`: keystroke → Graphviz layout drawn, for keys that change the graph (a digit of the
 *   first `const` typed over and back); keys that leave the DOT unchanged skip the layout.
 * Prints a markdown table (median and max per example) and writes bench/out/playground.json.
 * `--screenshots` also writes docs/playground-pixel.png and docs/playground-check.png
 * (`--screenshots-only`: only those).
 * A figure, never an assertion.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.GM_CHROMIUM ?? "/usr/bin/chromium";
const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const KEYS = arg("keys", 20);

interface Timing {
  example: string;
  views: number;
  compile: number;
  wait: number;
  frame?: number;
  checks?: number;
  rest?: number;
  graph?: number | null;
}

declare const window: { gm: { timings: Timing[]; settled: () => boolean } };

function stats(xs: number[]): { median: number; max: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN,
    max: s.length ? s[s.length - 1] : NaN,
    n: s.length,
  };
}

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [join(ROOT, "dist", "cli", "main.js"), "playground", "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const url = await new Promise<string>((ok, fail) => {
    child.stdout.on("data", (d) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) ok(m[0]);
    });
    child.on("close", (code) => fail(new Error(`gm playground exited ${code}: run npm run build first`)));
  });
  return { url, stop: () => child.kill("SIGINT") };
}

/** Types one key (or Backspace) at `offset` and waits until every view, the graph included, shows it. */
async function key(page: Page, offset: number, text: string | null): Promise<Timing> {
  const n = await page.evaluate(() => window.gm.timings.length);
  await page.$eval(
    "#source",
    (t, o) => (t as unknown as { setSelectionRange(a: number, b: number): void }).setSelectionRange(o, o),
    offset,
  );
  if (text === null) await page.keyboard.press("Backspace");
  else await page.keyboard.type(text);
  await page.waitForFunction(
    (k) => window.gm.timings.length > k && window.gm.settled() && window.gm.timings[k].frame !== undefined,
    n,
    { timeout: 30_000 },
  );
  return page.evaluate((k) => window.gm.timings[k], n);
}

async function main(): Promise<void> {
  const server = await startServer();
  process.on("exit", server.stop);
  try {
    await measure(server.url);
  } finally {
    server.stop();
  }
}

async function measure(url: string): Promise<void> {
  const server = { url };
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const examples = process.argv.includes("--screenshots-only")
    ? []
    : readdirSync(join(ROOT, "examples"))
        .filter((f) => f.endsWith(".gm"))
        .sort()
        .map((f) => f.replace(/\.gm$/, ""));
  const rows: Array<Record<string, unknown>> = [];
  for (const name of examples) {
    await page.goto(`${server.url}#example=${name}`);
    await page.waitForSelector("body[data-ready]");
    await page.waitForSelector("#graph svg");
    await page.focus("#source");
    const text = readFileSync(join(ROOT, "examples", `${name}.gm`), "utf8");
    // Keys that leave the graph alone: a space typed at the end of the first model line, then removed.
    const end = text.indexOf("\n", text.indexOf("model "));
    const plain: Timing[] = [];
    for (let i = 0; i < KEYS; i++) plain.push(await key(page, i % 2 ? end + 1 : end, i % 2 ? null : " "));
    // Keys that change the graph: the last digit of the first `const`, typed over and back.
    const c = /const \w+ = (\d+)/.exec(text);
    const changing: Timing[] = [];
    if (c) {
      const at = c.index + c[0].length; // just after the number
      const d = Number(c[1].slice(-1));
      for (let i = 0; i < Math.ceil(KEYS / 2); i++) {
        const digit = i % 2 ? d : d === 9 ? 8 : d + 1;
        await key(page, at, null);
        changing.push(await key(page, at - 1, String(digit)));
      }
    }
    const all = [...plain, ...changing];
    const views = stats(all.map((t) => t.views));
    const frame = stats(all.map((t) => t.frame!));
    const compile = stats(all.map((t) => t.compile));
    const rest = stats(all.map((t) => t.rest!));
    const wait = stats(all.map((t) => t.wait));
    const checks = stats(all.map((t) => t.checks).filter((x): x is number => x !== undefined));
    const graph = stats(changing.map((t) => t.graph).filter((x): x is number => typeof x === "number"));
    rows.push({ example: name, keys: all.length, wait, compile, views, frame, checks, rest, graph });
    process.stderr.write(
      `${name}: compile ${compile.median.toFixed(1)}/${compile.max.toFixed(1)} ms, views ${views.median.toFixed(1)}/${views.max.toFixed(1)} ms, graph ${graph.median.toFixed(1)}/${graph.max.toFixed(1)} ms (${graph.n} layouts)\n`,
    );
  }
  const f = (s: { median: number; max: number }) =>
    Number.isNaN(s.median) ? "—" : `${s.median.toFixed(1)} / ${s.max.toFixed(1)}`;
  const lines = [
    `Chromium ${browser.version()}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, load ${loadavg()[0].toFixed(2)}; ${KEYS} plain keys + ${Math.ceil(KEYS / 2)} graph-changing keys per example; ms, median / max`,
    "",
    "| example | wait before compile | compile | keystroke → count, diagnostics | → painted | → check verdicts (deferred) | → factorization, query, pixels, steps | → graph (graph-changing keys) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.example} | ${f(r.wait as never)} | ${f(r.compile as never)} | ${f(r.views as never)} | ${f(r.frame as never)} | ${f(r.checks as never)} | ${f(r.rest as never)} | ${f(r.graph as never)} |`,
    ),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  mkdirSync(join(ROOT, "bench", "out"), { recursive: true });
  writeFileSync(
    join(ROOT, "bench", "out", "playground.json"),
    JSON.stringify({ chromium: browser.version(), keys: KEYS, rows }, null, 2),
  );
  process.stdout.write(`${JSON.stringify({ bench: "playground", rows })}\n`);

  if (process.argv.includes("--screenshots") || process.argv.includes("--screenshots-only"))
    await screenshots(page, server.url);
  await browser.close();
}

/** The two pictures in docs/: a 2-D causal neighbourhood with a pixel selected; a failing check with its trail. */
async function screenshots(page: Page, url: string): Promise<void> {
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`${url}#example=08-causal-neighbourhood`);
  await page.waitForSelector("#graph svg");
  const fold = () => page.$eval("#about", (d) => ((d as unknown as { open: boolean }).open = false)); // the views matter here
  await fold();
  await page.click('#pixels rect[data-r="5"][data-c="5"]');
  await page.fill("#query", "x[5, 5] ⊥ x[4, 6] | x[4, 5], x[5, 4], x[5, 6]");
  await page.screenshot({ path: join(ROOT, "docs", "playground-pixel.png"), fullPage: true });
  await page.goto(`${url}#example=07-markov`);
  await page.waitForFunction(() => window.gm.settled());
  await fold();
  const at = await page.$eval("#source", (t) =>
    (t as unknown as { value: string }).value.indexOf("  check x[n] not ⊥ x[1]\n"),
  );
  await page.focus("#source");
  await page.$eval(
    "#source",
    (t, o) => (t as unknown as { setSelectionRange(a: number, b: number): void }).setSelectionRange(o, o),
    at,
  );
  await page.keyboard.type("  check x[n] ⊥ x[1]\n");
  await page.waitForSelector("#checks li.fail");
  await page.click("#checks li.fail");
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(ROOT, "docs", "playground-check.png"), fullPage: true });
  process.stderr.write("wrote docs/playground-pixel.png and docs/playground-check.png\n");
}

await main();
