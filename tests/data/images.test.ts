import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  applyOrientation,
  jpegOrientation,
  listImageFiles,
  loadImageFolder,
  readImage,
  type RgbaImage,
} from "../../src/data/images.js";
import { axisWeights, resizeDataset, resizeImage } from "../../src/data/resize.js";
import type { Dataset } from "../../src/data/dataset.js";
import { cleanup, expectDataError, grayPng, jpegBytes, pngBytes, tmpDir } from "./helpers.js";

let root: string;
beforeAll(() => {
  root = tmpDir("gm-img-");
});
afterAll(() => cleanup(root));

function folder(name: string, files: Record<string, Buffer | string>): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), content);
  return dir;
}

describe("resize", () => {
  it("a constant image stays constant for any sizes and channels", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(1, 3),
        fc.float({ min: 0, max: 1, noNaN: true }),
        (h, w, oh, ow, c, v) => {
          const out = resizeImage(new Float32Array(h * w * c).fill(v), h, w, c, oh, ow);
          expect(out.length).toBe(oh * ow * c);
          for (const o of out) expect(Math.abs(o - v)).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("area resize of a 2×2 block pattern gives the block values", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 1, max: 4 }),
        (blocks, k) => {
          // 2k × 2k image made of four k × k blocks.
          const n = 2 * k;
          const src = new Float32Array(n * n);
          for (let y = 0; y < n; y++)
            for (let x = 0; x < n; x++) src[y * n + x] = blocks[(y < k ? 0 : 2) + (x < k ? 0 : 1)];
          const out = resizeImage(src, n, n, 1, 2, 2);
          out.forEach((v, i) => expect(v).toBeCloseTo(blocks[i], 5));
          // and down to one pixel: the mean of the four blocks
          const one = resizeImage(src, n, n, 1, 1, 1);
          expect(one[0]).toBeCloseTo((blocks[0] + blocks[1] + blocks[2] + blocks[3]) / 4, 5);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("area weights for a non-integer ratio (3 → 2) split the middle pixel", () => {
    const src = Float32Array.from([0, 3, 6]);
    const out = resizeImage(src, 1, 3, 1, 1, 2);
    // output 0 covers [0, 1.5): (0·1 + 3·0.5)/1.5 = 1; output 1 covers [1.5, 3): (3·0.5 + 6·1)/1.5 = 5
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBeCloseTo(5, 6);
    // weights always sum to 1
    for (const [a, b] of [
      [7, 3],
      [3, 7],
      [5, 5],
      [100, 28],
      [1, 9],
    ]) {
      const wts = axisWeights(a, b);
      for (let i = 0; i < b; i++) {
        let s = 0;
        for (let k = wts.start[i]; k < wts.start[i + 1]; k++) s += wts.w[k];
        expect(s).toBeCloseTo(1, 10);
      }
    }
  });

  it("bilinear enlarging interpolates between pixel centres and clamps at borders", () => {
    const out = resizeImage(Float32Array.from([0, 1]), 1, 2, 1, 1, 4);
    // centres at (i + 0.5)·2/4 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamped to 0, 0.25, 0.75, 1
    expect(Array.from(out)).toEqual([0, 0.25, 0.75, 1]);
    // a ramp stays monotone when enlarged
    const ramp = Float32Array.from({ length: 5 }, (_, i) => i / 4);
    const big = resizeImage(ramp, 5, 1, 1, 17, 1);
    for (let i = 1; i < big.length; i++) expect(big[i]).toBeGreaterThanOrEqual(big[i - 1]);
  });

  it("resizeDataset resizes every example and keeps labels", () => {
    const ds: Dataset = {
      name: "d",
      x: Float32Array.from([...new Array(16).fill(0.25), ...new Array(16).fill(0.75)]),
      n: 2,
      shape: [4, 4],
      labels: Int32Array.from([1, 2]),
      kind: "intensity",
    };
    const r = resizeDataset(ds, [2, 2]);
    expect(r.shape).toEqual([2, 2]);
    expect(Array.from(r.x)).toEqual([0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75]);
    expect(Array.from(r.labels!)).toEqual([1, 2]);
    expectDataError(() => resizeDataset({ ...ds, shape: [16] }, [2, 2]), "D0401");
  });
});

describe("image folders", () => {
  it("round-trips a grayscale PNG exactly", () => {
    const dir = folder("gray", { "a.png": grayPng(5, 3, (x, y) => x * 50 + y) });
    const ds = loadImageFolder(dir, [3, 5]);
    expect(ds.n).toBe(1);
    expect(ds.shape).toEqual([3, 5]);
    expect(ds.kind).toBe("intensity");
    for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) expect(ds.x[y * 5 + x]).toBeCloseTo((x * 50 + y) / 255, 5);
  });

  it("converts colour to luma for 1 channel and keeps RGB for 3 channels", () => {
    const dir = folder("colour", {
      "c.png": pngBytes(2, 1, (x) => (x === 0 ? [255, 0, 0, 255] : [0, 0, 255, 255])),
    });
    const g = loadImageFolder(dir, [1, 2]);
    expect(g.x[0]).toBeCloseTo(0.299, 4);
    expect(g.x[1]).toBeCloseTo(0.114, 4);
    const g1 = loadImageFolder(dir, [1, 2, 1]);
    expect(Array.from(g1.x)).toEqual(Array.from(g.x));
    expect(g1.shape).toEqual([1, 2, 1]);
    const rgb = loadImageFolder(dir, [1, 2, 3]);
    expect(Array.from(rgb.x)).toEqual([1, 0, 0, 0, 0, 1]);
  });

  it("composites transparency over black", () => {
    const dir = folder("alpha", {
      "t.png": pngBytes(2, 1, (x) => (x === 0 ? [255, 255, 255, 0] : [255, 255, 255, 255])),
    });
    const ds = loadImageFolder(dir, [1, 2]);
    expect(ds.x[0]).toBe(0);
    expect(ds.x[1]).toBeCloseTo(1, 6);
  });

  it("decodes JPEG (lossy) close to the original", () => {
    const dir = folder("jpeg", {
      "j.jpg": jpegBytes(16, 16, (x, y) => (x < 8 ? [40, 40, 40] : y < 8 ? [200, 200, 200] : [120, 120, 120])),
    });
    const ds = loadImageFolder(dir, [2, 2]);
    expect(ds.x[0]).toBeCloseTo(40 / 255, 1);
    expect(ds.x[1]).toBeCloseTo(200 / 255, 1);
    expect(ds.x[3]).toBeCloseTo(120 / 255, 1);
  });

  it("uses only .png/.jpg/.jpeg files directly in the folder, sorted by name", () => {
    const dir = folder("mixed", {
      "b.png": grayPng(2, 2, () => 200),
      "a.JPG": jpegBytes(2, 2, () => [0, 0, 0]),
      "c.jpeg": jpegBytes(2, 2, () => [255, 255, 255]),
      "notes.txt": "not an image",
      "thumbs.db": "x",
    });
    fs.mkdirSync(path.join(dir, "sub"));
    fs.writeFileSync(
      path.join(dir, "sub", "0.png"),
      grayPng(2, 2, () => 50),
    );
    expect(listImageFiles(dir).map((p) => path.basename(p))).toEqual(["a.JPG", "b.png", "c.jpeg"]);
    const ds = loadImageFolder(dir, [1, 1]);
    expect(ds.n).toBe(3);
    expect(ds.x[0]).toBeLessThan(0.05);
    expect(ds.x[1]).toBeCloseTo(200 / 255, 5);
    expect(ds.x[2]).toBeGreaterThan(0.95);
  });

  it("loads photos of all sizes and aspect ratios into one shape", () => {
    const photo = (x: number, y: number): [number, number, number] => [
      (x * 7) % 256,
      (y * 5) % 256,
      ((x + y) * 3) % 256,
    ];
    const dir = folder("dogs", {
      "big.jpg": jpegBytes(640, 480, photo, 85),
      "tall.jpg": jpegBytes(60, 300, photo, 85),
      "tiny.png": pngBytes(7, 5, (x, y) => [...photo(x, y), 255]),
      "square.png": pngBytes(32, 32, (x, y) => [...photo(x, y), 255]),
    });
    const ds = loadImageFolder(dir, [32, 32, 3]);
    expect(ds.n).toBe(4);
    expect(ds.shape).toEqual([32, 32, 3]);
    expect(ds.x.length).toBe(4 * 32 * 32 * 3);
    expect(ds.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    // square.png (index 1 in sorted order big, square, tall, tiny) is loaded without resampling
    const off = 1 * 32 * 32 * 3;
    expect(ds.x[off + (5 * 32 + 9) * 3]).toBeCloseTo(((9 * 7) % 256) / 255, 5);
  });

  it("errors: missing folder, not a folder, no images", () => {
    expectDataError(() => loadImageFolder(path.join(root, "missing"), [4, 4]), "D0201");
    const file = path.join(root, "file.png");
    fs.writeFileSync(
      file,
      grayPng(1, 1, () => 0),
    );
    expectDataError(() => loadImageFolder(file, [4, 4]), "D0201");
    const empty = folder("empty", { "readme.md": "# nothing" });
    const e = expectDataError(() => loadImageFolder(empty, [4, 4]), "D0202");
    expect(e.message).toContain(empty);
  });

  it("errors: corrupt PNG / JPEG / non-image name the file", () => {
    const good = grayPng(4, 4, () => 9);
    const cases: Record<string, Buffer> = {
      "bad.png": Buffer.concat([good.subarray(0, 40), Buffer.from("garbage garbage garbage")]),
      "bad.jpg": Buffer.concat([jpegBytes(8, 8, () => [1, 2, 3]).subarray(0, 20), Buffer.alloc(10)]),
      "text.png": Buffer.from("hello, I am not a PNG"),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const dir = folder(`corrupt-${name.replace(".", "-")}`, { "0-ok.png": good, [name]: bytes });
      const e = expectDataError(() => loadImageFolder(dir, [4, 4]), "D0203");
      expect(e.message).toContain(path.join(dir, name));
      expect(e.path).toBe(path.join(dir, name));
    }
    expectDataError(() => readImage(path.join(root, "none.png")), "D0101");
  });

  it("errors: unsupported target shape", () => {
    const dir = folder("one", { "a.png": grayPng(2, 2, () => 0) });
    expectDataError(() => loadImageFolder(dir, [4]), "D0204");
    expectDataError(() => loadImageFolder(dir, [4, 4, 2]), "D0204");
  });
});

/** Inserts an EXIF APP1 segment with the given orientation right after the JPEG SOI marker. */
function withOrientation(jpg: Buffer, orientation: number, littleEndian = false): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  if (littleEndian) {
    tiff.write("II", 0, "latin1");
    tiff.writeUInt16LE(42, 2);
    tiff.writeUInt32LE(8, 4);
    tiff.writeUInt16LE(1, 8);
    tiff.writeUInt16LE(0x0112, 10);
    tiff.writeUInt16LE(3, 12);
    tiff.writeUInt32LE(1, 14);
    tiff.writeUInt16LE(orientation, 18);
  } else {
    tiff.write("MM", 0, "latin1");
    tiff.writeUInt16BE(42, 2);
    tiff.writeUInt32BE(8, 4);
    tiff.writeUInt16BE(1, 8);
    tiff.writeUInt16BE(0x0112, 10);
    tiff.writeUInt16BE(3, 12);
    tiff.writeUInt32BE(1, 14);
    tiff.writeUInt16BE(orientation, 18);
  }
  const payload = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpg.subarray(0, 2), header, payload, jpg.subarray(2)]);
}

describe("EXIF orientation", () => {
  // 16 wide × 8 tall: left half black, right half white.
  const base = jpegBytes(16, 8, (x) => (x < 8 ? [0, 0, 0] : [255, 255, 255]));

  it("reads the orientation tag (both byte orders) and defaults to 1", () => {
    expect(jpegOrientation(base)).toBe(1);
    for (let o = 1; o <= 8; o++) {
      expect(jpegOrientation(withOrientation(base, o))).toBe(o);
      expect(jpegOrientation(withOrientation(base, o, true))).toBe(o);
    }
    expect(jpegOrientation(grayPng(2, 2, () => 0))).toBe(1);
  });

  it("turns sideways photos upright (6: rotate clockwise, 8: counter-clockwise)", () => {
    const dir = path.join(root, "exif");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "a-cw.jpg"), withOrientation(base, 6));
    fs.writeFileSync(path.join(dir, "b-ccw.jpg"), withOrientation(base, 8, true));
    const cw = readImage(path.join(dir, "a-cw.jpg"));
    expect([cw.width, cw.height]).toEqual([8, 16]);
    const ds = loadImageFolder(dir, [2, 1]);
    // clockwise: the left (black) half ends on top; counter-clockwise: at the bottom
    expect(ds.x[0]).toBeLessThan(0.1);
    expect(ds.x[1]).toBeGreaterThan(0.9);
    expect(ds.x[2]).toBeGreaterThan(0.9);
    expect(ds.x[3]).toBeLessThan(0.1);
  });

  it("orientation transforms compose like the symmetries of a rectangle", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (w, h) => {
        const img: RgbaImage = {
          width: w,
          height: h,
          data: Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 37) % 256),
        };
        const same = (a: RgbaImage, b: RgbaImage) =>
          a.width === b.width && a.height === b.height && Buffer.from(a.data).equals(Buffer.from(b.data));
        for (const o of [2, 3, 4, 5, 7]) expect(same(applyOrientation(applyOrientation(img, o), o), img)).toBe(true);
        expect(same(applyOrientation(applyOrientation(img, 6), 8), img)).toBe(true);
        expect(same(applyOrientation(applyOrientation(img, 6), 6), applyOrientation(img, 3))).toBe(true);
        expect(applyOrientation(img, 1)).toBe(img);
      }),
      { numRuns: 30 },
    );
  });
});
