/**
 * Shared helpers for the compiler tests: compiling text that must be clean, an independent
 * implementation of the visiting orders (the oracle the compiler's orders are checked against),
 * element naming in `.gm` syntax, and a parameter count done over the built graph.
 */
import { expect } from "vitest";
import { compileText, type CompileResult } from "../../src/compiler/compile.js";
import { ElementGraph } from "../../src/compiler/graph.js";
import type { ModelIR } from "../../src/compiler/ir.js";
import { outcomes } from "../../src/compiler/ir.js";
import { variableOf } from "../../src/compiler/elements.js";
import { renderDiagnostic } from "../../src/dsl/diagnostics.js";

/** Compiles `text` and fails the test (showing every diagnostic and the text) unless it is clean. */
export function compileClean(text: string, file = "t.gm"): CompileResult {
  const r = compileText(text, file);
  if (r.diagnostics.length) {
    const shown = r.diagnostics.map((d) => renderDiagnostic(d, text)).join("\n\n");
    expect.fail(`expected a clean compile, got:\n${shown}\n--- text ---\n${text}`);
  }
  return r;
}

/** The only model of a clean compile. */
export function onlyModel(text: string): ModelIR {
  const r = compileClean(text);
  expect(r.models).toHaveLength(1);
  return r.models[0];
}

/** The element graph of a compiled model. */
export function graphOf(ir: ModelIR): ElementGraph {
  return new ElementGraph(ir.n, ir.factors, ir.factorOf, ir.positionOf);
}

/** Sorted parents of every element. */
export function parentLists(ir: ModelIR): number[][] {
  const g = graphOf(ir);
  return Array.from({ length: ir.n }, (_, e) => Array.from(g.parents(e)).sort((a, b) => a - b));
}

/**
 * Σ (k_e − 1) Π_{p ∈ pa(e)} k_p over the built graph: the parameter count of a model whose
 * factors are all tables (joint, independent, chain, markov, table).
 */
export function tableCountFromGraph(ir: ModelIR): bigint {
  const g = graphOf(ir);
  let total = 0n;
  for (let e = 0; e < ir.n; e++) {
    const k = BigInt(outcomes(variableOf(ir.variables, e).domain)!);
    let rows = 1n;
    g.forEachParent(e, (p) => {
      rows *= BigInt(outcomes(variableOf(ir.variables, p).domain)!);
    });
    total += (k - 1n) * rows;
  }
  return total;
}

/** The orders of LANGUAGE.md §4 except `random`. */
export type PlainOrder = "raster" | "column" | "snake" | "zigzag" | "index";

/**
 * The visiting order (flat, 0-based, row-major indices), written independently of
 * src/compiler/orders.ts: zigzag is simulated as JPEG walks it (bounce off the borders) rather
 * than enumerated by anti-diagonals. Axes after the second (channels) stay innermost.
 */
export function oracleOrder(shape: readonly number[], kind: PlainOrder): number[] {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length < 2 || kind === "raster" || kind === "index") return Array.from({ length: size }, (_, i) => i);
  const [H, W] = shape;
  const inner = size / (H * W);
  const cells: Array<[number, number]> = [];
  if (kind === "column") {
    for (let c = 0; c < W; c++) for (let r = 0; r < H; r++) cells.push([r, c]);
  } else if (kind === "snake") {
    for (let r = 0; r < H; r++) for (let j = 0; j < W; j++) cells.push([r, r % 2 === 0 ? j : W - 1 - j]);
  } else {
    let r = 0;
    let c = 0;
    let up = true;
    for (let step = 0; step < H * W; step++) {
      cells.push([r, c]);
      if (up) {
        if (c === W - 1) [r, up] = [r + 1, false];
        else if (r === 0) [c, up] = [c + 1, false];
        else [r, c] = [r - 1, c + 1];
      } else if (r === H - 1) [c, up] = [c + 1, true];
      else if (c === 0) [r, up] = [r + 1, true];
      else [r, c] = [r + 1, c - 1];
    }
  }
  return cells.flatMap(([r, c]) => Array.from({ length: inner }, (_, k) => (r * W + c) * inner + k));
}

/** 1-based multi-index of a flat index. */
export function indexOf(shape: readonly number[], flat: number): number[] {
  const idx: number[] = [];
  for (let a = shape.length - 1; a >= 0; a--) {
    idx.unshift((flat % shape[a]) + 1);
    flat = Math.floor(flat / shape[a]);
  }
  return idx;
}

/** `x[2, 3]` (or `x` for a scalar) in `.gm` syntax. */
export function refText(name: string, shape: readonly number[], flat: number): string {
  return shape.length === 0 ? name : `${name}[${indexOf(shape, flat).join(", ")}]`;
}

/** `[2, 3]`, or "" for a scalar. */
export function shapeText(shape: readonly number[]): string {
  return shape.length ? `[${shape.join(", ")}]` : "";
}

/** A small deterministic PRNG (not the compiler's): xorshift32. */
export function rng(seed: number): () => number {
  let s = seed | 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}
