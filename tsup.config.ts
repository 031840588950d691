import { defineConfig } from "tsup";

// The CLI is bundled to dist/cli/main.js (the `gm` bin); the library entry points are built with
// declarations so the browser playground can import src/dsl and src/compiler as they are.
export default defineConfig({
  entry: {
    "cli/main": "src/cli/main.ts",
    index: "src/index.ts",
  },
  format: ["esm"],
  target: "node20",
  platform: "node",
  sourcemap: true,
  clean: true,
  dts: { entry: { index: "src/index.ts" } },
  // TensorFlow.js and the optional native backends stay external: they are resolved at run time.
  external: [/^@tensorflow\//, "@resvg/resvg-js", "@hpcc-js/wasm-graphviz", "mnist"],
  // The front end is bundled, tree-shaken: chevrotain 11 imports lodash-es, 647 ES modules that
  // Node would resolve and load one by one (≈0.46 s of every start). Bundled, `gm check` of a
  // small file starts in ≈0.26 s instead of ≈1.06 s (`npm run bench -- startup`).
  noExternal: ["chevrotain", /^@chevrotain\//, "lodash-es"],
  banner: ({ format }) => (format === "esm" ? { js: "" } : {}),
});
