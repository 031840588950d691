/**
 * The `gm` command line: exit codes (0 clean, 1 diagnostics, 2 usage), rendered and JSON
 * diagnostics, colour only on a TTY and never with NO_COLOR, internal errors without a stack,
 * `fmt --check/--write`, `params --json` (exact totals as decimal strings), `query`, `factor`
 * and `graph` (DOT, SVG, PNG).
 *
 * Most tests run `main(argv)` in-process and capture stdout/stderr; a few spawn the real
 * executable (`node --import tsx src/cli/main.ts …`) to check what a shell sees. Internal errors
 * are simulated in internal-error.test.ts (it mocks a module, so it needs its own module registry).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/program.js";
import { REPO } from "../dsl/helpers.js";

// ---------------------------------------------------------------------------------------------
// Files

const MARKOV = `model Markov {
  const n = 8
  x : Bernoulli[n]
  p(x) = chain
  assume for i in 3..n: x[i] ⊥ x[1..i-2] | x[i-1]
  check params == 2*n - 1
  check x[5] ⊥ x[1] | x[3]
}
`;

/** Two errors: a misspelled distribution and a misspelled family. */
const BROKEN = `model Coin {
  x : Bernouli
  p(x) = chian
}
`;

const FAILING_CHECK = `model Chain {
  const n = 8
  x : Bernoulli[n]
  p(x) = markov(k = 1)
  check x[5] ⊥ x[1]
}
`;

const DIGITS = `model Digits {
  x : Bernoulli[28, 28]
  p(x) = chain
}
`;

const CAUSAL = `model Causal {
  x : Bernoulli[28, 28]
  for r in 1..28, c in 1..28: p(x[r, c] | x[r-1, c-1], x[r-1, c], x[r-1, c+1], x[r, c-1]) = table
}
`;

const UNFORMATTED = `model   Coin{
x:Bernoulli
    p( x )=table
}
`;

let dir: string;
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gm-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Running main() in-process

interface Run {
  code: number;
  out: string;
  err: string;
}

const text = (chunk: unknown) =>
  typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");

/** Runs `gm ARGV` in-process, capturing what it writes. */
async function gm(argv: string[], run: (argv: string[]) => Promise<number> = main): Promise<Run> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown) => {
    out += text(chunk);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk: unknown) => {
    err += text(chunk);
    return true;
  });
  try {
    const code = await run(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** Runs `fn` with stdout and stderr claiming to be terminals (or not) and NO_COLOR as given. */
async function withTerminal<T>(tty: boolean, noColor: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = { out: process.stdout.isTTY, err: process.stderr.isTTY, no: process.env.NO_COLOR };
  Object.defineProperty(process.stdout, "isTTY", { value: tty, configurable: true, writable: true });
  Object.defineProperty(process.stderr, "isTTY", { value: tty, configurable: true, writable: true });
  if (noColor === undefined) delete process.env.NO_COLOR;
  else process.env.NO_COLOR = noColor;
  try {
    return await fn();
  } finally {
    Object.defineProperty(process.stdout, "isTTY", { value: saved.out, configurable: true, writable: true });
    Object.defineProperty(process.stderr, "isTTY", { value: saved.err, configurable: true, writable: true });
    if (saved.no === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = saved.no;
  }
}

/** Runs the real executable. */
function spawnGm(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "src", "cli", "main.ts"), ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[/;

// ---------------------------------------------------------------------------------------------

describe("gm check", () => {
  it("exits 0 on a clean file and says how many checks passed", async () => {
    const r = await gm(["check", file("markov.gm", MARKOV)]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(r.out).toMatch(/^ok .*markov\.gm: 1 model, 2 checks passed\n$/);
  });

  it("exits 1 on diagnostics, rendered as FILE:LINE:COL: error[CODE]: with the line and carets", async () => {
    const path = file("broken.gm", BROKEN);
    const r = await gm(["check", path]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${path}:2:7: error[E0204]: unknown distribution \`Bernouli\`\n2 |   x : Bernouli\n  |       ^^^^^^^^\nhint: did you mean \`Bernoulli\`?`,
    );
    expect(r.err).toContain(`${path}:3:10: error[E0205]: unknown family \`chian\``);
    expect(r.err).toMatch(/\n2 errors in 1 of 1 file\n$/);
    expect(r.out).toBe("");
  });

  it("exits 1 on a failed check, with the active trail", async () => {
    const path = file("failing.gm", FAILING_CHECK);
    const r = await gm(["check", path]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path}:5:9: error[E0502]: check failed: x[5] ⊥ x[1] does not hold`);
    expect(r.err).toContain("5 |   check x[5] ⊥ x[1]\n  |         ^^^^^^^^^^^\n");
    expect(r.err).toContain("note: active trail: x[5] ← x[4] ← x[3] ← x[2] ← x[1]");
  });

  it("exits 2 on a missing file or an unknown flag, before checking anything", async () => {
    const missing = await gm(["check", join(dir, "nope.gm")]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`no such file: ${join(dir, "nope.gm")}`);
    const both = await gm(["check", file("ok.gm", MARKOV), join(dir, "nope.gm")]);
    expect(both.code).toBe(2);
    expect(both.out).toBe("");
    const flag = await gm(["check", "--bogus", file("ok.gm", MARKOV)]);
    expect(flag.code).toBe(2);
    expect(flag.err).toMatch(/unknown option '--bogus'/);
    expect((await gm(["frobnicate"])).code).toBe(2);
  });

  it("--json gives parseable diagnostics with code, line and column, one shape {ok, files} for any number of files", async () => {
    const r = await gm(["check", "--json", file("broken.gm", BROKEN)]);
    expect(r.code).toBe(1);
    const all = JSON.parse(r.out) as { ok: boolean; files: unknown[] };
    expect(Object.keys(all)).toEqual(["ok", "files"]);
    expect(all.ok).toBe(false);
    expect(all.files).toHaveLength(1);
    const j = all.files[0] as {
      ok: boolean;
      diagnostics: Array<{
        code: string;
        line: number;
        column: number;
        endLine: number;
        endColumn: number;
        message: string;
        hint?: string;
      }>;
    };
    expect(j.ok).toBe(false);
    expect(j.diagnostics.map((d) => [d.code, d.line, d.column, d.endColumn])).toEqual([
      ["E0204", 2, 7, 15],
      ["E0205", 3, 10, 15],
    ]);
    expect(j.diagnostics[0].hint).toBe("did you mean `Bernoulli`?");
    expect(r.out).not.toMatch(ANSI);
    const ok = JSON.parse((await gm(["check", "--json", file("markov.gm", MARKOV)])).out);
    expect(ok).toMatchObject({ ok: true, files: [{ ok: true, models: 1, checks: 2, diagnostics: [] }] });
    // Several files: the same shape, one entry each.
    const many = JSON.parse(
      (await gm(["check", "--json", file("markov.gm", MARKOV), file("broken.gm", BROKEN)])).out,
    ) as { ok: boolean; files: Array<{ ok: boolean }> };
    expect(many.ok).toBe(false);
    expect(many.files.map((x) => x.ok)).toEqual([true, false]);
  });

  it("--json turns a usage error (a missing file) into {error} on stdout too, exit 2", async () => {
    for (const args of [
      ["check", "--json", "nope.gm"],
      ["params", "--json", "nope.gm"],
      ["query", "--json", "nope.gm", "a ⊥ b"],
    ]) {
      const r = await gm(args);
      expect(r.code).toBe(2);
      const j = JSON.parse(r.out) as { error: { code: string; message: string; hint: string | null } };
      expect(Object.keys(j)).toEqual(["error"]);
      expect(j.error.code).toBe("U0101");
      expect(j.error.message).toContain("nope.gm");
      expect(r.err).toContain("nope.gm");
    }
  });
});

describe("colour", () => {
  const broken = () => file("broken.gm", BROKEN);

  it("appears on a terminal (so the next tests mean something)", async () => {
    const r = await withTerminal(true, undefined, () => gm(["check", broken()]));
    expect(r.err).toMatch(ANSI);
  });

  it("never appears when stdout and stderr are not terminals", async () => {
    const r = await withTerminal(false, undefined, () => gm(["check", broken()]));
    expect(r.err + r.out).not.toMatch(ANSI);
    const ok = await withTerminal(false, undefined, () => gm(["check", file("markov.gm", MARKOV)]));
    expect(ok.out).not.toMatch(ANSI);
  });

  it("never appears with NO_COLOR set, even on a terminal", async () => {
    for (const cmd of [
      ["check", broken()],
      ["check", file("markov.gm", MARKOV)],
      ["params", file("markov.gm", MARKOV)],
      ["query", file("markov.gm", MARKOV), "x[5] ⊥ x[1]"],
    ]) {
      const r = await withTerminal(true, "1", () => gm(cmd));
      expect(r.err + r.out, cmd.join(" ")).not.toMatch(ANSI);
    }
  });

  it("never appears through a pipe, even with FORCE_COLOR (child process)", async () => {
    const r = await spawnGm(["check", file("broken.gm", BROKEN)], { FORCE_COLOR: "1" });
    expect(r.code).toBe(1);
    expect(r.err).toContain("error[E0204]");
    expect(r.err + r.out).not.toMatch(ANSI);
  });
});

describe("gm fmt", () => {
  it("--check exits 0 when formatted, 1 when not, 1 on syntax errors", async () => {
    const ugly = file("ugly.gm", UNFORMATTED);
    const bad = await gm(["fmt", "--check", ugly]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`would reformat ${ugly}`);
    const formatted = (await gm(["fmt", ugly])).out;
    const pretty = file("pretty.gm", formatted);
    expect((await gm(["fmt", "--check", pretty])).code).toBe(0);
    expect(readFileSync(ugly, "utf8")).toBe(UNFORMATTED); // --check never writes
    const broken = file("syntax.gm", "model A {\n  x : \n");
    expect((await gm(["fmt", "--check", broken])).code).toBe(1);
    expect((await gm(["fmt", "--check", "--write", pretty])).code).toBe(2);
  });

  it("--write rewrites the file atomically (a new file renamed over the old), and leaves a broken file alone", async () => {
    const path = file("write.gm", UNFORMATTED);
    const expected = (await gm(["fmt", path])).out;
    const inode = statSync(path).ino;
    const r = await gm(["fmt", "--write", path]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`formatted ${path}\n`);
    expect(readFileSync(path, "utf8")).toBe(expected);
    expect(statSync(path).ino).not.toBe(inode);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    // A second run has nothing to do and does not touch the file.
    const again = statSync(path).ino;
    expect((await gm(["fmt", "--write", path])).out).toBe("");
    expect(statSync(path).ino).toBe(again);
    const broken = file("broken-syntax.gm", "model A {\n  x : \n");
    expect((await gm(["fmt", "--write", broken])).code).toBe(1);
    expect(readFileSync(broken, "utf8")).toBe("model A {\n  x : \n");
  });
});

describe("gm params", () => {
  it("--json is {models: [{name, total, factors}], diagnostics} with the exact total as a decimal string", async () => {
    const r = await gm(["params", "--json", file("markov.gm", MARKOV)]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      models: Array<{ name: string; total: string; factors: Array<{ group: string; params: string }> }>;
    };
    expect(Object.keys(j)).toEqual(["models", "diagnostics"]);
    expect(j.models).toHaveLength(1);
    expect(j.models[0]).toMatchObject({ name: "Markov", total: "15" });
    expect(j.models[0].factors.map((f) => [f.group, f.params])).toEqual([["p(x) = chain", "15"]]);
    // Every factor has every key (closedForm null where there is none).
    for (const f of j.models[0].factors)
      expect(Object.keys(f)).toEqual(["role", "group", "targets", "parents", "shape", "params", "closedForm", "line"]);
  });

  it("the 28×28 chain totals 2^784 − 1 exactly", async () => {
    const r = await gm(["params", "--json", file("digits.gm", DIGITS)]);
    const j = JSON.parse(r.out) as { models: Array<{ total: string; factors: Array<{ params: string }> }> };
    expect(typeof j.models[0].total).toBe("string");
    expect(/^\d+$/.test(j.models[0].total)).toBe(true);
    expect(BigInt(j.models[0].total)).toBe(2n ** 784n - 1n);
    expect(j.models[0].total).toBe((2n ** 784n - 1n).toString());
    // The text report shows it in full and in scientific notation.
    const t = await gm(["params", file("digits.gm", DIGITS)]);
    expect(t.out).toContain("= 1.0174e+236 (237 digits)");
  });

  it("--json on a broken file gives the same shape, no models and the diagnostics, and exits 1", async () => {
    const r = await gm(["params", "--json", file("broken.gm", BROKEN)]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ models: [] });
    expect((JSON.parse(r.out) as { diagnostics: Array<{ code: string }> }).diagnostics.map((d) => d.code)).toEqual([
      "E0204",
      "E0205",
    ]);
  });
});

describe("gm query", () => {
  it("answers independent, or dependent with an active trail", async () => {
    const path = file("markov.gm", MARKOV);
    const ind = await gm(["query", path, "x[5] ⊥ x[1] | x[3]"]);
    expect(ind.code).toBe(0);
    expect(ind.out).toBe("independent: x[5] ⊥ x[1] | x[3]\nevery trail between them is blocked (d-separated)\n");
    const dep = await gm(["query", path, "x[5] _|_ x[1]"]);
    expect(dep.code).toBe(0);
    expect(dep.out).toBe("dependent: x[5] ⊥ x[1] does not hold\nactive trail: x[5] ← x[4] ← x[3] ← x[2] ← x[1]\n");
    const j = JSON.parse((await gm(["query", "--json", path, "x[1..2] ⊥ x[8] | x[4]"])).out);
    // One shape for one model or several: {answers, skipped, diagnostics}.
    expect(j).toEqual({
      answers: [{ model: "Markov", query: "x[1..2] ⊥ x[8] | x[4]", answer: "independent" }],
      skipped: [],
      diagnostics: [],
    });
    const jd = JSON.parse((await gm(["query", "--json", path, "x[2] ⊥ x[4]"])).out);
    expect(jd).toEqual({
      answers: [{ model: "Markov", query: "x[2] ⊥ x[4]", answer: "dependent", trail: "x[2] → x[3] → x[4]" }],
      skipped: [],
      diagnostics: [],
    });
    // A query that no model answers, and a file that does not compile: the same keys.
    const bad = JSON.parse((await gm(["query", "--json", path, "x[9] ⊥ x[1]"])).out);
    expect(Object.keys(bad)).toEqual(["answers", "skipped", "diagnostics"]);
    expect(bad.answers).toEqual([]);
    const broken = JSON.parse((await gm(["query", "--json", file("broken.gm", BROKEN), "x[2] ⊥ x[1]"])).out);
    expect(Object.keys(broken)).toEqual(["answers", "skipped", "diagnostics"]);
  });

  it("reports a bad query as a diagnostic and exits 1", async () => {
    const r = await gm(["query", file("markov.gm", MARKOV), "x[9] ⊥ x[1]"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error[E0302]: index 9 is outside `x` (1..8)");
  });
});

describe("gm factor", () => {
  it("prints the Markov chain derived by assume as p(x) = p(x₁) ∏_{i=2}^{n} p(x_i | x_{i−1})", async () => {
    const r = await gm(["factor", file("markov.gm", MARKOV)]);
    expect(r.code).toBe(0);
    expect(r.out.split("\n")).toContain("p(x) = p(x₁) ∏_{i=2}^{n} p(x_i | x_{i−1})");
  });
});

describe("gm graph", () => {
  it("--format dot prints a digraph", async () => {
    const r = await gm(["graph", "--format", "dot", file("markov.gm", MARKOV)]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^digraph "Markov" \{/);
    expect(r.out.trimEnd().endsWith("}")).toBe(true);
  });

  it("-o x.svg writes an SVG", async () => {
    const out = join(dir, "x.svg");
    const r = await gm(["graph", file("markov.gm", MARKOV), "-o", out]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(`wrote ${out}\n`);
    const svg = readFileSync(out, "utf8");
    expect(svg).toContain("<svg");
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  });

  it("--pixel 14,14 -o p.png writes a PNG", async () => {
    const out = join(dir, "p.png");
    const r = await gm(["graph", file("causal.gm", CAUSAL), "--pixel", "14,14", "-o", out]);
    expect(r.code).toBe(0);
    const bytes = readFileSync(out);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.length).toBeGreaterThan(100);
  });

  it("--pixel outside the image is a usage error", async () => {
    const r = await gm(["graph", file("causal.gm", CAUSAL), "--pixel", "29,1", "-o", join(dir, "q.png")]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("outside");
  });
});

describe("the executable (child process)", () => {
  it("exit codes 0, 1 and 2 reach the shell", async () => {
    const [ok, bad, missing] = await Promise.all([
      spawnGm(["check", file("markov.gm", MARKOV)]),
      spawnGm(["check", file("broken.gm", BROKEN)]),
      spawnGm(["check", join(dir, "missing.gm")]),
    ]);
    expect(ok.code).toBe(0);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("broken.gm:2:7: error[E0204]: unknown distribution `Bernouli`");
    expect(missing.code).toBe(2);
    expect(missing.err).toBe(`error[U0101]: no such file: ${join(dir, "missing.gm")}\n`);
  });
});
