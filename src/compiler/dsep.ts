/**
 * d-separation by reachability (Koller & Friedman, Probabilistic Graphical Models, Alg. 3.1,
 * "Bayes ball"): X ⊥ Y | Z holds in every distribution that factorizes over the graph iff no
 * node of Y is reachable from X along an active trail given Z. The search is breadth-first over
 * (node, direction) states, so the trail it returns is a shortest one.
 */
import type { ElementGraph } from "./graph";

/** One step of a trail: the element and the arrow that led to it from the previous one. */
export interface TrailStep {
  readonly element: number;
  /** `→` when the edge points from the previous element to this one, `←` otherwise; none for the first. */
  readonly arrow?: "→" | "←";
}

/** The answer to a d-separation query. */
export interface DsepResult {
  readonly independent: boolean;
  /** An active trail from X to Y when dependent. */
  readonly trail?: readonly TrailStep[];
}

const UP = 0; // arrived from a child (travelling towards parents)
const DOWN = 1; // arrived from a parent (travelling towards children)

/**
 * Most elements plus edges one `check` statement (all its instances) or one query may search:
 * a search visits each at most a few times, so this bounds its time to a second or so. A
 * `p(x) = joint` over a million elements has 5·10^11 edges: refused with its size, not run.
 */
export const MAX_DSEP_WORK = 200_000_000;

/** The size of one search over `g`: elements plus edges. */
export function searchSize(g: ElementGraph): number {
  return g.n + g.edgeCount();
}

/** Is every element of `x` d-separated from every element of `y` given `z`? */
export function dSeparated(g: ElementGraph, x: Iterable<number>, y: Iterable<number>, z: Iterable<number>): DsepResult {
  const inZ = new Uint8Array(g.n);
  for (const v of z) inZ[v] = 1;
  const inY = new Uint8Array(g.n);
  for (const v of y) inY[v] = 1;

  // Phase 1: Z and its ancestors (a collider is active when it or a descendant is observed).
  const anc = new Uint8Array(g.n);
  const stack: number[] = [];
  for (let v = 0; v < g.n; v++) if (inZ[v]) stack.push(v);
  while (stack.length) {
    const v = stack.pop()!;
    if (anc[v]) continue;
    anc[v] = 1;
    g.forEachParent(v, (p) => {
      if (!anc[p]) stack.push(p);
    });
  }

  // Phase 2: breadth-first search over (node, direction) states from X.
  const visited = new Uint8Array(g.n * 2);
  const from = new Int32Array(g.n * 2).fill(-1);
  const queue = new Int32Array(g.n * 2);
  let head = 0;
  let tail = 0;
  const push = (v: number, dir: number, prev: number) => {
    const s = v * 2 + dir;
    if (visited[s]) return;
    visited[s] = 1;
    from[s] = prev;
    queue[tail++] = s;
  };
  for (const v of x) push(v, UP, -1);
  while (head < tail) {
    const s = queue[head++];
    const v = s >> 1;
    const dir = s & 1;
    if (!inZ[v] && inY[v] && from[s] !== -1) return { independent: false, trail: trailTo(s, from) };
    if (!inZ[v] && inY[v] && from[s] === -1) return { independent: false, trail: [{ element: v }] };
    if (dir === UP && !inZ[v]) {
      g.forEachParent(v, (p) => push(p, UP, s));
      g.forEachChild(v, (c) => push(c, DOWN, s));
    } else if (dir === DOWN) {
      if (!inZ[v]) g.forEachChild(v, (c) => push(c, DOWN, s));
      if (anc[v]) g.forEachParent(v, (p) => push(p, UP, s));
    }
  }
  return { independent: true };
}

function trailTo(s: number, from: Int32Array): TrailStep[] {
  const states: number[] = [];
  for (let t = s; t !== -1; t = from[t]) states.push(t);
  states.reverse();
  return states.map((st, i) => {
    if (i === 0) return { element: st >> 1 };
    // Reaching a node "down" means we came along an edge into it (prev → node).
    return { element: st >> 1, arrow: (st & 1) === DOWN ? "→" : "←" };
  });
}

/** `x[1] → x[2] ← z` */
export function formatTrail(trail: readonly TrailStep[], name: (e: number) => string): string {
  return trail.map((t) => (t.arrow ? ` ${t.arrow} ${name(t.element)}` : name(t.element))).join("");
}
