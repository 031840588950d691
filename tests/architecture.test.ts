/**
 * The layering of the brief, as a test: data flows text → AST → IR → network, lower layers
 * never import higher ones, and src/dsl and src/compiler import neither Node-only modules nor
 * TensorFlow.js (the browser playground runs them as they are).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(__dirname, "..", "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/gm)) out.push(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1]);
  return out;
}

/** Browser-safe modules at the root of src/ that every layer shares (one PRNG, one error base, one version). */
const SHARED = ["errors.ts", "rng.ts", "version.ts"];

/** Which top-level folders of src/ each layer may import (besides SHARED). */
const ALLOWED: Record<string, string[]> = {
  dsl: ["dsl"],
  compiler: ["dsl", "compiler"],
  data: ["data"],
  models: ["dsl", "compiler", "data", "models"],
  cli: ["dsl", "compiler", "data", "models", "cli"],
};

/**
 * src/cli holds no training, checkpoint or data logic: it reaches src/models only through
 * run.ts (train, resume, load, score, sample), eval/tasks.ts and eval/plots.ts (embed, anomaly), eval/fid.ts (`gm
 * fid`),
 * verify.ts, backend.ts (`gm backends`) and images.ts (the one SVG → PNG), and src/data only for
 * the atomic file writer; type-only imports of model types are fine. No TensorFlow.js at all.
 */
const CLI_MAY_USE: Record<string, string[]> = {
  models: ["run", "verify", "backend", "images", "eval/tasks", "eval/plots", "eval/fid"],
  data: ["atomic"],
};

/** What breaks the CLI rule in one file's text (`file` is its path relative to src/). */
function cliViolations(file: string, text: string): string[] {
  const bad: string[] = [];
  const statements = [...text.matchAll(/^\s*(import|export)(\s+type)?[^'"]*?from\s+["']([^"']+)["']/gm)].map((m) => ({
    typeOnly: Boolean(m[2]),
    spec: m[3],
  }));
  for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g))
    statements.push({ typeOnly: false, spec: m[1] });
  for (const { typeOnly, spec } of statements) {
    if (spec.startsWith("@tensorflow/")) {
      bad.push(`${file} imports ${spec}`);
      continue;
    }
    if (!spec.startsWith(".") || typeOnly) continue;
    const target = relative(SRC, join(SRC, file, "..", spec)).split("/");
    const allowed = CLI_MAY_USE[target[0]];
    if (
      allowed &&
      !allowed.includes(
        target
          .slice(1)
          .join("/")
          .replace(/\.(js|ts)$/, ""),
      )
    )
      bad.push(`${file} imports ${spec}`);
  }
  return bad;
}

describe("architecture", () => {
  it("src/cli contains no training, checkpoint or data logic: models only through run/verify/backend/images, data only atomic writes, no TensorFlow.js", () => {
    const bad = files(join(SRC, "cli")).flatMap((f) => cliViolations(relative(SRC, f), readFileSync(f, "utf8")));
    expect(bad).toEqual([]);
  });

  it("the CLI rule fails on planted violations", () => {
    // Planted: each of these lines in a CLI file is training, checkpoint or data logic.
    expect(cliViolations("cli/x.ts", 'import { loadCheckpoint } from "../models/checkpoint";')).toHaveLength(1);
    expect(cliViolations("cli/x.ts", 'import { Fitter } from "../models/fit";')).toHaveLength(1);
    expect(cliViolations("cli/x.ts", 'import { loadData } from "../data/spec";')).toHaveLength(1);
    expect(cliViolations("cli/x.ts", 'import * as tf from "@tensorflow/tfjs";')).toHaveLength(1);
    expect(cliViolations("cli/x.ts", 'const m = await import("../models/explicit");')).toHaveLength(1);
    // Allowed: the run layer, and types.
    expect(
      cliViolations(
        "cli/x.ts",
        'import { trainRun } from "../models/run";\nimport type { EpochRecord } from "../models/checkpoint";',
      ),
    ).toEqual([]);
  });

  for (const layer of Object.keys(ALLOWED)) {
    it(`src/${layer} imports only ${ALLOWED[layer].join(", ")}`, () => {
      const bad: string[] = [];
      for (const f of files(join(SRC, layer))) {
        for (const spec of imports(f)) {
          if (!spec.startsWith(".")) continue;
          const target = relative(SRC, join(f, "..", spec)).split("/")[0];
          if (!ALLOWED[layer].includes(target) && !SHARED.includes(`${target.replace(/\.ts$/, "")}.ts`))
            bad.push(`${relative(SRC, f)} imports ${spec}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }

  it("the shared root modules are browser-safe and import nothing", () => {
    for (const f of SHARED) {
      const specs = imports(join(SRC, f));
      expect(specs, f).toEqual([]);
    }
  });

  for (const layer of ["dsl", "compiler"]) {
    it(`src/${layer} runs in a browser: no Node modules, no TensorFlow.js`, () => {
      const bad: string[] = [];
      for (const f of files(join(SRC, layer))) {
        for (const spec of imports(f)) {
          if (spec.startsWith(".")) continue;
          if (
            spec.startsWith("node:") ||
            spec.startsWith("@tensorflow/") ||
            ["fs", "path", "os", "zlib", "child_process", "worker_threads"].includes(spec)
          )
            bad.push(`${relative(SRC, f)} imports ${spec}`);
        }
        if (/\bprocess\.|\brequire\(/.test(readFileSync(f, "utf8").replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "")))
          bad.push(`${relative(SRC, f)} uses process or require`);
      }
      expect(bad).toEqual([]);
    });
  }
});
