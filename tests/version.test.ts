/** One version: src/version.ts is the package's version, and the built `gm --version` prints it. */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VERSION } from "../src/version";

const ROOT = join(__dirname, "..");

describe("version", () => {
  it("src/version.ts equals package.json's version", () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  it.runIf(existsSync(join(ROOT, "dist/cli/main.js")))("the built gm --version prints it", () => {
    const r = spawnSync(process.execPath, [join(ROOT, "dist/cli/main.js"), "--version"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });
});
