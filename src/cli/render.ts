/**
 * SVG → PNG with resvg (Rust, prebuilt for each platform through npm's optional packages),
 * using the system's fonts where present.
 */

/** Rasterizes an SVG document to PNG bytes. */
export async function svgToPng(svg: string, width?: number): Promise<Uint8Array> {
  const { Resvg } = await import("@resvg/resvg-js");
  const r = new Resvg(svg, { fitTo: width ? { mode: "width", value: width } : { mode: "original" }, background: "white", font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } });
  return r.render().asPng();
}
