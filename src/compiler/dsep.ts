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

/**
 * Work arrays shared by every search (one runs at a time), so that a file with thousands of checks
 * allocates them once. A mark array holds the search's `epoch` where a flag is set: starting a new
 * search is one increment, not a clear of O(n) memory.
 */
const work = {
  capacity: 0,
  epoch: 0,
  inZ: new Int32Array(0),
  inY: new Int32Array(0),
  anc: new Int32Array(0),
  visited: new Int32Array(0), // per (node, direction) state
  from: new Int32Array(0),
  queue: new Int32Array(0),
  stack: [] as number[],
};

function beginSearch(n: number): number {
  if (n > work.capacity || work.epoch >= 0x7fffffff) {
    const c = Math.max(n, work.capacity * 2, 64);
    work.capacity = c;
    work.inZ = new Int32Array(c);
    work.inY = new Int32Array(c);
    work.anc = new Int32Array(c);
    work.visited = new Int32Array(2 * c);
    work.from = new Int32Array(2 * c);
    work.queue = new Int32Array(2 * c);
    work.epoch = 0;
  }
  return ++work.epoch;
}

/** Is every element of `x` d-separated from every element of `y` given `z`? */
export function dSeparated(g: ElementGraph, x: Iterable<number>, y: Iterable<number>, z: Iterable<number>): DsepResult {
  const e = beginSearch(g.n);
  const { inZ, inY, anc, visited, from, queue, stack } = work;
  stack.length = 0;
  for (const v of z) {
    inZ[v] = e;
    stack.push(v);
  }
  for (const v of y) inY[v] = e;

  // Phase 1: Z and its ancestors (a collider is active when it or a descendant is observed).
  const pushAncestor = (p: number) => {
    if (anc[p] !== e) stack.push(p);
  };
  while (stack.length) {
    const v = stack.pop()!;
    if (anc[v] === e) continue;
    anc[v] = e;
    g.forEachParent(v, pushAncestor);
  }

  // Phase 2: breadth-first search over (node, direction) states from X.
  let head = 0;
  let tail = 0;
  let prev = -1; // the state being expanded
  const push = (v: number, dir: number) => {
    const s = v * 2 + dir;
    if (visited[s] === e) return;
    visited[s] = e;
    from[s] = prev;
    queue[tail++] = s;
  };
  const up = (p: number) => push(p, UP);
  const down = (c: number) => push(c, DOWN);
  for (const v of x) push(v, UP);
  while (head < tail) {
    const s = queue[head++];
    const v = s >> 1;
    const dir = s & 1;
    if (inZ[v] !== e && inY[v] === e) {
      return { independent: false, trail: from[s] !== -1 ? trailTo(s, from) : [{ element: v }] };
    }
    prev = s;
    if (dir === UP && inZ[v] !== e) {
      g.forEachParent(v, up);
      g.forEachChild(v, down);
    } else if (dir === DOWN) {
      if (inZ[v] !== e) g.forEachChild(v, down);
      if (anc[v] === e) g.forEachParent(v, up);
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
