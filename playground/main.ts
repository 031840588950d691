/**
 * The gm playground: gm's own front end and compiler (src/index.ts) running in the page on every
 * edit. Left, the editor with highlighting and the diagnostics under their spans; right, live
 * views of the selected model — the factorization (KaTeX), the parameter counts with the fully
 * dependent / fully independent reference points, the `check` lines, an independence query with
 * its active trail, a clickable pixel grid (parents and Markov blanket), the graph (Graphviz as
 * WebAssembly) and the derivation from the chain rule one `assume` at a time.
 *
 * Speed: a fast compile runs in the keystroke's own task and the count, parameter table,
 * diagnostics and checks are painted first; after that frame come the factorization, query,
 * pixels and derivation (reused while a model block's text is unchanged). Graphviz's layout runs
 * in a Web Worker (graph-worker.ts), posted as soon as the compile is done, so it runs while this
 * thread paints; neither delays the count. Every update's times are kept in `window.gm.timings`
 * for bench/playground.bench.ts.
 */
import "katex/dist/katex.min.css";
import "./styles.css";
import katex from "katex";
import examples from "gm:examples";
import digits from "gm:digits";
import {
  compileText,
  derivationStep,
  ElementGraph,
  encoderMath,
  elementName,
  factorization,
  formatElements,
  hasErrors,
  markovBlanket,
  paramsReport,
  parseClaim,
  query,
  renderDiagnostic,
  scientific,
  toDot,
  withCommas,
  type CheckStmt,
  type CompileOptions,
  type CompileResult,
  type Diagnostic,
  type ModelIR,
  type ParamsRow,
  type VariableIR,
} from "../src/index";
import type { LayoutReply, LayoutRequest } from "./graph-worker";
import { highlight, type Mark } from "./highlight";
import { decodeHash, encodeSource } from "./share";
import { count as countImage, countingModel, nll, notCountable, sample } from "./train";
import { Rng } from "../src/rng";

/** One update's timing, in milliseconds from the keystroke (the input event's time stamp). */
export interface Timing {
  readonly example: string;
  /** Keystroke → count, parameter table, diagnostics and checks updated. */
  readonly views: number;
  /** Of which the compile itself. */
  readonly compile: number;
  /** Of which the wait before the compile started (the input event, the browser's own work, the task queue). */
  readonly wait: number;
  /** Keystroke → the `check` verdicts, when they were proven in a later task (a file whose checks are slow). */
  checks?: number;
  /** Keystroke → the factorization, query, pixel grid and derivation updated too (a later task). */
  rest?: number;
  /** Keystroke → the next frame painted with the count and diagnostics (requestAnimationFrame, then a task). */
  frame?: number;
  /**
   * Keystroke → graph laid out and drawn; null when no layout was needed (the DOT did not change,
   * or no model compiled).
   */
  graph?: number | null;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const source = $<HTMLTextAreaElement>("source");
const layer = $("highlight");
const FILE = "playground.gm";

const state = {
  result: null as CompileResult | null,
  /** Whether `result` includes the `check` verdicts (see `update`). */
  checked: true,
  model: "",
  example: "",
  pixel: null as [number, number] | null,
  trail: [] as number[],
  selectedCheck: -1,
  step: 0,
  marks: [] as Mark[],
  dot: "",
};
const timings: Timing[] = [];
let graphToken = 0;

// ---------------------------------------------------------------------------------------------
// Small helpers

const memo = new Map<string, unknown>();

/**
 * `make()`, remembered under the text of the model's block: a model is self-contained, so an
 * edit elsewhere in the file (or a space typed and removed) reuses its views.
 */
function memoized<T>(kind: string, m: ModelIR, make: () => T): T {
  const decl = state.result?.ast.models.find((d) => d.name.name === m.name);
  if (!decl) return make();
  const key = `${kind}\u0000${state.result!.text.slice(decl.span.start.offset, decl.span.end.offset)}`;
  if (memo.has(key)) return memo.get(key) as T;
  if (memo.size > 200) memo.clear();
  const value = make();
  memo.set(key, value);
  return value;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function count(n: bigint | null): string {
  if (n === null) return "—";
  const s = n.toString();
  return s.length > 24 ? `${scientific(n)} (${s.length} digits)` : withCommas(n);
}

/**
 * The model the views show: the one picked (the first by default). While the picked model does
 * not compile (the user is typing in it), null: the views keep their last state, dimmed, instead
 * of jumping to another model.
 */
function currentModel(): ModelIR | null {
  const r = state.result;
  if (!r) return null;
  const picked = r.models.find((m) => m.name === state.model);
  if (picked) return picked;
  if (r.ast.models.some((m) => m.name.name === state.model) || (hasErrors(r.diagnostics) && !r.models.length))
    return null;
  return r.models[0] ?? null;
}

/** The first observed variable shaped like an image ([H, W] or [H, W, C]). */
function imageVariable(m: ModelIR): VariableIR | undefined {
  return m.variables.find((v) => !v.latent && (v.shape.length === 2 || v.shape.length === 3));
}

/** The leading `//` block of a file: an example's teaching comment. */
function teachingComment(text: string): string {
  const lines: string[] = [];
  for (const l of text.split("\n")) {
    if (!/^\s*\/\//.test(l)) break;
    lines.push(l.replace(/^\s*\/\/ ?/, ""));
  }
  return lines.join("\n").trim();
}

/** Elements named in a trail note (`x[1] → x[2] ← z`), looked up by their names. */
function trailFromText(m: ModelIR, text: string): number[] {
  const names = text.split(/ [→←] /).map((s) => s.trim());
  const byName = new Map<string, number>();
  if (m.n > 1_000_000) return []; // naming every element would take too long: no highlight
  for (let e = 0; e < m.n; e++) byName.set(elementName(m.variables, e), e);
  return names.map((n) => byName.get(n)).filter((e): e is number => e !== undefined);
}

// ---------------------------------------------------------------------------------------------
// The editor: highlighting, diagnostics under their spans

function paintEditor(): void {
  layer.innerHTML = highlight(source.value, state.marks);
  layer.scrollTop = source.scrollTop;
  layer.scrollLeft = source.scrollLeft;
}

function renderDiagnostics(ds: readonly Diagnostic[], text: string): void {
  state.marks = ds.map((d) => ({ start: d.span.start.offset, end: d.span.end.offset, severity: d.severity }));
  paintEditor();
  const box = $("diagnostics");
  box.innerHTML = ds
    .map(
      (d, i) =>
        `<div class="diag ${d.severity}" data-i="${i}" data-code="${d.code}"><pre>${esc(renderDiagnostic(d, text)).replace(/^(hint: .*)$/m, '<span class="hint">$1</span>')}</pre></div>`,
    )
    .join("");
  box.querySelectorAll<HTMLElement>(".diag").forEach((el) => {
    el.onclick = () => {
      const d = ds[Number(el.dataset.i)];
      source.focus();
      source.setSelectionRange(d.span.start.offset, Math.max(d.span.start.offset, d.span.end.offset));
    };
  });
  // The first problem also shows right under its span, inside the editor.
  const popup = $("popup");
  const first = ds.find((d) => d.severity === "error") ?? ds[0];
  if (!first) {
    popup.hidden = true;
    return;
  }
  const probe = document.createElement("span");
  probe.textContent = "M";
  layer.appendChild(probe);
  const charW = probe.getBoundingClientRect().width;
  probe.remove();
  const lineH = parseFloat(getComputedStyle(layer).lineHeight);
  popup.hidden = false;
  popup.innerHTML = `<b>${esc(first.code)}</b> ${esc(first.message)}${first.hint ? `<div class="hint">hint: ${esc(first.hint)}</div>` : ""}`;
  popup.style.top = `${8 + first.span.start.line * lineH - source.scrollTop + 2}px`;
  popup.style.left = `${Math.max(0, 8 + (first.span.start.column - 1) * charW - source.scrollLeft)}px`;
}

// ---------------------------------------------------------------------------------------------
// Views of the selected model

function renderModelPicker(): void {
  const names = state.result?.ast.models.map((m) => m.name.name) ?? [];
  const sel = $<HTMLSelectElement>("model");
  if (!names.includes(state.model)) state.model = state.result?.models[0]?.name ?? names[0] ?? "";
  const html = names.map((n) => `<option${n === state.model ? " selected" : ""}>${esc(n)}</option>`).join("");
  if (sel.innerHTML !== html) sel.innerHTML = html;
}

function renderParams(m: ModelIR): void {
  $("total").textContent = `total ${count(m.params)}`;
  $("total").dataset.total = m.params.toString();
  $("params").innerHTML = memoized("params", m, () => paramsHtml(m));
}

function paramsHtml(m: ModelIR): string {
  const r = paramsReport(m);
  // One statement under `for` gives one factor per element: show it as one row with the sum.
  const groups = new Map<string, ParamsRow[]>();
  for (const row of r.rows) {
    const key = `${row.line}\u0000${row.group}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const some = (xs: string[], what: string) => {
    const u = [...new Set(xs)];
    return u.length <= 3 ? u.join(" / ") : `${u.length} different ${what}`;
  };
  const rows = [...groups.values()]
    .map((g) => {
      const sum = g.reduce((a, x) => a + x.params, 0n);
      const many = g.length > 1 ? ` <small>(${g.length} factors)</small>` : "";
      return `<tr><td>${esc(g[0].group)}${many}</td><td>${esc(
        some(
          g.map((x) => x.parents),
          "parent sets",
        ),
      )}</td><td>${esc(
        some(
          g.map((x) => x.shape),
          "shapes",
        ),
      )}</td><td class="n">${count(sum)}</td><td>${esc(g[0].closedForm ?? "")}</td></tr>`;
    })
    .join("");
  const refs = r.reference.filter((x) => x.fullyDependent !== null);
  return (
    `<table><tr><th>factor group</th><th>parents</th><th>table shape / network</th><th>parameters</th><th>closed form</th></tr>${rows}</table>` +
    (refs.length
      ? `<p>reference points (observed variables):</p><table id="reference"><tr><th>variable</th><th>elements</th><th>fully dependent Π k − 1</th><th>fully independent Σ (k − 1)</th></tr>${refs
          .map(
            (x) =>
              `<tr><td>${esc(x.variable)}</td><td class="n">${x.elements}</td><td class="n">${count(x.fullyDependent)}</td><td class="n">${count(x.fullyIndependent)}</td></tr>`,
          )
          .join("")}</table>`
      : "")
  );
}

/** The factorization, and a latent model's encoder q(z | x) under it, as `gm factor` prints them. */
function renderFactorization(m: ModelIR): void {
  $("factorization").innerHTML = memoized("factorization", m, () => {
    const tex = (s: string) => katex.renderToString(s, { displayMode: true, throwOnError: false, output: "html" });
    const q = encoderMath(m, "latex");
    return tex(factorization(m, "latex")) + (q ? tex(q) : "");
  });
}

/** Every model's `check` lines: passing, failing (with the message and trail), or not run. */
function renderChecks(r: CompileResult): void {
  const list: string[] = [];
  let i = 0;
  const failures = r.diagnostics.filter((d) => d.severity === "error" && d.code.startsWith("E05"));
  for (const decl of r.ast.models) {
    const checks = decl.body.filter((s): s is CheckStmt => s.kind === "Check");
    if (!checks.length) continue;
    const compiled = r.models.some((m) => m.name === decl.name.name);
    list.push(`<li class="model">${esc(decl.name.name)}</li>`);
    for (const c of checks) {
      const lineEnd = r.text.indexOf("\n", c.span.end.offset);
      // the whole line as written
      const text = r.text.slice(c.span.start.offset, lineEnd < 0 ? r.text.length : lineEnd).trimEnd();
      const failed = failures.filter(
        (d) => d.span.start.offset >= c.span.start.offset && d.span.end.offset <= c.span.end.offset,
      );
      const status = !compiled ? "skip" : !state.checked ? "pending" : failed.length ? "fail" : "pass";
      const why = failed
        .map((d) => `<span class="why">${esc(d.message)}${(d.notes ?? []).map((n) => `\n${esc(n)}`).join("")}</span>`)
        .join("");
      const trail = failed.flatMap((d) => d.notes ?? []).find((n) => n.startsWith("active trail: "));
      list.push(
        `<li class="${status}${i === state.selectedCheck ? " selected" : ""}" data-i="${i}" data-model="${esc(decl.name.name)}"${trail ? ` data-trail="${esc(trail.slice(14))}"` : ""} title="${status === "skip" ? "not run: the model has errors" : ""}">${esc(text)}${why}</li>`,
      );
      i++;
    }
  }
  $("checks").innerHTML = list.join("") || "<li>(no check lines)</li>";
  $("checks")
    .querySelectorAll<HTMLElement>("li.fail")
    .forEach((el) => {
      el.onclick = () => {
        state.model = el.dataset.model!;
        state.selectedCheck = Number(el.dataset.i);
        $<HTMLInputElement>("query").value = "";
        renderAll(false);
        const m = currentModel();
        state.trail = m && el.dataset.trail ? trailFromText(m, el.dataset.trail) : [];
        $("answer").innerHTML = el.dataset.trail
          ? `<span class="no">dependent</span> — active trail: ${esc(el.dataset.trail)}`
          : "";
        renderPixels(m);
        highlightGraph(m);
      };
    });
}

/** The query box: independent, or dependent with its active trail. */
function renderQuery(m: ModelIR | null): void {
  const text = $<HTMLInputElement>("query").value.trim();
  const out = $("answer");
  if (!text || !m) {
    if (state.selectedCheck < 0) state.trail = [];
    if (!text) out.innerHTML = state.selectedCheck < 0 ? "" : out.innerHTML;
    return;
  }
  state.selectedCheck = -1;
  const parsed = parseClaim(text);
  const fail = (ds: readonly Diagnostic[]) => {
    state.trail = [];
    out.innerHTML = ds
      .map(
        (d) =>
          `<div class="error">${esc(d.message)}${d.hint ? ` <span class="hint">(${esc(d.hint)})</span>` : ""}</div>`,
      )
      .join("");
  };
  if (!parsed.claim || hasErrors(parsed.diagnostics)) return fail(parsed.diagnostics);
  const big = tooBig(m);
  if (big) {
    state.trail = [];
    out.innerHTML = `<div class="error">${esc(big)}</div>`;
    return;
  }
  const { answer, diagnostics } = query(m, parsed.claim);
  if (!answer) return fail(diagnostics);
  const asked = parsed.claim.negated
    ? ` (asked for dependence: it ${answer.independent ? "does not hold" : "holds"})`
    : "";
  state.trail = answer.trailSteps?.map((s) => s.element) ?? [];
  out.dataset.answer = answer.independent ? "independent" : "dependent";
  out.innerHTML = answer.independent
    ? `<span class="yes">independent</span>: ${esc(answer.claim)}<br>every trail between them is blocked (d-separated)${asked}`
    : `<span class="no">dependent</span>: ${esc(answer.claim)} does not hold<br>active trail: <span id="trail">${esc(answer.trail ?? "")}</span>${asked}`;
}

/** Largest image (H × W cells) drawn as a clickable grid. */
const MAX_PIXELS = 128 * 128;

const FILL = { pixel: "#d62728", parent: "#1f77b4", child: "#ff7f0e", blanket: "#9edae5", none: "#f7f7f7" } as const;

/** The clickable grid of the first image variable: the selected pixel, its parents, children and blanket. */
function renderPixels(m: ModelIR | null): void {
  const v = m && imageVariable(m);
  $("pixel-card").hidden = !v;
  if (!m || !v) return;
  const [H, W] = v.shape;
  const big = tooBig(m);
  if (H * W > MAX_PIXELS || big) {
    $("pixels").innerHTML = "";
    $("pixel-info").textContent =
      big ??
      `${v.name} has ${H}×${W} pixels: too many to draw here (at most ${MAX_PIXELS}); the query box still answers about any of them`;
    return;
  }
  const C = v.shape.length === 3 ? v.shape[2] : 1;
  const id = (r: number, c: number, k = 0) => v.offset + ((r - 1) * W + (c - 1)) * C + k;
  const cellOf = (e: number) => (e >= v.offset && e < v.offset + v.size ? Math.floor((e - v.offset) / C) : -1);
  if (state.pixel && (state.pixel[0] > H || state.pixel[1] > W)) state.pixel = null;
  const kind = new Map<number, keyof typeof FILL>();
  let info = "";
  if (state.pixel) {
    const [r, c] = state.pixel;
    const rank = { pixel: 4, parent: 3, child: 2, blanket: 1, none: 0 } as const;
    const mark = (e: number, k: keyof typeof FILL) => {
      const cell = cellOf(e);
      if (cell >= 0 && rank[k] > rank[kind.get(cell) ?? "none"]) kind.set(cell, k);
    };
    const parents = new Set<number>();
    const blanket = new Set<number>();
    for (let k = 0; k < C; k++) {
      const b = markovBlanket(m, id(r, c, k));
      b.blanket.forEach((e) => (mark(e, "blanket"), blanket.add(e)));
      b.children.forEach((e) => mark(e, "child"));
      b.parents.forEach((e) => (mark(e, "parent"), parents.add(e)));
    }
    kind.set((r - 1) * W + (c - 1), "pixel");
    const name = elementName(m.variables, id(r, c));
    const own = (s: Set<number>) => [...s].filter((e) => cellOf(e) !== (r - 1) * W + (c - 1));
    info =
      `<b>${esc(C > 1 ? `${v.name}[${r}, ${c}, *]` : name)}</b> — position ${v.rank[id(r, c) - v.offset] + 1} of ${v.size} in ${v.order.kind} order<br>` +
      `parents (${own(parents).length}): <span id="pixel-parents">${esc(formatElements(m.variables, own(parents)) || "none")}</span><br>` +
      `Markov blanket (${own(blanket).length}): <span id="pixel-blanket">${esc(formatElements(m.variables, own(blanket)) || "none")}</span>`;
  }
  const trailCells = new Set(state.trail.map(cellOf).filter((x) => x >= 0));
  const size = Math.max(8, Math.min(28, Math.floor(360 / Math.max(H, W))));
  const cells: string[] = [];
  for (let r = 1; r <= H; r++)
    for (let c = 1; c <= W; c++) {
      const cell = (r - 1) * W + (c - 1);
      const k = kind.get(cell) ?? "none";
      cells.push(
        `<rect class="cell ${k}${trailCells.has(cell) ? " trail" : ""}" data-r="${r}" data-c="${c}" x="${(c - 1) * size}" y="${(r - 1) * size}" width="${size}" height="${size}" fill="${FILL[k]}"><title>${v.name}[${r}, ${c}]</title></rect>`,
      );
    }
  $("pixels").innerHTML =
    `<svg width="${W * size}" height="${H * size}" viewBox="0 0 ${W * size} ${H * size}">${cells.join("")}</svg>
    <div class="legend"><span style="background:${FILL.pixel}"></span>pixel<span style="background:${FILL.parent}"></span>parents<span style="background:${FILL.child}"></span>children<span style="background:${FILL.blanket}"></span>rest of the Markov blanket<span style="border:2px solid #000"></span>trail</div>`;
  $("pixel-info").innerHTML = info || `${esc(v.name)} : ${H}×${W}${C > 1 ? `×${C}` : ""} — click a pixel`;
  $("pixels").querySelector("svg")!.onclick = (ev) => {
    const t = ev.target as SVGElement;
    if (!t.dataset.r) return;
    state.pixel = [Number(t.dataset.r), Number(t.dataset.c)];
    renderPixels(currentModel());
    highlightGraph(currentModel());
  };
}

/** The derivation from the chain rule, one `assume` at a time, with prev/next. */
function renderSteps(m: ModelIR | null): void {
  const steps = m?.derivation ?? [];
  const shown = steps.slice(0, 200);
  state.step = Math.min(state.step, shown.length);
  const starts = (m?.factors ?? []).filter(
    (f) => f.family === "chain" || f.family === "markov" || f.family === "logistic",
  );
  const items = [
    ...starts.map(
      (f) =>
        `<li class="start">start: ${esc(f.source)} (the chain rule in ${f.family === "markov" ? `a window of ${f.args.k}` : "the declared order"})</li>`,
    ),
    ...(m ? memoized("steps", m, () => shown.map((s) => derivationStep(m, s))) : []).map(
      (t, i) =>
        `<li${i === 0 ? ' value="1"' : ""} class="${i < state.step - 1 ? "done" : i === state.step - 1 ? "current" : "future"}">${esc(t)}</li>`,
    ),
    steps.length > shown.length ? `<li class="future">… ${steps.length - shown.length} more steps</li>` : "",
    m && state.step === shown.length
      ? `<li class="result">result: ${esc(memoized("unicode", m, () => factorization(m, "unicode")))}</li>`
      : "",
  ];
  $("steps").innerHTML = m
    ? steps.length
      ? items.join("")
      : '<li class="start">(no assumption removed a parent)</li>'
    : "";
  $("step-at").textContent = steps.length ? `step ${state.step} of ${shown.length}` : "";
  $<HTMLButtonElement>("prev").disabled = state.step <= 0;
  $<HTMLButtonElement>("next").disabled = state.step >= shown.length;
}

// ---------------------------------------------------------------------------------------------
// Training by counting (a binary 28 × 28 model whose pixels have few parents)

/** Digits kept out of training, to score on. */
const HELD_OUT = 40;
/** Digits counted between two pictures of samples. */
const TRAIN_STEP = 40;
let trainToken = 0;

/** The embedded digits as 0/1 pixel arrays (decoded once). */
const images = (() => {
  let cache: Uint8Array[] | null = null;
  return () => {
    if (cache) return cache;
    const bytes = Uint8Array.from(atob(digits.base64), (c) => c.charCodeAt(0));
    const per = Math.ceil(digits.pixels / 8);
    cache = Array.from({ length: digits.count }, (_, k) =>
      Uint8Array.from({ length: digits.pixels }, (_, p) => (bytes[k * per + (p >> 3)] >> (p & 7)) & 1),
    );
    return cache;
  };
})();

function renderTrain(m: ModelIR | null): void {
  const v = m?.variables.find((x) => !x.latent);
  const show =
    !!m && !!v && v.domain.kind === "bernoulli" && v.shape.length === 2 && v.shape[0] === 28 && v.shape[1] === 28;
  $("train-card").hidden = !show;
  if (!show || !m) return;
  const why = notCountable(m);
  const button = $<HTMLButtonElement>("train");
  button.disabled = why !== null;
  button.textContent = `train ${m.name} on ${digits.count - HELD_OUT} digits`;
  if (why || $("train-card").dataset.model !== m.name) {
    trainToken++;
    $("train-card").dataset.model = m.name;
    $("train-status").textContent = why ? `not here: ${why}` : "";
    $("train-status").dataset.nll = "";
    $<HTMLCanvasElement>("samples").getContext("2d")!.clearRect(0, 0, 232, 232);
  }
}

function drawSamples(xs: Uint8Array[]): void {
  const ctx = $<HTMLCanvasElement>("samples").getContext("2d")!;
  const img = ctx.createImageData(232, 232);
  img.data.fill(255);
  xs.forEach((x, k) => {
    const [ox, oy] = [(k % 4) * 58 + 1, Math.floor(k / 4) * 58 + 1];
    for (let p = 0; p < 784; p++)
      for (let d = 0; d < 4; d++) {
        const at = ((oy + Math.floor(p / 28) * 2 + (d >> 1)) * 232 + ox + (p % 28) * 2 + (d & 1)) * 4;
        const c = x[p] ? 0 : 255;
        img.data[at] = img.data[at + 1] = img.data[at + 2] = c;
      }
  });
  ctx.putImageData(img, 0, 0);
}

/** Counts the digits a step at a time, drawing 16 samples (same seed) and the held-out −log p after each step. */
function train(m: ModelIR): void {
  const token = ++trainToken;
  const cm = countingModel(m);
  const all = images();
  const test = all.slice(all.length - HELD_OUT);
  const data = all.slice(0, all.length - HELD_OUT);
  const step = () => {
    if (token !== trainToken) return;
    for (const x of data.slice(cm.seen, cm.seen + TRAIN_STEP)) countImage(cm, x);
    const held = test.reduce((a, x) => a + nll(cm, x), 0) / test.length;
    const rng = new Rng(1);
    drawSamples(Array.from({ length: 16 }, () => sample(cm, rng)));
    $("train-status").dataset.nll = held.toFixed(3);
    $("train-status").dataset.seen = String(cm.seen);
    $("train-status").textContent =
      `${cm.seen} digits counted · held-out −log p(x) = ${held.toFixed(1)} nats (${(held / Math.LN2 / 784).toFixed(3)} bits/pixel; ${(784).toFixed(0)} × ln 2 = ${(784 * Math.LN2).toFixed(1)} untrained)`;
    if (cm.seen < data.length) setTimeout(step, 60);
  };
  step();
}

// ---------------------------------------------------------------------------------------------
// The graph (Graphviz in a later task), with the trail and the selected pixel highlighted

function dotOf(m: ModelIR): string {
  const edges = edgeCount(m);
  if (edges > MAX_EDGES) return "";
  // Element by element within GRAPH_BUDGET (src/compiler/dot.ts: elements, edges and layout work), as `gm graph`.
  return toDot(m);
}

/**
 * Above this many edges the page neither draws the graph nor walks it (Markov blankets,
 * queries): drawing even one node per variable visits every edge, and a search may too.
 */
const MAX_EDGES = 2_000_000;

/** The number of edges of the model's graph (counted without listing them). */
function edgeCount(m: ModelIR): number {
  return memoized("edges", m, () => new ElementGraph(m.n, m.factors, m.factorOf, m.positionOf).edgeCount());
}

function tooBig(m: ModelIR): string | null {
  const edges = edgeCount(m);
  return edges > MAX_EDGES
    ? `${m.name} has ${withCommas(BigInt(edges))} edges: too many to walk in the page (at most ${withCommas(BigInt(MAX_EDGES))})`
    : null;
}

function renderGraph(m: ModelIR | null, done: (at: number | null) => void): void {
  const token = ++graphToken;
  if (!m) return done(null);
  const dot = memoized("dot", m, () => dotOf(m));
  if (!dot) {
    state.dot = "";
    $("graph").textContent = tooBig(m);
    return done(null);
  }
  if (dot === state.dot) {
    highlightGraph(m);
    return done(null);
  }
  layout(dot).then(
    (svg) => {
      if (svg === null || token !== graphToken) return; // a newer edit came first
      state.dot = dot;
      const box = $("graph");
      box.innerHTML = svg;
      box.dataset.renders = String(Number(box.dataset.renders ?? 0) + 1);
      highlightGraph(m);
      done(performance.now());
    },
    (e: Error) => {
      if (token !== graphToken) return;
      state.dot = "";
      $("graph").textContent = `Graphviz could not lay out ${m.name}: ${e.message}`;
      done(performance.now());
    },
  );
}

/** Starts the layout of the model's graph in the worker, if it changed, so it runs while this thread paints. */
function prefetchGraph(m: ModelIR | null): void {
  const dot = m ? memoized("dot", m, () => dotOf(m)) : "";
  if (dot && dot !== state.dot) layout(dot).catch(() => {}); // renderGraph shows a failure
}

/** A layout posted to the worker (or waiting for it): its DOT and the SVG to come (null: superseded). */
interface Layout {
  id: number;
  dot: string;
  svg: Promise<string | null>;
  settle: (svg: string | null) => void;
  fail: (e: Error) => void;
}

let worker: Worker | null = null;
let layouts = 0;
/** The layout the worker is running, the one waiting for it (a newer request replaces it), the last requested. */
let running: Layout | null = null;
let waiting: Layout | null = null;
let latest: Layout | null = null;

/**
 * Graphviz's `dot` layout of `dot` as SVG, from graph-worker.ts. The worker runs one layout at a
 * time; of the requests made meanwhile only the newest waits, the others resolve to null, so a
 * burst of keystrokes costs at most two layouts. The same DOT asked again shares one layout.
 */
function layout(dot: string): Promise<string | null> {
  if (latest?.dot === dot) return latest.svg;
  let settle: Layout["settle"] = () => {};
  let fail: Layout["fail"] = () => {};
  const svg = new Promise<string | null>((ok, no) => ((settle = ok), (fail = no)));
  waiting?.settle(null);
  waiting = latest = { id: ++layouts, dot, svg, settle, fail };
  pump();
  return svg;
}

/** Posts the waiting layout when the worker is free (starting the worker the first time). */
function pump(): void {
  if (running || !waiting) return;
  worker ??= startWorker();
  running = waiting;
  waiting = null;
  worker.postMessage({ id: running.id, dot: running.dot } satisfies LayoutRequest);
}

/** dist/playground/graph-worker.js, a file beside main.js (no blob:, nothing fetched from elsewhere). */
function startWorker(): Worker {
  const w = new Worker(new URL("./graph-worker.js", import.meta.url));
  w.onmessage = (e: MessageEvent<LayoutReply>) => {
    const done = running!;
    running = null;
    if ("svg" in e.data) done.settle(e.data.svg);
    else done.fail(new Error(e.data.error));
    pump();
  };
  w.onerror = (e) => {
    // The worker itself failed (not a bad graph): fail what is pending and start afresh next time.
    e.preventDefault();
    worker = null;
    for (const l of [running, waiting]) l?.fail(new Error(e.message || "the layout worker failed"));
    running = waiting = latest = null;
  };
  return w;
}

function highlightGraph(m: ModelIR | null): void {
  if (!m) return;
  const box = $("graph");
  const elementMode = box.querySelector("g.node title")?.textContent?.match(/^n\d+$/) !== null;
  const key = (e: number) =>
    elementMode ? `n${e}` : m.variables.find((v) => e >= v.offset && e < v.offset + v.size)!.name;
  const trailNodes = new Set(state.trail.map(key));
  const trailEdges = new Set<string>();
  for (let i = 1; i < state.trail.length; i++) {
    const [a, b] = [key(state.trail[i - 1]), key(state.trail[i])];
    trailEdges.add(`${a}->${b}`).add(`${b}->${a}`);
  }
  const pixel = new Set<string>();
  const parents = new Set<string>();
  const v = imageVariable(m);
  if (elementMode && v && state.pixel) {
    const C = v.shape.length === 3 ? v.shape[2] : 1;
    const e = v.offset + ((state.pixel[0] - 1) * v.shape[1] + (state.pixel[1] - 1)) * C;
    pixel.add(key(e));
    markovBlanket(m, e).parents.forEach((p) => parents.add(key(p)));
  }
  box.querySelectorAll("g.node").forEach((g) => {
    const t = g.querySelector("title")?.textContent ?? "";
    g.classList.toggle("trail", trailNodes.has(t));
    g.classList.toggle("pixel", pixel.has(t));
    g.classList.toggle("parent", parents.has(t));
  });
  box
    .querySelectorAll("g.edge")
    .forEach((g) => g.classList.toggle("trail", trailEdges.has(g.querySelector("title")?.textContent ?? "")));
}

// ---------------------------------------------------------------------------------------------
// One update: compile, then every view

/**
 * Redraws every view: the count, parameter table, diagnostics and checks at once; the
 * factorization, query, pixel grid and derivation through `later` (after an edit: the next task,
 * so the count and diagnostics never wait for them).
 */
function renderAll(fresh: boolean, later: (fn: () => void) => void = (fn) => fn()): void {
  const r = state.result!;
  if (fresh) renderDiagnostics(r.diagnostics, r.text);
  renderModelPicker();
  const m = currentModel();
  document.body.classList.toggle("stale", !m);
  renderChecks(r);
  if (m) renderParams(m);
  const teaching = teachingComment(r.text);
  $("teaching").textContent = teaching;
  $("about").hidden = !teaching;
  later(() => {
    if (!m) return;
    renderFactorization(m);
    renderQuery(m);
    renderPixels(m);
    renderSteps(m);
    renderTrain(m);
  });
}

let pendingStamp: number | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
let lastCompile = 0;
/** What the `check` lines cost in the last compile, in ms (an upper bound until measured). */
let checksCost = 0;
let updates = 0;
let hashTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * `compileText`, never throwing: should the compiler itself fail on some input (a bug in gm), the
 * page shows that as one error on the first line and keeps working, instead of dying mid-update.
 */
function compile(text: string, options: CompileOptions = {}): CompileResult {
  try {
    return compileText(text, FILE, options);
  } catch (e) {
    const at = { offset: 0, line: 1, column: 1 };
    const span = { start: at, end: { offset: Math.min(1, text.length), line: 1, column: 2 } };
    const message = `the compiler failed on this input: ${(e as Error)?.message ?? String(e)}`;
    const diagnostic: Diagnostic = {
      code: "internal",
      severity: "error",
      message,
      file: FILE,
      span,
      hint: "this is a bug in gm: please report it with this file (copy link)",
    };
    return { models: [], diagnostics: [diagnostic], ast: { kind: "File", models: [], span }, text, file: FILE };
  }
}

/**
 * Compiles the editor's text and redraws; `stamp` is when the user acted. When the file's `check`
 * lines were slow to prove last time (d-separation over hundreds of pixels), the count and the
 * diagnostics come from a compile without them, and the checks are proven in the next task.
 */
function update(stamp = performance.now()): void {
  const text = source.value;
  const split = checksCost > 20;
  const t0 = performance.now();
  state.result = compile(text, split ? { checks: false } : {});
  state.checked = !split;
  lastCompile = performance.now() - t0;
  if (!split) checksCost = lastCompile;
  prefetchGraph(currentModel());
  state.selectedCheck = -1;
  let rest = () => {};
  renderAll(true, (fn) => (rest = fn));
  const views = performance.now() - stamp;
  const timing: Timing = { example: state.example, views, compile: lastCompile, wait: t0 - stamp };
  timings.push(timing);
  requestAnimationFrame(() => setTimeout(() => (timing.frame = performance.now() - stamp), 0));
  $("status").textContent =
    `compiled in ${lastCompile.toFixed(1)} ms · updated ${views.toFixed(1)} ms after the keystroke`;
  const token = ++updates;
  // The rest waits for the frame that shows the count and the diagnostics to be painted.
  const afterPaint = (fn: () => void) => requestAnimationFrame(() => setTimeout(fn, 0));
  afterPaint(() => {
    if (token !== updates) return; // a newer edit redraws everything
    if (split) {
      const t1 = performance.now();
      state.result = compile(text);
      state.checked = true;
      checksCost = performance.now() - t1 - lastCompile;
      renderDiagnostics(state.result.diagnostics, text);
      renderChecks(state.result);
      timing.checks = performance.now() - stamp;
    }
    rest();
    timing.rest = performance.now() - stamp;
    renderGraph(currentModel(), (t) => (timing.graph = t === null ? null : t - stamp));
  });
  if (hashTimer) clearTimeout(hashTimer);
  hashTimer = setTimeout(saveHash, 300);
}

/**
 * Coalesces keystrokes into one compile in a later task (keys typed while one waits join it),
 * waiting a little more when compiles are slow.
 */
function schedule(stamp: number): void {
  pendingStamp ??= stamp;
  if (timer) return;
  timer = setTimeout(
    () => {
      timer = null;
      const s = pendingStamp!;
      pendingStamp = null;
      update(s);
    },
    lastCompile > 30 ? 60 : 0,
  );
}

async function saveHash(): Promise<void> {
  const ex = examples.find((e) => e.text === source.value);
  const hash = ex ? `#example=${ex.name}` : await encodeSource(source.value);
  if (hash !== location.hash) history.replaceState(null, "", hash);
}

function load(text: string, example: string): void {
  source.value = text;
  state.example = example;
  state.model = "";
  state.pixel = null;
  state.step = 0;
  state.marks = [];
  $<HTMLSelectElement>("examples").value = example;
  paintEditor();
  update();
}

// ---------------------------------------------------------------------------------------------
// Wiring

// A fast compile runs at once, in the input event's own task; a slow one is coalesced with the keys that follow.
source.addEventListener("input", (e) => {
  if (!timer && lastCompile < 12) return update(e.timeStamp);
  paintEditor();
  schedule(e.timeStamp);
});
source.addEventListener("scroll", () => {
  layer.scrollTop = source.scrollTop;
  layer.scrollLeft = source.scrollLeft;
  $("popup").hidden = true;
});
source.addEventListener("keydown", (e) => {
  if (e.key !== "Tab" || e.shiftKey) return;
  e.preventDefault();
  document.execCommand("insertText", false, "  ");
});
$<HTMLSelectElement>("examples").onchange = (e) => {
  const name = (e.target as HTMLSelectElement).value;
  const ex = examples.find((x) => x.name === name);
  if (ex) load(ex.text, ex.name);
};
$<HTMLSelectElement>("model").onchange = (e) => {
  state.model = (e.target as HTMLSelectElement).value;
  state.pixel = null;
  state.step = 0;
  renderAll(false);
  renderGraph(currentModel(), () => {});
};
$("query").addEventListener("input", () => {
  renderQuery(currentModel());
  renderPixels(currentModel());
  highlightGraph(currentModel());
});
$("train").onclick = () => {
  const m = currentModel();
  if (m) train(m);
};
$("prev").onclick = () => {
  state.step--;
  renderSteps(currentModel());
};
$("next").onclick = () => {
  state.step++;
  renderSteps(currentModel());
};
$("share").onclick = async () => {
  await saveHash();
  try {
    await navigator.clipboard.writeText(location.href);
    $("status").textContent = "link copied: it carries this source";
  } catch {
    $("status").textContent = "copy the address bar: it carries this source";
  }
};
window.addEventListener("hashchange", () => void start());

for (const ex of examples) {
  const o = document.createElement("option");
  o.value = ex.name;
  o.textContent = ex.name;
  o.title = teachingComment(ex.text).split("\n")[0];
  $("examples").appendChild(o);
}

/** Loads what the URL asks for, else the file `gm playground FILE` preloads, else the first example. */
async function start(): Promise<void> {
  const asked = await decodeHash(location.hash);
  if (asked === null) $("status").textContent = "this link's source could not be read";
  const ex = examples.find((e) => e.name === asked?.example);
  if (ex) return load(ex.text, ex.name);
  if (asked?.source !== undefined) {
    if (asked.source !== source.value) load(asked.source, "");
    return;
  }
  if (source.value) return;
  try {
    const res = await fetch("preload.json");
    const file = res.ok ? ((await res.json()) as { name: string; text: string } | null) : null;
    if (file) return load(file.text, examples.find((e) => e.text === file.text)?.name ?? "");
  } catch {
    // no preloaded file
  }
  load(examples[0].text, examples[0].name);
}

declare global {
  interface Window {
    /**
     * For tests and bench/playground.bench.ts: the update timings, the first load, whether every
     * view is up to date.
     */
    gm: { timings: Timing[]; ready: Promise<void>; settled: () => boolean };
  }
}
window.gm = {
  timings,
  ready: start().then(() => void (document.body.dataset.ready = "1")),
  // Every view shows the editor's text: compiled, the later views drawn and the graph laid out.
  settled: () =>
    timer === null &&
    state.result?.text === source.value &&
    timings.length > 0 &&
    timings[timings.length - 1].graph !== undefined,
};
