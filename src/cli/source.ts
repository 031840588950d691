/**
 * Reading a `.gm` file from the command line: only regular files, and at most `MAX_SOURCE_BYTES`,
 * so `gm check /dev/zero` stops at once instead of growing without bound, and a FIFO is refused
 * instead of blocking. Every refusal is a UsageError (exit 2) naming the file and the reason.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { UsageError, USAGE_CODES } from "../errors";

/** Largest `.gm` file gm reads: 16 MiB (the largest example is a few KiB; a 22,000-variable chain is 1 MiB). */
export const MAX_SOURCE_BYTES = 16 * 1024 * 1024;

/** What a non-regular file is, in words. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/** `16 MiB`, `20.5 MiB`, `900 KiB` */
function size(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / 1024 / 1024).toFixed(1))} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

/** Reads a `.gm` file as UTF-8; throws a UsageError naming the file when it cannot. */
export function readSource(path: string): string {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`no such file: ${path}`, undefined, USAGE_CODES.noSuchFile, path);
  }
  if (st.isDirectory())
    throw new UsageError(`${path} is a directory, not a .gm file`, undefined, USAGE_CODES.isDirectory, path);
  // Checked before opening: opening a FIFO for reading blocks until a writer appears.
  if (!st.isFile())
    throw new UsageError(
      `cannot read ${path}: it is ${kindOf(st)}, not a .gm file`,
      "gm reads regular files only",
      USAGE_CODES.unreadable,
      path,
    );
  const tooLarge = (bytes: number) =>
    new UsageError(
      `cannot read ${path}: it is ${size(bytes)}; gm reads .gm files of at most ${size(MAX_SOURCE_BYTES)}`,
      "split it into several files",
      USAGE_CODES.unreadable,
      path,
    );
  if (st.size > MAX_SOURCE_BYTES) throw tooLarge(st.size);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new UsageError(
      `cannot read ${path}: ${(e as Error).message.split("\n")[0]}`,
      undefined,
      USAGE_CODES.unreadable,
      path,
    );
  }
  try {
    // The file may have been replaced or may grow after the stat: read at most the limit + 1 bytes.
    const now = fstatSync(fd);
    if (!now.isFile())
      throw new UsageError(
        `cannot read ${path}: it is ${kindOf(now)}, not a .gm file`,
        undefined,
        USAGE_CODES.unreadable,
        path,
      );
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(MAX_SOURCE_BYTES + 1 - n, Math.max(now.size - n, 0) + 65536));
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      n += got;
      if (n > MAX_SOURCE_BYTES) throw tooLarge(n);
    }
    return Buffer.concat(chunks, n).toString("utf8");
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(
      `cannot read ${path}: ${(e as Error).message.split("\n")[0]}`,
      undefined,
      USAGE_CODES.unreadable,
      path,
    );
  } finally {
    closeSync(fd);
  }
}
