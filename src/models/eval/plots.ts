/**
 * The pictures of `gm embed` and `gm anomaly`, as SVG through Vega-Lite (the CLI rasterizes
 * them to PNG with resvg, as it does the training curves): a scatter of 2-D codes coloured by
 * label, and the histograms of two sets of scores on one axis.
 */

/** Renders a Vega-Lite spec to an SVG document (headless, no fonts needed until rasterizing). */
async function vegaLiteSvg(spec: Record<string, unknown>): Promise<string> {
  const vega = await import("vega");
  const vl = await import("vega-lite");
  const compiled = vl.compile({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    background: "white",
    ...spec,
  } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/**
 * A scatter of n points (`xy` is n × 2 row-major) coloured by `labels` (absent: one colour),
 * axes named `axes`. At most `limit` points are drawn (the first ones; default 5,000).
 */
export async function latentScatterSvg(
  xy: Float32Array,
  n: number,
  labels: ArrayLike<number> | undefined,
  options: { title: string; axes?: readonly [string, string]; limit?: number },
): Promise<string> {
  const m = Math.min(n, options.limit ?? 5000);
  const values = Array.from({ length: m }, (_, i) => ({
    a: xy[2 * i],
    b: xy[2 * i + 1],
    label: labels ? String(labels[i]) : "all",
  }));
  const [ax, bx] = options.axes ?? ["z1", "z2"];
  return vegaLiteSvg({
    title: options.title,
    width: 420,
    height: 420,
    data: { values },
    mark: { type: "circle", size: 12, opacity: 0.6 },
    encoding: {
      x: { field: "a", type: "quantitative", title: ax, scale: { zero: false } },
      y: { field: "b", type: "quantitative", title: bx, scale: { zero: false } },
      color: labels
        ? { field: "label", type: "nominal", title: "label", scale: { scheme: "category10" } }
        : { value: "#4c78a8" },
    },
  });
}

/**
 * Two histograms of scores on one axis (normal vs anomalous), `bins` bins over their common range,
 * counts normalized to a density so sets of different sizes compare.
 */
export async function scoreHistogramsSvg(
  normal: ArrayLike<number>,
  anomalous: ArrayLike<number>,
  options: { title: string; axis: string; bins?: number; names?: readonly [string, string] },
): Promise<string> {
  const bins = options.bins ?? 40;
  const [nn, an] = options.names ?? ["normal", "anomalous"];
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of [normal, anomalous])
    for (let i = 0; i < s.length; i++)
      if (Number.isFinite(s[i])) {
        lo = Math.min(lo, s[i]);
        hi = Math.max(hi, s[i]);
      }
  if (!(hi > lo)) {
    lo = Number.isFinite(lo) ? lo - 0.5 : 0;
    hi = lo + 1;
  }
  const width = (hi - lo) / bins;
  const values: { start: number; end: number; density: number; set: string }[] = [];
  for (const [name, s] of [
    [nn, normal],
    [an, anomalous],
  ] as const) {
    const counts = new Float64Array(bins);
    let total = 0;
    for (let i = 0; i < s.length; i++) {
      if (!Number.isFinite(s[i])) continue;
      counts[Math.min(bins - 1, Math.floor((s[i] - lo) / width))]++;
      total++;
    }
    for (let b = 0; b < bins; b++)
      values.push({
        start: lo + b * width,
        end: lo + (b + 1) * width,
        density: total ? counts[b] / (total * width) : 0,
        set: name,
      });
  }
  return vegaLiteSvg({
    title: options.title,
    width: 480,
    height: 260,
    data: { values },
    mark: { type: "rect", opacity: 0.55 },
    encoding: {
      x: { field: "start", type: "quantitative", title: options.axis, scale: { zero: false } },
      x2: { field: "end" },
      y: { field: "density", type: "quantitative", title: "density", stack: null },
      color: { field: "set", type: "nominal", title: null, scale: { domain: [nn, an], range: ["#4c78a8", "#e45756"] } },
    },
  });
}
