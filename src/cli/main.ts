#!/usr/bin/env node
/** The `gm` executable: runs the program and sets the exit code (see program.ts). */
import { main } from "./program";
import { EXIT } from "./io";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`gm: internal error: ${(e as Error)?.message ?? String(e)}\nThis is a bug in gm; please report it with the command you ran and the .gm file.\n`);
    process.exitCode = EXIT.internal;
  },
);
