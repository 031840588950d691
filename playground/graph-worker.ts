/**
 * The playground's Graphviz, off the page's main thread: main.ts posts `{ id, dot }` as soon as a
 * compile is done and this worker answers `{ id, svg }` (or `{ id, error }`) with the same layout
 * the page drew before — `dot` engine, default options — so the layout (≈ 40 ms for a 16-node
 * complete DAG) runs while the main thread paints the count. Built by scripts/build-playground.ts
 * as dist/playground/graph-worker.js beside main.js (Graphviz's WebAssembly inlined: nothing fetched).
 * main.ts keeps at most one layout queued here, so a newer keystroke's layout supersedes an older one.
 */
import { Graphviz } from "@hpcc-js/wasm-graphviz";

/** A layout request from main.ts. */
export interface LayoutRequest {
  id: number;
  dot: string;
}

/** The answer to request `id`: the SVG, or why Graphviz refused. */
export type LayoutReply = { id: number; svg: string } | { id: number; error: string };

const graphviz = Graphviz.load();

self.onmessage = async (e: MessageEvent<LayoutRequest>) => {
  const { id, dot } = e.data;
  let reply: LayoutReply;
  try {
    reply = { id, svg: (await graphviz).dot(dot) };
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(reply);
};
