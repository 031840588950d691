/**
 * "Did you mean …?" — the closest candidate by edit distance, when it is close enough to be
 * a likely typo (distance ≤ 2, or ≤ 1 for short names), comparing case-insensitively first.
 */
import { distance } from "fastest-levenshtein";

/** The best suggestion for `name` among `candidates`, or undefined. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    if (c === name) continue;
    if (c.toLowerCase() === lower) return c;
    const d = distance(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = name.length <= 3 ? 1 : name.length <= 6 ? 2 : 3;
  return bestD <= limit ? best : undefined;
}
