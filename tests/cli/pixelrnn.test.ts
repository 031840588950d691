/**
 * PixelRNN through `gm` as a user runs it, both kinds on 6×6 binary images (a tiny IDX file):
 * train (the held-out NLL falls below the uniform 36·log 2 nats), score (exact log-likelihoods),
 * sample (a PNG; every sampled value binary), and `gm query`
 * answering from the receptive field (the Row LSTM's blind spot is independent, the Diagonal
 * BiLSTM's is not).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gm, PNG_SIGNATURE, QUIET_WASM, removeDir, tempDir, writeBinaryIdx, writeModel } from "../models/run-helpers";

let dir: string;
let data: string;
beforeAll(() => {
  dir = tempDir("gm-pixelrnn-");
  data = writeBinaryIdx(dir, "six.idx", 300, 6, 6);
});
afterAll(() => removeDir(dir));

describe.each(["row_lstm", "diagonal_bilstm"])("gm train / score / sample, pixelrnn(kind = %s)", (kind) => {
  it("trains below the uniform NLL, scores exactly, samples binary images", async () => {
    const file = writeModel(dir, `${kind}.gm`, `pixelrnn(kind = ${kind}, hidden = 8, layers = 2)`, 6, 6);
    const run = join(dir, `run-${kind}`);
    const t = await gm([
      "train",
      file,
      "--out",
      run,
      "--data",
      data,
      "--epochs",
      "3",
      "--batch",
      "30",
      "--lr",
      "0.01",
      ...QUIET_WASM,
    ]);
    expect(t.code, t.stderr).toBe(0);
    const history = JSON.parse(readFileSync(join(run, "history.json"), "utf8")) as
      Array<{ test: Record<string, number> }> | { history: Array<{ test: Record<string, number> }> };
    const epochs = Array.isArray(history) ? history : history.history;
    const nll = epochs[epochs.length - 1].test.nll;
    expect(nll).toBeLessThan(36 * Math.log(2));
    const s = await gm(["score", run, "--json", "--backend", "wasm"]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/"kind":\s*"exact"|exact/);
    const out = join(dir, `s-${kind}.png`);
    const smp = await gm(["sample", run, "-n", "4", "-o", out, "--json", "--backend", "wasm"]);
    expect(smp.code, smp.stderr).toBe(0);
    expect(readFileSync(out).subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const rows = (JSON.parse(smp.stdout) as { samples: number[][] }).samples;
    expect(rows).toHaveLength(4);
    expect(rows.flat().every((v) => v === 0 || v === 1)).toBe(true);
  });
});

describe("gm query reads the receptive field", () => {
  it("the Row LSTM's blind spot is independent, the Diagonal BiLSTM's is not", async () => {
    const q = "x[6, 6] ⊥ x[6, 1] | x[1..5, 1..6], x[6, 2..5]";
    const row = await gm([
      "query",
      writeModel(dir, "q-row.gm", "pixelrnn(kind = row_lstm, hidden = 8, layers = 2)", 6, 6),
      q,
    ]);
    const diag = await gm([
      "query",
      writeModel(dir, "q-diag.gm", "pixelrnn(kind = diagonal_bilstm, hidden = 8, layers = 2)", 6, 6),
      q,
    ]);
    expect(row.stdout).toMatch(/^independent/);
    expect(diag.stdout).toMatch(/^not independent|^dependent/);
  });
});
