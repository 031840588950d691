/**
 * Small lookups every family shares, written once: which variable an element belongs to, how
 * many outcomes it has, and how a TensorFlow.js variable's name maps to its stable name in a
 * checkpoint.
 */
import { outcomes, type ModelIR, type VariableIR } from "../compiler/ir";

/**
 * The variable that element `e` belongs to (variables are laid out in declaration order, each
 * over `offset .. offset + size − 1`), found by binary search.
 */
export function variableOf(ir: ModelIR, e: number): VariableIR {
  const vs = ir.variables;
  let lo = 0;
  let hi = vs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = vs[mid];
    if (e < v.offset) hi = mid - 1;
    else if (e >= v.offset + v.size) lo = mid + 1;
    else return v;
  }
  throw new RangeError(`element ${e} is outside model ${ir.name} (${ir.n} elements)`);
}

/** Number of outcomes of element `e` (2 for Bernoulli, k for Categorical(k), 0 for real-valued). */
export function outcomesOf(ir: ModelIR, e: number): number {
  return outcomes(variableOf(ir, e).domain) ?? 0;
}

/**
 * Variables of models alive at the same time need unique names in TensorFlow.js, so each model
 * instance prefixes its variables with `gm<N>/`; checkpoints store names without it.
 */
const INSTANCE_PREFIX = /^gm\d+\//;

let instances = 0;

/** A fresh instance prefix (`gm7`), for the variables of one newly built model. */
export function newInstancePrefix(): string {
  return `gm${++instances}`;
}

/** The stable name of a variable (or of a name) inside a checkpoint: without the instance prefix. */
export function checkpointName(v: { name: string } | string): string {
  return (typeof v === "string" ? v : v.name).replace(INSTANCE_PREFIX, "");
}
