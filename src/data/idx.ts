/**
 * Reader for IDX files, the format of the MNIST family of datasets.
 *
 * Layout: a 4-byte magic number `00 00 tt dd` (tt = element type, 0x08 for
 * unsigned bytes; dd = number of dimensions), then dd big-endian 32-bit
 * dimension sizes, then the elements in row-major order. Gzipped files are
 * decompressed transparently; they are recognised by the gzip magic bytes
 * (1f 8b), not by the file extension.
 */
import * as nodePath from "node:path";
import { DataError } from "./errors.js";
import { formatShape, type Dataset } from "./dataset.js";
import { hexBytes, maybeGunzip, readFileChecked } from "./fsutil.js";

/** IDX element type codes (third magic byte) and their names. */
export const IDX_TYPES: Readonly<Record<number, { name: string; bytes: number }>> = {
  0x08: { name: "unsigned byte", bytes: 1 },
  0x09: { name: "signed byte", bytes: 1 },
  0x0b: { name: "16-bit integer", bytes: 2 },
  0x0c: { name: "32-bit integer", bytes: 4 },
  0x0d: { name: "32-bit float", bytes: 4 },
  0x0e: { name: "64-bit float", bytes: 8 },
};

/** The IDX element type this reader supports: unsigned byte. */
export const IDX_UBYTE = 0x08;

/** 32-bit big-endian floats: read for images (not labels) as data taken as it is (kind `real`). */
export const IDX_FLOAT32 = 0x0d;

/** A decoded unsigned-byte IDX array. */
export interface IdxArray {
  /** Dimension sizes from the header, e.g. [60000, 28, 28]. */
  dims: number[];
  /** Elements in row-major order (length = product of dims); for floats, their 4 bytes each. */
  data: Uint8Array;
  /** The element type (IDX_UBYTE unless said otherwise). */
  type?: number;
}

/** What an IDX file is expected to hold, used for messages and checks. */
export type IdxRole = "images" | "labels" | "any";

/**
 * Parses IDX bytes (already read; gzip is detected and handled). `path` is
 * only used in messages. Throws D0102 (magic), D0103 (size), D0104 (type),
 * D0105 (dimensions for `role`), D0107 (gzip).
 */
export function parseIdx(bytes: Buffer, path: string, role: IdxRole = "any"): IdxArray {
  const buf = maybeGunzip(bytes, path);
  const expected =
    role === "images"
      ? "00 00 08 03 (unsigned-byte images: n × rows × cols)"
      : role === "labels"
        ? "00 00 08 01 (unsigned-byte labels: n)"
        : "00 00 08 dd (unsigned bytes, dd = number of dimensions)";
  if (buf.length < 4) {
    throw new DataError(
      "D0103",
      `${path}: truncated IDX file: ${buf.length} byte${buf.length === 1 ? "" : "s"}, too short for the 4-byte magic number (expected ${expected})`,
      { path },
    );
  }
  const magic = buf.subarray(0, 4);
  const type = magic[2];
  const ndims = magic[3];
  if (magic[0] !== 0 || magic[1] !== 0 || IDX_TYPES[type] === undefined || ndims === 0) {
    throw new DataError(
      "D0102",
      `${path}: not an IDX file: wrong magic number ${hexBytes(magic)}, expected ${expected}`,
      {
        path,
        hint: "IDX files start with two zero bytes, a type byte (08 = unsigned byte) and the number of dimensions",
      },
    );
  }
  if (type !== IDX_UBYTE && !(type === IDX_FLOAT32 && role !== "labels")) {
    throw new DataError(
      "D0104",
      `${path}: unsupported IDX element type 0x${type.toString(16).padStart(2, "0")} (${IDX_TYPES[type].name}); only unsigned bytes (0x08)${role === "labels" ? "" : " and 32-bit floats (0x0d)"} are supported`,
      { path },
    );
  }
  const per = IDX_TYPES[type].bytes;
  const headerLen = 4 + 4 * ndims;
  if (buf.length < headerLen) {
    throw new DataError(
      "D0103",
      `${path}: truncated IDX file: the header declares ${ndims} dimensions (${headerLen} header bytes) but the file has only ${buf.length} bytes`,
      { path },
    );
  }
  const dims: number[] = [];
  let declared = 1;
  for (let i = 0; i < ndims; i++) {
    const s = buf.readUInt32BE(4 + 4 * i);
    dims.push(s);
    declared *= s;
  }
  const actual = buf.length - headerLen;
  declared *= per; // bytes of data
  if (actual < declared) {
    throw new DataError(
      "D0103",
      `${path}: truncated IDX file: the header declares ${dims.join(" × ")}${per > 1 ? ` × ${per}` : ""} = ${declared} bytes of data but the file has only ${actual}`,
      { path },
    );
  }
  if (actual > declared) {
    throw new DataError(
      "D0103",
      `${path}: IDX file size does not match its header: it declares ${dims.join(" × ")}${per > 1 ? ` × ${per}` : ""} = ${declared} bytes of data but the file has ${actual} (${actual - declared} extra)`,
      { path },
    );
  }
  if (role === "images" && ndims < 2) {
    throw new DataError(
      "D0105",
      `${path}: expected an IDX images file (at least 2 dimensions: n × …) but it has ${ndims} dimension (shape ${formatShape(dims)}); is this a labels file?`,
      { path },
    );
  }
  if (role === "labels" && ndims !== 1) {
    throw new DataError(
      "D0105",
      `${path}: expected an IDX labels file (1 dimension) but it has ${ndims} dimensions (shape ${formatShape(dims)}); is this an images file?`,
      { path },
    );
  }
  // Copy so the result does not keep the (possibly larger) file buffer alive.
  const data = new Uint8Array(declared);
  data.set(buf.subarray(headerLen, headerLen + declared));
  return type === IDX_UBYTE ? { dims, data } : { dims, data, type };
}

/** Reads and parses an IDX file (plain or gzipped). Missing file → D0101. */
export function readIdx(path: string, role: IdxRole = "any"): IdxArray {
  const what = role === "labels" ? "IDX labels file" : role === "images" ? "IDX images file" : "IDX file";
  return parseIdx(readFileChecked(path, what), path, role);
}

/** Reads an IDX labels file (1 dimension, unsigned bytes) as Int32Array. */
export function readIdxLabels(path: string): Int32Array {
  const { data } = readIdx(path, "labels");
  return Int32Array.from(data);
}

/**
 * Loads an IDX images file as an `intensity` dataset: n = first dimension,
 * per-example shape = the remaining dimensions, byte b ↦ b/255; a 32-bit float
 * file (0x0d) as a `real` dataset, its values taken as they are. With
 * `labelsPath` the labels are read too and their count must equal n (D0106).
 */
export function loadIdxImages(path: string, labelsPath?: string, name?: string): Dataset {
  const { dims, data, type } = readIdx(path, "images");
  const n = dims[0];
  const shape = dims.slice(1);
  const floats = type === IDX_FLOAT32;
  const x = new Float32Array(floats ? data.length / 4 : data.length);
  if (floats) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < x.length; i++) x[i] = view.getFloat32(4 * i, false);
  } else {
    const s = 1 / 255;
    for (let i = 0; i < data.length; i++) x[i] = data[i] * s;
  }
  const ds: Dataset = { name: name ?? nodePath.basename(path), x, n, shape, kind: floats ? "real" : "intensity" };
  if (labelsPath !== undefined) {
    const labels = readIdxLabels(labelsPath);
    if (labels.length !== n) {
      throw new DataError(
        "D0106",
        `${labelsPath}: ${labels.length} labels but ${path} has ${n} images; the counts must be equal`,
        { path: labelsPath },
      );
    }
    ds.labels = labels;
  }
  return ds;
}

/**
 * Encodes an unsigned-byte IDX file (uncompressed) from dimension sizes and
 * row-major data; the inverse of {@link parseIdx}. Useful for exporting data
 * and for tests.
 */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Buffer {
  if (dims.length < 1 || dims.length > 255)
    throw new DataError("D0405", `IDX needs 1..255 dimensions, got ${dims.length}`);
  let count = 1;
  for (const s of dims) count *= s;
  if (count !== data.length) {
    throw new DataError("D0405", `IDX data has ${data.length} bytes but dims ${formatShape(dims)} need ${count}`);
  }
  const buf = Buffer.alloc(4 + 4 * dims.length + count);
  buf[2] = IDX_UBYTE;
  buf[3] = dims.length;
  dims.forEach((s, i) => buf.writeUInt32BE(s, 4 + 4 * i));
  buf.set(data, 4 + 4 * dims.length);
  return buf;
}
