/**
 * Builds the CLI bundle as `npm run build` does (same tsup options, CLI entry only) into `outDir`,
 * so child-process tests run the real `gm` without touching dist/. Returns the path of `main.js`.
 */
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");

export async function buildCli(outDir: string): Promise<string> {
  const { build } = await import("tsup");
  const config = (await import("../../tsup.config")).default as Record<string, unknown>;
  await build({
    ...config,
    entry: { "cli/main": join(root, "src/cli/main.ts") },
    outDir,
    dts: false,
    clean: true,
    sourcemap: false,
    silent: true,
    config: false,
  } as never);
  return join(outDir, "cli", "main.js");
}
