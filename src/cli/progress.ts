/**
 * Progress for long commands (cli-progress): a live bar on a terminal; on a pipe or in CI a
 * line every few seconds instead, so logs still show that work goes on.
 */
import cliProgress from "cli-progress";

/** A progress bar for one epoch. */
export interface Progress {
  start(total: number, label: string): void;
  update(value: number, fields: Record<string, string>): void;
  stop(): void;
}

/** A bar on stderr; silent when `quiet`. */
export function progressBar(quiet = false): Progress {
  if (quiet) return { start() {}, update() {}, stop() {} };
  const tty = Boolean(process.stderr.isTTY);
  const bar = new cliProgress.SingleBar(
    {
      format: "{label} |{bar}| {value}/{total} batches | loss {loss} | {speed} img/s | eta {eta_formatted}",
      barsize: 24,
      hideCursor: tty,
      stream: process.stderr,
      noTTYOutput: !tty,
      notTTYSchedule: 5000,
      clearOnComplete: false,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let label = "";
  return {
    start(total, l) {
      label = l;
      bar.start(total, 0, { label, loss: "…", speed: "…" });
    },
    update(value, fields) {
      bar.update(value, { label, ...fields });
    },
    stop() {
      bar.stop();
    },
  };
}
