/** gm's version: the CLI's `--version` and the `generatedBy` of every run directory. */
export const VERSION = "0.2.0";
