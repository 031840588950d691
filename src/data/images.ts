/**
 * Loading a folder of PNG/JPEG images as a dataset.
 *
 * Only the files directly inside the folder are used (no recursion), sorted
 * by file name (plain code-point order, so the result does not depend on the
 * locale); files whose extension is not .png, .jpg or .jpeg (any case) are
 * ignored. The format is detected from the file's first bytes. Every image is
 * converted to the target channels, resized to the target [H, W] (see
 * `resize.ts`: area averaging when shrinking, bilinear when enlarging) and
 * scaled to [0, 1].
 */
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import { DataError } from "./errors.js";
import { formatShape, type Dataset } from "./dataset.js";
import { hexBytes, readFileChecked } from "./fsutil.js";
import { resizeRows } from "./resize.js";

/** File extensions (lower case) recognised as images. */
export const IMAGE_EXTENSIONS: readonly string[] = [".png", ".jpg", ".jpeg"];

/** A decoded image: 8-bit RGBA, row-major. */
export interface RgbaImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** width × height × 4 bytes (R, G, B, A). */
  data: Uint8Array;
}

/** Largest image (in megapixels) the JPEG decoder will attempt. */
export const MAX_JPEG_MEGAPIXELS = 200;

/**
 * Decodes PNG or JPEG bytes (detected by their magic bytes) to RGBA; JPEG
 * photos are turned upright according to their EXIF orientation. Any
 * decoding failure is a D0203 error naming `path`.
 */
export function decodeImage(bytes: Buffer, path: string): RgbaImage {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  let img: RgbaImage;
  try {
    if (isPng) {
      const png = PNG.sync.read(bytes);
      img = {
        width: png.width,
        height: png.height,
        data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length),
      };
    } else if (isJpeg) {
      const j = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_JPEG_MEGAPIXELS,
        maxMemoryUsageInMB: 4096,
      });
      img = applyOrientation({ width: j.width, height: j.height, data: j.data }, jpegOrientation(bytes));
    } else {
      throw new DataError("D0203", `${path}: not a PNG or JPEG image (starts with ${hexBytes(bytes.subarray(0, 4))})`, {
        path,
      });
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    const kind = isPng ? "PNG" : "JPEG";
    throw new DataError("D0203", `${path}: corrupt ${kind} image: ${(e as Error)?.message ?? String(e)}`, {
      path,
      cause: e,
    });
  }
  if (!(img.width >= 1 && img.height >= 1) || img.data.length < img.width * img.height * 4) {
    throw new DataError(
      "D0203",
      `${path}: corrupt image: decoded ${img.width}×${img.height} with ${img.data.length} bytes`,
      { path },
    );
  }
  return img;
}

/**
 * The EXIF orientation (1–8) stored in a JPEG's APP1 segment, or 1 when
 * there is none or it cannot be read. Cameras and phones often store photos
 * sideways and record the needed rotation here.
 */
export function jpegOrientation(bytes: Uint8Array): number {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return 1;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return 1;
    const marker = bytes[p + 1];
    if (marker === 0xd9 || marker === 0xda) return 1; // end of image / start of scan
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    if (len < 2) return 1;
    const seg = p + 4;
    if (
      marker === 0xe1 &&
      seg + 14 <= bytes.length &&
      bytes[seg] === 0x45 &&
      bytes[seg + 1] === 0x78 &&
      bytes[seg + 2] === 0x69 &&
      bytes[seg + 3] === 0x66 && // "Exif"
      bytes[seg + 4] === 0 &&
      bytes[seg + 5] === 0
    ) {
      const tiff = seg + 6;
      const end = Math.min(bytes.length, p + 2 + len);
      const little = bytes[tiff] === 0x49 && bytes[tiff + 1] === 0x49;
      const big = bytes[tiff] === 0x4d && bytes[tiff + 1] === 0x4d;
      if (!little && !big) return 1;
      const u16 = (o: number) => (little ? bytes[o] | (bytes[o + 1] << 8) : (bytes[o] << 8) | bytes[o + 1]);
      const u32 = (o: number) => (little ? u16(o) + u16(o + 2) * 65536 : u16(o) * 65536 + u16(o + 2));
      if (tiff + 8 > end) return 1;
      const ifd = tiff + u32(tiff + 4);
      if (ifd + 2 > end) return 1;
      const count = u16(ifd);
      for (let i = 0; i < count; i++) {
        const e = ifd + 2 + 12 * i;
        if (e + 12 > end) return 1;
        if (u16(e) === 0x0112) {
          const v = u16(e + 8);
          return v >= 1 && v <= 8 ? v : 1;
        }
      }
      return 1;
    }
    p += 2 + len;
  }
  return 1;
}

/**
 * Applies an EXIF orientation (1–8) to an RGBA image so that it is upright:
 * 2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise,
 * 7 transverse, 8 rotate 90° counter-clockwise.
 */
export function applyOrientation(img: RgbaImage, orientation: number): RgbaImage {
  if (orientation < 2 || orientation > 8) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(ow * oh * 4);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2:
          sx = w - 1 - x;
          sy = y;
          break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4:
          sx = x;
          sy = h - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        default:
          sx = w - 1 - y;
          sy = x;
          break; // 8
      }
      const si = (sy * w + sx) * 4;
      const di = (y * ow + x) * 4;
      out[di] = data[si];
      out[di + 1] = data[si + 1];
      out[di + 2] = data[si + 2];
      out[di + 3] = data[si + 3];
    }
  }
  return { width: ow, height: oh, data: out };
}

/** Reads and decodes one PNG/JPEG file (D0101 if missing, D0203 if corrupt). */
export function readImage(path: string): RgbaImage {
  return decodeImage(readFileChecked(path, "image file"), path);
}

/**
 * Number of channels for an image target shape: [H, W] and [H, W, 1] → 1
 * (grayscale), [H, W, 3] → 3 (RGB). Other shapes → D0204.
 */
export function imageChannels(shape: readonly number[]): 1 | 3 {
  const ok = (s: number) => Number.isInteger(s) && s >= 1;
  if (shape.length === 2 && ok(shape[0]) && ok(shape[1])) return 1;
  if (shape.length === 3 && ok(shape[0]) && ok(shape[1]) && (shape[2] === 1 || shape[2] === 3))
    return shape[2] as 1 | 3;
  throw new DataError(
    "D0204",
    `images can only be loaded for a per-example shape [H, W], [H, W, 1] or [H, W, 3]; got ${formatShape(shape)}`,
  );
}

/**
 * Converts an RGBA image to `channels` (1: luma 0.299 R + 0.587 G + 0.114 B;
 * 3: RGB), composited over black (a transparent pixel is 0), scaled to
 * [0, 1] and resized to outH × outW. Returns outH × outW × channels values.
 */
export function imageToArray(img: RgbaImage, channels: 1 | 3, outH: number, outW: number): Float32Array {
  const { width: w, height: h, data } = img;
  const s = 1 / (255 * 255);
  const getRow = (y: number, row: Float32Array): void => {
    let p = y * w * 4;
    if (channels === 1) {
      for (let x = 0; x < w; x++, p += 4) {
        row[x] = (0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2]) * data[p + 3] * s;
      }
    } else {
      for (let x = 0, q = 0; x < w; x++, p += 4, q += 3) {
        const a = data[p + 3] * s;
        row[q] = data[p] * a;
        row[q + 1] = data[p + 1] * a;
        row[q + 2] = data[p + 2] * a;
      }
    }
  };
  const out = resizeRows(getRow, h, w, channels, outH, outW);
  for (let i = 0; i < out.length; i++) out[i] = out[i] < 0 ? 0 : out[i] > 1 ? 1 : out[i];
  return out;
}

/**
 * The image files of a folder: names ending in .png/.jpg/.jpeg (any case),
 * directly inside `dir`, sorted by name. D0201 if the folder is missing or
 * not a directory, D0202 if it has no image.
 */
export function listImageFiles(dir: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw new DataError("D0201", `image folder not found: ${dir}`, { path: dir, cause: e });
  }
  if (!st.isDirectory()) {
    throw new DataError("D0201", `${dir} is not a folder; expected a folder of PNG/JPEG images`, { path: dir });
  }
  const names = fs
    .readdirSync(dir)
    .filter((name) => IMAGE_EXTENSIONS.includes(nodePath.extname(name).toLowerCase()))
    .filter((name) => {
      try {
        return fs.statSync(nodePath.join(dir, name)).isFile();
      } catch {
        return false;
      }
    })
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) {
    throw new DataError("D0202", `no PNG or JPEG images in folder ${dir}`, {
      path: dir,
      hint: "put .png/.jpg/.jpeg files directly in the folder (subfolders are not searched)",
    });
  }
  return names.map((name) => nodePath.join(dir, name));
}

/**
 * Loads every PNG/JPEG image directly inside `dir` (sorted by name) as an
 * `intensity` dataset with per-example `shape` ([H, W] or [H, W, 1]:
 * grayscale; [H, W, 3]: RGB). Images of any size are resized to [H, W].
 */
export function loadImageFolder(dir: string, shape: readonly number[], name?: string): Dataset {
  const channels = imageChannels(shape);
  const [h, w] = shape;
  const files = listImageFiles(dir);
  const d = h * w * channels;
  const x = new Float32Array(files.length * d);
  files.forEach((file, k) => {
    x.set(imageToArray(readImage(file), channels, h, w), k * d);
  });
  return {
    name: name ?? (nodePath.basename(nodePath.resolve(dir)) || dir),
    x,
    n: files.length,
    shape: shape.slice(),
    kind: "intensity",
  };
}
