/**
 * One runtime error type for every layer (browser-safe: no Node modules, no TensorFlow.js).
 *
 * A `GmError` is an error a user can act on: a stable `code` (listed in docs/diagnostics.md,
 * "Runtime errors"), a complete one-line `message` that names the file when there is one, an
 * optional `hint`, and the `path` involved. The CLI prints it as
 *
 *     error[CODE]: message
 *     hint: …
 *
 * and exits with the code's exit status (`exitStatus`). Anything that is *not* a `GmError` is
 * a bug in gm and exits 70 ("internal error").
 *
 * Code ranges (the letter says which layer raised it):
 * - `U0xxx` usage: how a command was called (flags, missing files)            exit 2
 * - `I0xxx` input: a file the user gave that is not a `.gm` diagnostic         exit 1
 * - `D0xxx` data: IDX files, image folders, datasets, CSV                      exit 1
 * - `B0xxx` backend: a TensorFlow.js backend that cannot start                 exit 1
 * - `M0xxx` model: a network that cannot be built, trained or scored           exit 1
 * - `C0xxx` checkpoint: a run directory that is missing, corrupt or unsafe      exit 1
 * - `R0xxx` run: training stopped (diverged), disk full, unwritable output     exit 1
 */

/** Optional details of a {@link GmError}. */
export interface GmErrorOptions {
  /** One-line suggestion for fixing the problem. */
  hint?: string;
  /** The file or folder the error is about. */
  path?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** The base of every runtime error gm raises on purpose. */
export class GmError extends Error {
  /** Stable code such as `"C0103"`; see docs/diagnostics.md. */
  readonly code: string;
  /** One-line suggestion, printed as `hint: …`. */
  readonly hint?: string;
  /** The file or folder the error is about, when there is one. */
  readonly path?: string;

  constructor(code: string, message: string, options: GmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GmError";
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.path !== undefined) this.path = options.path;
  }

  /** The exit status of the CLI for this error: 2 for usage errors, 1 otherwise. */
  get exitStatus(): number {
    return this.code.startsWith("U") ? 2 : 1;
  }

  /** A plain object for `--json` output and golden tests. */
  toJSON(): { code: string; message: string; hint?: string; path?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.path ? { path: this.path } : {}),
    };
  }
}

/**
 * A mistake in how a command was called (a flag value, a missing file, `--resume` without a
 * run): exit 2. Browser-safe so that any layer may raise one; the CLI re-exports it from
 * `cli/io.ts`. The argument order (message, hint, code) keeps the callers written before codes.
 */
export class UsageError extends GmError {
  constructor(message: string, hint?: string, code: string = USAGE_CODES.generic, path?: string) {
    super(code, message, { hint, path });
    this.name = "UsageError";
  }
}

/** Codes of {@link UsageError}. */
export const USAGE_CODES = {
  /** A flag or argument value gm cannot use (the message says which and why). */
  generic: "U0100",
  /** The named file does not exist. */
  noSuchFile: "U0101",
  /** A directory was given where a `.gm` file was expected. */
  isDirectory: "U0102",
  /** The file exists but cannot be read (permissions, I/O). */
  unreadable: "U0103",
  /** `--model NAME` names no model of the file. */
  noSuchModel: "U0104",
  /** The file declares no model. */
  noModel: "U0105",
  /** The file declares several models and no `--model` chose one. */
  ambiguousModel: "U0106",
  /** `gm train --out DIR` names a directory that already holds a run (without `--resume`). */
  runExists: "U0201",
  /** `--resume` names a directory that holds no run. */
  noRunToResume: "U0202",
} as const;

/** A problem with the user's input that is not a `.gm` diagnostic (exit 1), e.g. a run of another model. */
export class InputError extends GmError {
  constructor(message: string, hint?: string, code: string = INPUT_CODES.generic, path?: string) {
    super(code, message, { hint, path });
    this.name = "InputError";
  }
}

/** Codes of {@link InputError}. */
export const INPUT_CODES = {
  /** An input that does not fit the command (the message says which and why). */
  generic: "I0100",
} as const;

/** Codes of {@link RunError}. */
export const RUN_CODES = {
  /** Training stopped: a loss was not finite (or exploded); the last good checkpoint is kept. */
  diverged: "R0101",
  /** The disk (or quota) is full while writing an output; nothing half-written is left. */
  diskFull: "R0102",
  /** An output cannot be written there: a directory, a read-only or special place, no permission. */
  unwritable: "R0103",
} as const;

/** A run that cannot go on: training diverged, the disk is full, an output is not writable (exit 1). */
export class RunError extends GmError {
  constructor(code: (typeof RUN_CODES)[keyof typeof RUN_CODES], message: string, options: GmErrorOptions = {}) {
    super(code, message, options);
    this.name = "RunError";
  }
}

/**
 * A failed write as a {@link RunError} naming `path`: ENOSPC/EDQUOT → R0102 (disk full),
 * anything else → R0103 (cannot write). `e` is the Node error (its `code`, e.g. `EACCES`);
 * `action` says what failed ("write" a file, "create" a directory).
 */
export function writeError(path: string, e: unknown, action: "write" | "create" = "write"): RunError {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new RunError(RUN_CODES.diskFull, `cannot ${action} ${path}: the disk is full`, {
      path,
      cause: e,
      hint: "free some space (or choose another place) and run the command again",
    });
  }
  const why: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "the file system is read-only",
    EISDIR: "it is a directory",
    ENOTDIR: "a part of the path is not a directory",
    ENOENT: "that place does not exist and cannot be created",
    EEXIST: "a file is in the way",
    ENAMETOOLONG: "the name is too long",
  };
  const reason = typeof code === "string" && why[code] ? why[code] : firstLine(e);
  return new RunError(RUN_CODES.unwritable, `cannot ${action} ${path}: ${reason}`, {
    path,
    cause: e,
    hint: "choose a place you can write to",
  });
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

/** True when `e` is a {@link GmError} (optionally with the given code). */
export function isGmError(e: unknown, code?: string): e is GmError {
  return e instanceof GmError && (code === undefined || e.code === code);
}
