/**
 * Atomic file writes: write a temporary file beside the target (`.NAME.tmp-PID-N`, in the same
 * folder, so the rename never crosses a file system), fsync it, then rename it over the target,
 * so a reader (or a crash) never sees half a file.
 *
 * Failures are one-line RunErrors naming the target: a full disk is R0102, a target that is a
 * directory, a read-only or special place, or a missing permission is R0103. The temp file is
 * removed on every failure; one left by a killed process is recognised by {@link isTempFile}
 * and removed by `prepareRunDir` on the next start.
 */
import * as fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { makeDirs } from "./fsutil";
import { GmError, RunError, RUN_CODES, writeError } from "../errors";

/** The file-system calls writeFileAtomic makes; tests replace one to inject a failure (ENOSPC). */
export interface AtomicWriteFs {
  openSync: typeof fs.openSync;
  writeSync: (fd: number, buffer: Uint8Array, offset: number, length: number) => number;
  fsyncSync: typeof fs.fsyncSync;
  closeSync: typeof fs.closeSync;
  renameSync: typeof fs.renameSync;
}

const NODE_FS: AtomicWriteFs = {
  openSync: fs.openSync,
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
};

let counter = 0;

/** Whether `name` (a bare file name) is a temp file writeFileAtomic makes: `.NAME.tmp-PID-N`. */
export function isTempFile(name: string): boolean {
  return /^\..+\.tmp-\d+-\d+$/.test(name);
}

/**
 * Writes `data` to `path` atomically, creating its folder if needed. Throws a RunError naming
 * `path` when it cannot (R0102 disk full, R0103 otherwise), leaving no temp file behind.
 * `io` replaces the file-system calls (tests only).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, io: Partial<AtomicWriteFs> = {}): void {
  const f = { ...NODE_FS, ...io };
  const dir = dirname(path);
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(path);
  } catch {
    /* a new file */
  }
  if (st?.isDirectory()) {
    throw new RunError(RUN_CODES.unwritable, `cannot write ${path}: it is a directory`, {
      path,
      hint: "name a file inside it, e.g. " + join(path, "out.png"),
    });
  }
  if (st && !st.isFile())
    throw new RunError(RUN_CODES.unwritable, `cannot write ${path}: it is not a regular file`, { path });
  try {
    makeDirs(dir);
  } catch (e) {
    throw writeError(dir, e, "create");
  }
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${++counter}`);
  let fd: number;
  try {
    fd = f.openSync(tmp, "w");
  } catch (e) {
    throw writeError(path, e);
  }
  let open = true;
  try {
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < buf.length) off += f.writeSync(fd, buf, off, buf.length - off);
    f.fsyncSync(fd);
    open = false;
    f.closeSync(fd);
    f.renameSync(tmp, path);
  } catch (e) {
    if (open) {
      try {
        f.closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e instanceof GmError ? e : writeError(path, e);
  }
}
