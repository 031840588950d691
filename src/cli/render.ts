/** SVG → PNG for `gm graph`: the one rasterizer lives with the other pictures in src/models/images.ts. */
export { svgToPng } from "../models/images";
