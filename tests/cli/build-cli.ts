/**
 * Builds the CLI bundle as `npm run build` does (same tsup options, CLI entry only) into `outDir`,
 * so child-process tests run the real `gm` without touching dist/. Returns the path of `main.js`.
 */
import { spawn, spawnSync } from "node:child_process";
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

/** What a finished `gm` child process left: its exit code (null when killed), signal and output. */
export interface GmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `gm` at `gmPath` in `cwd` to the end (killed after `timeoutMs`), colour off. */
export function runGmSync(gmPath: string, args: string[], cwd: string, timeoutMs = 60_000): GmExit {
  const env = { ...process.env, NO_COLOR: "1" };
  const r = spawnSync(process.execPath, [gmPath, ...args], { cwd, env, encoding: "utf8", timeout: timeoutMs });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The same without blocking the test's event loop, on one wasm thread. */
export function runGm(gmPath: string, args: string[], cwd: string): Promise<GmExit> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [gmPath, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1", GM_WASM_THREADS: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
  });
}
