/** `gm backends`: which TensorFlow.js backends can run here, and why the others cannot. */
import { listBackends } from "../models/backend";
import { colors, EXIT } from "./io";

/** Runs `gm backends`. */
export async function runBackends(opts: { json?: boolean }): Promise<number> {
  const list = await listBackends();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return EXIT.ok;
  }
  const c = colors(process.stdout);
  for (const b of list)
    process.stdout.write(`${b.available ? c.green("yes") : c.dim(" no")}  ${b.name.padEnd(15)} ${b.reason}\n`);
  process.stdout.write("\n--backend auto tries tensorflow-gpu, then tensorflow, then wasm, then cpu.\n");
  return EXIT.ok;
}
