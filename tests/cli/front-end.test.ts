/**
 * The front-end commands as a shell runs them (`node --import tsx src/cli/main.ts …` in a child
 * process), on what issue 10 found them falling over on: `gm` alone, files that are not regular
 * files or are too large, an empty file, inputs that used to overflow the stack or run for
 * minutes, a query over several models, a scalar `mlp` target in `gm factor`. Each expected
 * output is written out in full (a golden), so a change of wording shows in the diff.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../dsl/helpers.js";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gm-front-end-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Runs the real executable; resolves with its exit code and output (no colour). */
function gm(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "src/cli/main.ts"), ...args], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe("gm reads only what it can read", () => {
  it("`gm` alone prints its help to stderr and exits 2", async () => {
    const r = await gm([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^Usage: gm \[options\] \[command\]\n/);
    expect(r.err).toContain("check [options] <files...>");
  });

  it("refuses /dev/zero at once, naming what it is", async () => {
    const r = await gm(["check", "/dev/zero"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "error[U0103]: cannot read /dev/zero: it is a character device, not a .gm file\nhint: gm reads regular files only\n",
    );
  });

  it("refuses a FIFO instead of blocking on it", async () => {
    const fifo = join(dir, "pipe.gm");
    if (spawnSync("mkfifo", [fifo]).status !== 0) return; // no mkfifo here: nothing to test
    const r = await gm(["check", fifo], 20_000);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `error[U0103]: cannot read ${fifo}: it is a FIFO (named pipe), not a .gm file\nhint: gm reads regular files only\n`,
    );
  });

  it("refuses a file over 16 MiB, naming its size and the limit", async () => {
    const big = join(dir, "big.gm");
    writeFileSync(big, "");
    truncateSync(big, 20 * 1024 * 1024); // sparse: no 20 MiB written
    const r = await gm(["check", big]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `error[U0103]: cannot read ${big}: it is 20 MiB; gm reads .gm files of at most 16 MiB\nhint: split it into several files\n`,
    );
  });

  it("an empty file is a diagnostic with a position, exit 1", async () => {
    const p = file("empty.gm", "");
    const r = await gm(["check", p]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `${p}:1:1: error[E0109]: this file is empty; a .gm file holds one or more \`model Name { … }\` blocks\n1 | \n  | ^\nhint: start with \`model Name { x : Bernoulli  p(x) = table }\`\n\n1 error in 1 of 1 file\n`,
    );
  });
});

describe("inputs that used to crash or run for minutes get a diagnostic (exit 1, never 70)", () => {
  const cases: Array<[string, string, string]> = [
    ["300 nested parentheses", `model M {\n  const n = ${"(".repeat(300)}1${")".repeat(300)}\n}\n`, "E0108"],
    ["2,000 unary minus signs", `model M {\n  const n = ${"-".repeat(2000)}1\n}\n`, "E0108"],
    ["3,000 chained powers", `model M {\n  const n = ${Array(3000).fill("1").join("^")}\n}\n`, "E0108"],
    ["(3^100000)^100000", "model M {\n  const n = (3^100000)^100000\n}\n", "E0305"],
    ["a chain over ten million elements", "model M { x : Bernoulli[10000000]  p(x) = chain }\n", "E0304"],
    [
      "a check over a joint table of a million elements",
      "model M { x : Bernoulli[1000, 1000]  p(x) = joint  check x[1, 1] ⊥ x[2, 2] }\n",
      "E0506",
    ],
  ];
  for (const cmd of ["check", "params", "factor"]) {
    it.each(cases)(`gm ${cmd}: %s`, async (_, text, code) => {
      const p = file(`case-${cmd}-${code}.gm`, text);
      const r = await gm([cmd, p]);
      expect(r.err).not.toContain("internal error");
      expect(r.code).toBe(cmd !== "check" && code === "E0506" ? 0 : 1);
      if (!(cmd !== "check" && code === "E0506")) expect(r.err).toContain(`error[${code}]`);
    });
  }

  it("a 10,000-term sum is evaluated", async () => {
    const p = file(
      "sum.gm",
      `model M {\n  const n = ${Array(10000).fill("1").join(" + ")}\n  x : Bernoulli[3]\n  p(x) = chain\n  check params == n - 9993\n}\n`,
    );
    const r = await gm(["check", p]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`ok ${p}: 1 model, 1 check passed\n`);
  });
});

describe("gm query over several models", () => {
  const TWO = `model A {
  x : Bernoulli[5]
  p(x) = markov(k = 1)
}
model B {
  y : Bernoulli[3]
  p(y) = chain
}
model C {
  x : Bernoulli[2]
  p(x) = independent
}
`;

  it("answers where it applies and says which models it skipped and why", async () => {
    const p = file("three.gm", TWO);
    const r = await gm(["query", p, "x[5] ⊥ x[1] | x[3]"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("A: independent\n");
    expect(r.err).toBe(
      "note: skipped model B: unknown random variable `x`\nnote: skipped model C: index 5 is outside `x` (1..2)\n",
    );
  });

  it("--json has one shape, {answers, skipped, diagnostics}, for one model or several", async () => {
    const p = file("three.gm", TWO);
    const several = JSON.parse((await gm(["query", "--json", p, "x[5] ⊥ x[1] | x[3]"])).out);
    expect(several).toEqual({
      answers: [{ model: "A", query: "x[5] ⊥ x[1] | x[3]", answer: "independent" }],
      skipped: [
        { model: "B", reason: "unknown random variable `x`" },
        { model: "C", reason: "index 5 is outside `x` (1..2)" },
      ],
      diagnostics: [],
    });
    const one = JSON.parse((await gm(["query", "--json", "--model", "A", p, "x[5] ⊥ x[1]"])).out);
    expect(one).toEqual({
      answers: [{ model: "A", query: "x[5] ⊥ x[1]", answer: "dependent", trail: "x[5] ← x[4] ← x[3] ← x[2] ← x[1]" }],
      skipped: [],
      diagnostics: [],
    });
  });
});

describe("gm factor", () => {
  it("prints a scalar mlp target as p(y | x), not p(y_{} | x)", async () => {
    const p = file(
      "mlp.gm",
      "model D {\n  x : Bernoulli[3]\n  y : Bernoulli\n  p(x) = chain\n  p(y | x) = mlp(hidden = [8])\n}\n",
    );
    const r = await gm(["factor", p]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("model D\np(x, y) = ∏_{i=1}^{3} p(x_i | x_{<i}) · p(y | x)\n");
    const latex = await gm(["factor", "--latex", p]);
    expect(latex.out).toBe("p(x, y) = \\prod_{i=1}^{3} p(x_{i} \\mid x_{<i}) \\cdot p(y \\mid x)\n");
  });
});
