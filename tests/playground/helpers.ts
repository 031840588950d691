/**
 * Shared by the playground tests: build the page (and the CLI when it is missing or predates the
 * command), and run the real `gm playground` from dist/ in a child process, as a user would.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildPlayground, playgroundUpToDate } from "../../scripts/build-playground";
import { REPO } from "../dsl/helpers.js";

/** The built CLI. */
export const GM = join(REPO, "dist", "cli", "main.js");

/**
 * Builds dist/ with tsup when the built CLI is missing or lacks the command, and dist/playground
 * when it is older than its sources (test files run in parallel: the build swaps the page in whole).
 */
export async function buildAll(): Promise<void> {
  if (!existsSync(GM) || !readFileSync(GM, "utf8").includes('command("playground")'))
    execFileSync("npx", ["tsup"], { cwd: REPO, stdio: "ignore" });
  if (!playgroundUpToDate()) await buildPlayground();
}

/** A running `gm playground`: its address, its output so far, and how it ended. */
export interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Sends SIGINT and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs the built `gm` with `args`; resolves with its exit code and output (for commands that end). */
export function gm(
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [GM, ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(t);
      ok({ code, stdout, stderr });
    });
  });
}

/** Starts `gm playground ARGS` (with `env` added to the environment) and waits for the address it prints. */
export function serve(args: string[], env: Record<string, string> = {}): Promise<Server> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [GM, "playground", ...args], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    let out = "";
    let err = "";
    const closed = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
    const server = (url: string): Server => ({
      url,
      child,
      stdout: () => out,
      stderr: () => err,
      stop: () => {
        if (child.exitCode === null) child.kill("SIGINT");
        return closed;
      },
    });
    child.stdout.on("data", (d) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) ok(server(m[0]));
    });
    child.stderr.on("data", (d) => (err += d));
    void closed.then((code) =>
      fail(new Error(`gm playground exited ${code} before printing its address:\n${out}${err}`)),
    );
  });
}
