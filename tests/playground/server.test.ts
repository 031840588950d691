/**
 * `gm playground` as a shell sees it (the built CLI in a child process): it prints its address,
 * serves the page and the preloaded file on 127.0.0.1 only, refuses paths outside the page and
 * methods other than GET/HEAD, opens the system's browser with --open (a stand-in xdg-open on
 * PATH), reports a taken port or a bad flag with exit 2, and stops with exit 0 on Ctrl-C.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../dsl/helpers.js";
import { buildAll, gm, serve, type Server } from "./helpers";

const TEXT = "// a file the editor opens with\nmodel M {\n  x : Bernoulli\n  p(x) = table\n}\n";

/** A raw HTTP request (fetch would normalize `..` away). */
function raw(url: string, path: string, method = "GET"): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => ok({ status: res.statusCode!, type: String(res.headers["content-type"]), body }));
    });
    req.on("error", fail);
    req.end();
  });
}

/** Polls `ok` every 50 ms for up to 10 s. */
async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
}

let dir: string;
let file: string;
let server: Server;

beforeAll(async () => {
  await buildAll();
  dir = mkdtempSync(join(tmpdir(), "gm-playground-"));
  file = join(dir, "mine.gm");
  writeFileSync(file, TEXT);
  server = await serve(["--port", "0", file]);
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("gm playground", () => {
  it("prints its address on 127.0.0.1 and the file it opens", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(Number(new URL(server.url).port)).toBeGreaterThan(0);
    expect(server.stdout()).toContain(`(with ${file})`);
  });

  it("serves the built page, its bundle and the preloaded file", async () => {
    const index = await raw(server.url, "/");
    expect(index.status).toBe(200);
    expect(index.type).toContain("text/html");
    expect(index.body).toBe(readFileSync(join(REPO, "dist", "playground", "index.html"), "utf8"));
    const js = await raw(server.url, "/main.js");
    expect(js.status).toBe(200);
    expect(js.type).toContain("text/javascript");
    // Graphviz's Web Worker: a file of the page's own, started by main.js, served as a script.
    expect(js.body).toContain("graph-worker.js");
    const worker = await raw(server.url, "/graph-worker.js");
    expect(worker.status).toBe(200);
    expect(worker.type).toContain("text/javascript");
    expect(worker.body).toBe(readFileSync(join(REPO, "dist", "playground", "graph-worker.js"), "utf8"));
    const css = await raw(server.url, "/main.css", "HEAD");
    expect(css.status).toBe(200);
    expect(css.body).toBe("");
    const pre = await raw(server.url, "/preload.json");
    expect(JSON.parse(pre.body)).toEqual({ name: file, text: TEXT });
  });

  it("serves nothing outside the page, and only GET and HEAD", async () => {
    // `..` in the path is normalized by URL parsing; encoded slashes (`%2f`) are not, so only the
    // server's own check keeps these out (removing it served dist/cli/main.js and package.json).
    for (const path of [
      "/../package.json",
      "/%2e%2e/package.json",
      "/..%2f..%2fpackage.json",
      "/..%2fcli%2fmain.js",
      "/fonts/..%2f..%2fcli/main.js",
    ]) {
      const r = await raw(server.url, path);
      expect(r.status, path).toBe(path.includes("%2f") ? 403 : 404);
      expect(r.body).not.toContain("gm-lang");
      expect(r.body).not.toContain("playground");
    }
    expect((await raw(server.url, "/nothing-here.js")).status).toBe(404);
    expect((await raw(server.url, "/", "POST")).status).toBe(405);
  });

  it("stops with exit 0 on Ctrl-C", async () => {
    const s = await serve(["--port", "0"]);
    expect((await raw(s.url, "/preload.json")).body).toBe("null"); // no FILE, nothing preloaded
    expect(await s.stop()).toBe(0);
  });

  it("--open starts the system's browser on the address, and says so when there is none", async () => {
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "xdg-open"), `#!/bin/sh\necho "$1" > "${join(dir, "opened")}"\n`, { mode: 0o755 });
    const s = await serve(["--port", "0", "--open"], { PATH: `${bin}:${process.env.PATH}` });
    await waitFor(() => existsSync(join(dir, "opened")));
    expect(readFileSync(join(dir, "opened"), "utf8").trim()).toBe(s.url);
    expect(await s.stop()).toBe(0);
    if (process.platform !== "linux") return;
    const none = await serve(["--port", "0", "--open"], { PATH: join(dir, "empty") });
    await waitFor(() => none.stderr().length > 0);
    expect(none.stderr()).toContain(`no browser could be opened here (xdg-open is missing): open ${none.url} yourself`);
    expect(await none.stop()).toBe(0);
  });

  it("says so when the port is taken, and how to pick another (exit 2)", async () => {
    const busy = createServer();
    await new Promise<void>((ok) => busy.listen(0, "127.0.0.1", ok));
    const port = (busy.address() as { port: number }).port;
    const r = await gm(["playground", "--port", String(port)]);
    busy.close();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`port ${port} is already in use`);
    expect(r.stderr).toContain("--port 0");
  });

  it("refuses a bad port and a missing file with one line and exit 2", async () => {
    const bad = await gm(["playground", "--port", "80x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port takes a number/);
    const missing = await gm(["playground", "--port", "0", join(dir, "nope.gm")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file");
    expect(missing.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  });
});
