import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Rng, deriveSeed, hashSeed, permutation } from "../../src/data/rng.js";

describe("Rng", () => {
  it("gives identical streams for equal seeds and different streams for different seeds", () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const c = new Rng(124);
    const sa = Array.from({ length: 1000 }, () => a.nextUint32());
    const sb = Array.from({ length: 1000 }, () => b.nextUint32());
    const sc = Array.from({ length: 1000 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(sa.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)).toBe(true);
  });

  it("accepts any finite seed and rejects non-finite ones", () => {
    for (const s of [0, -1, 0.5, 2 ** 40, -(2 ** 53)]) expect(new Rng(s).uniform()).toBeGreaterThanOrEqual(0);
    expect(new Rng(0).uniform()).toBe(new Rng(-0).uniform());
    expect(() => new Rng(Number.NaN)).toThrow();
    expect(() => new Rng(Infinity)).toThrow();
  });

  it("hashes the integers 0..9999 to distinct seeds", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10000; i++) seen.add(hashSeed(i));
    expect(seen.size).toBe(10000);
  });

  it("derives distinct sub-stream seeds", () => {
    const s = new Set([0, 1, 2, 3].map((k) => deriveSeed(7, k)));
    expect(s.size).toBe(4);
    expect(deriveSeed(7, 1)).toBe(deriveSeed(7, 1));
  });

  it("uniform() lies in [0, 1) and has mean 1/2, variance 1/12", () => {
    const r = new Rng(1);
    const N = 100_000;
    let sum = 0;
    let sq = 0;
    let inRange = true;
    for (let i = 0; i < N; i++) {
      const u = r.uniform();
      inRange &&= u >= 0 && u < 1;
      sum += u;
      sq += u * u;
    }
    const mean = sum / N;
    expect(inRange).toBe(true);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sq / N - mean * mean - 1 / 12)).toBeLessThan(0.003);
  });

  it("int(n) is in range and roughly uniform (chi-square)", () => {
    const r = new Rng(99);
    const n = 10;
    const N = 50_000;
    const counts = new Array(n).fill(0);
    for (let i = 0; i < N; i++) counts[r.int(n)]++;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(N); // no index outside 0..n-1
    const e = N / n;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    // 9 degrees of freedom: P(chi2 > 27.9) ≈ 0.001
    expect(chi2).toBeLessThan(27.9);
    expect(() => r.int(0)).toThrow();
    expect(() => r.int(1.5)).toThrow();
    expect(r.int(1)).toBe(0);
  });

  it("normal() has mean 0 and variance 1", () => {
    const r = new Rng(5);
    const N = 100_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < N; i++) {
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    expect(Math.abs(sum / N)).toBeLessThan(0.02);
    expect(Math.abs(sq / N - 1)).toBeLessThan(0.03);
  });

  it("permutation(n) is a permutation, reproducible from the seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), (n, seed) => {
        const p = permutation(n, seed);
        expect(p.length).toBe(n);
        expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(Array.from(new Rng(seed).permutation(n))).toEqual(Array.from(p));
      }),
      { numRuns: 100 },
    );
  });

  it("shuffle keeps the elements and permutations are not trivially ordered", () => {
    const arr = ["a", "b", "c", "d", "e", "f"];
    const s = new Rng(3).shuffle(arr.slice());
    expect(s.slice().sort()).toEqual(arr);
    // Over many seeds, every element shows up in first position.
    const first = new Set<number>();
    for (let seed = 0; seed < 200; seed++) first.add(permutation(6, seed)[0]);
    expect(first.size).toBe(6);
  });
});
