/** Modules the build script provides: the examples embedded at build time, and CSS bundled by esbuild. */
declare module "gm:examples" {
  const examples: ReadonlyArray<{ readonly name: string; readonly text: string }>;
  export default examples;
}
declare module "*.css";
