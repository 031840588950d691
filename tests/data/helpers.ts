// Test helpers for the data suite: temp dirs and hand-built IDX/PNG/JPEG files.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";

/** Creates a fresh temp dir; remember to remove it (see `cleanup`). */
export function tmpDir(prefix = "gm-data-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Removes a temp dir recursively. */
export function cleanup(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * IDX bytes built by hand (independently of src/data/idx.ts): magic
 * 00 00 <type> <ndims>, big-endian dims, then data.
 */
export function idxBytes(dims: number[], data: ArrayLike<number>, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Array.from(data))]);
}

/** Writes an IDX file (optionally gzipped) and returns its path. */
export function writeIdx(dir: string, name: string, dims: number[], data: ArrayLike<number>, gz = false): string {
  const p = path.join(dir, name);
  const bytes = idxBytes(dims, data);
  fs.writeFileSync(p, gz ? gzipSync(bytes) : bytes);
  return p;
}

/** An RGBA pixel callback → PNG file bytes. */
export function pngBytes(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number, number],
): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a] = pixel(x, y);
      const i = (y * width + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = a;
    }
  }
  return PNG.sync.write(png);
}

/** A gray-level callback (0..255) → opaque grayscale PNG bytes. */
export function grayPng(width: number, height: number, gray: (x: number, y: number) => number): Buffer {
  return pngBytes(width, height, (x, y) => {
    const g = gray(x, y);
    return [g, g, g, 255];
  });
}

/** An RGB callback → JPEG bytes (quality 100). */
export function jpegBytes(
  width: number,
  height: number,
  rgb: (x: number, y: number) => [number, number, number],
  quality = 100,
): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(x, y);
      const i = (y * width + x) * 4;
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
      data[i + 3] = 255;
    }
  }
  return jpeg.encode({ width, height, data }, quality).data;
}

/** Asserts that `fn` throws a DataError-like object with `code`; returns it. */
export function expectDataError(
  fn: () => unknown,
  code: string,
): Error & { code: string; path?: string; hint?: string } {
  try {
    fn();
  } catch (e) {
    const err = e as Error & { code: string };
    if (err?.name !== "DataError") throw new Error(`expected DataError ${code}, got ${String(e)}`, { cause: e });
    if (err.code !== code) throw new Error(`expected DataError ${code}, got ${err.code}: ${err.message}`, { cause: e });
    return err;
  }
  throw new Error(`expected DataError ${code}, but nothing was thrown`);
}
