#!/usr/bin/env node
/** The `gm` executable: runs the program and sets the exit code (see program.ts). */
import { main } from "./program";
import { EXIT, exitQuietlyOnClosedPipe, internalErrorText } from "./io";

exitQuietlyOnClosedPipe();

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    // main() catches every error; this only runs if rendering itself failed.
    process.stderr.write(internalErrorText(e));
    process.exitCode = EXIT.internal;
  },
);
