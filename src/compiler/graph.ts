/**
 * The Bayesian network over elements, read straight from the factors' compact structures:
 * parents and children are walked as slices of the factors' target arrays, so a 28×28 chain
 * is never expanded into 306,936 edge records. Only factors pruned by `assume` (structure
 * `explicit`) carry lists; their children are inverted once, lazily. A Row LSTM's `cone`
 * (receptive.ts) is inverted by formula, per element, so no search re-lists its edges.
 */
import type { FactorIR } from "./ir";
import { coneParentCount, forEachConeChild, forEachConeParent } from "./receptive";

/** Children the structures do not give directly; `listedAfter` holds those that follow a cone's own children. */
interface ChildIndex {
  readonly conditioned: Map<number, number[]>;
  readonly listed: Map<number, number[]>;
  readonly listedAfter: Map<number, number[]>;
}

/** Minimal view of the factors the graph needs (drafts during compilation satisfy it too). */
export interface FactorView {
  readonly targets: Int32Array;
  readonly context: Int32Array;
  readonly structure: FactorIR["structure"];
}

/** Directed acyclic graph over elements (acyclicity is checked by `findCycle`). */
export class ElementGraph {
  private children?: ChildIndex;

  constructor(
    readonly n: number,
    readonly factors: readonly FactorView[],
    readonly factorOf: Int32Array,
    readonly positionOf: Int32Array,
  ) {}

  /** Calls `fn` for each parent of `v`. */
  forEachParent(v: number, fn: (p: number) => void): void {
    const fi = this.factorOf[v];
    if (fi < 0) return;
    const f = this.factors[fi];
    const pos = this.positionOf[v];
    const s = f.structure;
    if (s.kind === "explicit") {
      for (const p of s.parents[pos]) fn(p);
      return;
    }
    for (const p of f.context) fn(p);
    if (s.kind === "cone") forEachConeParent(s, pos, (q) => fn(f.targets[q]));
    else if (s.kind === "prefix" || s.kind === "joint") for (let j = 0; j < pos; j++) fn(f.targets[j]);
    else if (s.kind === "window") for (let j = Math.max(0, pos - s.k); j < pos; j++) fn(f.targets[j]);
  }

  /** The parents of `v` as a new array. */
  parents(v: number): Int32Array {
    const out: number[] = [];
    this.forEachParent(v, (p) => out.push(p));
    return Int32Array.from(out);
  }

  /** Number of parents of `v` without listing them. */
  parentCount(v: number): number {
    const fi = this.factorOf[v];
    if (fi < 0) return 0;
    const f = this.factors[fi];
    const pos = this.positionOf[v];
    const s = f.structure;
    if (s.kind === "explicit") return s.parents[pos].length;
    if (s.kind === "cone") return f.context.length + coneParentCount(s, pos);
    const own = s.kind === "prefix" || s.kind === "joint" ? pos : s.kind === "window" ? Math.min(pos, s.k) : 0;
    return f.context.length + own;
  }

  /**
   * Calls `fn` for each child of `v`: the later elements of its own factor (read from the
   * factor's structure, never stored), the targets of factors it conditions, and the elements
   * whose pruned parent lists name it.
   */
  forEachChild(v: number, fn: (c: number) => void): void {
    const fi = this.factorOf[v];
    if (fi >= 0) {
      const f = this.factors[fi];
      const s = f.structure;
      const pos = this.positionOf[v];
      const t = f.targets;
      if (s.kind === "prefix" || s.kind === "joint") for (let j = pos + 1; j < t.length; j++) fn(t[j]);
      else if (s.kind === "window") for (let j = pos + 1; j < Math.min(t.length, pos + 1 + s.k); j++) fn(t[j]);
    }
    const idx = this.childIndex();
    const conditioned = idx.conditioned.get(v);
    if (conditioned) for (const g of conditioned) for (const c of this.factors[g].targets) fn(c);
    // Listed children in factor order, as one index over every factor would list them: those
    // of earlier factors, then a cone's (its own factor's, read from the formula), then later ones.
    const listed = idx.listed.get(v);
    if (listed) for (const c of listed) fn(c);
    if (fi >= 0) {
      const f = this.factors[fi];
      const s = f.structure;
      if (s.kind === "cone") forEachConeChild(s, this.positionOf[v], f.targets.length, (q) => fn(f.targets[q]));
    }
    const after = idx.listedAfter.get(v);
    if (after) for (const c of after) fn(c);
  }

  private edges?: number;

  /** Total number of edges (counted once, without listing them). */
  edgeCount(): number {
    if (this.edges !== undefined) return this.edges;
    let e = 0;
    for (let v = 0; v < this.n; v++) e += this.parentCount(v);
    return (this.edges = e);
  }

  /** Children that the structures do not give directly, indexed once, lazily: conditions, pruned lists, cones. */
  private childIndex(): ChildIndex {
    if (this.children) return this.children;
    const conditioned = new Map<number, number[]>();
    const listed = new Map<number, number[]>();
    const listedAfter = new Map<number, number[]>();
    const add = (m: Map<number, number[]>, k: number, v: number) => {
      const l = m.get(k);
      if (l) l.push(v);
      else m.set(k, [v]);
    };
    this.factors.forEach((f, fi) => {
      const s = f.structure;
      if (s.kind === "explicit") {
        // Pruned lists name every parent, conditions included.
        // A parent in a cone factor before this one gets the child after its cone children.
        s.parents.forEach((ps, j) => {
          for (const p of ps) {
            const pf = this.factorOf[p];
            add(
              pf >= 0 && pf < fi && this.factors[pf].structure.kind === "cone" ? listedAfter : listed,
              p,
              f.targets[j],
            );
          }
        });
        return;
      }
      for (const c of f.context) add(conditioned, c, fi);
      // A Row LSTM's receptive field (receptive.ts) is not indexed: forEachChild inverts it by formula.
    });
    this.children = { conditioned, listed, listedAfter };
    return this.children;
  }

  /**
   * A directed cycle as a list of elements (first = last), or null when the graph is acyclic.
   * Factors without pruned parent lists are searched factor by factor: inside one factor the
   * parents precede in the factor's own order, so a cycle must pass through conditions, and a
   * `p(x) = joint` over a million elements costs a million steps, not 5·10^11 edge visits.
   */
  findCycle(): number[] | null {
    if (this.factors.every((f) => f.structure.kind !== "explicit")) return this.findFactorCycle();
    return this.findElementCycle();
  }

  /** Cycle search on the graph of factors: F → G when an element of F conditions G. */
  private findFactorCycle(): number[] | null {
    const m = this.factors.length;
    const next: number[][] = Array.from({ length: m }, () => []);
    const via: Array<Map<number, number>> = Array.from({ length: m }, () => new Map());
    this.factors.forEach((g, gi) => {
      for (const c of g.context) {
        const fi = this.factorOf[c];
        if (fi < 0 || via[fi].has(gi)) continue;
        via[fi].set(gi, c); // c: an element of factor fi that conditions factor gi
        next[fi].push(gi);
      }
    });
    // Iterative depth-first search with colours (0 new, 1 on the stack, 2 done).
    const colour = new Uint8Array(m);
    const stack: number[] = [];
    const edge: number[] = [];
    for (let root = 0; root < m; root++) {
      if (colour[root]) continue;
      stack.push(root);
      edge.push(0);
      colour[root] = 1;
      while (stack.length) {
        const f = stack[stack.length - 1];
        const k = edge[edge.length - 1]++;
        if (k >= next[f].length) {
          colour[f] = 2;
          stack.pop();
          edge.pop();
          continue;
        }
        const g = next[f][k];
        if (colour[g] === 0) {
          colour[g] = 1;
          stack.push(g);
          edge.push(0);
        } else if (colour[g] === 1) {
          // Factors stack[at] → … → f → g = stack[at]; each hands an element to the next.
          const loop = stack.slice(stack.indexOf(g));
          const cycle = loop.map((fi, j) => via[fi].get(loop[(j + 1) % loop.length])!);
          cycle.push(cycle[0]);
          return cycle;
        }
      }
    }
    return null;
  }

  /** Cycle search element by element (after `assume` has pruned some parent lists). */
  private findElementCycle(): number[] | null {
    // Kahn's algorithm; what remains with parents unprocessed lies on or after a cycle.
    const indeg = new Int32Array(this.n);
    for (let v = 0; v < this.n; v++) indeg[v] = this.parentCount(v);
    const queue: number[] = [];
    for (let v = 0; v < this.n; v++) if (indeg[v] === 0) queue.push(v);
    let done = 0;
    while (queue.length) {
      const v = queue.pop()!;
      done++;
      this.forEachChild(v, (c) => {
        if (--indeg[c] === 0) queue.push(c);
      });
    }
    if (done === this.n) return null;
    // Walk parents among the remaining nodes until one repeats.
    let v = indeg.findIndex((d) => d > 0);
    const seenAt = new Map<number, number>();
    const path: number[] = [];
    while (!seenAt.has(v)) {
      seenAt.set(v, path.length);
      path.push(v);
      let next = -1;
      this.forEachParent(v, (p) => {
        if (next < 0 && indeg[p] > 0) next = p;
      });
      v = next;
    }
    // path follows parent links: reverse it so arrows point parent → child.
    const cycle = path.slice(seenAt.get(v)!).reverse();
    cycle.push(cycle[0]);
    return cycle;
  }
}
