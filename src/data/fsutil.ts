/**
 * File-system helpers shared by the data readers and the writers of runs (internal).
 */
import * as fs from "node:fs";
import { dirname, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { DataError } from "./errors.js";

/**
 * Reads a whole regular file, throwing D0101 (naming `path`) when it does not
 * exist, is a directory or cannot be read. `what` describes the file in the
 * message, e.g. "IDX file".
 */
export function readFileChecked(path: string, what: string, hint?: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw new DataError("D0101", `${what} not found: ${path}`, { path, hint, cause: e });
  }
  if (!st.isFile()) {
    throw new DataError("D0101", `${what} ${path} is ${st.isDirectory() ? "a directory" : "not a regular file"}`, {
      path,
      hint,
    });
  }
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw new DataError("D0101", `cannot read ${what} ${path}: ${(e as Error).message}`, { path, hint, cause: e });
  }
}

/** True when `buf` starts with the gzip magic bytes 1f 8b. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/**
 * Decompresses `buf` when it starts with the gzip magic bytes (whatever the
 * file name), otherwise returns it unchanged. Corrupt gzip data → D0107.
 */
export function maybeGunzip(buf: Buffer, path: string): Buffer {
  if (!isGzip(buf)) return buf;
  try {
    return gunzipSync(buf);
  } catch (e) {
    throw new DataError("D0107", `${path}: corrupt or truncated gzip data (${(e as Error).message})`, {
      path,
      cause: e,
    });
  }
}

/** Formats bytes as lowercase hex pairs separated by spaces: "00 00 08 03". */
export function hexBytes(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * Creates `dir` and any missing parents, one level at a time. Unlike `mkdirSync(dir, {
 * recursive: true })` it never loops: Node's recursive mkdir spins forever on a path such as
 * `/proc/x`, where mkdir answers ENOENT although the parent exists. Throws the Node error of the
 * first level that cannot be created (ENOENT, EACCES, ENOTDIR, …); the caller names the path.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(p);
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT") throw e;
    }
    if (st) {
      if (!st.isDirectory())
        throw Object.assign(new Error(`ENOTDIR: ${p} is not a directory`), { code: "ENOTDIR", path: p });
      break;
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const m of missing.reverse()) {
    try {
      fs.mkdirSync(m);
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
      if (!fs.statSync(m).isDirectory()) throw e;
    }
  }
}
