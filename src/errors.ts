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
  readonly hint?: string;
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
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}), ...(this.path ? { path: this.path } : {}) };
  }
}

/** True when `e` is a {@link GmError} (optionally with the given code). */
export function isGmError(e: unknown, code?: string): e is GmError {
  return e instanceof GmError && (code === undefined || e.code === code);
}
