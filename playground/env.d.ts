/**
 * Modules the build script provides: the examples and MNIST digits embedded at build time, and CSS bundled by esbuild.
 */
declare module "gm:examples" {
  const examples: ReadonlyArray<{ readonly name: string; readonly text: string }>;
  export default examples;
}
declare module "gm:digits" {
  /** MNIST digits binarized at 0.5, 8 pixels a byte (pixel p in bit p % 8 of byte p / 8), base64. */
  const digits: { readonly count: number; readonly pixels: number; readonly base64: string };
  export default digits;
}
declare module "*.css";
