/** The data layer's PRNG is gm's one seeded generator (src/rng.ts). */
export * from "../rng";
