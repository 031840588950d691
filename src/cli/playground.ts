/**
 * `gm playground [FILE] [--port N] [--open]`: serves the browser playground (dist/playground,
 * built with the package) on 127.0.0.1 with a small static server, prints its address and runs
 * until Ctrl-C. `FILE` is preloaded into the editor (served as /preload.json); `--port 0` picks a
 * free port; `--open` starts the system's browser where there is one. Nothing leaves the machine.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT, InputError, readText, UsageError } from "./io";

/** Options of `gm playground`. */
export interface PlaygroundOptions {
  port?: string;
  open?: boolean;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".woff2": "font/woff2",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** The built page: dist/playground beside the bundled CLI (or beside src/ when run from source). */
export function playgroundRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, "playground"),
    join(here, "..", "playground"),
    join(here, "..", "..", "dist", "playground"),
  ];
  const found = candidates.find((d) => existsSync(join(d, "index.html")));
  if (!found)
    throw new InputError("the playground page is not built", "run `npm run build` (it writes dist/playground)");
  return found;
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return 8080;
  if (!/^\d+$/.test(text) || Number(text) > 65535)
    throw new UsageError(`--port takes a number from 0 to 65535, got ${text}`, "--port 0 picks a free port");
  return Number(text);
}

/**
 * Serves files under `root` (GET and HEAD only; nothing outside it) and `preload` as /preload.json (`null` without
 * one).
 */
function handler(root: string, preload: string | null) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-cache", "x-content-type-options": "nosniff" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    } catch {
      return send(400, "text/plain", "bad request\n");
    }
    if (path === "/preload.json") return send(200, TYPES[".json"], preload ?? "null"); // null: no file preloaded
    const file = resolve(root, `.${path.endsWith("/") ? `${path}index.html` : path}`);
    if (file !== root && !file.startsWith(root + sep)) return send(403, "text/plain", "forbidden\n");
    let body: Buffer;
    try {
      if (!statSync(file).isFile()) return send(404, "text/plain", "not found\n");
      body = readFileSync(file);
    } catch {
      return send(404, "text/plain", "not found\n");
    }
    send(200, TYPES[extname(file)] ?? "application/octet-stream", body);
  };
}

/** Opens `url` in the system's browser, if one can be started; says so when none can. */
function openBrowser(url: string): void {
  const cmd =
    process.platform === "darwin"
      ? ["open", url]
      : process.platform === "win32"
        ? ["cmd", "/c", "start", "", url]
        : ["xdg-open", url];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: "ignore", detached: true });
  child.on("error", () =>
    process.stderr.write(`no browser could be opened here (${cmd[0]} is missing): open ${url} yourself\n`),
  );
  child.unref();
}

/** Runs `gm playground`: resolves with the exit code when the server stops (Ctrl-C or SIGTERM). */
export async function runPlayground(file: string | undefined, opts: PlaygroundOptions): Promise<number> {
  const port = parsePort(opts.port);
  const preload = file === undefined ? null : JSON.stringify({ name: file, text: readText(file) });
  const root = playgroundRoot();
  const server = createServer(handler(root, preload));
  await new Promise<void>((ok, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE")
        fail(
          new UsageError(`port ${port} is already in use`, "choose another with --port N, or --port 0 for a free one"),
        );
      else if (e.code === "EACCES")
        fail(new UsageError(`port ${port} needs privileges here`, "use a port above 1024, or --port 0 for a free one"));
      else fail(e);
    });
    server.listen(port, "127.0.0.1", () => ok());
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}/`;
  process.stdout.write(`gm playground: ${url}${file ? ` (with ${file})` : ""}\npress Ctrl-C to stop\n`);
  if (opts.open) openBrowser(url);
  return new Promise<number>((done) => {
    const stop = () => {
      server.close(() => done(EXIT.ok));
      server.closeAllConnections();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
