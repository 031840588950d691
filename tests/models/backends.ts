/** Comparison shared by the kernel tests (one backend's values against another's). */
import { expect } from "vitest";

/** Relative tolerance of the kernel tests: |a − b| ≤ 1e-4·(1 + |b|). */
export const TOL = 1e-4;

/** Asserts |a − b| ≤ TOL·(1 + |b|) elementwise, naming the worst element when it fails. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what = ""): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  expect(worst, `${what}: worst relative error at ${at} (${actual[at]} vs ${expected[at]})`).toBeLessThanOrEqual(TOL);
}
