/**
 * File-system helpers shared by the data readers (internal).
 */
import * as fs from "node:fs";
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
