/**
 * Pictures people would rather look at than numbers: sample grids (PNG, through pngjs) and
 * training curves of every metric (Vega-Lite → SVG, then PNG through resvg). Runs, benches and
 * the CLI all draw through here.
 */
import { PNG } from "pngjs";
import type { VariableIR } from "../compiler/ir";
import { writeFileAtomic } from "../data/atomic";
import type { EpochRecord } from "./checkpoint";

/** Rasterizes an SVG document to PNG bytes (resvg, using the system's fonts where present). */
export async function svgToPng(svg: string, width?: number): Promise<Uint8Array> {
  const { Resvg } = await import("@resvg/resvg-js");
  const r = new Resvg(svg, {
    fitTo: width ? { mode: "width", value: width } : { mode: "original" },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
  });
  return r.render().asPng();
}

/** How one example is drawn: an image [H, W] / [H, W, C], or a 1-D row of cells. */
function tileShape(v: VariableIR): { h: number; w: number; channels: number } {
  if (v.shape.length >= 2) return { h: v.shape[0], w: v.shape[1], channels: v.shape.length === 3 ? v.shape[2] : 1 };
  return { h: 1, w: Math.max(1, v.size), channels: 1 };
}

/** Intensity in [0, 255] of a value of `v`'s domain. */
function intensity(v: VariableIR, x: number): number {
  switch (v.domain.kind) {
    case "bernoulli":
      return x > 0.5 ? 255 : 0;
    case "categorical":
      return Math.round((x / (v.domain.k - 1)) * 255);
    case "real":
      return Math.round(((x - v.domain.lo) / (v.domain.hi - v.domain.lo)) * 255);
    case "normal":
      return Math.round(255 / (1 + Math.exp(-x)));
  }
}

/**
 * Encodes `n` examples of variable `v` (rows of `dim` values, the variable's elements starting at
 * `v.offset`) as a PNG grid, `scale` screen pixels per element, white separators.
 */
export function gridPng(v: VariableIR, rows: Float32Array, n: number, dim: number, scale = 2): Uint8Array {
  const { h, w, channels } = tileShape(v);
  const cols = Math.ceil(Math.sqrt(n));
  const gridRows = Math.ceil(n / cols);
  const sep = 2;
  const tileH = h * scale;
  const tileW = w * scale;
  const png = new PNG({ width: cols * (tileW + sep) + sep, height: gridRows * (tileH + sep) + sep });
  png.data.fill(255);
  for (let i = 0; i < n; i++) {
    const oy = sep + Math.floor(i / cols) * (tileH + sep);
    const ox = sep + (i % cols) * (tileW + sep);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const rgb = [0, 0, 0];
        for (let c = 0; c < 3; c++) {
          const ch = channels === 3 ? c : 0;
          const flat = (y * w + x) * channels + ch;
          rgb[c] = intensity(v, rows[i * dim + v.offset + flat]);
        }
        for (let sy = 0; sy < scale; sy++)
          for (let sx = 0; sx < scale; sx++) {
            const p = ((oy + y * scale + sy) * png.width + ox + x * scale + sx) * 4;
            // Bernoulli/intensity images read as ink on paper: high values dark.
            png.data[p] = 255 - rgb[0];
            png.data[p + 1] = 255 - rgb[1];
            png.data[p + 2] = 255 - rgb[2];
            png.data[p + 3] = 255;
          }
      }
  }
  return PNG.sync.write(png);
}

/** Points of a curve: one per epoch, metric and split (`nll (train)`, `nll (held-out)`, …). */
export function curvePoints(history: readonly EpochRecord[]): Array<{ epoch: number; value: number; series: string }> {
  return history
    .flatMap((r) => [
      ...Object.entries(r.train).map(([k, value]) => ({ epoch: r.epoch, value, series: `${k} (train)` })),
      ...Object.entries(r.test).map(([k, value]) => ({ epoch: r.epoch, value, series: `${k} (held-out)` })),
    ])
    .filter((p) => Number.isFinite(p.value));
}

/** The training curve as SVG: every training loss and held-out metric per epoch. */
export async function curveSvg(history: readonly EpochRecord[], title: string): Promise<string> {
  const vega = await import("vega");
  const vl = await import("vega-lite");
  const spec = vl.compile({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    width: 480,
    height: 260,
    background: "white",
    data: { values: curvePoints(history) },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "epoch", type: "quantitative", axis: { tickMinStep: 1, title: "epoch" } },
      y: { field: "value", type: "quantitative", scale: { zero: false }, title: "nats per example" },
      color: { field: "series", type: "nominal", title: null },
    },
  } as never).spec;
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Writes curve.svg and curve.png into `dir`. */
export async function writeCurve(dir: string, history: readonly EpochRecord[], title: string): Promise<string[]> {
  const svg = await curveSvg(history, title);
  writeFileAtomic(`${dir}/curve.svg`, svg);
  writeFileAtomic(`${dir}/curve.png`, await svgToPng(svg));
  return [`${dir}/curve.svg`, `${dir}/curve.png`];
}
