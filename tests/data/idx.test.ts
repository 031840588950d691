import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { encodeIdx, loadIdxImages, parseIdx, readIdx, readIdxLabels } from "../../src/data/idx.js";
import { cleanup, expectDataError, idxBytes, tmpDir, writeIdx } from "./helpers.js";

let dir: string;
beforeAll(() => {
  dir = tmpDir("gm-idx-");
});
afterAll(() => cleanup(dir));

/** 3 images of 2×4 pixels with bytes 0..23 and labels 7, 0, 255. */
const IMG_DIMS = [3, 2, 4];
const IMG_DATA = Array.from({ length: 24 }, (_, i) => i * 10 + 5);

describe("IDX reader", () => {
  it("round-trips plain and gzipped images with labels", () => {
    for (const gz of [false, true]) {
      const images = writeIdx(dir, `img${gz ? ".gz" : ""}`, IMG_DIMS, IMG_DATA, gz);
      const labels = writeIdx(dir, `lab${gz ? ".gz" : ""}`, [3], [7, 0, 255], gz);
      const ds = loadIdxImages(images, labels);
      expect(ds.n).toBe(3);
      expect(ds.shape).toEqual([2, 4]);
      expect(ds.kind).toBe("intensity");
      expect(Array.from(ds.x, (v) => Math.round(v * 255))).toEqual(IMG_DATA);
      expect(Math.max(...ds.x)).toBeLessThanOrEqual(1);
      expect(Array.from(ds.labels!)).toEqual([7, 0, 255]);
    }
  });

  it("detects gzip by magic bytes, not by extension", () => {
    const gzNamedPlain = path.join(dir, "really-gzipped.idx");
    fs.writeFileSync(gzNamedPlain, gzipSync(idxBytes([2, 2], [1, 2, 3, 4])));
    const plainNamedGz = path.join(dir, "really-plain.gz");
    fs.writeFileSync(plainNamedGz, idxBytes([2, 2], [1, 2, 3, 4]));
    expect(Array.from(readIdx(gzNamedPlain).data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(readIdx(plainNamedGz).data)).toEqual([1, 2, 3, 4]);
  });

  it("round-trips arbitrary arrays through encodeIdx (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }).chain((dims) =>
          fc.tuple(
            fc.constant(dims),
            fc.uint8Array({
              minLength: dims.reduce((a, b) => a * b, 1),
              maxLength: dims.reduce((a, b) => a * b, 1),
            }),
          ),
        ),
        fc.boolean(),
        ([dims, data], gz) => {
          const bytes = encodeIdx(dims, data);
          expect(bytes.equals(idxBytes(dims, data))).toBe(true);
          const back = parseIdx(gz ? gzipSync(bytes) : bytes, "mem");
          expect(back.dims).toEqual(dims);
          expect(Array.from(back.data)).toEqual(Array.from(data));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("D0101: missing file, naming it", () => {
    const p = path.join(dir, "nope-images-idx3-ubyte");
    const e = expectDataError(() => loadIdxImages(p), "D0101");
    expect(e.message).toContain(p);
    expect(e.path).toBe(p);
    expectDataError(() => readIdx(dir), "D0101"); // a directory
  });

  it("D0102: wrong magic shows the bytes found and the expected ones", () => {
    const p = path.join(dir, "zip.idx");
    fs.writeFileSync(p, Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4]));
    const e = expectDataError(() => loadIdxImages(p), "D0102");
    expect(e.message).toContain("50 4b 03 04");
    expect(e.message).toContain("00 00 08 03");
    expect(e.message).toContain(p);
    // unknown type byte
    fs.writeFileSync(p, Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 0]));
    expectDataError(() => readIdx(p), "D0102");
  });

  it("D0103: truncated file states declared vs actual sizes", () => {
    const full = idxBytes([10, 4, 4], new Array(160).fill(1));
    const p = path.join(dir, "trunc.idx");
    fs.writeFileSync(p, full.subarray(0, full.length - 10));
    const e = expectDataError(() => loadIdxImages(p), "D0103");
    expect(e.message).toContain("160");
    expect(e.message).toContain("150");
    expect(e.message).toContain(p);
    // truncated header
    fs.writeFileSync(p, full.subarray(0, 9));
    expectDataError(() => readIdx(p), "D0103");
    fs.writeFileSync(p, Buffer.from([0, 0]));
    expectDataError(() => readIdx(p), "D0103");
    // extra bytes
    fs.writeFileSync(p, Buffer.concat([full, Buffer.from([1, 2])]));
    expectDataError(() => readIdx(p), "D0103");
  });

  it("D0103 also for a truncated gzipped IDX payload", () => {
    const p = path.join(dir, "trunc2.gz");
    fs.writeFileSync(p, gzipSync(idxBytes([10, 4, 4], new Array(100).fill(1))));
    expectDataError(() => readIdx(p), "D0103");
  });

  it("D0107: corrupt gzip data", () => {
    const p = path.join(dir, "bad.gz");
    const gz = gzipSync(idxBytes([4, 4], new Array(16).fill(9)));
    fs.writeFileSync(p, gz.subarray(0, gz.length - 12));
    const e = expectDataError(() => readIdx(p), "D0107");
    expect(e.message).toContain(p);
  });

  it("D0104: element types other than unsigned byte and 32-bit float are unsupported", () => {
    const p = path.join(dir, "float.idx");
    fs.writeFileSync(p, idxBytes([1], [0, 0, 0, 0, 0, 0, 0, 0], 0x0e));
    const e = expectDataError(() => readIdx(p), "D0104");
    expect(e.message).toMatch(/float/);
  });

  it("D0105: a labels file given as images and vice versa", () => {
    const labels = writeIdx(dir, "l1", [3], [1, 2, 3]);
    const images = writeIdx(dir, "i1", [1, 2, 2], [1, 2, 3, 4]);
    expectDataError(() => loadIdxImages(labels), "D0105");
    expectDataError(() => readIdxLabels(images), "D0105");
  });

  it("D0106: labels count differs from images count", () => {
    const images = writeIdx(dir, "i2", IMG_DIMS, IMG_DATA);
    const labels = writeIdx(dir, "l2", [2], [1, 2]);
    const e = expectDataError(() => loadIdxImages(images, labels), "D0106");
    expect(e.message).toContain("2 labels");
    expect(e.message).toContain("3 images");
  });
});
