/**
 * The built `gm graph` in child processes, as users run it, on the models that used to hang:
 * a 64-element chain (a complete DAG of 2,016 edges) was laid out element by element and ran past
 * a minute in Graphviz; a 1000×1000 chain's drawing by variable listed its 5·10¹¹ edges. Now the
 * first is drawn by variable (with `--elements` the DOT still lists every edge), the second's DOT
 * is a few lines, and `--elements` on a model too large for it is a usage error (U0100, exit 2).
 * Timeouts are generous (60 s per command): these tests check the outcome, never the time.
 *
 * "Built": the CLI bundle of `npm run build` (tsup.config.ts's options, its `cli/main` entry),
 * written to node_modules/.cache so that a concurrent `npm run build` never trips over it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, runGmSync } from "./build-cli";

const root = resolve(import.meta.dirname, "../..");
const outDir = join(root, "node_modules", ".cache", "gm-graph-test");
const GM = join(outDir, "cli", "main.js");
let dir: string;

/** Runs the built gm to the end (killed after 60 s). */
const gm = (args: string[]) => runGmSync(GM, args, dir);

const chainFile = (name: string, shape: string) => {
  const path = join(dir, `${name}.gm`);
  writeFileSync(path, `model M {\n  x : Bernoulli[${shape}]\n  p(x) = chain\n}\n`);
  return path;
};
const arrows = (dot: string) => (dot.match(/ -> /g) ?? []).length;

beforeAll(async () => {
  await buildCli(outDir);
  dir = mkdtempSync(join(tmpdir(), "gm-graph-"));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("gm graph (built, child process)", () => {
  it("draws a 64-element chain by variable as SVG", () => {
    const out = join(dir, "c64.svg");
    const r = gm(["graph", chainFile("c64", "64"), "-o", out]);
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe(`wrote ${out}\n`);
    expect(r.code).toBe(0);
    const svg = readFileSync(out, "utf8");
    expect(svg).toContain("<svg");
    expect(svg).toContain("64 elements, 2,016 edges");
    expect(svg).toContain("x : Bernoulli[64]");
    expect(svg).not.toContain("x[1]");
  }, 90_000);

  it("lists every element and edge of the 64-element chain with --elements --format dot", () => {
    const r = gm(["graph", chainFile("c64", "64"), "--elements", "--format", "dot"]);
    expect(r.code).toBe(0);
    expect(arrows(r.stdout)).toBe((64 * 63) / 2);
    expect(r.stdout).toContain('n63 [label="x[64]"];');
    expect(r.stdout).toContain("splines=line;");
  }, 90_000);

  it("lays out the 64-element chain element by element when asked, with a note on the cost", () => {
    const out = join(dir, "c64-elements.svg");
    const r = gm(["graph", chainFile("c64", "64"), "--elements", "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "note: drawing 64 elements and 2,016 edges (layout work 43,744) one by one, over the budget " +
        "(100 elements, 400 edges, layout work 12,000): the layout may take a while\n" +
        `wrote ${out}\n`,
    );
    const svg = readFileSync(out, "utf8");
    expect(svg).toContain(">x[1]<");
    expect(svg).toContain(">x[64]<");
  }, 120_000);

  it("writes a few lines of DOT for a 1000×1000 chain", () => {
    const r = gm(["graph", chainFile("m1000", "1000, 1000"), "--format", "dot"]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeLessThan(600);
    expect(r.stdout).toContain("1,000,000 elements, 499,999,500,000 edges");
  }, 90_000);

  it("refuses --elements on a model with too many edges, in one line with a hint", () => {
    const r = gm(["graph", chainFile("m200", "200, 200"), "--elements", "--format", "dot"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "error[U0100]: model M has 799,980,000 edges: too many to draw element by element (at most 2,000,000)\n" +
        "hint: leave out --elements: large models are drawn with one node per variable\n",
    );
  }, 90_000);

  it("refuses to lay out a 28×28 chain element by element, pointing to --format dot", () => {
    const r = gm(["graph", chainFile("c784", "28, 28"), "--elements", "-o", join(dir, "c784.svg")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error\[U0100\]: model M is too large to lay out element by element: 784 elements/);
    expect(r.stderr).toContain("hint: --format dot writes the element graph without laying it out");
  }, 90_000);

  it("says in the help what --elements costs", () => {
    const r = gm(["graph", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, " ")).toContain("Graphviz's layout time grows with the ranks the edges cross");
  }, 90_000);
});
