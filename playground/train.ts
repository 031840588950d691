/**
 * Training in the page, for models a browser can fit by counting: one observed binary variable
 * whose every element has a small parent set (Markov chains, causal neighbourhoods, independent
 * pixels). The model is the compiled graph itself,
 *
 *     p(x) = ∏_e p(x_e | x_pa(e)),   p(x_e = 1 | pa = c) = (n₁(e, c) + 1) / (n(e, c) + 2),
 *
 * conditional probability tables estimated by counting with Laplace smoothing (the maximum-a-
 * posteriori estimate under a uniform Beta(1, 1) prior; Koller & Friedman, Probabilistic Graphical
 * Models, §17.3). Samples are drawn ancestrally. No TensorFlow.js: counting is the whole fit.
 * DOM-free, so tests run it in Node.
 */
import { ElementGraph, type ModelIR, type VariableIR } from "../src/index";
import { Rng } from "../src/rng";

/** Largest parent set counted (a table of 2^16 rows per element). */
export const MAX_PARENTS = 16;

/** A model ready to count: its image variable, elements in an order parents come first, their parents. */
export interface CountingModel {
  readonly variable: VariableIR;
  /** Flat indices (0-based) of the variable's elements, each after its parents. */
  readonly order: Int32Array;
  /** `parents[i]`: flat indices of element i's parents. */
  readonly parents: readonly Int32Array[];
  /** `ones[i][c]` and `total[i][c]`: counts of x_i = 1 and of all images with parent configuration c. */
  readonly ones: readonly Float64Array[];
  readonly total: readonly Float64Array[];
  /** Images counted so far. */
  seen: number;
}

/** Why `m` cannot be trained by counting here, or null when it can. */
export function notCountable(m: ModelIR): string | null {
  const observed = m.variables.filter((v) => !v.latent);
  if (m.variables.length !== 1 || observed.length !== 1)
    return "counting needs a model of one observed variable and nothing else";
  const v = observed[0];
  if (v.domain.kind !== "bernoulli") return "counting here needs binary pixels (Bernoulli)";
  const g = new ElementGraph(m.n, m.factors, m.factorOf, m.positionOf);
  let most = 0;
  for (let e = 0; e < m.n; e++) most = Math.max(most, g.parentCount(e));
  if (most > MAX_PARENTS)
    return `an element has ${most} parents: its table would have 2^${most} rows (at most 2^${MAX_PARENTS} here)`;
  return null;
}

/** An empty counting model for `m` (check `notCountable(m)` first). */
export function countingModel(m: ModelIR): CountingModel {
  const v = m.variables[0];
  const g = new ElementGraph(m.n, m.factors, m.factorOf, m.positionOf);
  const parents = Array.from({ length: v.size }, (_, i) =>
    Int32Array.from(g.parents(v.offset + i), (p) => p - v.offset),
  );
  // Depth-first: every element after its parents (the graph is acyclic: the compiler checked).
  const order: number[] = [];
  const state = new Uint8Array(v.size);
  const visit = (root: number) => {
    const stack: Array<[number, number]> = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [i, k] = top;
      if (k === 0 && state[i]) {
        stack.pop();
        continue;
      }
      state[i] = 1;
      if (k < parents[i].length) {
        top[1]++;
        if (!state[parents[i][k]]) stack.push([parents[i][k], 0]);
      } else {
        state[i] = 2;
        order.push(i);
        stack.pop();
      }
    }
  };
  for (let i = 0; i < v.size; i++) if (!state[i]) visit(i);
  return {
    variable: v,
    order: Int32Array.from(order),
    parents,
    ones: parents.map((p) => new Float64Array(1 << p.length)),
    total: parents.map((p) => new Float64Array(1 << p.length)),
    seen: 0,
  };
}

function config(pa: Int32Array, x: Uint8Array): number {
  let c = 0;
  for (let j = 0; j < pa.length; j++) c = (c << 1) | x[pa[j]];
  return c;
}

/** Counts one image (0/1 per element, row-major). */
export function count(cm: CountingModel, x: Uint8Array): void {
  for (let i = 0; i < x.length; i++) {
    const c = config(cm.parents[i], x);
    cm.total[i][c]++;
    cm.ones[i][c] += x[i];
  }
  cm.seen++;
}

/** p(x_i = 1 | its parents as in x), smoothed. */
export function probOne(cm: CountingModel, i: number, x: Uint8Array): number {
  const c = config(cm.parents[i], x);
  return (cm.ones[i][c] + 1) / (cm.total[i][c] + 2);
}

/** − log p(x) in nats. */
export function nll(cm: CountingModel, x: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const p = probOne(cm, i, x);
    s -= Math.log(x[i] ? p : 1 - p);
  }
  return s;
}

/** One image drawn ancestrally. */
export function sample(cm: CountingModel, rng: Rng): Uint8Array {
  const x = new Uint8Array(cm.variable.size);
  for (const i of cm.order) x[i] = rng.uniform() < probOne(cm, i, x) ? 1 : 0;
  return x;
}
