/**
 * The one seeded pseudo-random number generator of gm (browser-safe: the compiler's random
 * orders, data splits, weights and sampling all draw from it).
 *
 * The generator is mulberry32 (32-bit state, period 2^32) seeded through a
 * splitmix32-style hash of the seed's IEEE-754 bits. It uses only 32-bit
 * integer arithmetic (`Math.imul`, `>>>`), so the same seed gives the same
 * stream on every machine and JavaScript engine.
 */

const TWO_32 = 4294967296;

/** splitmix32 finaliser: a bijective 32-bit mixing function. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Hashes any finite number (integers, negatives, fractions, values ≥ 2^32)
 * into a 32-bit unsigned seed. Different integers in the safe range give
 * different streams with overwhelming probability.
 */
export function hashSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed === 0 ? 0 : seed); // normalise -0 to 0
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  return mix32(mix32(lo) ^ hi);
}

/**
 * Derives an independent seed for a sub-stream (e.g. the test split or the
 * n-th epoch) from a base seed and a stream number.
 */
export function deriveSeed(seed: number, stream: number): number {
  return mix32(hashSeed(seed) ^ mix32(hashSeed(stream) + 0x632be5ab));
}

/**
 * The seed to give TensorFlow.js's random ops (`tf.randomNormal`, `tf.randomUniform`): `seed`
 * itself, except 0, which tfjs reads as "no seed" (`seed ? seed : Math.random()`), so a seed of 0
 * (`--seed 0`, or one that fast-check shrank to 0) drew different numbers on every run.
 */
export function tfSeed(seed: number): number {
  return seed === 0 ? ZERO_SEED : seed;
}

/** What seed 0 becomes for tfjs: not an integer, so it is no other seed a user can give. */
const ZERO_SEED = 0.5;

/** A seeded PRNG (mulberry32). Not cryptographically secure. */
export class Rng {
  private state: number;
  private spare: number | undefined;

  /** Creates a generator; equal seeds give identical streams everywhere. */
  constructor(seed: number) {
    this.state = hashSeed(seed);
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform real in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / TWO_32;
  }

  /** Uniform integer in 0..n-1 (unbiased, by rejection); `n` in 1..2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) {
      throw new RangeError(`int(n) needs an integer n in 1..2^32, got ${n}`);
    }
    const limit = TWO_32 - (TWO_32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal sample (Box–Muller; the second value is cached). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u1 = 1 - this.uniform(); // (0, 1]
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`permutation(n) needs an integer n ≥ 0, got ${n}`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

/** Convenience: a seeded permutation of 0..n-1 (same as `new Rng(seed).permutation(n)`). */
export function permutation(n: number, seed: number): Int32Array {
  return new Rng(seed).permutation(n);
}
