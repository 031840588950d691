/**
 * The state one model's compilation threads through its phases (names → factors →
 * assumptions → parameters → objectives → checks), and the helpers they share: the
 * expression environment, quantifier expansion, and evaluating references to elements.
 */
import type * as A from "../dsl/ast";
import { DiagnosticBag } from "../dsl/diagnostics";
import { withCommas } from "./count";
import { ElementGraph } from "./graph";
import type { AuxNetworkIR, DerivationStep, Domain, FactorStructure, FamilyName, NetworkSpec, VariableIR } from "./ir";
import { evalRef, type RefRole, type VarScope } from "./refs";
import { evalInt, type Env, type Num } from "./values";

/** A factor under construction (mutable until counted). */
export interface Draft {
  family: FamilyName;
  args: Record<string, unknown>;
  targets: Int32Array;
  context: Int32Array;
  structure: FactorStructure;
  source: string;
  span: A.Span;
  network?: NetworkSpec;
  /** Network spec of an `implicit` generator before counting. */
}

/**
 * Default largest number of elements in one model: a million (a 1000×1000 binary image; MNIST
 * has 784, a 256×256 RGB image 196,608). Past it, every phase that walks elements would take
 * seconds, so such a model is refused at its declaration, at once, naming the size and the limit.
 */
export const MAX_ELEMENTS = 1_000_000;

/** Largest number of instances one statement's `for` may expand to. */
export const MAX_INSTANCES = 5_000_000;

/** The hint of E0308 (a `for` past `MAX_INSTANCES`). */
const TOO_MANY_INSTANCES_HINT =
  "state it once for the whole variable instead of once per element (`p(x) = markov(k = 1)` rather than `for i in 2..n: p(x[i] | x[i-1]) = table`), or give the `for` smaller ranges";

/** A read-only map that looks names up in `top` first, then in `base`, without copying either. */
export class LayeredMap<V> implements ReadonlyMap<string, V> {
  constructor(
    private readonly base: ReadonlyMap<string, V>,
    private readonly top: ReadonlyMap<string, V>,
  ) {}
  get size(): number {
    let n = this.base.size;
    for (const k of this.top.keys()) if (!this.base.has(k)) n++;
    return n;
  }
  get(k: string): V | undefined {
    const v = this.top.get(k);
    return v !== undefined ? v : this.base.get(k);
  }
  has(k: string): boolean {
    return this.top.has(k) || this.base.has(k);
  }
  *entries(): MapIterator<[string, V]> {
    for (const [k, v] of this.base) if (!this.top.has(k)) yield [k, v];
    yield* this.top.entries();
  }
  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }
  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }
}

/** Options of `compileText` (compile.ts), which every model's context carries. */
export interface CompileOptions {
  /** Evaluate `check` lines (default true). */
  readonly checks?: boolean;
  /** Largest number of elements a model may have (default 1,000,000: `MAX_ELEMENTS`). */
  readonly maxElements?: number;
}

/** One model being compiled: its declarations, its factors so far, and where to report. */
export class ModelContext {
  readonly consts = new Map<string, Num>();
  readonly constDecls = new Map<string, A.ConstDecl>();
  readonly vars: VariableIR[] = [];
  readonly varByName = new Map<string, VariableIR>();
  readonly varDecls = new Map<string, A.VarDecl>();
  readonly orderDecls = new Map<string, A.OrderDecl>();
  n = 0;
  /** Elements of the variables declared so far (the running total the element limit is held to). */
  declaredElements = 0;
  drafts: Draft[] = [];
  factorOf = new Int32Array(0);
  positionOf = new Int32Array(0);
  factorSpans: A.Span[] = [];
  readonly networks: AuxNetworkIR[] = [];
  readonly derivation: DerivationStep[] = [];
  graph?: ElementGraph;
  encoderRejected = false;
  readonly maxElements: number;

  constructor(
    readonly m: A.ModelDecl,
    readonly text: string,
    readonly diags: DiagnosticBag,
    readonly options: CompileOptions,
  ) {
    this.maxElements = options.maxElements ?? MAX_ELEMENTS;
  }

  /** Variables and constants in scope: live views of the maps, never copies (O(1) per call). */
  get scope(): VarScope {
    return { byName: this.varByName, constants: this.consts };
  }

  /**
   * The expression environment: the constants, then the loop variables bound in `extra`.
   * Views, not copies: a statement expanded a million times must not copy the names each time
   * (copying them made compile time quadratic in the number of variables).
   */
  env(extra?: ReadonlyMap<string, Num>, loops?: Env["loops"]): Env {
    const values = extra && extra.size ? new LayeredMap(this.consts, extra) : this.consts;
    return loops ? { values, variables: this.varByName, loops } : { values, variables: this.varByName };
  }

  private markBuffer?: Uint8Array;

  /** A zeroed mark per element, shared: callers set marks and must clear what they set. */
  marks(): Uint8Array {
    if (!this.markBuffer || this.markBuffer.length !== this.n) this.markBuffer = new Uint8Array(this.n);
    return this.markBuffer;
  }

  src(span: A.Span): string {
    let s = this.sources.get(span);
    if (s === undefined) {
      s = this.text.slice(span.start.offset, span.end.offset).replace(/\s+/g, " ");
      this.sources.set(span, s);
    }
    return s;
  }

  /** `src` by span: a `for` statement's factors all name the statement's source, once per instance. */
  private readonly sources = new Map<A.Span, string>();

  declared(name: A.Ident): A.Ident | undefined {
    return this.constDecls.get(name.name)?.name ?? this.varDecls.get(name.name)?.name;
  }

  /** Calls `fn` once per binding of the statement's loop variables; false if it failed. */
  forEachInstance(
    quants: readonly A.Quantifier[],
    fn: (env: Env, bound: ReadonlyMap<string, Num>) => boolean | void,
  ): boolean {
    // Count first (the innermost range by its length), so a statement that is too large is
    // refused at once instead of after millions of instances.
    if (quants.length && this.instancesAtLeast(quants, MAX_INSTANCES + 1)) {
      this.diags.error(
        "E0308",
        `this statement expands to more than ${withCommas(BigInt(MAX_INSTANCES))} instances`,
        quants[0].span,
        { hint: TOO_MANY_INSTANCES_HINT },
      );
      return false;
    }
    let count = 0;
    const bound = new Map<string, Num>();
    const ranges = new Map<string, { lo: bigint; hi: bigint }>();
    const rec = (i: number): boolean => {
      if (i === quants.length) {
        if (++count > MAX_INSTANCES) {
          this.diags.error(
            "E0308",
            `this statement expands to more than ${withCommas(BigInt(MAX_INSTANCES))} instances`,
            quants[0].span,
            { hint: TOO_MANY_INSTANCES_HINT },
          );
          return false;
        }
        return fn(this.env(bound, ranges), bound) !== false;
      }
      const q = quants[i];
      const lo = evalInt(q.lo, this.env(bound), this.diags, "a loop bound");
      const hi = evalInt(q.hi, this.env(bound), this.diags, "a loop bound");
      if (lo === null || hi === null) return false;
      ranges.set(q.variable.name, { lo, hi });
      for (let v = lo; v <= hi; v++) {
        bound.set(q.variable.name, v);
        if (!rec(i + 1)) return false;
      }
      bound.delete(q.variable.name);
      ranges.delete(q.variable.name);
      return true;
    };
    return rec(0);
  }

  /**
   * Whether the quantifiers bind at least `limit` instances (each binding of an outer loop
   * counts too: it is work even when the inner range is empty). Bounds that fail to evaluate
   * count as empty; the main pass reports them.
   */
  instancesAtLeast(quants: readonly A.Quantifier[], limit: number): boolean {
    const silent = new DiagnosticBag(this.diags.file);
    const bound = new Map<string, Num>();
    let count = 0;
    const rec = (i: number): boolean => {
      const q = quants[i];
      const lo = evalInt(q.lo, this.env(bound), silent, "a loop bound");
      const hi = evalInt(q.hi, this.env(bound), silent, "a loop bound");
      if (lo === null || hi === null || hi < lo) return false;
      if (i === quants.length - 1) {
        count += Number(hi - lo + 1n);
        return count >= limit;
      }
      for (let v = lo; v <= hi; v++) {
        bound.set(q.variable.name, v);
        if (++count >= limit || rec(i + 1)) return true;
      }
      bound.delete(q.variable.name);
      return false;
    };
    return rec(0);
  }

  refsToElements(refs: readonly A.Ref[], env: Env, role: RefRole): Int32Array[] | null {
    const out: Int32Array[] = [];
    for (const r of refs) {
      const els = evalRef(r, this.scope, env, this.diags, role);
      if (!els) return null;
      out.push(els);
    }
    return out;
  }

  rankOf(e: number): number {
    const v = this.varOf(e);
    return v.offset + v.rank[e - v.offset];
  }

  varOf(e: number): VariableIR {
    let lo = 0;
    let hi = this.vars.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.vars[mid].offset <= e) lo = mid;
      else hi = mid - 1;
    }
    return this.vars[lo];
  }

  /** The domain of each element (a variable's elements are contiguous: one lookup per run). */
  domainsOf(els: Int32Array): Domain[] {
    const out = new Array<Domain>(els.length);
    let v: VariableIR | undefined;
    for (let j = 0; j < els.length; j++) {
      const e = els[j];
      if (!v || e < v.offset || e >= v.offset + v.size) v = this.varOf(e);
      out[j] = v.domain;
    }
    return out;
  }
}
